// The router's HTTP API end to end: Router + ApiServer on 127.0.0.1:0 in front of simulated
// ComfyUI nodes.
#include "apiserver.h"
#include "httpclient.h"
#include "isolatedsettings.h"
#include "router/router.h"
#include "simcluster.h"
#include "tasks/taskjson.h"

#include <QDir>
#include <QFile>
#include <QHttpServer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSet>
#include <QSignalSpy>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTest>
#include <QWebSocket>

using namespace comfy;
using namespace testsupport;

namespace {

struct Harness {
    explicit Harness(int nodes, Settings settings = {}, int stepDelayMs = 5)
        : cluster(nodes, stepDelayMs)
    {
        settings.healthIntervalMs = 50;
        settings.healthFailures = 2;
        settings.healthTimeoutMs = 1000;
        settings.nodes = cluster.urls();
        router = std::make_unique<Router>(dirs.apply(settings));
        api = std::make_unique<server::ApiServer>(*router);
        const quint16 port = api->listen(QHostAddress::LocalHost, 0);
        client =
            std::make_unique<HttpClient>(QUrl(QStringLiteral("http://127.0.0.1:%1/").arg(port)));
    }
    bool allIdle() const
    {
        const auto nodes = router->nodes().nodes();
        return std::all_of(nodes.cbegin(), nodes.cend(),
                           [](const NodeInfo &n) { return n.state == NodeState::Idle; });
    }
    QString submit(const QJsonObject &graph, const QJsonObject &extra = {})
    {
        QJsonObject body{
            {QStringLiteral("type"), QStringLiteral("Raw")},
            {QStringLiteral("params"), QJsonObject{{QStringLiteral("prompt"), graph}}}};
        for (auto it = extra.begin(); it != extra.end(); ++it)
            body.insert(it.key(), it.value());
        const HttpReply reply = client->post(QStringLiteral("/workflow"), body);
        if (reply.status != 200)
            qWarning() << "submit failed" << reply.status << reply.body;
        return reply.object().value(QLatin1String("id")).toString();
    }
    TaskStatus statusOf(const QString &id) const
    {
        const auto task = router->tasks().task(id);
        return task ? task->status : TaskStatus::Cancelled;
    }
    bool finished(const QString &id) const
    {
        const auto task = router->tasks().task(id);
        return task && task->isFinished();
    }

    SimCluster cluster;
    IsolatedSettings dirs;
    std::unique_ptr<Router> router;
    std::unique_ptr<server::ApiServer> api;
    std::unique_ptr<HttpClient> client;
};

bool isPng(const QByteArray &bytes)
{
    return bytes.startsWith("\x89PNG\r\n\x1a\n");
}

} // namespace

class TestApi : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void healthCheckIsPublic();
    void authIsRequired();
    void unknownRouteAndWrongMethod();
    void trailingSlashIsIgnored();
    void badBodiesQueueNothing_data();
    void badBodiesQueueNothing();
    void rawSaveImageEndToEnd();
    void previewImageAndWebsocketOutputs();
    void progressAndPreviewWhileRunning();
    void nodeRejectionEndsTaskWithNodeErrors();
    void executionErrorEndsTask();
    void pendingLimitGives429();
    void cancelPendingAndRunning();
    void previewRouteIsPublicAndHidesResults();
    void clusterRoutes();
    void nodeGoingDownAndComingBack();
    void failoverStopsAtTheAttemptLimit();
    void rejectedGraphIsNotRetried();
    void hungNodeTimesOut();
    void droppedWebSocketDoesNotLoseTheTask();
    void restartKeepsNodesAndTasks();
    void imageFilesOfAnOlderDatabaseAreMovedIn();
    void promptRefusedWith5xxFailsOver();
    void webhookGetsTheFinalStatusOnce();
    void manyTasksSpreadOverNodes();
    void listTasks();
    void finishedTaskAnswerIsKeptUntilForgotten();
};

void TestApi::healthCheckIsPublic()
{
    Harness h(0);
    const HttpReply reply = h.client->get(QStringLiteral("/health_check"), false);
    QCOMPARE(reply.status, 200);
    QCOMPARE(reply.body, QByteArray("ok"));
    QVERIFY(reply.headers.value("content-type").startsWith("text/plain"));
}

void TestApi::authIsRequired()
{
    Harness h(0);
    HttpReply reply = h.client->get(QStringLiteral("/cluster/nodes"), false);
    QCOMPARE(reply.status, 401);
    QCOMPARE(reply.headers.value("www-authenticate"), QByteArray("Basic realm=\"comfy-router\""));
    QVERIFY(!reply.message().isEmpty());
    reply = h.client->send("GET", QStringLiteral("/cluster/nodes"), {}, true,
                           "Basic " + QByteArray("admin:wrong").toBase64());
    QCOMPARE(reply.status, 401);
    reply = h.client->send("GET", QStringLiteral("/cluster/nodes"), {}, true, "Bearer abc");
    QCOMPARE(reply.status, 401);
    reply = h.client->post(QStringLiteral("/workflow"), QByteArray("{}"), false);
    QCOMPARE(reply.status, 401); // auth before the body is looked at
    reply = h.client->get(QStringLiteral("/cluster/nodes"));
    QCOMPARE(reply.status, 200);

    Settings custom;
    custom.username = QStringLiteral("ops");
    custom.password = QStringLiteral("s3cret");
    Harness other(0, custom);
    QCOMPARE(other.client->get(QStringLiteral("/cluster/nodes")).status, 401);
    QCOMPARE(other.client
                 ->send("GET", QStringLiteral("/cluster/nodes"), {}, true,
                        "Basic " + QByteArray("ops:s3cret").toBase64())
                 .status,
             200);
}

