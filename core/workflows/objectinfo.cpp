#include "workflows/objectinfo.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>

namespace comfy {

const ObjectInfo &ObjectInfo::builtIn()
{
    static const ObjectInfo info = [] {
        QFile file(QStringLiteral(":/comfyui/object_info.json"));
        const bool opened = file.open(QIODevice::ReadOnly);
        Q_ASSERT_X(opened, "ObjectInfo", "object_info.json is missing from the resources");
        return ObjectInfo(QJsonDocument::fromJson(file.readAll()).object());
    }();
    return info;
}

ObjectInfo::ObjectInfo(const QJsonObject &objectInfo)
    : m_info(objectInfo)
{
}

bool ObjectInfo::hasClass(const QString &classType) const
{
    return m_info.contains(classType);
}

QJsonObject ObjectInfo::classInfo(const QString &classType) const
{
    return m_info.value(classType).toObject();
}

QStringList ObjectInfo::outputTypes(const QString &classType) const
{
    QStringList types;
    for (const QJsonValue &type : classInfo(classType).value(QLatin1String("output")).toArray())
        types.append(type.toString());
    return types;
}

QJsonArray ObjectInfo::inputSpec(const QString &classType, const QString &input) const
{
    const QJsonObject inputs =
        m_info.value(classType).toObject().value(QLatin1String("input")).toObject();
    for (const char *group : {"required", "optional"}) {
        const QJsonValue spec = inputs.value(QLatin1String(group)).toObject().value(input);
        if (spec.isArray())
            return spec.toArray();
    }
    return {};
}

QStringList ObjectInfo::allowedValues(const QString &classType, const QString &input) const
{
    QStringList values;
    const QJsonValue first = inputSpec(classType, input).at(0);
    for (const QJsonValue &value : first.toArray())
        values.append(value.toString());
    return values;
}

std::optional<double> ObjectInfo::minimum(const QString &classType, const QString &input) const
{
    const QJsonValue min = inputSpec(classType, input).at(1).toObject().value(QLatin1String("min"));
    return min.isDouble() ? std::optional<double>(min.toDouble()) : std::nullopt;
}

std::optional<double> ObjectInfo::maximum(const QString &classType, const QString &input) const
{
    const QJsonValue max = inputSpec(classType, input).at(1).toObject().value(QLatin1String("max"));
    return max.isDouble() ? std::optional<double>(max.toDouble()) : std::nullopt;
}

} // namespace comfy
