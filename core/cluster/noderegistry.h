#pragma once

#include "cluster/node.h"
#include "util/error.h"

#include <QHash>
#include <QList>
#include <QLoggingCategory>
#include <QObject>
#include <QPointer>
#include <QTimer>

class QNetworkAccessManager;
class QNetworkReply;

Q_DECLARE_LOGGING_CATEGORY(lcCluster)

namespace comfy {

struct HealthPolicy {
    int intervalMs = 1000;
    int failureLimit = 3; // failed checks in a row before a node is offline
    int timeoutMs = 5000;
};

// The cluster: every known node, its state, and its health checks. The one place that
// decides whether a node is idle, busy or offline.
class NodeRegistry : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(NodeRegistry)
public:
    NodeRegistry(QNetworkAccessManager &network, HealthPolicy policy, QObject *parent = nullptr);
    ~NodeRegistry() override;

    // A known URL is a no-op that returns the node as it is. The new node is checked at once.
    Result<NodeInfo> addNode(const QString &url, const QStringList &labels = {},
                             bool simulated = false);
    // NotFound for an unknown node, Conflict while it runs a task.
    Result<NodeInfo> removeNode(const QString &url);

    QList<NodeInfo> nodes() const; // in the order they were added
    std::optional<NodeInfo> node(const QUrl &url) const;
    QList<NodeInfo> idleNodes() const;

    // Idle -> busy for a task (false when the node is not idle any more).
    bool reserve(const QUrl &url, const QString &taskId);
    // Busy -> idle once its task has ended (offline stays offline).
    void release(const QUrl &url);
    // Something other than a health check saw the node fail (e.g. its websocket dropped):
    // check it now instead of at the next tick.
    void checkNow(const QUrl &url);

Q_SIGNALS:
    void nodeAdded(const QUrl &url);
    void nodeRemoved(const QUrl &url);
    void nodeChanged(const QUrl &url);
    void nodeAvailable(const QUrl &url); // became idle: a pending task may start there
    void nodeWentOffline(const QUrl &url, const QString &taskId, const QString &reason);

private:
    struct Entry {
        NodeInfo info;
        QPointer<QNetworkReply> check;
        bool statsKnown = false;
    };
    void checkAll();
    void startCheck(Entry &entry);
    void onCheckFinished(const QUrl &url, QNetworkReply *reply);
    void fetchSystemStats(const QUrl &url);
    void markGood(Entry &entry, int queueRemaining);
    void markFailed(Entry &entry, const QString &reason);
    Entry *find(const QUrl &url);
    const Entry *find(const QUrl &url) const;

    QNetworkAccessManager &m_network;
    HealthPolicy m_policy;
    QTimer m_timer;
    QList<QUrl> m_order;
    QHash<QUrl, Entry> m_entries;
};

} // namespace comfy
