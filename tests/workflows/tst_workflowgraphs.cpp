// The predefined SD15, SDXL and Flux graphs (issue 3): the exact graph of every variant
// (golden files in tests/data/golden; COMFY_UPDATE_GOLDEN=1 rewrites them), each accepted by
// the simulated node's copy of ComfyUI's validate_prompt and by an independent check against
// object_info, and the rules behind them (defaults, refiner split, Resize and Fill, seeds).
#include "catalog.h"
#include "graphcheck.h"
#include "validation.h"
#include "workflowfixtures.h"
#include "workflows/graphbuilder.h"
#include "workflows/imagecheck.h"
#include "workflows/objectinfo.h"
#include "workflows/workflowrequest.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>

using namespace fixtures;

namespace {

comfy::Result<comfy::BuiltWorkflow> build(const QString &type, const QJsonObject &params)
{
    const comfy::Result<comfy::WorkflowRequest> request = comfy::parseWorkflowRequest(
        {{QStringLiteral("type"), type}, {QStringLiteral("params"), params}});
    if (!request)
        return request.error();
    return comfy::buildWorkflow(request.value(), comfy::ObjectInfo::builtIn());
}

Variant variant(const QString &name)
{
    const QList<Variant> all = goldenVariants();
    const auto it = std::find_if(all.cbegin(), all.cend(),
                                 [&name](const Variant &v) { return v.name == name; });
    if (it == all.cend())
        qFatal("no variant %s", qPrintable(name));
    return *it;
}

QJsonObject node(const QJsonObject &graph, const QString &id)
{
    return graph.value(id).toObject();
}

QJsonObject inputsOf(const QJsonObject &graph, const QString &id)
{
    return node(graph, id).value(QLatin1String("inputs")).toObject();
}

// The ids of a class's nodes, in id order.
QStringList idsOf(const QJsonObject &graph, const QString &classType)
{
    QStringList ids;
    for (auto it = graph.begin(); it != graph.end(); ++it) {
        if (it.value().toObject().value(QLatin1String("class_type")).toString() == classType)
            ids << it.key();
    }
    std::sort(ids.begin(), ids.end(),
              [](const QString &a, const QString &b) { return a.toInt() < b.toInt(); });
    return ids;
}

QStringList nodeOrder(const QJsonObject &graph)
{
    QStringList ids = graph.keys();
    std::sort(ids.begin(), ids.end(),
              [](const QString &a, const QString &b) { return a.toInt() < b.toInt(); });
    return ids;
}

QString compact(const QJsonValue &value)
{
    return QString::fromUtf8(QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact));
}

// What a golden file records of a build: the request, the graph and what the task needs.
QJsonObject goldenOf(const Variant &v, const comfy::BuiltWorkflow &built)
{
    QJsonObject steps;
    for (auto it = built.samplerSteps.cbegin(); it != built.samplerSteps.cend(); ++it)
        steps.insert(it.key(), it.value());
    QJsonArray downloads;
    for (const comfy::FileToFetch &file : built.downloads)
        downloads.append(QJsonObject{{"url", file.url.toString()},
                                     {"folder", file.folder},
                                     {"file", file.fileName},
                                     {"field", file.field}});
    QJsonArray inlineFiles;
    for (const comfy::FileToWrite &file : built.inlineFiles)
        inlineFiles.append(QJsonObject{
            {"folder", file.folder}, {"file", file.fileName}, {"bytes", file.data.size()}});
    return {{"type", v.type},
            {"request", v.params},
            {"graph", built.graph},
            {"sampler_steps", steps},
            {"seed", built.seed ? QJsonValue(*built.seed) : QJsonValue()},
            {"downloads", downloads},
            {"inline_files", inlineFiles}};
}

// The differing nodes of two graphs, one line each, for a readable failure.
QString graphDiff(const QJsonObject &expected, const QJsonObject &actual)
{
    QStringList ids = expected.keys() + actual.keys();
    ids.removeDuplicates();
    QStringList lines;
    for (const QString &id : ids) {
        if (expected.value(id) != actual.value(id))
            lines << QStringLiteral("node %1:\n  golden: %2\n  built:  %3")
                         .arg(id, compact(expected.value(id)), compact(actual.value(id)));
    }
    return lines.join(QLatin1Char('\n'));
}

void writeFile(const QString &path, const QByteArray &bytes)
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile file(path);
    QVERIFY2(file.open(QIODevice::WriteOnly), qPrintable(path));
    QCOMPARE(file.write(bytes), bytes.size());
}

