#include "tasks/webhooknotifier.h"

#include "tasks/taskjson.h"
#include "tasks/taskqueue.h"

#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkReply>

namespace comfy {

WebhookNotifier::WebhookNotifier(TaskQueue &tasks, QNetworkAccessManager &network, QObject *parent)
    : QObject(parent)
    , m_tasks(tasks)
    , m_network(network)
{
    connect(&m_tasks, &TaskQueue::taskFinished, this, &WebhookNotifier::onTaskFinished);
}

void WebhookNotifier::onTaskFinished(const QString &id)
{
    const auto task = m_tasks.task(id);
    if (!task || task->webhook.isEmpty())
        return;
    // Sent from the event loop, once every direct slot of taskFinished has run: the store has
    // then written the final state. Killed before that, the router runs the task again on its
    // next start and notifies once, instead of notifying for a run it then repeats.
    QMetaObject::invokeMethod(
        this,
        [this, id, url = task->webhook,
         body = QJsonDocument(taskToJson(*task, -1)).toJson(QJsonDocument::Compact)] {
            send(id, url, body);
        },
        Qt::QueuedConnection);
}

void WebhookNotifier::send(const QString &id, const QUrl &webhook, const QByteArray &body)
{
    QNetworkRequest request(webhook);
    request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    request.setTransferTimeout(30000);
    QNetworkReply *reply = m_network.post(request, body);
    const QString url = webhook.toString();
    connect(reply, &QNetworkReply::finished, this, [reply, id, url] {
        reply->deleteLater();
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        if (reply->error() != QNetworkReply::NoError || status / 100 != 2)
            qCWarning(lcTasks).noquote()
                << "webhook of task" << id << "to" << url << "failed:"
                << (status ? QStringLiteral("HTTP %1").arg(status) : reply->errorString());
        else
            qCInfo(lcTasks).noquote() << "webhook of task" << id << "delivered to" << url;
    });
}

} // namespace comfy
