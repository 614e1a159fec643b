// The download manager and cache against a local HTTP server: one transfer per URL, links,
// resume, failures, LRU eviction and reconciliation with the disk.
#include "downloads/downloadcache.h"
#include "downloads/filenames.h"
#include "fileserver.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkProxy>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>
#include <sys/resource.h>

using namespace comfy;
using namespace testsupport;

namespace {

constexpr qint64 MiB = 1024 * 1024;

QByteArray sha256(const QByteArray &bytes)
{
    return QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex();
}

QByteArray readAll(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

struct Fixture {
    explicit Fixture(qint64 maxBytes = 1024 * MiB, TransferPolicy policy = {})
    {
        network.setProxy(QNetworkProxy::NoProxy);
        policy.retryDelayMs = 20;
        settings = {dir.filePath(QStringLiteral("cache")),
                    dir.filePath(QStringLiteral("root")),
                    dir.filePath(QStringLiteral("record.json")),
                    maxBytes,
                    4,
                    policy};
        reopen();
    }
    void reopen()
    {
        cache.reset();
        cache = std::make_unique<DownloadCache>(network, settings);
        cache->open();
    }
    FileToFetch file(const QString &path,
                     const QString &folder = QStringLiteral("models/checkpoints")) const
    {
        const QUrl url = server.url(path);
        return {url, folder, downloadFileName(url), QStringLiteral("params.checkpoint"), {}};
    }
    QString linkOf(const FileToFetch &f) const { return cache->linkPathOf(f.folder, f.fileName); }
    QString cached(const FileToFetch &f) const { return cache->cachePathOf(f.fileName); }
    QStringList cacheFiles() const
    {
        return QDir(settings.cacheDir).entryList(QDir::Files | QDir::Hidden | QDir::System);
    }
    // Acquires for one task and waits for its end: "" when ready, else the failure.
    QString fetch(const QString &task, const QList<FileToFetch> &files)
    {
        QSignalSpy ready(cache.get(), &DownloadCache::filesReady);
        QSignalSpy failed(cache.get(), &DownloadCache::filesFailed);
        cache->acquire(task, files);
        if (!QTest::qWaitFor([&] { return !ready.isEmpty() || !failed.isEmpty(); }, 20000))
            return QStringLiteral("timed out");
        return failed.isEmpty() ? QString() : failed.first().at(1).toString();
    }

    QTemporaryDir dir;
    QNetworkAccessManager network;
    FileServer server;
    CacheSettings settings;
    std::unique_ptr<DownloadCache> cache;
};

} // namespace

class TestDownloadCache : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void oneGetPerUrlUnderEightConcurrentTasks();
    void aCachedUrlCostsNoNetwork();
    void theQueryMakesAnotherFile();
    void linksCarryATypeComfyUiLists_data();
    void linksCarryATypeComfyUiLists();
    void brokenTransferResumesWithRange();
    void brokenTransferRestartsWithoutRanges();
    void stalledTransferIsRetried();
    void failuresEndTheTaskAndLeaveNothing_data();
    void failuresEndTheTaskAndLeaveNothing();
    void nextRequestAfterAFailureTriesAgain();
    void checksumIsVerified();
    void redirectsAreFollowedButBounded();
    void perHostAuthHeaders();
    void aFileLargerThanTheCacheFails();
    void leastRecentlyUsedGoesFirst();
    void pinnedFilesAreNeverEvicted();
    void evictByRequest();
    void progressIsReported();
    void reconcileAtStart();
    void foreignOrBrokenLinksAreReplaced();
    void abandonedDownloadIsDropped();
    void aFullDiskEndsTheTaskAndLeavesNothing();
};

