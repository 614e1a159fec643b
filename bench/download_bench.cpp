// comfy-bench-download: downloads one URL through the router's real download path
// (DownloadCache -> Transfer -> QNetworkAccessManager, streamed into a temporary file in the
// cache folder, renamed and linked into ROOT_DIR/<folder>/) and reports the wall time, the
// bytes, the throughput and the growth of the process's peak resident memory (VmHWM).
//
//   comfy-bench-download [--expect-bytes N] [--folder F] [--timeout-s S] URL CACHE_DIR ROOT_DIR
//
// The cache folder must not already hold the URL (the run must really download): the bench
// fails otherwise. Exit code 0 only when the file arrived, is linked, and has the expected size
// (--expect-bytes, else the Content-Length of a HEAD request made before the measurement).
// The last line of the output is machine-readable: "RESULT key=value ...".
#include "downloads/downloadcache.h"
#include "downloads/filenames.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QFileInfo>
#include <QNetworkAccessManager>
#include <QNetworkProxy>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QTimer>

#include <algorithm>
#include <cstdio>

using namespace comfy;

namespace {

// A field of /proc/self/status in KiB ("VmHWM:   12345 kB"), -1 when unreadable.
qint64 procStatusKiB(const char *field)
{
    QFile status(QStringLiteral("/proc/self/status"));
    if (!status.open(QIODevice::ReadOnly | QIODevice::Text))
        return -1;
    const QByteArray prefix = QByteArray(field) + ':';
    for (const QByteArray &line : status.readAll().split('\n')) {
        if (line.startsWith(prefix)) {
            const QByteArray value = line.mid(prefix.size()).trimmed();
            bool ok = false;
            const qint64 kib = value.left(value.indexOf(' ')).toLongLong(&ok);
            return ok ? kib : -1;
        }
    }
    return -1;
}

[[noreturn]] void die(const QString &message, int code = 1)
{
    std::fprintf(stderr, "comfy-bench-download: FAILED: %s\n", qPrintable(message));
    std::fflush(stderr);
    std::_Exit(code);
}

// Content-Length by a HEAD request, -1 when the server does not say.
qint64 headLength(QNetworkAccessManager &network, const QUrl &url)
{
    QNetworkRequest request(url);
    request.setRawHeader("Accept-Encoding", "identity");
    QNetworkReply *reply = network.head(request);
    QEventLoop loop;
    QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    loop.exec();
    reply->deleteLater();
    if (reply->error() != QNetworkReply::NoError)
        die(QStringLiteral("HEAD %1: %2").arg(url.toString(), reply->errorString()));
    const QVariant length = reply->header(QNetworkRequest::ContentLengthHeader);
    return length.isValid() ? length.toLongLong() : -1;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("comfy-bench-download"));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Downloads URL through the router's DownloadCache into CACHE_DIR, linked into "
        "ROOT_DIR/<folder>/, and prints time, bytes, throughput and peak RSS growth."));
    parser.addHelpOption();
    const QCommandLineOption expectOption(
        QStringLiteral("expect-bytes"),
        QStringLiteral("Size the file must have (default: Content-Length of a HEAD request)."),
        QStringLiteral("n"));
    const QCommandLineOption folderOption(
        QStringLiteral("folder"), QStringLiteral("Folder under ROOT_DIR to link into."),
        QStringLiteral("folder"), QStringLiteral("models/checkpoints"));
    const QCommandLineOption timeoutOption(QStringLiteral("timeout-s"),
                                           QStringLiteral("Give up after this many seconds."),
                                           QStringLiteral("s"), QStringLiteral("900"));
    parser.addOptions({expectOption, folderOption, timeoutOption});
    parser.addPositionalArgument(QStringLiteral("url"), QStringLiteral("http(s) URL"));
    parser.addPositionalArgument(QStringLiteral("cache-dir"), QStringLiteral("cache folder"));
    parser.addPositionalArgument(QStringLiteral("root-dir"), QStringLiteral("ComfyUI folder"));
    parser.process(app);
    const QStringList args = parser.positionalArguments();
    if (args.size() != 3)
        die(QStringLiteral("expected URL CACHE_DIR ROOT_DIR (see --help)"), 2);

    const QUrl url(args.at(0), QUrl::StrictMode);
    if (!url.isValid() ||
        (url.scheme() != QLatin1String("http") && url.scheme() != QLatin1String("https")))
        die(QStringLiteral("not an http(s) URL: %1").arg(args.at(0)), 2);
    const QString cacheDir = QDir(args.at(1)).absolutePath();
    const QString rootDir = QDir(args.at(2)).absolutePath();
    const QString folder = parser.value(folderOption);
    bool ok = false;
    const int timeoutS = parser.value(timeoutOption).toInt(&ok);
    if (!ok || timeoutS <= 0)
        die(QStringLiteral("--timeout-s must be a positive number"), 2);

    QNetworkAccessManager network;
    network.setProxy(QNetworkProxy::NoProxy); // the benchmark is about loopback, never a proxy

    qint64 expected = -1;
    if (parser.isSet(expectOption)) {
        expected = parser.value(expectOption).toLongLong(&ok);
        if (!ok || expected < 0)
            die(QStringLiteral("--expect-bytes must be a byte count"), 2);
    } else {
        expected = headLength(network, url);
        if (expected < 0)
            die(QStringLiteral("the server sends no Content-Length; pass --expect-bytes"), 2);
    }

    CacheSettings settings;
    settings.cacheDir = cacheDir;
    settings.rootDir = rootDir;
    settings.recordPath = QDir(rootDir).absoluteFilePath(QStringLiteral(".bench-record.json"));
    settings.maxBytes = std::max<qint64>(settings.maxBytes, 2 * expected);
    settings.concurrency = 1;
    DownloadCache cache(network, settings);
    cache.open();
    for (const CacheEntryInfo &entry : cache.entries())
        if (entry.url == url)
            die(QStringLiteral("%1 is already in %2: clear the cache folder so the run really "
                               "downloads")
                    .arg(url.toString(), cacheDir),
                2);

    FileToFetch file;
    file.url = url;
    file.folder = folder;
    file.fileName = downloadFileName(url);
    file.field = QStringLiteral("bench");
    const QString taskId = QStringLiteral("bench");

    QString failure;
    qint64 elapsedNs = -1;
    QElapsedTimer clock;
    QObject::connect(&cache, &DownloadCache::filesReady, &app, [&](const QString &task) {
        if (task != taskId)
            return;
        elapsedNs = clock.nsecsElapsed();
        QCoreApplication::exit(0);
    });
    QObject::connect(&cache, &DownloadCache::filesFailed, &app,
                     [&](const QString &task, const QString &reason) {
                         if (task != taskId)
                             return;
                         elapsedNs = clock.nsecsElapsed();
                         failure = reason;
                         QCoreApplication::exit(1);
                     });
    QTimer::singleShot(timeoutS * 1000, &app, [&] {
        failure = QStringLiteral("timed out after %1 s").arg(timeoutS);
        QCoreApplication::exit(1);
    });

    const qint64 hwmBefore = procStatusKiB("VmHWM");
    const qint64 rssBefore = procStatusKiB("VmRSS");
    if (hwmBefore < 0)
        die(QStringLiteral("cannot read VmHWM from /proc/self/status"));
    // acquire() starts the transfer; it ends with filesReady or filesFailed from the event loop.
    QMetaObject::invokeMethod(
        &cache,
        [&] {
            clock.start();
            cache.acquire(taskId, {file});
        },
        Qt::QueuedConnection);
    const int loopCode = app.exec();
    const qint64 hwmAfter = procStatusKiB("VmHWM");
    const qint64 rssAfter = procStatusKiB("VmRSS");

    if (loopCode != 0 || !failure.isEmpty())
        die(QStringLiteral("download of %1: %2")
                .arg(url.toString(), failure.isEmpty() ? QStringLiteral("failed") : failure));

    // The file must be in the cache, linked where the task needs it, and complete.
    CacheEntryInfo info;
    for (const CacheEntryInfo &entry : cache.entries())
        if (entry.url == url)
            info = entry;
    if (info.state != QLatin1String("ready"))
        die(QStringLiteral("the cache does not hold %1 as ready").arg(url.toString()));
    const QString cached = cache.cachePathOf(info.fileName);
    const QFileInfo link(cache.linkPathOf(folder, info.fileName));
    if (!link.isSymLink() || link.symLinkTarget() != cached)
        die(QStringLiteral("%1 is not a link to %2").arg(link.absoluteFilePath(), cached));
    const qint64 onDisk = QFileInfo(cached).size();
    if (onDisk != expected || info.size != expected)
        die(QStringLiteral("size mismatch: expected %1 bytes, the cache file has %2 (record %3)")
                .arg(expected)
                .arg(onDisk)
                .arg(info.size));

    const double seconds = double(elapsedNs) / 1e9;
    const double mib = double(onDisk) / (1024.0 * 1024.0);
    const double mibPerS = seconds > 0 ? mib / seconds : 0;
    const qint64 growthKiB = hwmAfter - hwmBefore;
    std::printf("url            %s\n", qPrintable(url.toString()));
    std::printf("file           %s -> %s\n", qPrintable(link.absoluteFilePath()),
                qPrintable(cached));
    std::printf("bytes          %lld (%.1f MiB), sha256 %s\n", static_cast<long long>(onDisk), mib,
                info.sha256.constData());
    std::printf("elapsed        %.3f s\n", seconds);
    std::printf("throughput     %.1f MiB/s\n", mibPerS);
    std::printf("VmHWM baseline %lld KiB (VmRSS %lld KiB)\n", static_cast<long long>(hwmBefore),
                static_cast<long long>(rssBefore));
    std::printf("VmHWM after    %lld KiB (VmRSS %lld KiB)\n", static_cast<long long>(hwmAfter),
                static_cast<long long>(rssAfter));
    std::printf("peak RSS growth %.1f MiB\n", double(growthKiB) / 1024.0);
    std::printf("RESULT bytes=%lld seconds=%.6f mib_per_s=%.2f hwm_before_kib=%lld "
                "hwm_after_kib=%lld hwm_growth_kib=%lld\n",
                static_cast<long long>(onDisk), seconds, mibPerS, static_cast<long long>(hwmBefore),
                static_cast<long long>(hwmAfter), static_cast<long long>(growthKiB));
    return 0;
}
