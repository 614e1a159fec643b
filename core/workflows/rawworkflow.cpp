#include "workflows/rawworkflow.h"

#include <QJsonArray>

namespace comfy {

Result<QJsonObject> RawWorkflow::build(const QJsonObject &params)
{
    const QString base = QStringLiteral("params.prompt");
    const QJsonValue promptValue = params.value(QLatin1String("prompt"));
    if (promptValue.isUndefined())
        return Error::invalid(base,
                              base + QStringLiteral(": required (a ComfyUI API-format graph)"));
    if (!promptValue.isObject())
        return Error::invalid(base, base + QStringLiteral(": must be an object of graph nodes"));
    const QJsonObject prompt = promptValue.toObject();
    if (prompt.isEmpty())
        return Error::invalid(base, base + QStringLiteral(": the graph has no nodes"));
    if (prompt.size() > MaxNodes)
        return Error::invalid(base, base + QStringLiteral(": more than %1 nodes").arg(MaxNodes));

    for (auto it = prompt.begin(); it != prompt.end(); ++it) {
        const QString field = base + QLatin1Char('.') + it.key();
        if (it.key().isEmpty())
            return Error::invalid(field, field + QStringLiteral(": a node id must not be empty"));
        if (!it.value().isObject())
            return Error::invalid(
                field, field + QStringLiteral(": must be an object with class_type and inputs"));
        const QJsonObject node = it.value().toObject();
        const QJsonValue classType = node.value(QLatin1String("class_type"));
        if (!classType.isString() || classType.toString().isEmpty())
            return Error::invalid(field + QStringLiteral(".class_type"),
                                  field +
                                      QStringLiteral(".class_type: required, a node class name"));
        const QJsonValue inputsValue = node.value(QLatin1String("inputs"));
        if (!inputsValue.isUndefined() && !inputsValue.isObject())
            return Error::invalid(field + QStringLiteral(".inputs"),
                                  field + QStringLiteral(".inputs: must be an object"));
        const QJsonObject inputs = inputsValue.toObject();
        for (auto input = inputs.begin(); input != inputs.end(); ++input) {
            if (!input.value().isArray())
                continue;
            const QJsonArray link = input.value().toArray();
            // A link is ["node id", output index]; other arrays are plain values.
            if (link.size() != 2 || !link.at(0).isString() || !link.at(1).isDouble())
                continue;
            const QString inputField = field + QStringLiteral(".inputs.") + input.key();
            const QString target = link.at(0).toString();
            if (!prompt.contains(target))
                return Error::invalid(
                    inputField,
                    inputField + QStringLiteral(": links to node '%1', which is not in the graph")
                                     .arg(target));
            if (link.at(1).toDouble() < 0 || link.at(1).toDouble() != double(link.at(1).toInt()))
                return Error::invalid(
                    inputField,
                    inputField + QStringLiteral(": the output index must be a whole number >= 0"));
        }
    }
    return prompt;
}

} // namespace comfy