void TestDownloadCache::oneGetPerUrlUnderEightConcurrentTasks()
{
    Fixture f;
    FileServer::File slow;
    slow.size = 2 * MiB;
    slow.chunkDelayMs = 2;
    f.server.addFile(QStringLiteral("/sd15.safetensors"), slow);
    QSignalSpy ready(f.cache.get(), &DownloadCache::filesReady);
    QSignalSpy failed(f.cache.get(), &DownloadCache::filesFailed);
    const QStringList folders{QStringLiteral("models/checkpoints"), QStringLiteral("models/loras")};
    for (int i = 0; i < 8; ++i)
        f.cache->acquire(QStringLiteral("task%1").arg(i),
                         {f.file(QStringLiteral("/sd15.safetensors"), folders[i % 2])});
    QTRY_COMPARE_WITH_TIMEOUT(ready.size(), 8, 20000);
    QCOMPARE(failed.size(), 0);
    QCOMPARE(f.server.requests(QStringLiteral("/sd15.safetensors")), 1);
    const QByteArray expected = FileServer::pattern(0, 2 * MiB);
    for (const QString &folder : folders) {
        const FileToFetch file = f.file(QStringLiteral("/sd15.safetensors"), folder);
        const QFileInfo link(f.linkOf(file));
        QVERIFY2(link.isSymLink(), qPrintable(link.absoluteFilePath()));
        QCOMPARE(link.symLinkTarget(), f.cached(file));
        QVERIFY(link.fileName().endsWith(
            QLatin1String("-sd15.safetensors"))); // readable, extension kept
        QCOMPARE(sha256(readAll(link.absoluteFilePath())), sha256(expected));
    }
    QCOMPARE(f.cacheFiles().size(), 1); // one file, no partial left behind
}

void TestDownloadCache::aCachedUrlCostsNoNetwork()
{
    Fixture f;
    f.server.addFile(QStringLiteral("/vae.pt"), FileServer::withContent(QByteArray(1000, 'v')));
    QCOMPARE(f.fetch(QStringLiteral("a"),
                     {f.file(QStringLiteral("/vae.pt"), QStringLiteral("models/vae"))}),
             QString());
    f.cache->release(QStringLiteral("a"));
    QSignalSpy ready(f.cache.get(), &DownloadCache::filesReady);
    f.cache->acquire(QStringLiteral("b"),
                     {f.file(QStringLiteral("/vae.pt"), QStringLiteral("models/vae"))});
    QCOMPARE(ready.size(), 1); // at once, from the cache
    QCOMPARE(f.server.requests(QStringLiteral("/vae.pt")), 1);
    // After a restart too.
    f.cache->release(QStringLiteral("b"));
    f.reopen();
    QCOMPARE(f.fetch(QStringLiteral("c"),
                     {f.file(QStringLiteral("/vae.pt"), QStringLiteral("models/vae"))}),
             QString());
    QCOMPARE(f.server.requests(QStringLiteral("/vae.pt")), 1);
}

void TestDownloadCache::theQueryMakesAnotherFile()
{
    Fixture f;
    f.server.addFile(QStringLiteral("/model.safetensors"),
                     FileServer::withContent(QByteArray(100, 'm')));
    FileToFetch one = f.file(QStringLiteral("/model.safetensors"));
    one.url.setQuery(QStringLiteral("rev=1"));
    one.fileName = downloadFileName(one.url);
    FileToFetch two = one;
    two.url.setQuery(QStringLiteral("rev=2"));
    two.fileName = downloadFileName(two.url);
    QVERIFY(one.fileName != two.fileName);
    QCOMPARE(f.fetch(QStringLiteral("a"), {one, two}), QString());
    QCOMPARE(f.server.requests(QStringLiteral("/model.safetensors")), 2);
    QCOMPARE(f.cache->entries().size(), 2);
}