void TestApi::unknownRouteAndWrongMethod()
{
    Harness h(0);
    HttpReply reply = h.client->get(QStringLiteral("/no/such/route"));
    QCOMPARE(reply.status, 404);
    QVERIFY(reply.message().contains(QLatin1String("/no/such/route")));
    reply = h.client->send("DELETE", QStringLiteral("/workflow"));
    QCOMPARE(reply.status, 405);
    QVERIFY(reply.headers.value("allow").contains("POST"));
    QVERIFY(reply.json.isObject());
    reply = h.client->get(QStringLiteral("/workflow/unknown-id"));
    QCOMPARE(reply.status, 404);
    QVERIFY(reply.message().contains(QLatin1String("unknown-id")));
}

void TestApi::trailingSlashIsIgnored()
{
    Harness h(0);
    QCOMPARE(h.client->get(QStringLiteral("/cluster/nodes/")).status, 200);
    QCOMPARE(h.client->get(QStringLiteral("/health_check/"), false).status, 200);
}

void TestApi::badBodiesQueueNothing_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("field");
    QTest::newRow("empty") << QByteArray() << "body";
    QTest::newRow("malformed") << QByteArray("{\"type\": ") << "body";
    QTest::newRow("array") << QByteArray("[1,2]") << "body";
    QTest::newRow("invalid utf-8") << QByteArray("{\"type\": \"Raw\xff\xfe\"}") << "";
    QTest::newRow("deep nesting") << QByteArray(5000, '[') << "body";
    QTest::newRow("no type") << QByteArray("{\"params\": {}}") << "type";
    QTest::newRow("unknown type") << QByteArray("{\"type\": \"SD3\", \"params\": {}}") << "type";
    QTest::newRow("type number") << QByteArray("{\"type\": 1, \"params\": {}}") << "type";
    QTest::newRow("no params") << QByteArray("{\"type\": \"Raw\"}") << "params";
    QTest::newRow("no prompt") << QByteArray("{\"type\": \"Raw\", \"params\": {}}")
                               << "params.prompt";
    QTest::newRow("prompt string")
        << QByteArray("{\"type\": \"Raw\", \"params\": {\"prompt\": \"x\"}}") << "params.prompt";
    QTest::newRow("no class_type")
        << QByteArray("{\"type\": \"Raw\", \"params\": {\"prompt\": {\"1\": {\"inputs\": {}}}}}")
        << "params.prompt.1.class_type";
    QTest::newRow("dangling link") << QByteArray("{\"type\": \"Raw\", \"params\": {\"prompt\": "
                                                 "{\"1\": {\"class_type\": \"SaveImage\", "
                                                 "\"inputs\": {\"images\": [\"9\", 0]}}}}}")
                                   << "params.prompt.1.inputs.images";
    QTest::newRow("priority string")
        << QByteArray("{\"type\": \"Raw\", \"priority\": \"1\", \"params\": {\"prompt\": {\"1\": "
                      "{\"class_type\": \"X\"}}}}")
        << "priority";
    QTest::newRow("webhook file")
        << QByteArray("{\"type\": \"Raw\", \"webhook\": \"file:///etc/passwd\", \"params\": "
                      "{\"prompt\": {\"1\": {\"class_type\": \"X\"}}}}")
        << "webhook";
}

void TestApi::badBodiesQueueNothing()
{
    QFETCH(QByteArray, body);
    QFETCH(QString, field);
    Harness h(0);
    const HttpReply reply = h.client->post(QStringLiteral("/workflow"), body);
    QCOMPARE(reply.status, 400);
    QVERIFY2(reply.json.isObject(), reply.body.constData());
    if (!field.isEmpty())
        QVERIFY2(reply.message().startsWith(field), qPrintable(reply.message()));
    QCOMPARE(h.router->tasks().count(std::nullopt), 0);
    QCOMPARE(
        h.client->get(QStringLiteral("/workflow")).object().value(QLatin1String("total")).toInt(),
        0);
}

void TestApi::rawSaveImageEndToEnd()
{
    Harness h(1);
    QTRY_VERIFY(h.allIdle());
    const QString id = h.submit(saveImageGraph());
    QVERIFY(!id.isEmpty());
    QTRY_VERIFY_WITH_TIMEOUT(h.finished(id), 10000);

    const HttpReply reply = h.client->get(QStringLiteral("/workflow/") + id);
    QCOMPARE(reply.status, 200);
    const QJsonObject status = reply.object();
    QCOMPARE(status.value(QLatin1String("id")).toString(), id);
    QCOMPARE(status.value(QLatin1String("type")).toString(), QStringLiteral("Raw"));
    QCOMPARE(status.value(QLatin1String("status")).toString(), QStringLiteral("done"));
    QCOMPARE(status.value(QLatin1String("phase")).toString(), QStringLiteral("finished"));
    QCOMPARE(status.value(QLatin1String("node")).toString(), h.cluster.urls().first());
    QVERIFY(!status.value(QLatin1String("prompt_id")).toString().isEmpty());
    QCOMPARE(status.value(QLatin1String("attempts")).toInt(), 1);
    QVERIFY(!status.value(QLatin1String("finished_at")).toString().isEmpty());
    const QJsonArray data = status.value(QLatin1String("data")).toArray();
    QCOMPARE(data.size(), 1);
    const QByteArray png = QByteArray::fromBase64(data.first().toString().toLatin1());
    QVERIFY(isPng(png));
    const QJsonArray urls = status.value(QLatin1String("images")).toArray();
    QCOMPARE(urls.size(), 1);
    const HttpReply image = h.client->get(urls.first().toString());
    QCOMPARE(image.status, 200);
    QCOMPARE(image.headers.value("content-type"), QByteArray("image/png"));
    QCOMPARE(image.body, png);
    QCOMPARE(h.client->get(QStringLiteral("/workflow/%1/images/1").arg(id)).status, 404);
    QVERIFY(h.allIdle()); // the node is free again
}

