// SD15, SDXL and Flux tasks end to end (issue 3): POST /workflow to the router's HTTP API in
// front of simulated ComfyUI nodes that share the router's root folder (models/ and input/),
// so that the inline images the router writes are the nodes' input files. Each variant runs
// to done with batch_size images of the requested size; a refiner's progress counts both
// sampler passes; a missing seed is drawn, reported and reproduces the graph.
#include "apiserver.h"
#include "httpclient.h"
#include "router/router.h"
#include "simcluster.h"
#include "workflowfixtures.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QTemporaryDir>
#include <QTest>
#include <QtEndian>

using namespace comfy;
using namespace testsupport;
using namespace fixtures;

namespace {

// The models the runnable requests name, in the shared models/ folder.
QStringList modelFiles()
{
    return buildInModelFiles() + QStringList{
                                     QStringLiteral("models/loras/pixel-art.safetensors"),
                                     QStringLiteral("models/controlnet/sd15_depth.pth"),
                                 };
}

struct Harness {
    explicit Harness(int nodes, int stepDelayMs = 5)
        : cluster(nodes, stepDelayMs, SimCluster::Layout::SharedModelsAndInput)
    {
        for (const QString &path : modelFiles())
            cluster.addModelFile(path);
        Settings settings;
        settings.healthIntervalMs = 50;
        settings.healthFailures = 2;
        settings.healthTimeoutMs = 1000;
        settings.nodes = cluster.urls();
        settings.downloadRootDir = cluster.sharedRoot();
        settings.downloadCacheDir = scratch.filePath(QStringLiteral("cache"));
        settings.downloadRecordPath = scratch.filePath(QStringLiteral("record.json"));
        settings.dataDir = scratch.filePath(QStringLiteral("data"));
        router = std::make_unique<Router>(settings);
        api = std::make_unique<server::ApiServer>(*router);
        const quint16 port = api->listen(QHostAddress::LocalHost, 0);
        client =
            std::make_unique<HttpClient>(QUrl(QStringLiteral("http://127.0.0.1:%1/").arg(port)));
    }
    bool allIdle() const
    {
        const auto nodes = router->nodes().nodes();
        return !nodes.isEmpty() && std::all_of(nodes.cbegin(), nodes.cend(), [](const NodeInfo &n) {
            return n.state == NodeState::Idle;
        });
    }
    HttpReply post(const QString &type, const QJsonObject &params)
    {
        return client->post(
            QStringLiteral("/workflow"),
            QJsonObject{{QStringLiteral("type"), type}, {QStringLiteral("params"), params}});
    }
    QString submit(const QString &type, const QJsonObject &params)
    {
        const HttpReply reply = post(type, params);
        if (reply.status != 200)
            qWarning() << "submit failed" << reply.status << reply.body;
        return reply.object().value(QLatin1String("id")).toString();
    }
    bool finished(const QString &id) const
    {
        const auto task = router->tasks().task(id);
        return task && task->isFinished();
    }
    QJsonObject status(const QString &id)
    {
        return client->get(QStringLiteral("/workflow/") + id).object();
    }

