#include "tasks/taskjson.h"

#include "util/isotime.h"

#include <QJsonArray>

namespace comfy {

QJsonObject taskToJson(const Task &task, int position, TaskView view)
{
    const bool full = view != TaskView::Public;
    const bool withImages = view == TaskView::Full;
    QJsonObject json{
        {QStringLiteral("id"), task.id},
        {QStringLiteral("type"), workflowTypeName(task.type)},
        {QStringLiteral("status"), taskStatusName(task.status)},
        {QStringLiteral("phase"), taskPhaseName(task.phase)},
        {QStringLiteral("attempts"), task.attempts},
        {QStringLiteral("attempt_errors"),
         QJsonArray::fromStringList(full ? task.attemptErrors : QStringList())},
        {QStringLiteral("created_at"), isoTimeOrNull(task.createdAt)},
        {QStringLiteral("started_at"), isoTimeOrNull(task.startedAt)},
        {QStringLiteral("finished_at"), isoTimeOrNull(task.finishedAt)},
    };
    if (full) {
        json.insert(QStringLiteral("node"),
                    task.node.isEmpty() ? QJsonValue() : QJsonValue(task.node.toString()));
        json.insert(QStringLiteral("prompt_id"),
                    task.promptId.isEmpty() ? QJsonValue() : QJsonValue(task.promptId));
        json.insert(QStringLiteral("seed"),
                    task.seed ? QJsonValue(double(*task.seed)) : QJsonValue());
        json.insert(QStringLiteral("priority"), task.priority);
        if (!task.nodeLabels.isEmpty())
            json.insert(QStringLiteral("node_labels"), QJsonArray::fromStringList(task.nodeLabels));
    }
    switch (task.status) {
    case TaskStatus::Pending:
        json.insert(QStringLiteral("data"), std::max(position, 0));
        if (task.phase == TaskPhase::Downloading)
            json.insert(QStringLiteral("download"),
                        QJsonObject{{QStringLiteral("bytes_done"), double(task.downloadDone)},
                                    {QStringLiteral("bytes_total"), double(task.downloadTotal)}});
        break;
    case TaskStatus::Running: {
        QJsonArray previews;
        if (view != TaskView::Summary && !task.preview.data.isEmpty())
            previews.append(QString::fromLatin1(task.preview.data.toBase64()));
        json.insert(QStringLiteral("data"), QJsonObject{{QStringLiteral("progress"), task.progress},
                                                        {QStringLiteral("previews"), previews}});
        if (full && !task.executingNode.isEmpty())
            json.insert(QStringLiteral("executing_node"), task.executingNode);
        break;
    }
    case TaskStatus::Done: {
        QJsonArray data;
        QJsonArray urls;
        if (full) {
            for (qsizetype i = 0; i < task.images.size(); ++i) {
                if (withImages)
                    data.append(QString::fromLatin1(task.images[i].data.toBase64()));
                urls.append(QStringLiteral("/workflow/%1/images/%2").arg(task.id).arg(i));
            }
            json.insert(QStringLiteral("images"), urls);
        }
        json.insert(QStringLiteral("data"), data);
        break;
    }
    case TaskStatus::Error: {
        QString error = task.error;
        if (!full && !task.node.isEmpty()) { // the public view names no node
            error.replace(task.node.toString(), QStringLiteral("its node"));
            // Network errors name the bare host ("Host gpu-7 not found").
            error.replace(task.node.host(), QStringLiteral("its node"), Qt::CaseInsensitive);
        }
        json.insert(QStringLiteral("data"), error);
        break;
    }
    case TaskStatus::Cancelled:
        json.insert(QStringLiteral("data"), QJsonValue());
        break;
    }
    return json;
}

} // namespace comfy
