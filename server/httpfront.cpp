#include "httpfront.h"

#include "httpframing.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpSocket>
#include <QTimer>

#include <algorithm>

#ifdef Q_OS_UNIX
#include <sys/socket.h>
#include <unistd.h>
#endif

namespace comfy::server {

namespace {

// 503 answers being written at once; beyond this a refused connection is just reset, so a
// flood of connections cannot pile up answers nobody reads.
constexpr int MaxRefusing = 64;

QByteArray reasonPhrase(int status)
{
    switch (status) {
    case 400:
        return "Bad Request";
    case 408:
        return "Request Timeout";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 417:
        return "Expectation Failed";
    case 431:
        return "Request Header Fields Too Large";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Error";
    }
}

QString peerOf(const QTcpSocket *socket)
{
    return socket->peerAddress().toString() + QLatin1Char(':') +
           QString::number(socket->peerPort());
}

// Ends a connection after its last answer without losing that answer. Closing at once while
// the client is still sending (the rest of a refused upload) makes the kernel reset the
// connection, and the reset can destroy the answer before the client has read it. So: nobody
// reads the socket any more (QHttpServer must never see the refused request), what arrives is
// dropped unread, the write side is shut once the answer is out (the client sees its end),
// and the socket goes when the client closes or after the linger time.
class GracefulClose : public QObject {
    Q_DISABLE_COPY_MOVE(GracefulClose)
public:
    GracefulClose(QTcpSocket *socket, int lingerMs)
        : QObject(socket)
        , m_socket(socket)
    {
        QObject::disconnect(socket, &QIODevice::readyRead, nullptr, nullptr);
        if (socket->isTransactionStarted())
            socket->commitTransaction(); // frees what QHttpServer kept of the request
        if (socket->state() != QAbstractSocket::ConnectedState) {
            socket->deleteLater(); // the client is gone already
            return;
        }
        dropInput();
        connect(socket, &QIODevice::readyRead, this, &GracefulClose::dropInput);
        connect(socket, &QIODevice::bytesWritten, this, &GracefulClose::shutWriteWhenSent);
        connect(socket, &QAbstractSocket::disconnected, socket, &QObject::deleteLater);
        QTimer::singleShot(lingerMs, this, [socket] { socket->abort(); });
        socket->flush();
        shutWriteWhenSent();
    }

private:
    void dropInput() { m_socket->skip(m_socket->bytesAvailable()); }
    void shutWriteWhenSent()
    {
        if (m_shut || m_socket->bytesToWrite() > 0 ||
            m_socket->state() != QAbstractSocket::ConnectedState)
            return;
        m_shut = true;
#ifdef Q_OS_UNIX
        ::shutdown(int(m_socket->socketDescriptor()), SHUT_WR);
#else
        m_socket->disconnectFromHost();
#endif
    }

    QTcpSocket *m_socket;
    bool m_shut = false;
};

// One connection handed to QHttpServer (a child of its socket, gone with it).
class HttpConnection : public QObject {
    Q_DISABLE_COPY_MOVE(HttpConnection)
public:
    HttpConnection(QTcpSocket *socket, const HttpLimits &limits)
        : QObject(socket)
        , m_socket(socket)
        , m_limits(limits)
        , m_framer({limits.maxBodyBytes, limits.maxHeaderBytes})
    {
        m_idle.setSingleShot(true);
        m_idle.setInterval(limits.idleTimeoutMs);
        connect(&m_idle, &QTimer::timeout, this, &HttpConnection::idleTimeout);
        // A client slowly reading a long answer is not idle.
        connect(socket, &QIODevice::bytesWritten, this, [this] {
            if (!m_closing)
                m_idle.start();
        });
        m_idle.start();
    }

    // Runs before QHttpServer reads the new bytes.
    void beforeHttpServer()
    {
        if (m_closing)
            return;
        m_idle.start();
        // Unread bytes are the ones QHttpServer has not read yet (peek() starts where its read
        // transaction is); the first m_seen of them were followed last time.
        const qint64 available = m_socket->bytesAvailable();
        if (available > m_seen) {
            const QByteArray bytes = m_socket->peek(available);
            m_framer.feed(QByteArrayView(bytes).sliced(m_seen), m_events);
        }
        m_seen = available;
        runEvents();
    }

    // Runs after QHttpServer has read (and perhaps answered).
    void afterHttpServer()
    {
        if (m_closing || m_socket->state() != QAbstractSocket::ConnectedState)
            return;
        // QHttpServer keeps a read transaction open until it has a whole request, commits it,
        // and answers before returning: no transaction now means one more request answered.
        if (!m_socket->isTransactionStarted() && ++m_answered > m_framer.completedRequests()) {
            // It saw a request end where the framer did not: neither can be trusted with the
            // limits of this connection any more.
            qCWarning(lcHttp).noquote()
                << "request framing disagrees with QHttpServer; dropping" << peerOf(m_socket);
            m_closing = true;
            m_socket->abort();
            return;
        }
        m_seen = m_socket->bytesAvailable(); // left for its next call, followed already
        runEvents();
    }

private:
    void runEvents()
    {
        while (!m_events.isEmpty() && !m_closing &&
               m_socket->state() == QAbstractSocket::ConnectedState) {
            // An answer from here waits until QHttpServer has answered the requests before it;
            // a close, until it has answered that request too.
            const FramingEvent &first = m_events.constFirst();
            if (first.request + (first.kind == FramingEvent::Kind::Close ? 1 : 0) > m_answered)
                return;
            const FramingEvent event = m_events.takeFirst();
            if (event.kind == FramingEvent::Kind::Close)
                closeAfterAnswer();
            else if (event.kind == FramingEvent::Kind::Refuse)
                refuse(event.status, event.message);
            else if (event.request == m_answered) // not answered meanwhile
                m_socket->write(QByteArrayLiteral("HTTP/1.1 100 Continue\r\n\r\n"));
        }
    }