    QTemporaryDir scratch;
    SimCluster cluster;
    std::unique_ptr<Router> router;
    std::unique_ptr<server::ApiServer> api;
    std::unique_ptr<HttpClient> client;
};

QJsonObject with(QJsonObject params, const QJsonObject &more)
{
    for (auto it = more.begin(); it != more.end(); ++it)
        params.insert(it.key(), it.value());
    return params;
}

// The golden variants made quick and self-contained: small pictures, few steps, and the
// files the golden requests download named as build_in ones (downloads have their own tests).
QList<Variant> runnableVariants()
{
    QList<Variant> variants;
    for (Variant v : goldenVariants()) {
        const bool flux = v.type == QLatin1String("Flux");
        v.params = with(v.params, {{"width", flux ? 128 : 96}, {"height", 64}, {"steps", 4}});
        if (v.name == QLatin1String("sd15_loras")) {
            QJsonArray loras = v.params.value("loras").toArray();
            loras.replace(1, QJsonObject{{"model", buildIn("pixel-art.safetensors")}});
            v.params.insert("loras", loras);
        } else if (v.name == QLatin1String("sd15_controlnets")) {
            QJsonArray controlNets = v.params.value("controlnets").toArray();
            QJsonObject depth = controlNets.at(1).toObject();
            depth.insert("model", buildIn("sd15_depth.pth"));
            controlNets.replace(1, depth);
            v.params.insert("controlnets", controlNets);
        } else if (v.name == QLatin1String("flux_controlnet")) {
            QJsonArray controlNets = v.params.value("controlnets").toArray();
            QJsonObject cn = controlNets.at(0).toObject();
            cn.insert("image", base64Image(hintPng()));
            controlNets.replace(0, cn);
            v.params.insert("controlnets", controlNets);
        }
        variants << v;
    }
    return variants;
}

// The base64 images of a request, wherever they are.
QList<QByteArray> inlineImages(const QJsonValue &value)
{
    QList<QByteArray> images;
    if (value.isObject()) {
        const QJsonObject o = value.toObject();
        if (o.value("type").toString() == QLatin1String("base64"))
            images << QByteArray::fromBase64(o.value("content").toString().toLatin1());
        for (auto it = o.begin(); it != o.end(); ++it)
            images << inlineImages(it.value());
    } else if (value.isArray()) {
        for (const QJsonValue &item : value.toArray())
            images << inlineImages(item);
    }
    return images;
}

// Width and height from a PNG's IHDR; (0, 0) when the bytes are no PNG.
QSize pngSize(const QByteArray &png)
{
    if (png.size() < 24 || !png.startsWith("\x89PNG\r\n\x1a\n") || png.mid(12, 4) != "IHDR")
        return {};
    return QSize(int(qFromBigEndian<quint32>(png.constData() + 16)),
                 int(qFromBigEndian<quint32>(png.constData() + 20)));
}

} // namespace

class TestWorkflowRun : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void variantRunsToDone_data();
    void variantRunsToDone();
    void refinerProgressCountsBothPasses();
    void randomSeedIsReportedAndReproducible();
    void invalidRequestsQueueNothing_data();
    void invalidRequestsQueueNothing();
};

void TestWorkflowRun::variantRunsToDone_data()
{
    QTest::addColumn<QString>("type");
    QTest::addColumn<QJsonObject>("params");
    for (const Variant &v : runnableVariants())
        QTest::newRow(qPrintable(v.name)) << v.type << v.params;
}

void TestWorkflowRun::variantRunsToDone()
{
    QFETCH(QString, type);
    QFETCH(QJsonObject, params);
    Harness h(2);
    QTRY_VERIFY(h.allIdle());
    const QString id = h.submit(type, params);
    QVERIFY(!id.isEmpty());

    // Inline images are in input/ under their content-derived name before the task runs.
    const QList<QByteArray> images = inlineImages(params);
    for (const QByteArray &bytes : images) {
        QFile file(h.cluster.sharedRoot() + QStringLiteral("/input/") + inlineName(bytes));
        QVERIFY2(file.open(QIODevice::ReadOnly), qPrintable(file.fileName()));
        QCOMPARE(file.readAll(), bytes);
    }

    QTRY_VERIFY_WITH_TIMEOUT(h.finished(id), 30000);
    const QJsonObject status = h.status(id);
    QVERIFY2(status.value("status").toString() == QLatin1String("done"),
             qPrintable(status.value("data").toString()));
    QCOMPARE(status.value("type").toString(), type);
    QCOMPARE(status.value("seed"), params.value("seed"));
    const QJsonArray data = status.value("data").toArray();
    QCOMPARE(data.size(), params.value("batch_size").toInt(1));
    const QSize expected(params.value("width").toInt(), params.value("height").toInt());
    for (const QJsonValue &image : data) {
        const QByteArray png = QByteArray::fromBase64(image.toString().toLatin1());
        QCOMPARE(pngSize(png), expected); // a result, never a (JPEG) preview
    }
    QCOMPARE(status.value("images").toArray().size(), data.size());
}

