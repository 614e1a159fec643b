#include "workflows/diffusiongraph.h"

#include "workflows/imagecheck.h"
#include "workflows/objectinfo.h"

#include <QRegularExpression>

#include <algorithm>
#include <cmath>
#include <limits>

namespace comfy {

namespace {

using G = GraphBuilder;

// object_info bounds as reader limits. Some maxima (seeds: 2^64 - 1) do not fit a qint64;
// no parameter read here comes near them.
struct Bounds {
    double min;
    double max;
    qint64 intMin() const { return qint64(std::clamp(min, -9.0e15, 9.0e15)); }
    qint64 intMax() const { return qint64(std::clamp(max, -9.0e15, 9.0e15)); }
};

Bounds boundsOf(const ObjectInfo &info, const QString &classType, const QString &input)
{
    return {info.minimum(classType, input).value_or(-std::numeric_limits<double>::max()),
            info.maximum(classType, input).value_or(std::numeric_limits<double>::max())};
}

Bounds boundsOf(const QJsonArray &spec)
{
    const QJsonObject options = spec.at(1).toObject();
    return {options.value(QLatin1String("min")).toDouble(-std::numeric_limits<double>::max()),
            options.value(QLatin1String("max")).toDouble(std::numeric_limits<double>::max())};
}

std::optional<ImageInput> readImage(ParamReader &reader, const QString &key, bool required)
{
    if (std::optional<ParamReader> object = reader.object(key, false))
        object->rejectUnknown({QStringLiteral("type"), QStringLiteral("content")});
    return reader.image(key, required);
}

// The value types a widget input of object_info takes; anything else is a link type.
bool isWidgetType(const QJsonValue &type)
{
    static const QStringList widgets = {QStringLiteral("INT"), QStringLiteral("FLOAT"),
                                        QStringLiteral("STRING"), QStringLiteral("BOOLEAN")};
    return type.isArray() || widgets.contains(type.toString());
}

// The inputs of a ControlNet preprocessor node beside its "image" link. For a class of the
// recorded object_info (e.g. Canny) each value is checked against the class's spec and
// missing required values take their object_info defaults, so that the node never rejects the
// graph after it was queued. A class unknown here (a custom node such as
// comfyui_controlnet_aux's) gets the values as they are: plain scalars only.
QJsonObject readPreprocessorParams(ParamReader &controlNet, const QString &classType,
                                   const ObjectInfo &info)
{
    const QString base = controlNet.field(QStringLiteral("preprocessor_params"));
    std::optional<ParamReader> given =
        controlNet.object(QStringLiteral("preprocessor_params"), false);
    QJsonObject values = given ? given->json() : QJsonObject();
    const bool known = info.hasClass(classType);
    for (auto it = values.constBegin(); it != values.constEnd(); ++it) {
        const QString key = it.key();
        const QString field = base + QLatin1Char('.') + key;
        const QJsonValue value = it.value();
        if (key == QLatin1String("image")) {
            controlNet.fail(field, QStringLiteral("is the ControlNet image, linked by the router"));
            break;
        }
        if (!known) {
            if (!value.isString() && !value.isDouble() && !value.isBool())
                controlNet.fail(field, QStringLiteral("must be a string, number or boolean"));
            continue;
        }
        const QJsonArray spec = info.inputSpec(classType, key);
        if (spec.isEmpty()) {
            controlNet.fail(field, QStringLiteral("is not an input of %1").arg(classType));
            break;
        }
        const QJsonValue type = spec.at(0);
        const Bounds bounds = boundsOf(spec);
        if (type.isArray()) {
            QStringList allowed;
            for (const QJsonValue &v : type.toArray())
                allowed.append(v.toString());
            given->choice(key, QString(), allowed);
        } else if (type.toString() == QLatin1String("INT")) {
            given->integer(key, 0, bounds.intMin(), bounds.intMax());
        } else if (type.toString() == QLatin1String("FLOAT")) {
            given->number(key, 0.0, bounds.min, bounds.max);
        } else if (type.toString() == QLatin1String("STRING")) {
            given->string(key, QString());
        } else if (type.toString() == QLatin1String("BOOLEAN")) {
            if (!value.isBool())
                controlNet.fail(field, QStringLiteral("must be a boolean"));
        } else {
            controlNet.fail(field, QStringLiteral("is a %1 link of %2; only its image is linked")
                                       .arg(type.toString(), classType));
        }
    }
    if (!known || !controlNet.ok())
        return values;

    const QString preprocessorField = controlNet.field(QStringLiteral("preprocessor"));
    const QJsonArray image = info.inputSpec(classType, QStringLiteral("image"));
    if (image.at(0).toString() != QLatin1String("IMAGE") ||
        info.outputTypes(classType).value(0) != QLatin1String("IMAGE")) {
        controlNet.fail(preprocessorField,
                        QStringLiteral("%1 is no image preprocessor (an IMAGE input named "
                                       "'image' and an IMAGE first output)")
                            .arg(classType));
        return values;
    }
    const QJsonObject required = info.classInfo(classType)
                                     .value(QLatin1String("input"))
                                     .toObject()
                                     .value(QLatin1String("required"))
                                     .toObject();
    for (auto it = required.begin(); it != required.end(); ++it) {
        if (it.key() == QLatin1String("image") || values.contains(it.key()))
            continue;
        const QJsonArray spec = it.value().toArray();
        const QJsonValue fallback = spec.at(1).toObject().value(QLatin1String("default"));
        if (isWidgetType(spec.at(0)) && !fallback.isUndefined()) {
            values.insert(it.key(), fallback);
        } else if (isWidgetType(spec.at(0)) && spec.at(0).isArray() &&
                   !spec.at(0).toArray().isEmpty()) {
            values.insert(it.key(), spec.at(0).toArray().first()); // ComfyUI's list default
        } else {
            controlNet.fail(base + QLatin1Char('.') + it.key(),
                            QStringLiteral("required by %1").arg(classType));
            break;
        }
    }
    return values;
}

QList<LoraParams> readLoras(ParamReader &params, const ObjectInfo &info)
{
    QList<LoraParams> loras;
    const Bounds weight =
        boundsOf(info, QStringLiteral("LoraLoader"), QStringLiteral("strength_model"));
    for (ParamReader &item : params.objects(QStringLiteral("loras"))) {
        item.rejectUnknown({QStringLiteral("model"), QStringLiteral("weight")});
        LoraParams lora;
        lora.field = item.path();
        lora.model = readModel(item, QStringLiteral("model"), true).value_or(ModelRef{});
        lora.weight = item.number(QStringLiteral("weight"), 1.0, weight.min, weight.max);
        loras.append(lora);
    }
    return loras;
}

QList<ControlNetParams> readControlNets(ParamReader &params, const ObjectInfo &info)
{
    static const QRegularExpression className(QStringLiteral("^[A-Za-z0-9_ .-]+$"));
    static const QStringList modes = {QStringLiteral("Just Resize"),
                                      QStringLiteral("Crop and Resize"),
                                      QStringLiteral("Resize and Fill")};
    const QString apply = QStringLiteral("ControlNetApplyAdvanced");
    const Bounds strength = boundsOf(info, apply, QStringLiteral("strength"));
    const Bounds start = boundsOf(info, apply, QStringLiteral("start_percent"));
    const Bounds end = boundsOf(info, apply, QStringLiteral("end_percent"));

    QList<ControlNetParams> controlNets;
    for (ParamReader &item : params.objects(QStringLiteral("controlnets"))) {
        item.rejectUnknown({QStringLiteral("model"), QStringLiteral("weight"),
                            QStringLiteral("start_at"), QStringLiteral("end_at"),
                            QStringLiteral("preprocessor"), QStringLiteral("preprocessor_params"),
                            QStringLiteral("image"), QStringLiteral("resize_mode")});
        ControlNetParams cn;
        cn.field = item.path();
        cn.model = readModel(item, QStringLiteral("model"), true).value_or(ModelRef{});
        cn.weight = item.number(QStringLiteral("weight"), 1.0, strength.min, strength.max);
        cn.startAt = item.number(QStringLiteral("start_at"), 0.0, start.min, start.max);
        cn.endAt = item.number(QStringLiteral("end_at"), 1.0, end.min, end.max);
        if (item.ok() && cn.startAt > cn.endAt)
            item.fail(item.field(QStringLiteral("start_at")),
                      QStringLiteral("%1 is after end_at (%2)").arg(cn.startAt).arg(cn.endAt));
        cn.preprocessor = item.string(QStringLiteral("preprocessor"), QString());
        if (item.has(QStringLiteral("preprocessor")) && item.ok() &&
            !className.match(cn.preprocessor).hasMatch())
            item.fail(item.field(QStringLiteral("preprocessor")),
                      QStringLiteral("must be a node class name (letters, digits, ' ', '_', "
                                     "'.', '-')"));
        if (item.has(QStringLiteral("preprocessor_params")) && cn.preprocessor.isEmpty() &&
            item.ok())
            item.fail(item.field(QStringLiteral("preprocessor_params")),
                      QStringLiteral("given without a preprocessor"));
        if (!cn.preprocessor.isEmpty() && item.ok())
            cn.preprocessorParams = readPreprocessorParams(item, cn.preprocessor, info);
        cn.image = readImage(item, QStringLiteral("image"), true).value_or(ImageInput{});
        const QString mode = item.choice(QStringLiteral("resize_mode"), modes.first(), modes);
        cn.resizeMode = ResizeMode(std::max<qsizetype>(0, modes.indexOf(mode)));
        controlNets.append(cn);
    }
    return controlNets;
}

} // namespace

QStringList commonParamNames()
{
    return {QStringLiteral("prompt"),      QStringLiteral("negative_prompt"),
            QStringLiteral("loras"),       QStringLiteral("controlnets"),
            QStringLiteral("input_image"), QStringLiteral("input_mask"),
            QStringLiteral("denoise"),     QStringLiteral("width"),
            QStringLiteral("height"),      QStringLiteral("batch_size"),
            QStringLiteral("sampler"),     QStringLiteral("scheduler"),
            QStringLiteral("steps"),       QStringLiteral("cfg_scale"),
            QStringLiteral("seed")};
}

std::optional<ModelRef> readModel(ParamReader &reader, const QString &key, bool required)
{
    if (std::optional<ParamReader> object = reader.object(key, false))
        object->rejectUnknown(
            {QStringLiteral("type"), QStringLiteral("name"), QStringLiteral("sha256")});
    return reader.model(key, required);
}

DiffusionParams readDiffusionParams(ParamReader &params, const FamilyDefaults &family,
                                    const ObjectInfo &info)
{
    DiffusionParams p;
    p.loras = readLoras(params, info);
    p.controlNets = readControlNets(params, info);
    p.prompt = params.string(QStringLiteral("prompt"));
    p.negativePrompt = params.string(QStringLiteral("negative_prompt"), QString());
    p.inputImage = readImage(params, QStringLiteral("input_image"), false);
    p.inputMask = readImage(params, QStringLiteral("input_mask"), false);
    if (params.has(QStringLiteral("input_mask")) && !params.has(QStringLiteral("input_image")))
        params.fail(params.field(QStringLiteral("input_mask")),
                    QStringLiteral("needs input_image (the picture to inpaint)"));
    // img2img keeps some of the input picture by default; inpainting repaints the masked
    // area fully (VAEEncodeForInpaint) unless told otherwise.
    const double denoise = p.inputImage && !p.inputMask ? 0.75 : 1.0;
    p.denoise = params.number(QStringLiteral("denoise"), denoise, 0.0, 1.0);
    p.width =
        int(params.integer(QStringLiteral("width"), family.size, 64, 8192, family.sizeMultiple));
    p.height =
        int(params.integer(QStringLiteral("height"), family.size, 64, 8192, family.sizeMultiple));
    // The batch comes from the empty latent, or from RepeatLatentBatch over an encoded picture:
    // each node has its own range.
    const Bounds batch =
        p.inputImage ? boundsOf(info, QStringLiteral("RepeatLatentBatch"), QStringLiteral("amount"))
                     : boundsOf(info, family.latentClass, QStringLiteral("batch_size"));
    p.batchSize =
        int(params.integer(QStringLiteral("batch_size"), 1, batch.intMin(), batch.intMax()));
    p.sampler =
        params.choice(QStringLiteral("sampler"), QStringLiteral("euler"),
                      info.allowedValues(family.samplerClass, QStringLiteral("sampler_name")));
    p.scheduler =
        params.choice(QStringLiteral("scheduler"), family.scheduler,
                      info.allowedValues(family.samplerClass, QStringLiteral("scheduler")));
    const Bounds steps = boundsOf(info, family.samplerClass, QStringLiteral("steps"));
    p.steps =
        int(params.integer(QStringLiteral("steps"), family.steps, steps.intMin(), steps.intMax()));
    const Bounds cfg = boundsOf(info, family.cfgClass, family.cfgInput);
    p.cfg = params.number(QStringLiteral("cfg_scale"), family.cfg, cfg.min, cfg.max);
    p.seed = params.has(QStringLiteral("seed"))
                 ? params.integer(QStringLiteral("seed"), 0, 0, MaxSeed)
                 : randomSeed();
    return p;
}

DiffusionGraph::DiffusionGraph(GraphBuilder &graph, ParamReader &reader,
                               const DiffusionParams &params)
    : m_graph(graph)
    , m_reader(reader)
    , m_params(params)
{
}

void DiffusionGraph::addLoras(QJsonArray &model, QJsonArray &clip)
{
    for (const LoraParams &lora : m_params.loras) {
        const QString id =
            m_graph.add(QStringLiteral("LoraLoader"),
                        {{QStringLiteral("model"), model},
                         {QStringLiteral("clip"), clip},
                         {QStringLiteral("lora_name"),
                          m_graph.modelFile(lora.model, QStringLiteral("models/loras"),
                                            lora.field + QStringLiteral(".model"))},
                         {QStringLiteral("strength_model"), lora.weight},
                         {QStringLiteral("strength_clip"), lora.weight}});
        model = G::link(id, 0);
        clip = G::link(id, 1);
    }
}

QJsonArray DiffusionGraph::encode(const QJsonArray &clip, const QString &text)
{
    return G::link(m_graph.add(QStringLiteral("CLIPTextEncode"),
                               {{QStringLiteral("text"), text}, {QStringLiteral("clip"), clip}}),
                   0);
}

QJsonArray DiffusionGraph::loadScaled(const ImageInput &image, const QString &field)
{
    const QString load =
        m_graph.add(QStringLiteral("LoadImage"),
                    {{QStringLiteral("image"), m_graph.imageFile(image, field, m_reader)}});
    // Stretched to the output size like ControlNet's "Just Resize", so that an image and its
    // mask stay aligned whatever their aspect.
    const QString scale =
        m_graph.add(QStringLiteral("ImageScale"),
                    {{QStringLiteral("image"), G::link(load, 0)},
                     {QStringLiteral("upscale_method"), QLatin1String(UpscaleMethod)},
                     {QStringLiteral("width"), m_params.width},
                     {QStringLiteral("height"), m_params.height},
                     {QStringLiteral("crop"), QStringLiteral("disabled")}});
    return G::link(scale, 0);
}

QJsonArray DiffusionGraph::controlImage(const ControlNetParams &cn)
{
    ImageFacts facts;
    const QString name =
        m_graph.imageFile(cn.image, cn.field + QStringLiteral(".image"), m_reader, &facts);
    const QString load =
        m_graph.add(QStringLiteral("LoadImage"), {{QStringLiteral("image"), name}});
    const auto scale = [this, &load](int width, int height, const char *crop) {
        return m_graph.add(QStringLiteral("ImageScale"),
                           {{QStringLiteral("image"), G::link(load, 0)},
                            {QStringLiteral("upscale_method"), QLatin1String(UpscaleMethod)},
                            {QStringLiteral("width"), width},
                            {QStringLiteral("height"), height},
                            {QStringLiteral("crop"), QLatin1String(crop)}});
    };
    const int width = m_params.width;
    const int height = m_params.height;
    switch (cn.resizeMode) {
    case ResizeMode::JustResize:
        return G::link(scale(width, height, "disabled"), 0);
    case ResizeMode::CropAndResize:
        return G::link(scale(width, height, "center"), 0); // fills the frame, crops the rest
    case ResizeMode::ResizeAndFill:
        break;
    }
    // "Resize and Fill": the whole picture scaled to fit inside the output, the rest padded.
    // ComfyUI's built-in nodes cannot compute a fit from the picture's own size, so the router
    // computes it from the image header: only base64 images are known at submit (a URL is
    // fetched later, by then the graph is queued). The fitted size is rounded to multiples of
    // 8, as ImagePadForOutpaint's pads step by 8; the padding is ImagePadForOutpaint's grey.
    if (facts.width <= 0 || facts.height <= 0) {
        if (m_reader.ok())
            m_reader.fail(cn.field + QStringLiteral(".resize_mode"),
                          QStringLiteral("'Resize and Fill' needs the image's size at submit: "
                                         "give the image as base64, or use 'Just Resize' or "
                                         "'Crop and Resize'"));
        return G::link(load, 0);
    }
    const double factor = std::min(double(width) / facts.width, double(height) / facts.height);
    const auto fit = [](double size, int limit) {
        return std::clamp(int(std::lround(size / 8.0)) * 8, 8, limit);
    };
    const int fitWidth = fit(facts.width * factor, width);
    const int fitHeight = fit(facts.height * factor, height);
    const QString scaled = scale(fitWidth, fitHeight, "disabled");
    if (fitWidth == width && fitHeight == height)
        return G::link(scaled, 0);
    const int left = (width - fitWidth) / 16 * 8;
    const int top = (height - fitHeight) / 16 * 8;
    const QString pad = m_graph.add(QStringLiteral("ImagePadForOutpaint"),
                                    {{QStringLiteral("image"), G::link(scaled, 0)},
                                     {QStringLiteral("left"), left},
                                     {QStringLiteral("top"), top},
                                     {QStringLiteral("right"), width - fitWidth - left},
                                     {QStringLiteral("bottom"), height - fitHeight - top},
                                     {QStringLiteral("feathering"), 0}});
    return G::link(pad, 0);
}

void DiffusionGraph::addControlNets(QJsonArray &positive, QJsonArray &negative,
                                    const QJsonArray &vae)
{
    for (const ControlNetParams &cn : m_params.controlNets) {
        const QString loader =
            m_graph.add(QStringLiteral("ControlNetLoader"),
                        {{QStringLiteral("control_net_name"),
                          m_graph.modelFile(cn.model, QStringLiteral("models/controlnet"),
                                            cn.field + QStringLiteral(".model"))}});
        QJsonArray image = controlImage(cn);
        if (!cn.preprocessor.isEmpty()) {
            QJsonObject inputs = cn.preprocessorParams;
            inputs.insert(QStringLiteral("image"), image);
            image = G::link(m_graph.add(cn.preprocessor, inputs), 0);
        }
        // The vae input lets the apply node encode the hint for models that need it (Flux,
        // SD3 ControlNets); older ones ignore it.
        const QString apply = m_graph.add(QStringLiteral("ControlNetApplyAdvanced"),
                                          {{QStringLiteral("positive"), positive},
                                           {QStringLiteral("negative"), negative},
                                           {QStringLiteral("control_net"), G::link(loader, 0)},
                                           {QStringLiteral("image"), image},
                                           {QStringLiteral("strength"), cn.weight},
                                           {QStringLiteral("start_percent"), cn.startAt},
                                           {QStringLiteral("end_percent"), cn.endAt},
                                           {QStringLiteral("vae"), vae}});
        positive = G::link(apply, 0);
        negative = G::link(apply, 1);
    }
}

QJsonArray DiffusionGraph::addLatent(const QJsonArray &vae, const QString &latentClass)
{
    if (!m_params.inputImage)
        return G::link(
            m_graph.add(latentClass, {{QStringLiteral("width"), m_params.width},
                                      {QStringLiteral("height"), m_params.height},
                                      {QStringLiteral("batch_size"), m_params.batchSize}}),
            0);
    const QJsonArray pixels =
        loadScaled(*m_params.inputImage, QStringLiteral("params.input_image"));
    QJsonArray latent;
    if (m_params.inputMask) {
        const QJsonArray maskImage =
            loadScaled(*m_params.inputMask, QStringLiteral("params.input_mask"));
        // White (red channel 1.0) is repainted, black kept.
        const QJsonArray mask =
            G::link(m_graph.add(QStringLiteral("ImageToMask"),
                                {{QStringLiteral("image"), maskImage},
                                 {QStringLiteral("channel"), QStringLiteral("red")}}),
                    0);
        if (m_params.fullInpaint()) {
            // Blanks the masked area before encoding: the model paints it from scratch.
            latent = G::link(m_graph.add(QStringLiteral("VAEEncodeForInpaint"),
                                         {{QStringLiteral("pixels"), pixels},
                                          {QStringLiteral("vae"), vae},
                                          {QStringLiteral("mask"), mask},
                                          {QStringLiteral("grow_mask_by"), 6}}),
                             0);
        } else {
            // Keeps the masked area's content as the start of a partial denoise.
            const QString encoded =
                m_graph.add(QStringLiteral("VAEEncode"),
                            {{QStringLiteral("pixels"), pixels}, {QStringLiteral("vae"), vae}});
            latent = G::link(m_graph.add(QStringLiteral("SetLatentNoiseMask"),
                                         {{QStringLiteral("samples"), G::link(encoded, 0)},
                                          {QStringLiteral("mask"), mask}}),
                             0);
        }
    } else {
        latent =
            G::link(m_graph.add(QStringLiteral("VAEEncode"),
                                {{QStringLiteral("pixels"), pixels}, {QStringLiteral("vae"), vae}}),
                    0);
    }
    if (m_params.batchSize > 1)
        latent = G::link(m_graph.add(QStringLiteral("RepeatLatentBatch"),
                                     {{QStringLiteral("samples"), latent},
                                      {QStringLiteral("amount"), m_params.batchSize}}),
                         0);
    return latent;
}

QJsonArray DiffusionGraph::addSampler(const QJsonArray &model, const QJsonArray &positive,
                                      const QJsonArray &negative, const QJsonArray &latent,
                                      double cfg)
{
    const QString id = m_graph.add(QStringLiteral("KSampler"),
                                   {{QStringLiteral("model"), model},
                                    {QStringLiteral("seed"), QJsonValue(m_params.seed)},
                                    {QStringLiteral("steps"), m_params.steps},
                                    {QStringLiteral("cfg"), cfg},
                                    {QStringLiteral("sampler_name"), m_params.sampler},
                                    {QStringLiteral("scheduler"), m_params.scheduler},
                                    {QStringLiteral("positive"), positive},
                                    {QStringLiteral("negative"), negative},
                                    {QStringLiteral("latent_image"), latent},
                                    {QStringLiteral("denoise"), m_params.denoise}});
    m_graph.setSamplerSteps(id, m_params.steps);
    return G::link(id, 0);
}

void DiffusionGraph::addOutput(const QJsonArray &samples, const QJsonArray &vae)
{
    const QString decode =
        m_graph.add(QStringLiteral("VAEDecode"),
                    {{QStringLiteral("samples"), samples}, {QStringLiteral("vae"), vae}});
    m_graph.add(QStringLiteral("SaveImage"),
                {{QStringLiteral("images"), G::link(decode, 0)},
                 {QStringLiteral("filename_prefix"), QLatin1String(FilenamePrefix)}});
}

} // namespace comfy