void TestDownloadCache::linksCarryATypeComfyUiLists_data()
{
    QTest::addColumn<QString>("cacheName");
    QTest::addColumn<QString>("folder");
    QTest::addColumn<QString>("linkName");
    QTest::newRow("model") << "ab-sd.safetensors"
                           << "models/checkpoints"
                           << "ab-sd.safetensors";
    QTest::newRow("model, upper case") << "ab-old.CKPT"
                                       << "models/checkpoints"
                                       << "ab-old.CKPT";
    QTest::newRow("model, no type") << "ab-123"
                                    << "models/loras"
                                    << "ab-123.safetensors";
    QTest::newRow("model, other type") << "ab-x.zip"
                                       << "models/unet"
                                       << "ab-x.zip.safetensors";
    QTest::newRow("image") << "ab-cat.jpeg"
                           << "input"
                           << "ab-cat.jpeg";
    QTest::newRow("image, no type") << "ab-download"
                                    << "input"
                                    << "ab-download.png";
    QTest::newRow("image, model type") << "ab-m.safetensors"
                                       << "input"
                                       << "ab-m.safetensors.png";
}

void TestDownloadCache::linksCarryATypeComfyUiLists()
{
    QFETCH(QString, cacheName);
    QFETCH(QString, folder);
    QFETCH(QString, linkName);
    QCOMPARE(linkFileName(cacheName, folder), linkName);
}

void TestDownloadCache::brokenTransferResumesWithRange()
{
    Fixture f;
    FileServer::File file;
    file.size = 3 * MiB;
    file.dropAfter = MiB + 12345;
    f.server.addFile(QStringLiteral("/big.safetensors"), file);
    const FileToFetch fetch = f.file(QStringLiteral("/big.safetensors"));
    QCOMPARE(f.fetch(QStringLiteral("a"), {fetch}), QString());
    QCOMPARE(f.server.requests(QStringLiteral("/big.safetensors")), 2);
    const QList<QByteArray> ranges = f.server.rangeHeaders(QStringLiteral("/big.safetensors"));
    QCOMPARE(ranges.first(), QByteArray());
    QVERIFY2(ranges.last().startsWith("bytes=") && ranges.last() != "bytes=0-",
             ranges.last().constData());
    QCOMPARE(sha256(readAll(f.cached(fetch))), sha256(FileServer::pattern(0, 3 * MiB)));
    QCOMPARE(f.cache->entries().first().sha256, sha256(FileServer::pattern(0, 3 * MiB)));
}

void TestDownloadCache::brokenTransferRestartsWithoutRanges()
{
    Fixture f;
    FileServer::File file;
    file.size = 2 * MiB;
    file.dropAfter = MiB;
    file.ranges = false;
    f.server.addFile(QStringLiteral("/noranges.bin"), file);
    const FileToFetch fetch = f.file(QStringLiteral("/noranges.bin"));
    QCOMPARE(f.fetch(QStringLiteral("a"), {fetch}), QString());
    QCOMPARE(f.server.requests(QStringLiteral("/noranges.bin")), 2);
    QCOMPARE(f.server.rangeHeaders(QStringLiteral("/noranges.bin")).last(), QByteArray());
    QCOMPARE(sha256(readAll(f.cached(fetch))), sha256(FileServer::pattern(0, 2 * MiB)));
}

void TestDownloadCache::stalledTransferIsRetried()
{
    TransferPolicy policy;
    policy.stallTimeoutMs = 300;
    Fixture f(1024 * MiB, policy);
    FileServer::File file;
    file.size = MiB;
    file.stallAfter = 200 * 1024;
    f.server.addFile(QStringLiteral("/stall.bin"), file);
    const FileToFetch fetch = f.file(QStringLiteral("/stall.bin"));
    QCOMPARE(f.fetch(QStringLiteral("a"), {fetch}), QString());
    QCOMPARE(f.server.requests(QStringLiteral("/stall.bin")), 2);
    QCOMPARE(sha256(readAll(f.cached(fetch))), sha256(FileServer::pattern(0, MiB)));
}