void TestWorkflowRun::refinerProgressCountsBothPasses()
{
    Harness h(1, 40);
    QTRY_VERIFY(h.allIdle());
    const QJsonObject params{
        {"checkpoint", buildIn("SDXL/sd_xl_base_1.0.safetensors")},
        {"prompt", "a lighthouse"},
        {"width", 64},
        {"height", 64},
        {"steps", 10},
        {"refiner", QJsonObject{{"checkpoint", buildIn("SDXL/sd_xl_refiner_1.0.safetensors")},
                                {"switch_at", 0.5}}}};
    // Every progress the queue records, with the sampler node that made it. The context goes
    // first, so no signal reaches the lambda once its captures are gone.
    QList<QPair<double, QString>> seen;
    QString id;
    QObject context;
    connect(&h.router->tasks(), &TaskQueue::taskChanged, &context, [&](const QString &changed) {
        const auto task = h.router->tasks().task(changed);
        if (changed == id && task && task->status == TaskStatus::Running &&
            (seen.isEmpty() || seen.last().first != task->progress))
            seen.append({task->progress, task->executingNode});
    });
    id = h.submit(QStringLiteral("SDXL"), params);
    QVERIFY(!id.isEmpty());
    const Task queued = *h.router->tasks().task(id);
    QCOMPARE(queued.samplerSteps.size(), 2);
    QString base;
    QString refiner;
    for (auto it = queued.samplerSteps.cbegin(); it != queued.samplerSteps.cend(); ++it) {
        const QJsonObject inputs =
            queued.graph.value(it.key()).toObject().value("inputs").toObject();
        (inputs.value("add_noise").toString() == QLatin1String("enable") ? base : refiner) =
            it.key();
        QCOMPARE(it.value(), 5);
    }
    QVERIFY(!base.isEmpty() && !refiner.isEmpty());

    // While it runs, the API shows a progress strictly between 0 and 1 and a JPEG preview.
    QJsonObject running;
    QTRY_VERIFY_WITH_TIMEOUT(([&] {
                                 running = h.status(id);
                                 const QJsonObject data = running.value("data").toObject();
                                 const double progress = data.value("progress").toDouble();
                                 return running.value("status").toString() ==
                                            QLatin1String("running") &&
                                        progress > 0.0 && progress < 1.0 &&
                                        !data.value("previews").toArray().isEmpty();
                             }()),
                             15000);
    const QByteArray preview = QByteArray::fromBase64(
        running.value("data").toObject().value("previews").toArray().first().toString().toLatin1());
    QVERIFY(preview.startsWith("\xff\xd8\xff"));

    QTRY_VERIFY_WITH_TIMEOUT(h.finished(id), 30000);
    QCOMPARE(h.router->tasks().task(id)->status, TaskStatus::Done);
    QVERIFY(!seen.isEmpty());
    // The base pass covers the first half, the refiner the second: each step counts 1/10.
    bool baseHalf = false;
    bool refinerHalf = false;
    for (qsizetype i = 0; i < seen.size(); ++i) {
        const auto [progress, node] = seen.at(i);
        if (i > 0)
            QVERIFY2(progress >= seen.at(i - 1).first, "progress went back");
        if (node == base) {
            QVERIFY(progress > 0.0 && progress <= 0.5);
            baseHalf = true;
        } else if (node == refiner) {
            QVERIFY(progress > 0.5 && progress <= 1.0);
            refinerHalf |= progress < 1.0;
        }
    }
    QVERIFY(baseHalf);
    QVERIFY(refinerHalf);
    QCOMPARE(seen.last().first, 1.0);
    QCOMPARE(seen.last().second, refiner);

    const auto task = h.router->tasks().task(id);
    QCOMPARE(task->images.size(), 1);
    QCOMPARE(pngSize(task->images.first().data), QSize(64, 64));
}

