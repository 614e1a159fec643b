#pragma once

#include "cluster/noderegistry.h"
#include "config/settings.h"
#include "dispatch/dispatcher.h"
#include "downloads/downloadcache.h"
#include "storage/taskstore.h"
#include "tasks/taskqueue.h"
#include "tasks/webhooknotifier.h"
#include "util/error.h"

#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkProxy>
#include <QObject>

namespace comfy {

// The router's core parts, wired: the cluster, the task queue, the dispatcher between them,
// the download cache and the webhook sender. The HTTP server and the window are faces on this.
class Router : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Router)
public:
    explicit Router(const Settings &settings, QObject *parent = nullptr);
    ~Router() override;

    // Checks a POST /workflow body, builds its graph and queues it: the task id, or an
    // error that names the offending field (Invalid), or QueueFull.
    Result<QString> submit(const QJsonObject &body);

    NodeRegistry &nodes() { return m_nodes; }
    TaskQueue &tasks() { return m_tasks; }
    Dispatcher &dispatcher() { return m_dispatcher; }
    DownloadCache &cache() { return m_cache; }
    const Settings &settings() const { return m_settings; }
    // Why the state on disk cannot be used ("" when it can): the router must not run then.
    QString storageError() const { return m_storageError; }

private:
    Settings m_settings;
    QString m_storageError;
    QNetworkAccessManager m_network;
    TaskStore m_store;
    NodeRegistry m_nodes;
    TaskQueue m_tasks;
    Dispatcher m_dispatcher;
    DownloadCache m_cache;
    WebhookNotifier m_webhooks;
};

} // namespace comfy
