#include "apierror.h"

#include <QHttpServerResponse>
#include <QJsonObject>

#include <algorithm>

namespace comfy::server {

ApiError ApiError::unauthorized()
{
    return {401,
            QStringLiteral(
                "authentication required: HTTP Basic with the router's username and password"),
            {},
            {{QByteArrayLiteral("WWW-Authenticate"),
              QByteArrayLiteral("Basic realm=\"comfy-router\"")}}};
}

ApiError ApiError::methodNotAllowed(const QStringList &allowed)
{
    return {405,
            QStringLiteral("method not allowed here; allowed: %1")
                .arg(allowed.join(QStringLiteral(", "))),
            {},
            {{QByteArrayLiteral("Allow"), allowed.join(QStringLiteral(", ")).toLatin1()}}};
}

ApiError ApiError::loginThrottled(qint64 retryAfterMs)
{
    const qint64 seconds = std::max<qint64>(1, (retryAfterMs + 999) / 1000);
    return {429,
            QStringLiteral("too many failed logins from this address; retry in %1 s").arg(seconds),
            {},
            {{QByteArrayLiteral("Retry-After"), QByteArray::number(seconds)}}};
}

ApiError ApiError::fromError(const Error &error)
{
    int status = 500;
    switch (error.kind) {
    case Error::Kind::Invalid:
        status = 400;
        break;
    case Error::Kind::NotFound:
        status = 404;
        break;
    case Error::Kind::Conflict:
        status = 409;
        break;
    case Error::Kind::QueueFull:
        status = 429;
        break;
    case Error::Kind::Unavailable:
        status = 501;
        break;
    case Error::Kind::Internal:
        status = 500;
        break;
    }
    ApiError result{status, error.message, {}, {}};
    if (!error.field.isEmpty())
        result.details = QJsonObject{{QStringLiteral("field"), error.field}};
    return result;
}

QHttpServerResponse ApiError::toResponse() const
{
    QJsonObject body{{QStringLiteral("message"), message}};
    if (!details.isUndefined() && !details.isNull())
        body.insert(QStringLiteral("details"), details);
    QHttpServerResponse response(body, static_cast<QHttpServerResponse::StatusCode>(status));
    for (const auto &header : headers)
        response.addHeader(header.first, header.second);
    return response;
}

} // namespace comfy::server
