#include "graphcheck.h"

#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSet>

#include <cmath>

namespace graphcheck {

namespace {

// The folder ComfyUI lists for a file input (folder_paths), relative to the root.
QString fileFolder(const QString &classType, const QString &input)
{
    static const QHash<QString, QString> byInput = {
        {QStringLiteral("ckpt_name"), QStringLiteral("models/checkpoints")},
        {QStringLiteral("vae_name"), QStringLiteral("models/vae")},
        {QStringLiteral("lora_name"), QStringLiteral("models/loras")},
        {QStringLiteral("control_net_name"), QStringLiteral("models/controlnet")},
        {QStringLiteral("unet_name"), QStringLiteral("models/unet")},
        {QStringLiteral("clip_name1"), QStringLiteral("models/clip")},
        {QStringLiteral("clip_name2"), QStringLiteral("models/clip")},
    };
    if (classType == QLatin1String("LoadImage") && input == QLatin1String("image"))
        return QStringLiteral("input");
    return byInput.value(input);
}

QString describe(const QJsonValue &value)
{
    if (value.isString())
        return QLatin1Char('"') + value.toString() + QLatin1Char('"');
    return QString::fromUtf8(QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact));
}

} // namespace

QJsonObject objectInfo()
{
    QFile file(QStringLiteral(COMFY_OBJECT_INFO));
    if (!file.open(QIODevice::ReadOnly))
        qFatal("cannot open %s", COMFY_OBJECT_INFO);
    return QJsonDocument::fromJson(file.readAll()).object();
}

