#include "apiserver.h"

#include "cachecontroller.h"
#include "clustercontroller.h"
#include "docscontroller.h"
#include "healthcontroller.h"
#include "router/router.h"
#include "workflowcontroller.h"

#include <QElapsedTimer>

#include <optional>

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
    const Settings &settings = router.settings();
    m_limits.maxBodyBytes = settings.maxBodyBytes;
    m_limits.idleTimeoutMs = settings.httpIdleTimeoutS * 1000;
    m_limits.maxConnections = settings.httpMaxConnections;
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

void ApiServer::close()
{
    for (const QPointer<HttpFront> &front : std::as_const(m_fronts))
        if (front)
            front->close();
}

quint16 ApiServer::listen(const QHostAddress &address, quint16 port)
{
    // QHttpServer::listen() would accept connections itself, without any limit.
    auto front = std::make_unique<HttpFront>(m_limits);
    const quint16 bound = front->listen(address, port) ? front->serverPort() : 0;
    if (bound) {
        m_fronts.append(front.get());
        m_http.bind(front.release()); // parents it to m_http
    }
    if (bound)
        qCInfo(lcHttp).noquote() << "HTTP API listening on"
                                 << address.toString() + QLatin1Char(':') + QString::number(bound);
    else
        qCCritical(lcHttp).noquote() << "cannot listen on" << address.toString() << port;
    return bound;
}

int ApiServer::openConnections() const
{
    int open = 0;
    for (const QPointer<HttpFront> &front : m_fronts)
        open += front ? front->openConnections() : 0;
    return open;
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
    if (request.method() == QHttpServerRequest::Method::Head) {
        writeHead(response, responder);
        return;
    }
    if (status >= 500)
        qCWarning(lcHttp).noquote()
            << methodName(request.method()) << request.url().path() << status;
    else
        qCDebug(lcHttp).noquote() << methodName(request.method()) << request.url().path() << status
                                  << timer.nsecsElapsed() / 1000 << "us";
    response.write(std::move(responder));
}

void ApiServer::writeHead(const QHttpServerResponse &response, QHttpServerResponder &responder)
{
    // QHttpServer 6.4 would send the body after a HEAD's headers too, and the client would read
    // it as the start of its next answer. The headers any route sets are known here.
    static const QByteArray names[] = {QByteArrayLiteral("Allow"),
                                       QByteArrayLiteral("WWW-Authenticate"),
                                       QByteArrayLiteral("Retry-After"),
                                       QByteArrayLiteral("Access-Control-Allow-Origin"),
                                       QByteArrayLiteral("Access-Control-Allow-Methods"),
                                       QByteArrayLiteral("Access-Control-Allow-Headers"),
                                       QByteArrayLiteral("Access-Control-Max-Age"),
                                       QByteArrayLiteral("X-Content-Type-Options")};
    responder.writeStatusLine(response.statusCode());
    responder.writeHeader(QByteArrayLiteral("Content-Type"), response.mimeType());
    responder.writeHeader(QByteArrayLiteral("Content-Length"),
                          QByteArray::number(response.data().size()));
    for (const QByteArray &name : names)
        for (const QByteArray &value : response.headers(name))
            responder.writeHeader(name, value);
    responder.writeBody(QByteArray());
}

ApiReply ApiServer::route(const QHttpServerRequest &request)
{
    // The one auth check. The throttle comes first, so a blocked address learns nothing about
    // the credentials it sends; only a wrong credential counts as a failure (a client that
    // sends none at first, as browsers do, is not punished).
    const auto authError = [this, &request]() -> std::optional<ApiError> {
        const QHostAddress client = request.remoteAddress();
        if (const qint64 waitMs = m_throttle.blockedForMs(client); waitMs > 0)
            return ApiError::loginThrottled(waitMs);
        switch (m_auth.check(request)) {
        case BasicAuth::Verdict::Accepted:
            m_throttle.recordSuccess(client);
            return std::nullopt;
        case BasicAuth::Verdict::Wrong:
            m_throttle.recordFailure(client);
            return ApiError::unauthorized();
        case BasicAuth::Verdict::Missing:
            break;
        }
        return ApiError::unauthorized();
    };
    const QStringList path = splitPath(request.url().path(QUrl::FullyEncoded));
    // HEAD is GET without the body (handle() leaves it out).
    const QHttpServerRequest::Method method = request.method() == QHttpServerRequest::Method::Head
                                                  ? QHttpServerRequest::Method::Get
                                                  : request.method();
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
        if (route.method != method) {
            allowed.append(methodName(route.method));
            if (route.method == QHttpServerRequest::Method::Get)
                allowed.append(QStringLiteral("HEAD"));
            anyPublic = anyPublic || route.access == Access::Public;
            continue;
        }
        // Auth before any handler runs; an unknown route stays 404 for everyone.
        if (route.access == Access::Authenticated) {
            if (std::optional<ApiError> error = authError())
                return *std::move(error);
        }
        return route.handler(ApiRequest{request, args});
    }
    if (!allowed.isEmpty()) {
        if (!anyPublic) {
            if (std::optional<ApiError> error = authError())
                return *std::move(error);
        }
        return ApiError::methodNotAllowed(allowed);
    }
    return ApiError::notFound(
        QStringLiteral("no route %1 %2").arg(methodName(request.method()), request.url().path()));
}

} // namespace comfy::server