void TestDownloadCache::failuresEndTheTaskAndLeaveNothing_data()
{
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("reason");
    QTest::newRow("404") << "/missing.safetensors"
                         << "HTTP 404";
    QTest::newRow("500") << "/broken.safetensors"
                         << "HTTP 500";
    QTest::newRow("refused") << "refused"
                             << "refused";
}

void TestDownloadCache::failuresEndTheTaskAndLeaveNothing()
{
    QFETCH(QString, path);
    QFETCH(QString, reason);
    TransferPolicy policy;
    policy.retries = 1;
    Fixture f(1024 * MiB, policy);
    FileServer::File broken;
    broken.status = 500;
    f.server.addFile(QStringLiteral("/broken.safetensors"), broken);
    FileToFetch fetch = f.file(path);
    if (path == QLatin1String("refused")) {
        QTcpServer closed; // a port nobody listens on
        closed.listen(QHostAddress::LocalHost, 0);
        const quint16 port = closed.serverPort();
        closed.close();
        fetch.url = QUrl(QStringLiteral("http://127.0.0.1:%1/model.safetensors").arg(port));
        fetch.fileName = downloadFileName(fetch.url);
    }
    const QString failure = f.fetch(QStringLiteral("a"), {fetch});
    QVERIFY2(failure.contains(fetch.url.toString()), qPrintable(failure));
    QVERIFY2(failure.contains(reason, Qt::CaseInsensitive), qPrintable(failure));
    QCOMPARE(f.cacheFiles(), QStringList()); // nothing half-written
    QVERIFY(!QFileInfo(f.linkOf(fetch)).exists());
    QCOMPARE(f.cache->entries().first().state, QStringLiteral("failed"));
}

void TestDownloadCache::nextRequestAfterAFailureTriesAgain()
{
    TransferPolicy policy;
    policy.retries = 0;
    Fixture f(1024 * MiB, policy);
    const FileToFetch fetch = f.file(QStringLiteral("/later.safetensors"));
    QVERIFY(!f.fetch(QStringLiteral("a"), {fetch}).isEmpty());
    f.server.addFile(QStringLiteral("/later.safetensors"),
                     FileServer::withContent(QByteArray(500, 'l')));
    QCOMPARE(f.fetch(QStringLiteral("b"), {fetch}), QString());
    QCOMPARE(f.server.requests(QStringLiteral("/later.safetensors")), 2);
}

void TestDownloadCache::checksumIsVerified()
{
    Fixture f;
    const QByteArray content(4096, 'c');
    f.server.addFile(QStringLiteral("/sum.safetensors"), FileServer::withContent(content));
    FileToFetch wrong = f.file(QStringLiteral("/sum.safetensors"));
    wrong.sha256 = QByteArray(64, 'a');
    const QString failure = f.fetch(QStringLiteral("a"), {wrong});
    QVERIFY2(failure.contains(QLatin1String("sha256 mismatch")), qPrintable(failure));
    QCOMPARE(f.cacheFiles(), QStringList());
    FileToFetch right = wrong;
    right.sha256 = sha256(content);
    QCOMPARE(f.fetch(QStringLiteral("b"), {right}), QString());
    QCOMPARE(f.cache->entries().first().sha256, sha256(content));
}

void TestDownloadCache::redirectsAreFollowedButBounded()
{
    Fixture f;
    f.server.addFile(QStringLiteral("/real.safetensors"),
                     FileServer::withContent(QByteArray(300, 'r')));
    FileServer::File redirect;
    redirect.redirectTo = QStringLiteral("/real.safetensors");
    f.server.addFile(QStringLiteral("/moved.safetensors"), redirect);
    QCOMPARE(f.fetch(QStringLiteral("a"), {f.file(QStringLiteral("/moved.safetensors"))}),
             QString());
    FileServer::File loop;
    loop.redirectTo = QStringLiteral("/loop.safetensors");
    f.server.addFile(QStringLiteral("/loop.safetensors"), loop);
    const QString failure =
        f.fetch(QStringLiteral("b"), {f.file(QStringLiteral("/loop.safetensors"))});
    QVERIFY2(failure.contains(QLatin1String("redirect"), Qt::CaseInsensitive), qPrintable(failure));
    QVERIFY(f.server.requests(QStringLiteral("/loop.safetensors")) <= 11);
}

