#include "comfy/nodehttp.h"

#include <QSslSocket>
#include <QTcpSocket>

#include <algorithm>

namespace comfy {

namespace {
// A header line or chunk-size line is never longer; a longer one is not HTTP from a node.
constexpr qsizetype MaxLineBytes = 8 * 1024;
} // namespace

struct NodeHttp::Connection {
    enum class Stage { Head, Fixed, ChunkSize, ChunkData, ChunkEnd, Trailers, UntilClose };
    std::unique_ptr<QTcpSocket> socket;
    std::unique_ptr<QTimer> timer = std::make_unique<QTimer>(); // deleted later, like the socket
    NodeReply *reply = nullptr;                                 // the request in flight, if any
    bool open = false;     // connected (and encrypted for https)
    bool reused = false;   // it has answered a request before
    bool gotBytes = false; // bytes of the current answer arrived
    bool keepAlive = true;
    Stage stage = Stage::Head;
    QByteArray buffer; // received, not parsed yet
    qint64 remaining = 0;
};

NodeReply::NodeReply(NodeHttp &http, QByteArray request, QObject *parent)
    : QObject(parent)
    , m_http(http)
    , m_request(std::move(request))
{
}

NodeReply::~NodeReply()
{
    if (!m_finished)
        m_http.forget(this);
}

QByteArray NodeReply::header(const QByteArray &lowerCaseName) const
{
    for (const auto &[name, value] : m_headers)
        if (name == lowerCaseName)
            return value;
    return {};
}

void NodeReply::abort()
{
    if (!m_finished) {
        m_finished = true;
        m_http.forget(this);
    }
    deleteLater();
}

NodeHttp::NodeHttp(const QUrl &node, QObject *parent)
    : QObject(parent)
    , m_node(node)
    , m_hostHeader(node.authority(QUrl::FullyEncoded).toLatin1())
{
}

NodeHttp::~NodeHttp()
{
    // The replies (children) go after this: they must not call back.
    for (NodeReply *reply : std::as_const(m_waiting))
        reply->m_finished = true;
    for (const auto &connection : m_connections) {
        if (connection->reply)
            connection->reply->m_finished = true;
        connection->socket->disconnect(this);
    }
}

NodeReply *NodeHttp::get(const QUrl &relative)
{
    return send(QByteArrayLiteral("GET"), relative, {});
}

NodeReply *NodeHttp::post(const QUrl &relative, const QByteArray &json)
{
    return send(QByteArrayLiteral("POST"), relative, json);
}

NodeReply *NodeHttp::send(const QByteArray &method, const QUrl &relative, const QByteArray &body)
{
    const QUrl url = m_node.resolved(relative);
    QByteArray target = url.path(QUrl::FullyEncoded).toLatin1();
    if (target.isEmpty())
        target = "/";
    if (url.hasQuery())
        target += '?' + url.query(QUrl::FullyEncoded).toLatin1();
    QByteArray request = method + ' ' + target + " HTTP/1.1\r\nHost: " + m_hostHeader +
                         "\r\nAccept: */*\r\nConnection: keep-alive\r\n";
    if (method == "POST")
        request +=
            "Content-Type: application/json\r\nContent-Length: " + QByteArray::number(body.size()) +
            "\r\n";
    request += "\r\n" + body;
    auto *reply = new NodeReply(*this, std::move(request), this);
    m_waiting.append(reply);
    dispatch();
    return reply;
}

NodeHttp::Connection &NodeHttp::open()
{
    auto connection = std::make_unique<Connection>();
    Connection &c = *connection;
    const bool tls = m_node.scheme() == QLatin1String("https");
    c.socket = tls ? std::make_unique<QSslSocket>() : std::make_unique<QTcpSocket>();
    QTcpSocket *socket = c.socket.get();
    c.timer->setSingleShot(true);
    connect(c.timer.get(), &QTimer::timeout, this, [this, &c] {
        finish(c,
               QStringLiteral("%1 sent nothing for %2 ms").arg(m_node.toString()).arg(m_timeoutMs));
    });
    const auto onOpen = [this, &c] {
        c.open = true;
        c.socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
        if (c.reply)
            c.socket->write(c.reply->m_request);
    };
    if (tls)
        connect(static_cast<QSslSocket *>(socket), &QSslSocket::encrypted, this, onOpen);
    else
        connect(socket, &QTcpSocket::connected, this, onOpen);
    connect(socket, &QIODevice::readyRead, this, [this, &c] { onReadable(c); });
    connect(socket, &QAbstractSocket::disconnected, this, [this, &c] { onClosed(c); });
    connect(socket, &QAbstractSocket::errorOccurred, this, [this, &c] { onClosed(c); });
    connect(socket, &QIODevice::bytesWritten, this, [&c, this] {
        if (c.reply)
            c.timer->start(m_timeoutMs); // a slow upload is not a silent node
    });
    const quint16 port = quint16(m_node.port(tls ? 443 : 80));
    if (tls)
        static_cast<QSslSocket *>(socket)->connectToHostEncrypted(m_node.host(), port);
    else
        socket->connectToHost(m_node.host(), port);
    m_connections.push_back(std::move(connection));
    return c;
}

void NodeHttp::dispatch()
{
    while (!m_waiting.isEmpty()) {
        Connection *free = nullptr;
        for (const auto &connection : m_connections)
            if (!connection->reply) {
                free = connection.get();
                break;
            }
        if (!free && int(m_connections.size()) < MaxConnections)
            free = &open();
        if (!free)
            return; // the next finished request calls again
        start(*free, m_waiting.takeFirst());
    }
}

void NodeHttp::start(Connection &connection, NodeReply *reply)
{
    connection.reply = reply;
    connection.gotBytes = false;
    connection.keepAlive = true;
    connection.stage = Connection::Stage::Head;
    connection.buffer.clear();
    connection.timer->start(m_timeoutMs);
    if (connection.open)
        connection.socket->write(reply->m_request);
}

void NodeHttp::onReadable(Connection &c)
{
    c.buffer += c.socket->readAll();
    if (!c.reply) {
        drop(c); // bytes nobody asked for: the connection is out of step
        return;
    }
    c.gotBytes = true;
    c.timer->start(m_timeoutMs);
    NodeReply &reply = *c.reply;
    using Stage = Connection::Stage;
    for (;;) {
        switch (c.stage) {
        case Stage::Head: {
            const qsizetype end = c.buffer.indexOf("\r\n\r\n");
            if (end < 0) {
                if (c.buffer.size() > MaxHeadBytes)
                    return finish(c, QStringLiteral("%1 sent a header over %2 bytes")
                                         .arg(m_node.toString())
                                         .arg(MaxHeadBytes));
                return;
            }
            const QList<QByteArray> lines = c.buffer.left(end).split('\n');
            c.buffer.remove(0, end + 4);
            const QList<QByteArray> statusLine = lines.first().trimmed().split(' ');
            bool ok = statusLine.size() >= 2 && statusLine.first().startsWith("HTTP/1.");
            const int status = ok ? statusLine.at(1).toInt(&ok) : 0;
            if (!ok || status < 100 || status > 599)
                return finish(
                    c, QStringLiteral("%1 did not answer in HTTP/1.1: %2")
                           .arg(m_node.toString(), QString::fromLatin1(lines.first().left(100))));
            reply.m_headers.clear();
            for (qsizetype i = 1; i < lines.size(); ++i) {
                const qsizetype colon = lines[i].indexOf(':');
                if (colon > 0)
                    reply.m_headers.append({lines[i].left(colon).trimmed().toLower(),
                                            lines[i].mid(colon + 1).trimmed()});
            }
            if (status < 200)
                continue; // 100 Continue and the like: the real answer follows
            reply.m_status = status;
            const QByteArray connection = reply.header("connection").toLower();
            c.keepAlive = statusLine.first() == "HTTP/1.1" ? connection != "close"
                                                           : connection == "keep-alive";
            const QByteArray length = reply.header("content-length");
            if (reply.header("transfer-encoding").toLower().contains("chunked")) {
                c.stage = Stage::ChunkSize;
            } else if (!length.isEmpty()) {
                c.remaining = length.toLongLong(&ok);
                if (!ok || c.remaining < 0 || c.remaining > MaxBodyBytes)
                    return finish(c, QStringLiteral("%1 announced a body of %2 bytes")
                                         .arg(m_node.toString(), QString::fromLatin1(length)));
                c.stage = Stage::Fixed;
            } else if (status == 204 || status == 304) {
                c.remaining = 0;
                c.stage = Stage::Fixed;
            } else {
                c.keepAlive = false;
                c.stage = Stage::UntilClose;
            }
            reply.m_body.clear();
            if (c.stage == Stage::Fixed)
                reply.m_body.reserve(qsizetype(c.remaining)); // images stay in memory: no slack
            break;
        }
        case Stage::Fixed:
            if (!takeBody(c))
                return;
            return finish(c, {});
        case Stage::ChunkSize:
        case Stage::ChunkEnd:
        case Stage::Trailers: {
            const qsizetype end = c.buffer.indexOf("\r\n");
            if (end < 0) {
                if (c.buffer.size() > MaxLineBytes)
                    return finish(
                        c,
                        QStringLiteral("%1 sent a malformed chunked body").arg(m_node.toString()));
                return;
            }
            const QByteArray line = c.buffer.left(end);
            c.buffer.remove(0, end + 2);
            if (c.stage == Stage::ChunkEnd) {
                c.stage = Stage::ChunkSize;
                break;
            }
            if (c.stage == Stage::Trailers) {
                if (line.isEmpty())
                    return finish(c, {});
                break;
            }
            bool ok = false;
            const qint64 size = line.split(';').first().trimmed().toLongLong(&ok, 16);
            if (!ok || size < 0 || reply.m_body.size() + size > MaxBodyBytes)
                return finish(
                    c, QStringLiteral("%1 sent a malformed chunked body").arg(m_node.toString()));
            c.remaining = size;
            c.stage = size == 0 ? Stage::Trailers : Stage::ChunkData;
            break;
        }
        case Stage::ChunkData:
            if (!takeBody(c))
                return;
            c.stage = Stage::ChunkEnd;
            break;
        case Stage::UntilClose:
            if (reply.m_body.size() + c.buffer.size() > MaxBodyBytes)
                return finish(c, QStringLiteral("%1 sent a body over %2 bytes")
                                     .arg(m_node.toString())
                                     .arg(MaxBodyBytes));
            reply.m_body += c.buffer;
            c.buffer.clear();
            return;
        }
    }
}

bool NodeHttp::takeBody(Connection &c)
{
    const qsizetype take = qsizetype(std::min<qint64>(c.remaining, c.buffer.size()));
    c.reply->m_body += c.buffer.left(take);
    c.buffer.remove(0, take);
    c.remaining -= take;
    return c.remaining == 0;
}

void NodeHttp::onClosed(Connection &c)
{
    NodeReply *reply = c.reply;
    if (!reply) {
        drop(c); // an idle connection the node closed
        return;
    }
    if (c.stage == Connection::Stage::UntilClose) {
        c.keepAlive = false;
        finish(c, {});
        return;
    }
    if (c.reused && !c.gotBytes && !reply->m_retried) {
        // A kept connection the node had closed meanwhile: the request never reached it.
        reply->m_retried = true;
        c.reply = nullptr;
        drop(c);
        m_waiting.prepend(reply);
        dispatch();
        return;
    }
    const QString error = c.socket->errorString();
    finish(c, (c.open ? QStringLiteral("%1 closed the connection: %2")
                      : QStringLiteral("cannot connect to %1: %2"))
                  .arg(m_node.toString(), error));
}

void NodeHttp::finish(Connection &c, const QString &error)
{
    NodeReply *reply = c.reply;
    c.reply = nullptr;
    c.timer->stop();
    if (!reply)
        return;
    if (!error.isEmpty()) {
        reply->m_status = 0;
        reply->m_error = error;
    }
    reply->m_body.squeeze(); // a chunked body grew by appends; its bytes may be kept for long
    reply->m_finished = true;
    if (!error.isEmpty() || !c.keepAlive || !c.buffer.isEmpty())
        drop(c);
    else
        c.reused = true;
    Q_EMIT reply->finished();
    reply->deleteLater();
    dispatch();
}

void NodeHttp::drop(Connection &c)
{
    const auto it = std::find_if(m_connections.begin(), m_connections.end(),
                                 [&c](const auto &connection) { return connection.get() == &c; });
    if (it == m_connections.end())
        return;
    std::unique_ptr<Connection> connection = std::move(*it);
    m_connections.erase(it);
    if (connection->reply) { // gone with it
        NodeReply *reply = connection->reply;
        connection->reply = nullptr;
        reply->m_finished = true;
        reply->m_status = 0;
        reply->m_error = QStringLiteral("connection to %1 dropped").arg(m_node.toString());
        Q_EMIT reply->finished();
        reply->deleteLater();
    }
    // Socket and timer may be the senders of the signal being handled: deleted later.
    connection->timer->stop();
    connection->timer->disconnect(this);
    connection->timer.release()->deleteLater();
    QTcpSocket *socket = connection->socket.release();
    socket->disconnect(this);
    socket->abort();
    socket->deleteLater();
}

void NodeHttp::forget(NodeReply *reply)
{
    m_waiting.removeOne(reply);
    for (const auto &connection : m_connections)
        if (connection->reply == reply) {
            connection->reply = nullptr;
            drop(*connection); // its answer would come later on it
            return;
        }
}

} // namespace comfy
