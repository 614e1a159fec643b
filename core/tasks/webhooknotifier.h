#pragma once

#include <QByteArray>
#include <QObject>
#include <QUrl>

class QNetworkAccessManager;

namespace comfy {

class TaskQueue;

// Sends a finished task's status (the GET /workflow/{id} body) once to the webhook URL the
// request named. Fire and forget: a failing webhook is logged and never changes the task.
class WebhookNotifier : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(WebhookNotifier)
public:
    WebhookNotifier(TaskQueue &tasks, QNetworkAccessManager &network, QObject *parent = nullptr);

private:
    void onTaskFinished(const QString &id);
    void send(const QString &id, const QUrl &webhook, const QByteArray &body);

    TaskQueue &m_tasks;
    QNetworkAccessManager &m_network;
};

} // namespace comfy