// A ComfyUI root holding what a built graph names: the golden build_in models, and the files
// the router would download or write for it.
void prepareRoot(const QString &root, const comfy::BuiltWorkflow &built)
{
    for (const QString &path : buildInModelFiles())
        writeFile(root + QLatin1Char('/') + path, "model");
    for (const comfy::FileToFetch &file : built.downloads)
        writeFile(root + QLatin1Char('/') + file.folder + QLatin1Char('/') + file.fileName,
                  file.folder == QLatin1String("input") ? photoPng() : QByteArray("model"));
    for (const comfy::FileToWrite &file : built.inlineFiles)
        writeFile(root + QLatin1Char('/') + file.folder + QLatin1Char('/') + file.fileName,
                  file.data);
}

} // namespace

class TestWorkflowGraphs : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void golden_data() { addVariantRows(); }
    void golden();
    void acceptedBySimulatedNode_data() { addVariantRows(); }
    void acceptedBySimulatedNode();
    void independentCheck_data() { addVariantRows(); }
    void independentCheck();
    void checkerFindsBrokenGraphs();
    void defaults_data();
    void defaults();
    void denoiseChoosesTheInpaintPath();
    void refinerSplitsSteps_data();
    void refinerSplitsSteps();
    void resizeModes();
    void preprocessorParams();
    void randomSeedWhenMissing();
    void sameImageWrittenOnce();
    void imageSizes_data();
    void imageSizes();

private:
    static void addVariantRows();
};

void TestWorkflowGraphs::addVariantRows()
{
    QTest::addColumn<QString>("name");
    for (const Variant &v : goldenVariants())
        QTest::newRow(qPrintable(v.name)) << v.name;
}

void TestWorkflowGraphs::golden()
{
    QFETCH(QString, name);
    const Variant v = variant(name);
    const comfy::Result<comfy::BuiltWorkflow> built = build(v.type, v.params);
    QVERIFY2(built.ok(), built.ok() ? "" : qPrintable(built.error().message));
    const QJsonObject actual = goldenOf(v, built.value());
    const QString path = QStringLiteral(COMFY_GOLDEN_DIR "/%1.json").arg(name);
    if (qEnvironmentVariableIntValue("COMFY_UPDATE_GOLDEN") == 1) {
        QDir().mkpath(QStringLiteral(COMFY_GOLDEN_DIR));
        QFile out(path);
        QVERIFY(out.open(QIODevice::WriteOnly | QIODevice::Truncate));
        out.write(QJsonDocument(actual).toJson(QJsonDocument::Indented));
        qInfo("rewrote %s", qPrintable(path));
        return;
    }
    QFile in(path);
    QVERIFY2(in.open(QIODevice::ReadOnly),
             qPrintable(path + QStringLiteral(" is missing; run with COMFY_UPDATE_GOLDEN=1")));
    const QJsonObject expected = QJsonDocument::fromJson(in.readAll()).object();
    QVERIFY2(expected.value(QLatin1String("request")) == actual.value(QLatin1String("request")),
             "the test's request differs from the golden file's: rewrite it with "
             "COMFY_UPDATE_GOLDEN=1 and review the diff");
    const QJsonObject expectedGraph = expected.value(QLatin1String("graph")).toObject();
    const QJsonObject actualGraph = actual.value(QLatin1String("graph")).toObject();
    QVERIFY2(expectedGraph == actualGraph, qPrintable(graphDiff(expectedGraph, actualGraph)));
    for (const char *key : {"type", "sampler_steps", "seed", "downloads", "inline_files"}) {
        QVERIFY2(
            expected.value(QLatin1String(key)) == actual.value(QLatin1String(key)),
            qPrintable(QStringLiteral("%1:\n  golden: %2\n  built:  %3")
                           .arg(QLatin1String(key), compact(expected.value(QLatin1String(key))),
                                compact(actual.value(QLatin1String(key))))));
    }
}

void TestWorkflowGraphs::acceptedBySimulatedNode()
{
    QFETCH(QString, name);
    const Variant v = variant(name);
    const comfy::Result<comfy::BuiltWorkflow> built = build(v.type, v.params);
    QVERIFY2(built.ok(), built.ok() ? "" : qPrintable(built.error().message));
    QTemporaryDir root;
    prepareRoot(root.path(), built.value());
    if (QTest::currentTestFailed())
        return;
    const simnode::Catalog catalog(root.path());
    const QJsonObject graph = built.value().graph;
    const simnode::ValidationResult result =
        simnode::validatePrompt(graph, nodeOrder(graph), catalog);
    QVERIFY2(result.ok,
             qPrintable(compact(result.error) + QLatin1Char(' ') + compact(result.nodeErrors)));
    QCOMPARE(result.nodeErrors, QJsonValue(QJsonObject()));
    QCOMPARE(result.goodOutputs, idsOf(graph, QStringLiteral("SaveImage")));

    // The same graph on a node without the files is rejected: the check above can fail.
    QTemporaryDir empty;
    const simnode::Catalog bare(empty.path());
    QVERIFY(!simnode::validatePrompt(graph, nodeOrder(graph), bare).ok);
}

