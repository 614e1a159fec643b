#include "clustercontroller.h"

#include "router/router.h"
#include "util/isotime.h"

#include <QJsonArray>

namespace comfy::server {

namespace {
using Method = QHttpServerRequest::Method;

QJsonObject nodeToJson(const NodeInfo &node)
{
    return {
        {QStringLiteral("url"), node.url.toString()},
        // "cache" is the field the original reserved for the models a node holds.
        {QStringLiteral("status"),
         QJsonObject{{QStringLiteral("status"), nodeStateName(node.state)},
                     {QStringLiteral("cache"),
                      QJsonObject{{QStringLiteral("models"),
                                   QJsonArray::fromStringList(node.loadedModels)}}}}},
        {QStringLiteral("task"),
         node.tasks.isEmpty() ? QJsonValue() : QJsonValue(node.tasks.first())},
        {QStringLiteral("tasks"), QJsonArray::fromStringList(node.tasks)},
        {QStringLiteral("enabled"), node.enabled},
        {QStringLiteral("draining"), node.draining},
        {QStringLiteral("simulated"), node.simulated},
        {QStringLiteral("labels"), QJsonArray::fromStringList(node.labels)},
        {QStringLiteral("checked"), node.checked},
        {QStringLiteral("last_check"), isoTimeOrNull(node.lastCheck)},
        {QStringLiteral("failures"), node.failures},
        {QStringLiteral("last_error"),
         node.lastError.isEmpty() ? QJsonValue() : QJsonValue(node.lastError)},
        {QStringLiteral("queue_remaining"), node.queueRemaining},
        {QStringLiteral("version"),
         node.version.isEmpty() ? QJsonValue() : QJsonValue(node.version)},
        {QStringLiteral("device"),
         node.devices.isEmpty() ? QJsonValue() : QJsonValue(node.devices)},
        {QStringLiteral("added_at"), isoTimeOrNull(node.addedAt)},
        {QStringLiteral("idle_since"),
         node.state == NodeState::Idle ? isoTimeOrNull(node.idleSince) : QJsonValue()},
        {QStringLiteral("tasks_run"), double(node.tasksRun)},
    };
}

// {"url": "http://host:port"}: the url, or what is wrong with the field (a 400 naming it).
Result<QString> urlField(const QJsonObject &body)
{
    const QJsonValue url = body.value(QLatin1String("url"));
    if (url.isUndefined())
        return Error::invalid(QStringLiteral("url"),
                              QStringLiteral("url: required, the node's http(s) URL"));
    if (!url.isString())
        return Error::invalid(QStringLiteral("url"), QStringLiteral("url: must be a string"));
    return url.toString();
}
// {"labels": ["a", "b"]}: optional; a list of non-empty strings.
Result<QStringList> labelsField(const QJsonObject &body)
{
    QStringList labels;
    const QJsonValue labelsValue = body.value(QLatin1String("labels"));
    if (labelsValue.isUndefined() || labelsValue.isNull())
        return labels;
    if (!labelsValue.isArray())
        return Error::invalid(QStringLiteral("labels"),
                              QStringLiteral("labels: must be a list of strings"));
    for (const QJsonValue &label : labelsValue.toArray()) {
        if (!label.isString() || label.toString().isEmpty())
            return Error::invalid(QStringLiteral("labels"),
                                  QStringLiteral("labels: must be a list of non-empty strings"));
        labels.append(label.toString());
    }
    return labels;
}
} // namespace

ClusterController::ClusterController(ApiServer &server, Router &router)
    : m_router(router)
{
    auto bind = [this](ApiReply (ClusterController::*method)(const ApiRequest &)) {
        return [this, method](const ApiRequest &request) { return (this->*method)(request); };
    };
    server.addRoute(Method::Get, QStringLiteral("/cluster/nodes"), Access::Authenticated,
                    bind(&ClusterController::list));
    server.addRoute(Method::Post, QStringLiteral("/cluster/nodes"), Access::Authenticated,
                    bind(&ClusterController::add));
    server.addRoute(Method::Post, QStringLiteral("/cluster/nodes/delete"), Access::Authenticated,
                    bind(&ClusterController::remove));
    server.addRoute(Method::Post, QStringLiteral("/cluster/nodes/drain"), Access::Authenticated,
                    bind(&ClusterController::drain));
    server.addRoute(Method::Post, QStringLiteral("/cluster/nodes/disable"), Access::Authenticated,
                    bind(&ClusterController::disable));
    server.addRoute(Method::Post, QStringLiteral("/cluster/nodes/enable"), Access::Authenticated,
                    bind(&ClusterController::enable));
    server.addRoute(Method::Post, QStringLiteral("/cluster/nodes/labels"), Access::Authenticated,
                    bind(&ClusterController::labels));
}

ApiReply ClusterController::list(const ApiRequest &)
{
    QJsonArray nodes;
    for (const NodeInfo &node : m_router.nodes().nodes())
        nodes.append(nodeToJson(node));
    return jsonResponse({{QStringLiteral("nodes"), nodes}});
}

ApiReply ClusterController::add(const ApiRequest &request)
{
    return control(request,
                   [this](const QString &url, const QJsonObject &body) -> Result<NodeInfo> {
                       const Result<QStringList> labels = labelsField(body);
                       if (!labels)
                           return labels.error();
                       return m_router.nodes().addNode(url, labels.value());
                   });
}

ApiReply ClusterController::remove(const ApiRequest &request)
{
    const auto body = request.jsonObject();
    if (std::holds_alternative<ApiError>(body))
        return std::get<ApiError>(body);
    const Result<QString> url = urlField(std::get<QJsonObject>(body));
    if (!url)
        return ApiError::fromError(url.error());
    const Result<NodeInfo> node = m_router.nodes().removeNode(url.value());
    if (!node)
        return ApiError::fromError(node.error());
    return jsonResponse(
        {{QStringLiteral("url"), node.value().url.toString()}, {QStringLiteral("removed"), true}});
}

ApiReply ClusterController::control(
    const ApiRequest &request,
    const std::function<Result<NodeInfo>(const QString &, const QJsonObject &)> &action)
{
    const auto body = request.jsonObject();
    if (std::holds_alternative<ApiError>(body))
        return std::get<ApiError>(body);
    const Result<QString> url = urlField(std::get<QJsonObject>(body));
    if (!url)
        return ApiError::fromError(url.error());
    const Result<NodeInfo> node = action(url.value(), std::get<QJsonObject>(body));
    if (!node)
        return ApiError::fromError(node.error());
    return jsonResponse(nodeToJson(node.value()));
}

ApiReply ClusterController::drain(const ApiRequest &request)
{
    return control(request, [this](const QString &url, const QJsonObject &) {
        return m_router.nodes().drain(url);
    });
}

ApiReply ClusterController::disable(const ApiRequest &request)
{
    return control(request, [this](const QString &url, const QJsonObject &) {
        return m_router.nodes().setEnabled(url, false);
    });
}

ApiReply ClusterController::enable(const ApiRequest &request)
{
    return control(request, [this](const QString &url, const QJsonObject &) {
        return m_router.nodes().setEnabled(url, true);
    });
}

ApiReply ClusterController::labels(const ApiRequest &request)
{
    return control(
        request, [this](const QString &url, const QJsonObject &body) -> Result<NodeInfo> {
            if (!body.contains(QLatin1String("labels")))
                return Error::invalid(QStringLiteral("labels"),
                                      QStringLiteral("labels: required, a list of strings"));
            const Result<QStringList> labels = labelsField(body);
            if (!labels)
                return labels.error();
            return m_router.nodes().setLabels(url, labels.value());
        });
}

} // namespace comfy::server
