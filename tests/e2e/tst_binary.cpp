// The comfy-router executable itself: its command line, and --server --demo running 50 Raw
// tasks over two simulated nodes, as the README's demo does.
#include "fileserver.h"
#include "httpclient.h"

#include <QCryptographicHash>
#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QJsonArray>
#include <QProcess>
#include <QRegularExpression>
#include <QSet>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

using namespace testsupport;

namespace {
const QString Binary = QStringLiteral(COMFY_ROUTER_BINARY);

struct Run {
    int exitCode = -1;
    QString out;
    QString err;
};

Run runOnce(const QStringList &arguments,
            const QProcessEnvironment &env = QProcessEnvironment::systemEnvironment())
{
    QProcess process;
    process.setProcessEnvironment(env);
    process.start(Binary, arguments);
    process.waitForFinished(15000);
    return {process.exitCode(), QString::fromUtf8(process.readAllStandardOutput()),
            QString::fromUtf8(process.readAllStandardError())};
}

QStringList startArguments(const QTemporaryDir &dir, const QStringList &extra)
{
    return QStringList{QStringLiteral("--server"),
                       QStringLiteral("--host"),
                       QStringLiteral("127.0.0.1"),
                       QStringLiteral("--port"),
                       QStringLiteral("0"),
                       QStringLiteral("--download-cache-dir"),
                       dir.filePath(QStringLiteral("cache")),
                       QStringLiteral("--download-root-dir"),
                       dir.filePath(QStringLiteral("root")),
                       QStringLiteral("--download-record-path"),
                       dir.filePath(QStringLiteral("record.json")),
                       QStringLiteral("--data-dir"),
                       dir.filePath(QStringLiteral("data"))} +
           extra;
}

QUrl waitForListening(QProcess &router, QByteArray &log)
{
    const QRegularExpression listening(
        QStringLiteral("HTTP API listening on 127\\.0\\.0\\.1:(\\d+)"));
    QRegularExpressionMatch match;
    (void)QTest::qWaitFor(
        [&] {
            log += router.readAll();
            match = listening.match(QString::fromUtf8(log));
            return match.hasMatch();
        },
        10000);
    return match.hasMatch() ? QUrl(QStringLiteral("http://127.0.0.1:%1/").arg(match.captured(1)))
                            : QUrl();
}

// Starts the router on a free port with its state in `dir`; the URL of its API (invalid when it
// did not start listening; `log` then says why).
QUrl startRouter(QProcess &router, const QTemporaryDir &dir, QByteArray &log,
                 const QStringList &extra = {})
{
    router.setProcessChannelMode(QProcess::MergedChannels);
    router.start(Binary, startArguments(dir, extra));
    return waitForListening(router, log);
}
} // namespace

class TestBinary : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void helpAndVersion();
    void invalidSettingsStopStartWithExitCode2_data();
    void invalidSettingsStopStartWithExitCode2();
    void demoRunsFiftyTasksOverTwoSimulatedNodes();
    void killedMidDownloadLeavesNothingHalfWritten();
    void killedWithAHundredAcceptedTasksFinishesEachOnce();
    void sigtermStopsCleanlyAndTheNextStartContinues();

private:
    QTemporaryDir m_dir;
};

void TestBinary::helpAndVersion()
{
    Run run = runOnce({QStringLiteral("--help")});
    QCOMPARE(run.exitCode, 0);
    QVERIFY(run.out.contains(QLatin1String("COMFY_ROUTER__PENDING_LIMIT")));
    QVERIFY(run.out.contains(QLatin1String("--server")));
    run = runOnce({QStringLiteral("--version")});
    QCOMPARE(run.exitCode, 0);
    QVERIFY(run.out.startsWith(QLatin1String("comfy-router ")));
}

void TestBinary::invalidSettingsStopStartWithExitCode2_data()
{
    QTest::addColumn<QString>("variable");
    QTest::addColumn<QString>("value");
    QTest::newRow("port") << "COMFY_ROUTER__PORT"
                          << "eighty";
    QTest::newRow("pending limit") << "COMFY_ROUTER__PENDING_LIMIT"
                                   << "-1";
    QTest::newRow("health interval") << "COMFY_ROUTER__HEALTH__INTERVAL_MS"
                                     << "1s";
    QTest::newRow("env") << "COMFY_ROUTER__ENV"
                         << "staging";
}

void TestBinary::invalidSettingsStopStartWithExitCode2()
{
    QFETCH(QString, variable);
    QFETCH(QString, value);
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(variable, value);
    const Run run = runOnce({QStringLiteral("--server")}, env);
    QCOMPARE(run.exitCode, 2);
    QVERIFY2(run.err.contains(variable), qPrintable(run.err));
    const Run flag =
        runOnce({QStringLiteral("--server"), QStringLiteral("--port"), QStringLiteral("x")});
    QCOMPARE(flag.exitCode, 2);
    QVERIFY2(flag.err.contains(QLatin1String("--port")), qPrintable(flag.err));
}

