#include "storage/taskstore.h"

#include "cluster/noderegistry.h"
#include "tasks/taskqueue.h"
#include "util/isotime.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QUuid>

Q_LOGGING_CATEGORY(lcStorage, "comfy.storage")

namespace comfy {

namespace {
QString json(const QJsonValue &value)
{
    return QString::fromUtf8(value.isArray()
                                 ? QJsonDocument(value.toArray()).toJson(QJsonDocument::Compact)
                                 : QJsonDocument(value.toObject()).toJson(QJsonDocument::Compact));
}
QJsonValue parse(const QString &text)
{
    const QJsonDocument document = QJsonDocument::fromJson(text.toUtf8());
    return document.isArray() ? QJsonValue(document.array()) : QJsonValue(document.object());
}
// The columns that change while a task lives: written only when one of them changed.
QString stateOf(const Task &task)
{
    return QStringLiteral("%1|%2|%3|%4|%5|%6|%7")
        .arg(int(task.status))
        .arg(int(task.phase))
        .arg(task.node.toString(), task.promptId)
        .arg(task.attempts)
        .arg(task.attemptErrors.size())
        .arg(task.error);
}
} // namespace

TaskStore::TaskStore(const QString &dataDir, QObject *parent)
    : QObject(parent)
    , m_dataDir(dataDir)
    , m_connection(QStringLiteral("comfy-store-") + QUuid::createUuid().toString(QUuid::Id128))
{
}

TaskStore::~TaskStore()
{
    m_statements.clear(); // before their connection goes
    if (QSqlDatabase::contains(m_connection)) {
        QSqlDatabase::database(m_connection, false).close();
        QSqlDatabase::removeDatabase(m_connection);
    }
}

bool TaskStore::exec(const QString &sql, const QVariantList &values)
{
    std::unique_ptr<QSqlQuery> &statement = m_statements[sql];
    if (!statement) {
        statement = std::make_unique<QSqlQuery>(QSqlDatabase::database(m_connection, false));
        if (!statement->prepare(sql)) {
            m_error = statement->lastError().text();
            statement.reset();
            m_statements.erase(sql);
            qCWarning(lcStorage).noquote() << "database statement refused:" << m_error;
            return false;
        }
    }
    QSqlQuery &query = *statement;
    for (qsizetype i = 0; i < values.size(); ++i) {
        const QVariant &value = values.at(i);
        // A null QString binds as SQL NULL; every text column here is NOT NULL.
        if (value.typeId() == QMetaType::QString && value.toString().isNull())
            query.bindValue(int(i), QString(QLatin1String("")));
        else
            query.bindValue(int(i), value);
    }
    const bool done = query.exec();
    query.finish(); // no result kept open between two writes
    if (done)
        return true;
    m_error = query.lastError().text();
    qCWarning(lcStorage).noquote() << "database write failed:" << m_error;
    return false;
}

bool TaskStore::open()
{
    if (!QDir().mkpath(m_dataDir)) {
        m_error = QStringLiteral("cannot create %1").arg(m_dataDir);
        return false;
    }
    QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_connection);
    db.setDatabaseName(QDir(m_dataDir).filePath(QStringLiteral("comfy-router.db")));
    if (!db.open()) {
        m_error = db.lastError().text();
        return false;
    }
    // WAL with synchronous=NORMAL: every committed write survives the process being killed
    // (it is in the OS's hands); only a power cut can take the last transactions.
    const QStringList setup{
        QStringLiteral("PRAGMA journal_mode=WAL"),
        QStringLiteral("PRAGMA synchronous=NORMAL"),
        QStringLiteral(
            "CREATE TABLE IF NOT EXISTS nodes (url TEXT PRIMARY KEY, labels TEXT NOT NULL, "
            "added_at TEXT NOT NULL, enabled INTEGER NOT NULL DEFAULT 1)"),
        QStringLiteral(
            "CREATE TABLE IF NOT EXISTS tasks (id TEXT PRIMARY KEY, seq INTEGER NOT NULL, type "
            "TEXT NOT NULL, "
            "params TEXT NOT NULL, graph TEXT NOT NULL, priority INTEGER NOT NULL, node_labels "
            "TEXT NOT NULL, "
            "webhook TEXT NOT NULL, seed TEXT NOT NULL, downloads TEXT NOT NULL, sampler_steps "
            "TEXT NOT NULL, "
            "status INTEGER NOT NULL, phase INTEGER NOT NULL, node TEXT NOT NULL, prompt_id TEXT "
            "NOT NULL, "
            "attempts INTEGER NOT NULL, attempt_errors TEXT NOT NULL, error TEXT NOT NULL, "
            "created_at TEXT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT NOT NULL, "
            "images TEXT NOT NULL)"),
        QStringLiteral(
            "CREATE TABLE IF NOT EXISTS task_images (task_id TEXT NOT NULL, n INTEGER "
            "NOT NULL, mime TEXT NOT NULL, data BLOB NOT NULL, PRIMARY KEY (task_id, n))"),
    };
    for (const QString &sql : setup)
        if (!exec(sql))
            return false;
    moveImageFilesIntoDatabase();
    QSqlQuery seq(db);
    if (seq.exec(QStringLiteral("SELECT COALESCE(MAX(seq), 0) FROM tasks")) && seq.next())
        m_seq = seq.value(0).toLongLong(); // the queue order of the next task, kept in memory
    qCInfo(lcStorage).noquote() << "state kept in" << db.databaseName();
    return true;
}

