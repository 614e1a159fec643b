#include "cachecontroller.h"

#include "router/router.h"
#include "util/isotime.h"

#include <QJsonArray>

namespace comfy::server {

namespace {
using Method = QHttpServerRequest::Method;

} // namespace

CacheController::CacheController(ApiServer &server, Router &router)
    : m_router(router)
{
    server.addRoute(Method::Get, QStringLiteral("/cache"), Access::Authenticated,
                    [this](const ApiRequest &request) { return list(request); });
    server.addRoute(Method::Delete, QStringLiteral("/cache"), Access::Authenticated,
                    [this](const ApiRequest &request) { return evict(request); });
}

ApiReply CacheController::list(const ApiRequest &)
{
    const DownloadCache &cache = m_router.cache();
    QJsonArray files;
    for (const CacheEntryInfo &entry : cache.entries()) {
        files.append(QJsonObject{
            {QStringLiteral("url"), entry.url.toString()},
            {QStringLiteral("file"), entry.fileName},
            {QStringLiteral("state"), entry.state},
            {QStringLiteral("size"), double(entry.size)},
            {QStringLiteral("bytes_done"), double(entry.bytesDone)},
            {QStringLiteral("bytes_total"),
             entry.bytesTotal < 0 ? QJsonValue() : QJsonValue(double(entry.bytesTotal))},
            {QStringLiteral("sha256"),
             entry.sha256.isEmpty() ? QJsonValue() : QJsonValue(QString::fromLatin1(entry.sha256))},
            {QStringLiteral("created_at"), isoTimeOrNull(entry.created)},
            {QStringLiteral("last_use"), isoTimeOrNull(entry.lastUse)},
            {QStringLiteral("links"), QJsonArray::fromStringList(entry.links)},
            {QStringLiteral("tasks"), entry.tasks},
            {QStringLiteral("error"),
             entry.error.isEmpty() ? QJsonValue() : QJsonValue(entry.error)},
        });
    }
    return jsonResponse({{QStringLiteral("files"), files},
                         {QStringLiteral("count"), files.size()},
                         {QStringLiteral("total_bytes"), double(cache.totalBytes())},
                         {QStringLiteral("max_bytes"), double(cache.maxBytes())}});
}

ApiReply CacheController::evict(const ApiRequest &request)
{
    const QString url = request.query(QStringLiteral("url"));
    if (url.isEmpty())
        return ApiError::badRequest(
            QStringLiteral("url: required, the URL of the cached file (?url=...)"));
    const Result<bool> evicted = m_router.cache().evict(url);
    if (!evicted)
        return ApiError::fromError(evicted.error());
    return jsonResponse({{QStringLiteral("url"), url}, {QStringLiteral("evicted"), true}});
}

} // namespace comfy::server
