#pragma once

#include "comfy/nodeconnection.h"
#include "dispatch/taskpicker.h"
#include "dispatch/taskrunner.h"
#include "util/error.h"

#include <QHash>
#include <QLoggingCategory>
#include <QObject>
#include <QPointer>

Q_DECLARE_LOGGING_CATEGORY(lcDispatch)

namespace comfy {

class NodeRegistry;
class TaskQueue;
class TaskRunner;

// Starts pending tasks on nodes with a free slot: reacts to "a task was queued" and "a node
// became free", never polls. NodeSelector picks the node, TaskPicker the task it takes.
class Dispatcher : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Dispatcher)
public:
    Dispatcher(TaskQueue &tasks, NodeRegistry &nodes, const RunPolicy &policy = {},
               QObject *parent = nullptr);
    ~Dispatcher() override;

    // pending: leaves the queue; running: interrupted on its node. Conflict when finished.
    Result<bool> cancel(const QString &taskId);

public Q_SLOTS:
    void dispatch();

private:
    void onNodeOffline(const QUrl &url, const QStringList &tasks, const QString &reason);

    TaskQueue &m_tasks;
    NodeRegistry &m_nodes;
    RunPolicy m_policy;
    NodeConnections m_connections; // one websocket per node, kept for the next task
    QHash<QString, QPointer<TaskRunner>> m_runners;
    TaskPicker m_picker; // which waiting task a free node takes (look-ahead, pass-over counts)
    bool m_dispatching = false;
    bool m_again = false;
};

} // namespace comfy