void TestBinary::demoRunsFiftyTasksOverTwoSimulatedNodes()
{
    QProcess router;
    router.setProcessChannelMode(QProcess::MergedChannels);
    QByteArray log;
    router.start(Binary,
                 startArguments(m_dir, {QStringLiteral("--demo"),
                                        QStringLiteral("--demo-step-delay-ms"), QStringLiteral("1"),
                                        QStringLiteral("--pending-limit"), QStringLiteral("100"),
                                        QStringLiteral("--history-limit"), QStringLiteral("100")}));
    QVERIFY(router.waitForStarted(5000));
    const QRegularExpression listening(
        QStringLiteral("HTTP API listening on 127\\.0\\.0\\.1:(\\d+)"));
    QRegularExpressionMatch match;
    QTRY_VERIFY_WITH_TIMEOUT((log += router.readAll(),
                              match = listening.match(QString::fromUtf8(log)), match.hasMatch()),
                             10000);
    HttpClient client(QUrl(QStringLiteral("http://127.0.0.1:%1/").arg(match.captured(1))));

    auto nodes = [&client] {
        return client.get(QStringLiteral("/cluster/nodes"))
            .object()
            .value(QLatin1String("nodes"))
            .toArray();
    };
    QTRY_VERIFY_WITH_TIMEOUT(nodes().size() == 2 &&
                                 nodes().at(0)
                                         .toObject()
                                         .value(QLatin1String("status"))
                                         .toObject()
                                         .value(QLatin1String("status")) == QLatin1String("idle") &&
                                 nodes().at(1)
                                         .toObject()
                                         .value(QLatin1String("status"))
                                         .toObject()
                                         .value(QLatin1String("status")) == QLatin1String("idle"),
                             10000);
    for (const QJsonValue &node : nodes())
        QCOMPARE(node.toObject().value(QLatin1String("simulated")).toBool(), true);

    const QJsonObject graph{
        {QStringLiteral("1"),
         QJsonObject{{QStringLiteral("class_type"), QStringLiteral("LoadImage")},
                     {QStringLiteral("inputs"),
                      QJsonObject{{QStringLiteral("image"), QStringLiteral("example.png")}}}}},
        {QStringLiteral("2"),
         QJsonObject{{QStringLiteral("class_type"), QStringLiteral("ImageInvert")},
                     {QStringLiteral("inputs"),
                      QJsonObject{{QStringLiteral("image"), QJsonArray{QStringLiteral("1"), 0}}}}}},
        {QStringLiteral("3"),
         QJsonObject{{QStringLiteral("class_type"), QStringLiteral("SaveImage")},
                     {QStringLiteral("inputs"),
                      QJsonObject{{QStringLiteral("images"), QJsonArray{QStringLiteral("2"), 0}},
                                  {QStringLiteral("filename_prefix"), QStringLiteral("e2e")}}}}},
    };
    QStringList ids;
    for (int i = 0; i < 50; ++i) {
        const HttpReply reply =
            client.post(QStringLiteral("/workflow"),
                        QJsonObject{{QStringLiteral("type"), QStringLiteral("Raw")},
                                    {QStringLiteral("params"),
                                     QJsonObject{{QStringLiteral("prompt"), graph}}}});
        QCOMPARE(reply.status, 200);
        ids << reply.object().value(QLatin1String("id")).toString();
    }
    QSet<QString> usedNodes;
    for (const QString &id : ids) {
        QJsonObject status;
        QTRY_VERIFY_WITH_TIMEOUT(
            (status = client.get(QStringLiteral("/workflow/") + id).object(),
             status.value(QLatin1String("status")) == QLatin1String("done") ||
                 status.value(QLatin1String("status")) == QLatin1String("error")),
            30000);
        QCOMPARE(status.value(QLatin1String("status")).toString(), QStringLiteral("done"));
        const QJsonArray images = status.value(QLatin1String("data")).toArray();
        QCOMPARE(images.size(), 1);
        QVERIFY(QByteArray::fromBase64(images.first().toString().toLatin1()).startsWith("\x89PNG"));
        usedNodes.insert(status.value(QLatin1String("node")).toString());
    }
    QCOMPARE(usedNodes.size(), 2);

    log += router.readAll();
    const QString text = QString::fromUtf8(log);
    QVERIFY(text.contains(QLatin1String("SIMULATED ComfyUI node")));
    QCOMPARE(text.count(QRegularExpression(QStringLiteral("comfy\\.tasks: task \\S+ done after"))),
             50);
    router.terminate();
    QVERIFY(router.waitForFinished(5000));
}

