#include "workflows/workflowrequest.h"

#include "workflows/rawworkflow.h"

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
        if (!webhook.isString() || !url.isValid() || url.host().isEmpty() ||
            (url.scheme() != QLatin1String("http") && url.scheme() != QLatin1String("https")))
            return Error::invalid(QStringLiteral("webhook"),
                                  QStringLiteral("webhook: must be an http(s) URL with a host"));
        request.webhook = url;
    }
    return request;
}

Result<QJsonObject> buildGraph(const WorkflowRequest &request)
{
    switch (request.type) {
    case WorkflowType::Raw:
        return RawWorkflow::build(request.params);
    case WorkflowType::SD15:
    case WorkflowType::SDXL:
    case WorkflowType::Flux:
        break;
    }
    return Error{Error::Kind::Unavailable,
                 QStringLiteral("type: %1 workflows are not available in this version yet; use Raw")
                     .arg(workflowTypeName(request.type)),
                 QStringLiteral("type")};
}

} // namespace comfy
