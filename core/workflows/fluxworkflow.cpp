#include "workflows/fluxworkflow.h"

#include "workflows/diffusiongraph.h"
#include "workflows/objectinfo.h"

namespace comfy {

namespace {
using G = GraphBuilder;
} // namespace

Result<BuiltWorkflow> FluxWorkflow::build(const QJsonObject &params, const ObjectInfo &objectInfo)
{
    ParamReader reader(params, QStringLiteral("params"));
    QStringList known = commonParamNames();
    known << QStringLiteral("unet") << QStringLiteral("unet_dtype") << QStringLiteral("unet_type")
          << QStringLiteral("vae") << QStringLiteral("t5xxl") << QStringLiteral("clip");
    reader.rejectUnknown(known);

    const std::optional<ModelRef> unet = readModel(reader, QStringLiteral("unet"), true);
    const QString dtype = reader.choice(
        QStringLiteral("unet_dtype"), QStringLiteral("default"),
        objectInfo.allowedValues(QStringLiteral("UNETLoader"), QStringLiteral("weight_dtype")));
    const QString type = reader.choice(QStringLiteral("unet_type"), QStringLiteral("dev"),
                                       {QStringLiteral("dev"), QStringLiteral("schnell")});
    const std::optional<ModelRef> vae = readModel(reader, QStringLiteral("vae"), true);
    const std::optional<ModelRef> t5xxl = readModel(reader, QStringLiteral("t5xxl"), true);
    const std::optional<ModelRef> clipModel = readModel(reader, QStringLiteral("clip"), true);
    const bool dev = type != QLatin1String("schnell");

    FamilyDefaults family;
    family.size = 1024;
    family.sizeMultiple = 16; // Flux latents are 2x2-patched: 16 pixels per token side
    family.steps = dev ? 20 : 4;
    family.cfg = 3.5;
    family.scheduler = QStringLiteral("simple");
    family.latentClass = QStringLiteral("EmptySD3LatentImage");
    family.samplerClass = QStringLiteral("KSampler");
    // cfg_scale is the guidance the dev model was distilled with, not the sampler's CFG.
    family.cfgClass = QStringLiteral("FluxGuidance");
    family.cfgInput = QStringLiteral("guidance");
    const DiffusionParams p = readDiffusionParams(reader, family, objectInfo);
    if (!reader.ok())
        return reader.error();

    GraphBuilder graph;
    DiffusionGraph parts(graph, reader, p);
    QJsonArray model = G::link(graph.add(QStringLiteral("UNETLoader"),
                                         {{QStringLiteral("unet_name"),
                                           graph.modelFile(*unet, QStringLiteral("models/unet"),
                                                           QStringLiteral("params.unet"))},
                                          {QStringLiteral("weight_dtype"), dtype}}),
                               0);
    QJsonArray clip = G::link(graph.add(QStringLiteral("DualCLIPLoader"),
                                        {{QStringLiteral("clip_name1"),
                                          graph.modelFile(*t5xxl, QStringLiteral("models/clip"),
                                                          QStringLiteral("params.t5xxl"))},
                                         {QStringLiteral("clip_name2"),
                                          graph.modelFile(*clipModel, QStringLiteral("models/clip"),
                                                          QStringLiteral("params.clip"))},
                                         {QStringLiteral("type"), QStringLiteral("flux")}}),
                              0);
    const QJsonArray vaeLink = G::link(
        graph.add(QStringLiteral("VAELoader"),
                  {{QStringLiteral("vae_name"), graph.modelFile(*vae, QStringLiteral("models/vae"),
                                                                QStringLiteral("params.vae"))}}),
        0);
    parts.addLoras(model, clip);
    QJsonArray positive = parts.encode(clip, p.prompt);
    if (dev) // schnell is distilled without guidance: it has no guidance input to set
        positive = G::link(
            graph.add(QStringLiteral("FluxGuidance"), {{QStringLiteral("conditioning"), positive},
                                                       {QStringLiteral("guidance"), p.cfg}}),
            0);
    // Flux runs at sampler CFG 1.0, where ComfyUI skips the negative pass; the sampler still
    // needs a negative conditioning.
    QJsonArray negative = parts.encode(clip, p.negativePrompt);
    parts.addControlNets(positive, negative, vaeLink);
    const QJsonArray latent = parts.addLatent(vaeLink, QStringLiteral("EmptySD3LatentImage"));
    const QJsonArray samples = parts.addSampler(model, positive, negative, latent, 1.0);
    parts.addOutput(samples, vaeLink);
    graph.setSeed(p.seed);
    if (!reader.ok())
        return reader.error(); // an inline image that is no image
    return graph.result();
}

} // namespace comfy