void TestWorkflowRun::randomSeedIsReportedAndReproducible()
{
    Harness h(1);
    QTRY_VERIFY(h.allIdle());
    const QJsonObject params{{"unet", buildIn("flux1-schnell.safetensors")},
                             {"unet_type", "schnell"},
                             {"vae", buildIn("ae.safetensors")},
                             {"t5xxl", buildIn("t5xxl_fp16.safetensors")},
                             {"clip", buildIn("clip_l.safetensors")},
                             {"prompt", "a lighthouse"},
                             {"width", 64},
                             {"height", 64}};
    const QString first = h.submit(QStringLiteral("Flux"), params);
    QVERIFY(!first.isEmpty());
    const QJsonValue seed = h.status(first).value("seed");
    QVERIFY2(seed.isDouble(), "a drawn seed is reported at once");
    QTRY_VERIFY_WITH_TIMEOUT(h.finished(first), 30000);
    const QJsonObject done = h.status(first);
    QCOMPARE(done.value("status").toString(), QStringLiteral("done"));
    QCOMPARE(done.value("seed"), seed);

    const QString again = h.submit(QStringLiteral("Flux"), with(params, {{"seed", seed}}));
    QVERIFY(!again.isEmpty());
    QCOMPARE(h.status(again).value("seed"), seed);
    QCOMPARE(h.router->tasks().task(again)->graph, h.router->tasks().task(first)->graph);
    QTRY_VERIFY_WITH_TIMEOUT(h.finished(again), 30000);
    QCOMPARE(h.status(again).value("data"), done.value("data"));

    // Without a seed, another one.
    const QString other = h.submit(QStringLiteral("Flux"), params);
    QVERIFY(h.status(other).value("seed") != seed);
    QTRY_VERIFY_WITH_TIMEOUT(h.finished(other), 30000);
}

void TestWorkflowRun::invalidRequestsQueueNothing_data()
{
    QTest::addColumn<QString>("type");
    QTest::addColumn<QJsonObject>("params");
    QTest::addColumn<QString>("field");
    const QJsonObject sd{{"checkpoint", buildIn("sd15/v1-5-pruned-emaonly.safetensors")},
                         {"prompt", "x"}};
    QTest::newRow("steps as a string") << "SD15" << with(sd, {{"steps", "20"}}) << "params.steps";
    QTest::newRow("unknown sampler")
        << "SD15" << with(sd, {{"sampler", "euler_a"}}) << "params.sampler";
    QTest::newRow("mask without image")
        << "SD15" << with(sd, {{"input_mask", base64Image(maskPng())}}) << "params.input_mask";
    QTest::newRow("refiner leaves no step")
        << "SDXL"
        << with(sd, {{"refiner",
                      QJsonObject{{"checkpoint", buildIn("r.safetensors")}, {"switch_at", 1.0}}}})
        << "params.refiner.switch_at";
    QTest::newRow("controlnet image not an image")
        << "Flux"
        << QJsonObject{{"unet", buildIn("u.safetensors")},
                       {"vae", buildIn("v.safetensors")},
                       {"t5xxl", buildIn("t.safetensors")},
                       {"clip", buildIn("c.safetensors")},
                       {"prompt", "x"},
                       {"controlnets",
                        QJsonArray{
                            QJsonObject{{"model", buildIn("cn.safetensors")},
                                        {"image", QJsonObject{{"type", "base64"},
                                                              {"content", "aGVsbG8gd29ybGQ="}}}}}}}
        << "params.controlnets[0].image.content";
}

void TestWorkflowRun::invalidRequestsQueueNothing()
{
    QFETCH(QString, type);
    QFETCH(QJsonObject, params);
    QFETCH(QString, field);
    Harness h(0);
    const HttpReply reply = h.post(type, params);
    QCOMPARE(reply.status, 400);
    QVERIFY2(reply.message().startsWith(field + QStringLiteral(": ")), qPrintable(reply.message()));
    QCOMPARE(h.router->tasks().count(std::nullopt), 0);
    // Nothing written either.
    QCOMPARE(QDir(h.cluster.sharedRoot() + QStringLiteral("/input"))
                 .entryList(QDir::Files)
                 .filter(QStringLiteral("inline-"))
                 .size(),
             0);
}

QTEST_GUILESS_MAIN(TestWorkflowRun)
#include "tst_workflowrun.moc"