void TestBinary::killedMidDownloadLeavesNothingHalfWritten()
{
    QTemporaryDir dir;
    FileServer files;
    FileServer::File model;
    model.size = 16 * 1024 * 1024;
    model.chunkDelayMs = 10; // about 2.5 s in all: long enough to be killed halfway
    files.addFile(QStringLiteral("/big.safetensors"), model);
    const QString url = files.url(QStringLiteral("/big.safetensors")).toString();
    const QJsonObject body{
        {QStringLiteral("type"), QStringLiteral("Raw")},
        {QStringLiteral("params"),
         QJsonObject{
             {QStringLiteral("prompt"),
              QJsonObject{{QStringLiteral("1"),
                           QJsonObject{{QStringLiteral("class_type"),
                                        QStringLiteral("CheckpointLoaderSimple")},
                                       {QStringLiteral("inputs"),
                                        QJsonObject{{QStringLiteral("ckpt_name"), url}}}}}}}}}};
    const QDir cache(dir.filePath(QStringLiteral("cache")));

    QProcess first;
    QByteArray log;
    const QUrl api = startRouter(first, dir, log);
    QVERIFY2(api.isValid(), log.constData());
    HttpClient client(api);
    const HttpReply accepted = client.post(QStringLiteral("/workflow"), body);
    QCOMPARE(accepted.status, 200);
    const QString id = accepted.object().value(QLatin1String("id")).toString();
    QString partial;
    QTRY_VERIFY_WITH_TIMEOUT(([&cache, &partial] {
                                 const QFileInfoList parts =
                                     cache.entryInfoList({QStringLiteral("*.part*")}, QDir::Files);
                                 partial = parts.isEmpty() ? QString() : parts.first().fileName();
                                 return !parts.isEmpty() && parts.first().size() > 1024 * 1024;
                             }()),
                             10000);
    first.kill(); // SIGKILL: no chance to clean up
    QVERIFY(first.waitForFinished(5000));

    QProcess second;
    log.clear();
    const QUrl again = startRouter(second, dir, log);
    QVERIFY2(again.isValid(), log.constData());
    QVERIFY(!cache.exists(partial)); // the half-written file is gone
    HttpClient client2(again);
    // The accepted task survived: it fetches its file again, whole, and waits for a node.
    const QJsonObject task = client2.get(QStringLiteral("/workflow/") + id).object();
    QCOMPARE(task.value(QLatin1String("status")).toString(), QStringLiteral("pending"));
    QJsonObject entry;
    QTRY_VERIFY_WITH_TIMEOUT((entry = client2.get(QStringLiteral("/cache"))
                                          .object()
                                          .value(QLatin1String("files"))
                                          .toArray()
                                          .first()
                                          .toObject(),
                              entry.value(QLatin1String("state")) == QLatin1String("ready")),
                             20000);
    const QByteArray expected =
        QCryptographicHash::hash(FileServer::pattern(0, model.size), QCryptographicHash::Sha256)
            .toHex();
    QCOMPARE(entry.value(QLatin1String("sha256")).toString().toLatin1(), expected);
    QCOMPARE(entry.value(QLatin1String("size")).toDouble(), double(model.size));
    QCOMPARE(cache.entryList(QDir::Files).size(), 1);
    second.kill();
    QVERIFY(second.waitForFinished(5000));
}

namespace {

QJsonObject saveImageBody()
{
    return QJsonDocument::fromJson(R"({"type": "Raw", "params": {"prompt": {
        "1": {"class_type": "LoadImage", "inputs": {"image": "example.png"}},
        "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
        "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "kill"}}}}})")
        .object();
}
} // namespace