QList<Task> TaskStore::loadTasks() const
{
    QList<Task> tasks;
    QHash<QString, QList<OutputImage>> images;
    QSqlQuery imageQuery(QSqlDatabase::database(m_connection, false));
    imageQuery.exec(
        QStringLiteral("SELECT task_id, mime, data FROM task_images ORDER BY task_id, n"));
    while (imageQuery.next())
        images[imageQuery.value(0).toString()].append(
            {imageQuery.value(2).toByteArray(), imageQuery.value(1).toString().toLatin1()});
    QSqlQuery query(QSqlDatabase::database(m_connection, false));
    query.exec(QStringLiteral(
        "SELECT id, type, params, graph, priority, node_labels, webhook, seed, downloads, "
        "sampler_steps, status, phase, node, prompt_id, attempts, attempt_errors, error, "
        "created_at, started_at, finished_at FROM tasks ORDER BY seq"));
    while (query.next()) {
        Task task;
        int c = 0;
        task.id = query.value(c++).toString();
        task.type = workflowTypeFromName(query.value(c++).toString()).value_or(WorkflowType::Raw);
        task.params = parse(query.value(c++).toString()).toObject();
        task.graph = parse(query.value(c++).toString()).toObject();
        task.priority = query.value(c++).toInt();
        for (const QJsonValue &label : parse(query.value(c++).toString()).toArray())
            task.nodeLabels.append(label.toString());
        task.webhook = QUrl(query.value(c++).toString());
        const QString seed = query.value(c++).toString();
        if (!seed.isEmpty())
            task.seed = seed.toLongLong();
        for (const QJsonValue &value : parse(query.value(c++).toString()).toArray()) {
            const QJsonObject o = value.toObject();
            task.downloads.append({QUrl(o.value(QLatin1String("url")).toString()),
                                   o.value(QLatin1String("folder")).toString(),
                                   o.value(QLatin1String("file")).toString(),
                                   o.value(QLatin1String("field")).toString(),
                                   o.value(QLatin1String("sha256")).toString().toLatin1()});
        }
        const QJsonObject steps = parse(query.value(c++).toString()).toObject();
        for (auto it = steps.begin(); it != steps.end(); ++it)
            task.samplerSteps.insert(it.key(), it.value().toInt());
        task.status = static_cast<TaskStatus>(query.value(c++).toInt());
        task.phase = static_cast<TaskPhase>(query.value(c++).toInt());
        task.node = QUrl(query.value(c++).toString());
        task.promptId = query.value(c++).toString();
        task.attempts = query.value(c++).toInt();
        for (const QJsonValue &error : parse(query.value(c++).toString()).toArray())
            task.attemptErrors.append(error.toString());
        task.error = query.value(c++).toString();
        task.createdAt = fromIsoTime(query.value(c++).toString());
        task.startedAt = fromIsoTime(query.value(c++).toString());
        task.finishedAt = fromIsoTime(query.value(c++).toString());
        task.images = images.take(task.id);
        if (task.status == TaskStatus::Done)
            task.progress = 1.0;
        tasks.append(std::move(task));
    }
    return tasks;
}

