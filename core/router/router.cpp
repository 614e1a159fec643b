#include "router/router.h"

#include "workflows/objectinfo.h"
#include "workflows/workflowrequest.h"

#include <QStandardPaths>

namespace comfy {

Router::Router(const Settings &settings, QObject *parent)
    : QObject(parent)
    , m_settings(settings)
    , m_store(settings.dataDir.isEmpty()
                  ? QStandardPaths::writableLocation(QStandardPaths::AppDataLocation)
                  : settings.dataDir)
    , m_nodes(HealthPolicy{settings.healthIntervalMs, settings.healthFailures,
                           settings.healthTimeoutMs, settings.nodeQueueDepth})
    , m_tasks(QueueLimits{settings.pendingLimit, settings.historyLimit, settings.taskMaxAttempts})
    , m_dispatcher(m_tasks, m_nodes,
                   RunPolicy{settings.taskTimeoutS * 1000, settings.taskSilenceS * 1000,
                             settings.nodeAffinity, settings.nodeAffinityLookahead})
    , m_cache(m_network, CacheSettings{settings.downloadCacheDir, settings.downloadRootDir,
                                       settings.downloadRecordPath, settings.downloadMaxCacheBytes,
                                       settings.downloadConcurrency,
                                       TransferPolicy{settings.downloadStallTimeoutS * 1000,
                                                      settings.downloadRetries, 1000, 10, -1,
                                                      settings.downloadAuthHeaders}})
    , m_webhooks(m_tasks, m_network)
{
    // Node connections are long-lived and local: no proxy from the environment.
    m_network.setProxy(QNetworkProxy::NoProxy);
    connect(&m_cache, &DownloadCache::filesReady, &m_tasks, &TaskQueue::filesReady);
    connect(&m_cache, &DownloadCache::filesFailed, &m_tasks, &TaskQueue::fail);
    connect(&m_cache, &DownloadCache::progress, &m_tasks, &TaskQueue::setDownloadProgress);
    // A finished task no longer pins its files: they may be evicted from now on.
    connect(&m_tasks, &TaskQueue::taskFinished, &m_cache, &DownloadCache::release);
    m_cache.open();
    if (!m_store.open()) {
        m_storageError = QStringLiteral("cannot use the database in %1: %2")
                             .arg(m_store.dataDir(), m_store.error());
        return;
    }
    // The cluster and the tasks as they were: the nodes are checked again, pending tasks run,
    // tasks that were running go back to the queue (TaskQueue::restore).
    for (const NodeInfo &node : m_store.loadNodes()) {
        m_nodes.addNode(node.url.toString(), node.labels);
        if (!node.enabled)
            m_nodes.setEnabled(node.url.toString(), false);
    }
    for (const QString &url : settings.nodes)
        m_nodes.addNode(url);
    m_store.follow(m_tasks, m_nodes);
    m_tasks.restore(m_store.loadTasks());
    for (const QString &id : m_tasks.pendingIds()) {
        const auto task = m_tasks.task(id);
        if (task && !task->downloads.isEmpty() && m_tasks.awaitFiles(id))
            m_cache.acquire(id, task->downloads);
    }
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
    if (const Result<bool> written = m_cache.writeInline(built.value().inlineFiles); !written)
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
        m_cache.acquire(id.value(), built.value().downloads);
    return id;
}

} // namespace comfy
