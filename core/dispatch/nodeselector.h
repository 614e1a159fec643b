#pragma once

#include "cluster/node.h"
#include "tasks/task.h"

#include <QList>

#include <optional>

namespace comfy {

// Who picks the node: of the idle nodes that carry all of the task's node_labels, the one
// that has waited longest, so work spreads evenly over the cluster.
class NodeSelector {
public:
    static std::optional<QUrl> pick(const QList<NodeInfo> &idleNodes, const Task &task);
};

} // namespace comfy
