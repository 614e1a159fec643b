// Validation of SD15, SDXL and Flux parameters before anything is queued (issue 3): each
// invalid request is Error::Kind::Invalid naming exactly the offending field, with a message
// that starts with it; the valid base of every row builds, so each row fails for its one
// change only.
#include "workflowfixtures.h"
#include "workflows/objectinfo.h"
#include "workflows/workflowrequest.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSet>
#include <QTest>

using namespace fixtures;

namespace {

QJsonObject baseParams(const QString &type)
{
    if (type == QLatin1String("Flux"))
        return object(R"({
            "unet": {"type": "build_in", "name": "flux1-dev.safetensors"},
            "vae": {"type": "build_in", "name": "ae.safetensors"},
            "t5xxl": {"type": "build_in", "name": "t5xxl_fp16.safetensors"},
            "clip": {"type": "build_in", "name": "clip_l.safetensors"},
            "prompt": "a castle"})");
    return object(R"({"checkpoint": {"type": "build_in", "name": "SDXL/base.safetensors"},
                      "prompt": "a castle"})");
}

// The base params of `type` with the top-level keys of `patch` replaced and `remove` removed.
// "@IMG" in the patch stands for a valid base64 PNG.
QJsonObject patched(const QString &type, QByteArray patch, const QStringList &remove)
{
    patch.replace("@IMG", photoPng().toBase64());
    QJsonObject params = baseParams(type);
    const QJsonObject changes = object(patch);
    for (auto it = changes.begin(); it != changes.end(); ++it)
        params.insert(it.key(), it.value());
    for (const QString &key : remove)
        params.remove(key);
    return params;
}

comfy::Result<comfy::BuiltWorkflow> build(const QString &type, const QJsonObject &params)
{
    const comfy::Result<comfy::WorkflowRequest> request = comfy::parseWorkflowRequest(
        {{QStringLiteral("type"), type}, {QStringLiteral("params"), params}});
    if (!request)
        return request.error();
    return comfy::buildWorkflow(request.value(), comfy::ObjectInfo::builtIn());
}

void row(const char *name, const char *type, const QByteArray &patch, const char *field,
         const QStringList &remove = {})
{
    QTest::newRow(name) << QString::fromLatin1(type) << patch << remove
                        << QString::fromLatin1(field);
}

// A valid image, a valid model, for use inside patches.
#define IMG R"({"type": "base64", "content": "@IMG"})"
#define MODEL R"({"type": "build_in", "name": "m.safetensors"})"
#define CN(extra) R"({"controlnets": [{"model": )" MODEL R"(, "image": )" IMG extra "}]}"
#define REFINER(extra) R"({"refiner": {"checkpoint": )" MODEL extra "}}"

} // namespace

class TestWorkflowValidation : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void invalid_data();
    void invalid();
    void validVariants_data();
    void validVariants();
    void documentedExamplesAreValid();
};

