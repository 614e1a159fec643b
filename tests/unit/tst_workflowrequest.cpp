// POST /workflow bodies (api.md, "Workflows"): parseWorkflowRequest + buildGraph (Raw graphs
// through RawWorkflow::build). Any invalid payload is Error::Kind::Invalid naming the offending
// field; valid Raw graphs, such as every graph posted in the recordings, pass unchanged.
#include "workflows/objectinfo.h"
#include "workflows/rawworkflow.h"
#include "workflows/workflowrequest.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

using comfy::Error;
using comfy::RawWorkflow;
using comfy::WorkflowRequest;
using comfy::WorkflowType;

namespace {

// The recorded a_save_image graph: LoadImage -> ImageInvert -> SaveImage.
const char *const SaveImageGraph =
    R"({"1": {"class_type": "LoadImage", "inputs": {"image": "sample_in_a.png"}},)"
    R"( "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},)"
    R"( "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "sample_a"}}})";

QJsonObject object(const QByteArray &json)
{
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(json, &error);
    if (error.error != QJsonParseError::NoError || !document.isObject())
        qFatal("bad test JSON (%s): %s", qPrintable(error.errorString()), json.constData());
    return document.object();
}

QByteArray rawBody(const QByteArray &prompt)
{
    return R"({"type": "Raw", "params": {"prompt": )" + prompt + "}}";
}

QByteArray withOption(const QByteArray &option)
{
    return R"({"type": "Raw", "params": {"prompt": )" + QByteArray(SaveImageGraph) + "}, " +
           option + "}";
}

comfy::Result<QJsonObject> graphOf(const comfy::Result<comfy::BuiltWorkflow> &built)
{
    if (!built.ok())
        return built.error();
    return built.value().graph;
}

comfy::Result<QJsonObject> buildGraph(const WorkflowRequest &request)
{
    return graphOf(comfy::buildWorkflow(request, comfy::ObjectInfo::builtIn()));
}

// The whole path of a body: parsed, then built into the graph that runs on a node.
comfy::Result<QJsonObject> submit(const QJsonObject &body)
{
    const comfy::Result<WorkflowRequest> request = comfy::parseWorkflowRequest(body);
    if (!request.ok())
        return request.error();
    return buildGraph(request.value());
}

QJsonObject transcript(const QString &name)
{
    QFile file(QStringLiteral(COMFY_TEST_DATA "/comfyui/%1").arg(name));
    if (!file.open(QIODevice::ReadOnly))
        qFatal("cannot open %s", qPrintable(file.fileName()));
    return QJsonDocument::fromJson(file.readAll()).object();
}

} // namespace

class TestWorkflowRequest : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void invalidBodies_data();
    void invalidBodies();
    void recordedGraphs();
    void recordedDanglingLink();
    void validGraphs_data();
    void validGraphs();
    void rawUrlInputsAreDownloaded();
    void options_data();
    void options();
    void rawBuildAlone();
    void builtInTypesBuild_data();
    void builtInTypesBuild();
};

