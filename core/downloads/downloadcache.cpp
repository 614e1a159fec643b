#include "downloads/downloadcache.h"

#include "downloads/filenames.h"
#include "util/atomicfile.h"
#include "util/isotime.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QUuid>

#include <algorithm>
#include <cstdio>

Q_LOGGING_CATEGORY(lcDownloads, "comfy.downloads")

namespace comfy {

namespace {
constexpr auto PartSuffix = ".part";

} // namespace

DownloadCache::DownloadCache(QNetworkAccessManager &network, CacheSettings settings,
                             QObject *parent)
    : QObject(parent)
    , m_network(network)
    , m_settings(std::move(settings))
{
    m_settings.transfer.maxBytes = m_settings.maxBytes;
}

DownloadCache::~DownloadCache()
{
    for (const auto &entry : std::as_const(m_entries))
        if (entry->transfer)
            entry->transfer->abort();
}

QString DownloadCache::cachePathOf(const QString &fileName) const
{
    return QDir(m_settings.cacheDir).absoluteFilePath(fileName);
}

QString DownloadCache::linkPathOf(const QString &folder, const QString &fileName) const
{
    return QDir(m_settings.rootDir).absoluteFilePath(folder + QLatin1Char('/') + fileName);
}

void DownloadCache::open()
{
    QDir().mkpath(m_settings.cacheDir);
    QFile record(m_settings.recordPath);
    int dropped = 0;
    if (record.open(QIODevice::ReadOnly)) {
        const QJsonArray items = QJsonDocument::fromJson(record.readAll())
                                     .object()
                                     .value(QLatin1String("entries"))
                                     .toArray();
        for (const QJsonValue &item : items) {
            const QJsonObject o = item.toObject();
            auto entry = std::make_shared<Entry>();
            entry->url = QUrl(o.value(QLatin1String("url")).toString(), QUrl::StrictMode);
            entry->fileName = o.value(QLatin1String("file")).toString();
            entry->size = qint64(o.value(QLatin1String("size")).toDouble());
            entry->sha256 = o.value(QLatin1String("sha256")).toString().toLatin1();
            entry->created = fromIsoTime(o.value(QLatin1String("created")).toString());
            entry->lastUse = fromIsoTime(o.value(QLatin1String("last_use")).toString());
            for (const QJsonValue &folder : o.value(QLatin1String("links")).toArray())
                entry->links.insert(folder.toString());
            entry->state = State::Ready;
            // The name must be the one this URL gets: a hand-edited record cannot point
            // outside the cache folder.
            const QFileInfo file(cachePathOf(entry->fileName));
            if (!entry->url.isValid() || entry->fileName != downloadFileName(entry->url) ||
                !file.isFile() || file.isSymLink() || file.size() != entry->size) {
                ++dropped;
                continue;
            }
            m_entries.insert(entry->url, entry);
        }
    }
    // Orphans and partial downloads of an earlier run: nothing half-written survives a restart.
    QSet<QString> known;
    for (const auto &entry : std::as_const(m_entries))
        known.insert(entry->fileName);
    int removed = 0;
    const QFileInfoList files =
        QDir(m_settings.cacheDir).entryInfoList(QDir::Files | QDir::System | QDir::Hidden);
    const QString recordPath = QFileInfo(m_settings.recordPath).absoluteFilePath();
    for (const QFileInfo &file : files) {
        if (file.absoluteFilePath().startsWith(recordPath))
            continue; // the record (or its temporary) may live in the cache folder
        if (!known.contains(file.fileName()) && QFile::remove(file.absoluteFilePath()))
            ++removed;
    }
    // Links into the cache whose file is gone; then the links each entry should have.
    const QString cacheDir = QDir(m_settings.cacheDir).absolutePath() + QLatin1Char('/');
    QDirIterator links(m_settings.rootDir, QDir::System | QDir::Files | QDir::NoDotAndDotDot,
                       QDirIterator::Subdirectories);
    while (links.hasNext()) {
        const QFileInfo link(links.next());
        if (link.isSymLink() && link.symLinkTarget().startsWith(cacheDir) &&
            !known.contains(QFileInfo(link.symLinkTarget()).fileName()))
            QFile::remove(link.absoluteFilePath());
    }
    for (const auto &entry : std::as_const(m_entries))
        for (const QString &folder : QSet<QString>(entry->links))
            link(*entry, folder);
    qCInfo(lcDownloads).noquote() << QStringLiteral("cache %1:").arg(m_settings.cacheDir)
                                  << m_entries.size() << "files," << totalBytes() << "bytes of"
                                  << m_settings.maxBytes << "; dropped" << dropped
                                  << "records without their file, removed" << removed
                                  << "orphan or partial files";
    evictToLimit();
    saveRecord();
}

Result<bool> DownloadCache::writeInline(const QList<FileToWrite> &files)
{
    for (const FileToWrite &file : files) {
        const QString path = linkPathOf(file.folder, file.fileName);
        if (QFileInfo(path).size() == file.data.size())
            continue; // content-named: already there
        // Renamed into place, not synced: as safe as the task's SQLite row against a crash.
        QString error;
        if (!writeFileAtomically(path, file.data, &error))
            return Error{
                Error::Kind::Internal, QStringLiteral("cannot write %1: %2").arg(path, error), {}};
        qCInfo(lcDownloads).noquote()
            << "wrote inline image" << path << file.data.size() << "bytes";
    }
    return true;
}

DownloadCache::Entry &DownloadCache::entryFor(const QUrl &url)
{
    auto &slot = m_entries[url];
    if (!slot || slot->state == State::Failed) { // a failed URL is tried again
        slot = std::make_shared<Entry>();
        slot->url = url;
        slot->fileName = downloadFileName(url);
        slot->created = QDateTime::currentDateTimeUtc();
        slot->lastUse = slot->created;
        slot->queued = true;
        m_transferQueue.append(url);
    }
    return *slot;
}

void DownloadCache::acquire(const QString &taskId, const QList<FileToFetch> &files)
{
    Waiting waiting;
    waiting.files = files;
    const QDateTime now = QDateTime::currentDateTimeUtc();
    for (const FileToFetch &file : files) {
        Entry &entry = entryFor(file.url);
        entry.tasks.insert(taskId);
        entry.lastUse = now;
        if (entry.state != State::Ready)
            waiting.missing.insert(file.url);
    }
    m_waiting.insert(taskId, waiting);
    startTransfers();
    settle(taskId);
    saveRecord();
}

void DownloadCache::release(const QString &taskId)
{
    bool held = m_waiting.remove(taskId) > 0;
    const QDateTime now = QDateTime::currentDateTimeUtc();
    QList<QUrl> abandoned;
    for (const auto &entry : std::as_const(m_entries)) {
        if (!entry->tasks.remove(taskId))
            continue;
        held = true;
        entry->lastUse = now; // used until this task ended
        if (entry->tasks.isEmpty() && entry->state == State::Downloading)
            abandoned.append(entry->url); // nobody waits for it any more
    }
    for (const QUrl &url : abandoned) {
        qCInfo(lcDownloads).noquote()
            << "download of" << url.toString() << "dropped: no task needs it any more";
        removeEntry(url);
    }
    if (!held)
        return; // most tasks download nothing: no record to rewrite at their end
    evictToLimit();
    saveRecord();
}

void DownloadCache::startTransfers()
{
    while (m_active < m_settings.concurrency && !m_transferQueue.isEmpty()) {
        const QUrl url = m_transferQueue.takeFirst();
        const auto entry = m_entries.value(url);
        if (!entry || entry->state != State::Downloading || !entry->queued)
            continue;
        entry->queued = false;
        ++m_active;
        const QString part = cachePathOf(entry->fileName) + QLatin1String(PartSuffix) +
                             QUuid::createUuid().toString(QUuid::Id128).left(8);
        entry->transfer = std::make_unique<Transfer>(m_network, url, part, m_settings.transfer);
        Transfer *transfer = entry->transfer.get();
        connect(transfer, &Transfer::progress, this, [this, url] {
            const auto e = m_entries.value(url);
            if (!e)
                return;
            for (const QString &task : std::as_const(e->tasks))
                reportProgress(task);
        });
        connect(transfer, &Transfer::finished, this,
                [this, url](bool ok, const QString &error) { onTransferFinished(url, ok, error); });
        qCInfo(lcDownloads).noquote()
            << "downloading" << url.toString() << "into" << m_settings.cacheDir;
        transfer->start();
    }
}

void DownloadCache::onTransferFinished(const QUrl &url, bool ok, const QString &error)
{
    --m_active;
    const auto entry = m_entries.value(url);
    if (!entry || !entry->transfer) {
        startTransfers();
        return;
    }
    std::unique_ptr<Transfer> transfer = std::move(entry->transfer);
    QString failure = error;
    if (ok) {
        entry->sha256 = transfer->sha256();
        entry->size = transfer->bytesDone();
        // A task that named a sha256 gets exactly that file or none.
        for (const QString &task : std::as_const(entry->tasks)) {
            for (const FileToFetch &file : m_waiting.value(task).files) {
                if (file.url == url && !file.sha256.isEmpty() && file.sha256 != entry->sha256)
                    failure = QStringLiteral("sha256 mismatch: expected %1, got %2")
                                  .arg(QString::fromLatin1(file.sha256),
                                       QString::fromLatin1(entry->sha256));
            }
        }
        if (failure.isEmpty() && !renameOver(transfer->filePath(), cachePathOf(entry->fileName)))
            failure = QStringLiteral("cannot move the download into the cache folder");
        if (!failure.isEmpty())
            QFile::remove(transfer->filePath());
    }
    transfer.release()->deleteLater(); // we are inside its finished signal

    if (!failure.isEmpty()) {
        entry->state = State::Failed;
        entry->error = failure;
        qCWarning(lcDownloads).noquote() << "download of" << url.toString() << "failed:" << failure;
        const QSet<QString> tasks = entry->tasks;
        entry->tasks.clear();
        for (const QString &task : tasks)
            failTask(task,
                     QStringLiteral("download of %1 failed: %2").arg(url.toString(), failure));
    } else {
        entry->state = State::Ready;
        qCInfo(lcDownloads).noquote() << "downloaded" << url.toString() << entry->size
                                      << "bytes, sha256" << QString::fromLatin1(entry->sha256);
        const QSet<QString> tasks = entry->tasks;
        for (const QString &task : tasks) {
            auto waiting = m_waiting.find(task);
            if (waiting != m_waiting.end())
                waiting->missing.remove(url);
            settle(task);
        }
        evictToLimit();
    }
    saveRecord();
    startTransfers();
}

void DownloadCache::settle(const QString &taskId)
{
    const auto waiting = m_waiting.constFind(taskId);
    if (waiting == m_waiting.cend() || !waiting->missing.isEmpty())
        return;
    // Every file is in the cache: link each into the folder the graph expects, before the
    // task may be sent to a node.
    const QList<FileToFetch> files = waiting->files;
    for (const FileToFetch &file : files) {
        const auto entry = m_entries.value(file.url);
        if (!entry || entry->state != State::Ready) {
            failTask(taskId,
                     QStringLiteral("%1 is no longer in the cache").arg(file.url.toString()));
            return;
        }
        if (!file.sha256.isEmpty() && file.sha256 != entry->sha256) {
            failTask(taskId,
                     QStringLiteral("%1: the cached file has sha256 %2, the request expects %3")
                         .arg(file.url.toString(), QString::fromLatin1(entry->sha256),
                              QString::fromLatin1(file.sha256)));
            return;
        }
        const QString error = link(*entry, file.folder);
        if (!error.isEmpty()) {
            failTask(taskId, error);
            return;
        }
    }
    m_waiting.remove(taskId);
    Q_EMIT filesReady(taskId);
}

void DownloadCache::failTask(const QString &taskId, const QString &reason)
{
    if (!m_waiting.remove(taskId))
        return;
    for (const auto &entry : std::as_const(m_entries))
        entry->tasks.remove(taskId);
    Q_EMIT filesFailed(taskId, reason);
}

QString DownloadCache::link(Entry &entry, const QString &folder)
{
    const QString path = linkPathOf(folder, linkFileName(entry.fileName, folder));
    const QString target = cachePathOf(entry.fileName);
    const QFileInfo existing(path);
    if (existing.isSymLink() && existing.symLinkTarget() == target) {
        entry.links.insert(folder);
        return {};
    }
    // A missing, broken or foreign link (or a stray file under our name) is replaced, never
    // followed: a new link under a temporary name renamed over it.
    QDir().mkpath(existing.absolutePath());
    const QString temporary =
        path + QStringLiteral(".link-") + QUuid::createUuid().toString(QUuid::Id128).left(8);
    if (!QFile::link(target, temporary) || !renameOver(temporary, path)) {
        QFile::remove(temporary);
        return QStringLiteral("cannot link %1 into %2")
            .arg(entry.fileName, existing.absolutePath());
    }
    entry.links.insert(folder);
    return {};
}

void DownloadCache::unlinkAll(Entry &entry)
{
    const QString target = cachePathOf(entry.fileName);
    for (const QString &folder : std::as_const(entry.links)) {
        const QFileInfo link(linkPathOf(folder, linkFileName(entry.fileName, folder)));
        if (link.isSymLink() && link.symLinkTarget() == target)
            QFile::remove(link.absoluteFilePath());
    }
    entry.links.clear();
}

void DownloadCache::removeEntry(const QUrl &url)
{
    const auto entry = m_entries.take(url);
    if (!entry)
        return;
    if (entry->transfer) {
        entry->transfer->abort();
        entry->transfer.release()->deleteLater();
        --m_active;
        startTransfers();
    }
    unlinkAll(*entry);
    if (entry->state == State::Ready)
        QFile::remove(cachePathOf(entry->fileName));
}

void DownloadCache::evictToLimit()
{
    qint64 total = totalBytes();
    if (total <= m_settings.maxBytes)
        return;
    QList<std::shared_ptr<Entry>> candidates;
    for (const auto &entry : std::as_const(m_entries))
        if (entry->state == State::Ready && entry->tasks.isEmpty())
            candidates.append(entry);
    std::sort(candidates.begin(), candidates.end(),
              [](const auto &a, const auto &b) { return a->lastUse < b->lastUse; });
    for (const auto &entry : std::as_const(candidates)) {
        if (total <= m_settings.maxBytes)
            break;
        qCInfo(lcDownloads).noquote() << "evicted" << entry->url.toString() << entry->size
                                      << "bytes, last used" << isoTime(entry->lastUse);
        total -= entry->size;
        removeEntry(entry->url);
    }
    if (total > m_settings.maxBytes)
        qCWarning(lcDownloads).noquote()
            << "cache holds" << total << "bytes, over its limit of" << m_settings.maxBytes
            << ": the rest is needed by pending or running tasks";
}

Result<bool> DownloadCache::evict(const QString &text)
{
    const QUrl url(text, QUrl::StrictMode);
    const auto entry = m_entries.value(url);
    if (!entry)
        return Error::notFound(QStringLiteral("url: %1 is not in the cache").arg(text));
    if (!entry->tasks.isEmpty() || entry->state == State::Downloading)
        return Error::conflict(
            QStringLiteral("url: %1 is in use by %2 task(s)").arg(text).arg(entry->tasks.size()));
    qCInfo(lcDownloads).noquote() << "evicted by request:" << text;
    removeEntry(url);
    saveRecord();
    return true;
}

qint64 DownloadCache::totalBytes() const
{
    qint64 total = 0;
    for (const auto &entry : std::as_const(m_entries))
        if (entry->state == State::Ready)
            total += entry->size;
    return total;
}

QList<CacheEntryInfo> DownloadCache::entries() const
{
    QList<CacheEntryInfo> list;
    for (const auto &entry : std::as_const(m_entries)) {
        CacheEntryInfo info;
        info.url = entry->url;
        info.fileName = entry->fileName;
        info.state = entry->state == State::Ready    ? QStringLiteral("ready")
                     : entry->state == State::Failed ? QStringLiteral("failed")
                                                     : QStringLiteral("downloading");
        info.size = entry->size;
        info.bytesDone = entry->transfer ? entry->transfer->bytesDone() : entry->size;
        info.bytesTotal = entry->transfer ? entry->transfer->bytesTotal() : entry->size;
        info.sha256 = entry->sha256;
        info.created = entry->created;
        info.lastUse = entry->lastUse;
        for (const QString &folder : std::as_const(entry->links))
            info.links.append(linkPathOf(folder, linkFileName(entry->fileName, folder)));
        info.links.sort();
        info.tasks = int(entry->tasks.size());
        info.error = entry->error;
        list.append(info);
    }
    std::sort(list.begin(), list.end(),
              [](const auto &a, const auto &b) { return a.lastUse > b.lastUse; });
    return list;
}

void DownloadCache::saveRecord() const
{
    QJsonArray items;
    for (const auto &entry : std::as_const(m_entries)) {
        if (entry->state != State::Ready)
            continue;
        QJsonArray links;
        for (const QString &folder : std::as_const(entry->links))
            links.append(folder);
        items.append(QJsonObject{{QStringLiteral("url"), entry->url.toString(QUrl::FullyEncoded)},
                                 {QStringLiteral("file"), entry->fileName},
                                 {QStringLiteral("size"), double(entry->size)},
                                 {QStringLiteral("sha256"), QString::fromLatin1(entry->sha256)},
                                 {QStringLiteral("created"), isoTime(entry->created)},
                                 {QStringLiteral("last_use"), isoTime(entry->lastUse)},
                                 {QStringLiteral("links"), links}});
    }
    QDir().mkpath(QFileInfo(m_settings.recordPath).absolutePath());
    const QByteArray record = QJsonDocument(QJsonObject{{QStringLiteral("version"), 1},
                                                        {QStringLiteral("entries"), items}})
                                  .toJson(QJsonDocument::Indented);
    QString error;
    if (!writeFileAtomically(m_settings.recordPath, record, &error)) // never half-written
        qCWarning(lcDownloads).noquote()
            << "cannot write the cache record" << m_settings.recordPath << error;
}

void DownloadCache::reportProgress(const QString &taskId)
{
    const auto waiting = m_waiting.constFind(taskId);
    if (waiting == m_waiting.cend())
        return;
    qint64 done = 0;
    qint64 total = 0;
    for (const FileToFetch &file : waiting->files) {
        const auto entry = m_entries.value(file.url);
        if (!entry)
            continue;
        if (entry->state == State::Ready) {
            done += entry->size;
            total += entry->size;
        } else if (entry->transfer) {
            done += entry->transfer->bytesDone();
            total += std::max(entry->transfer->bytesTotal(), entry->transfer->bytesDone());
        }
    }
    Q_EMIT progress(taskId, done, total);
}

} // namespace comfy