QList<NodeInfo> TaskStore::loadNodes() const
{
    QList<NodeInfo> nodes;
    QSqlQuery query(QSqlDatabase::database(m_connection, false));
    query.exec(
        QStringLiteral("SELECT url, labels, added_at, enabled FROM nodes ORDER BY added_at"));
    while (query.next()) {
        NodeInfo node;
        node.url = QUrl(query.value(0).toString());
        for (const QJsonValue &label : parse(query.value(1).toString()).toArray())
            node.labels.append(label.toString());
        node.addedAt = fromIsoTime(query.value(2).toString());
        node.enabled = query.value(3).toBool();
        nodes.append(node);
    }
    return nodes;
}

void TaskStore::follow(TaskQueue &tasks, NodeRegistry &nodes)
{
    m_tasks = &tasks;
    // Direct connections: written before the signal's emitter returns (and so before the
    // HTTP answer that carries a new task's id).
    tasks.setJournal(this); // new tasks are written before they are accepted
    connect(&tasks, &TaskQueue::taskChanged, this, [this](const QString &id) {
        const auto task = m_tasks->task(id);
        if (!task || task->isFinished())
            return; // written on taskFinished, with its images
        updateTask(*task);
    });
    connect(&tasks, &TaskQueue::taskFinished, this, [this](const QString &id) {
        if (const auto task = m_tasks->task(id))
            saveFinished(*task);
    });
    connect(&tasks, &TaskQueue::taskForgotten, this, &TaskStore::forgetTask);
    connect(&nodes, &NodeRegistry::nodeAdded, this, [this, &nodes](const QUrl &url) {
        if (const auto node = nodes.node(url); node && !node->simulated)
            saveNode(*node);
    });
    connect(&nodes, &NodeRegistry::nodeRemoved, this, &TaskStore::forgetNode);
    connect(&nodes, &NodeRegistry::nodeSettingsChanged, this, [this, &nodes](const QUrl &url) {
        if (const auto node = nodes.node(url); node && !node->simulated)
            saveNode(*node);
    });
}

bool TaskStore::insert(const Task &task)
{
    return saveTask(task);
}

bool TaskStore::saveTask(const Task &task)
{
    QJsonArray downloads;
    for (const FileToFetch &file : task.downloads)
        downloads.append(QJsonObject{{QStringLiteral("url"), file.url.toString()},
                                     {QStringLiteral("folder"), file.folder},
                                     {QStringLiteral("file"), file.fileName},
                                     {QStringLiteral("field"), file.field},
                                     {QStringLiteral("sha256"), QString::fromLatin1(file.sha256)}});
    QJsonObject steps;
    for (auto it = task.samplerSteps.cbegin(); it != task.samplerSteps.cend(); ++it)
        steps.insert(it.key(), it.value());
    const bool saved = exec(QStringLiteral("INSERT OR REPLACE INTO tasks VALUES (?, ?, ?, ?, ?, ?, "
                                           "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '[]')"),
                            {task.id,
                             ++m_seq,
                             workflowTypeName(task.type),
                             json(task.params),
                             json(task.graph),
                             task.priority,
                             json(QJsonArray::fromStringList(task.nodeLabels)),
                             task.webhook.toString(),
                             task.seed ? QString::number(*task.seed) : QString(),
                             json(downloads),
                             json(steps),
                             int(task.status),
                             int(task.phase),
                             task.node.toString(),
                             task.promptId,
                             task.attempts,
                             json(QJsonArray::fromStringList(task.attemptErrors)),
                             task.error,
                             isoTime(task.createdAt),
                             isoTime(task.startedAt),
                             isoTime(task.finishedAt)});
    if (saved)
        m_written.insert(task.id, stateOf(task));
    return saved;
}

bool TaskStore::updateTask(const Task &task)
{
    const QString state = stateOf(task);
    if (m_written.value(task.id) == state)
        return true; // progress and previews are not kept: they are worthless after a restart
    const bool written =
        exec(QStringLiteral("UPDATE tasks SET status = ?, phase = ?, node = ?, prompt_id = ?, "
                            "attempts = ?, attempt_errors = ?, error = ?, started_at = ?, "
                            "finished_at = ? WHERE id = ?"),
             {int(task.status), int(task.phase), task.node.toString(), task.promptId, task.attempts,
              json(QJsonArray::fromStringList(task.attemptErrors)), task.error,
              isoTime(task.startedAt), isoTime(task.finishedAt), task.id});
    if (written && !task.isFinished())
        m_written.insert(task.id, state); // a failed write is tried again on the next change
    else
        m_written.remove(task.id);
    return written;
}