void TestBinary::killedWithAHundredAcceptedTasksFinishesEachOnce()
{
    QTemporaryDir dir;
    const QStringList common{QStringLiteral("--demo"), QStringLiteral("--pending-limit"),
                             QStringLiteral("200"),    QStringLiteral("--history-limit"),
                             QStringLiteral("200"),    QStringLiteral("--health-interval-ms"),
                             QStringLiteral("100")};
    QProcess first;
    QByteArray firstLog;
    const QUrl api = startRouter(
        first, dir, firstLog,
        common + QStringList{QStringLiteral("--demo-step-delay-ms"), QStringLiteral("150")});
    QVERIFY2(api.isValid(), firstLog.constData());
    HttpClient client(api);
    QTRY_VERIFY_WITH_TIMEOUT(
        client.get(QStringLiteral("/cluster/nodes")).body.count("\"idle\"") == 2, 10000);
    QStringList ids;
    for (int i = 0; i < 100; ++i) {
        const HttpReply reply = client.post(QStringLiteral("/workflow"), saveImageBody());
        QCOMPARE(reply.status, 200);
        ids << reply.object().value(QLatin1String("id")).toString();
    }
    // Killed while some tasks are done, two run and the rest wait.
    QTRY_VERIFY_WITH_TIMEOUT(client.get(QStringLiteral("/workflow?status=done"))
                                     .object()
                                     .value(QLatin1String("total"))
                                     .toInt() >= 2,
                             20000);
    QCOMPARE(client.get(QStringLiteral("/workflow?status=running"))
                 .object()
                 .value(QLatin1String("total"))
                 .toInt(),
             2);
    first.kill();
    QVERIFY(first.waitForFinished(5000));
    firstLog += first.readAll();
    // What the kill left on disk: the tasks running then (usually the two seen above, but one
    // may have finished and the next not yet started when the kill came).
    QSet<QString> runningAtKill;
    {
        QSqlDatabase db =
            QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("peek"));
        db.setDatabaseName(dir.filePath(QStringLiteral("data/comfy-router.db")));
        QVERIFY(db.open());
        QSqlQuery query(db);
        QVERIFY(query.exec(QStringLiteral("SELECT id FROM tasks WHERE status = 1"))); // running
        while (query.next())
            runningAtKill.insert(query.value(0).toString());
    }
    QSqlDatabase::removeDatabase(QStringLiteral("peek"));
    QVERIFY2(runningAtKill.size() >= 1 && runningAtKill.size() <= 2,
             qPrintable(QString::number(runningAtKill.size())));

    QProcess second;
    QByteArray secondLog;
    const QUrl again = startRouter(
        second, dir, secondLog,
        common + QStringList{QStringLiteral("--demo-step-delay-ms"), QStringLiteral("1")});
    QVERIFY2(again.isValid(), secondLog.constData());
    HttpClient client2(again);
    for (const QString &id : ids) {
        QJsonObject status;
        QTRY_VERIFY_WITH_TIMEOUT((status = client2.get(QStringLiteral("/workflow/") + id).object(),
                                  status.value(QLatin1String("status")) == QLatin1String("done")),
                                 30000);
        QCOMPARE(status.value(QLatin1String("data")).toArray().size(), 1);
        // Those running at the kill ran again, once; no other ran twice.
        QCOMPARE(status.value(QLatin1String("attempts")).toInt(),
                 runningAtKill.contains(id) ? 2 : 1);
    }
    secondLog += second.readAll();
    // Exactly once: each task finished in one of the two runs, never in both. (The line is
    // logged after the task is written: a kill between the two loses the line, not the task.)
    const QString logs = QString::fromUtf8(firstLog + secondLog);
    int logged = 0;
    for (const QString &id : ids) {
        const qsizetype count = logs.count(QStringLiteral("task %1 done after").arg(id));
        QVERIFY2(count <= 1, qPrintable(id));
        logged += int(count);
    }
    QVERIFY(logged >= ids.size() - 1);
    second.terminate();
    QVERIFY(second.waitForFinished(5000));
}

void TestBinary::sigtermStopsCleanlyAndTheNextStartContinues()
{
    QTemporaryDir dir;
    QProcess router;
    QByteArray log;
    const QUrl api = startRouter(router, dir, log);
    QVERIFY2(api.isValid(), log.constData());
    HttpClient client(api);
    const QString id = client.post(QStringLiteral("/workflow"), saveImageBody())
                           .object()
                           .value(QLatin1String("id"))
                           .toString();
    QVERIFY(!id.isEmpty());
    QElapsedTimer stopping;
    stopping.start();
    router.terminate(); // SIGTERM
    QVERIFY(router.waitForFinished(5000));
    QVERIFY(stopping.elapsed() < 3000);
    QCOMPARE(router.exitStatus(), QProcess::NormalExit);
    QCOMPARE(router.exitCode(), 0);
    log += router.readAll();
    QVERIFY2(log.contains("stopping"), log.constData());

    QProcess next;
    QByteArray nextLog;
    const QUrl again = startRouter(
        next, dir, nextLog,
        {QStringLiteral("--demo"), QStringLiteral("--demo-step-delay-ms"), QStringLiteral("1")});
    QVERIFY2(again.isValid(), nextLog.constData());
    HttpClient client2(again);
    QTRY_VERIFY_WITH_TIMEOUT(
        client2.get(QStringLiteral("/workflow/") + id).object().value(QLatin1String("status")) ==
            QLatin1String("done"),
        15000);
    next.terminate();
    QVERIFY(next.waitForFinished(5000));
}

QTEST_GUILESS_MAIN(TestBinary)
#include "tst_binary.moc"
