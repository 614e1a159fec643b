#include "tasktablemodel.h"

#include "tasks/taskqueue.h"

namespace comfy::gui {

TaskTableModel::TaskTableModel(TaskQueue &tasks, QObject *parent)
    : QAbstractTableModel(parent)
    , m_tasks(tasks)
{
    for (const Task &task : m_tasks.list(std::nullopt, 0, std::numeric_limits<int>::max()))
        m_ids.append(task.id);
    connect(&m_tasks, &TaskQueue::taskQueued, this, [this](const QString &id) {
        beginInsertRows({}, 0, 0);
        m_ids.prepend(id);
        endInsertRows();
    });
    connect(&m_tasks, &TaskQueue::taskChanged, this, [this](const QString &id) {
        const int row = int(m_ids.indexOf(id));
        if (row >= 0)
            Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
    });
    connect(&m_tasks, &TaskQueue::taskForgotten, this, [this](const QString &id) {
        const int row = int(m_ids.indexOf(id));
        if (row < 0)
            return;
        beginRemoveRows({}, row, row);
        m_ids.removeAt(row);
        endRemoveRows();
    });
}

int TaskTableModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_ids.size());
}

int TaskTableModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QString TaskTableModel::idAt(int row) const
{
    return m_ids.value(row);
}

QVariant TaskTableModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || (role != Qt::DisplayRole && role != Qt::ToolTipRole))
        return {};
    const auto task = m_tasks.task(m_ids.value(index.row()));
    if (!task)
        return {};
    if (role == Qt::ToolTipRole)
        return task->error;
    switch (index.column()) {
    case Id:
        return task->id;
    case Type:
        return workflowTypeName(task->type);
    case Status:
        return taskStatusName(task->status);
    case Phase:
        return taskPhaseName(task->phase);
    case Progress:
        return QStringLiteral("%1%").arg(qRound(task->progress * 100));
    case Node:
        return task->node.toString();
    case Created:
        return task->createdAt.toLocalTime().toString(QStringLiteral("HH:mm:ss"));
    case Message:
        return task->status == TaskStatus::Done
                   ? tr("%n image(s)", nullptr, int(task->images.size()))
                   : task->error;
    default:
        return {};
    }
}

QVariant TaskTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    static const QStringList headers{tr("Task"),     tr("Type"), tr("Status"),  tr("Phase"),
                                     tr("Progress"), tr("Node"), tr("Created"), tr("Result")};
    return headers.value(section);
}

} // namespace comfy::gui
