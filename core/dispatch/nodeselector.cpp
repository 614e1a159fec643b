#include "dispatch/nodeselector.h"

#include <QJsonObject>

#include <algorithm>
#include <tuple>

namespace comfy {

QStringList NodeSelector::modelsOf(const QJsonObject &graph)
{
    QStringList models;
    for (auto it = graph.begin(); it != graph.end(); ++it) {
        const QJsonObject inputs = it.value().toObject().value(QLatin1String("inputs")).toObject();
        for (const char *input : {"ckpt_name", "unet_name"}) {
            const QJsonValue name = inputs.value(QLatin1String(input));
            if (name.isString() && !models.contains(name.toString()))
                models.append(name.toString());
        }
    }
    models.sort();
    return models;
}

bool NodeSelector::fits(const NodeInfo &node, const Task &task)
{
    return std::all_of(task.nodeLabels.cbegin(), task.nodeLabels.cend(),
                       [&node](const QString &label) { return node.labels.contains(label); });
}

bool NodeSelector::holds(const NodeInfo &node, const QStringList &models)
{
    return !models.isEmpty() &&
           std::all_of(models.cbegin(), models.cend(),
                       [&node](const QString &m) { return node.loadedModels.contains(m); });
}

std::optional<QUrl> NodeSelector::pick(const QList<NodeInfo> &candidates, const Task &task,
                                       bool affinity)
{
    const QStringList models = affinity ? modelsOf(task.graph) : QStringList();
    const NodeInfo *best = nullptr;
    // Smaller is better: (tasks already there, model switch needed, idle since).
    auto rank = [&models](const NodeInfo &node) {
        return std::make_tuple(node.tasks.size(), holds(node, models) ? 0 : 1, node.idleSince);
    };
    for (const NodeInfo &node : candidates) {
        if (node.state == NodeState::Offline || !fits(node, task))
            continue;
        if (!best || rank(node) < rank(*best))
            best = &node;
    }
    if (!best)
        return std::nullopt;
    return best->url;
}

} // namespace comfy
