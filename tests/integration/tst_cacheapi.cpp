// Downloads through the whole router: Raw graphs naming model URLs, the downloading phase,
// links in place before the node sees the graph, GET /cache and DELETE /cache.
#include "apiserver.h"
#include "fileserver.h"
#include "httpclient.h"
#include "isolatedsettings.h"
#include "router/router.h"
#include "simcluster.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QTest>

using namespace comfy;
using namespace testsupport;

namespace {

constexpr qint64 MiB = 1024 * 1024;

struct Harness {
    explicit Harness(int nodes = 2)
        : cluster(nodes, 5, SimCluster::Layout::SharedModelsAndInput)
    {
        Settings settings;
        settings.healthIntervalMs = 50;
        settings.nodes = cluster.urls();
        settings.pendingLimit = 50;
        settings = dirs.apply(settings);
        settings.downloadRootDir = cluster.sharedRoot(); // the nodes' shared ComfyUI folder
        cacheDir = settings.downloadCacheDir;
        router = std::make_unique<Router>(settings);
        api = std::make_unique<server::ApiServer>(*router);
        client = std::make_unique<HttpClient>(QUrl(
            QStringLiteral("http://127.0.0.1:%1/").arg(api->listen(QHostAddress::LocalHost, 0))));
    }
    bool allIdle() const
    {
        const auto nodes = router->nodes().nodes();
        return std::all_of(nodes.cbegin(), nodes.cend(),
                           [](const NodeInfo &n) { return n.state == NodeState::Idle; });
    }
    QString submitWithCheckpoint(const QString &url)
    {
        QJsonObject graph = samplerGraph(3);
        graph.insert(
            QStringLiteral("4"),
            QJsonObject{
                {QStringLiteral("class_type"), QStringLiteral("CheckpointLoaderSimple")},
                {QStringLiteral("inputs"), QJsonObject{{QStringLiteral("ckpt_name"), url}}}});
        const HttpReply reply =
            client->post(QStringLiteral("/workflow"),
                         QJsonObject{{QStringLiteral("type"), QStringLiteral("Raw")},
                                     {QStringLiteral("params"),
                                      QJsonObject{{QStringLiteral("prompt"), graph}}}});
        return reply.object().value(QLatin1String("id")).toString();
    }
    QJsonObject status(const QString &id)
    {
        return client->get(QStringLiteral("/workflow/") + id).object();
    }
    bool finished(const QString &id) const
    {
        const auto task = router->tasks().task(id);
        return task && task->isFinished();
    }

    SimCluster cluster;
    IsolatedSettings dirs;
    QString cacheDir;
    FileServer files;
    std::unique_ptr<Router> router;
    std::unique_ptr<server::ApiServer> api;
    std::unique_ptr<HttpClient> client;
};

} // namespace

class TestCacheApi : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void modelUrlIsDownloadedOnceLinkedAndRun();
    void downloadFailureEndsTheTask();
    void deleteCacheEntry();
    void urlsThatNameNoFileTypeAreLinkedWithOne();
};