void TestWorkflowValidation::invalid_data()
{
    QTest::addColumn<QString>("type");
    QTest::addColumn<QByteArray>("patch");
    QTest::addColumn<QStringList>("remove");
    QTest::addColumn<QString>("field");

    // Required fields and exact types (no coercion).
    row("SD15 checkpoint missing", "SD15", "{}", "params.checkpoint", {"checkpoint"});
    row("SD15 prompt missing", "SD15", "{}", "params.prompt", {"prompt"});
    row("SD15 prompt null", "SD15", R"({"prompt": null})", "params.prompt");
    row("SD15 prompt a number", "SD15", R"({"prompt": 5})", "params.prompt");
    row("SD15 negative_prompt a list", "SD15", R"({"negative_prompt": ["x"]})",
        "params.negative_prompt");
    row("SDXL prompt missing", "SDXL", "{}", "params.prompt", {"prompt"});
    row("Flux unet missing", "Flux", "{}", "params.unet", {"unet"});
    row("Flux vae missing", "Flux", "{}", "params.vae", {"vae"});
    row("Flux t5xxl missing", "Flux", "{}", "params.t5xxl", {"t5xxl"});
    row("Flux clip missing", "Flux", "{}", "params.clip", {"clip"});
    row("Flux prompt missing", "Flux", "{}", "params.prompt", {"prompt"});

    // Unknown fields: a typo must not pass as a default.
    row("SD15 typo step", "SD15", R"({"step": 30})", "params.step");
    row("SD15 cfg instead of cfg_scale", "SD15", R"({"cfg": 7})", "params.cfg");
    row("SD15 refiner is SDXL only", "SD15", REFINER(""), "params.refiner");
    row("SD15 unet is Flux only", "SD15", R"({"unet": )" MODEL "}", "params.unet");
    row("SDXL t5xxl is Flux only", "SDXL", R"({"t5xxl": )" MODEL "}", "params.t5xxl");
    row("Flux checkpoint is SD only", "Flux", R"({"checkpoint": )" MODEL "}", "params.checkpoint");

    // Numbers: type, whole numbers, object_info ranges.
    row("steps a numeric string", "SD15", R"({"steps": "20"})", "params.steps");
    row("steps fractional", "SD15", R"({"steps": 20.5})", "params.steps");
    row("steps a boolean", "SD15", R"({"steps": true})", "params.steps");
    row("steps 0", "SD15", R"({"steps": 0})", "params.steps");
    row("steps above KSampler's 10000", "SDXL", R"({"steps": 10001})", "params.steps");
    row("Flux steps 0", "Flux", R"({"steps": 0})", "params.steps");
    row("cfg_scale a string", "SD15", R"({"cfg_scale": "7"})", "params.cfg_scale");
    row("cfg_scale above KSampler's 100", "SD15", R"({"cfg_scale": 100.5})", "params.cfg_scale");
    row("cfg_scale negative", "SDXL", R"({"cfg_scale": -1})", "params.cfg_scale");
    row("Flux cfg_scale above FluxGuidance's 100", "Flux", R"({"cfg_scale": 101})",
        "params.cfg_scale");
    row("batch_size 0", "SD15", R"({"batch_size": 0})", "params.batch_size");
    row("batch_size above EmptyLatentImage's 4096", "SD15", R"({"batch_size": 4097})",
        "params.batch_size");
    row("batch_size a string", "SD15", R"({"batch_size": "2"})", "params.batch_size");
    row("img2img batch_size above RepeatLatentBatch's 64", "SD15",
        R"({"input_image": )" IMG R"(, "batch_size": 65})", "params.batch_size");
    row("Flux batch_size above EmptySD3LatentImage's 4096", "Flux", R"({"batch_size": 5000})",
        "params.batch_size");

    // Sizes: 64..8192, multiples of 8 (Flux 16).
    row("width below 64", "SD15", R"({"width": 56})", "params.width");
    row("width above 8192", "SD15", R"({"width": 8200})", "params.width");
    row("width not a multiple of 8", "SD15", R"({"width": 516})", "params.width");
    row("width a string", "SD15", R"({"width": "512"})", "params.width");
    row("width fractional", "SD15", R"({"width": 512.5})", "params.width");
    row("height 0", "SDXL", R"({"height": 0})", "params.height");
    row("height not a multiple of 8", "SDXL", R"({"height": 1020})", "params.height");
    row("Flux width a multiple of 8 but not 16", "Flux", R"({"width": 1000})", "params.width");
    row("Flux height a multiple of 8 but not 16", "Flux", R"({"height": 1032})", "params.height");

    // denoise, seed.
    row("denoise above 1", "SD15", R"({"denoise": 1.5})", "params.denoise");
    row("denoise negative", "SD15", R"({"denoise": -0.1})", "params.denoise");
    row("denoise a string", "Flux", R"({"denoise": "0.5"})", "params.denoise");
    row("seed negative", "SD15", R"({"seed": -1})", "params.seed");
    row("seed beyond 2^53 - 1", "SD15", R"({"seed": 9007199254740992})", "params.seed");
    row("seed fractional", "SDXL", R"({"seed": 1.5})", "params.seed");
    row("seed a string", "Flux", R"({"seed": "42"})", "params.seed");

    // Sampler and scheduler lists from object_info.
    row("sampler unknown", "SD15", R"({"sampler": "euler_a"})", "params.sampler");
    row("sampler in the wrong case", "SD15", R"({"sampler": "Euler"})", "params.sampler");
    row("sampler a number", "SDXL", R"({"sampler": 1})", "params.sampler");
    row("scheduler unknown", "SD15", R"({"scheduler": "Karras"})", "params.scheduler");
    row("Flux scheduler unknown", "Flux", R"({"scheduler": "flux"})", "params.scheduler");
    row("SDXL refiner sampler unknown", "SDXL",
        R"({"sampler": "euler_a", "refiner": {"checkpoint": )" MODEL "}}", "params.sampler");

    // Images: input_mask needs input_image; base64 is decoded and checked; URLs are http(s).
    row("input_mask without input_image", "SD15", R"({"input_mask": )" IMG "}",
        "params.input_mask");
    row("input_image not base64", "SD15",
        R"({"input_image": {"type": "base64", "content": "***"}})", "params.input_image.content");
    row("input_image not an image", "SD15",
        R"({"input_image": {"type": "base64", "content": "aGVsbG8gd29ybGQ="}})",
        "params.input_image.content");
    row("input_mask not an image", "SDXL",
        R"({"input_image": )" IMG
        R"(, "input_mask": {"type": "base64", "content": "aGVsbG8gd29ybGQ="}})",
        "params.input_mask.content");
    row("input_image a file URL", "SD15",
        R"({"input_image": {"type": "url", "content": "file:///etc/passwd"}})",
        "params.input_image.content");
    row("input_image URL with ..", "Flux",
        R"({"input_image": {"type": "url", "content": "https://h.example/a/../b.png"}})",
        "params.input_image.content");
    row("input_image type unknown", "SD15",
        R"({"input_image": {"type": "path", "content": "x.png"}})", "params.input_image.type");
    row("input_image content missing", "SD15", R"({"input_image": {"type": "url"}})",
        "params.input_image.content");
    row("input_image extra key", "SD15",
        R"({"input_image": {"type": "base64", "content": "@IMG", "name": "x.png"}})",
        "params.input_image.name");
    row("input_image a string", "SD15", R"({"input_image": "@IMG"})", "params.input_image");

    // Models: build_in names stay inside their folder, custom ones are http(s) URLs.
    row("checkpoint absolute", "SD15",
        R"({"checkpoint": {"type": "build_in", "name": "/etc/passwd"}})", "params.checkpoint.name");
    row("checkpoint climbs out", "SD15",
        R"({"checkpoint": {"type": "build_in", "name": "../secret.safetensors"}})",
        "params.checkpoint.name");
    row("checkpoint climbs out of a sub-folder", "SDXL",
        R"({"checkpoint": {"type": "build_in", "name": "SDXL/../../x.safetensors"}})",
        "params.checkpoint.name");
    row("checkpoint with a drive letter", "SD15",
        R"({"checkpoint": {"type": "build_in", "name": "C:\\models\\x.safetensors"}})",
        "params.checkpoint.name");
    row("checkpoint custom ftp", "SD15",
        R"({"checkpoint": {"type": "custom", "name": "ftp://h.example/x.safetensors"}})",
        "params.checkpoint.name");
    row("checkpoint custom with ..", "SD15",
        R"({"checkpoint": {"type": "custom", "name": "https://h.example/m/../x.safetensors"}})",
        "params.checkpoint.name");
    row("checkpoint type unknown", "SD15",
        R"({"checkpoint": {"type": "local", "name": "x.safetensors"}})", "params.checkpoint.type");
    row("checkpoint name missing", "SD15", R"({"checkpoint": {"type": "build_in"}})",
        "params.checkpoint.name");
    row("checkpoint a string", "SD15", R"({"checkpoint": "x.safetensors"})", "params.checkpoint");
    row("checkpoint extra key", "SD15",
        R"({"checkpoint": {"type": "build_in", "name": "x.safetensors", "hash": "ab"}})",
        "params.checkpoint.hash");
    row("vae absolute", "SD15", R"({"vae": {"type": "build_in", "name": "/vae.safetensors"}})",
        "params.vae.name");
    row("Flux t5xxl custom ftp", "Flux",
        R"({"t5xxl": {"type": "custom", "name": "ftp://h.example/t5.safetensors"}})",
        "params.t5xxl.name");
    row("Flux clip extra key", "Flux",
        R"({"clip": {"type": "build_in", "name": "c.safetensors", "x": 1}})", "params.clip.x");
    row("Flux unet climbs out", "Flux",
        R"({"unet": {"type": "build_in", "name": "../unet.safetensors"}})", "params.unet.name");

    // Flux's own fields.
    row("Flux unet_type unknown", "Flux", R"({"unet_type": "pro"})", "params.unet_type");
    row("Flux unet_dtype not UNETLoader's", "Flux", R"({"unet_dtype": "fp16"})",
        "params.unet_dtype");
    row("Flux unet_dtype a number", "Flux", R"({"unet_dtype": 8})", "params.unet_dtype");

    // LoRAs.
    row("loras an object", "SD15", R"({"loras": {}})", "params.loras");
    row("loras[0] a string", "SD15", R"({"loras": ["x.safetensors"]})", "params.loras[0]");
    row("loras[0] without model", "SD15", R"({"loras": [{"weight": 1}]})", "params.loras[0].model");
    row("loras[1] weight above LoraLoader's 100", "SD15",
        R"({"loras": [{"model": )" MODEL R"(}, {"model": )" MODEL R"(, "weight": 100.5}]})",
        "params.loras[1].weight");
    row("loras[1] weight a string", "SDXL",
        R"({"loras": [{"model": )" MODEL R"(}, {"model": )" MODEL R"(, "weight": "1"}]})",
        "params.loras[1].weight");
    row("loras[0] unknown key", "Flux", R"({"loras": [{"model": )" MODEL R"(, "strength": 1}]})",
        "params.loras[0].strength");
    row("loras[1] model climbs out", "SD15",
        R"({"loras": [{"model": )" MODEL
        R"(}, {"model": {"type": "build_in", "name": "../x.safetensors"}}]})",
        "params.loras[1].model.name");

    // ControlNets.
    row("controlnets an object", "SD15", R"({"controlnets": {}})", "params.controlnets");
    row("controlnets[0] without image", "SD15", R"({"controlnets": [{"model": )" MODEL "}]}",
        "params.controlnets[0].image");
    row("controlnets[0] without model", "SD15", R"({"controlnets": [{"image": )" IMG "}]}",
        "params.controlnets[0].model");
    row("controlnets[0] image not base64", "SD15",
        R"({"controlnets": [{"model": )" MODEL
        R"(, "image": {"type": "base64", "content": "%%%"}}]})",
        "params.controlnets[0].image.content");
    row("controlnets[1] image not an image", "Flux",
        R"({"controlnets": [{"model": )" MODEL R"(, "image": )" IMG R"(}, {"model": )" MODEL
        R"(, "image": {"type": "base64", "content": "aGVsbG8gd29ybGQ="}}]})",
        "params.controlnets[1].image.content");
    row("controlnets[0] image a file URL", "SD15",
        R"({"controlnets": [{"model": )" MODEL
        R"(, "image": {"type": "url", "content": "file:///x.png"}}]})",
        "params.controlnets[0].image.content");
    row("controlnets[0] weight above 10", "SD15", CN(R"(, "weight": 10.5)"),
        "params.controlnets[0].weight");
    row("controlnets[0] weight negative", "SDXL", CN(R"(, "weight": -0.5)"),
        "params.controlnets[0].weight");
    row("controlnets[0] weight a string", "SD15", CN(R"(, "weight": "1")"),
        "params.controlnets[0].weight");
    row("controlnets[0] start_at above 1", "SD15", CN(R"(, "start_at": 1.5)"),
        "params.controlnets[0].start_at");
    row("controlnets[0] end_at negative", "SD15", CN(R"(, "end_at": -0.1)"),
        "params.controlnets[0].end_at");
    row("controlnets[0] start_at after end_at", "Flux", CN(R"(, "start_at": 0.8, "end_at": 0.2)"),
        "params.controlnets[0].start_at");
    row("controlnets[0] resize_mode unknown", "SD15", CN(R"(, "resize_mode": "Stretch")"),
        "params.controlnets[0].resize_mode");
    row("controlnets[0] resize_mode in lower case", "SD15", CN(R"(, "resize_mode": "just resize")"),
        "params.controlnets[0].resize_mode");
    row("controlnets[0] Resize and Fill of a URL image", "SD15",
        R"({"controlnets": [{"model": )" MODEL
        R"(, "image": {"type": "url", "content": "https://h.example/pose.png"},
             "resize_mode": "Resize and Fill"}]})",
        "params.controlnets[0].resize_mode");
    row("controlnets[0] unknown key", "SD15", CN(R"(, "strength": 1)"),
        "params.controlnets[0].strength");
    row("controlnets[0] preprocessor with a semicolon", "SD15",
        CN(R"(, "preprocessor": "Canny; rm -rf /")"), "params.controlnets[0].preprocessor");
    row("controlnets[0] preprocessor with a slash", "SD15", CN(R"(, "preprocessor": "../Canny")"),
        "params.controlnets[0].preprocessor");
    row("controlnets[0] preprocessor empty", "SD15", CN(R"(, "preprocessor": "")"),
        "params.controlnets[0].preprocessor");
    row("controlnets[0] preprocessor a number", "SD15", CN(R"(, "preprocessor": 3)"),
        "params.controlnets[0].preprocessor");
    row("controlnets[0] preprocessor no image node", "SD15", CN(R"(, "preprocessor": "KSampler")"),
        "params.controlnets[0].preprocessor");
    row("controlnets[0] preprocessor needing another link", "SD15",
        CN(R"(, "preprocessor": "ImageUpscaleWithModel")"),
        "params.controlnets[0].preprocessor_params.upscale_model");
    row("controlnets[0] preprocessor_params without preprocessor", "SD15",
        CN(R"(, "preprocessor_params": {"low_threshold": 0.2})"),
        "params.controlnets[0].preprocessor_params");
    row("controlnets[0] preprocessor_params a list", "SD15",
        CN(R"(, "preprocessor": "Canny", "preprocessor_params": [0.2])"),
        "params.controlnets[0].preprocessor_params");
    row("controlnets[0] Canny threshold out of range", "SD15",
        CN(R"(, "preprocessor": "Canny", "preprocessor_params": {"low_threshold": 2})"),
        "params.controlnets[0].preprocessor_params.low_threshold");
    row("controlnets[0] Canny threshold a string", "SD15",
        CN(R"(, "preprocessor": "Canny", "preprocessor_params": {"high_threshold": "0.3"})"),
        "params.controlnets[0].preprocessor_params.high_threshold");
    row("controlnets[0] Canny unknown input", "SD15",
        CN(R"(, "preprocessor": "Canny", "preprocessor_params": {"sigma": 1})"),
        "params.controlnets[0].preprocessor_params.sigma");
    row("controlnets[0] preprocessor_params sets the image", "SD15",
        CN(R"(, "preprocessor": "MyPreprocessor", "preprocessor_params": {"image": "x.png"})"),
        "params.controlnets[0].preprocessor_params.image");
    row("controlnets[0] custom preprocessor value a list", "SD15",
        CN(R"(, "preprocessor": "MyPreprocessor", "preprocessor_params": {"a": [1]})"),
        "params.controlnets[0].preprocessor_params.a");
    row("controlnets[0] custom preprocessor value null", "SD15",
        CN(R"(, "preprocessor": "MyPreprocessor", "preprocessor_params": {"a": null})"),
        "params.controlnets[0].preprocessor_params.a");

    // The SDXL refiner.
    row("refiner a string", "SDXL", R"({"refiner": "r.safetensors"})", "params.refiner");
    row("refiner without checkpoint", "SDXL", R"({"refiner": {"switch_at": 0.8}})",
        "params.refiner.checkpoint");
    row("refiner unknown key", "SDXL", REFINER(R"(, "switch": 0.5)"), "params.refiner.switch");
    row("refiner checkpoint climbs out", "SDXL",
        R"({"refiner": {"checkpoint": {"type": "build_in", "name": "../r.safetensors"}}})",
        "params.refiner.checkpoint.name");
    row("switch_at above 1", "SDXL", REFINER(R"(, "switch_at": 1.2)"), "params.refiner.switch_at");
    row("switch_at negative", "SDXL", REFINER(R"(, "switch_at": -0.2)"),
        "params.refiner.switch_at");
    row("switch_at a string", "SDXL", REFINER(R"(, "switch_at": "0.8")"),
        "params.refiner.switch_at");
    row("switch_at 0: no base step", "SDXL", REFINER(R"(, "switch_at": 0)"),
        "params.refiner.switch_at");
    row("switch_at 0.01 of 30: no base step", "SDXL", REFINER(R"(, "switch_at": 0.01)"),
        "params.refiner.switch_at");
    row("switch_at 1: no refiner step", "SDXL", REFINER(R"(, "switch_at": 1)"),
        "params.refiner.switch_at");
    row("switch_at 0.99 of 30: no refiner step", "SDXL", REFINER(R"(, "switch_at": 0.99)"),
        "params.refiner.switch_at");
    row("one step cannot be split", "SDXL",
        R"({"steps": 1, "refiner": {"checkpoint": )" MODEL R"(, "switch_at": 0.5}})",
        "params.refiner.switch_at");
    row("refiner with denoise 0", "SDXL",
        R"({"input_image": )" IMG R"(, "denoise": 0, "refiner": {"checkpoint": )" MODEL "}}",
        "params.denoise");
    row("refiner with a schedule beyond 10000 steps", "SDXL",
        R"({"input_image": )" IMG R"(, "denoise": 0.001, "refiner": {"checkpoint": )" MODEL "}}",
        "params.denoise");
}