void TestApi::previewImageAndWebsocketOutputs()
{
    Harness h(1);
    QTRY_VERIFY(h.allIdle());
    const QString id = h.submit(previewAndWebsocketGraph());
    QTRY_VERIFY_WITH_TIMEOUT(h.finished(id), 10000);
    const auto task = h.router->tasks().task(id);
    QCOMPARE(taskStatusName(task->status), QStringLiteral("done"));
    // One PreviewImage output (fetched with /view) and three SaveImageWebsocket frames.
    QCOMPARE(task->images.size(), 4);
    for (const OutputImage &image : task->images) {
        QVERIFY(isPng(image.data));
        QCOMPARE(image.mimeType, QByteArray("image/png"));
    }
}

void TestApi::progressAndPreviewWhileRunning()
{
    Harness h(1, {}, 30);
    QTRY_VERIFY(h.allIdle());
    const QString id = h.submit(samplerGraph(20));
    QJsonObject seen;
    QTRY_VERIFY_WITH_TIMEOUT(
        ([&] {
            seen = h.client->get(QStringLiteral("/workflow/") + id).object();
            const QJsonObject data = seen.value(QLatin1String("data")).toObject();
            return seen.value(QLatin1String("status")).toString() == QLatin1String("running") &&
                   data.value(QLatin1String("progress")).toDouble() > 0.1 &&
                   !data.value(QLatin1String("previews")).toArray().isEmpty();
        }()),
        10000);
    const QJsonObject data = seen.value(QLatin1String("data")).toObject();
    QVERIFY(data.value(QLatin1String("progress")).toDouble() < 1.0);
    QCOMPARE(data.value(QLatin1String("previews")).toArray().size(), 1); // the latest only
    const QByteArray preview = QByteArray::fromBase64(
        data.value(QLatin1String("previews")).toArray().first().toString().toLatin1());
    QVERIFY(preview.startsWith("\xff\xd8\xff")); // samplers preview as JPEG
    QCOMPARE(seen.value(QLatin1String("phase")).toString(), QStringLiteral("executing"));
    QTRY_VERIFY_WITH_TIMEOUT(h.finished(id), 15000);
    const auto task = h.router->tasks().task(id);
    QCOMPARE(task->status, TaskStatus::Done);
    QCOMPARE(task->images.size(), 1); // the result, never the previews
    QVERIFY(isPng(task->images.first().data));
}

void TestApi::nodeRejectionEndsTaskWithNodeErrors()
{
    Harness h(1);
    QTRY_VERIFY(h.allIdle());
    QJsonObject graph = saveImageGraph();
    QJsonObject load = graph.value(QLatin1String("1")).toObject();
    load.insert(QStringLiteral("inputs"),
                QJsonObject{{QStringLiteral("image"), QStringLiteral("missing.png")}});
    graph.insert(QStringLiteral("1"), load);
    const QString id = h.submit(graph);
    QTRY_VERIFY_WITH_TIMEOUT(h.finished(id), 10000);
    const QJsonObject status = h.client->get(QStringLiteral("/workflow/") + id).object();
    QCOMPARE(status.value(QLatin1String("status")).toString(), QStringLiteral("error"));
    const QString message = status.value(QLatin1String("data")).toString();
    QVERIFY2(message.contains(QLatin1String("rejected")), qPrintable(message));
    QVERIFY2(message.contains(QLatin1String("node 1 (LoadImage)")), qPrintable(message));
    QVERIFY2(message.contains(QLatin1String("missing.png")), qPrintable(message));
    QVERIFY2(message.contains(h.cluster.urls().first()), qPrintable(message));
    QTRY_VERIFY(h.allIdle());
}

void TestApi::executionErrorEndsTask()
{
    Harness h(1);
    QTRY_VERIFY(h.allIdle());
    h.cluster.node(0).setFailNextPrompts(1, QStringLiteral("CUDA out of memory"));
    const QString id = h.submit(saveImageGraph());
    QTRY_VERIFY_WITH_TIMEOUT(h.finished(id), 10000);
    const auto task = h.router->tasks().task(id);
    QCOMPARE(task->status, TaskStatus::Error);
    QVERIFY2(task->error.contains(QLatin1String("CUDA out of memory")), qPrintable(task->error));
    QVERIFY2(task->error.contains(QLatin1String("execution error")), qPrintable(task->error));
    // The node is usable again: the next task succeeds.
    const QString next = h.submit(saveImageGraph());
    QTRY_VERIFY_WITH_TIMEOUT(h.finished(next), 10000);
    QCOMPARE(h.statusOf(next), TaskStatus::Done);
}

void TestApi::pendingLimitGives429()
{
    Settings settings;
    settings.pendingLimit = 3;
    Harness h(2, settings);
    QTRY_VERIFY(h.allIdle());
    h.cluster.node(0).setHang(true);
    h.cluster.node(1).setHang(true);
    QStringList ids;
    for (int i = 0; i < 5; ++i)
        ids << h.submit(saveImageGraph());
    QVERIFY(!ids.contains(QString()));
    QCOMPARE(h.router->tasks().runningCount(), 2);
    QCOMPARE(h.router->tasks().pendingCount(), 3);
    const HttpReply full =
        h.client->post(QStringLiteral("/workflow"),
                       QJsonObject{{QStringLiteral("type"), QStringLiteral("Raw")},
                                   {QStringLiteral("params"),
                                    QJsonObject{{QStringLiteral("prompt"), saveImageGraph()}}}});
    QCOMPARE(full.status, 429);
    QVERIFY(full.message().contains(QLatin1String("queue is full")));
    QCOMPARE(h.router->tasks().count(std::nullopt), 5);
    // Pending tasks report how many are ahead of them.
    QCOMPARE(h.client->get(QStringLiteral("/workflow/") + ids[2])
                 .object()
                 .value(QLatin1String("data"))
                 .toInt(),
             0);
    QCOMPARE(h.client->get(QStringLiteral("/workflow/") + ids[4])
                 .object()
                 .value(QLatin1String("data"))
                 .toInt(),
             2);
    h.cluster.node(0).setHang(false);
    h.cluster.node(1).setHang(false);
    for (const QString &id : ids)
        QTRY_VERIFY_WITH_TIMEOUT(h.finished(id), 10000);
    for (const QString &id : ids)
        QCOMPARE(h.statusOf(id), TaskStatus::Done);
}

