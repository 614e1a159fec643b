#pragma once

#include "cluster/node.h"
#include "tasks/task.h"

#include <QList>
#include <QStringList>

#include <optional>

namespace comfy {

// Who picks the node. Of the nodes that take a task now and carry all of the task's
// node_labels: an idle one before one that already holds a task (pipelining); with affinity,
// one that already has the task's checkpoint/UNet loaded (switching models costs seconds to
// minutes); then the one idle longest, so work spreads over the cluster. Which waiting task
// that node takes when tasks pile up: TaskPicker.
class NodeSelector {
public:
    static std::optional<QUrl> pick(const QList<NodeInfo> &candidates, const Task &task,
                                    bool affinity = true);
    // The node carries all of the task's node_labels.
    static bool fits(const NodeInfo &node, const Task &task);
    // The node has all of these models loaded (none: false, there is nothing to gain).
    static bool holds(const NodeInfo &node, const QStringList &models);
    // The checkpoints and UNets a graph loads (sorted): what a node keeps in VRAM after it.
    static QStringList modelsOf(const QJsonObject &graph);
};

} // namespace comfy
