#pragma once

#include "util/error.h"
#include "workflows/graphbuilder.h"

#include <QHash>
#include <QLoggingCategory>
#include <QObject>
#include <QPointer>
#include <QSet>

#include <memory>

class QFile;
class QNetworkAccessManager;
class QNetworkReply;

Q_DECLARE_LOGGING_CATEGORY(lcDownloads)

namespace comfy {

// Puts the files a task needs into the ComfyUI folder shared with the nodes (ROOT_DIR) before
// the task may run: inline images are written at once, URLs are downloaded (streamed to a
// temporary file, renamed into place when complete). A file already in place costs nothing;
// tasks that need the same file share one transfer.
class FileFetcher : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(FileFetcher)
public:
    FileFetcher(QNetworkAccessManager &network, const QString &rootDir, QObject *parent = nullptr);
    ~FileFetcher() override;

    Result<bool> write(const QList<FileToWrite> &files);
    // Ends with filesReady or filesFailed for the task, once (possibly before returning).
    void fetch(const QString &taskId, const QList<FileToFetch> &files);
    void forget(const QString &taskId);
    QString pathOf(const QString &folder, const QString &fileName) const;

Q_SIGNALS:
    void filesReady(const QString &taskId);
    void filesFailed(const QString &taskId, const QString &reason);
    void progress(const QString &taskId, qint64 bytesDone, qint64 bytesTotal);

private:
    struct Transfer {
        QUrl url;
        QString path;
        QString field;
        QPointer<QNetworkReply> reply;
        std::unique_ptr<QFile> file;
        qint64 done = 0;
        qint64 total = -1;
        QString localError; // the file could not be created
        QSet<QString> tasks;
    };
    struct Waiting {
        QSet<QString> missing; // paths not yet in place
    };
    void start(Transfer &transfer);
    void finish(const QString &path);
    void reportProgress(const QString &taskId);

    QNetworkAccessManager &m_network;
    QString m_root;
    QHash<QString, std::shared_ptr<Transfer>> m_transfers; // by destination path
    QHash<QString, Waiting> m_waiting;                     // by task id
};

} // namespace comfy