void TestCacheApi::modelUrlIsDownloadedOnceLinkedAndRun()
{
    Harness h;
    QTRY_VERIFY(h.allIdle());
    FileServer::File model;
    model.size = 4 * MiB;
    model.chunkDelayMs = 5;
    h.files.addFile(QStringLiteral("/models/sd15.safetensors"), model);
    const QString url = h.files.url(QStringLiteral("/models/sd15.safetensors")).toString();
    QStringList ids;
    for (int i = 0; i < 8; ++i)
        ids << h.submitWithCheckpoint(url);
    QVERIFY(!ids.contains(QString()));

    // While the file arrives, the task says so, with the bytes.
    QJsonObject seen;
    QTRY_VERIFY_WITH_TIMEOUT((seen = h.status(ids.first()),
                              seen.value(QLatin1String("phase")) == QLatin1String("downloading") &&
                                  seen.value(QLatin1String("download"))
                                          .toObject()
                                          .value(QLatin1String("bytes_done"))
                                          .toDouble() > 0),
                             10000);
    QCOMPARE(seen.value(QLatin1String("status")).toString(), QStringLiteral("pending"));
    QCOMPARE(seen.value(QLatin1String("download"))
                 .toObject()
                 .value(QLatin1String("bytes_total"))
                 .toDouble(),
             double(4 * MiB));
    QCOMPARE(h.cluster.node(0).promptsReceived() + h.cluster.node(1).promptsReceived(),
             0); // nothing runs before its files

    for (const QString &id : ids) {
        QTRY_VERIFY_WITH_TIMEOUT(h.finished(id), 30000);
        // The node accepted the graph: the link was in its models folder when it checked.
        QCOMPARE(h.status(id).value(QLatin1String("status")).toString(), QStringLiteral("done"));
    }
    QCOMPARE(h.files.requests(QStringLiteral("/models/sd15.safetensors")), 1);

    const QJsonObject cache = h.client->get(QStringLiteral("/cache")).object();
    QCOMPARE(cache.value(QLatin1String("count")).toInt(), 1);
    QCOMPARE(cache.value(QLatin1String("total_bytes")).toDouble(), double(4 * MiB));
    QVERIFY(cache.value(QLatin1String("max_bytes")).toDouble() > 0);
    const QJsonObject entry = cache.value(QLatin1String("files")).toArray().first().toObject();
    QCOMPARE(entry.value(QLatin1String("url")).toString(), url);
    QCOMPARE(entry.value(QLatin1String("state")).toString(), QStringLiteral("ready"));
    QCOMPARE(entry.value(QLatin1String("tasks")).toInt(), 0); // all finished: evictable
    const QString file = entry.value(QLatin1String("file")).toString();
    QVERIFY(file.endsWith(QLatin1String("-sd15.safetensors")));
    const QJsonArray links = entry.value(QLatin1String("links")).toArray();
    QCOMPARE(links.size(), 1);
    const QFileInfo link(links.first().toString());
    QCOMPARE(link.absoluteFilePath(),
             QDir(h.cluster.sharedRoot())
                 .absoluteFilePath(QStringLiteral("models/checkpoints/") + file));
    QVERIFY(link.isSymLink());
    QCOMPARE(link.symLinkTarget(), QDir(h.cacheDir).absoluteFilePath(file));
    QCOMPARE(link.size(), 4 * MiB);
}

void TestCacheApi::downloadFailureEndsTheTask()
{
    Harness h(1);
    QTRY_VERIFY(h.allIdle());
    const QString url = h.files.url(QStringLiteral("/models/missing.safetensors")).toString();
    const QString id = h.submitWithCheckpoint(url);
    QTRY_VERIFY_WITH_TIMEOUT(h.finished(id), 10000);
    const QJsonObject status = h.status(id);
    QCOMPARE(status.value(QLatin1String("status")).toString(), QStringLiteral("error"));
    const QString message = status.value(QLatin1String("data")).toString();
    QVERIFY2(message.contains(url) && message.contains(QLatin1String("HTTP 404")),
             qPrintable(message));
    QCOMPARE(QDir(h.cacheDir).entryList(QDir::Files), QStringList()); // nothing half-written
    QCOMPARE(h.cluster.node(0).promptsReceived(), 0);
}

void TestCacheApi::deleteCacheEntry()
{
    Harness h(1);
    QTRY_VERIFY(h.allIdle());
    FileServer::File model;
    model.content = QByteArray(100000, 'm');
    h.files.addFile(QStringLiteral("/m.safetensors"), model);
    const QString url = h.files.url(QStringLiteral("/m.safetensors")).toString();
    h.cluster.node(0).setHang(true); // the task stays running, pinning its file
    const QString id = h.submitWithCheckpoint(url);
    QTRY_VERIFY_WITH_TIMEOUT(h.router->tasks().task(id)->status == TaskStatus::Running, 10000);

    const QString path =
        QStringLiteral("/cache?url=") + QString::fromLatin1(QUrl::toPercentEncoding(url));
    HttpReply reply = h.client->send("DELETE", path);
    QCOMPARE(reply.status, 409);
    QVERIFY(reply.message().contains(QLatin1String("in use")));
    QCOMPARE(h.client->send("DELETE", QStringLiteral("/cache")).status, 400);
    QCOMPARE(h.client->send("DELETE", QStringLiteral("/cache?url=http%3A%2F%2Fnowhere%2Fx")).status,
             404);
    QCOMPARE(h.client->send("DELETE", path, {}, false).status, 401);

    h.cluster.node(0).setHang(false);
    QTRY_VERIFY_WITH_TIMEOUT(h.finished(id), 10000);
    reply = h.client->send("DELETE", path);
    QCOMPARE(reply.status, 200);
    QCOMPARE(h.client->get(QStringLiteral("/cache")).object().value(QLatin1String("count")).toInt(),
             0);
    QCOMPARE(QDir(h.cacheDir).entryList(QDir::Files), QStringList());
}

