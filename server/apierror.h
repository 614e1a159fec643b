#pragma once

#include "util/error.h"

#include <QByteArray>
#include <QJsonValue>
#include <QList>
#include <QPair>
#include <QString>

class QHttpServerResponse;

namespace comfy::server {

// An HTTP error: status, message, optional details and extra headers. Every error the API
// returns, from any route or from the router itself, becomes {"message": ...} here.
struct ApiError {
    int status = 500;
    QString message;
    QJsonValue details;
    QList<QPair<QByteArray, QByteArray>> headers;

    static ApiError badRequest(const QString &message) { return {400, message, {}, {}}; }
    static ApiError notFound(const QString &message) { return {404, message, {}, {}}; }
    static ApiError unauthorized();
    static ApiError methodNotAllowed(const QStringList &allowed);
    // 429 for an address with too many failed logins; Retry-After in whole seconds.
    static ApiError loginThrottled(qint64 retryAfterMs);
    // The one mapping of the core's error kinds to HTTP statuses.
    static ApiError fromError(const Error &error);

    QHttpServerResponse toResponse() const;
};

} // namespace comfy::server
