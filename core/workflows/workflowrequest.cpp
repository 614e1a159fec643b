#include "workflows/workflowrequest.h"

#include "workflows/fluxworkflow.h"
#include "workflows/paramreader.h"
#include "workflows/rawworkflow.h"
#include "workflows/stablediffusionworkflow.h"

#include <QJsonArray>

#include <cmath>

namespace comfy {

Result<WorkflowRequest> parseWorkflowRequest(const QJsonObject &body)
{
    WorkflowRequest request;
    const QJsonValue type = body.value(QLatin1String("type"));
    if (type.isUndefined())
        return Error::invalid(QStringLiteral("type"),
                              QStringLiteral("type: required, one of SD15, SDXL, Flux, Raw"));
    const auto parsedType = type.isString() ? workflowTypeFromName(type.toString()) : std::nullopt;
    if (!parsedType)
        return Error::invalid(QStringLiteral("type"),
                              QStringLiteral("type: must be one of SD15, SDXL, Flux, Raw"));
    request.type = *parsedType;

    const QJsonValue params = body.value(QLatin1String("params"));
    if (!params.isObject())
        return Error::invalid(QStringLiteral("params"),
                              QStringLiteral("params: required, an object"));
    request.params = params.toObject();

    const QJsonValue priority = body.value(QLatin1String("priority"));
    if (!priority.isUndefined() && !priority.isNull()) {
        const double value = priority.toDouble(NAN);
        if (!priority.isDouble() || std::trunc(value) != value || std::abs(value) > 1e6)
            return Error::invalid(
                QStringLiteral("priority"),
                QStringLiteral("priority: must be a whole number from -1000000 to 1000000"));
        request.priority = int(value);
    }

    const QJsonValue labels = body.value(QLatin1String("node_labels"));
    if (!labels.isUndefined() && !labels.isNull()) {
        if (!labels.isArray())
            return Error::invalid(QStringLiteral("node_labels"),
                                  QStringLiteral("node_labels: must be a list of strings"));
        for (const QJsonValue &label : labels.toArray()) {
            if (!label.isString() || label.toString().isEmpty())
                return Error::invalid(
                    QStringLiteral("node_labels"),
                    QStringLiteral("node_labels: must be a list of non-empty strings"));
            request.nodeLabels.append(label.toString());
        }
    }

    const QJsonValue webhook = body.value(QLatin1String("webhook"));
    if (!webhook.isUndefined() && !webhook.isNull()) {
        const QUrl url(webhook.toString(), QUrl::StrictMode);
        const QString problem = webhook.isString()
                                    ? checkDownloadUrl(webhook.toString())
                                    : QStringLiteral("must be an http(s) URL with a host");
        if (!problem.isEmpty())
            return Error::invalid(QStringLiteral("webhook"), QStringLiteral("webhook: ") + problem);
        request.webhook = url;
    }
    return request;
}

Result<BuiltWorkflow> buildWorkflow(const WorkflowRequest &request, const ObjectInfo &objectInfo)
{
    switch (request.type) {
    case WorkflowType::Raw:
        return RawWorkflow::build(request.params);
    case WorkflowType::SD15:
        return StableDiffusionWorkflow::build(request.params,
                                              StableDiffusionWorkflow::Variant::SD15, objectInfo);
    case WorkflowType::SDXL:
        return StableDiffusionWorkflow::build(request.params,
                                              StableDiffusionWorkflow::Variant::SDXL, objectInfo);
    case WorkflowType::Flux:
        return FluxWorkflow::build(request.params, objectInfo);
    }
    return Error{Error::Kind::Internal, QStringLiteral("unknown workflow type"), {}};
}

} // namespace comfy