void TestWorkflowGraphs::independentCheck()
{
    QFETCH(QString, name);
    const Variant v = variant(name);
    const comfy::Result<comfy::BuiltWorkflow> built = build(v.type, v.params);
    QVERIFY2(built.ok(), built.ok() ? "" : qPrintable(built.error().message));
    QTemporaryDir root;
    prepareRoot(root.path(), built.value());
    const QStringList problems =
        graphcheck::check(built.value().graph, graphcheck::objectInfo(), root.path());
    QVERIFY2(problems.isEmpty(), qPrintable(problems.join(QLatin1Char('\n'))));
}

void TestWorkflowGraphs::checkerFindsBrokenGraphs()
{
    // The independent check must be able to fail: break a good graph in each way it checks.
    const Variant v = variant(QStringLiteral("sd15_controlnets"));
    const comfy::Result<comfy::BuiltWorkflow> built = build(v.type, v.params);
    QVERIFY(built.ok());
    QTemporaryDir root;
    prepareRoot(root.path(), built.value());
    const QJsonObject good = built.value().graph;
    const QJsonObject info = graphcheck::objectInfo();
    QVERIFY(graphcheck::check(good, info, root.path()).isEmpty());
    const QString sampler = idsOf(good, QStringLiteral("KSampler")).first();
    const QString loader = idsOf(good, QStringLiteral("CheckpointLoaderSimple")).first();
    const auto broken = [&](const QString &id, const QString &input, const QJsonValue &value) {
        QJsonObject graph = good;
        QJsonObject n = node(graph, id);
        QJsonObject inputs = n.value(QLatin1String("inputs")).toObject();
        if (value.isUndefined())
            inputs.remove(input);
        else
            inputs.insert(input, value);
        n.insert(QStringLiteral("inputs"), inputs);
        graph.insert(id, n);
        return graphcheck::check(graph, info, root.path());
    };
    QVERIFY(!broken(sampler, QStringLiteral("steps"), QJsonValue::Undefined).isEmpty());
    QVERIFY(!broken(sampler, QStringLiteral("steps"), 0).isEmpty());
    QVERIFY(!broken(sampler, QStringLiteral("steps"), 2.5).isEmpty());
    QVERIFY(!broken(sampler, QStringLiteral("cfg"), QStringLiteral("7")).isEmpty());
    QVERIFY(!broken(sampler, QStringLiteral("sampler_name"), QStringLiteral("euler_x")).isEmpty());
    QVERIFY(!broken(sampler, QStringLiteral("model"), QJsonArray{loader, 1}).isEmpty()); // CLIP
    QVERIFY(!broken(sampler, QStringLiteral("model"), QJsonArray{loader, 3}).isEmpty());
    QVERIFY(!broken(sampler, QStringLiteral("model"), QJsonArray{"99", 0}).isEmpty());
    QVERIFY(!broken(sampler, QStringLiteral("bogus"), 1).isEmpty());
    QVERIFY(!broken(loader, QStringLiteral("ckpt_name"), QStringLiteral("missing.safetensors"))
                 .isEmpty());
    QJsonObject unknownClass = good;
    QJsonObject n = node(good, sampler);
    n.insert(QStringLiteral("class_type"), QStringLiteral("KSamplerTurbo"));
    unknownClass.insert(sampler, n);
    QVERIFY(!graphcheck::check(unknownClass, info, root.path()).isEmpty());
    QJsonObject dangling = good;
    dangling.insert(
        QStringLiteral("99"),
        QJsonObject{{"class_type", "EmptyLatentImage"},
                    {"inputs", QJsonObject{{"width", 64}, {"height", 64}, {"batch_size", 1}}}});
    QVERIFY(!graphcheck::check(dangling, info, root.path()).isEmpty());
}

