#include "workflowfixtures.h"

#include <QCryptographicHash>
#include <QJsonArray>
#include <QJsonDocument>

namespace fixtures {

namespace {
const char PhotoBase64[] =
    "iVBORw0KGgoAAAANSUhEUgAAACgAAAAeCAIAAADRv8uKAAAAQklEQVR42u3NMREAMAgAMYQhonIYkVIRCKyDH+"
    "j6d9kTEQ0SFRoUxsbGxvv4NEhUaJCxsbHxR3wbJCo0yNjY2HgdPyIEdSwGgN95AAAAAElFTkSuQmCC";
const char MaskBase64[] =
    "iVBORw0KGgoAAAANSUhEUgAAACgAAAAeCAIAAADRv8uKAAAAJklEQVR42u3NQQ0AAAgEoOtfWkM4HzooQAI8VwNi"
    "sVgsFu/EwAENnllE5iFUyw0AAAAASUVORK5CYII=";
const char HintBase64[] =
    "iVBORw0KGgoAAAANSUhEUgAAADAAAAAgCAIAAADbtmxLAAAAPklEQVR42u3UoQ0AMAhFwT9E91+1sEEdVBwJDnGCvNzP"
    "Jr3nNZM3QEBAEyAd8kNAQDqkQ0BAOqRDfggIaA9UBpetbYeFvkoAAAAASUVORK5CYII=";

QByteArray decoded(const char *base64)
{
    return QByteArray::fromBase64(QByteArray(base64));
}
} // namespace

QByteArray photoPng()
{
    return decoded(PhotoBase64);
}

QByteArray maskPng()
{
    return decoded(MaskBase64);
}

QByteArray hintPng()
{
    return decoded(HintBase64);
}

QJsonObject base64Image(const QByteArray &bytes)
{
    return {{QStringLiteral("type"), QStringLiteral("base64")},
            {QStringLiteral("content"), QString::fromLatin1(bytes.toBase64())}};
}

QJsonObject urlImage(const QString &url)
{
    return {{QStringLiteral("type"), QStringLiteral("url")}, {QStringLiteral("content"), url}};
}

QJsonObject buildIn(const QString &name)
{
    return {{QStringLiteral("type"), QStringLiteral("build_in")}, {QStringLiteral("name"), name}};
}

QJsonObject custom(const QString &url)
{
    return {{QStringLiteral("type"), QStringLiteral("custom")}, {QStringLiteral("name"), url}};
}

QJsonObject object(const QByteArray &json)
{
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(json, &error);
    if (error.error != QJsonParseError::NoError || !document.isObject())
        qFatal("bad test JSON (%s): %s", qPrintable(error.errorString()), json.constData());
    return document.object();
}

QList<Variant> goldenVariants()
{
    const QJsonObject sd15 = object(R"({
        "checkpoint": {"type": "build_in", "name": "sd15/v1-5-pruned-emaonly.safetensors"},
        "prompt": "a lighthouse at dusk, oil painting",
        "seed": 42})");
    const QJsonObject sdxl = object(R"({
        "checkpoint": {"type": "build_in", "name": "SDXL/sd_xl_base_1.0.safetensors"},
        "prompt": "a lighthouse at dusk, photograph",
        "negative_prompt": "blurry, low quality",
        "seed": 1234567890123})");
    const QJsonObject flux = object(R"({
        "unet": {"type": "build_in", "name": "flux1-dev.safetensors"},
        "vae": {"type": "build_in", "name": "ae.safetensors"},
        "t5xxl": {"type": "build_in", "name": "t5xxl_fp16.safetensors"},
        "clip": {"type": "build_in", "name": "clip_l.safetensors"},
        "prompt": "a lighthouse at dusk, cinematic",
        "seed": 9007199254740991})");
    const auto with = [](QJsonObject params, const QJsonObject &more) {
        for (auto it = more.begin(); it != more.end(); ++it)
            params.insert(it.key(), it.value());
        return params;
    };
    const QJsonObject photo{{"input_image", base64Image(photoPng())}};
    const QJsonObject inpaint{{"input_image", base64Image(photoPng())},
                              {"input_mask", base64Image(maskPng())}};

    QJsonObject canny{{"model", buildIn("control_v11p_sd15_canny.pth")},
                      {"image", base64Image(photoPng())},
                      {"preprocessor", "Canny"},
                      {"preprocessor_params", QJsonObject{{"low_threshold", 0.3}}},
                      {"resize_mode", "Crop and Resize"}};
    QJsonObject depth{{"model", custom("https://models.example/cn/control_v11f1p_sd15_depth.pth")},
                      {"weight", 0.6},
                      {"start_at", 0.1},
                      {"end_at", 0.9},
                      {"image", base64Image(hintPng())},
                      {"resize_mode", "Resize and Fill"}};

    QList<Variant> variants;
    variants << Variant{"sd15_txt2img", "SD15", sd15};
    variants << Variant{"sd15_vae", "SD15", with(sd15, object(R"({
        "vae": {"type": "build_in", "name": "vae-ft-mse-840000-ema-pruned.safetensors"},
        "negative_prompt": "blurry", "width": 768, "height": 512, "batch_size": 2,
        "steps": 25, "cfg_scale": 6.5, "sampler": "dpmpp_2m", "scheduler": "karras"})"))};
    variants << Variant{"sd15_loras", "SD15", with(sd15, object(R"({"loras": [
        {"model": {"type": "build_in", "name": "detail-tweaker.safetensors"}, "weight": 0.8},
        {"model": {"type": "custom", "name": "https://models.example/loras/pixel-art.safetensors"}}
        ]})"))};
    variants << Variant{"sd15_controlnets", "SD15",
                        with(sd15, {{"controlnets", QJsonArray{canny, depth}}})};
    variants << Variant{"sd15_img2img", "SD15", with(with(sd15, photo), {{"batch_size", 3}})};
    variants << Variant{"sd15_inpaint_full", "SD15", with(sd15, inpaint)};
    variants << Variant{
        "sd15_inpaint_partial", "SD15",
        with(with(sd15, inpaint), object(R"({"denoise": 0.6, "vae": {"type": "build_in",
                                 "name": "vae-ft-mse-840000-ema-pruned.safetensors"}})"))};
    variants << Variant{"sdxl_txt2img", "SDXL", with(sdxl, {{"width", 1152}, {"height", 896}})};
    variants << Variant{"sdxl_refiner", "SDXL", with(sdxl, object(R"({"refiner": {"checkpoint":
        {"type": "build_in", "name": "SDXL/sd_xl_refiner_1.0.safetensors"}}})"))};
    variants << Variant{"sdxl_refiner_img2img", "SDXL",
                        with(with(sdxl, photo), object(R"({"denoise": 0.5, "steps": 20,
        "refiner": {"checkpoint": {"type": "build_in", "name": "SDXL/sd_xl_refiner_1.0.safetensors"},
                    "switch_at": 0.75}})"))};
    variants << Variant{"sdxl_img2img", "SDXL", with(with(sdxl, photo), object(R"({"denoise": 0.5,
        "vae": {"type": "build_in", "name": "SDXL/sdxl_vae.safetensors"}})"))};
    variants << Variant{"flux_dev", "Flux", flux};
    variants << Variant{"flux_schnell", "Flux", with(flux, object(R"({
        "unet": {"type": "build_in", "name": "flux1-schnell.safetensors"},
        "unet_type": "schnell", "unet_dtype": "fp8_e4m3fn", "width": 768, "height": 1344})"))};
    variants << Variant{"flux_lora", "Flux", with(flux, object(R"({"loras": [
        {"model": {"type": "build_in", "name": "flux-realism.safetensors"}, "weight": 0.7}]})"))};
    variants << Variant{"flux_controlnet", "Flux", with(flux, object(R"({"controlnets": [
        {"model": {"type": "build_in", "name": "flux-canny-controlnet-v3.safetensors"},
         "image": {"type": "url", "content": "https://images.example/pose.png"},
         "weight": 0.7, "end_at": 0.6}]})"))};
    variants << Variant{"flux_img2img", "Flux", with(with(flux, photo), {{"denoise", 0.7}})};
    variants << Variant{"flux_inpaint", "Flux", with(flux, inpaint)};
    return variants;
}

QStringList buildInModelFiles()
{
    return {
        QStringLiteral("models/checkpoints/sd15/v1-5-pruned-emaonly.safetensors"),
        QStringLiteral("models/checkpoints/SDXL/sd_xl_base_1.0.safetensors"),
        QStringLiteral("models/checkpoints/SDXL/sd_xl_refiner_1.0.safetensors"),
        QStringLiteral("models/vae/vae-ft-mse-840000-ema-pruned.safetensors"),
        QStringLiteral("models/vae/SDXL/sdxl_vae.safetensors"),
        QStringLiteral("models/vae/ae.safetensors"),
        QStringLiteral("models/loras/detail-tweaker.safetensors"),
        QStringLiteral("models/loras/flux-realism.safetensors"),
        QStringLiteral("models/controlnet/control_v11p_sd15_canny.pth"),
        QStringLiteral("models/controlnet/flux-canny-controlnet-v3.safetensors"),
        QStringLiteral("models/unet/flux1-dev.safetensors"),
        QStringLiteral("models/unet/flux1-schnell.safetensors"),
        QStringLiteral("models/clip/t5xxl_fp16.safetensors"),
        QStringLiteral("models/clip/clip_l.safetensors"),
    };
}

QString inlineName(const QByteArray &png)
{
    return QStringLiteral("inline-%1.png")
        .arg(QString::fromLatin1(
            QCryptographicHash::hash(png, QCryptographicHash::Sha256).toHex().left(24)));
}

} // namespace fixtures
