#pragma once

#include "apierror.h"

#include <QHttpServerRequest>
#include <QHttpServerResponse>
#include <QJsonObject>
#include <QStringList>

#include <functional>
#include <variant>

namespace comfy::server {

// A request as a route handler sees it: the HTTP request plus the path's <arg> values.
struct ApiRequest {
    const QHttpServerRequest &http;
    QStringList args;

    // The body as a JSON object, or a 400 that says what is wrong with it.
    std::variant<QJsonObject, ApiError> jsonObject() const;
    QString query(const QString &key) const;
};

using ApiReply = std::variant<QHttpServerResponse, ApiError>;
using ApiHandler = std::function<ApiReply(const ApiRequest &)>;

QHttpServerResponse jsonResponse(const QJsonObject &body, int status = 200);

} // namespace comfy::server