void TestDownloadCache::perHostAuthHeaders()
{
    TransferPolicy policy;
    policy.retries = 0;
    Fixture without(1024 * MiB, policy);
    FileServer::File gated;
    gated.content = QByteArray(200, 'g');
    gated.requiredHeader = "Authorization: Bearer hf_secret";
    without.server.addFile(QStringLiteral("/gated.safetensors"), gated);
    QVERIFY(without.fetch(QStringLiteral("a"), {without.file(QStringLiteral("/gated.safetensors"))})
                .contains(QLatin1String("403")));

    policy.hostHeaders.insert(QStringLiteral("127.0.0.1"), {{"Authorization", "Bearer hf_secret"}});
    Fixture with(1024 * MiB, policy);
    with.server.addFile(QStringLiteral("/gated.safetensors"), gated);
    QCOMPARE(with.fetch(QStringLiteral("a"), {with.file(QStringLiteral("/gated.safetensors"))}),
             QString());
}

void TestDownloadCache::aFileLargerThanTheCacheFails()
{
    Fixture f(10000);
    FileServer::File big;
    big.size = 50000;
    f.server.addFile(QStringLiteral("/huge.safetensors"), big);
    const QString failure =
        f.fetch(QStringLiteral("a"), {f.file(QStringLiteral("/huge.safetensors"))});
    QVERIFY2(failure.contains(QLatin1String("more than the whole cache")), qPrintable(failure));
    FileServer::File unknownLength = big;
    unknownLength.sendLength = false;
    f.server.addFile(QStringLiteral("/huge2.safetensors"), unknownLength);
    const QString second =
        f.fetch(QStringLiteral("b"), {f.file(QStringLiteral("/huge2.safetensors"))});
    QVERIFY2(second.contains(QLatin1String("larger than the whole cache")), qPrintable(second));
    QCOMPARE(f.cacheFiles(), QStringList());
}

void TestDownloadCache::leastRecentlyUsedGoesFirst()
{
    Fixture f(25000); // room for two 10000-byte files
    for (const char *name : {"/a.safetensors", "/b.safetensors", "/c.safetensors"})
        f.server.addFile(QLatin1String(name), FileServer::withContent(QByteArray(10000, name[1])));
    const FileToFetch a = f.file(QStringLiteral("/a.safetensors"));
    const FileToFetch b = f.file(QStringLiteral("/b.safetensors"));
    const FileToFetch c = f.file(QStringLiteral("/c.safetensors"));
    QCOMPARE(f.fetch(QStringLiteral("t1"), {a}), QString());
    f.cache->release(QStringLiteral("t1"));
    QTest::qWait(5); // distinct timestamps
    QCOMPARE(f.fetch(QStringLiteral("t2"), {b}), QString());
    f.cache->release(QStringLiteral("t2"));
    QTest::qWait(5);
    // a is used again: now b is the least recently used, though downloaded later.
    QCOMPARE(f.fetch(QStringLiteral("t3"), {a}), QString());
    f.cache->release(QStringLiteral("t3"));
    QTest::qWait(5);
    QCOMPARE(f.fetch(QStringLiteral("t4"), {c}), QString());
    QVERIFY(QFileInfo::exists(f.cached(a)));
    QVERIFY(!QFileInfo::exists(f.cached(b)));
    QVERIFY(!QFileInfo(f.linkOf(b)).isSymLink()); // its link went with it
    QVERIFY(QFileInfo::exists(f.cached(c)));
    QVERIFY(f.cache->totalBytes() <= 25000);
    // The record agrees with the disk.
    QFile record(f.settings.recordPath);
    QVERIFY(record.open(QIODevice::ReadOnly));
    const QJsonArray entries = QJsonDocument::fromJson(record.readAll())
                                   .object()
                                   .value(QLatin1String("entries"))
                                   .toArray();
    QCOMPARE(entries.size(), 2);
}

