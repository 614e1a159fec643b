#pragma once

#include "tasks/task.h"
#include "util/error.h"

#include <QJsonObject>
#include <QStringList>
#include <QUrl>

namespace comfy {

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

// The ComfyUI API-format graph for a request; Invalid names the offending field.
Result<QJsonObject> buildGraph(const WorkflowRequest &request);

} // namespace comfy
