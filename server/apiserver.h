#pragma once

#include "apirequest.h"
#include "basicauth.h"
#include "httpfront.h"
#include "loginthrottle.h"

#include <QHostAddress>
#include <QHttpServer>
#include <QObject>
#include <QPointer>

#include <memory>
#include <vector>

namespace comfy {
class Router;
}

namespace comfy::server {

enum class Access { Public, Authenticated };

// One per API area; registers its routes on the server when constructed.
class Controller {
public:
    virtual ~Controller() = default;
};

// The HTTP face of the router. QHttpServer's own routing is bypassed: every request comes
// through one handler that normalises the path, checks auth before any route runs, matches
// the route table (404 / 405) and turns every error into JSON. Every request is answered
// synchronously inside that handler (see docs/architecture.md). Connections reach QHttpServer
// through an HttpFront, which enforces the size, idle and connection limits.
class ApiServer : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ApiServer)
public:
    ApiServer(Router &router, QObject *parent = nullptr);
    ~ApiServer() override;

    // The bound port, 0 on failure.
    quint16 listen(const QHostAddress &address, quint16 port);
    // Stops accepting connections (shutdown); requests already read are still answered.
    void close();
    // Connections open now (all listening addresses).
    int openConnections() const;

    // "/workflow/<id>/images/<n>": <x> matches one path segment, passed percent-decoded.
    void addRoute(QHttpServerRequest::Method method, const QString &pattern, Access access,
                  ApiHandler handler);
    // "GET /workflow/{id}", ... in registration order: what the OpenAPI document must cover.
    QStringList routeList() const;

private:
    struct Route {
        QHttpServerRequest::Method method;
        QStringList segments;
        Access access;
        ApiHandler handler;
    };
    void handle(const QHttpServerRequest &request, QHttpServerResponder &&responder);
    static void writeHead(const QHttpServerResponse &response, QHttpServerResponder &responder);
    ApiReply route(const QHttpServerRequest &request);

    Router &m_router;
    BasicAuth m_auth;
    LoginThrottle m_throttle;
    HttpLimits m_limits;
    QHttpServer m_http;
    QList<QPointer<HttpFront>> m_fronts; // children of m_http
    std::vector<Route> m_routes;
    std::vector<std::unique_ptr<Controller>> m_controllers;
};

} // namespace comfy::server