void TestApi::cancelPendingAndRunning()
{
    Harness h(1, {}, 50);
    QTRY_VERIFY(h.allIdle());
    const QString running = h.submit(samplerGraph(200));
    const QString pending = h.submit(saveImageGraph());
    QTRY_VERIFY_WITH_TIMEOUT(h.router->tasks().task(running)->phase == TaskPhase::Executing, 5000);
    HttpReply reply =
        h.client->post(QStringLiteral("/workflow/%1/cancel").arg(pending), QByteArray());
    QCOMPARE(reply.status, 200);
    QCOMPARE(reply.object().value(QLatin1String("status")).toString(), QStringLiteral("cancelled"));
    QCOMPARE(reply.object().value(QLatin1String("data")), QJsonValue(QJsonValue::Null));
    reply = h.client->post(QStringLiteral("/workflow/%1/cancel").arg(running), QByteArray());
    QCOMPARE(reply.status, 200);
    QCOMPARE(h.statusOf(running), TaskStatus::Cancelled);
    // The node interrupts the prompt and becomes free for the next task.
    QTRY_VERIFY_WITH_TIMEOUT(h.allIdle(), 5000);
    reply = h.client->post(QStringLiteral("/workflow/%1/cancel").arg(running), QByteArray());
    QCOMPARE(reply.status, 409);
    QCOMPARE(h.client->post(QStringLiteral("/workflow/nope/cancel"), QByteArray()).status, 404);
    const QString next = h.submit(saveImageGraph());
    QTRY_VERIFY_WITH_TIMEOUT(h.finished(next), 10000);
    QCOMPARE(h.statusOf(next), TaskStatus::Done);
}

void TestApi::previewRouteIsPublicAndHidesResults()
{
    Harness h(1);
    QTRY_VERIFY(h.allIdle());
    const QString id = h.submit(saveImageGraph());
    QTRY_VERIFY_WITH_TIMEOUT(h.finished(id), 10000);
    const HttpReply reply = h.client->get(QStringLiteral("/preview/") + id, false);
    QCOMPARE(reply.status, 200);
    QCOMPARE(reply.headers.value("access-control-allow-origin"), QByteArray("*"));
    const QJsonObject status = reply.object();
    QCOMPARE(status.value(QLatin1String("status")).toString(), QStringLiteral("done"));
    QCOMPARE(status.value(QLatin1String("data")).toArray().size(), 0);
    QVERIFY(!status.contains(QLatin1String("node")));
    QVERIFY(!status.contains(QLatin1String("prompt_id")));
    QVERIFY(!reply.body.contains("127.0.0.1"));
    const HttpReply preflight =
        h.client->send("OPTIONS", QStringLiteral("/preview/") + id, {}, false);
    QCOMPARE(preflight.status, 204);
    QCOMPARE(preflight.headers.value("access-control-allow-origin"), QByteArray("*"));
    QCOMPARE(h.client->get(QStringLiteral("/preview/unknown"), false).status, 404);
}

void TestApi::clusterRoutes()
{
    Harness h(0);
    SimCluster extra(1);
    const QString url = extra.urls().first();
    HttpReply reply =
        h.client->post(QStringLiteral("/cluster/nodes"), QJsonObject{{QStringLiteral("url"), url}});
    QCOMPARE(reply.status, 200);
    QCOMPARE(reply.object().value(QLatin1String("url")).toString(), url);
    // A new node is checked at once.
    QTRY_VERIFY_WITH_TIMEOUT(h.allIdle() && !h.router->nodes().nodes().isEmpty(), 3000);
    QCOMPARE(
        h.client->post(QStringLiteral("/cluster/nodes"), QJsonObject{{QStringLiteral("url"), url}})
            .status,
        200);
    QCOMPARE(h.router->nodes().nodes().size(), 1); // adding again is a no-op
    // Without the trailing slash it is the same node.
    QString noSlash = url;
    noSlash.chop(1);
    QCOMPARE(
        h.client
            ->post(QStringLiteral("/cluster/nodes"), QJsonObject{{QStringLiteral("url"), noSlash}})
            .status,
        200);
    QCOMPARE(h.router->nodes().nodes().size(), 1);

    reply = h.client->get(QStringLiteral("/cluster/nodes"));
    const QJsonObject node =
        reply.object().value(QLatin1String("nodes")).toArray().first().toObject();
    QCOMPARE(node.value(QLatin1String("url")).toString(), url);
    QCOMPARE(
        node.value(QLatin1String("status")).toObject().value(QLatin1String("status")).toString(),
        QStringLiteral("idle"));
    QVERIFY(
        node.value(QLatin1String("status")).toObject().value(QLatin1String("cache")).isObject());
    QVERIFY(node.contains(QLatin1String("task")));
    QVERIFY(node.contains(QLatin1String("last_check")));
    QVERIFY(node.contains(QLatin1String("failures")));
    QVERIFY(node.contains(QLatin1String("queue_remaining")));
    QTRY_VERIFY(h.router->nodes().nodes().first().simulated); // it says so in /system_stats

    for (const char *bad : {"ftp://host/", "not a url", "http://", "file:///tmp"})
        QCOMPARE(h.client
                     ->post(QStringLiteral("/cluster/nodes"),
                            QJsonObject{{QStringLiteral("url"), QString::fromLatin1(bad)}})
                     .status,
                 400);
    reply = h.client->post(QStringLiteral("/cluster/nodes"), QJsonObject{});
    QCOMPARE(reply.status, 400);
    QVERIFY(reply.message().startsWith(QLatin1String("url")));

    QCOMPARE(
        h.client
            ->post(QStringLiteral("/cluster/nodes/delete"),
                   QJsonObject{{QStringLiteral("url"), QStringLiteral("http://10.9.9.9:8188")}})
            .status,
        404);
    extra.node(0).setHang(true);
    const QString id = h.submit(saveImageGraph());
    QTRY_COMPARE(h.statusOf(id), TaskStatus::Running);
    reply = h.client->post(QStringLiteral("/cluster/nodes/delete"),
                           QJsonObject{{QStringLiteral("url"), url}});
    QCOMPARE(reply.status, 409);
    extra.node(0).setHang(false);
    QTRY_VERIFY_WITH_TIMEOUT(h.finished(id), 10000);
    QTRY_VERIFY(h.allIdle());
    QCOMPARE(h.client
                 ->post(QStringLiteral("/cluster/nodes/delete"),
                        QJsonObject{{QStringLiteral("url"), url}})
                 .status,
             200);
    QCOMPARE(h.client->get(QStringLiteral("/cluster/nodes"))
                 .object()
                 .value(QLatin1String("nodes"))
                 .toArray()
                 .size(),
             0);
}

