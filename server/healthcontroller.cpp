#include "healthcontroller.h"

namespace comfy::server {

HealthController::HealthController(ApiServer &server)
{
    server.addRoute(QHttpServerRequest::Method::Get, QStringLiteral("/health_check"),
                    Access::Public, [](const ApiRequest &) -> ApiReply {
                        return QHttpServerResponse(QByteArrayLiteral("text/plain"),
                                                   QByteArrayLiteral("ok"));
                    });
}

} // namespace comfy::server
