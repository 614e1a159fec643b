#pragma once

#include "comfy/promptrun.h"

#include <QHash>
#include <QObject>
#include <QTimer>
#include <QUrl>

namespace comfy {

class TaskQueue;
class NodeRegistry;

struct RunPolicy {
    int timeoutMs = 3600 * 1000; // a task running longer fails
    int silenceMs = 600 * 1000;  // a node silent this long is checked, then failed over
    bool affinity = true;        // place tasks on nodes that have their model loaded
    int lookAhead = 0;           // waiting tasks a freed node looks through for one of its models
};

// Runs one task on one reserved node: drives a PromptRun and records what it reports into
// the TaskQueue; frees the node when the run has ended. Deletes itself when done.
class TaskRunner : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TaskRunner)
public:
    TaskRunner(const QString &taskId, NodeConnection &connection, TaskQueue &tasks,
               NodeRegistry &nodes, const RunPolicy &policy, QObject *parent = nullptr);
    ~TaskRunner() override;

    void start();
    void cancel();                     // the user cancelled the task
    void abort(const QString &reason); // the node is gone

Q_SIGNALS:
    void ended(const QString &taskId);

private:
    void onFailed(RunFailure failure, const QString &reason);
    void onProgress(int value, int max, const QString &nodeId);
    void onTimeout();
    void end();

    QString m_taskId;
    QUrl m_node;
    TaskQueue &m_tasks;
    NodeRegistry &m_nodes;
    PromptRun m_run;
    QTimer m_timeout;
    QHash<QString, int> m_samplerSteps;
    QHash<QString, int> m_stepsDone;
    bool m_ended = false;
    bool m_cancelled = false;
};

} // namespace comfy
