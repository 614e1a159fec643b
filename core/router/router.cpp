#include "router/router.h"

#include "workflows/objectinfo.h"
#include "workflows/workflowrequest.h"

namespace comfy {

Router::Router(const Settings &settings, QObject *parent)
    : QObject(parent)
    , m_settings(settings)
    , m_nodes(m_network, HealthPolicy{settings.healthIntervalMs, settings.healthFailures,
                                      settings.healthTimeoutMs})
    , m_tasks(QueueLimits{settings.pendingLimit, settings.historyLimit})
    , m_dispatcher(m_tasks, m_nodes, m_network)
    , m_files(m_network, settings.downloadRootDir)
    , m_webhooks(m_tasks, m_network)
{
    // Node connections are long-lived and local: no proxy from the environment.
    m_network.setProxy(QNetworkProxy::NoProxy);
    connect(&m_files, &FileFetcher::filesReady, &m_tasks, &TaskQueue::filesReady);
    connect(&m_files, &FileFetcher::filesFailed, &m_tasks, &TaskQueue::fail);
    connect(&m_files, &FileFetcher::progress, &m_tasks, &TaskQueue::setDownloadProgress);
    connect(&m_tasks, &TaskQueue::taskFinished, &m_files, &FileFetcher::forget);
    for (const QString &url : settings.nodes)
        m_nodes.addNode(url);
}

Router::~Router() = default;

Result<QString> Router::submit(const QJsonObject &body)
{
    const Result<WorkflowRequest> request = parseWorkflowRequest(body);
    if (!request)
        return request.error();
    const Result<BuiltWorkflow> built = buildWorkflow(request.value(), ObjectInfo::builtIn());
    if (!built)
        return built.error();
    // Inline images go to disk before the task exists, so a queued task never lacks them.
    if (const Result<bool> written = m_files.write(built.value().inlineFiles); !written)
        return written.error();
    Task task;
    task.type = request.value().type;
    task.params = request.value().params;
    task.graph = built.value().graph;
    task.seed = built.value().seed;
    task.downloads = built.value().downloads;
    task.samplerSteps = built.value().samplerSteps;
    task.priority = request.value().priority;
    task.nodeLabels = request.value().nodeLabels;
    task.webhook = request.value().webhook;
    const Result<QString> id = m_tasks.enqueue(std::move(task));
    if (id && !built.value().downloads.isEmpty())
        m_files.fetch(id.value(), built.value().downloads);
    return id;
}

} // namespace comfy
