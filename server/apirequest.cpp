#include "apirequest.h"

#include <QJsonDocument>
#include <QJsonParseError>
#include <QUrlQuery>

namespace comfy::server {

namespace {
constexpr int MaxJsonDepth = 64;

// Qt's parser has its own depth limit; ours is lower, and a clear 400.
bool tooDeep(const QByteArray &body)
{
    int depth = 0;
    bool inString = false;
    for (qsizetype i = 0; i < body.size(); ++i) {
        const char c = body.at(i);
        if (inString) {
            if (c == '\\')
                ++i;
            else if (c == '"')
                inString = false;
        } else if (c == '"') {
            inString = true;
        } else if (c == '{' || c == '[') {
            if (++depth > MaxJsonDepth)
                return true;
        } else if (c == '}' || c == ']') {
            --depth;
        }
    }
    return false;
}
} // namespace

std::variant<QJsonObject, ApiError> ApiRequest::jsonObject() const
{
    const QByteArray body = http.body();
    if (body.trimmed().isEmpty())
        return ApiError::badRequest(QStringLiteral("body: a JSON object is required"));
    if (tooDeep(body))
        return ApiError::badRequest(
            QStringLiteral("body: JSON nested deeper than %1 levels").arg(MaxJsonDepth));
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(body, &error);
    if (error.error != QJsonParseError::NoError)
        return ApiError::badRequest(QStringLiteral("body: invalid JSON at offset %1: %2")
                                        .arg(error.offset)
                                        .arg(error.errorString()));
    if (!document.isObject())
        return ApiError::badRequest(QStringLiteral("body: must be a JSON object"));
    return document.object();
}

QString ApiRequest::query(const QString &key) const
{
    return http.query().queryItemValue(key, QUrl::FullyDecoded);
}

QHttpServerResponse jsonResponse(const QJsonObject &body, int status)
{
    return QHttpServerResponse(body, static_cast<QHttpServerResponse::StatusCode>(status));
}

} // namespace comfy::server
