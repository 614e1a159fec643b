#include "nodetablemodel.h"

#include "cluster/noderegistry.h"

#include <QBrush>

namespace comfy::gui {

NodeTableModel::NodeTableModel(NodeRegistry &registry, QObject *parent)
    : QAbstractTableModel(parent)
    , m_registry(registry)
{
    m_nodes = m_registry.nodes();
    connect(&m_registry, &NodeRegistry::nodeAdded, this, &NodeTableModel::reload);
    connect(&m_registry, &NodeRegistry::nodeRemoved, this, &NodeTableModel::reload);
    connect(&m_registry, &NodeRegistry::nodeChanged, this, [this](const QUrl &url) {
        for (int row = 0; row < m_nodes.size(); ++row) {
            if (m_nodes[row].url != url)
                continue;
            if (const auto node = m_registry.node(url))
                m_nodes[row] = *node;
            Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
        }
    });
}

void NodeTableModel::reload()
{
    beginResetModel();
    m_nodes = m_registry.nodes();
    endResetModel();
}

int NodeTableModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_nodes.size());
}

int NodeTableModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QUrl NodeTableModel::urlAt(int row) const
{
    return row >= 0 && row < m_nodes.size() ? m_nodes[row].url : QUrl();
}

QVariant NodeTableModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_nodes.size())
        return {};
    const NodeInfo &node = m_nodes[index.row()];
    if (role == Qt::ForegroundRole && index.column() == State)
        return QBrush(node.state == NodeState::Offline ? Qt::red
                      : node.state == NodeState::Busy  ? Qt::darkYellow
                                                       : Qt::darkGreen);
    if (role == Qt::ToolTipRole)
        return node.lastError;
    if (role != Qt::DisplayRole)
        return {};
    switch (index.column()) {
    case Url:
        return node.url.toString() + (node.simulated ? tr(" (simulated)") : QString());
    case State:
        return nodeStateName(node.state) + (node.draining   ? tr(" (draining)")
                                            : !node.enabled ? tr(" (disabled)")
                                                            : QString());
    case Task:
        return node.tasks.join(QStringLiteral(", "));
    case Failures:
        return node.failures;
    case LastCheck:
        return node.lastCheck.toLocalTime().toString(QStringLiteral("HH:mm:ss"));
    case Version:
        return node.version;
    default:
        return {};
    }
}

QVariant NodeTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    static const QStringList headers{tr("Node"),          tr("State"),      tr("Task"),
                                     tr("Failed checks"), tr("Last check"), tr("ComfyUI")};
    return headers.value(section);
}

} // namespace comfy::gui