void TestWorkflowRequest::invalidBodies_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("field");

    const QByteArray g = SaveImageGraph;
    const QByteArray params = R"("params": {"prompt": )" + g + "}";

    // type
    QTest::newRow("empty body") << QByteArray("{}") << "type";
    QTest::newRow("type missing") << "{" + params + "}"
                                  << "type";
    QTest::newRow("type unknown") << R"({"type": "SD3", )" + params + "}"
                                  << "type";
    QTest::newRow("type in wrong case") << R"({"type": "raw", )" + params + "}"
                                        << "type";
    QTest::newRow("type empty") << R"({"type": "", )" + params + "}"
                                << "type";
    QTest::newRow("type not a string") << R"({"type": 4, )" + params + "}"
                                       << "type";
    QTest::newRow("type null") << R"({"type": null, )" + params + "}"
                               << "type";
    QTest::newRow("type a list") << R"({"type": ["Raw"], )" + params + "}"
                                 << "type";

    // params
    QTest::newRow("params missing") << QByteArray(R"({"type": "Raw"})") << "params";
    QTest::newRow("params null") << QByteArray(R"({"type": "Raw", "params": null})") << "params";
    QTest::newRow("params a list") << QByteArray(R"({"type": "Raw", "params": []})") << "params";
    QTest::newRow("params a string") << QByteArray(R"({"type": "Raw", "params": "x"})") << "params";
    QTest::newRow("params a number") << QByteArray(R"({"type": "SD15", "params": 1})") << "params";

    // priority
    QTest::newRow("priority a string") << withOption(R"("priority": "high")") << "priority";
    QTest::newRow("priority a numeric string") << withOption(R"("priority": "5")") << "priority";
    QTest::newRow("priority fractional") << withOption(R"("priority": 1.5)") << "priority";
    QTest::newRow("priority bool") << withOption(R"("priority": true)") << "priority";
    QTest::newRow("priority a list") << withOption(R"("priority": [1])") << "priority";
    QTest::newRow("priority an object") << withOption(R"("priority": {})") << "priority";
    QTest::newRow("priority beyond 32 bits")
        << withOption(R"("priority": 3000000000)") << "priority";
    QTest::newRow("priority far below") << withOption(R"("priority": -3000000000)") << "priority";
    QTest::newRow("priority huge") << withOption(R"("priority": 1e300)") << "priority";

    // node_labels
    QTest::newRow("node_labels a string") << withOption(R"("node_labels": "gpu")") << "node_labels";
    QTest::newRow("node_labels numbers") << withOption(R"("node_labels": [1, 2])") << "node_labels";
    QTest::newRow("node_labels with a null")
        << withOption(R"("node_labels": ["gpu", null])") << "node_labels";
    QTest::newRow("node_labels nested")
        << withOption(R"("node_labels": [["gpu"]])") << "node_labels";
    QTest::newRow("node_labels an object")
        << withOption(R"("node_labels": {"gpu": true})") << "node_labels";

    // webhook
    QTest::newRow("webhook ftp") << withOption(R"("webhook": "ftp://hooks.example.com/x")")
                                 << "webhook";
    QTest::newRow("webhook file") << withOption(R"("webhook": "file:///tmp/hook")") << "webhook";
    QTest::newRow("webhook no host") << withOption(R"("webhook": "http://")") << "webhook";
    QTest::newRow("webhook no host, with path")
        << withOption(R"("webhook": "http:///hook")") << "webhook";
    QTest::newRow("webhook no scheme")
        << withOption(R"("webhook": "hooks.example.com/x")") << "webhook";
    QTest::newRow("webhook scheme-relative")
        << withOption(R"("webhook": "//hooks.example.com/x")") << "webhook";
    QTest::newRow("webhook javascript")
        << withOption(R"x("webhook": "javascript:alert(1)")x") << "webhook";
    QTest::newRow("webhook not a url") << withOption(R"("webhook": "not a url")") << "webhook";
    QTest::newRow("webhook empty") << withOption(R"("webhook": "")") << "webhook";
    QTest::newRow("webhook a number") << withOption(R"("webhook": 42)") << "webhook";
    QTest::newRow("webhook an object")
        << withOption(R"("webhook": {"url": "https://hooks.example.com/x"})") << "webhook";

    // params.prompt (Raw)
    QTest::newRow("prompt missing")
        << QByteArray(R"({"type": "Raw", "params": {}})") << "params.prompt";
    QTest::newRow("prompt misspelt")
        << QByteArray(R"({"type": "Raw", "params": {"workflow": )" + g + "}}") << "params.prompt";
    QTest::newRow("prompt null") << rawBody("null") << "params.prompt";
    QTest::newRow("prompt a list") << rawBody("[]") << "params.prompt";
    QTest::newRow("prompt a string") << rawBody(R"("LoadImage")") << "params.prompt";
    QTest::newRow("prompt empty") << rawBody("{}") << "params.prompt";

    // graph nodes
    QTest::newRow("node a number") << rawBody(R"({"1": 5})") << "params.prompt.1";
    QTest::newRow("node a string") << rawBody(R"({"1": "LoadImage"})") << "params.prompt.1";
    QTest::newRow("node a list") << rawBody(R"({"1": ["LoadImage", {}]})") << "params.prompt.1";
    QTest::newRow("node null") << rawBody(R"({"1": null})") << "params.prompt.1";
    QTest::newRow("second node not an object")
        << rawBody(R"({"1": {"class_type": "LoadImage", "inputs": {"image": "a.png"}}, "7": true})")
        << "params.prompt.7";
    QTest::newRow("class_type missing")
        << rawBody(R"({"1": {"inputs": {}}})") << "params.prompt.1.class_type";
    QTest::newRow("class_type not a string")
        << rawBody(R"({"1": {"class_type": 5, "inputs": {}}})") << "params.prompt.1.class_type";
    QTest::newRow("class_type null")
        << rawBody(R"({"1": {"class_type": null, "inputs": {}}})") << "params.prompt.1.class_type";
    QTest::newRow("class_type empty")
        << rawBody(R"({"1": {"class_type": "", "inputs": {}}})") << "params.prompt.1.class_type";
    QTest::newRow("inputs a list")
        << rawBody(R"({"2": {"class_type": "ImageInvert", "inputs": []}})")
        << "params.prompt.2.inputs";
    QTest::newRow("inputs a string")
        << rawBody(R"({"2": {"class_type": "ImageInvert", "inputs": "image"}})")
        << "params.prompt.2.inputs";

    // links: ["node id", output index]
    QByteArray dangling = g;
    dangling.replace(R"("images": ["2", 0])", R"("images": ["9", 0])");
    QTest::newRow("link to a missing node") << rawBody(dangling) << "params.prompt.3.inputs.images";
    QByteArray negative = g;
    negative.replace(R"("images": ["2", 0])", R"("images": ["2", -1])");
    QTest::newRow("negative output index") << rawBody(negative) << "params.prompt.3.inputs.images";
    QByteArray fractional = g;
    fractional.replace(R"("images": ["2", 0])", R"("images": ["2", 0.5])");
    QTest::newRow("fractional output index")
        << rawBody(fractional) << "params.prompt.3.inputs.images";
    QByteArray selfless = g;
    selfless.replace(R"("image": ["1", 0])", R"("image": ["", 0])");
    QTest::newRow("link to an empty id") << rawBody(selfless) << "params.prompt.2.inputs.image";
}

void TestWorkflowRequest::invalidBodies()
{
    QFETCH(QByteArray, body);
    QFETCH(QString, field);
    const comfy::Result<QJsonObject> result = submit(object(body));
    QVERIFY2(!result.ok(), body.constData());
    QCOMPARE(result.error().kind, Error::Kind::Invalid);
    QCOMPARE(result.error().field, field);
    QVERIFY2(result.error().message.contains(field), qPrintable(result.error().message));
}

void TestWorkflowRequest::recordedGraphs()
{
    // Every graph the recordings posted to /prompt is a well-formed ComfyUI API graph (the
    // node itself rejected some for their classes or values, which is not ours to check),
    // except d_invalid_workflows' dangling link: that one names its field.
    int graphs = 0;
    const QStringList files = QDir(QStringLiteral(COMFY_TEST_DATA "/comfyui"))
                                  .entryList({QStringLiteral("*_*.json")}, QDir::Files);
    for (const QString &file : files) {
        for (const QJsonValue &value : transcript(file).value(QLatin1String("events")).toArray()) {
            const QJsonObject event = value.toObject();
            if (event.value(QLatin1String("method")).toString() != QLatin1String("POST") ||
                event.value(QLatin1String("path")).toString() != QLatin1String("/prompt"))
                continue;
            const QJsonValue prompt = event.value(QLatin1String("request_json"))
                                          .toObject()
                                          .value(QLatin1String("prompt"));
            if (!prompt.isObject())
                continue; // the "no prompt" and malformed-JSON probes
            const QJsonObject body{{"type", "Raw"}, {"params", QJsonObject{{"prompt", prompt}}}};
            const comfy::Result<QJsonObject> result = submit(body);
            const QString where = file + QStringLiteral(" seq ") +
                                  QString::number(event.value(QLatin1String("seq")).toInt());
            if (event.value(QLatin1String("note"))
                    .toString()
                    .startsWith(QLatin1String("link to a node"))) {
                QVERIFY2(!result.ok(), qPrintable(where));
                QCOMPARE(result.error().field, QStringLiteral("params.prompt.3.inputs.images"));
            } else {
                QVERIFY2(result.ok(),
                         qPrintable(where + QStringLiteral(": ") +
                                    (result.ok() ? QString() : result.error().message)));
                QCOMPARE(result.value(), prompt.toObject()); // unchanged
            }
            ++graphs;
        }
    }
    QCOMPARE(graphs, 35);
}

void TestWorkflowRequest::recordedDanglingLink()
{
    const QJsonObject workflows = transcript(QStringLiteral("d_invalid_workflows.json"))
                                      .value(QLatin1String("result"))
                                      .toObject()
                                      .value(QLatin1String("workflows"))
                                      .toObject();
    const QJsonObject badLink = workflows.value(QLatin1String("bad_link")).toObject();
    QVERIFY(!badLink.isEmpty());
    const comfy::Result<QJsonObject> result = graphOf(RawWorkflow::build({{"prompt", badLink}}));
    QVERIFY(!result.ok());
    QCOMPARE(result.error().kind, Error::Kind::Invalid);
    QCOMPARE(result.error().field, QStringLiteral("params.prompt.3.inputs.images"));
    QVERIFY2(result.error().message.contains(QLatin1String("9")),
             qPrintable(result.error().message));
}

void TestWorkflowRequest::validGraphs_data()
{
    QTest::addColumn<QByteArray>("prompt");
    QTest::newRow("recorded a_save_image") << QByteArray(SaveImageGraph);
    QTest::newRow("one node, no links")
        << QByteArray(R"({"1": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8,)"
                      R"( "batch_size": 1, "color": 0}}})");
    QTest::newRow("node without inputs")
        << QByteArray(R"({"1": {"class_type": "SomeCustomNode"}})");
    QTest::newRow("plain list values are not links")
        << QByteArray(R"({"1": {"class_type": "X", "inputs": {"size": [512, 768],)"
                      R"( "names": ["a", "b"], "triple": ["1", 0, 1], "empty": []}}})");
    QTest::newRow("non-numeric ids and forward links") << QByteArray(
        R"({"save": {"class_type": "SaveImage", "inputs": {"images": ["invert", 0]}},)"
        R"( "invert": {"class_type": "ImageInvert", "inputs": {"image": ["load", 0]}},)"
        R"( "load": {"class_type": "LoadImage", "inputs": {"image": "a.png"}}})");
    QTest::newRow("second output of a node") << QByteArray(
        R"({"4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "m.safetensors"}},)"
        R"( "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "x", "clip": ["4", 1]}}})");
    QTest::newRow("unicode and url strings") << QByteArray(
        R"({"1": {"class_type": "CheckpointLoaderSimple", "inputs":)"
        R"( {"ckpt_name": "SDXL/model.safetensors", "note": "été 東京 https://host/x.png"}}})");
}