void TaskStore::saveFinished(const Task &task)
{
    QSqlDatabase db = QSqlDatabase::database(m_connection, false);
    if (!db.transaction()) {
        qCWarning(lcStorage).noquote() << "database write failed:" << db.lastError().text();
        return;
    }
    bool ok = exec(QStringLiteral("DELETE FROM task_images WHERE task_id = ?"), {task.id});
    for (qsizetype i = 0; ok && i < task.images.size(); ++i)
        ok = exec(
            QStringLiteral("INSERT INTO task_images VALUES (?, ?, ?, ?)"),
            {task.id, int(i), QString::fromLatin1(task.images[i].mimeType), task.images[i].data});
    m_written.remove(task.id); // the final state is written whatever was before
    ok = ok && updateTask(task);
    if (!(ok ? db.commit() : db.rollback()))
        qCWarning(lcStorage).noquote() << "database write failed:" << db.lastError().text();
}

void TaskStore::forgetTask(const QString &id)
{
    QSqlDatabase db = QSqlDatabase::database(m_connection, false);
    const bool inTransaction = db.transaction();
    const bool ok = exec(QStringLiteral("DELETE FROM task_images WHERE task_id = ?"), {id}) &&
                    exec(QStringLiteral("DELETE FROM tasks WHERE id = ?"), {id});
    if (inTransaction && !(ok ? db.commit() : db.rollback()))
        qCWarning(lcStorage).noquote() << "database write failed:" << db.lastError().text();
    m_written.remove(id);
}

void TaskStore::saveNode(const NodeInfo &node)
{
    exec(QStringLiteral("INSERT OR REPLACE INTO nodes VALUES (?, ?, ?, ?)"),
         {node.url.toString(), json(QJsonArray::fromStringList(node.labels)), isoTime(node.addedAt),
          node.enabled ? 1 : 0});
}

void TaskStore::forgetNode(const QUrl &url)
{
    exec(QStringLiteral("DELETE FROM nodes WHERE url = ?"), {url.toString()});
}

void TaskStore::moveImageFilesIntoDatabase()
{
    // Databases from before task_images kept result images as files in DATA_DIR/images/<task>/
    // (listed in the tasks.images column): moved in once, so that loading and forgetting tasks
    // never touch the file system.
    const QDir folder(QDir(m_dataDir).filePath(QStringLiteral("images")));
    if (!folder.exists())
        return;
    QSqlDatabase db = QSqlDatabase::database(m_connection, false);
    QList<QPair<QString, QJsonArray>> listed;
    {
        QSqlQuery rows(db);
        if (rows.exec(QStringLiteral("SELECT id, images FROM tasks WHERE images != '[]'")))
            while (rows.next())
                listed.append(
                    {rows.value(0).toString(), parse(rows.value(1).toString()).toArray()});
    }
    if (!db.transaction())
        return;
    bool ok = true;
    int moved = 0;
    for (const auto &[id, files] : std::as_const(listed)) {
        int n = 0;
        for (const QJsonValue &value : files) {
            const QJsonObject o = value.toObject();
            QFile file(
                QDir(folder.filePath(id)).filePath(o.value(QLatin1String("file")).toString()));
            if (!file.open(QIODevice::ReadOnly))
                continue; // lost already: the task keeps the others
            ok =
                ok && exec(QStringLiteral("INSERT OR REPLACE INTO task_images VALUES (?, ?, ?, ?)"),
                           {id, n++, o.value(QLatin1String("mime")).toString(), file.readAll()});
            ++moved;
        }
        ok = ok && exec(QStringLiteral("UPDATE tasks SET images = '[]' WHERE id = ?"), {id});
    }
    if (!ok || !db.commit()) {
        db.rollback();
        qCWarning(lcStorage).noquote() << "could not move the image files of" << folder.path()
                                       << "into the database; they stay where they are";
        return;
    }
    QDir(folder).removeRecursively();
    qCInfo(lcStorage).noquote() << "moved" << moved << "result images of" << listed.size()
                                << "tasks from" << folder.path() << "into the database";
}

} // namespace comfy