void TestWorkflowGraphs::defaults_data()
{
    QTest::addColumn<QString>("type");
    QTest::addColumn<QJsonObject>("params");
    QTest::addColumn<QString>("latentClass");
    QTest::addColumn<int>("size");
    QTest::addColumn<int>("steps");
    QTest::addColumn<double>("cfg");
    QTest::addColumn<QString>("scheduler");
    QTest::addColumn<double>("guidance"); // FluxGuidance; -1: no such node

    const QJsonObject sd{{"checkpoint", buildIn("m.safetensors")}, {"prompt", "x"}};
    const QJsonObject flux{{"unet", buildIn("u.safetensors")},
                           {"vae", buildIn("v.safetensors")},
                           {"t5xxl", buildIn("t.safetensors")},
                           {"clip", buildIn("c.safetensors")},
                           {"prompt", "x"}};
    QJsonObject schnell = flux;
    schnell.insert("unet_type", "schnell");
    QTest::newRow("SD15") << "SD15" << sd << "EmptyLatentImage" << 512 << 20 << 7.0 << "normal"
                          << -1.0;
    QTest::newRow("SDXL") << "SDXL" << sd << "EmptyLatentImage" << 1024 << 30 << 7.0 << "normal"
                          << -1.0;
    QTest::newRow("Flux dev") << "Flux" << flux << "EmptySD3LatentImage" << 1024 << 20 << 1.0
                              << "simple" << 3.5;
    QTest::newRow("Flux schnell") << "Flux" << schnell << "EmptySD3LatentImage" << 1024 << 4 << 1.0
                                  << "simple" << -1.0;
}

void TestWorkflowGraphs::defaults()
{
    QFETCH(QString, type);
    QFETCH(QJsonObject, params);
    QFETCH(QString, latentClass);
    QFETCH(int, size);
    QFETCH(int, steps);
    QFETCH(double, cfg);
    QFETCH(QString, scheduler);
    QFETCH(double, guidance);
    const comfy::Result<comfy::BuiltWorkflow> built = build(type, params);
    QVERIFY2(built.ok(), built.ok() ? "" : qPrintable(built.error().message));
    const QJsonObject graph = built.value().graph;
    const QStringList latents = idsOf(graph, latentClass);
    QCOMPARE(latents.size(), 1);
    QCOMPARE(inputsOf(graph, latents.first()),
             (QJsonObject{{"width", size}, {"height", size}, {"batch_size", 1}}));
    const QStringList samplers = idsOf(graph, QStringLiteral("KSampler"));
    QCOMPARE(samplers.size(), 1);
    const QJsonObject sampler = inputsOf(graph, samplers.first());
    QCOMPARE(sampler.value("steps").toInt(), steps);
    QCOMPARE(sampler.value("cfg").toDouble(), cfg);
    QCOMPARE(sampler.value("sampler_name").toString(), QStringLiteral("euler"));
    QCOMPARE(sampler.value("scheduler").toString(), scheduler);
    QCOMPARE(sampler.value("denoise").toDouble(), 1.0);
    QCOMPARE(built.value().samplerSteps, (QHash<QString, int>{{samplers.first(), steps}}));
    const QStringList guidanceNodes = idsOf(graph, QStringLiteral("FluxGuidance"));
    if (guidance < 0) {
        QVERIFY(guidanceNodes.isEmpty());
    } else {
        QCOMPARE(guidanceNodes.size(), 1);
        QCOMPARE(inputsOf(graph, guidanceNodes.first()).value("guidance").toDouble(), guidance);
        QCOMPARE(sampler.value("positive"), QJsonValue(QJsonArray{guidanceNodes.first(), 0}));
    }
    const QStringList negatives = idsOf(graph, QStringLiteral("CLIPTextEncode"));
    QCOMPARE(negatives.size(), 2);
    QCOMPARE(inputsOf(graph, negatives.last()).value("text").toString(), QString());
    if (type == QLatin1String("Flux"))
        QCOMPARE(inputsOf(graph, idsOf(graph, QStringLiteral("UNETLoader")).first())
                     .value("weight_dtype")
                     .toString(),
                 QStringLiteral("default"));
    const QStringList save = idsOf(graph, QStringLiteral("SaveImage"));
    QCOMPARE(save.size(), 1);
    QCOMPARE(inputsOf(graph, save.first()).value("filename_prefix").toString(),
             QStringLiteral("comfy-router"));
}

