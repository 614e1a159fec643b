#include "workflows/paramreader.h"

#include <QRegularExpression>
#include <QUrl>

#include <cmath>

namespace comfy {

namespace {
QString typeName(const QJsonValue &value)
{
    switch (value.type()) {
    case QJsonValue::Bool:
        return QStringLiteral("a boolean");
    case QJsonValue::Double:
        return QStringLiteral("a number");
    case QJsonValue::String:
        return QStringLiteral("a string");
    case QJsonValue::Array:
        return QStringLiteral("a list");
    case QJsonValue::Object:
        return QStringLiteral("an object");
    default:
        return QStringLiteral("null");
    }
}
} // namespace

QString checkRelativeFileName(const QString &name)
{
    if (name.isEmpty())
        return QStringLiteral("must not be empty");
    if (name.startsWith(QLatin1Char('/')) || name.contains(QLatin1Char('\\')) ||
        (name.size() > 1 && name.at(1) == QLatin1Char(':')))
        return QStringLiteral("must be a relative file name inside its folder");
    if (name.contains(QChar(0)))
        return QStringLiteral("must not contain NUL");
    if (name.size() > 1024)
        return QStringLiteral("is longer than 1024 characters");
    for (const QString &part : name.split(QLatin1Char('/'))) {
        if (part == QLatin1String("..") || part == QLatin1String(".") || part.isEmpty())
            return QStringLiteral("must not contain '.', '..' or empty path segments");
        if (part.toUtf8().size() > 255) // what file systems take for one name
            return QStringLiteral("has a path segment longer than 255 bytes");
    }
    return {};
}

QString checkDownloadUrl(const QString &text)
{
    const QUrl url(text, QUrl::StrictMode);
    if (!url.isValid() ||
        (url.scheme() != QLatin1String("http") && url.scheme() != QLatin1String("https")))
        return QStringLiteral("must be an http(s) URL");
    if (url.host().isEmpty())
        return QStringLiteral("must be an http(s) URL with a host");
    for (const QString &part : url.path(QUrl::FullyDecoded).split(QLatin1Char('/'))) {
        if (part == QLatin1String(".") || part == QLatin1String(".."))
            return QStringLiteral("must not contain '.' or '..' path segments");
    }
    return {};
}

ParamReader::ParamReader(const QJsonObject &object, const QString &path)
    : ParamReader(object, path, std::make_shared<std::optional<Error>>())
{
}

ParamReader::ParamReader(const QJsonObject &object, const QString &path,
                         std::shared_ptr<std::optional<Error>> error)
    : m_object(object)
    , m_path(path)
    , m_error(std::move(error))
{
}

QString ParamReader::field(const QString &key) const
{
    return m_path.isEmpty() ? key : m_path + QLatin1Char('.') + key;
}

bool ParamReader::has(const QString &key) const
{
    const QJsonValue v = value(key);
    return !v.isUndefined() && !v.isNull();
}

void ParamReader::fail(const QString &field, const QString &message)
{
    if (!m_error->has_value())
        *m_error = Error::invalid(field, field + QStringLiteral(": ") + message);
}

void ParamReader::rejectUnknown(const QStringList &known)
{
    for (auto it = m_object.begin(); it != m_object.end(); ++it) {
        if (!known.contains(it.key())) {
            fail(field(it.key()),
                 QStringLiteral("unknown field (known: %1)").arg(known.join(QStringLiteral(", "))));
            return;
        }
    }
}

QString ParamReader::string(const QString &key, std::optional<QString> fallback)
{
    const QJsonValue v = value(key);
    if (!has(key)) {
        if (!fallback)
            fail(field(key), QStringLiteral("required, a string"));
        return fallback.value_or(QString());
    }
    if (!v.isString()) {
        fail(field(key), QStringLiteral("must be a string, not %1").arg(typeName(v)));
        return fallback.value_or(QString());
    }
    return v.toString();
}

qint64 ParamReader::integer(const QString &key, std::optional<qint64> fallback, qint64 min,
                            qint64 max, qint64 multipleOf)
{
    const QJsonValue v = value(key);
    const qint64 otherwise = fallback.value_or(min);
    if (!has(key)) {
        if (!fallback)
            fail(field(key), QStringLiteral("required, a whole number"));
        return otherwise;
    }
    const double d = v.toDouble();
    if (!v.isDouble() || std::trunc(d) != d) {
        fail(field(key), QStringLiteral("must be a whole number, not %1")
                             .arg(v.isDouble() ? QString::number(d) : typeName(v)));
        return otherwise;
    }
    if (d < double(min) || d > double(max)) {
        fail(field(key), QStringLiteral("%1 is outside %2..%3")
                             .arg(QString::number(d, 'g', 17))
                             .arg(min)
                             .arg(max));
        return otherwise;
    }
    const auto n = static_cast<qint64>(d);
    if (multipleOf > 1 && n % multipleOf != 0) {
        fail(field(key), QStringLiteral("%1 is not a multiple of %2").arg(n).arg(multipleOf));
        return otherwise;
    }
    return n;
}

double ParamReader::number(const QString &key, std::optional<double> fallback, double min,
                           double max)
{
    const QJsonValue v = value(key);
    const double otherwise = fallback.value_or(min);
    if (!has(key)) {
        if (!fallback)
            fail(field(key), QStringLiteral("required, a number"));
        return otherwise;
    }
    if (!v.isDouble()) {
        fail(field(key), QStringLiteral("must be a number, not %1").arg(typeName(v)));
        return otherwise;
    }
    const double d = v.toDouble();
    if (!std::isfinite(d) || d < min || d > max) {
        fail(field(key), QStringLiteral("%1 is outside %2..%3").arg(d).arg(min).arg(max));
        return otherwise;
    }
    return d;
}

QString ParamReader::choice(const QString &key, const QString &fallback, const QStringList &allowed)
{
    const QString text = string(key, fallback);
    if (ok() && !allowed.contains(text)) {
        fail(field(key),
             QStringLiteral("'%1' is not one of %2").arg(text, allowed.join(QStringLiteral(", "))));
        return fallback;
    }
    return text;
}

std::optional<ModelRef> ParamReader::model(const QString &key, bool required)
{
    const std::optional<ParamReader> reader = object(key, required);
    if (!reader)
        return std::nullopt;
    ParamReader r = *reader;
    const QString type = r.choice(QStringLiteral("type"), QString(),
                                  {QStringLiteral("build_in"), QStringLiteral("custom")});
    const QString name = r.string(QStringLiteral("name"));
    if (!ok())
        return std::nullopt;
    ModelRef model{type == QLatin1String("custom"), name, {}};
    if (r.has(QStringLiteral("sha256"))) {
        const QString sha = r.string(QStringLiteral("sha256")).toLower();
        static const QRegularExpression hex(QStringLiteral("^[0-9a-f]{64}$"));
        if (!model.custom)
            r.fail(r.field(QStringLiteral("sha256")),
                   QStringLiteral("only a custom model is downloaded and checked"));
        else if (ok() && !hex.match(sha).hasMatch())
            r.fail(r.field(QStringLiteral("sha256")),
                   QStringLiteral("must be 64 hexadecimal digits"));
        if (!ok())
            return std::nullopt;
        model.sha256 = sha.toLatin1();
    }
    const QString problem = model.custom ? checkDownloadUrl(name) : checkRelativeFileName(name);
    if (!problem.isEmpty()) {
        r.fail(r.field(QStringLiteral("name")), problem);
        return std::nullopt;
    }
    return model;
}

std::optional<ImageInput> ParamReader::image(const QString &key, bool required)
{
    const std::optional<ParamReader> reader = object(key, required);
    if (!reader)
        return std::nullopt;
    ParamReader r = *reader;
    const QString type = r.choice(QStringLiteral("type"), QString(),
                                  {QStringLiteral("url"), QStringLiteral("base64")});
    const QString content = r.string(QStringLiteral("content"));
    if (!ok())
        return std::nullopt;
    ImageInput image{type == QLatin1String("base64"), content};
    if (!image.base64) {
        const QString problem = checkDownloadUrl(content);
        if (!problem.isEmpty()) {
            r.fail(r.field(QStringLiteral("content")), problem);
            return std::nullopt;
        }
    }
    return image;
}

std::optional<ParamReader> ParamReader::object(const QString &key, bool required)
{
    const QJsonValue v = value(key);
    if (!has(key)) {
        if (required)
            fail(field(key), QStringLiteral("required, an object"));
        return std::nullopt;
    }
    if (!v.isObject()) {
        fail(field(key), QStringLiteral("must be an object, not %1").arg(typeName(v)));
        return std::nullopt;
    }
    return ParamReader(v.toObject(), field(key), m_error);
}

QList<ParamReader> ParamReader::objects(const QString &key)
{
    QList<ParamReader> readers;
    const QJsonValue v = value(key);
    if (!has(key))
        return readers;
    if (!v.isArray()) {
        fail(field(key), QStringLiteral("must be a list, not %1").arg(typeName(v)));
        return readers;
    }
    const QJsonArray items = v.toArray();
    for (qsizetype i = 0; i < items.size(); ++i) {
        const QString path = field(key) + QStringLiteral("[%1]").arg(i);
        if (!items.at(i).isObject()) {
            fail(path, QStringLiteral("must be an object, not %1").arg(typeName(items.at(i))));
            return {};
        }
        readers.append(ParamReader(items.at(i).toObject(), path, m_error));
    }
    return readers;
}

} // namespace comfy
