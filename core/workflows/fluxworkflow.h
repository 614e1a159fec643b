#pragma once

#include "util/error.h"
#include "workflows/graphbuilder.h"

#include <QJsonObject>

namespace comfy {

class ObjectInfo;

// The predefined Flux workflow (dev and schnell): UNETLoader, DualCLIPLoader, VAELoader,
// FluxGuidance for dev, LoRAs, ControlNets, img2img and inpainting.
class FluxWorkflow {
public:
    static Result<BuiltWorkflow> build(const QJsonObject &params, const ObjectInfo &objectInfo);
};

} // namespace comfy