void TestWorkflowGraphs::denoiseChoosesTheInpaintPath()
{
    QJsonObject params{{"checkpoint", buildIn("m.safetensors")},
                       {"prompt", "x"},
                       {"input_image", base64Image(photoPng())}};
    // img2img: 0.75 by default.
    comfy::Result<comfy::BuiltWorkflow> built = build(QStringLiteral("SD15"), params);
    QVERIFY(built.ok());
    QJsonObject graph = built.value().graph;
    QCOMPARE(inputsOf(graph, idsOf(graph, "KSampler").first()).value("denoise").toDouble(), 0.75);
    QCOMPARE(idsOf(graph, "VAEEncode").size(), 1);
    QVERIFY(idsOf(graph, "EmptyLatentImage").isEmpty());
    QVERIFY(idsOf(graph, "RepeatLatentBatch").isEmpty()); // batch 1 needs none

    // Inpainting: full denoise by default, through VAEEncodeForInpaint.
    params.insert("input_mask", base64Image(maskPng()));
    built = build(QStringLiteral("SD15"), params);
    QVERIFY(built.ok());
    graph = built.value().graph;
    QCOMPARE(inputsOf(graph, idsOf(graph, "KSampler").first()).value("denoise").toDouble(), 1.0);
    QCOMPARE(idsOf(graph, "VAEEncodeForInpaint").size(), 1);
    QCOMPARE(inputsOf(graph, idsOf(graph, "VAEEncodeForInpaint").first()).value("grow_mask_by"),
             QJsonValue(6));
    QVERIFY(idsOf(graph, "SetLatentNoiseMask").isEmpty());
    QCOMPARE(inputsOf(graph, idsOf(graph, "ImageToMask").first()).value("channel").toString(),
             QStringLiteral("red"));

    // Below 1.0 the masked area keeps its content as a start: VAEEncode + SetLatentNoiseMask.
    params.insert("denoise", 0.99);
    built = build(QStringLiteral("SD15"), params);
    QVERIFY(built.ok());
    graph = built.value().graph;
    QVERIFY(idsOf(graph, "VAEEncodeForInpaint").isEmpty());
    QCOMPARE(idsOf(graph, "SetLatentNoiseMask").size(), 1);
    QCOMPARE(inputsOf(graph, idsOf(graph, "KSampler").first()).value("denoise").toDouble(), 0.99);
    QCOMPARE(inputsOf(graph, idsOf(graph, "KSampler").first()).value("latent_image"),
             QJsonValue(QJsonArray{idsOf(graph, "SetLatentNoiseMask").first(), 0}));
}

void TestWorkflowGraphs::refinerSplitsSteps_data()
{
    QTest::addColumn<int>("steps");
    QTest::addColumn<double>("switchAt");
    QTest::addColumn<double>("denoise");
    QTest::addColumn<int>("total");      // KSamplerAdvanced steps of both passes
    QTest::addColumn<int>("start");      // base start_at_step
    QTest::addColumn<int>("switchStep"); // base end_at_step = refiner start_at_step
    QTest::addColumn<int>("baseSteps");
    QTest::addColumn<int>("refinerSteps");
    QTest::newRow("defaults 30 x 0.8") << 30 << 0.8 << 1.0 << 30 << 0 << 24 << 24 << 6;
    QTest::newRow("7 x 0.5 rounds up") << 7 << 0.5 << 1.0 << 7 << 0 << 4 << 4 << 3;
    QTest::newRow("2 x 0.5") << 2 << 0.5 << 1.0 << 2 << 0 << 1 << 1 << 1;
    // img2img: KSampler's denoise rule, a schedule of steps/denoise with the last steps run.
    QTest::newRow("20 x 0.75, denoise 0.5") << 20 << 0.75 << 0.5 << 40 << 20 << 35 << 15 << 5;
    QTest::newRow("20 x 0.8, denoise 0.75") << 20 << 0.8 << 0.75 << 26 << 6 << 22 << 16 << 4;
}

