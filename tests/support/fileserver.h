#pragma once

#include <QByteArray>
#include <QHash>
#include <QMap>
#include <QObject>
#include <QPointer>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>
#include <QUrl>

#include <functional>
#include <memory>

namespace testsupport {

// A small HTTP/1.1 file server on 127.0.0.1:0 for download tests, with the failures a real
// one shows: 404s, redirects, dropped connections, stalls, auth, and Range requests. Counts
// every request per path.
class FileServer : public QObject {
    Q_OBJECT
public:
    struct File {
        QByteArray content;
        qint64 size = -1;       // > content.size(): served as a generated pattern of this size
        bool ranges = true;     // honours Range and says Accept-Ranges: bytes
        qint64 dropAfter = -1;  // first response closes the connection after this many bytes
        qint64 stallAfter = -1; // first response stops sending (keeps the socket) after this many
        int chunkDelayMs = 0;   // pause between 64 KiB chunks (a slow server)
        int status = 200;
        QString redirectTo;        // answer 302 to this path
        QByteArray requiredHeader; // "Name: value" that must be present, else 403
        bool sendLength = true;
    };

    static File withContent(const QByteArray &content)
    {
        File file;
        file.content = content;
        return file;
    }

    FileServer();
    ~FileServer() override;
    QUrl url(const QString &path) const;
    void addFile(const QString &path, const File &file);
    int requests(const QString &path) const { return m_requests.value(path); }
    QList<QByteArray> rangeHeaders(const QString &path) const { return m_ranges.value(path); }
    static QByteArray pattern(qint64 offset, qint64 length); // the generated content

private:
    struct Stream;
    void onConnection();
    void onReadyRead(QTcpSocket *socket);
    void respond(QTcpSocket *socket, const QByteArray &request);
    void pump(const std::shared_ptr<Stream> &stream);

    QTcpServer m_server;
    QMap<QString, File> m_files;
    QHash<QString, int> m_requests;
    QHash<QString, QList<QByteArray>> m_ranges;
    QHash<QTcpSocket *, QByteArray> m_buffers;
    QHash<QString, int> m_served; // responses sent per path (drop/stall apply to the first)
};

} // namespace testsupport
