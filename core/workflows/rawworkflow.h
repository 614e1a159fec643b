#pragma once

#include "util/error.h"
#include "workflows/graphbuilder.h"

#include <QJsonObject>

namespace comfy {

// "Raw": the caller's own ComfyUI API-format graph, {"prompt": {id: {class_type, inputs}}}.
// Checked for shape here (the node checks classes and values); links must point at nodes of
// the graph. A loader input given as an http(s) URL (ckpt_name, vae_name, lora_name,
// control_net_name, unet_name, clip_name*, UpscaleModelLoader's model_name, LoadImage's and
// LoadImageMask's image) is downloaded into its folder and replaced by the file's name.
class RawWorkflow {
public:
    static constexpr int MaxNodes = 10000;
    static Result<BuiltWorkflow> build(const QJsonObject &params);
    // The folder a loader input's file lives in ("models/checkpoints", "input"...), or "".
    static QString folderOf(const QString &classType, const QString &input);
};

} // namespace comfy
