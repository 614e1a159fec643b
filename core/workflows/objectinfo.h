#pragma once

#include <QJsonObject>
#include <QStringList>

#include <optional>

namespace comfy {

// What a ComfyUI node's GET /object_info says about its built-in node classes (the recorded
// one ships in the binary): allowed values and ranges the predefined workflows check
// requests against before anything is queued.
class ObjectInfo {
public:
    // The recorded object_info of ComfyUI v0.3.10 (resources/comfyui/object_info.json).
    static const ObjectInfo &builtIn();
    explicit ObjectInfo(const QJsonObject &objectInfo);

    bool hasClass(const QString &classType) const;
    // The class's whole object_info entry ({} if unknown).
    QJsonObject classInfo(const QString &classType) const;
    // The types of the class's outputs, in output order ("MODEL", "CLIP", "VAE").
    QStringList outputTypes(const QString &classType) const;
    // ["INT", {"min", "max", ...}]-style spec of a required or optional input; {} if unknown.
    QJsonArray inputSpec(const QString &classType, const QString &input) const;
    // The allowed values of a list input (e.g. KSampler's sampler_name).
    QStringList allowedValues(const QString &classType, const QString &input) const;
    std::optional<double> minimum(const QString &classType, const QString &input) const;
    std::optional<double> maximum(const QString &classType, const QString &input) const;

private:
    QJsonObject m_info;
};

} // namespace comfy
