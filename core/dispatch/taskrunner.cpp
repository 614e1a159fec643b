#include "dispatch/taskrunner.h"

#include "cluster/noderegistry.h"
#include "dispatch/nodeselector.h"
#include "tasks/taskqueue.h"

namespace comfy {

TaskRunner::TaskRunner(const QString &taskId, NodeConnection &connection, TaskQueue &tasks,
                       NodeRegistry &nodes, const RunPolicy &policy, QObject *parent)
    : QObject(parent)
    , m_taskId(taskId)
    , m_node(connection.node())
    , m_tasks(tasks)
    , m_nodes(nodes)
    , m_run(connection, taskId, tasks.task(taskId).value_or(Task{}).graph)
    , m_samplerSteps(tasks.task(taskId).value_or(Task{}).samplerSteps)
{
    connect(&m_run, &PromptRun::submitted, this,
            [this](const QString &promptId) { m_tasks.setPromptId(m_taskId, promptId); });
    connect(&m_run, &PromptRun::executingNode, this,
            [this](const QString &nodeId, const QString &) {
                m_tasks.setExecutingNode(m_taskId, nodeId);
            });
    connect(&m_run, &PromptRun::progress, this, &TaskRunner::onProgress);
    connect(&m_run, &PromptRun::preview, this,
            [this](const QByteArray &image, const QByteArray &mimeType) {
                m_tasks.setPreview(m_taskId, {image, mimeType});
            });
    connect(&m_run, &PromptRun::finished, this, [this](const QList<OutputImage> &images) {
        if (const auto task = m_tasks.task(m_taskId))
            m_nodes.recordModels(m_node, NodeSelector::modelsOf(task->graph));
        m_tasks.finish(m_taskId, images);
        end();
    });
    connect(&m_run, &PromptRun::failed, this, &TaskRunner::onFailed);
    m_run.setSilenceTimeoutMs(policy.silenceMs);
    m_timeout.setSingleShot(true);
    m_timeout.setInterval(policy.timeoutMs);
    connect(&m_timeout, &QTimer::timeout, this, &TaskRunner::onTimeout);
}

TaskRunner::~TaskRunner() = default;

void TaskRunner::onProgress(int value, int max, const QString &nodeId)
{
    // A predefined workflow knows its sampler passes: progress is the share of all their
    // steps done (base + refiner). A Raw graph counts any node's progress as it comes.
    if (!m_samplerSteps.isEmpty()) {
        if (!m_samplerSteps.contains(nodeId))
            return;
        m_stepsDone.insert(nodeId, std::min(value, m_samplerSteps.value(nodeId)));
        qint64 done = 0;
        qint64 total = 0;
        for (auto it = m_samplerSteps.cbegin(); it != m_samplerSteps.cend(); ++it) {
            total += it.value();
            done += m_stepsDone.value(it.key());
        }
        if (total > 0)
            m_tasks.setProgress(m_taskId, double(done) / double(total), nodeId);
        return;
    }
    if (max > 0)
        m_tasks.setProgress(m_taskId, double(value) / double(max), nodeId);
}

void TaskRunner::start()
{
    m_timeout.start();
    m_run.start();
}

void TaskRunner::cancel()
{
    m_cancelled = true;
    m_tasks.cancel(m_taskId);
    m_run.cancel(); // the run ends with failed(Interrupted) once the node has let it go
}

void TaskRunner::abort(const QString &reason)
{
    if (m_ended)
        return;
    m_tasks.retryOrFail(m_taskId, reason); // the node is gone, not the task's fault
    end();
}

void TaskRunner::onFailed(RunFailure failure, const QString &reason)
{
    if (m_cancelled) {
        end();
        return;
    }
    if (failure == RunFailure::NodeLost) {
        // The node, not the graph, failed: another node may run it. A refused or dropped
        // connection may also mean the node is down: check it now.
        m_nodes.checkNow(m_node);
        m_tasks.retryOrFail(m_taskId, reason);
    } else {
        // A rejected graph or an execution error would fail the same way everywhere.
        m_tasks.fail(m_taskId, reason);
    }
    end();
}

void TaskRunner::onTimeout()
{
    if (m_ended)
        return;
    const QString reason = QStringLiteral("timed out after %1 s on %2")
                               .arg(m_timeout.interval() / 1000)
                               .arg(m_node.toString());
    m_tasks.fail(m_taskId, reason);
    m_cancelled = true; // what the run reports from now on changes nothing
    m_run.cancel();     // interrupt it on the node if it still answers
    end();              // a hung node must not hold the task, nor keep the node reserved
}

void TaskRunner::end()
{
    if (m_ended)
        return;
    m_ended = true;
    m_nodes.release(m_node, m_taskId);
    Q_EMIT ended(m_taskId);
    deleteLater();
}

} // namespace comfy