void TestWorkflowRequest::validGraphs()
{
    QFETCH(QByteArray, prompt);
    const QJsonObject body = object(rawBody(prompt));
    const comfy::Result<WorkflowRequest> request = comfy::parseWorkflowRequest(body);
    QVERIFY2(request.ok(), request.ok() ? "" : qPrintable(request.error().message));
    QCOMPARE(request.value().type, WorkflowType::Raw);
    QCOMPARE(request.value().params, body.value(QLatin1String("params")).toObject());
    const comfy::Result<QJsonObject> graph = buildGraph(request.value());
    QVERIFY2(graph.ok(), graph.ok() ? "" : qPrintable(graph.error().message));
    QCOMPARE(graph.value(), object(prompt));
}

void TestWorkflowRequest::options_data()
{
    QTest::addColumn<QByteArray>("options");
    QTest::addColumn<int>("priority");
    QTest::addColumn<QStringList>("labels");
    QTest::addColumn<QString>("webhook");
    QTest::newRow("none") << QByteArray(R"("priority": null)") << 0 << QStringList{} << QString();
    QTest::newRow("priority high")
        << QByteArray(R"("priority": 5)") << 5 << QStringList{} << QString();
    QTest::newRow("priority negative")
        << QByteArray(R"("priority": -3)") << -3 << QStringList{} << QString();
    QTest::newRow("priority written as 7.0")
        << QByteArray(R"("priority": 7.0)") << 7 << QStringList{} << QString();
    QTest::newRow("labels") << QByteArray(R"("node_labels": ["gpu", "sdxl"])") << 0
                            << QStringList{"gpu", "sdxl"} << QString();
    QTest::newRow("labels empty") << QByteArray(R"("node_labels": [])") << 0 << QStringList{}
                                  << QString();
    QTest::newRow("webhook https") << QByteArray(R"("webhook": "https://hooks.example.com/cb?x=1")")
                                   << 0 << QStringList{} << "https://hooks.example.com/cb?x=1";
    QTest::newRow("webhook http with port")
        << QByteArray(R"("webhook": "http://127.0.0.1:9000/hook")") << 0 << QStringList{}
        << "http://127.0.0.1:9000/hook";
    QTest::newRow("all together")
        << QByteArray(R"("priority": 2, "node_labels": ["a"], "webhook": "http://h/x")") << 2
        << QStringList{"a"} << "http://h/x";
}

void TestWorkflowRequest::options()
{
    QFETCH(QByteArray, options);
    QFETCH(int, priority);
    QFETCH(QStringList, labels);
    QFETCH(QString, webhook);
    const comfy::Result<WorkflowRequest> request =
        comfy::parseWorkflowRequest(object(withOption(options)));
    QVERIFY2(request.ok(), request.ok() ? "" : qPrintable(request.error().message));
    QCOMPARE(request.value().priority, priority);
    QCOMPARE(request.value().nodeLabels, labels);
    QCOMPARE(request.value().webhook, webhook.isEmpty() ? QUrl() : QUrl(webhook));
    QVERIFY(buildGraph(request.value()).ok());
}

void TestWorkflowRequest::rawBuildAlone()
{
    const QJsonObject graph = object(SaveImageGraph);
    const comfy::Result<QJsonObject> ok = graphOf(RawWorkflow::build({{"prompt", graph}}));
    QVERIFY(ok.ok());
    QCOMPARE(ok.value(), graph);
    // Other params beside prompt are the caller's business.
    QVERIFY(RawWorkflow::build({{"prompt", graph}, {"extra", 1}}).ok());
    const comfy::Result<QJsonObject> missing = graphOf(RawWorkflow::build({}));
    QVERIFY(!missing.ok());
    QCOMPARE(missing.error().field, QStringLiteral("params.prompt"));
}

void TestWorkflowRequest::builtInTypesBuild_data()
{
    // The predefined types build their graphs (tests/workflows has every variant); a Flux
    // request with SD's fields names the first one it does not know.
    QTest::addColumn<QString>("type");
    QTest::addColumn<QString>("invalidField"); // empty: builds
    QTest::newRow("SD15") << "SD15" << QString();
    QTest::newRow("SDXL") << "SDXL" << QString();
    QTest::newRow("Flux with SD params") << "Flux"
                                         << "params.checkpoint";
}

void TestWorkflowRequest::builtInTypesBuild()
{
    QFETCH(QString, type);
    QFETCH(QString, invalidField);
    const QJsonObject body{
        {"type", type},
        {"params", QJsonObject{{"checkpoint", QJsonObject{{"type", "build_in"},
                                                          {"name", "v1-5-pruned.safetensors"}}},
                               {"prompt", "a castle"}}}};
    const comfy::Result<WorkflowRequest> request = comfy::parseWorkflowRequest(body);
    QVERIFY2(request.ok(), request.ok() ? "" : qPrintable(request.error().message));
    QCOMPARE(comfy::workflowTypeName(request.value().type), type);
    const comfy::Result<comfy::BuiltWorkflow> built =
        comfy::buildWorkflow(request.value(), comfy::ObjectInfo::builtIn());
    if (!invalidField.isEmpty()) {
        QVERIFY(!built.ok());
        QCOMPARE(built.error().kind, Error::Kind::Invalid);
        QCOMPARE(built.error().field, invalidField);
        return;
    }
    QVERIFY2(built.ok(), built.ok() ? "" : qPrintable(built.error().message));
    const QJsonObject graph = built.value().graph;
    QCOMPARE(graph.value("1").toObject().value("class_type").toString(),
             QStringLiteral("CheckpointLoaderSimple"));
    QVERIFY(built.value().seed.has_value()); // drawn at random, reported with the task
    QCOMPARE(built.value().samplerSteps.size(), 1);
}

void TestWorkflowRequest::rawUrlInputsAreDownloaded()
{
    const QJsonObject prompt = object(R"({
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "https://models.example/sd/v1-5.safetensors?rev=2"}},
        "2": {"class_type": "LoadImage", "inputs": {"image": "http://images.example/cat%20photo.png"}},
        "3": {"class_type": "CLIPTextEncode", "inputs": {"text": "https://not-a-file.example/", "clip": ["1", 1]}},
        "4": {"class_type": "UpscaleModelLoader", "inputs": {"model_name": "https://models.example/4x.pth"}},
        "5": {"class_type": "LoraLoader", "inputs": {"lora_name": "https://models.example/sd/v1-5.safetensors?rev=2", "model": ["1", 0], "clip": ["1", 1], "strength_model": 1, "strength_clip": 1}}
    })");
    const comfy::Result<comfy::BuiltWorkflow> built = RawWorkflow::build({{"prompt", prompt}});
    QVERIFY2(built.ok(), built.ok() ? "" : qPrintable(built.error().message));
    const QJsonObject graph = built.value().graph;
    auto input = [&graph](const char *node, const char *name) {
        return graph.value(QLatin1String(node))
            .toObject()
            .value(QLatin1String("inputs"))
            .toObject()
            .value(QLatin1String(name))
            .toString();
    };
    const QString checkpoint = input("1", "ckpt_name");
    QVERIFY2(checkpoint.endsWith(QLatin1String("-v1-5.safetensors")),
             qPrintable(checkpoint)); // extension kept
    QVERIFY(!checkpoint.contains(QLatin1Char('/')));
    QVERIFY(input("2", "image").endsWith(QLatin1String("-cat_photo.png")));
    QCOMPARE(input("3", "text"), QStringLiteral("https://not-a-file.example/")); // text stays text
    QVERIFY(input("4", "model_name").endsWith(QLatin1String("-4x.pth")));
    QCOMPARE(input("5", "lora_name"), checkpoint); // same URL, same file name
    const QList<comfy::FileToFetch> downloads = built.value().downloads;
    QStringList folders;
    for (const comfy::FileToFetch &file : downloads)
        folders << file.folder;
    folders.sort();
    // One file per (URL, folder): the LoRA folder gets its own copy of the same URL.
    QCOMPARE(folders,
             QStringList({"input", "models/checkpoints", "models/loras", "models/upscale_models"}));

    const comfy::Result<comfy::BuiltWorkflow> climbing = RawWorkflow::build(
        {{"prompt",
          object(
              R"({"1": {"class_type": "VAELoader", "inputs": {"vae_name": "http://host/a/../../etc/passwd"}}})")}});
    QVERIFY(!climbing.ok());
    QCOMPARE(climbing.error().field, QStringLiteral("params.prompt.1.inputs.vae_name"));
}

QTEST_GUILESS_MAIN(TestWorkflowRequest)
#include "tst_workflowrequest.moc"
