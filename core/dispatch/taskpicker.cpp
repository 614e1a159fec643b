#include "dispatch/taskpicker.h"

#include "dispatch/nodeselector.h"

#include <algorithm>

namespace comfy {

QString TaskPicker::taskFor(const Task &head, const QUrl &node, const QList<NodeInfo> &available,
                            const Waiting &waiting, bool affinity)
{
    if (!affinity || m_lookAhead <= 1)
        return head.id;
    const auto info = std::find_if(available.cbegin(), available.cend(),
                                   [&node](const NodeInfo &n) { return n.url == node; });
    if (info == available.cend() || info->loadedModels.isEmpty() ||
        NodeSelector::holds(*info, NodeSelector::modelsOf(head.graph)) ||
        passOvers(head.id) >= MaxPassOvers)
        return head.id;
    QStringList overtaken{head.id}; // fitting tasks ahead of the one found
    for (qsizetype k = 1; k < m_lookAhead; ++k) {
        const std::optional<Task> task = waiting(k);
        if (!task || task->priority != head.priority)
            break; // the end of the queue, or of the head's priority
        if (task->status != TaskStatus::Pending || task->phase != TaskPhase::Queued ||
            !NodeSelector::fits(*info, *task))
            continue;
        if (NodeSelector::holds(*info, NodeSelector::modelsOf(task->graph)) ||
            passOvers(task->id) >= MaxPassOvers) {
            for (const QString &id : std::as_const(overtaken))
                ++m_passOvers[id];
            return task->id;
        }
        overtaken.append(task->id);
    }
    return head.id; // nothing behind it saves a switch: the head takes the node and pays it
}

} // namespace comfy