void TestWorkflowGraphs::refinerSplitsSteps()
{
    QFETCH(int, steps);
    QFETCH(double, switchAt);
    QFETCH(double, denoise);
    QFETCH(int, total);
    QFETCH(int, start);
    QFETCH(int, switchStep);
    QFETCH(int, baseSteps);
    QFETCH(int, refinerSteps);
    QJsonObject params{{"checkpoint", buildIn("base.safetensors")},
                       {"prompt", "x"},
                       {"steps", steps},
                       {"seed", 5},
                       {"refiner", QJsonObject{{"checkpoint", buildIn("refiner.safetensors")},
                                               {"switch_at", switchAt}}}};
    if (denoise < 1.0) {
        params.insert("input_image", base64Image(photoPng()));
        params.insert("denoise", denoise);
    }
    const comfy::Result<comfy::BuiltWorkflow> built = build(QStringLiteral("SDXL"), params);
    QVERIFY2(built.ok(), built.ok() ? "" : qPrintable(built.error().message));
    const QJsonObject graph = built.value().graph;
    QVERIFY(idsOf(graph, "KSampler").isEmpty());
    const QStringList passes = idsOf(graph, QStringLiteral("KSamplerAdvanced"));
    QCOMPARE(passes.size(), 2);
    const QJsonObject base = inputsOf(graph, passes.at(0));
    const QJsonObject refiner = inputsOf(graph, passes.at(1));
    QCOMPARE(base.value("steps").toInt(), total);
    QCOMPARE(refiner.value("steps").toInt(), total);
    QCOMPARE(base.value("start_at_step").toInt(), start);
    QCOMPARE(base.value("end_at_step").toInt(), switchStep);
    QCOMPARE(refiner.value("start_at_step").toInt(), switchStep);
    QCOMPARE(refiner.value("end_at_step").toInt(), 10000);
    QCOMPARE(base.value("add_noise").toString(), QStringLiteral("enable"));
    QCOMPARE(base.value("return_with_leftover_noise").toString(), QStringLiteral("enable"));
    QCOMPARE(refiner.value("add_noise").toString(), QStringLiteral("disable"));
    QCOMPARE(refiner.value("return_with_leftover_noise").toString(), QStringLiteral("disable"));
    QCOMPARE(base.value("noise_seed"), QJsonValue(5));
    QCOMPARE(refiner.value("latent_image"), QJsonValue(QJsonArray{passes.at(0), 0}));
    QCOMPARE(built.value().samplerSteps,
             (QHash<QString, int>{{passes.at(0), baseSteps}, {passes.at(1), refinerSteps}}));
    // The refiner's own checkpoint, text encoders from its CLIP.
    const QStringList loaders = idsOf(graph, QStringLiteral("CheckpointLoaderSimple"));
    QCOMPARE(loaders.size(), 2);
    QCOMPARE(inputsOf(graph, loaders.at(1)).value("ckpt_name").toString(),
             QStringLiteral("refiner.safetensors"));
    QCOMPARE(refiner.value("model"), QJsonValue(QJsonArray{loaders.at(1), 0}));
    for (const char *side : {"positive", "negative"}) {
        const QString encoder = refiner.value(QLatin1String(side)).toArray().at(0).toString();
        QCOMPARE(inputsOf(graph, encoder).value("clip"), QJsonValue(QJsonArray{loaders.at(1), 1}));
    }
}

void TestWorkflowGraphs::resizeModes()
{
    // A 48x32 hint for a 512x512 output.
    const auto graphFor = [](const QString &mode, const QJsonObject &image) {
        const QJsonObject params{
            {"checkpoint", buildIn("m.safetensors")},
            {"prompt", "x"},
            {"controlnets",
             QJsonArray{QJsonObject{
                 {"model", buildIn("cn.pth")}, {"image", image}, {"resize_mode", mode}}}}};
        const comfy::Result<comfy::BuiltWorkflow> built = build(QStringLiteral("SD15"), params);
        return built.ok() ? built.value().graph : QJsonObject();
    };
    QJsonObject graph = graphFor(QStringLiteral("Just Resize"), base64Image(hintPng()));
    QStringList scales = idsOf(graph, QStringLiteral("ImageScale"));
    QCOMPARE(scales.size(), 1);
    QCOMPARE(inputsOf(graph, scales.first()).value("crop").toString(), QStringLiteral("disabled"));
    QCOMPARE(inputsOf(graph, scales.first()).value("width").toInt(), 512);

    graph = graphFor(QStringLiteral("Crop and Resize"), base64Image(hintPng()));
    scales = idsOf(graph, QStringLiteral("ImageScale"));
    QCOMPARE(inputsOf(graph, scales.first()).value("crop").toString(), QStringLiteral("center"));
    QCOMPARE(inputsOf(graph, scales.first()).value("height").toInt(), 512);
    QVERIFY(idsOf(graph, QStringLiteral("ImagePadForOutpaint")).isEmpty());

    // Resize and Fill: 48x32 fits as 512x341.3, rounded to 512x344, padded by 80 + 88.
    graph = graphFor(QStringLiteral("Resize and Fill"), base64Image(hintPng()));
    scales = idsOf(graph, QStringLiteral("ImageScale"));
    QCOMPARE(inputsOf(graph, scales.first()).value("width").toInt(), 512);
    QCOMPARE(inputsOf(graph, scales.first()).value("height").toInt(), 344);
    QCOMPARE(inputsOf(graph, scales.first()).value("crop").toString(), QStringLiteral("disabled"));
    const QStringList pads = idsOf(graph, QStringLiteral("ImagePadForOutpaint"));
    QCOMPARE(pads.size(), 1);
    QCOMPARE(inputsOf(graph, pads.first()), (QJsonObject{{"image", QJsonArray{scales.first(), 0}},
                                                         {"left", 0},
                                                         {"right", 0},
                                                         {"top", 80},
                                                         {"bottom", 88},
                                                         {"feathering", 0}}));
    const QString apply = idsOf(graph, QStringLiteral("ControlNetApplyAdvanced")).first();
    QCOMPARE(inputsOf(graph, apply).value("image"), QJsonValue(QJsonArray{pads.first(), 0}));

    // A picture of the output's aspect (40x30 for 640x480) needs no padding.
    const QJsonObject wide{
        {"checkpoint", buildIn("m.safetensors")},
        {"prompt", "x"},
        {"width", 640},
        {"height", 480},
        {"controlnets", QJsonArray{QJsonObject{{"model", buildIn("cn.pth")},
                                               {"image", base64Image(maskPng())},
                                               {"resize_mode", "Resize and Fill"}}}}};
    const comfy::Result<comfy::BuiltWorkflow> same = build(QStringLiteral("SD15"), wide);
    QVERIFY(same.ok());
    QVERIFY(idsOf(same.value().graph, QStringLiteral("ImagePadForOutpaint")).isEmpty());
    QCOMPARE(inputsOf(same.value().graph, idsOf(same.value().graph, "ImageScale").first())
                 .value("width")
                 .toInt(),
             640);
}