void TestApi::nodeGoingDownAndComingBack()
{
    Harness h(2, {}, 40);
    QTRY_VERIFY(h.allIdle());
    const QString id = h.submit(samplerGraph(200));
    QTRY_VERIFY_WITH_TIMEOUT(h.router->tasks().task(id)->phase == TaskPhase::Executing, 5000);
    const QUrl firstUrl = h.router->tasks().task(id)->node;
    const int index = int(h.cluster.urls().indexOf(firstUrl.toString()));
    QVERIFY(index >= 0);
    h.cluster.node(index).goDown();
    // The task moves to the other node and finishes there.
    QTRY_VERIFY_WITH_TIMEOUT(h.router->tasks().task(id)->attempts == 2, 20000);
    h.cluster.node(1 - index).setStepDelayMs(1);
    QTRY_VERIFY_WITH_TIMEOUT(h.finished(id), 20000);
    const QJsonObject status = h.client->get(QStringLiteral("/workflow/") + id).object();
    QCOMPARE(status.value(QLatin1String("status")).toString(), QStringLiteral("done"));
    QCOMPARE(status.value(QLatin1String("attempts")).toInt(), 2);
    QVERIFY(status.value(QLatin1String("node")).toString() != firstUrl.toString());
    const QJsonArray attempts = status.value(QLatin1String("attempt_errors")).toArray();
    QCOMPARE(attempts.size(), 1);
    QVERIFY2(attempts.first().toString().contains(firstUrl.toString()),
             qPrintable(attempts.first().toString()));
    QTRY_VERIFY_WITH_TIMEOUT(h.router->nodes().node(firstUrl)->state == NodeState::Offline, 5000);
    QVERIFY(h.router->nodes().node(firstUrl)->failures >= 2);
    // One good check makes it usable again.
    QVERIFY(h.cluster.node(index).comeUp());
    QTRY_VERIFY_WITH_TIMEOUT(h.router->nodes().node(firstUrl)->state == NodeState::Idle, 5000);
    QCOMPARE(h.router->nodes().node(firstUrl)->failures, 0);
}

void TestApi::failoverStopsAtTheAttemptLimit()
{
    Settings settings;
    settings.taskMaxAttempts = 2;
    Harness h(2, settings, 40);
    QTRY_VERIFY(h.allIdle());
    const QString id = h.submit(samplerGraph(300));
    QStringList downed;
    for (int attempt = 1; attempt <= 2; ++attempt) {
        QTRY_VERIFY_WITH_TIMEOUT(h.router->tasks().task(id)->attempts == attempt &&
                                     h.router->tasks().task(id)->phase == TaskPhase::Executing,
                                 20000);
        const QString url = h.router->tasks().task(id)->node.toString();
        downed << url;
        h.cluster.node(int(h.cluster.urls().indexOf(url))).goDown();
    }
    QTRY_VERIFY_WITH_TIMEOUT(h.finished(id), 20000);
    const auto task = h.router->tasks().task(id);
    QCOMPARE(task->status, TaskStatus::Error);
    QCOMPARE(task->attempts, 2);
    for (const QString &url : downed) // every attempt's reason
        QVERIFY2(task->error.contains(url), qPrintable(task->error));
}

void TestApi::rejectedGraphIsNotRetried()
{
    Harness h(2);
    QTRY_VERIFY(h.allIdle());
    QJsonObject graph = saveImageGraph();
    graph.insert(QStringLiteral("2"),
                 QJsonObject{{QStringLiteral("class_type"), QStringLiteral("ImageInvert")},
                             {QStringLiteral("inputs"), QJsonObject{}}});
    const QString id = h.submit(graph);
    QTRY_VERIFY_WITH_TIMEOUT(h.finished(id), 10000);
    QCOMPARE(h.router->tasks().task(id)->status, TaskStatus::Error);
    QCOMPARE(h.router->tasks().task(id)->attempts, 1);
    QCOMPARE(h.cluster.node(0).promptsReceived() + h.cluster.node(1).promptsReceived(), 0);
}