void TestWorkflowValidation::invalid()
{
    QFETCH(QString, type);
    QFETCH(QByteArray, patch);
    QFETCH(QStringList, remove);
    QFETCH(QString, field);
    // The unchanged base is valid, so the row fails for its change alone.
    const comfy::Result<comfy::BuiltWorkflow> base = build(type, baseParams(type));
    QVERIFY2(base.ok(), base.ok() ? "" : qPrintable(base.error().message));

    const QJsonObject params = patched(type, patch, remove);
    const comfy::Result<comfy::BuiltWorkflow> built = build(type, params);
    QVERIFY2(!built.ok(), "accepted");
    QCOMPARE(built.error().kind, comfy::Error::Kind::Invalid);
    QCOMPARE(built.error().field, field);
    QVERIFY2(built.error().message.startsWith(field + QStringLiteral(": ")),
             qPrintable(built.error().message));
}

void TestWorkflowValidation::validVariants_data()
{
    QTest::addColumn<QString>("type");
    QTest::addColumn<QJsonObject>("params");
    for (const Variant &v : goldenVariants())
        QTest::newRow(qPrintable(v.name)) << v.type << v.params;
    // Edges that are valid.
    QTest::newRow("SD15 sizes at the limits")
        << "SD15" << patched("SD15", R"({"width": 64, "height": 8192})", {});
    QTest::newRow("Flux sizes at the limits")
        << "Flux" << patched("Flux", R"({"width": 8192, "height": 64})", {});
    QTest::newRow("seed 0 and 2^53 - 1")
        << "SD15" << patched("SD15", R"({"seed": 9007199254740991})", {});
    QTest::newRow("seed 0") << "SD15" << patched("SD15", R"({"seed": 0})", {});
    QTest::newRow("nulls are defaults")
        << "SDXL"
        << patched("SDXL", R"({"vae": null, "loras": null, "controlnets": null, "seed": null,
                   "refiner": null, "input_image": null, "steps": null, "width": null})",
                   {});
    QTest::newRow("whole numbers written as floats")
        << "SD15" << patched("SD15", R"({"steps": 20.0, "width": 512.0})", {});
    QTest::newRow("negative LoRA weight")
        << "SD15" << patched("SD15", R"({"loras": [{"model": )" MODEL R"(, "weight": -100}]})", {});
    QTest::newRow("start_at equal to end_at")
        << "SD15" << patched("SD15", CN(R"(, "start_at": 0.5, "end_at": 0.5)"), {});
    QTest::newRow("sub-folder names")
        << "SD15"
        << patched("SD15", R"({"vae": {"type": "build_in", "name": "a/b/v.safetensors"}})", {});
    QTest::newRow("denoise 0 without refiner")
        << "SD15" << patched("SD15", R"({"input_image": )" IMG R"(, "denoise": 0})", {});
    QTest::newRow("switch_at 0.5 of 2")
        << "SDXL"
        << patched("SDXL",
                   R"({"steps": 2, "refiner": {"checkpoint": )" MODEL R"(, "switch_at": 0.5}})",
                   {});
    QTest::newRow("data URL image")
        << "SD15"
        << patched(
               "SD15",
               R"({"input_image": {"type": "base64", "content": "data:image/png;base64,@IMG"}})",
               {});
    QTest::newRow("schnell ignores cfg_scale")
        << "Flux" << patched("Flux", R"({"unet_type": "schnell", "cfg_scale": 0})", {});
}

