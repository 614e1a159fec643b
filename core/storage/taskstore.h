#pragma once

#include "cluster/node.h"
#include "tasks/task.h"
#include "tasks/taskqueue.h"

#include <QHash>
#include <QJsonArray>
#include <QLoggingCategory>
#include <QObject>
#include <QSqlQuery>
#include <QString>

#include <memory>
#include <optional>
#include <unordered_map>

Q_DECLARE_LOGGING_CATEGORY(lcStorage)

namespace comfy {

class NodeRegistry;
class TaskQueue;

// What survives a restart, in SQLite under DATA_DIR: the nodes and every task (pending queue,
// running, history), each change written before the call that made it returns — so a task
// whose id was answered is on disk, whatever kills the process next. Result images are rows of
// task_images, written in the same transaction as the task's final state: no file to create
// per task (a new file costs up to a millisecond on ext4), and no task done without its images.
class TaskStore : public QObject, public TaskJournal {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TaskStore)
public:
    explicit TaskStore(const QString &dataDir, QObject *parent = nullptr);
    ~TaskStore() override;

    bool open(); // false (logged) when the database cannot be used
    QString error() const { return m_error; }
    QString dataDir() const { return m_dataDir; }

    QList<Task> loadTasks() const;
    QList<NodeInfo> loadNodes() const; // url, labels, addedAt
    // From now on every change of the queue and the registry is written.
    void follow(TaskQueue &tasks, NodeRegistry &nodes);
    bool insert(const Task &task) override;

private:
    bool saveTask(const Task &task);
    bool updateTask(const Task &task);   // false when the write failed
    void saveFinished(const Task &task); // its images and final state, one transaction
    void forgetTask(const QString &id);
    void saveNode(const NodeInfo &node);
    void forgetNode(const QUrl &url);
    bool exec(const QString &sql, const QVariantList &values = {});
    void moveImageFilesIntoDatabase(); // from a database of before task_images

    QString m_dataDir;
    QString m_connection;
    QString m_error;
    TaskQueue *m_tasks = nullptr;
    qint64 m_seq = 0; // order of insertion
    // Prepared once, bound and run again: a task's updates repeat a few statements.
    std::unordered_map<QString, std::unique_ptr<QSqlQuery>> m_statements;
    QHash<QString, QString> m_written; // task id -> the state last written (skip no-op updates)
};

} // namespace comfy
