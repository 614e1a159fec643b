#include "apiserver.h"

#include "cachecontroller.h"
#include "clustercontroller.h"
#include "docscontroller.h"
#include "healthcontroller.h"
#include "router/router.h"
#include "workflowcontroller.h"

#include <QElapsedTimer>

Q_LOGGING_CATEGORY(lcHttp, "comfy.http")

namespace comfy::server {

namespace {
QString methodName(QHttpServerRequest::Method method)
{
    switch (method) {
    case QHttpServerRequest::Method::Get:
        return QStringLiteral("GET");
    case QHttpServerRequest::Method::Post:
        return QStringLiteral("POST");
    case QHttpServerRequest::Method::Put:
        return QStringLiteral("PUT");
    case QHttpServerRequest::Method::Delete:
        return QStringLiteral("DELETE");
    case QHttpServerRequest::Method::Options:
        return QStringLiteral("OPTIONS");
    case QHttpServerRequest::Method::Head:
        return QStringLiteral("HEAD");
    case QHttpServerRequest::Method::Patch:
        return QStringLiteral("PATCH");
    default:
        return QStringLiteral("OTHER");
    }
}

QStringList splitPath(const QString &path)
{
    // Trailing (and doubled) slashes are ignored: /workflow/ = /workflow.
    return path.split(QLatin1Char('/'), Qt::SkipEmptyParts);
}
} // namespace

ApiServer::ApiServer(Router &router, QObject *parent)
    : QObject(parent)
    , m_router(router)
    , m_auth(router.settings().username, router.settings().password)
{
    m_http.setMissingHandler(
        [this](const QHttpServerRequest &request, QHttpServerResponder &&responder) {
            handle(request, std::move(responder));
        });
    m_controllers.push_back(std::make_unique<HealthController>(*this));
    m_controllers.push_back(std::make_unique<WorkflowController>(*this, router));
    m_controllers.push_back(std::make_unique<ClusterController>(*this, router));
    m_controllers.push_back(std::make_unique<CacheController>(*this, router));
    m_controllers.push_back(std::make_unique<DocsController>(*this));
}

ApiServer::~ApiServer() = default;

quint16 ApiServer::listen(const QHostAddress &address, quint16 port)
{
    const quint16 bound = m_http.listen(address, port);
    if (bound)
        qCInfo(lcHttp).noquote() << "HTTP API listening on"
                                 << address.toString() + QLatin1Char(':') + QString::number(bound);
    else
        qCCritical(lcHttp).noquote() << "cannot listen on" << address.toString() << port;
    return bound;
}

void ApiServer::addRoute(QHttpServerRequest::Method method, const QString &pattern, Access access,
                         ApiHandler handler)
{
    m_routes.push_back({method, splitPath(pattern), access, std::move(handler)});
}

QStringList ApiServer::routeList() const
{
    QStringList list;
    for (const Route &route : m_routes) {
        QStringList segments;
        for (const QString &segment : route.segments)
            segments.append(segment.startsWith(QLatin1Char('<'))
                                ? QLatin1Char('{') + segment.mid(1, segment.size() - 2) +
                                      QLatin1Char('}')
                                : segment);
        list.append(methodName(route.method) + QStringLiteral(" /") +
                    segments.join(QLatin1Char('/')));
    }
    return list;
}

void ApiServer::handle(const QHttpServerRequest &request, QHttpServerResponder &&responder)
{
    QElapsedTimer timer;
    timer.start();
    ApiReply reply = route(request);
    QHttpServerResponse response = std::holds_alternative<ApiError>(reply)
                                       ? std::get<ApiError>(reply).toResponse()
                                       : std::move(std::get<QHttpServerResponse>(reply));
    const int status = int(response.statusCode());
    if (status >= 500)
        qCWarning(lcHttp).noquote()
            << methodName(request.method()) << request.url().path() << status;
    else
        qCDebug(lcHttp).noquote() << methodName(request.method()) << request.url().path() << status
                                  << timer.nsecsElapsed() / 1000 << "us";
    response.write(std::move(responder));
}

ApiReply ApiServer::route(const QHttpServerRequest &request)
{
    const QStringList path = splitPath(request.url().path(QUrl::FullyEncoded));
    QStringList allowed;
    bool anyPublic = false;
    for (const Route &route : m_routes) {
        if (route.segments.size() != path.size())
            continue;
        QStringList args;
        bool match = true;
        for (qsizetype i = 0; i < path.size() && match; ++i) {
            const QString &want = route.segments[i];
            if (want.startsWith(QLatin1Char('<')))
                args.append(QUrl::fromPercentEncoding(path[i].toUtf8()));
            else
                match = want == path[i];
        }
        if (!match)
            continue;
        if (route.method != request.method()) {
            allowed.append(methodName(route.method));
            anyPublic = anyPublic || route.access == Access::Public;
            continue;
        }
        // Auth before any handler runs; an unknown route stays 404 for everyone.
        if (route.access == Access::Authenticated && !m_auth.accepts(request))
            return ApiError::unauthorized();
        return route.handler(ApiRequest{request, args});
    }
    if (!allowed.isEmpty()) {
        if (!anyPublic && !m_auth.accepts(request))
            return ApiError::unauthorized();
        return ApiError::methodNotAllowed(allowed);
    }
    return ApiError::notFound(
        QStringLiteral("no route %1 %2").arg(methodName(request.method()), request.url().path()));
}

} // namespace comfy::server
