#include "dispatch/dispatcher.h"

#include "cluster/noderegistry.h"
#include "dispatch/nodeselector.h"
#include "dispatch/taskrunner.h"
#include "tasks/taskqueue.h"

Q_LOGGING_CATEGORY(lcDispatch, "comfy.dispatch")

namespace comfy {

Dispatcher::Dispatcher(TaskQueue &tasks, NodeRegistry &nodes, const RunPolicy &policy,
                       QObject *parent)
    : QObject(parent)
    , m_tasks(tasks)
    , m_nodes(nodes)
    , m_policy(policy)
    , m_picker(policy.lookAhead)
{
    connect(&m_tasks, &TaskQueue::taskQueued, this, &Dispatcher::dispatch);
    connect(&m_tasks, &TaskQueue::taskReady, this, &Dispatcher::dispatch);
    connect(&m_tasks, &TaskQueue::taskFinished, this,
            [this](const QString &id) { m_picker.forget(id); }); // cancelled or failed waiting
    connect(&m_nodes, &NodeRegistry::nodeAvailable, this, &Dispatcher::dispatch);
    connect(&m_nodes, &NodeRegistry::nodeWentOffline, this, &Dispatcher::onNodeOffline);
    connect(&m_nodes, &NodeRegistry::nodeRemoved, &m_connections, &NodeConnections::remove);
}

Dispatcher::~Dispatcher()
{
    for (const QPointer<TaskRunner> &runner : std::as_const(m_runners))
        delete runner.data();
}

void Dispatcher::dispatch()
{
    // Re-entered from a signal emitted inside this loop (a runner that ends at once frees
    // its node): note it and loop again instead of recursing.
    if (m_dispatching) {
        m_again = true;
        return;
    }
    m_dispatching = true;
    do {
        m_again = false;
        // The queue in order; `head` moves on unless a node took a task behind it.
        const QStringList pending = m_tasks.pendingIds();
        qsizetype head = 0;
        // Read again only once a slot was taken: a long queue of tasks still downloading costs
        // one look at each, not a copy of the cluster each.
        QList<NodeInfo> available = m_nodes.availableNodes();
        while (head < pending.size() && !available.isEmpty()) {
            const qsizetype at = head++;
            if (!m_tasks.isQueued(pending.at(at)))
                continue; // still downloading its files, or already started from behind
            const auto task = m_tasks.task(pending.at(at));
            const auto node = NodeSelector::pick(available, *task, m_policy.affinity);
            if (!node)
                continue; // no idle node fits this task; a later one may fit another
            const auto behind = [this, &pending, at](qsizetype k) -> std::optional<Task> {
                if (at + k >= pending.size())
                    return std::nullopt;
                return m_tasks.task(pending.at(at + k));
            };
            const QString id = m_picker.taskFor(*task, *node, available, behind, m_policy.affinity);
            bool started = m_nodes.reserve(*node, id);
            if (started && !m_tasks.start(id, *node)) {
                m_nodes.release(*node, id);
                started = false;
            }
            if (!started) {
                available = m_nodes.availableNodes();
                continue;
            }
            auto *runner =
                new TaskRunner(id, m_connections.forNode(*node), m_tasks, m_nodes, m_policy, this);
            m_runners.insert(id, runner);
            connect(runner, &TaskRunner::ended, this,
                    [this](const QString &taskId) { m_runners.remove(taskId); });
            runner->start();
            available = m_nodes.availableNodes(); // a slot less
            m_picker.forget(id);
            if (id != task->id)
                head = at; // the head waits for the next free node
        }
    } while (m_again);
    m_dispatching = false;
}

Result<bool> Dispatcher::cancel(const QString &taskId)
{
    const auto task = m_tasks.task(taskId);
    if (!task)
        return Error::notFound(QStringLiteral("task %1 not found").arg(taskId));
    if (task->isFinished())
        return Error::conflict(
            QStringLiteral("task %1 is already %2").arg(taskId, taskStatusName(task->status)));
    if (const QPointer<TaskRunner> runner = m_runners.value(taskId))
        runner->cancel();
    else
        m_tasks.cancel(taskId);
    qCInfo(lcDispatch).noquote() << "task" << taskId << "cancelled by request";
    return true;
}

void Dispatcher::onNodeOffline(const QUrl &url, const QStringList &tasks, const QString &reason)
{
    for (const QString &taskId : tasks)
        if (const QPointer<TaskRunner> runner = m_runners.value(taskId))
            runner->abort(QStringLiteral("%1 went offline: %2").arg(url.toString(), reason));
}

} // namespace comfy