void TestApi::hungNodeTimesOut()
{
    Settings settings;
    settings.taskTimeoutS = 1;
    Harness h(1, settings);
    QTRY_VERIFY(h.allIdle());
    h.cluster.node(0).setHang(true);
    const QString id = h.submit(saveImageGraph());
    QTRY_VERIFY_WITH_TIMEOUT(h.finished(id), 5000);
    const auto task = h.router->tasks().task(id);
    QCOMPARE(task->status, TaskStatus::Error);
    QVERIFY2(task->error.contains(QLatin1String("timed out after 1 s")), qPrintable(task->error));
    QVERIFY(task->startedAt.msecsTo(task->finishedAt) < 2500); // not much past its timeout
    QTRY_VERIFY(h.allIdle());                                  // the node is not held
    h.cluster.node(0).setHang(false);
    const QString next = h.submit(saveImageGraph());
    QTRY_VERIFY_WITH_TIMEOUT(h.finished(next), 10000);
    QCOMPARE(h.statusOf(next), TaskStatus::Done);
}

void TestApi::droppedWebSocketDoesNotLoseTheTask()
{
    Harness h(1, {}, 20);
    QTRY_VERIFY(h.allIdle());
    const QString id = h.submit(samplerGraph(100));
    QTRY_VERIFY_WITH_TIMEOUT(h.router->tasks().task(id)->phase == TaskPhase::Executing, 5000);
    h.cluster.node(0).dropWebSockets();
    QTRY_VERIFY_WITH_TIMEOUT(h.finished(id), 15000);
    const auto task = h.router->tasks().task(id);
    QCOMPARE(task->status, TaskStatus::Done); // reconnected: same node, same attempt
    QCOMPARE(task->attempts, 1);
    QCOMPARE(task->images.size(), 1);
}

void TestApi::restartKeepsNodesAndTasks()
{
    SimCluster cluster(1);
    IsolatedSettings dirs;
    Settings settings = dirs.apply({});
    settings.healthIntervalMs = 50;
    QString doneId;
    QStringList pending;
    const QJsonObject body{
        {QStringLiteral("type"), QStringLiteral("Raw")},
        {QStringLiteral("params"), QJsonObject{{QStringLiteral("prompt"), saveImageGraph()}}}};
    {
        Router router(settings);
        QVERIFY(router.nodes().addNode(cluster.urls().first(), {QStringLiteral("big-gpu")}).ok());
        QTRY_VERIFY(router.nodes().nodes().first().state == NodeState::Idle);
        doneId = router.submit(body).value();
        QTRY_VERIFY_WITH_TIMEOUT(router.tasks().task(doneId)->status == TaskStatus::Done, 10000);
        cluster.node(0).goDown(); // the rest stay pending
        QTRY_VERIFY_WITH_TIMEOUT(router.nodes().nodes().first().state == NodeState::Offline, 5000);
        for (int i = 0; i < 3; ++i)
            pending << router.submit(body).value();
    }
    QVERIFY(cluster.node(0).comeUp());
    Router router(settings);
    QCOMPARE(router.nodes().nodes().size(), 1); // the cluster is remembered
    QCOMPARE(router.nodes().nodes().first().labels, QStringList{QStringLiteral("big-gpu")});
    const auto done = router.tasks().task(doneId); // history readable, images from disk
    QVERIFY(done);
    QCOMPARE(done->status, TaskStatus::Done);
    QCOMPARE(done->images.size(), 1);
    QVERIFY(done->images.first().data.startsWith("\x89PNG"));
    QCOMPARE(router.tasks().pendingIds(), pending); // in order
    for (const QString &id : pending)
        QTRY_VERIFY_WITH_TIMEOUT(router.tasks().task(id)->status == TaskStatus::Done, 10000);
}

void TestApi::imageFilesOfAnOlderDatabaseAreMovedIn()
{
    SimCluster cluster(1);
    IsolatedSettings dirs;
    Settings settings = dirs.apply({});
    settings.healthIntervalMs = 50;
    settings.nodes = cluster.urls();
    QString id;
    QByteArray png;
    {
        Router router(settings);
        QTRY_VERIFY(router.nodes().nodes().first().state == NodeState::Idle);
        id = router
                 .submit({{QStringLiteral("type"), QStringLiteral("Raw")},
                          {QStringLiteral("params"),
                           QJsonObject{{QStringLiteral("prompt"), saveImageGraph()}}}})
                 .value();
        QTRY_VERIFY_WITH_TIMEOUT(router.tasks().task(id)->status == TaskStatus::Done, 10000);
        png = router.tasks().task(id)->images.first().data;
    }
    // Make it what an older version left: the image as a file, listed in tasks.images.
    const QString data = dirs.path(QStringLiteral("data"));
    QVERIFY(QDir().mkpath(data + QStringLiteral("/images/") + id));
    {
        QFile file(data + QStringLiteral("/images/") + id + QStringLiteral("/0.png"));
        QVERIFY(file.open(QIODevice::WriteOnly) && file.write(png) == png.size());
    }
    const auto sql = [&data](const QString &statement, const QString &id) {
        QSqlDatabase db =
            QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("older"));
        db.setDatabaseName(data + QStringLiteral("/comfy-router.db"));
        bool ok = db.open();
        QSqlQuery query(db);
        ok = ok && query.prepare(statement);
        query.addBindValue(id);
        ok = ok && query.exec();
        const QVariant value = query.next() ? query.value(0) : QVariant();
        query.finish();
        db.close();
        db = {};
        QSqlDatabase::removeDatabase(QStringLiteral("older"));
        return ok ? value : QVariant(QStringLiteral("sql failed"));
    };
    QVERIFY(sql(QStringLiteral("DELETE FROM task_images WHERE task_id = ?"), id).isNull());
    QVERIFY(sql(QStringLiteral("UPDATE tasks SET images = "
                               "'[{\"file\":\"0.png\",\"mime\":\"image/png\"}]' WHERE id = ?"),
                id)
                .isNull());

    Router router(settings);
    const auto task = router.tasks().task(id);
    QVERIFY(task);
    QCOMPARE(task->images.size(), 1);
    QCOMPARE(task->images.first().data, png);
    QCOMPARE(task->images.first().mimeType, QByteArray("image/png"));
    QVERIFY(!QDir(data + QStringLiteral("/images")).exists()); // moved, not copied
    QCOMPARE(sql(QStringLiteral("SELECT length(data) FROM task_images WHERE task_id = ?"), id)
                 .toLongLong(),
             png.size());
    QCOMPARE(sql(QStringLiteral("SELECT images FROM tasks WHERE id = ?"), id).toString(),
             QStringLiteral("[]"));
}