void TestCacheApi::urlsThatNameNoFileTypeAreLinkedWithOne()
{
    // A model site's download URL and an image service's URL: no extension. ComfyUI lists only
    // files of known types in its folders, so they are linked as .safetensors and .png.
    Harness h(1);
    QTRY_VERIFY(h.allIdle());
    QFile png(h.cluster.sharedRoot() + QStringLiteral("/input/example.png"));
    QVERIFY(png.open(QIODevice::ReadOnly));
    h.files.addFile(QStringLiteral("/api/download/models/123"),
                    FileServer::withContent("a model without a type in its URL"));
    h.files.addFile(QStringLiteral("/image"), FileServer::withContent(png.readAll()));
    const QString model = h.files.url(QStringLiteral("/api/download/models/123")).toString();
    QUrl image = h.files.url(QStringLiteral("/image"));
    image.setQuery(QStringLiteral("id=7"));
    QJsonObject graph = samplerGraph(2);
    graph.insert(
        QStringLiteral("4"),
        QJsonObject{{QStringLiteral("class_type"), QStringLiteral("CheckpointLoaderSimple")},
                    {QStringLiteral("inputs"), QJsonObject{{QStringLiteral("ckpt_name"), model}}}});
    graph.insert(QStringLiteral("101"),
                 QJsonObject{{QStringLiteral("class_type"), QStringLiteral("LoadImage")},
                             {QStringLiteral("inputs"),
                              QJsonObject{{QStringLiteral("image"), image.toString()}}}});
    graph.insert(QStringLiteral("102"),
                 QJsonObject{{QStringLiteral("class_type"), QStringLiteral("SaveImage")},
                             {QStringLiteral("inputs"),
                              QJsonObject{{QStringLiteral("images"), QJsonArray{"101", 0}},
                                          {QStringLiteral("filename_prefix"), "typed"}}}});
    const HttpReply reply = h.client->post(
        QStringLiteral("/workflow"),
        QJsonObject{{QStringLiteral("type"), QStringLiteral("Raw")},
                    {QStringLiteral("params"), QJsonObject{{QStringLiteral("prompt"), graph}}}});
    QCOMPARE(reply.status, 200);
    const QString id = reply.object().value(QLatin1String("id")).toString();
    QTRY_VERIFY_WITH_TIMEOUT(h.finished(id), 20000);
    const auto task = h.router->tasks().task(id);
    QVERIFY2(task->status == TaskStatus::Done, qPrintable(task->error));
    QCOMPARE(task->images.size(), 2); // the sampler's picture and the loaded one
    // The names the graph sent to the node.
    const auto input = [&task](const QString &node, const QString &name) {
        return task->graph.value(node)
            .toObject()
            .value(QLatin1String("inputs"))
            .toObject()
            .value(name)
            .toString();
    };
    const QString ckpt = input(QStringLiteral("4"), QStringLiteral("ckpt_name"));
    const QString loaded = input(QStringLiteral("101"), QStringLiteral("image"));
    QVERIFY2(ckpt.endsWith(QLatin1String("-123.safetensors")), qPrintable(ckpt));
    QVERIFY2(loaded.endsWith(QLatin1String("-image.png")), qPrintable(loaded));
    QVERIFY(QFileInfo(h.cluster.sharedRoot() + QStringLiteral("/models/checkpoints/") + ckpt)
                .isSymLink());
    QVERIFY(QFileInfo(h.cluster.sharedRoot() + QStringLiteral("/input/") + loaded).isSymLink());
    // GET /cache names the links as they are.
    const QJsonArray entries =
        h.client->get(QStringLiteral("/cache")).object().value(QLatin1String("files")).toArray();
    QStringList links;
    for (const QJsonValue &entry : entries)
        for (const QJsonValue &link : entry.toObject().value(QLatin1String("links")).toArray())
            links << QFileInfo(link.toString()).fileName();
    QStringList expected{loaded, ckpt};
    links.sort();
    expected.sort();
    QCOMPARE(links, expected);
}

QTEST_GUILESS_MAIN(TestCacheApi)
#include "tst_cacheapi.moc"
