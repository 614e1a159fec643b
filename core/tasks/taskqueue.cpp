#include "tasks/taskqueue.h"

#include <QUuid>

#include <algorithm>

Q_LOGGING_CATEGORY(lcTasks, "comfy.tasks")

namespace comfy {

TaskQueue::TaskQueue(QueueLimits limits, QObject *parent)
    : QObject(parent)
    , m_limits(limits)
{
}

Result<QString> TaskQueue::enqueue(Task task)
{
    if (m_pending.size() >= m_limits.pendingLimit)
        return Error{Error::Kind::QueueFull,
                     QStringLiteral("the queue is full: %1 tasks are already waiting for a node")
                         .arg(m_pending.size()),
                     {}};
    task.id = QUuid::createUuid().toString(QUuid::WithoutBraces);
    task.status = TaskStatus::Pending;
    task.phase = task.downloads.isEmpty() ? TaskPhase::Queued : TaskPhase::Downloading;
    task.createdAt = QDateTime::currentDateTimeUtc();
    // Higher priority first; equal priorities keep their arrival order. Searched from the back:
    // with equal priorities (the usual case) the new task goes last at once.
    qsizetype at = m_pending.size();
    while (at > 0 && m_tasks.constFind(m_pending.at(at - 1))->priority < task.priority)
        --at;
    const QString id = task.id;
    if (m_journal && !m_journal->insert(task))
        return Error{Error::Kind::Internal,
                     QStringLiteral("the task could not be stored; nothing was queued"),
                     {}};
    m_pending.insert(at, id);
    m_created.append(id);
    qCInfo(lcTasks).noquote() << "task" << id << "queued:" << workflowTypeName(task.type)
                              << "workflow," << task.graph.size() << "graph nodes, position"
                              << positionOf(id);
    m_tasks.insert(id, std::move(task));
    Q_EMIT taskQueued(id);
    return id;
}

std::optional<Task> TaskQueue::task(const QString &id) const
{
    auto it = m_tasks.constFind(id);
    if (it == m_tasks.cend())
        return std::nullopt;
    return it.value();
}

std::optional<TaskStatus> TaskQueue::statusOf(const QString &id) const
{
    auto it = m_tasks.constFind(id);
    if (it == m_tasks.cend())
        return std::nullopt;
    return it->status;
}

bool TaskQueue::isQueued(const QString &id) const
{
    auto it = m_tasks.constFind(id);
    return it != m_tasks.cend() && it->status == TaskStatus::Pending &&
           it->phase == TaskPhase::Queued;
}

int TaskQueue::positionOf(const QString &id) const
{
    // Only a pending task has a place in the queue: the others (most of what clients poll)
    // need no scan of it.
    if (statusOf(id) != TaskStatus::Pending)
        return -1;
    return int(m_pending.indexOf(id));
}

QStringList TaskQueue::pendingIds() const
{
    return m_pending;
}

int TaskQueue::runningCount() const
{
    return int(std::count_if(m_tasks.cbegin(), m_tasks.cend(),
                             [](const Task &t) { return t.status == TaskStatus::Running; }));
}

QList<Task> TaskQueue::list(std::optional<TaskStatus> status, int offset, int limit) const
{
    QList<Task> result;
    int skipped = 0;
    for (auto it = m_created.crbegin(); it != m_created.crend() && result.size() < limit; ++it) {
        const Task &task = *m_tasks.constFind(*it);
        if (status && task.status != *status)
            continue;
        if (skipped++ < offset)
            continue;
        result.append(task);
    }
    return result;
}

int TaskQueue::count(std::optional<TaskStatus> status) const
{
    if (!status)
        return int(m_tasks.size());
    return int(std::count_if(m_tasks.cbegin(), m_tasks.cend(),
                             [&status](const Task &t) { return t.status == *status; }));
}

bool TaskQueue::setDownloadProgress(const QString &id, qint64 done, qint64 total)
{
    Task *task = find(id);
    if (!task || task->phase != TaskPhase::Downloading)
        return false;
    task->downloadDone = done;
    task->downloadTotal = total;
    Q_EMIT taskChanged(id);
    return true;
}

bool TaskQueue::awaitFiles(const QString &id)
{
    Task *task = find(id);
    if (!task || task->status != TaskStatus::Pending)
        return false;
    task->phase = TaskPhase::Downloading;
    Q_EMIT taskChanged(id);
    return true;
}

bool TaskQueue::filesReady(const QString &id)
{
    Task *task = find(id);
    if (!task || task->status != TaskStatus::Pending || task->phase != TaskPhase::Downloading)
        return false;
    task->phase = TaskPhase::Queued;
    qCInfo(lcTasks).noquote() << "task" << id << "has its files, ready to run";
    Q_EMIT taskChanged(id);
    Q_EMIT taskReady(id);
    return true;
}

bool TaskQueue::start(const QString &id, const QUrl &node)
{
    Task *task = find(id);
    if (!task || task->status != TaskStatus::Pending || task->phase != TaskPhase::Queued)
        return false;
    m_pending.removeOne(id);
    task->status = TaskStatus::Running;
    task->phase = TaskPhase::Submitting;
    task->node = node;
    task->startedAt = QDateTime::currentDateTimeUtc();
    ++task->attempts;
    qCInfo(lcTasks).noquote() << "task" << id << "started on" << node.toString() << "after"
                              << task->createdAt.msecsTo(task->startedAt) << "ms in the queue";
    Q_EMIT taskChanged(id);
    return true;
}

bool TaskQueue::setPhase(const QString &id, TaskPhase phase)
{
    Task *task = find(id);
    if (!task || task->status != TaskStatus::Running)
        return false;
    task->phase = phase;
    Q_EMIT taskChanged(id);
    return true;
}

bool TaskQueue::setPromptId(const QString &id, const QString &promptId)
{
    Task *task = find(id);
    if (!task || task->status != TaskStatus::Running)
        return false;
    task->promptId = promptId;
    task->phase = TaskPhase::Executing;
    Q_EMIT taskChanged(id);
    return true;
}

bool TaskQueue::setProgress(const QString &id, double progress, const QString &executingNode)
{
    Task *task = find(id);
    if (!task || task->status != TaskStatus::Running)
        return false;
    task->progress = std::clamp(progress, 0.0, 1.0);
    task->executingNode = executingNode;
    Q_EMIT taskChanged(id);
    return true;
}

bool TaskQueue::setExecutingNode(const QString &id, const QString &executingNode)
{
    Task *task = find(id);
    if (!task || task->status != TaskStatus::Running)
        return false;
    task->executingNode = executingNode;
    Q_EMIT taskChanged(id);
    return true;
}

bool TaskQueue::setPreview(const QString &id, const OutputImage &preview)
{
    Task *task = find(id);
    if (!task || task->status != TaskStatus::Running)
        return false;
    task->preview = preview;
    Q_EMIT taskChanged(id);
    return true;
}

bool TaskQueue::finish(const QString &id, const QList<OutputImage> &images)
{
    Task *task = find(id);
    if (!task || task->status != TaskStatus::Running)
        return false;
    task->images = images;
    task->progress = 1.0;
    task->preview = {}; // results replace the preview
    toHistory(*task, TaskStatus::Done);
    return true;
}

bool TaskQueue::fail(const QString &id, const QString &reason)
{
    Task *task = find(id);
    if (!task || task->isFinished())
        return false;
    task->error = reason;
    toHistory(*task, TaskStatus::Error);
    return true;
}

bool TaskQueue::retryOrFail(const QString &id, const QString &reason)
{
    Task *task = find(id);
    if (!task || task->status != TaskStatus::Running)
        return false;
    const QString attempt =
        QStringLiteral("attempt %1 on %2: %3")
            .arg(task->attempts)
            .arg(task->node.isEmpty() ? QStringLiteral("no node") : task->node.toString(), reason);
    task->attemptErrors.append(attempt);
    if (task->attempts >= m_limits.maxAttempts) {
        task->error = task->attempts <= 1
                          ? reason
                          : QStringLiteral("failed %1 attempts: %2")
                                .arg(task->attempts)
                                .arg(task->attemptErrors.join(QStringLiteral("; ")));
        toHistory(*task, TaskStatus::Error);
        return true;
    }
    task->status = TaskStatus::Pending;
    task->phase = TaskPhase::Queued;
    task->node.clear();
    task->promptId.clear();
    task->progress = 0.0;
    task->executingNode.clear();
    task->preview = {};
    m_pending.prepend(id); // it waited already: first in line
    qCWarning(lcTasks).noquote() << "task" << id << "back in the queue for attempt"
                                 << task->attempts + 1 << "of" << m_limits.maxAttempts << "after"
                                 << attempt;
    Q_EMIT taskChanged(id);
    Q_EMIT taskReady(id);
    return true;
}

void TaskQueue::restore(QList<Task> tasks)
{
    std::sort(tasks.begin(), tasks.end(),
              [](const Task &a, const Task &b) { return a.createdAt < b.createdAt; });
    QStringList interrupted;
    QStringList pending;
    const qsizetype count = tasks.size();
    for (Task &task : tasks) {
        const QString id = task.id;
        m_created.append(id);
        if (task.isFinished())
            m_history.append(id);
        else if (task.status == TaskStatus::Running)
            interrupted.append(id);
        else
            pending.append(id);
        m_tasks.insert(id, std::move(task));
    }
    // Pending order: priority first, then the order they were queued in.
    std::stable_sort(pending.begin(), pending.end(), [this](const QString &a, const QString &b) {
        return m_tasks.constFind(a)->priority > m_tasks.constFind(b)->priority;
    });
    m_pending = pending;
    qCInfo(lcTasks).noquote() << "restored" << count << "tasks:" << pending.size() << "pending,"
                              << interrupted.size() << "were running," << m_history.size()
                              << "finished";
    for (auto it = interrupted.crbegin(); it != interrupted.crend(); ++it)
        retryOrFail(*it, QStringLiteral("the router stopped while the task ran"));
    forgetOldHistory();
    for (const QString &id : std::as_const(pending))
        Q_EMIT taskQueued(id);
}

bool TaskQueue::cancel(const QString &id)
{
    Task *task = find(id);
    if (!task || task->isFinished())
        return false;
    toHistory(*task, TaskStatus::Cancelled);
    return true;
}

void TaskQueue::toHistory(Task &task, TaskStatus status)
{
    const QString id = task.id;
    m_pending.removeOne(id);
    task.status = status;
    task.phase = TaskPhase::Finished;
    task.finishedAt = QDateTime::currentDateTimeUtc();
    const qint64 ms =
        (task.startedAt.isValid() ? task.startedAt : task.createdAt).msecsTo(task.finishedAt);
    const QString error = task.error;
    const qsizetype images = task.images.size();
    m_history.append(id);
    Q_EMIT taskChanged(id);
    Q_EMIT taskFinished(id);
    // Logged once the store (a direct slot) has written it: a task logged done stays done.
    if (status == TaskStatus::Error)
        qCWarning(lcTasks).noquote() << "task" << id << "error after" << ms << "ms:" << error;
    else
        qCInfo(lcTasks).noquote() << "task" << id << taskStatusName(status) << "after" << ms
                                  << "ms," << images << "images";
    forgetOldHistory();
}

void TaskQueue::forgetOldHistory()
{
    while (m_history.size() > m_limits.historyLimit) {
        const QString old = m_history.takeFirst();
        m_tasks.remove(old);
        m_created.removeOne(old);
        Q_EMIT taskForgotten(old);
    }
}

Task *TaskQueue::find(const QString &id)
{
    auto it = m_tasks.find(id);
    return it == m_tasks.end() ? nullptr : &it.value();
}

} // namespace comfy
