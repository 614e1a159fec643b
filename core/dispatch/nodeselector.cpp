#include "dispatch/nodeselector.h"

#include <algorithm>

namespace comfy {

std::optional<QUrl> NodeSelector::pick(const QList<NodeInfo> &idleNodes, const Task &task)
{
    const NodeInfo *best = nullptr;
    for (const NodeInfo &node : idleNodes) {
        if (node.state != NodeState::Idle)
            continue;
        const bool fits =
            std::all_of(task.nodeLabels.cbegin(), task.nodeLabels.cend(),
                        [&node](const QString &label) { return node.labels.contains(label); });
        if (!fits)
            continue;
        if (!best || node.idleSince < best->idleSince)
            best = &node;
    }
    if (!best)
        return std::nullopt;
    return best->url;
}

} // namespace comfy