void TestWorkflowGraphs::preprocessorParams()
{
    const auto build1 = [](const QJsonObject &controlNet) {
        const QJsonObject params{{"checkpoint", buildIn("sd15/v1-5-pruned-emaonly.safetensors")},
                                 {"prompt", "x"},
                                 {"controlnets", QJsonArray{controlNet}}};
        return build(QStringLiteral("SD15"), params);
    };
    QJsonObject cn{{"model", buildIn("control_v11p_sd15_canny.pth")},
                   {"image", base64Image(hintPng())},
                   {"preprocessor", "Canny"}};
    // A built-in preprocessor's missing values take object_info's defaults.
    comfy::Result<comfy::BuiltWorkflow> built = build1(cn);
    QVERIFY2(built.ok(), built.ok() ? "" : qPrintable(built.error().message));
    QJsonObject graph = built.value().graph;
    QString canny = idsOf(graph, QStringLiteral("Canny")).first();
    const QString scale = idsOf(graph, QStringLiteral("ImageScale")).first();
    QCOMPARE(inputsOf(graph, canny), (QJsonObject{{"image", QJsonArray{scale, 0}},
                                                  {"low_threshold", 0.4},
                                                  {"high_threshold", 0.8}}));
    const QString apply = idsOf(graph, QStringLiteral("ControlNetApplyAdvanced")).first();
    QCOMPARE(inputsOf(graph, apply).value("image"), QJsonValue(QJsonArray{canny, 0}));

    // A caller's own class gets its values as given.
    cn.insert("preprocessor", "CannyEdgePreprocessor");
    cn.insert("preprocessor_params", QJsonObject{{"low_threshold", 100},
                                                 {"high_threshold", 200},
                                                 {"resolution", 512},
                                                 {"mode", "fast"},
                                                 {"invert", false}});
    built = build1(cn);
    QVERIFY2(built.ok(), built.ok() ? "" : qPrintable(built.error().message));
    graph = built.value().graph;
    const QStringList custom = idsOf(graph, QStringLiteral("CannyEdgePreprocessor"));
    QCOMPARE(custom.size(), 1);
    QCOMPARE(inputsOf(graph, custom.first()),
             (QJsonObject{{"image", QJsonArray{idsOf(graph, "ImageScale").first(), 0}},
                          {"low_threshold", 100},
                          {"high_threshold", 200},
                          {"resolution", 512},
                          {"mode", "fast"},
                          {"invert", false}}));
    QTemporaryDir root;
    prepareRoot(root.path(), built.value());
    const QStringList problems = graphcheck::check(graph, graphcheck::objectInfo(), root.path(),
                                                   {QStringLiteral("CannyEdgePreprocessor")});
    QVERIFY2(problems.isEmpty(), qPrintable(problems.join(QLatin1Char('\n'))));
}

void TestWorkflowGraphs::randomSeedWhenMissing()
{
    const QJsonObject params{{"checkpoint", buildIn("m.safetensors")}, {"prompt", "x"}};
    const comfy::Result<comfy::BuiltWorkflow> first = build(QStringLiteral("SD15"), params);
    const comfy::Result<comfy::BuiltWorkflow> second = build(QStringLiteral("SD15"), params);
    QVERIFY(first.ok() && second.ok());
    QVERIFY(first.value().seed.has_value());
    const qint64 seed = *first.value().seed;
    QVERIFY(seed >= 0 && seed <= comfy::MaxSeed);
    const QJsonObject graph = first.value().graph;
    QCOMPARE(inputsOf(graph, idsOf(graph, "KSampler").first()).value("seed"), QJsonValue(seed));
    // Drawn anew for each request (two equal draws of 2^53 would be a broken generator).
    QVERIFY(*second.value().seed != seed);
    // The reported seed reproduces the graph.
    QJsonObject again = params;
    again.insert("seed", QJsonValue(seed));
    const comfy::Result<comfy::BuiltWorkflow> repeated = build(QStringLiteral("SD15"), again);
    QVERIFY(repeated.ok());
    QCOMPARE(repeated.value().graph, graph);
    // null is "not given" too.
    again.insert("seed", QJsonValue());
    QVERIFY(build(QStringLiteral("SD15"), again).value().seed.has_value());
}

