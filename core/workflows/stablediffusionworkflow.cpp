#include "workflows/stablediffusionworkflow.h"

#include "workflows/diffusiongraph.h"
#include "workflows/objectinfo.h"

#include <cmath>

namespace comfy {

namespace {

using G = GraphBuilder;

struct RefinerParams {
    ModelRef checkpoint;
    double switchAt = 0.8;
};

FamilyDefaults familyOf(StableDiffusionWorkflow::Variant variant, bool refiner)
{
    const bool xl = variant == StableDiffusionWorkflow::Variant::SDXL;
    FamilyDefaults family;
    family.size = xl ? 1024 : 512;
    family.sizeMultiple = 8;
    family.steps = xl ? 30 : 20;
    family.cfg = 7.0;
    family.scheduler = QStringLiteral("normal");
    family.latentClass = QStringLiteral("EmptyLatentImage");
    family.samplerClass = refiner ? QStringLiteral("KSamplerAdvanced") : QStringLiteral("KSampler");
    family.cfgClass = family.samplerClass;
    family.cfgInput = QStringLiteral("cfg");
    return family;
}

} // namespace

Result<BuiltWorkflow> StableDiffusionWorkflow::build(const QJsonObject &params, Variant variant,
                                                     const ObjectInfo &objectInfo)
{
    const bool xl = variant == Variant::SDXL;
    ParamReader reader(params, QStringLiteral("params"));
    QStringList known = commonParamNames();
    known << QStringLiteral("checkpoint") << QStringLiteral("vae");
    if (xl)
        known << QStringLiteral("refiner");
    reader.rejectUnknown(known);

    const std::optional<ModelRef> checkpoint =
        readModel(reader, QStringLiteral("checkpoint"), true);
    const std::optional<ModelRef> vae = readModel(reader, QStringLiteral("vae"), false);
    std::optional<RefinerParams> refiner;
    if (xl) {
        if (std::optional<ParamReader> r = reader.object(QStringLiteral("refiner"), false)) {
            r->rejectUnknown({QStringLiteral("checkpoint"), QStringLiteral("switch_at")});
            RefinerParams read;
            read.checkpoint =
                readModel(*r, QStringLiteral("checkpoint"), true).value_or(ModelRef{});
            read.switchAt = r->number(QStringLiteral("switch_at"), 0.8, 0.0, 1.0);
            refiner = read;
        }
    }
    const DiffusionParams p =
        readDiffusionParams(reader, familyOf(variant, refiner.has_value()), objectInfo);

    // The refiner splits the steps of one schedule between two KSamplerAdvanced passes. A
    // denoise below 1 (img2img) is KSampler's own rule: the schedule of steps/denoise steps,
    // of which the last `steps` run; so the passes start at total - steps.
    int baseSteps = 0;
    int totalSteps = p.steps;
    if (refiner && reader.ok()) {
        const QString switchField = QStringLiteral("params.refiner.switch_at");
        baseSteps = int(std::lround(p.steps * refiner->switchAt));
        if (baseSteps < 1)
            reader.fail(switchField, QStringLiteral("%1 of %2 steps leaves the base pass no step")
                                         .arg(refiner->switchAt)
                                         .arg(p.steps));
        else if (baseSteps >= p.steps)
            reader.fail(switchField, QStringLiteral("%1 of %2 steps leaves the refiner no step")
                                         .arg(refiner->switchAt)
                                         .arg(p.steps));
        const double maxSteps =
            objectInfo.maximum(QStringLiteral("KSamplerAdvanced"), QStringLiteral("steps"))
                .value_or(10000);
        const double total = p.denoise >= 1.0 ? p.steps : std::floor(p.steps / p.denoise);
        if (p.denoise <= 0.0 || total > maxSteps)
            reader.fail(QStringLiteral("params.denoise"),
                        QStringLiteral("%1 with a refiner needs steps / denoise within 1..%2")
                            .arg(p.denoise)
                            .arg(maxSteps));
        else
            totalSteps = int(total);
    }
    if (!reader.ok())
        return reader.error();

    GraphBuilder graph;
    DiffusionGraph parts(graph, reader, p);
    const QString loader =
        graph.add(QStringLiteral("CheckpointLoaderSimple"),
                  {{QStringLiteral("ckpt_name"),
                    graph.modelFile(*checkpoint, QStringLiteral("models/checkpoints"),
                                    QStringLiteral("params.checkpoint"))}});
    QJsonArray model = G::link(loader, 0);
    QJsonArray clip = G::link(loader, 1);
    QJsonArray vaeLink = G::link(loader, 2);
    if (vae)
        vaeLink = G::link(graph.add(QStringLiteral("VAELoader"),
                                    {{QStringLiteral("vae_name"),
                                      graph.modelFile(*vae, QStringLiteral("models/vae"),
                                                      QStringLiteral("params.vae"))}}),
                          0);
    parts.addLoras(model, clip);
    QJsonArray positive = parts.encode(clip, p.prompt);
    QJsonArray negative = parts.encode(clip, p.negativePrompt);
    parts.addControlNets(positive, negative, vaeLink);
    const QJsonArray latent = parts.addLatent(vaeLink, QStringLiteral("EmptyLatentImage"));

    QJsonArray samples;
    if (!refiner) {
        samples = parts.addSampler(model, positive, negative, latent, p.cfg);
    } else {
        const int start = totalSteps - p.steps;
        const int switchStep = start + baseSteps;
        const auto sampler = [&](const QJsonArray &samplerModel, const QJsonArray &pos,
                                 const QJsonArray &neg, const QJsonArray &from, bool first) {
            return graph.add(QStringLiteral("KSamplerAdvanced"),
                             {{QStringLiteral("model"), samplerModel},
                              {QStringLiteral("add_noise"),
                               first ? QStringLiteral("enable") : QStringLiteral("disable")},
                              {QStringLiteral("noise_seed"), QJsonValue(p.seed)},
                              {QStringLiteral("steps"), totalSteps},
                              {QStringLiteral("cfg"), p.cfg},
                              {QStringLiteral("sampler_name"), p.sampler},
                              {QStringLiteral("scheduler"), p.scheduler},
                              {QStringLiteral("positive"), pos},
                              {QStringLiteral("negative"), neg},
                              {QStringLiteral("latent_image"), from},
                              {QStringLiteral("start_at_step"), first ? start : switchStep},
                              {QStringLiteral("end_at_step"), first ? switchStep : 10000},
                              // The base hands its leftover noise on; the refiner finishes it.
                              {QStringLiteral("return_with_leftover_noise"),
                               first ? QStringLiteral("enable") : QStringLiteral("disable")}});
        };
        const QString base = sampler(model, positive, negative, latent, true);
        graph.setSamplerSteps(base, baseSteps);
        // The refiner has its own model and text encoders; LoRAs and ControlNets are made for
        // the base model and stay with it.
        const QString refinerLoader =
            graph.add(QStringLiteral("CheckpointLoaderSimple"),
                      {{QStringLiteral("ckpt_name"),
                        graph.modelFile(refiner->checkpoint, QStringLiteral("models/checkpoints"),
                                        QStringLiteral("params.refiner.checkpoint"))}});
        const QJsonArray refinerClip = G::link(refinerLoader, 1);
        const QJsonArray refinerPositive = parts.encode(refinerClip, p.prompt);
        const QJsonArray refinerNegative = parts.encode(refinerClip, p.negativePrompt);
        const QString second = sampler(G::link(refinerLoader, 0), refinerPositive, refinerNegative,
                                       G::link(base, 0), false);
        graph.setSamplerSteps(second, p.steps - baseSteps);
        samples = G::link(second, 0);
    }
    parts.addOutput(samples, vaeLink);
    graph.setSeed(p.seed);
    if (!reader.ok())
        return reader.error(); // an inline image that is no image
    return graph.result();
}

} // namespace comfy
