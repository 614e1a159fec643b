#include "downloads/filefetcher.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QSaveFile>
#include <QUuid>

#include <cstdio>

Q_LOGGING_CATEGORY(lcDownloads, "comfy.downloads")

namespace comfy {

namespace {
constexpr int StallTimeoutMs = 60000;
constexpr int MaxRedirects = 10;

bool renameOver(const QString &from, const QString &to)
{
    // POSIX rename replaces the target atomically; QFile::rename refuses to.
    return std::rename(QFile::encodeName(from).constData(), QFile::encodeName(to).constData()) == 0;
}
} // namespace

FileFetcher::FileFetcher(QNetworkAccessManager &network, const QString &rootDir, QObject *parent)
    : QObject(parent)
    , m_network(network)
    , m_root(rootDir)
{
}

FileFetcher::~FileFetcher()
{
    for (const auto &transfer : std::as_const(m_transfers)) {
        if (transfer->reply)
            transfer->reply->abort();
        if (transfer->file)
            transfer->file->remove();
    }
}

QString FileFetcher::pathOf(const QString &folder, const QString &fileName) const
{
    return QDir(m_root).filePath(folder + QLatin1Char('/') + fileName);
}

Result<bool> FileFetcher::write(const QList<FileToWrite> &files)
{
    for (const FileToWrite &file : files) {
        const QString path = pathOf(file.folder, file.fileName);
        if (QFileInfo(path).size() == file.data.size())
            continue; // content-named: already there
        QDir().mkpath(QFileInfo(path).absolutePath());
        QSaveFile out(path); // temporary name, renamed on commit
        if (!out.open(QIODevice::WriteOnly) || out.write(file.data) != file.data.size() ||
            !out.commit())
            return Error{Error::Kind::Internal,
                         QStringLiteral("cannot write %1: %2").arg(path, out.errorString()),
                         {}};
        qCInfo(lcDownloads).noquote()
            << "wrote inline image" << path << file.data.size() << "bytes";
    }
    return true;
}

void FileFetcher::fetch(const QString &taskId, const QList<FileToFetch> &files)
{
    Waiting waiting;
    QList<std::shared_ptr<Transfer>> toStart;
    for (const FileToFetch &file : files) {
        const QString path = pathOf(file.folder, file.fileName);
        if (QFileInfo::exists(path))
            continue;
        waiting.missing.insert(path);
        auto &transfer = m_transfers[path];
        if (!transfer) {
            transfer = std::make_shared<Transfer>();
            transfer->url = file.url;
            transfer->path = path;
            transfer->field = file.field;
            toStart.append(transfer);
        }
        transfer->tasks.insert(taskId);
    }
    if (waiting.missing.isEmpty()) {
        Q_EMIT filesReady(taskId);
        return;
    }
    m_waiting.insert(taskId, waiting);
    for (const auto &transfer : toStart)
        start(*transfer);
}

void FileFetcher::forget(const QString &taskId)
{
    if (!m_waiting.remove(taskId))
        return;
    for (auto it = m_transfers.begin(); it != m_transfers.end();) {
        Transfer &transfer = *it.value();
        transfer.tasks.remove(taskId);
        if (!transfer.tasks.isEmpty()) {
            ++it;
            continue;
        }
        // Nobody needs it any more.
        auto keep = it.value();
        it = m_transfers.erase(it);
        if (keep->reply)
            keep->reply->abort();
        if (keep->file)
            keep->file->remove();
    }
}

void FileFetcher::start(Transfer &transfer)
{
    QDir().mkpath(QFileInfo(transfer.path).absolutePath());
    transfer.file = std::make_unique<QFile>(transfer.path + QStringLiteral(".part-") +
                                            QUuid::createUuid().toString(QUuid::Id128).left(8));
    if (!transfer.file->open(QIODevice::WriteOnly)) {
        transfer.localError = QStringLiteral("cannot write %1: %2")
                                  .arg(transfer.file->fileName(), transfer.file->errorString());
        transfer.file.reset();
        // Reported from the event loop, like every other ending: fetch() has returned by then.
        QMetaObject::invokeMethod(
            this, [this, path = transfer.path] { finish(path); }, Qt::QueuedConnection);
        return;
    }
    QNetworkRequest request(transfer.url);
    request.setTransferTimeout(StallTimeoutMs);
    request.setMaximumRedirectsAllowed(MaxRedirects);
    QNetworkReply *reply = m_network.get(request);
    transfer.reply = reply;
    qCInfo(lcDownloads).noquote() << "downloading" << transfer.url.toString() << "to"
                                  << transfer.path;
    const QString path = transfer.path;
    connect(reply, &QNetworkReply::readyRead, this, [this, path, reply] {
        const auto it = m_transfers.constFind(path);
        if (it == m_transfers.cend() || it.value()->reply != reply)
            return;
        Transfer &t = *it.value();
        const QByteArray chunk = reply->readAll();
        if (t.file->write(chunk) != chunk.size()) {
            reply->abort();
            return;
        }
        t.done += chunk.size();
        t.total = reply->header(QNetworkRequest::ContentLengthHeader).isValid()
                      ? reply->header(QNetworkRequest::ContentLengthHeader).toLongLong()
                      : -1;
        for (const QString &task : std::as_const(t.tasks))
            reportProgress(task);
    });
    connect(reply, &QNetworkReply::finished, this, [this, path] { finish(path); });
}

void FileFetcher::finish(const QString &path)
{
    const auto found = m_transfers.find(path);
    if (found == m_transfers.end())
        return;
    const std::shared_ptr<Transfer> transfer = found.value();
    m_transfers.erase(found);

    QString failure;
    if (!transfer->localError.isEmpty()) {
        failure = transfer->localError;
    } else {
        QNetworkReply *reply = transfer->reply;
        reply->deleteLater();
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        if (transfer->file->isOpen() && reply->bytesAvailable() > 0)
            transfer->file->write(reply->readAll());
        const qint64 expected =
            reply->header(QNetworkRequest::ContentLengthHeader).isValid()
                ? reply->header(QNetworkRequest::ContentLengthHeader).toLongLong()
                : -1;
        if (reply->error() != QNetworkReply::NoError)
            failure = status ? QStringLiteral("HTTP %1").arg(status) : reply->errorString();
        else if (status != 200)
            failure = QStringLiteral("HTTP %1").arg(status);
        else if (!transfer->file->flush())
            failure = QStringLiteral("cannot write: %1").arg(transfer->file->errorString());
        else if (expected >= 0 && transfer->file->size() != expected)
            failure =
                QStringLiteral("got %1 of %2 bytes").arg(transfer->file->size()).arg(expected);
        transfer->file->close();
        if (failure.isEmpty() && !renameOver(transfer->file->fileName(), path))
            failure = QStringLiteral("cannot move the download into place");
        if (!failure.isEmpty())
            transfer->file->remove(); // nothing half-written stays
    }

    if (!failure.isEmpty())
        qCWarning(lcDownloads).noquote()
            << "download of" << transfer->url.toString() << "failed:" << failure;
    else
        qCInfo(lcDownloads).noquote()
            << "downloaded" << transfer->url.toString() << transfer->done << "bytes";

    for (const QString &task : std::as_const(transfer->tasks)) {
        auto waiting = m_waiting.find(task);
        if (waiting == m_waiting.end())
            continue;
        if (!failure.isEmpty()) {
            m_waiting.erase(waiting);
            Q_EMIT filesFailed(
                task,
                QStringLiteral("download of %1 failed: %2").arg(transfer->url.toString(), failure));
            continue;
        }
        waiting->missing.remove(path);
        if (waiting->missing.isEmpty()) {
            m_waiting.erase(waiting);
            Q_EMIT filesReady(task);
        }
    }
}

void FileFetcher::reportProgress(const QString &taskId)
{
    const auto waiting = m_waiting.constFind(taskId);
    if (waiting == m_waiting.cend())
        return;
    qint64 done = 0;
    qint64 total = 0;
    for (const QString &path : waiting->missing) {
        const auto transfer = m_transfers.value(path);
        if (!transfer)
            continue;
        done += transfer->done;
        total += transfer->total > 0 ? transfer->total : transfer->done;
    }
    Q_EMIT progress(taskId, done, total);
}

} // namespace comfy
