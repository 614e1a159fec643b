#pragma once

#include "util/error.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QStringList>

#include <memory>
#include <optional>

namespace comfy {

// The original's Model value: {"type": "build_in", "name": "file.safetensors"} (a file the
// nodes already have) or {"type": "custom", "name": "https://..."} (downloaded).
struct ModelRef {
    bool custom = false;
    QString name;      // a relative file name, or the URL
    QByteArray sha256; // custom only, optional: the download must have this hash (hex)
};

// The original's Image value: {"type": "url", "content": "https://..."} or
// {"type": "base64", "content": "<base64>"}.
struct ImageInput {
    bool base64 = false;
    QString content;
};

// Reads request parameters with exact types (no coercion: "20" is not a number) and field
// paths for errors ("params.loras[1].weight"). The first error sticks; later reads return
// their fallbacks, so a builder reads everything and checks ok() once.
class ParamReader {
public:
    ParamReader(const QJsonObject &object, const QString &path);

    bool ok() const { return !m_error->has_value(); }
    Error error() const { return m_error->value_or(Error{}); }
    QString path() const { return m_path; }
    // The object read, for values whose keys are the caller's (a preprocessor's inputs).
    QJsonObject json() const { return m_object; }
    QString field(const QString &key) const;
    bool has(const QString &key) const; // present and not null
    void fail(const QString &field, const QString &message);
    // Fails for any key not in `known` (a typo must not pass silently as a default).
    void rejectUnknown(const QStringList &known);

    // Without a fallback the field is required.
    QString string(const QString &key, std::optional<QString> fallback = std::nullopt);
    qint64 integer(const QString &key, std::optional<qint64> fallback, qint64 min, qint64 max,
                   qint64 multipleOf = 1);
    double number(const QString &key, std::optional<double> fallback, double min, double max);
    QString choice(const QString &key, const QString &fallback, const QStringList &allowed);
    std::optional<ModelRef> model(const QString &key, bool required);
    std::optional<ImageInput> image(const QString &key, bool required);
    std::optional<ParamReader> object(const QString &key, bool required);
    // An optional list of objects, one reader each ("params.loras[0]"...).
    QList<ParamReader> objects(const QString &key);

private:
    ParamReader(const QJsonObject &object, const QString &path,
                std::shared_ptr<std::optional<Error>> error);
    QJsonValue value(const QString &key) const { return m_object.value(key); }

    QJsonObject m_object;
    QString m_path;
    std::shared_ptr<std::optional<Error>> m_error;
};

// A file name the request may name inside a node folder: relative, no "..", no backslash or
// drive letter; sub-folders ("SDXL/model.safetensors") are fine. Empty when acceptable, else
// why not.
QString checkRelativeFileName(const QString &name);
// An http(s) URL with a host and no "." / ".." path segments. Empty when acceptable.
QString checkDownloadUrl(const QString &url);

} // namespace comfy
