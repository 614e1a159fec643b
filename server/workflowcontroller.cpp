#include "workflowcontroller.h"

#include "router/router.h"
#include "tasks/taskjson.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>

namespace comfy::server {

namespace {
using Method = QHttpServerRequest::Method;

ApiError unknownTask(const QString &id)
{
    return ApiError::notFound(
        QStringLiteral("task %1 not found (unknown, or older than the history limit)").arg(id));
}

// A whole number query parameter in [min, max], or the default when absent.
std::variant<int, ApiError> intQuery(const ApiRequest &request, const QString &key, int fallback,
                                     int min, int max)
{
    const QString text = request.query(key);
    if (text.isEmpty())
        return fallback;
    static const QRegularExpression digits(QStringLiteral("^-?[0-9]{1,10}$"));
    bool ok = digits.match(text).hasMatch();
    const int value = ok ? text.toInt(&ok) : 0;
    if (!ok || value < min || value > max)
        return ApiError::badRequest(
            QStringLiteral("%1: must be a whole number from %2 to %3").arg(key).arg(min).arg(max));
    return value;
}

// Enough for the answers of thousands of recently finished tasks that clients still poll.
constexpr qsizetype FinishedTaskCacheBytes = 64 * 1024 * 1024;

void addCors(QHttpServerResponse &response)
{
    response.addHeader(QByteArrayLiteral("Access-Control-Allow-Origin"), QByteArrayLiteral("*"));
}
} // namespace

WorkflowController::WorkflowController(ApiServer &server, Router &router)
    : m_router(router)
    , m_finishedTasks(FinishedTaskCacheBytes)
{
    auto bind = [this](ApiReply (WorkflowController::*method)(const ApiRequest &)) {
        return [this, method](const ApiRequest &request) { return (this->*method)(request); };
    };
    server.addRoute(Method::Post, QStringLiteral("/workflow"), Access::Authenticated,
                    bind(&WorkflowController::submit));
    server.addRoute(Method::Get, QStringLiteral("/workflow"), Access::Authenticated,
                    bind(&WorkflowController::list));
    server.addRoute(Method::Get, QStringLiteral("/workflow/<id>"), Access::Authenticated,
                    bind(&WorkflowController::status));
    server.addRoute(Method::Get, QStringLiteral("/workflow/<id>/images/<n>"), Access::Authenticated,
                    bind(&WorkflowController::image));
    server.addRoute(Method::Post, QStringLiteral("/workflow/<id>/cancel"), Access::Authenticated,
                    bind(&WorkflowController::cancel));
    server.addRoute(Method::Get, QStringLiteral("/preview/<id>"), Access::Public,
                    bind(&WorkflowController::preview));
    server.addRoute(Method::Options, QStringLiteral("/preview/<id>"), Access::Public,
                    [](const ApiRequest &) -> ApiReply {
                        QHttpServerResponse response(QHttpServerResponse::StatusCode::NoContent);
                        addCors(response);
                        response.addHeader(QByteArrayLiteral("Access-Control-Allow-Methods"),
                                           QByteArrayLiteral("GET, OPTIONS"));
                        response.addHeader(QByteArrayLiteral("Access-Control-Allow-Headers"),
                                           QByteArrayLiteral("Content-Type"));
                        response.addHeader(QByteArrayLiteral("Access-Control-Max-Age"),
                                           QByteArrayLiteral("86400"));
                        return response;
                    });
}

ApiReply WorkflowController::submit(const ApiRequest &request)
{
    const auto body = request.jsonObject();
    if (std::holds_alternative<ApiError>(body))
        return std::get<ApiError>(body);
    const Result<QString> id = m_router.submit(std::get<QJsonObject>(body));
    if (!id)
        return ApiError::fromError(id.error());
    return jsonResponse({{QStringLiteral("id"), id.value()}});
}

ApiReply WorkflowController::list(const ApiRequest &request)
{
    std::optional<TaskStatus> status;
    if (const QString text = request.query(QStringLiteral("status")); !text.isEmpty()) {
        status = taskStatusFromName(text);
        if (!status)
            return ApiError::badRequest(
                QStringLiteral("status: must be one of pending, running, done, error, cancelled"));
    }
    const auto limit = intQuery(request, QStringLiteral("limit"), 50, 1, 1000);
    if (std::holds_alternative<ApiError>(limit))
        return std::get<ApiError>(limit);
    const auto offset =
        intQuery(request, QStringLiteral("offset"), 0, 0, std::numeric_limits<int>::max());
    if (std::holds_alternative<ApiError>(offset))
        return std::get<ApiError>(offset);
    QJsonArray tasks;
    const TaskQueue &queue = m_router.tasks();
    for (const Task &task : queue.list(status, std::get<int>(offset), std::get<int>(limit)))
        tasks.append(taskToJson(task, queue.positionOf(task.id), TaskView::Summary));
    return jsonResponse({{QStringLiteral("tasks"), tasks},
                         {QStringLiteral("total"), queue.count(status)},
                         {QStringLiteral("offset"), std::get<int>(offset)},
                         {QStringLiteral("limit"), std::get<int>(limit)}});
}

ApiReply WorkflowController::status(const ApiRequest &request)
{
    const QString &id = request.args.at(0);
    const TaskQueue &tasks = m_router.tasks();
    const std::optional<TaskStatus> state = tasks.statusOf(id);
    if (!state)
        return unknownTask(id); // also drops a forgotten task's cached answer from view
    static const QByteArray json = QByteArrayLiteral("application/json");
    const bool finished = *state != TaskStatus::Pending && *state != TaskStatus::Running;
    if (finished) {
        if (const QByteArray body = m_finishedTasks.find(id); !body.isNull())
            return QHttpServerResponse(json, body);
    }
    const QByteArray body = QJsonDocument(taskToJson(*tasks.task(id), tasks.positionOf(id)))
                                .toJson(QJsonDocument::Compact);
    if (finished)
        m_finishedTasks.insert(id, body);
    return QHttpServerResponse(json, body);
}

ApiReply WorkflowController::image(const ApiRequest &request)
{
    const QString &id = request.args.at(0);
    const auto task = m_router.tasks().task(id);
    if (!task)
        return unknownTask(id);
    static const QRegularExpression digits(QStringLiteral("^[0-9]{1,9}$"));
    bool ok = digits.match(request.args.at(1)).hasMatch();
    const int n = ok ? request.args.at(1).toInt(&ok) : -1;
    if (task->status != TaskStatus::Done)
        return ApiError::notFound(QStringLiteral("task %1 is %2: it has no images")
                                      .arg(id, taskStatusName(task->status)));
    if (!ok || n < 0 || n >= task->images.size())
        return ApiError::notFound(QStringLiteral("task %1 has %2 images; there is no image '%3'")
                                      .arg(id)
                                      .arg(task->images.size())
                                      .arg(request.args.at(1)));
    const OutputImage &image = task->images.at(n);
    return QHttpServerResponse(image.mimeType, image.data);
}

ApiReply WorkflowController::cancel(const ApiRequest &request)
{
    const QString &id = request.args.at(0);
    const Result<bool> cancelled = m_router.dispatcher().cancel(id);
    if (!cancelled)
        return ApiError::fromError(cancelled.error());
    const auto task = m_router.tasks().task(id);
    return jsonResponse(task ? taskToJson(*task, -1) : QJsonObject{{QStringLiteral("id"), id}});
}

ApiReply WorkflowController::preview(const ApiRequest &request)
{
    const QString &id = request.args.at(0);
    const auto task = m_router.tasks().task(id);
    QHttpServerResponse response =
        task ? jsonResponse(taskToJson(*task, m_router.tasks().positionOf(id), TaskView::Public))
             : unknownTask(id).toResponse();
    addCors(response); // errors too, so a browser page can read them
    return response;
}

} // namespace comfy::server
