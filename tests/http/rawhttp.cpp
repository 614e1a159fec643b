#include "rawhttp.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

namespace httptest {

QString RawResponse::message() const
{
    return QJsonDocument::fromJson(body).object().value(QLatin1String("message")).toString();
}

RawClient::RawClient(quint16 port, const QHostAddress &local)
{
    QObject::connect(&m_socket, &QIODevice::readyRead, &m_socket,
                     [this] { m_buffer += m_socket.readAll(); });
    const auto closed = [this] {
        if (m_socket.state() != QAbstractSocket::UnconnectedState)
            return;
        if (m_socket.isReadable()) // not after abort()
            m_buffer += m_socket.readAll();
        m_closed = true;
    };
    QObject::connect(&m_socket, &QAbstractSocket::disconnected, &m_socket, closed);
    QObject::connect(&m_socket, &QAbstractSocket::errorOccurred, &m_socket, closed);
    if (!local.isNull() && !m_socket.bind(local, 0))
        qWarning() << "cannot bind to" << local << m_socket.errorString();
    m_socket.connectToHost(QHostAddress::LocalHost, port);
    if (!QTest::qWaitFor([this] { return isConnected() || m_closed; }, 5000))
        qWarning() << "no connection to port" << port;
}

RawClient::~RawClient()
{
    m_socket.disconnect(); // no slot may run while the socket goes
    m_socket.abort();
}

void RawClient::send(const QByteArray &bytes)
{
    m_socket.write(bytes);
    m_socket.flush();
}

std::optional<RawResponse> RawClient::next(int timeoutMs)
{
    std::optional<RawResponse> response;
    if (QTest::qWaitFor([&] { return (response = parse()) || m_closed; }, timeoutMs) && !response)
        response = parse(); // closed: whatever arrived with the close
    return response;
}

bool RawClient::waitClosed(int timeoutMs)
{
    return QTest::qWaitFor([this] { return m_closed; }, timeoutMs);
}

std::optional<RawResponse> RawClient::parse()
{
    const qsizetype end = m_buffer.indexOf("\r\n\r\n");
    if (end < 0)
        return std::nullopt;
    const QList<QByteArray> lines = m_buffer.left(end).split('\n');
    const QList<QByteArray> statusLine = lines.constFirst().trimmed().split(' ');
    if (statusLine.size() < 2 || !statusLine.constFirst().startsWith("HTTP/1."))
        return std::nullopt;
    RawResponse response;
    response.status = statusLine.at(1).toInt();
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const qsizetype colon = lines[i].indexOf(':');
        if (colon > 0)
            response.headers.insert(lines[i].left(colon).trimmed().toLower(),
                                    lines[i].mid(colon + 1).trimmed());
    }
    qsizetype length = 0;
    if (response.status >= 200) {
        if (response.headers.contains("content-length"))
            length = response.headers.value("content-length").toLongLong();
        else if (m_closed)
            length = m_buffer.size() - end - 4; // the body runs to the close
        else
            return std::nullopt;
    }
    if (m_buffer.size() < end + 4 + length)
        return std::nullopt;
    response.body = m_buffer.mid(end + 4, length);
    m_buffer.remove(0, end + 4 + length);
    return response;
}

QByteArray basicAuthLine(const QByteArray &user, const QByteArray &password)
{
    return "Authorization: Basic " + (user + ':' + password).toBase64() + "\r\n";
}

qint64 residentBytes()
{
    QFile status(QStringLiteral("/proc/self/status"));
    if (!status.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : status.readAll().split('\n')) {
        if (line.startsWith("VmRSS:"))
            return line.mid(6).trimmed().split(' ').constFirst().toLongLong() * 1024;
    }
    return -1;
}

} // namespace httptest
