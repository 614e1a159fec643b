#pragma once

#include "util/error.h"
#include "workflows/graphbuilder.h"

#include <QJsonObject>

namespace comfy {

class ObjectInfo;

// The predefined SD15 and SDXL workflows: txt2img, optional separate VAE, LoRAs, ControlNets,
// img2img, inpainting, and (SDXL) a refiner. Parameters, defaults and graphs: README and the
// OpenAPI document.
class StableDiffusionWorkflow {
public:
    enum class Variant { SD15, SDXL };
    static Result<BuiltWorkflow> build(const QJsonObject &params, Variant variant,
                                       const ObjectInfo &objectInfo);
};

} // namespace comfy
