#pragma once

#include "downloads/transfer.h"
#include "util/error.h"
#include "workflows/graphbuilder.h"

#include <QDateTime>
#include <QHash>
#include <QLoggingCategory>
#include <QObject>
#include <QSet>
#include <QStringList>
#include <QUrl>

#include <memory>

class QNetworkAccessManager;

Q_DECLARE_LOGGING_CATEGORY(lcDownloads)

namespace comfy {

struct CacheSettings {
    QString cacheDir;   // where downloaded files live
    QString rootDir;    // the ComfyUI folder shared with the nodes: links go into its folders
    QString recordPath; // JSON record of the cache, written atomically
    qint64 maxBytes = 68719476736LL;
    int concurrency = 4;
    TransferPolicy transfer;
};

// One cached file, as GET /cache shows it.
struct CacheEntryInfo {
    QUrl url;
    QString fileName;
    QString state; // downloading | ready | failed
    qint64 size = 0;
    qint64 bytesDone = 0;
    qint64 bytesTotal = -1;
    QByteArray sha256;
    QDateTime created;
    QDateTime lastUse;
    QStringList links; // paths of the links in the node folders
    int tasks = 0;     // pending or running tasks that need it
    QString error;
};

// The download manager and model/image cache. Each URL (the full URL, query included) is
// fetched once into the cache folder and linked (symlink) into every node folder a task needs
// it in, before the task may run. Tasks that need the same URL wait on the same transfer. The
// cache never grows past maxBytes: the least recently used files that no pending or running
// task needs go first. The record survives restarts; open() reconciles it with the disk.
class DownloadCache : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DownloadCache)
public:
    DownloadCache(QNetworkAccessManager &network, CacheSettings settings,
                  QObject *parent = nullptr);
    ~DownloadCache() override;

    // Reads the record, drops entries without files, removes orphan and partial files and
    // links to them, restores missing links, evicts down to the limit.
    void open();

    // Inline (base64) images: written into ROOT_DIR/input now, under a temporary name first.
    Result<bool> writeInline(const QList<FileToWrite> &files);
    // Makes every file present and linked; ends with filesReady or filesFailed, once. The
    // files stay pinned (never evicted) until release().
    void acquire(const QString &taskId, const QList<FileToFetch> &files);
    void release(const QString &taskId);

    QList<CacheEntryInfo> entries() const; // most recently used first
    qint64 totalBytes() const;
    qint64 maxBytes() const { return m_settings.maxBytes; }
    // DELETE /cache?url=: NotFound, or Conflict while a task needs it or it downloads.
    Result<bool> evict(const QString &url);
    QString cachePathOf(const QString &fileName) const;
    QString linkPathOf(const QString &folder, const QString &fileName) const;

Q_SIGNALS:
    void filesReady(const QString &taskId);
    void filesFailed(const QString &taskId, const QString &reason);
    void progress(const QString &taskId, qint64 bytesDone, qint64 bytesTotal);

private:
    enum class State { Downloading, Ready, Failed };
    struct Entry {
        QUrl url;
        QString fileName;
        State state = State::Downloading;
        qint64 size = 0;
        QByteArray sha256;
        QDateTime created;
        QDateTime lastUse;
        QSet<QString> links; // folders
        QSet<QString> tasks;
        QString error;
        std::unique_ptr<Transfer> transfer;
        bool queued = false; // waiting for a transfer slot
    };
    struct Waiting {
        QList<FileToFetch> files;
        QSet<QUrl> missing;
    };
    Entry &entryFor(const QUrl &url);
    void startTransfers();
    void onTransferFinished(const QUrl &url, bool ok, const QString &error);
    void settle(const QString &taskId); // links what is ready; reports the task when complete
    void failTask(const QString &taskId, const QString &reason);
    QString link(Entry &entry, const QString &folder); // "" or the error
    void unlinkAll(Entry &entry);
    void removeEntry(const QUrl &url);
    void evictToLimit();
    void saveRecord() const;
    void reportProgress(const QString &taskId);

    QNetworkAccessManager &m_network;
    CacheSettings m_settings;
    QHash<QUrl, std::shared_ptr<Entry>> m_entries;
    QHash<QString, Waiting> m_waiting; // task id -> files it still waits for
    QList<QUrl> m_transferQueue;
    int m_active = 0;
};

} // namespace comfy