    void refuse(int status, const QString &message)
    {
        m_closing = true;
        m_idle.stop();
        qCInfo(lcHttp).noquote() << status << message << "-" << peerOf(m_socket);
        m_socket->write(HttpFront::closingResponse(status, message));
        new GracefulClose(m_socket, m_limits.lingerMs);
    }

    void closeAfterAnswer()
    {
        m_closing = true;
        m_idle.stop();
        m_socket->disconnectFromHost(); // once the answer is out
    }

    void idleTimeout()
    {
        if (m_closing)
            return;
        if (m_framer.inRequest()) {
            refuse(408, QStringLiteral("the request stalled: nothing arrived for %1 ms")
                            .arg(m_limits.idleTimeoutMs));
            return;
        }
        m_closing = true;
        qCDebug(lcHttp).noquote() << "closing idle connection" << peerOf(m_socket);
        if (m_socket->bytesToWrite() > 0)
            m_socket->abort(); // it does not even read its answers
        else
            m_socket->disconnectFromHost();
    }

    QTcpSocket *m_socket;
    HttpLimits m_limits;
    RequestFramer m_framer;
    QTimer m_idle;
    QList<FramingEvent> m_events; // waiting for QHttpServer to answer earlier requests
    qint64 m_seen = 0;            // unread bytes already fed to the framer
    qint64 m_answered = 0;        // requests QHttpServer has answered
    bool m_closing = false;
};

} // namespace

HttpFront::HttpFront(const HttpLimits &limits, QObject *parent)
    : QTcpServer(parent)
    , m_limits(limits)
{
}

QByteArray HttpFront::closingResponse(int status, const QString &message,
                                      const QList<QPair<QByteArray, QByteArray>> &headers)
{
    const QByteArray body = QJsonDocument(QJsonObject{{QStringLiteral("message"), message}})
                                .toJson(QJsonDocument::Compact);
    QByteArray response =
        "HTTP/1.1 " + QByteArray::number(status) + ' ' + reasonPhrase(status) +
        "\r\nContent-Type: application/json\r\nContent-Length: " + QByteArray::number(body.size()) +
        "\r\nConnection: close\r\n";
    for (const auto &[name, value] : headers)
        response += name + ": " + value + "\r\n";
    return response + "\r\n" + body;
}

void HttpFront::incomingConnection(qintptr descriptor)
{
    auto *socket = new QTcpSocket(this);
    if (!socket->setSocketDescriptor(descriptor)) {
        qCWarning(lcHttp).noquote() << "cannot take a connection:" << socket->errorString();
        socket->deleteLater();
#ifdef Q_OS_UNIX
        ::close(int(descriptor));
#endif
        return;
    }
    if (m_open >= m_limits.maxConnections) {
        refuseConnection(socket);
        return;
    }
    ++m_open;
    m_full = false;
    connect(socket, &QObject::destroyed, this, [this] { --m_open; });
    auto *connection = new HttpConnection(socket, m_limits);
    // Qt calls a signal's slots in the order they were connected, and QHttpServer 6.4 connects
    // its readyRead handler inside addPendingConnection() (pendingConnectionAvailable is
    // emitted there): so the framer sees new bytes before QHttpServer reads them, and counts
    // its answers after.
    connect(socket, &QIODevice::readyRead, connection, &HttpConnection::beforeHttpServer);
    addPendingConnection(socket);
    connect(socket, &QIODevice::readyRead, connection, &HttpConnection::afterHttpServer);
}

void HttpFront::refuseConnection(QTcpSocket *socket)
{
    if (!m_full)
        qCWarning(lcHttp).noquote() << m_open
                                    << "connections open (COMFY_ROUTER__HTTP__MAX_CONNECTIONS): "
                                       "new ones get 503";
    m_full = true;
    if (m_refusing >= MaxRefusing) {
        socket->abort();
        socket->deleteLater();
        return;
    }
    ++m_refusing;
    connect(socket, &QObject::destroyed, this, [this] { --m_refusing; });
    socket->write(closingResponse(
        503,
        QStringLiteral("too many open connections (%1); retry later").arg(m_limits.maxConnections),
        {{QByteArrayLiteral("Retry-After"), QByteArrayLiteral("1")}}));
    new GracefulClose(socket, std::min(m_limits.lingerMs, 1000));
}

} // namespace comfy::server
