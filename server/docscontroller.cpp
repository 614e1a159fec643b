#include "docscontroller.h"

#include <QFile>

namespace comfy::server {

namespace {
using Method = QHttpServerRequest::Method;

// A resource of server/CMakeLists.txt's "api_docs" set; empty if it is missing.
QByteArray resource(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        qCCritical(lcHttp).noquote() << "missing resource" << path;
        return {};
    }
    return file.readAll();
}

ApiReply serve(const QByteArray &mimeType, const QByteArray &body, const QString &what)
{
    if (body.isEmpty())
        return ApiError{500, QStringLiteral("%1 is missing from this build").arg(what), {}, {}};
    QHttpServerResponse response(mimeType, body);
    response.addHeader(QByteArrayLiteral("X-Content-Type-Options"), QByteArrayLiteral("nosniff"));
    return response;
}
} // namespace

DocsController::DocsController(ApiServer &server)
    : m_openApi(resource(QStringLiteral(":/openapi.json")))
    , m_page(resource(QStringLiteral(":/doc.html")))
{
    server.addRoute(Method::Get, QStringLiteral("/api-docs/openapi.json"), Access::Authenticated,
                    [this](const ApiRequest &) {
                        return serve(QByteArrayLiteral("application/json"), m_openApi,
                                     QStringLiteral("the OpenAPI document"));
                    });
    server.addRoute(Method::Get, QStringLiteral("/doc"), Access::Authenticated,
                    [this](const ApiRequest &) {
                        return serve(QByteArrayLiteral("text/html; charset=utf-8"), m_page,
                                     QStringLiteral("the API reference page"));
                    });
}

} // namespace comfy::server