void TestWorkflowValidation::validVariants()
{
    QFETCH(QString, type);
    QFETCH(QJsonObject, params);
    const comfy::Result<comfy::BuiltWorkflow> built = build(type, params);
    QVERIFY2(built.ok(), built.ok() ? "" : qPrintable(built.error().message));
    QVERIFY(!built.value().graph.isEmpty());
    QVERIFY(built.value().seed.has_value());
}

void TestWorkflowValidation::documentedExamplesAreValid()
{
    // The example requests of the README's "Workflow types" table and of the OpenAPI document
    // build: the documentation shows requests the router takes.
    QFile readme(QStringLiteral(COMFY_SOURCE_DIR "/README.md"));
    QVERIFY(readme.open(QIODevice::ReadOnly));
    QStringList readmeTypes;
    for (const QByteArray &line : readme.readAll().split('\n')) {
        const qsizetype start = line.indexOf("`{\"type\": ");
        if (!line.startsWith("| `") || start < 0)
            continue;
        const QByteArray json = line.mid(start + 1, line.lastIndexOf("}`") - start);
        const QJsonObject body = object(json);
        const QString type = body.value("type").toString();
        readmeTypes << type;
        if (type == QLatin1String("Raw"))
            continue;
        const comfy::Result<comfy::BuiltWorkflow> built =
            build(type, body.value("params").toObject());
        QVERIFY2(built.ok(), qPrintable(type + QStringLiteral(": ") +
                                        (built.ok() ? QString() : built.error().message)));
    }
    QCOMPARE(readmeTypes, (QStringList{"Raw", "SD15", "SDXL", "Flux"}));

    QFile openapi(QStringLiteral(COMFY_SOURCE_DIR "/resources/openapi.json"));
    QVERIFY(openapi.open(QIODevice::ReadOnly));
    const QJsonObject examples = QJsonDocument::fromJson(openapi.readAll())
                                     .object()
                                     .value("paths")
                                     .toObject()
                                     .value("/workflow")
                                     .toObject()
                                     .value("post")
                                     .toObject()
                                     .value("requestBody")
                                     .toObject()
                                     .value("content")
                                     .toObject()
                                     .value("application/json")
                                     .toObject()
                                     .value("examples")
                                     .toObject();
    QSet<QString> openapiTypes;
    for (auto it = examples.begin(); it != examples.end(); ++it) {
        const QJsonObject body = it.value().toObject().value("value").toObject();
        const QString type = body.value("type").toString();
        openapiTypes.insert(type);
        if (type == QLatin1String("Raw"))
            continue;
        const comfy::Result<comfy::BuiltWorkflow> built =
            build(type, body.value("params").toObject());
        QVERIFY2(built.ok(), qPrintable(it.key() + QStringLiteral(": ") +
                                        (built.ok() ? QString() : built.error().message)));
    }
    QCOMPARE(openapiTypes, (QSet<QString>{"Raw", "SD15", "SDXL", "Flux"}));
}

QTEST_GUILESS_MAIN(TestWorkflowValidation)
#include "tst_workflowvalidation.moc"
