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
// minutes); then the one idle longest, so work spreads over the cluster.
class NodeSelector {
public:
    static std::optional<QUrl> pick(const QList<NodeInfo> &candidates, const Task &task,
                                    bool affinity = true);
    // The checkpoints and UNets a graph loads (sorted): what a node keeps in VRAM after it.
    static QStringList modelsOf(const QJsonObject &graph);
};

} // namespace comfy