void TestApi::manyTasksSpreadOverNodes()
{
    Settings settings;
    settings.pendingLimit = 100;
    settings.historyLimit = 100;
    Harness h(2, settings);
    QTRY_VERIFY(h.allIdle());
    QSignalSpy sockets0(&h.cluster.node(0), &simnode::SimulatedNode::webSocketConnected);
    QSignalSpy sockets1(&h.cluster.node(1), &simnode::SimulatedNode::webSocketConnected);
    QStringList ids;
    for (int i = 0; i < 50; ++i)
        ids << h.submit(saveImageGraph(QStringLiteral("many%1").arg(i)));
    QVERIFY(!ids.contains(QString()));
    QSet<QUrl> used;
    for (const QString &id : ids) {
        QTRY_VERIFY_WITH_TIMEOUT(h.finished(id), 20000);
        const auto task = h.router->tasks().task(id);
        QCOMPARE(task->status, TaskStatus::Done);
        QCOMPARE(task->images.size(), 1);
        used.insert(task->node);
    }
    QCOMPARE(used.size(), 2);
    QCOMPARE(h.cluster.node(0).promptsReceived() + h.cluster.node(1).promptsReceived(), 50);
    // One websocket per node for all 50 tasks, still open for the next ones.
    QCOMPARE(sockets0.size(), 1);
    QCOMPARE(sockets1.size(), 1);
    QCOMPARE(h.cluster.node(0).connectedClientIds().size(), 1);
    QCOMPARE(h.cluster.node(1).connectedClientIds().size(), 1);
}

void TestApi::listTasks()
{
    Harness h(1);
    QTRY_VERIFY(h.allIdle());
    const QString first = h.submit(saveImageGraph());
    const QString second = h.submit(saveImageGraph());
    QTRY_VERIFY_WITH_TIMEOUT(h.finished(first) && h.finished(second), 10000);
    HttpReply reply = h.client->get(QStringLiteral("/workflow"));
    QCOMPARE(reply.status, 200);
    QJsonArray tasks = reply.object().value(QLatin1String("tasks")).toArray();
    QCOMPARE(tasks.size(), 2);
    QCOMPARE(tasks.at(0).toObject().value(QLatin1String("id")).toString(), second); // newest first
    QCOMPARE(reply.object().value(QLatin1String("total")).toInt(), 2);
    reply = h.client->get(QStringLiteral("/workflow?limit=1&offset=1&status=done"));
    tasks = reply.object().value(QLatin1String("tasks")).toArray();
    QCOMPARE(tasks.size(), 1);
    QCOMPARE(tasks.at(0).toObject().value(QLatin1String("id")).toString(), first);
    QCOMPARE(h.client->get(QStringLiteral("/workflow?status=bogus")).status, 400);
    QCOMPARE(h.client->get(QStringLiteral("/workflow?limit=0")).status, 400);
}

void TestApi::finishedTaskAnswerIsKeptUntilForgotten()
{
    Settings settings;
    settings.historyLimit = 1;
    Harness h(1, settings);
    QTRY_VERIFY(h.allIdle());
    const QString first = h.submit(saveImageGraph(QStringLiteral("kept")));
    QTRY_VERIFY_WITH_TIMEOUT(h.finished(first), 10000);
    const HttpReply once = h.client->get(QStringLiteral("/workflow/") + first);
    const HttpReply again = h.client->get(QStringLiteral("/workflow/") + first);
    QCOMPARE(once.status, 200);
    QCOMPARE(again.status, 200);
    QCOMPARE(again.headers.value("content-type"), QByteArray("application/json"));
    QCOMPARE(again.body, once.body); // the kept answer is the task as it is
    const auto task = h.router->tasks().task(first);
    QCOMPARE(again.body, QJsonDocument(taskToJson(*task, -1)).toJson(QJsonDocument::Compact));
    QCOMPARE(again.object().value(QLatin1String("status")).toString(), QStringLiteral("done"));
    // Pushed out of the history by the next task: gone, whatever was kept.
    const QString second = h.submit(saveImageGraph(QStringLiteral("pushes")));
    QTRY_VERIFY_WITH_TIMEOUT(h.finished(second), 10000);
    QTRY_VERIFY(!h.router->tasks().task(first));
    QCOMPARE(h.client->get(QStringLiteral("/workflow/") + first).status, 404);
    QCOMPARE(h.client->get(QStringLiteral("/workflow/") + second).status, 200);
    // On disk too: the forgotten task's images went with its row; the kept one's are there.
    {
        QSqlDatabase db =
            QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("peek"));
        db.setDatabaseName(h.dirs.path(QStringLiteral("data/comfy-router.db")));
        QVERIFY(db.open());
        QSqlQuery count(db);
        QVERIFY(count.exec(QStringLiteral("SELECT task_id, length(data) FROM task_images")));
        QVERIFY(count.next());
        QCOMPARE(count.value(0).toString(), second);
        QCOMPARE(count.value(1).toLongLong(),
                 h.router->tasks().task(second)->images.first().data.size());
        QVERIFY(!count.next());
    }
    QSqlDatabase::removeDatabase(QStringLiteral("peek"));
}

