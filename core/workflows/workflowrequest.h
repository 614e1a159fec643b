#pragma once

#include "tasks/task.h"
#include "util/error.h"
#include "workflows/graphbuilder.h"

#include <QJsonObject>
#include <QStringList>
#include <QUrl>

namespace comfy {

class ObjectInfo;

// The body of POST /workflow, checked: {"type", "params", and the optional "priority",
// "node_labels", "webhook"}.
struct WorkflowRequest {
    WorkflowType type = WorkflowType::Raw;
    QJsonObject params;
    int priority = 0;
    QStringList nodeLabels;
    QUrl webhook;
};

Result<WorkflowRequest> parseWorkflowRequest(const QJsonObject &body);

// The ComfyUI API-format graph for a request and the files it needs; Invalid names the
// offending field. Numbers and lists are checked against the nodes' object_info.
Result<BuiltWorkflow> buildWorkflow(const WorkflowRequest &request, const ObjectInfo &objectInfo);

} // namespace comfy
