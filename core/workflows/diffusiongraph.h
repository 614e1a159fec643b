#pragma once

#include "workflows/graphbuilder.h"
#include "workflows/paramreader.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

namespace comfy {

class ObjectInfo;

// The parts SD15, SDXL and Flux share: reading their common parameters (with the family's
// defaults and object_info's lists and ranges) and building the common sub-graphs (LoRA chain,
// prompts, ControlNets, the latent for txt2img / img2img / inpainting, the sampler, the output).
// The graphs use ComfyUI's built-in nodes only, apart from a preprocessor class the caller names.

struct LoraParams {
    ModelRef model;
    double weight = 1.0; // strength_model = strength_clip
    QString field;       // "params.loras[0]"
};

enum class ResizeMode { JustResize, CropAndResize, ResizeAndFill };

struct ControlNetParams {
    ModelRef model;
    ImageInput image;
    double weight = 1.0; // ControlNetApplyAdvanced's strength
    double startAt = 0.0;
    double endAt = 1.0;
    QString preprocessor;           // a node class; empty for none
    QJsonObject preprocessorParams; // its inputs beside "image", defaults filled in when known
    ResizeMode resizeMode = ResizeMode::JustResize;
    QString field; // "params.controlnets[0]"
};

// What a family (SD15, SDXL, Flux) sets: its defaults and the nodes whose object_info bounds
// the parameters.
struct FamilyDefaults {
    int size = 512;       // width and height
    int sizeMultiple = 8; // latent granularity: 8, or 16 for Flux
    int steps = 20;
    double cfg = 7.0;
    QString scheduler;    // "normal", Flux "simple"
    QString latentClass;  // "EmptyLatentImage", Flux "EmptySD3LatentImage"
    QString samplerClass; // "KSampler", or "KSamplerAdvanced" for an SDXL refiner
    QString cfgClass;     // where cfg_scale's range comes from ("KSampler", "FluxGuidance")
    QString cfgInput;     // "cfg", "guidance"
};

struct DiffusionParams {
    QString prompt;
    QString negativePrompt;
    QList<LoraParams> loras;
    QList<ControlNetParams> controlNets;
    std::optional<ImageInput> inputImage; // img2img
    std::optional<ImageInput> inputMask;  // inpainting (with inputImage)
    double denoise = 1.0;
    int width = 512;
    int height = 512;
    int batchSize = 1;
    QString sampler;
    QString scheduler;
    int steps = 20;
    double cfg = 7.0;
    qint64 seed = 0; // drawn at random when the request has none

    bool fullInpaint() const { return inputMask && denoise >= 1.0; }
};

// The fields of "params" every family has; a family adds its model fields.
QStringList commonParamNames();

// A Model value ({"type", "name"}) with no other keys; nullopt when absent or invalid.
std::optional<ModelRef> readModel(ParamReader &reader, const QString &key, bool required);

// Reads the common fields of `params`. Errors go to the reader (the first one sticks).
DiffusionParams readDiffusionParams(ParamReader &params, const FamilyDefaults &family,
                                    const ObjectInfo &objectInfo);

// Builds the shared parts of a predefined graph into a GraphBuilder. Links are
// ["node id", output] arrays. Image decoding problems fail the reader.
class DiffusionGraph {
public:
    DiffusionGraph(GraphBuilder &graph, ParamReader &reader, const DiffusionParams &params);

    // LoraLoader per LoRA in request order, chained on model and clip.
    void addLoras(QJsonArray &model, QJsonArray &clip);
    // CLIPTextEncode of `text`; returns its CONDITIONING.
    QJsonArray encode(const QJsonArray &clip, const QString &text);
    // ControlNetLoader + (LoadImage -> resize -> preprocessor) + ControlNetApplyAdvanced per
    // ControlNet, chained on positive and negative.
    void addControlNets(QJsonArray &positive, QJsonArray &negative, const QJsonArray &vae);
    // The latent the sampler starts from: `latentClass` (txt2img) or the encoded input image
    // (img2img; with a mask: inpainting), repeated to the batch size.
    QJsonArray addLatent(const QJsonArray &vae, const QString &latentClass);
    // KSampler over everything (records its steps for progress); returns its LATENT.
    QJsonArray addSampler(const QJsonArray &model, const QJsonArray &positive,
                          const QJsonArray &negative, const QJsonArray &latent, double cfg);
    // VAEDecode -> SaveImage.
    void addOutput(const QJsonArray &samples, const QJsonArray &vae);

    // The upscale method of every resize: smooth for photos and soft masks alike.
    static constexpr const char *UpscaleMethod = "bilinear";
    static constexpr const char *FilenamePrefix = "comfy-router";

private:
    // LoadImage -> ImageScale(width, height) of a request image; returns the IMAGE.
    QJsonArray loadScaled(const ImageInput &image, const QString &field);
    // The ControlNet image resized to the output size as its resize_mode says.
    QJsonArray controlImage(const ControlNetParams &controlNet);

    GraphBuilder &m_graph;
    ParamReader &m_reader;
    const DiffusionParams &m_params;
};

} // namespace comfy