void TestDownloadCache::pinnedFilesAreNeverEvicted()
{
    Fixture f(15000); // room for one file
    f.server.addFile(QStringLiteral("/a.safetensors"),
                     FileServer::withContent(QByteArray(10000, 'a')));
    f.server.addFile(QStringLiteral("/b.safetensors"),
                     FileServer::withContent(QByteArray(10000, 'b')));
    const FileToFetch a = f.file(QStringLiteral("/a.safetensors"));
    const FileToFetch b = f.file(QStringLiteral("/b.safetensors"));
    QCOMPARE(f.fetch(QStringLiteral("t1"), {a}), QString()); // t1 still pending or running
    QCOMPARE(f.fetch(QStringLiteral("t2"), {b}), QString());
    QVERIFY(QFileInfo::exists(f.cached(a)));
    QVERIFY(QFileInfo::exists(f.cached(b)));
    f.cache->release(QStringLiteral("t1")); // now a may go
    QVERIFY(!QFileInfo::exists(f.cached(a)));
    QVERIFY(QFileInfo::exists(f.cached(b)));
}

void TestDownloadCache::evictByRequest()
{
    Fixture f;
    f.server.addFile(QStringLiteral("/e.safetensors"),
                     FileServer::withContent(QByteArray(100, 'e')));
    const FileToFetch e = f.file(QStringLiteral("/e.safetensors"));
    QCOMPARE(f.fetch(QStringLiteral("t"), {e}), QString());
    QCOMPARE(f.cache->evict(e.url.toString()).error().kind, Error::Kind::Conflict);
    f.cache->release(QStringLiteral("t"));
    QVERIFY(f.cache->evict(e.url.toString()).ok());
    QVERIFY(!QFileInfo::exists(f.cached(e)));
    QVERIFY(!QFileInfo(f.linkOf(e)).isSymLink());
    QCOMPARE(f.cache->evict(e.url.toString()).error().kind, Error::Kind::NotFound);
}

void TestDownloadCache::progressIsReported()
{
    Fixture f;
    FileServer::File file;
    file.size = 2 * MiB;
    file.chunkDelayMs = 1;
    f.server.addFile(QStringLiteral("/p.safetensors"), file);
    QSignalSpy progress(f.cache.get(), &DownloadCache::progress);
    QCOMPARE(f.fetch(QStringLiteral("t"), {f.file(QStringLiteral("/p.safetensors"))}), QString());
    QVERIFY(progress.size() > 2);
    QCOMPARE(progress.last().at(2).toLongLong(), 2 * MiB);
    QVERIFY(progress.first().at(1).toLongLong() < 2 * MiB);
}

void TestDownloadCache::reconcileAtStart()
{
    Fixture f;
    f.server.addFile(QStringLiteral("/keep.safetensors"),
                     FileServer::withContent(QByteArray(700, 'k')));
    f.server.addFile(QStringLiteral("/lost.safetensors"),
                     FileServer::withContent(QByteArray(800, 'l')));
    const FileToFetch keep = f.file(QStringLiteral("/keep.safetensors"));
    const FileToFetch lost = f.file(QStringLiteral("/lost.safetensors"));
    QCOMPARE(f.fetch(QStringLiteral("t"), {keep, lost}), QString());
    f.cache->release(QStringLiteral("t"));
    const QString keepLink = f.linkOf(keep);
    f.cache.reset();
    // The disk changes behind the router's back.
    QFile::remove(keepLink); // a missing link
    QFile::remove(f.settings.cacheDir + QLatin1Char('/') +
                  lost.fileName); // a record without its file
    QFile orphan(f.settings.cacheDir + QStringLiteral("/orphan.bin"));
    QVERIFY(orphan.open(QIODevice::WriteOnly));
    orphan.write("x");
    orphan.close();
    QFile partial(f.settings.cacheDir + QLatin1Char('/') + keep.fileName +
                  QStringLiteral(".part1234"));
    QVERIFY(partial.open(QIODevice::WriteOnly));
    partial.write("half");
    partial.close();
    f.reopen();
    QCOMPARE(f.cacheFiles(), QStringList{keep.fileName});
    QCOMPARE(QFileInfo(f.linkOf(keep)).symLinkTarget(), f.cached(keep)); // restored
    QVERIFY(!QFileInfo(f.linkOf(lost)).isSymLink());                     // dangling link removed
    QCOMPARE(f.cache->entries().size(), 1);
    QCOMPARE(f.cache->entries().first().url, keep.url);
}

