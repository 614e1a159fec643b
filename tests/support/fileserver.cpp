#include "fileserver.h"

#include <QRegularExpression>

namespace testsupport {

struct FileServer::Stream {
    QPointer<QTcpSocket> socket;
    FileServer::File file;
    qint64 position = 0;
    qint64 end = 0;
    qint64 sent = 0;
    bool dropping = false;
    bool stalling = false;
};

FileServer::FileServer()
{
    connect(&m_server, &QTcpServer::newConnection, this, &FileServer::onConnection);
    m_server.listen(QHostAddress::LocalHost, 0);
}

FileServer::~FileServer()
{
    // The sockets die with m_server, after the members their handlers touch.
    const auto sockets = m_server.findChildren<QTcpSocket *>();
    for (QTcpSocket *socket : sockets)
        socket->disconnect(this);
}

QUrl FileServer::url(const QString &path) const
{
    return QUrl(QStringLiteral("http://127.0.0.1:%1%2").arg(m_server.serverPort()).arg(path));
}

void FileServer::addFile(const QString &path, const File &file)
{
    m_files.insert(path, file);
}

QByteArray FileServer::pattern(qint64 offset, qint64 length)
{
    QByteArray bytes(length, Qt::Uninitialized);
    for (qint64 i = 0; i < length; ++i)
        bytes[i] = char(((offset + i) * 31 + (offset + i) / 251) & 0xff);
    return bytes;
}

void FileServer::onConnection()
{
    while (QTcpSocket *socket = m_server.nextPendingConnection()) {
        connect(socket, &QTcpSocket::readyRead, this, [this, socket] { onReadyRead(socket); });
        connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
        connect(socket, &QObject::destroyed, this, [this, socket] { m_buffers.remove(socket); });
    }
}

void FileServer::onReadyRead(QTcpSocket *socket)
{
    QByteArray &buffer = m_buffers[socket];
    buffer += socket->readAll();
    const qsizetype end = buffer.indexOf("\r\n\r\n");
    if (end < 0)
        return;
    const QByteArray request = buffer.left(end);
    buffer.remove(0, end + 4);
    respond(socket, request);
}

void FileServer::respond(QTcpSocket *socket, const QByteArray &request)
{
    const QList<QByteArray> lines = request.split('\n');
    const QList<QByteArray> first = lines.value(0).trimmed().split(' ');
    const QString path = QUrl(QString::fromLatin1(first.value(1))).path();
    m_requests[path] += 1;
    QByteArray range;
    QList<QByteArray> headers;
    for (const QByteArray &line : lines.mid(1)) {
        headers.append(line.trimmed());
        if (line.toLower().startsWith("range:"))
            range = line.mid(6).trimmed();
    }
    m_ranges[path].append(range);

    auto reply = [socket](const QByteArray &status, const QByteArray &extra,
                          const QByteArray &body) {
        socket->write("HTTP/1.1 " + status + "\r\nContent-Length: " +
                      QByteArray::number(body.size()) + "\r\n" + extra + "\r\n" + body);
    };
    if (!m_files.contains(path)) {
        reply("404 Not Found", {}, "not found");
        return;
    }
    const File file = m_files.value(path);
    if (!file.redirectTo.isEmpty()) {
        reply("302 Found", "Location: " + file.redirectTo.toLatin1() + "\r\n", {});
        return;
    }
    if (!file.requiredHeader.isEmpty() && !headers.contains(file.requiredHeader)) {
        reply("403 Forbidden", {}, "forbidden");
        return;
    }
    if (file.status != 200) {
        reply(QByteArray::number(file.status) + " Error", {}, "error");
        return;
    }
    const qint64 size = file.size > file.content.size() ? file.size : file.content.size();
    auto stream = std::make_shared<Stream>();
    stream->socket = socket;
    stream->file = file;
    stream->end = size;
    QByteArray head;
    const QRegularExpressionMatch match =
        QRegularExpression(QStringLiteral("bytes=(\\d+)-")).match(QString::fromLatin1(range));
    if (file.ranges && match.hasMatch()) {
        stream->position = match.captured(1).toLongLong();
        head = "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes " +
               QByteArray::number(stream->position) + '-' + QByteArray::number(size - 1) + '/' +
               QByteArray::number(size) + "\r\n";
    } else {
        head = "HTTP/1.1 200 OK\r\n";
    }
    if (file.ranges)
        head += "Accept-Ranges: bytes\r\n";
    if (file.sendLength)
        head += "Content-Length: " + QByteArray::number(size - stream->position) + "\r\n";
    else
        head += "Connection: close\r\n";
    head += "Content-Type: application/octet-stream\r\n\r\n";
    socket->write(head);
    const bool firstResponse = m_served[path]++ == 0;
    stream->dropping = firstResponse && file.dropAfter >= 0;
    stream->stalling = firstResponse && file.stallAfter >= 0;
    pump(stream);
}

void FileServer::pump(const std::shared_ptr<Stream> &stream)
{
    QTcpSocket *socket = stream->socket;
    if (!socket || socket->state() != QAbstractSocket::ConnectedState)
        return;
    constexpr qint64 Chunk = 64 * 1024;
    while (stream->position < stream->end) {
        qint64 length = std::min(Chunk, stream->end - stream->position);
        if (stream->dropping)
            length = std::min(length, stream->file.dropAfter - stream->sent);
        if (stream->stalling)
            length = std::min(length, stream->file.stallAfter - stream->sent);
        if (length <= 0)
            break;
        const QByteArray bytes = stream->file.content.size() >= stream->end
                                     ? stream->file.content.mid(stream->position, length)
                                     : pattern(stream->position, length);
        socket->write(bytes);
        stream->position += length;
        stream->sent += length;
        if (socket->bytesToWrite() > 4 * Chunk || stream->file.chunkDelayMs > 0) {
            // Go on once the socket has drained (or after the delay): bounded memory.
            QTimer::singleShot(stream->file.chunkDelayMs, this, [this, stream] { pump(stream); });
            return;
        }
    }
    if (stream->dropping && stream->sent >= stream->file.dropAfter) {
        socket->flush();
        socket->abort();
        return;
    }
    if (stream->stalling && stream->sent >= stream->file.stallAfter)
        return; // keep the connection open and send nothing more
    if (!stream->file.sendLength && stream->position >= stream->end)
        socket->disconnectFromHost();
}

} // namespace testsupport
