#include "workflows/rawworkflow.h"

#include <QHash>
#include <QJsonArray>
#include <QRegularExpression>

namespace comfy {

QString RawWorkflow::folderOf(const QString &classType, const QString &input)
{
    static const QHash<QString, QString> folders = {
        {QStringLiteral("ckpt_name"), QStringLiteral("models/checkpoints")},
        {QStringLiteral("vae_name"), QStringLiteral("models/vae")},
        {QStringLiteral("lora_name"), QStringLiteral("models/loras")},
        {QStringLiteral("control_net_name"), QStringLiteral("models/controlnet")},
        {QStringLiteral("unet_name"), QStringLiteral("models/unet")},
        {QStringLiteral("clip_name"), QStringLiteral("models/clip")},
        {QStringLiteral("clip_name1"), QStringLiteral("models/clip")},
        {QStringLiteral("clip_name2"), QStringLiteral("models/clip")},
        {QStringLiteral("clip_name3"), QStringLiteral("models/clip")},
    };
    if (input == QLatin1String("model_name") && classType == QLatin1String("UpscaleModelLoader"))
        return QStringLiteral("models/upscale_models");
    if (input == QLatin1String("image") &&
        (classType == QLatin1String("LoadImage") || classType == QLatin1String("LoadImageMask")))
        return QStringLiteral("input");
    return folders.value(input);
}

Result<BuiltWorkflow> RawWorkflow::build(const QJsonObject &params)
{
    GraphBuilder files;
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

    QHash<QPair<QString, QString>, QString> downloads; // (node, input) -> file name
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
            const QString value = input.value().toString();
            const QString folder =
                input.value().isString() ? folderOf(classType.toString(), input.key()) : QString();
            if (!folder.isEmpty()) {
                // A loader's file: an http(s) URL to download, or a name inside its folder.
                // Other schemes (file://, ftp://, data:) and path tricks are refused here.
                const QString inputField = field + QStringLiteral(".inputs.") + input.key();
                static const QRegularExpression scheme(QStringLiteral("^[A-Za-z][A-Za-z0-9+.-]*:"));
                const bool url =
                    value.contains(QLatin1String("://")) || scheme.match(value).hasMatch();
                const QString problem =
                    url ? checkDownloadUrl(value) : checkRelativeFileName(value);
                if (!problem.isEmpty())
                    return Error::invalid(inputField, inputField + QStringLiteral(": ") + problem);
                if (url)
                    downloads.insert(
                        {it.key(), input.key()},
                        files.modelFile(ModelRef{true, value, {}}, folder, inputField));
                continue;
            }
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
    // Replace the URLs by the names their files get.
    QJsonObject graph = prompt;
    for (auto it = downloads.cbegin(); it != downloads.cend(); ++it) {
        QJsonObject node = graph.value(it.key().first).toObject();
        QJsonObject inputs = node.value(QLatin1String("inputs")).toObject();
        inputs.insert(it.key().second, it.value());
        node.insert(QStringLiteral("inputs"), inputs);
        graph.insert(it.key().first, node);
    }
    BuiltWorkflow built = files.result();
    built.graph = graph;
    return built;
}

} // namespace comfy