void TestDownloadCache::foreignOrBrokenLinksAreReplaced()
{
    Fixture f;
    f.server.addFile(QStringLiteral("/l.safetensors"),
                     FileServer::withContent(QByteArray(100, 'l')));
    const FileToFetch file = f.file(QStringLiteral("/l.safetensors"));
    QDir().mkpath(QFileInfo(f.linkOf(file)).absolutePath());
    QVERIFY(QFile::link(QStringLiteral("/etc/hostname"), f.linkOf(file))); // someone else's link
    QCOMPARE(f.fetch(QStringLiteral("t"), {file}), QString());
    QCOMPARE(QFileInfo(f.linkOf(file)).symLinkTarget(), f.cached(file));
    QVERIFY(QFileInfo::exists(QStringLiteral("/etc/hostname"))); // never followed
}

void TestDownloadCache::abandonedDownloadIsDropped()
{
    Fixture f;
    FileServer::File slow;
    slow.size = 8 * MiB;
    slow.chunkDelayMs = 20;
    f.server.addFile(QStringLiteral("/slow.safetensors"), slow);
    f.cache->acquire(QStringLiteral("t"), {f.file(QStringLiteral("/slow.safetensors"))});
    QTRY_VERIFY(!f.cacheFiles().isEmpty()); // the partial file exists
    f.cache->release(QStringLiteral("t"));  // the task was cancelled
    QCOMPARE(f.cacheFiles(), QStringList());
    QCOMPARE(f.cache->entries().size(), 0);
}

void TestDownloadCache::aFullDiskEndsTheTaskAndLeavesNothing()
{
    // A file-size limit on this process makes writes fail past 1 MiB as a full disk would
    // (EFBIG instead of ENOSPC: the same failed write).
    struct rlimit before;
    QVERIFY(getrlimit(RLIMIT_FSIZE, &before) == 0);
    std::signal(SIGXFSZ, SIG_IGN);
    struct rlimit limited = before;
    limited.rlim_cur = MiB;
    QVERIFY(setrlimit(RLIMIT_FSIZE, &limited) == 0);
    Fixture f;
    FileServer::File big;
    big.size = 4 * MiB;
    f.server.addFile(QStringLiteral("/full.safetensors"), big);
    const QString failure =
        f.fetch(QStringLiteral("t"), {f.file(QStringLiteral("/full.safetensors"))});
    setrlimit(RLIMIT_FSIZE, &before);
    std::signal(SIGXFSZ, SIG_DFL);
    QVERIFY2(failure.contains(QLatin1String("cannot write")), qPrintable(failure));
    QVERIFY2(failure.contains(f.server.url(QStringLiteral("/full.safetensors")).toString()),
             qPrintable(failure));
    QCOMPARE(f.cacheFiles(), QStringList()); // nothing half-written
    // With room again, the next request downloads it.
    QCOMPARE(f.fetch(QStringLiteral("u"), {f.file(QStringLiteral("/full.safetensors"))}),
             QString());
}

QTEST_GUILESS_MAIN(TestDownloadCache)
#include "tst_downloadcache.moc"
