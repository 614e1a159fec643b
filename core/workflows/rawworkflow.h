#pragma once

#include "util/error.h"

#include <QJsonObject>

namespace comfy {

// "Raw": the caller's own ComfyUI API-format graph, {"prompt": {id: {class_type, inputs}}}.
// Checked for shape here (the node checks classes and values); links must point at nodes of
// the graph.
class RawWorkflow {
public:
    static constexpr int MaxNodes = 10000;
    static Result<QJsonObject> build(const QJsonObject &params);
};

} // namespace comfy