namespace {
// A node that is up (health checks, websocket) but refuses every prompt with 503, as a
// ComfyUI behind an overloaded proxy does.
class RefusingNode {
public:
    RefusingNode()
    {
        m_http.route(QStringLiteral("/queue"), [] {
            return QHttpServerResponse(
                QJsonObject{{QStringLiteral("queue_running"), QJsonArray()},
                            {QStringLiteral("queue_pending"), QJsonArray()}});
        });
        m_http.route(QStringLiteral("/system_stats"),
                     [] { return QHttpServerResponse(QJsonObject()); });
        m_http.route(QStringLiteral("/prompt"), [this] {
            ++prompts;
            return QHttpServerResponse(QByteArrayLiteral("text/plain"),
                                       QByteArrayLiteral("overloaded"),
                                       QHttpServerResponse::StatusCode::ServiceUnavailable);
        });
        m_http.route(QStringLiteral("/ws"), [](QHttpServerResponder &&) {});
        QObject::connect(&m_http, &QAbstractHttpServer::newWebSocketConnection, &m_http, [this] {
            while (auto socket =
                       std::unique_ptr<QWebSocket>(m_http.nextPendingWebSocketConnection()))
                m_sockets.push_back(std::move(socket));
        });
        port = m_http.listen(QHostAddress::LocalHost, 0);
    }
    QString url() const { return QStringLiteral("http://127.0.0.1:%1/").arg(port); }
    int prompts = 0;
    quint16 port = 0;

private:
    QHttpServer m_http;
    std::vector<std::unique_ptr<QWebSocket>> m_sockets;
};
} // namespace

void TestApi::promptRefusedWith5xxFailsOver()
{
    // A 5xx is the node's fault, not the graph's: the task is tried again (on whichever node is
    // free: here the same one), up to the attempt limit, and each refusal is kept.
    RefusingNode refusing;
    Settings settings;
    settings.taskMaxAttempts = 2;
    Harness h(0, settings);
    QVERIFY(h.router->nodes().addNode(refusing.url()).ok());
    QTRY_VERIFY(h.allIdle());
    const QString id = h.submit(saveImageGraph());
    QTRY_VERIFY_WITH_TIMEOUT(h.finished(id), 10000);
    const auto task = h.router->tasks().task(id);
    QCOMPARE(task->status, TaskStatus::Error);
    QCOMPARE(task->attempts, 2);
    QCOMPARE(refusing.prompts, 2);
    QCOMPARE(task->attemptErrors.size(), 2);
    QVERIFY2(task->error.count(QLatin1String("HTTP 503")) == 2, qPrintable(task->error));

    // With a healthy node beside it, the refused task ends there.
    SimCluster good(1);
    QVERIFY(h.router->nodes().addNode(good.urls().first()).ok());
    QTRY_VERIFY(h.allIdle());
    const QString next = h.submit(saveImageGraph());
    QTRY_VERIFY_WITH_TIMEOUT(h.finished(next), 10000);
    QCOMPARE(h.router->tasks().task(next)->status, TaskStatus::Done);
    QCOMPARE(h.router->tasks().task(next)->node.toString(), good.urls().first());
}

void TestApi::webhookGetsTheFinalStatusOnce()
{
    QHttpServer receiver;
    QList<QJsonObject> received;
    receiver.route(QStringLiteral("/hook"), [&received](const QHttpServerRequest &request) {
        received.append(QJsonDocument::fromJson(request.body()).object());
        return QHttpServerResponse(QHttpServerResponse::StatusCode::Ok);
    });
    const quint16 port = receiver.listen(QHostAddress::LocalHost, 0);
    const QJsonObject webhook{
        {QStringLiteral("webhook"), QStringLiteral("http://127.0.0.1:%1/hook").arg(port)}};
    Harness h(1);
    QTRY_VERIFY(h.allIdle());
    const QString done = h.submit(saveImageGraph(), webhook);
    QTRY_COMPARE_WITH_TIMEOUT(received.size(), 1, 10000);
    QCOMPARE(received.at(0).value(QLatin1String("id")).toString(), done);
    QCOMPARE(received.at(0).value(QLatin1String("status")).toString(), QStringLiteral("done"));
    QCOMPARE(received.at(0).value(QLatin1String("data")).toArray().size(), 1); // the image itself
    h.cluster.node(0).setFailNextPrompts(1, QStringLiteral("boom"));
    const QString failed = h.submit(saveImageGraph(), webhook);
    QTRY_COMPARE_WITH_TIMEOUT(received.size(), 2, 10000);
    QCOMPARE(received.at(1).value(QLatin1String("id")).toString(), failed);
    QCOMPARE(received.at(1).value(QLatin1String("status")).toString(), QStringLiteral("error"));
    QVERIFY(received.at(1).value(QLatin1String("data")).toString().contains(QLatin1String("boom")));
    // One POST per task, not one per change: a third task without a webhook sends nothing.
    const QString quiet = h.submit(saveImageGraph());
    QTRY_VERIFY_WITH_TIMEOUT(h.finished(quiet), 10000);
    QVERIFY(!QTest::qWaitFor([&received] { return received.size() > 2; }, 300));
}

QTEST_GUILESS_MAIN(TestApi)
#include "tst_api.moc"
