#pragma once

#include "cluster/node.h"
#include "comfy/nodehttp.h"
#include "util/error.h"

#include <QHash>
#include <QList>
#include <QLoggingCategory>
#include <QObject>
#include <QPointer>
#include <QTimer>

Q_DECLARE_LOGGING_CATEGORY(lcCluster)

namespace comfy {

struct HealthPolicy {
    int intervalMs = 1000;
    int failureLimit = 3; // failed checks in a row before a node is offline
    int timeoutMs = 5000;
    int queueDepth = 1; // our tasks a node holds at once: 2 queues the next while one runs
};

// The cluster: every known node, its state, and its health checks. The one place that
// decides whether a node is idle, busy or offline.
class NodeRegistry : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(NodeRegistry)
public:
    explicit NodeRegistry(HealthPolicy policy, QObject *parent = nullptr);
    ~NodeRegistry() override;

    // A known URL is a no-op that returns the node as it is. The new node is checked at once.
    Result<NodeInfo> addNode(const QString &url, const QStringList &labels = {},
                             bool simulated = false);
    // NotFound for an unknown node, Conflict while it runs a task.
    Result<NodeInfo> removeNode(const QString &url);

    QList<NodeInfo> nodes() const; // in the order they were added
    std::optional<NodeInfo> node(const QUrl &url) const;
    // Nodes that take a task now: online, enabled, with a free slot (queue depth).
    QList<NodeInfo> availableNodes() const;

    // A slot of the node for a task (false when it has none any more). Busy while it holds any.
    bool reserve(const QUrl &url, const QString &taskId);
    // The task has ended there: its slot is free (idle when it was the last).
    void release(const QUrl &url, const QString &taskId);
    // After a task succeeded there: the models it loaded, for placement by affinity.
    void recordModels(const QUrl &url, const QStringList &models);

    // Operator controls. NotFound for an unknown node.
    Result<NodeInfo> setEnabled(const QString &url, bool enabled); // enable also ends a drain
    Result<NodeInfo> drain(const QString &url); // finish its tasks, take no new ones
    Result<NodeInfo> setLabels(const QString &url, const QStringList &labels);
    // Something other than a health check saw the node fail (e.g. its websocket dropped):
    // check it now instead of at the next tick.
    void checkNow(const QUrl &url);

Q_SIGNALS:
    void nodeAdded(const QUrl &url);
    void nodeRemoved(const QUrl &url);
    void nodeChanged(const QUrl &url);
    void nodeAvailable(const QUrl &url); // became idle: a pending task may start there
    void nodeWentOffline(const QUrl &url, const QStringList &tasks, const QString &reason);
    void nodeSettingsChanged(const QUrl &url); // labels or enabled: worth keeping across restarts
    void nodeChecked(const QUrl &url, bool answered); // every health check, as it ends

private:
    struct Entry {
        NodeInfo info;
        // Its checks go over a kept-alive connection of their own, in this thread (a child;
        // deleted with the entry).
        QPointer<NodeHttp> http;
        QPointer<NodeReply> check;
        QPointer<NodeReply> stats; // GET /system_stats out
        bool statsKnown = false;   // it answered GET /system_stats (whatever it said)
    };
    void checkAll();
    void startCheck(Entry &entry);
    void onCheckFinished(const QUrl &url, NodeReply *reply);
    void fetchSystemStats(const QUrl &url);
    void markGood(Entry &entry, int queueRemaining);
    void markFailed(Entry &entry, const QString &reason);
    Entry *find(const QUrl &url);
    Entry *findText(const QString &url);
    bool takesTasks(const NodeInfo &info) const;
    const Entry *find(const QUrl &url) const;

    HealthPolicy m_policy;
    QTimer m_timer;
    QList<QUrl> m_order;
    QHash<QUrl, Entry> m_entries;
};

} // namespace comfy
