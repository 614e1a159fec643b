#include "router/router.h"

#include "workflows/workflowrequest.h"

namespace comfy {

Router::Router(const Settings &settings, QObject *parent)
    : QObject(parent)
    , m_settings(settings)
    , m_nodes(m_network, HealthPolicy{settings.healthIntervalMs, settings.healthFailures,
                                      settings.healthTimeoutMs})
    , m_tasks(QueueLimits{settings.pendingLimit, settings.historyLimit})
    , m_dispatcher(m_tasks, m_nodes, m_network)
    , m_webhooks(m_tasks, m_network)
{
    // Node connections are long-lived and local: no proxy from the environment.
    m_network.setProxy(QNetworkProxy::NoProxy);
    for (const QString &url : settings.nodes)
        m_nodes.addNode(url);
}

Router::~Router() = default;

Result<QString> Router::submit(const QJsonObject &body)
{
    const Result<WorkflowRequest> request = parseWorkflowRequest(body);
    if (!request)
        return request.error();
    const Result<QJsonObject> graph = buildGraph(request.value());
    if (!graph)
        return graph.error();
    Task task;
    task.type = request.value().type;
    task.params = request.value().params;
    task.graph = graph.value();
    task.priority = request.value().priority;
    task.nodeLabels = request.value().nodeLabels;
    task.webhook = request.value().webhook;
    return m_tasks.enqueue(std::move(task));
}

} // namespace comfy
