#pragma once

#include "cluster/node.h"

#include <QAbstractTableModel>

namespace comfy {
class NodeRegistry;
}

namespace comfy::gui {

// The cluster as a table, kept current by the registry's signals.
class NodeTableModel : public QAbstractTableModel {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(NodeTableModel)
public:
    enum Column { Url, State, Task, Failures, LastCheck, Version, ColumnCount };
    explicit NodeTableModel(NodeRegistry &registry, QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;
    QUrl urlAt(int row) const;

private:
    void reload();
    NodeRegistry &m_registry;
    QList<NodeInfo> m_nodes;
};

} // namespace comfy::gui
