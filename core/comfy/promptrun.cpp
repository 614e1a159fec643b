#include "comfy/promptrun.h"

#include <QJsonArray>
#include <QJsonDocument>

#include <utility>

namespace comfy {

using protocol::MessageType;

namespace {
// Messages kept while POST /prompt is out (most belong to other prompts on the node); beyond
// this, the run catches up from /history instead.
constexpr qsizetype MaxEarlyMessages = 1024;
} // namespace

PromptRun::PromptRun(NodeConnection &connection, const QString &taskId, const QJsonObject &graph,
                     QObject *parent)
    : QObject(parent)
    , m_connection(connection)
    , m_taskId(taskId)
    , m_graph(graph)
{
    m_silenceTimer.setSingleShot(true);
    m_silenceTimer.setInterval(600000);
    connect(&m_silenceTimer, &QTimer::timeout, this, [this] { checkHistory(true); });
    connect(&connection, &NodeConnection::opened, this, &PromptRun::onOpened);
    connect(&connection, &NodeConnection::interrupted, this, &PromptRun::onInterrupted);
    connect(&connection, &NodeConnection::gaveUp, this, [this](const QString &reason) {
        if (!m_succeeded)
            fail(RunFailure::NodeLost, reason);
    });
    connect(&connection, &NodeConnection::message, this, &PromptRun::onMessage);
    connect(&connection, &NodeConnection::binaryFrame, this, &PromptRun::onBinaryFrame);
}

PromptRun::~PromptRun()
{
    m_finished = true; // no signals from the teardown below
    if (m_request)
        m_request->abort();
    stopFetch();
    releaseConnection();
}

QString PromptRun::nodeName() const
{
    return m_connection.node().toString();
}

void PromptRun::releaseConnection()
{
    if (!m_usingConnection)
        return;
    m_usingConnection = false;
    m_connection.removeUser();
}

void PromptRun::start()
{
    if (m_usingConnection || m_finished)
        return;
    m_usingConnection = true;
    m_connection.addUser(); // opens the socket if nobody has yet
    if (m_connection.isOpen())
        post(); // the usual case: the node's socket is open already
}

void PromptRun::onOpened()
{
    if (m_finished || !m_usingConnection)
        return;
    if (!m_posted) {
        post();
        return;
    }
    if (m_missedFrames && !m_succeeded) {
        // Back (same clientId): what happened meanwhile is in /history.
        qCInfo(lcComfy).noquote() << "websocket to" << nodeName() << "back for task" << m_taskId;
        checkHistory(false);
    }
}

void PromptRun::onInterrupted(const QString &reason)
{
    if (m_finished || m_succeeded || !m_usingConnection)
        return;
    if (!m_posted) {
        fail(RunFailure::NodeLost, reason);
        return;
    }
    m_missedFrames = true;
}

void PromptRun::post()
{
    m_posted = true;
    // The socket is open before the prompt exists, so no message of the run is missed.
    QJsonObject body{{QStringLiteral("prompt"), m_graph},
                     {QStringLiteral("client_id"), m_connection.clientId()}};
    NodeReply *reply = m_connection.http().post(QUrl(QStringLiteral("prompt")),
                                                QJsonDocument(body).toJson(QJsonDocument::Compact));
    m_request = reply;
    connect(reply, &NodeReply::finished, this, [this, reply] { onPromptReply(reply); });
}

void PromptRun::onPromptReply(NodeReply *reply)
{
    m_request.clear();
    if (m_finished)
        return;
    const int status = reply->status();
    const QByteArray &body = reply->body();
    if (status == 200) {
        const QString id =
            QJsonDocument::fromJson(body).object().value(QLatin1String("prompt_id")).toString();
        if (id.isEmpty()) {
            fail(RunFailure::NodeLost,
                 QStringLiteral("%1 answered POST /prompt without a prompt_id").arg(nodeName()));
            return;
        }
        m_promptId = id;
        m_silenceTimer.start();
        qCInfo(lcComfy).noquote() << "prompt" << id << "queued on" << nodeName() << "for task"
                                  << m_taskId;
        Q_EMIT submitted(id);
        // Ours among what came before the answer, in order.
        const QList<Early> early = std::exchange(m_early, {});
        for (const Early &item : early) {
            if (m_finished)
                return;
            if (item.message && item.message->promptId == id)
                handle(*item.message);
            else if (!item.message && item.framePromptId == id && !m_succeeded)
                handleFrame(item.frame);
        }
        if (m_cancelRequested)
            cancel();
        else if (m_missedFrames && !m_succeeded && m_connection.isOpen())
            checkHistory(false); // the socket dropped, or the early messages overflowed
        return;
    }
    if (status == 400) {
        fail(RunFailure::Rejected,
             QStringLiteral("%1 rejected the workflow: %2")
                 .arg(nodeName(),
                      protocol::describeRejection(QJsonDocument::fromJson(body).object())));
        return;
    }
    if (status != 0) {
        fail(RunFailure::NodeLost, QStringLiteral("%1 answered POST /prompt with HTTP %2: %3")
                                       .arg(nodeName())
                                       .arg(status)
                                       .arg(QString::fromUtf8(body.left(300)).simplified()));
        return;
    }
    fail(RunFailure::NodeLost,
         QStringLiteral("POST /prompt to %1 failed: %2").arg(nodeName(), reply->errorString()));
}

void PromptRun::checkHistory(bool afterSilence)
{
    if (m_finished || m_succeeded)
        return;
    if (m_promptId.isEmpty()) {
        if (afterSilence)
            fail(RunFailure::NodeLost,
                 QStringLiteral("%1 did not answer POST /prompt").arg(nodeName()));
        return; // the POST answer is still to come
    }
    NodeReply *reply = m_connection.http().get(QUrl(QStringLiteral("history/") + m_promptId));
    connect(reply, &NodeReply::finished, this, [this, reply, afterSilence] {
        if (m_finished || m_succeeded)
            return;
        const QJsonObject entry =
            QJsonDocument::fromJson(reply->body()).object().value(m_promptId).toObject();
        const QJsonObject status = entry.value(QLatin1String("status")).toObject();
        if (reply->status() == 200 && status.value(QLatin1String("completed")).isBool()) {
            takeResultsFromHistory(entry);
            return;
        }
        if (afterSilence) {
            checkQueueAfterSilence();
            return;
        }
        m_silenceTimer.start(); // still running: follow it on the new socket
    });
}

bool PromptRun::lostWebsocketImages()
{
    // SaveImageWebsocket images exist only as frames: if the socket was down while the prompt
    // ran, some may be lost, and only running it again gets them all.
    if (!m_missedFrames)
        return false;
    for (auto it = m_graph.begin(); it != m_graph.end(); ++it) {
        if (it.value().toObject().value(QLatin1String("class_type")).toString() ==
            QLatin1String("SaveImageWebsocket")) {
            fail(RunFailure::NodeLost,
                 QStringLiteral("images of SaveImageWebsocket on %1 may have been "
                                "sent while the websocket was down")
                     .arg(nodeName()));
            return true;
        }
    }
    return false;
}

void PromptRun::checkQueueAfterSilence()
{
    // Silent but alive and still holding the prompt (running a long node, or our prompt waits
    // behind another on the node): go on waiting; the task timeout bounds it. A node that has
    // forgotten the prompt will never send its end.
    NodeReply *reply = m_connection.http().get(QUrl(QStringLiteral("queue")));
    connect(reply, &NodeReply::finished, this, [this, reply] {
        if (m_finished || m_succeeded)
            return;
        const QJsonObject queue = QJsonDocument::fromJson(reply->body()).object();
        bool held = false;
        for (const char *list : {"queue_running", "queue_pending"})
            for (const QJsonValue &item : queue.value(QLatin1String(list)).toArray())
                held = held || item.toArray().at(1).toString() == m_promptId;
        if (reply->status() == 200 && held) {
            qCInfo(lcComfy).noquote()
                << "prompt" << m_promptId << "silent for" << m_silenceTimer.interval() / 1000
                << "s but still in the queue of" << nodeName();
            m_silenceTimer.start();
            return;
        }
        fail(RunFailure::NodeLost,
             QStringLiteral("%1 sent nothing for %2 s and no longer has the prompt")
                 .arg(nodeName())
                 .arg(m_silenceTimer.interval() / 1000));
    });
}

void PromptRun::takeResultsFromHistory(const QJsonObject &entry)
{
    const QJsonObject status = entry.value(QLatin1String("status")).toObject();
    if (status.value(QLatin1String("status_str")).toString() != QLatin1String("success")) {
        // The reason is among the recorded messages.
        for (const QJsonValue &value : status.value(QLatin1String("messages")).toArray()) {
            const QJsonArray message = value.toArray();
            const QString type = message.at(0).toString();
            const QJsonObject data = message.at(1).toObject();
            if (type == QLatin1String("execution_error")) {
                fail(RunFailure::ExecutionError,
                     QStringLiteral("execution error on %1: %2")
                         .arg(nodeName(), protocol::describeExecutionError(data)));
                return;
            }
            if (type == QLatin1String("execution_interrupted")) {
                fail(RunFailure::Interrupted,
                     QStringLiteral("%1 on %2")
                         .arg(protocol::describeInterruption(data), nodeName()));
                return;
            }
        }
        fail(RunFailure::ExecutionError,
             QStringLiteral("%1 ended the prompt without success").arg(nodeName()));
        return;
    }
    if (lostWebsocketImages())
        return;
    // The outputs as the history has them, in the graph's node order; SaveImageWebsocket
    // images are not in the history, only the frames already received (complete, or
    // lostWebsocketImages() would have failed the run).
    QStringList ids = entry.value(QLatin1String("outputs")).toObject().keys();
    std::sort(ids.begin(), ids.end(), [](const QString &a, const QString &b) {
        return a.toLongLong() != b.toLongLong() ? a.toLongLong() < b.toLongLong() : a < b;
    });
    stopFetch();
    QList<Output> outputs;
    for (const QString &id : ids)
        for (const protocol::ImageRef &ref : protocol::imagesOf(
                 entry.value(QLatin1String("outputs")).toObject().value(id).toObject()))
            outputs.append(Output{ref, {}});
    for (const Output &output : std::as_const(m_outputs))
        if (output.ref.filename.isEmpty())
            outputs.append(output);
    m_outputs = outputs;
    m_nextFetch = 0;
    qCInfo(lcComfy).noquote() << "prompt" << m_promptId << "finished on" << nodeName()
                              << "while the websocket was away: results from /history";
    succeed();
}

void PromptRun::onMessage(const protocol::Message &message)
{
    if (m_finished || m_succeeded || !m_posted)
        return;
    if (m_promptId.isEmpty()) { // POST /prompt not answered yet
        if (m_early.size() < MaxEarlyMessages)
            m_early.append(Early{message, {}, {}});
        else
            m_missedFrames = true;
        return;
    }
    // The socket is the node's, shared by every prompt the router runs there.
    if (message.promptId != m_promptId)
        return;
    m_silenceTimer.start();
    handle(message);
}

void PromptRun::handle(const protocol::Message &message)
{
    switch (message.type) {
    case MessageType::ExecutionStart:
    case MessageType::Status:
    case MessageType::ExecutionCached:
    case MessageType::Unknown:
        break;
    case MessageType::Executing:
        if (message.nodeIsNull)
            break; // the end; execution_success/error came first and decided it
        m_currentNode = message.node;
        Q_EMIT executingNode(
            message.node,
            m_graph.value(message.node).toObject().value(QLatin1String("class_type")).toString());
        break;
    case MessageType::Progress:
        if (!message.node.isEmpty())
            m_currentNode = message.node;
        Q_EMIT progress(message.value, message.max, message.node);
        break;
    case MessageType::Executed: {
        const QJsonObject output = message.data.value(QLatin1String("output")).toObject();
        for (const protocol::ImageRef &ref : protocol::imagesOf(output))
            m_outputs.append(Output{ref, {}});
        fetchOutputs(); // the file is written: fetch it while the rest of the graph runs
        break;
    }
    case MessageType::ExecutionSuccess:
        if (lostWebsocketImages())
            break;
        qCInfo(lcComfy).noquote() << "prompt" << m_promptId << "succeeded on" << nodeName()
                                  << "with" << m_outputs.size() << "images";
        succeed();
        break;
    case MessageType::ExecutionError:
        fail(RunFailure::ExecutionError,
             QStringLiteral("execution error on %1: %2")
                 .arg(nodeName(), protocol::describeExecutionError(message.data)));
        break;
    case MessageType::ExecutionInterrupted:
        fail(RunFailure::Interrupted,
             QStringLiteral("%1 on %2")
                 .arg(protocol::describeInterruption(message.data), nodeName()));
        break;
    }
}

void PromptRun::onBinaryFrame(const QString &promptId, const QByteArray &frame)
{
    if (m_finished || m_succeeded || !m_posted)
        return;
    if (m_promptId.isEmpty()) {
        if (m_early.size() < MaxEarlyMessages)
            m_early.append(Early{std::nullopt, promptId, frame});
        else
            m_missedFrames = true;
        return;
    }
    if (promptId != m_promptId)
        return;
    m_silenceTimer.start();
    handleFrame(frame);
}

void PromptRun::handleFrame(const QByteArray &frame)
{
    const auto parsed = protocol::parseBinary(frame);
    if (!parsed || parsed->eventType != protocol::BinaryFrame::PreviewImage)
        return;
    const QString classType =
        m_graph.value(m_currentNode).toObject().value(QLatin1String("class_type")).toString();
    // SaveImageWebsocket sends its final images as preview frames while it executes.
    if (classType == QLatin1String("SaveImageWebsocket"))
        m_outputs.append(Output{{}, {parsed->image, parsed->mimeType()}});
    else
        Q_EMIT preview(parsed->image, parsed->mimeType());
}

void PromptRun::succeed()
{
    m_succeeded = true;
    m_silenceTimer.stop();
    fetchOutputs(); // the connection stays in use: the fetches go over its NodeHttp
}

void PromptRun::stopFetch()
{
    if (!m_fetch)
        return;
    NodeReply *reply = m_fetch.data();
    m_fetch.clear();
    reply->abort();
}

void PromptRun::fetchOutputs()
{
    if (m_fetch || m_finished)
        return; // one at a time; the one out calls again
    while (m_nextFetch < m_outputs.size() && !m_outputs[m_nextFetch].image.data.isEmpty())
        ++m_nextFetch;
    if (m_nextFetch >= m_outputs.size()) {
        if (!m_succeeded)
            return; // more may come
        m_finished = true;
        releaseConnection();
        QList<OutputImage> images;
        images.reserve(m_outputs.size());
        for (const Output &output : std::as_const(m_outputs))
            images.append(output.image);
        Q_EMIT finished(images);
        return;
    }
    QUrl view(QStringLiteral("view"));
    view.setQuery(m_outputs[m_nextFetch].ref.viewQuery(), QUrl::StrictMode);
    NodeReply *reply = m_connection.http().get(view);
    m_fetch = reply;
    connect(reply, &NodeReply::finished, this, [this, reply] {
        m_fetch.clear();
        if (m_finished)
            return;
        Output &output = m_outputs[m_nextFetch];
        const int status = reply->status();
        QByteArray data = reply->body();
        if (status != 200 || data.isEmpty()) {
            fail(RunFailure::NodeLost,
                 QStringLiteral("could not fetch output image %1 from %2: %3")
                     .arg(output.ref.filename, nodeName(),
                          status ? QStringLiteral("HTTP %1").arg(status) : reply->errorString()));
            return;
        }
        QByteArray mime = reply->header(QByteArrayLiteral("content-type"));
        if (!mime.startsWith("image/"))
            mime = protocol::sniffImageType(data);
        output.image = {std::move(data), mime};
        fetchOutputs();
    });
}

void PromptRun::cancel()
{
    if (m_finished)
        return;
    m_cancelRequested = true;
    if (m_promptId.isEmpty()) {
        if (!m_request) // POST /prompt not sent yet: nothing exists on the node
            fail(RunFailure::Interrupted,
                 QStringLiteral("cancelled before it reached %1").arg(nodeName()));
        return; // otherwise cancelled again once POST /prompt has answered
    }
    // The recorded ComfyUI ignores prompt_id on /interrupt and stops whatever runs, so
    // delete the prompt from the queue and interrupt only if it is the running one.
    NodeReply *queueReply = m_connection.http().get(QUrl(QStringLiteral("queue")));
    connect(queueReply, &NodeReply::finished, this, [this, queueReply] {
        const QJsonObject queue = QJsonDocument::fromJson(queueReply->body()).object();
        bool running = false;
        for (const QJsonValue &item : queue.value(QLatin1String("queue_running")).toArray())
            running = running || item.toArray().at(1).toString() == m_promptId;
        const QString path = running ? QStringLiteral("interrupt") : QStringLiteral("queue");
        const QJsonObject body =
            running ? QJsonObject{{QStringLiteral("prompt_id"), m_promptId}}
                    : QJsonObject{{QStringLiteral("delete"), QJsonArray{m_promptId}}};
        m_connection.http().post(QUrl(path), QJsonDocument(body).toJson(QJsonDocument::Compact));
        if (!running) // a deleted queued prompt sends no message: end the run here
            fail(RunFailure::Interrupted,
                 QStringLiteral("removed from the queue of %1").arg(nodeName()));
    });
}

void PromptRun::fail(RunFailure failure, const QString &reason)
{
    if (m_finished)
        return;
    m_finished = true;
    m_silenceTimer.stop();
    if (m_request)
        m_request->abort();
    stopFetch();
    releaseConnection();
    qCWarning(lcComfy).noquote() << "task" << m_taskId << "failed on" << nodeName() << ":"
                                 << reason;
    Q_EMIT failed(failure, reason);
}

} // namespace comfy
