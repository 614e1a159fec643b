#include "cluster/noderegistry.h"

#include <QJsonArray>
#include <QJsonDocument>

Q_LOGGING_CATEGORY(lcCluster, "comfy.cluster")

namespace comfy {

NodeRegistry::NodeRegistry(HealthPolicy policy, QObject *parent)
    : QObject(parent)
    , m_policy(policy)
{
    m_timer.setInterval(m_policy.intervalMs);
    connect(&m_timer, &QTimer::timeout, this, &NodeRegistry::checkAll);
    m_timer.start();
}

NodeRegistry::~NodeRegistry() = default; // the NodeHttp children end their checks silently

Result<NodeInfo> NodeRegistry::addNode(const QString &text, const QStringList &labels,
                                       bool simulated)
{
    const QUrl url = normalizeNodeUrl(text);
    if (url.isEmpty())
        return Error::invalid(
            QStringLiteral("url"),
            QStringLiteral("url: '%1' is not an http(s) URL with a host").arg(text));
    if (const Entry *existing = find(url))
        return existing->info;
    Entry entry;
    entry.info.url = url;
    entry.info.simulated = simulated;
    entry.info.labels = labels;
    entry.info.addedAt = QDateTime::currentDateTimeUtc();
    entry.http = new NodeHttp(url, this);
    entry.http->setTimeoutMs(m_policy.timeoutMs);
    m_order.append(url);
    Entry &stored = m_entries.insert(url, entry).value();
    qCInfo(lcCluster).noquote() << "node added:" << url.toString()
                                << (simulated ? "(SIMULATED ComfyUI node)" : "");
    Q_EMIT nodeAdded(url);
    startCheck(stored);
    return stored.info;
}

Result<NodeInfo> NodeRegistry::removeNode(const QString &text)
{
    const QUrl url = normalizeNodeUrl(text);
    Entry *entry = url.isEmpty() ? nullptr : find(url);
    if (!entry)
        return Error::notFound(QStringLiteral("node '%1' is not registered").arg(text));
    if (!entry->info.tasks.isEmpty())
        return Error::conflict(
            QStringLiteral("node %1 is running task %2")
                .arg(url.toString(), entry->info.tasks.join(QStringLiteral(", "))));
    const NodeInfo info = entry->info;
    if (entry->http)
        entry->http->deleteLater(); // its pending check with it
    m_entries.remove(url);
    m_order.removeAll(url);
    qCInfo(lcCluster).noquote() << "node removed:" << url.toString();
    Q_EMIT nodeRemoved(url);
    return info;
}

QList<NodeInfo> NodeRegistry::nodes() const
{
    QList<NodeInfo> list;
    list.reserve(m_order.size());
    for (const QUrl &url : m_order)
        list.append(m_entries.value(url).info);
    return list;
}

std::optional<NodeInfo> NodeRegistry::node(const QUrl &url) const
{
    if (const Entry *entry = find(url))
        return entry->info;
    return std::nullopt;
}

bool NodeRegistry::takesTasks(const NodeInfo &info) const
{
    return info.state != NodeState::Offline && info.enabled && !info.draining &&
           info.tasks.size() < m_policy.queueDepth;
}

QList<NodeInfo> NodeRegistry::availableNodes() const
{
    QList<NodeInfo> list;
    for (const QUrl &url : m_order) {
        const NodeInfo &info = m_entries.find(url)->info;
        if (takesTasks(info))
            list.append(info);
    }
    return list;
}

bool NodeRegistry::reserve(const QUrl &url, const QString &taskId)
{
    Entry *entry = find(url);
    if (!entry || !takesTasks(entry->info))
        return false;
    entry->info.state = NodeState::Busy;
    entry->info.tasks.append(taskId);
    ++entry->info.tasksRun;
    Q_EMIT nodeChanged(url);
    return true;
}

void NodeRegistry::release(const QUrl &url, const QString &taskId)
{
    Entry *entry = find(url);
    if (!entry)
        return;
    NodeInfo &info = entry->info;
    info.tasks.removeOne(taskId);
    if (info.tasks.isEmpty() && info.state == NodeState::Busy) {
        info.state = NodeState::Idle;
        info.idleSince = QDateTime::currentDateTimeUtc();
    }
    if (info.draining && info.tasks.isEmpty()) {
        info.draining = false;
        info.enabled = false;
        qCInfo(lcCluster).noquote()
            << "node drained:" << url.toString() << "(takes no tasks until enabled)";
        Q_EMIT nodeSettingsChanged(url);
    }
    Q_EMIT nodeChanged(url);
    if (takesTasks(info))
        Q_EMIT nodeAvailable(url);
}

void NodeRegistry::recordModels(const QUrl &url, const QStringList &models)
{
    Entry *entry = find(url);
    if (!entry || models.isEmpty() || entry->info.loadedModels == models)
        return;
    entry->info.loadedModels = models;
    Q_EMIT nodeChanged(url);
}

NodeRegistry::Entry *NodeRegistry::findText(const QString &text)
{
    const QUrl url = normalizeNodeUrl(text);
    return url.isEmpty() ? nullptr : find(url);
}

Result<NodeInfo> NodeRegistry::setEnabled(const QString &text, bool enabled)
{
    Entry *entry = findText(text);
    if (!entry)
        return Error::notFound(QStringLiteral("node '%1' is not registered").arg(text));
    NodeInfo &info = entry->info;
    info.enabled = enabled;
    info.draining = false;
    qCInfo(lcCluster).noquote() << "node" << (enabled ? "enabled:" : "disabled:")
                                << info.url.toString();
    Q_EMIT nodeChanged(info.url);
    Q_EMIT nodeSettingsChanged(info.url);
    if (takesTasks(info))
        Q_EMIT nodeAvailable(info.url);
    return info;
}

Result<NodeInfo> NodeRegistry::drain(const QString &text)
{
    Entry *entry = findText(text);
    if (!entry)
        return Error::notFound(QStringLiteral("node '%1' is not registered").arg(text));
    NodeInfo &info = entry->info;
    if (info.tasks.isEmpty()) {
        info.enabled = false; // nothing to finish: drained at once
        qCInfo(lcCluster).noquote() << "node drained:" << info.url.toString();
        Q_EMIT nodeSettingsChanged(info.url);
    } else {
        info.draining = true;
        qCInfo(lcCluster).noquote() << "node draining:" << info.url.toString() << "finishes"
                                    << info.tasks.size() << "task(s), takes no new ones";
    }
    Q_EMIT nodeChanged(info.url);
    return info;
}

Result<NodeInfo> NodeRegistry::setLabels(const QString &text, const QStringList &labels)
{
    Entry *entry = findText(text);
    if (!entry)
        return Error::notFound(QStringLiteral("node '%1' is not registered").arg(text));
    entry->info.labels = labels;
    Q_EMIT nodeChanged(entry->info.url);
    Q_EMIT nodeSettingsChanged(entry->info.url);
    if (takesTasks(entry->info))
        Q_EMIT nodeAvailable(entry->info.url); // it may fit a waiting task now
    return entry->info;
}

void NodeRegistry::checkNow(const QUrl &url)
{
    if (Entry *entry = find(url); entry && !entry->check)
        startCheck(*entry);
}

void NodeRegistry::checkAll()
{
    for (const QUrl &url : std::as_const(m_order)) {
        Entry *entry = find(url);
        if (entry && !entry->check)
            startCheck(*entry);
    }
}

void NodeRegistry::startCheck(Entry &entry)
{
    // GET /queue is the cheapest call a ComfyUI node answers, and it tells its load.
    NodeReply *reply = entry.http->get(QUrl(QStringLiteral("queue")));
    entry.check = reply;
    const QUrl url = entry.info.url;
    connect(reply, &NodeReply::finished, this, [this, url, reply] { onCheckFinished(url, reply); });
}

void NodeRegistry::onCheckFinished(const QUrl &url, NodeReply *reply)
{
    Entry *entry = find(url);
    if (!entry || entry->check != reply)
        return; // the node was removed meanwhile
    entry->check.clear();
    const int status = reply->status();
    const QJsonObject queue = QJsonDocument::fromJson(reply->body()).object();
    const bool answered = status == 200 && queue.contains(QLatin1String("queue_running"));
    Q_EMIT nodeChecked(url, answered);
    if (status != 200) {
        markFailed(*entry, status ? QStringLiteral("HTTP %1").arg(status) : reply->errorString());
        return;
    }
    if (!answered) {
        markFailed(*entry, QStringLiteral("GET /queue did not answer like a ComfyUI node"));
        return;
    }
    markGood(*entry, int(queue.value(QLatin1String("queue_running")).toArray().size() +
                         queue.value(QLatin1String("queue_pending")).toArray().size()));
}

void NodeRegistry::markGood(Entry &entry, int queueRemaining)
{
    NodeInfo &info = entry.info;
    const bool changed = !info.checked || info.failures != 0 ||
                         info.queueRemaining != queueRemaining || info.state == NodeState::Offline;
    info.checked = true;
    info.lastCheck = QDateTime::currentDateTimeUtc();
    info.failures = 0;
    info.lastError.clear();
    info.queueRemaining = queueRemaining;
    if (!entry.statsKnown)
        fetchSystemStats(info.url);
    if (info.state == NodeState::Offline) {
        info.state = NodeState::Idle;
        info.idleSince = info.lastCheck;
        qCInfo(lcCluster).noquote() << "node online:" << info.url.toString();
        Q_EMIT nodeChanged(info.url);
        if (takesTasks(info))
            Q_EMIT nodeAvailable(info.url);
        return;
    }
    if (changed)
        Q_EMIT nodeChanged(info.url);
}

void NodeRegistry::markFailed(Entry &entry, const QString &reason)
{
    NodeInfo &info = entry.info;
    info.checked = true;
    info.lastCheck = QDateTime::currentDateTimeUtc();
    ++info.failures;
    info.lastError = reason;
    if (info.failures <= m_policy.failureLimit) // not once a second for ever while it is down
        qCDebug(lcCluster).noquote()
            << "health check failed:" << info.url.toString() << reason
            << QStringLiteral("(%1/%2)").arg(info.failures).arg(m_policy.failureLimit);
    if (info.state != NodeState::Offline && info.failures >= m_policy.failureLimit) {
        const QStringList tasks = info.tasks;
        info.state = NodeState::Offline;
        info.tasks.clear();
        info.loadedModels.clear(); // whatever it comes back with, it starts cold
        entry.statsKnown = false;  // it may come back as another ComfyUI
        qCWarning(lcCluster).noquote() << "node offline:" << info.url.toString() << "after"
                                       << info.failures << "failed checks:" << reason;
        Q_EMIT nodeChanged(info.url);
        Q_EMIT nodeWentOffline(info.url, tasks, reason);
        return;
    }
    Q_EMIT nodeChanged(info.url);
}

void NodeRegistry::fetchSystemStats(const QUrl &url)
{
    Entry *requester = find(url);
    if (!requester || !requester->http || requester->stats)
        return; // asked already
    NodeReply *reply = requester->http->get(QUrl(QStringLiteral("system_stats")));
    requester->stats = reply;
    connect(reply, &NodeReply::finished, this, [this, url, reply] {
        Entry *entry = find(url);
        if (!entry || entry->stats != reply)
            return;
        entry->stats.clear();
        // Any answer counts: a node that does not serve it is not asked at every check.
        entry->statsKnown = reply->status() != 0;
        if (reply->status() != 200)
            return;
        const QJsonObject stats = QJsonDocument::fromJson(reply->body()).object();
        entry->info.version = stats.value(QLatin1String("system"))
                                  .toObject()
                                  .value(QLatin1String("comfyui_version"))
                                  .toString();
        const QJsonArray devices = stats.value(QLatin1String("devices")).toArray();
        entry->info.devices = devices.isEmpty() ? QJsonObject() : devices.first().toObject();
        // A node that says it is simulated is labelled so, however it was added.
        if (entry->info.version.startsWith(QLatin1String("simulated")))
            entry->info.simulated = true;
        Q_EMIT nodeChanged(url);
    });
}

NodeRegistry::Entry *NodeRegistry::find(const QUrl &url)
{
    auto it = m_entries.find(url);
    return it == m_entries.end() ? nullptr : &it.value();
}

const NodeRegistry::Entry *NodeRegistry::find(const QUrl &url) const
{
    auto it = m_entries.constFind(url);
    return it == m_entries.cend() ? nullptr : &it.value();
}

} // namespace comfy
