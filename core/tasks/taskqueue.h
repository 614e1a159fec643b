#pragma once

#include "tasks/task.h"
#include "util/error.h"

#include <QHash>
#include <QList>
#include <QLoggingCategory>
#include <QObject>

Q_DECLARE_LOGGING_CATEGORY(lcTasks)

namespace comfy {

struct QueueLimits {
    int pendingLimit = 25; // tasks waiting for a node; one more is refused (QueueFull)
    int historyLimit = 50; // finished tasks kept; older ones are forgotten
    int maxAttempts = 3;   // runs of one task in all, counting failovers to other nodes
};

// Where new tasks are written before they are accepted (the database): a task whose id was
// answered must survive a crash.
class TaskJournal {
public:
    virtual ~TaskJournal() = default;
    virtual bool insert(const Task &task) = 0; // false: not stored, the task is refused
};

// Where a task waits, and the one place that moves it through its states. It owns every
// task the router knows: the pending queue (priority, then FIFO), the running ones and the
// history of finished ones.
class TaskQueue : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TaskQueue)
public:
    explicit TaskQueue(QueueLimits limits, QObject *parent = nullptr);

    void setJournal(TaskJournal *journal) { m_journal = journal; }
    // Assigns id and createdAt. QueueFull when pendingLimit tasks already wait; Internal when
    // the journal cannot store it.
    Result<QString> enqueue(Task task);

    std::optional<Task> task(const QString &id) const;
    std::optional<TaskStatus> statusOf(const QString &id) const; // without copying the task
    bool isQueued(const QString &id) const; // pending with its files in place: it may start
    // Tasks ahead of a pending one (0 = next), -1 when it is not pending.
    int positionOf(const QString &id) const;
    QStringList pendingIds() const; // in the order they will run
    int pendingCount() const { return int(m_pending.size()); }
    int runningCount() const;
    // Newest first; a status filter, then offset and limit.
    QList<Task> list(std::optional<TaskStatus> status, int offset, int limit) const;
    int count(std::optional<TaskStatus> status) const;

    // State machine. Each returns false (and changes nothing) for a move it does not allow.
    bool setDownloadProgress(const QString &id, qint64 done, qint64 total);
    bool awaitFiles(const QString &id); // pending -> downloading (its files must be fetched again)
    bool filesReady(const QString &id); // downloading -> queued
    bool start(const QString &id, const QUrl &node);   // pending (queued) -> running
    bool setPhase(const QString &id, TaskPhase phase); // while running
    bool setPromptId(const QString &id, const QString &promptId);
    bool setProgress(const QString &id, double progress, const QString &executingNode);
    bool setExecutingNode(const QString &id, const QString &executingNode);
    bool setPreview(const QString &id, const OutputImage &preview);
    bool finish(const QString &id, const QList<OutputImage> &images); // running -> done
    bool fail(const QString &id, const QString &reason);              // pending|running -> error
    // The node failed the task (gone, websocket lost, 5xx, silent): running -> pending at the
    // front of the queue while attempts remain, else -> error with every attempt's reason.
    bool retryOrFail(const QString &id, const QString &reason);
    // Tasks read back at start-up: pending ones keep their order, running ones go back to
    // the front of the queue (or fail when out of attempts), finished ones to the history.
    void restore(QList<Task> tasks);
    bool cancel(const QString &id); // pending|running -> cancelled

Q_SIGNALS:
    void taskQueued(const QString &id);
    void taskReady(const QString &id); // its files are in place: it may run now
    void taskChanged(const QString &id);
    void taskFinished(const QString &id);
    void taskForgotten(const QString &id); // dropped from the history

private:
    Task *find(const QString &id);
    void forgetOldHistory();
    void toHistory(Task &task, TaskStatus status);

    QueueLimits m_limits;
    TaskJournal *m_journal = nullptr;
    QHash<QString, Task> m_tasks;
    QStringList m_pending; // ids, in run order
    QStringList m_history; // finished ids, oldest first
    QStringList m_created; // every id, oldest first
};

} // namespace comfy
