#pragma once

#include "tasks/task.h"

#include <QAbstractTableModel>
#include <QStringList>

namespace comfy {
class TaskQueue;
}

namespace comfy::gui {

// Every task the router knows, newest first, kept current by the queue's signals.
class TaskTableModel : public QAbstractTableModel {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TaskTableModel)
public:
    enum Column { Id, Type, Status, Phase, Progress, Node, Created, Message, ColumnCount };
    explicit TaskTableModel(TaskQueue &tasks, QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;
    QString idAt(int row) const;

private:
    TaskQueue &m_tasks;
    QStringList m_ids; // newest first
};

} // namespace comfy::gui