void TestWorkflowGraphs::sameImageWrittenOnce()
{
    const QJsonObject params{
        {"checkpoint", buildIn("m.safetensors")},
        {"prompt", "x"},
        {"input_image", base64Image(photoPng())},
        {"controlnets", QJsonArray{QJsonObject{{"model", buildIn("cn.pth")},
                                               {"image", base64Image(photoPng())}}}}};
    const comfy::Result<comfy::BuiltWorkflow> built = build(QStringLiteral("SD15"), params);
    QVERIFY(built.ok());
    QCOMPARE(built.value().inlineFiles.size(), 1);
    QCOMPARE(built.value().inlineFiles.first().fileName, inlineName(photoPng()));
    QCOMPARE(built.value().inlineFiles.first().folder, QStringLiteral("input"));
    QCOMPARE(built.value().inlineFiles.first().data, photoPng());
    const QJsonObject graph = built.value().graph;
    for (const QString &id : idsOf(graph, QStringLiteral("LoadImage")))
        QCOMPARE(inputsOf(graph, id).value("image").toString(), inlineName(photoPng()));
}

void TestWorkflowGraphs::imageSizes_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("format");
    QTest::addColumn<int>("width");
    QTest::addColumn<int>("height");
    const auto riff = [](const QByteArray &chunk, const QByteArray &payload) {
        QByteArray data = "WEBP" + chunk;
        const quint32 size = quint32(payload.size());
        data += char(size & 0xFF);
        data += char((size >> 8) & 0xFF);
        data += char((size >> 16) & 0xFF);
        data += char((size >> 24) & 0xFF);
        data += payload;
        QByteArray file = "RIFF";
        const quint32 total = quint32(data.size());
        file += char(total & 0xFF);
        file += char((total >> 8) & 0xFF);
        file += char((total >> 16) & 0xFF);
        file += char((total >> 24) & 0xFF);
        return file + data;
    };
    QTest::newRow("png") << photoPng() << "png" << 40 << 30;
    QTest::newRow("png hint") << hintPng() << "png" << 48 << 32;
    // VP8X: flags, reserved, canvas width-1 and height-1 as 24-bit little endian: 300x200.
    QTest::newRow("webp VP8X") << riff("VP8X", QByteArray::fromHex("00000000"
                                                                   "2b0100"
                                                                   "c70000"))
                               << "webp" << 300 << 200;
    // VP8L: signature 0x2f, then 14 bits width-1 (99) and 14 bits height-1 (49): 100x50.
    const quint32 bits = 99u | (49u << 14);
    QByteArray vp8l("\x2f", 1);
    for (int i = 0; i < 4; ++i)
        vp8l += char((bits >> (8 * i)) & 0xFF);
    QTest::newRow("webp VP8L") << riff("VP8L", vp8l + QByteArray(4, '\0')) << "webp" << 100 << 50;
    // VP8: frame tag, start code 9d 01 2a, then 14-bit width and height: 640x480.
    QTest::newRow("webp VP8") << riff("VP8 ", QByteArray::fromHex("000000"
                                                                  "9d012a"
                                                                  "8002"
                                                                  "e001") +
                                                  QByteArray(4, '\0'))
                              << "webp" << 640 << 480;
    // JPEG: SOI, an APP0 segment, then SOF0 with height 24 and width 32.
    QTest::newRow("jpeg") << QByteArray::fromHex("ffd8"
                                                 "ffe00004"
                                                 "0000"
                                                 "ffc0000b08"
                                                 "0018"
                                                 "0020"
                                                 "01011100"
                                                 "ffd9")
                          << "jpeg" << 32 << 24;
    QTest::newRow("gif") << QByteArray("GIF89a\x05\x00\x03\x00\x00\x00", 12) << "gif" << 5 << 3;
}

void TestWorkflowGraphs::imageSizes()
{
    QFETCH(QByteArray, bytes);
    QFETCH(QString, format);
    QFETCH(int, width);
    QFETCH(int, height);
    const std::optional<comfy::ImageFacts> facts = comfy::inspectImage(bytes);
    QVERIFY(facts.has_value());
    QCOMPARE(facts->format, format);
    QCOMPARE(facts->width, width);
    QCOMPARE(facts->height, height);
}

QTEST_GUILESS_MAIN(TestWorkflowGraphs)
#include "tst_workflowgraphs.moc"