QStringList check(const QJsonObject &graph, const QJsonObject &info, const QString &rootDir,
                  const QStringList &extraClasses)
{
    QStringList problems;
    QHash<QString, QStringList> uses; // node -> nodes it links to
    QSet<QString> outputs;
    for (auto it = graph.begin(); it != graph.end(); ++it) {
        const QString id = it.key();
        const QJsonObject node = it.value().toObject();
        const QString classType = node.value(QLatin1String("class_type")).toString();
        const QJsonObject inputs = node.value(QLatin1String("inputs")).toObject();
        const QString where = QStringLiteral("node %1 (%2)").arg(id, classType);
        for (auto in = inputs.begin(); in != inputs.end(); ++in) {
            const QJsonArray link = in.value().toArray();
            if (link.size() == 2 && link.at(0).isString())
                uses[id].append(link.at(0).toString());
        }
        if (!info.contains(classType)) {
            if (!extraClasses.contains(classType))
                problems << where + QStringLiteral(": class not in object_info");
            continue;
        }
        const QJsonObject cls = info.value(classType).toObject();
        if (cls.value(QLatin1String("output_node")).toBool())
            outputs.insert(id);
        const QJsonObject required = cls.value(QLatin1String("input"))
                                         .toObject()
                                         .value(QLatin1String("required"))
                                         .toObject();
        const QJsonObject optional = cls.value(QLatin1String("input"))
                                         .toObject()
                                         .value(QLatin1String("optional"))
                                         .toObject();
        for (auto req = required.begin(); req != required.end(); ++req) {
            if (!inputs.contains(req.key()))
                problems << where + QStringLiteral(": required input %1 missing").arg(req.key());
        }
        for (auto in = inputs.begin(); in != inputs.end(); ++in) {
            const QString name = in.key();
            const QJsonValue value = in.value();
            const QJsonArray spec = required.contains(name) ? required.value(name).toArray()
                                                            : optional.value(name).toArray();
            const QString at = where + QLatin1Char('.') + name;
            if (spec.isEmpty()) {
                problems << at + QStringLiteral(": not an input of the class");
                continue;
            }
            const QJsonValue type = spec.at(0);
            const QJsonObject options = spec.at(1).toObject();
            if (type.isArray()) {
                const QJsonArray allowed = type.toArray();
                if (allowed.isEmpty()) { // a list of files
                    const QString folder = fileFolder(classType, name);
                    if (folder.isEmpty() || !value.isString() ||
                        !QFileInfo::exists(rootDir + QLatin1Char('/') + folder + QLatin1Char('/') +
                                           value.toString()))
                        problems << at + QStringLiteral(": %1 is no file of %2")
                                             .arg(describe(value), folder);
                } else if (!allowed.contains(value)) {
                    problems << at + QStringLiteral(": %1 is not allowed").arg(describe(value));
                }
                continue;
            }
            const QString typeName = type.toString();
            const double min = options.value(QLatin1String("min")).toDouble(-INFINITY);
            const double max = options.value(QLatin1String("max")).toDouble(INFINITY);
            if (typeName == QLatin1String("INT") || typeName == QLatin1String("FLOAT")) {
                const double d = value.toDouble(NAN);
                if (!value.isDouble() || (typeName == QLatin1String("INT") && std::trunc(d) != d))
                    problems << at + QStringLiteral(": %1 is no %2").arg(describe(value), typeName);
                else if (d < min || d > max)
                    problems << at + QStringLiteral(": %1 outside %2..%3").arg(d).arg(min).arg(max);
            } else if (typeName == QLatin1String("STRING")) {
                if (!value.isString())
                    problems << at + QStringLiteral(": %1 is no string").arg(describe(value));
            } else if (typeName == QLatin1String("BOOLEAN")) {
                if (!value.isBool())
                    problems << at + QStringLiteral(": %1 is no boolean").arg(describe(value));
            } else { // a link type
                const QJsonArray link = value.toArray();
                if (link.size() != 2 || !link.at(0).isString() || !link.at(1).isDouble()) {
                    problems << at + QStringLiteral(": %1 is no link").arg(describe(value));
                    continue;
                }
                const QString target = link.at(0).toString();
                const int output = link.at(1).toInt(-1);
                if (!graph.contains(target)) {
                    problems << at + QStringLiteral(": links to missing node %1").arg(target);
                    continue;
                }
                const QString targetClass =
                    graph.value(target).toObject().value(QLatin1String("class_type")).toString();
                if (!info.contains(targetClass)) {
                    // A caller-named preprocessor: by contract an image in, an image out.
                    if (output != 0 || typeName != QLatin1String("IMAGE"))
                        problems << at + QStringLiteral(": output %1 of %2 is not an image")
                                             .arg(output)
                                             .arg(targetClass);
                    continue;
                }
                const QJsonArray types =
                    info.value(targetClass).toObject().value(QLatin1String("output")).toArray();
                if (output < 0 || output >= types.size())
                    problems
                        << at +
                               QStringLiteral(": %1 has no output %2").arg(targetClass).arg(output);
                else if (types.at(output).toString() != typeName && typeName != QLatin1String("*"))
                    problems << at + QStringLiteral(": output %1 of %2 is %3, not %4")
                                         .arg(output)
                                         .arg(targetClass, types.at(output).toString(), typeName);
            }
        }
    }
    // No cycle, and everything reaches an output (depth-first from the outputs).
    if (outputs.isEmpty())
        problems << QStringLiteral("no output node");
    QSet<QString> reached;
    QSet<QString> onPath;
    std::function<void(const QString &)> visit = [&](const QString &id) {
        if (onPath.contains(id)) {
            problems << QStringLiteral("cycle through node %1").arg(id);
            return;
        }
        if (reached.contains(id))
            return;
        reached.insert(id);
        onPath.insert(id);
        for (const QString &next : uses.value(id))
            visit(next);
        onPath.remove(id);
    };
    for (const QString &id : outputs)
        visit(id);
    for (auto it = graph.begin(); it != graph.end(); ++it) {
        if (!reached.contains(it.key()))
            problems << QStringLiteral("node %1 feeds no output").arg(it.key());
    }
    return problems;
}

} // namespace graphcheck
