#pragma once

#include "comfy/protocol.h"

#include <QJsonObject>
#include <QList>
#include <QLoggingCategory>
#include <QObject>
#include <QPointer>
#include <QTimer>
#include <QUrl>
#include <QWebSocket>

class QNetworkAccessManager;
class QNetworkReply;

Q_DECLARE_LOGGING_CATEGORY(lcComfy)

namespace comfy {

struct OutputImage {
    QByteArray data;
    QByteArray mimeType;
};

// How a run ended badly; the task runner decides what each means for the task.
enum class RunFailure {
    Rejected,       // POST /prompt 400: the graph is invalid on that node
    NodeLost,       // connection refused, websocket lost for good, 5xx, silent node
    ExecutionError, // execution_error from the node
    Interrupted,    // execution_interrupted
};

// One prompt on one ComfyUI node, the client side of the protocol: open the websocket
// with clientId, POST /prompt with that client_id, follow the messages of that prompt,
// fetch SaveImage/PreviewImage outputs with GET /view, and report the end once.
class PromptRun : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(PromptRun)
public:
    PromptRun(QNetworkAccessManager &network, const QUrl &node, const QString &clientId,
              const QJsonObject &graph, QObject *parent = nullptr);
    ~PromptRun() override;

    void start();
    // Interrupts the prompt on its node if it is the one running there, or deletes it from
    // the node's queue; the run then ends as Interrupted.
    void cancel();

    QString promptId() const { return m_promptId; }
    bool isFinished() const { return m_finished; }
    // A node silent this long is asked for the prompt's /history; unless it is finished
    // there, the run ends as NodeLost (the task moves to another node).
    void setSilenceTimeoutMs(int ms) { m_silenceTimer.setInterval(ms); }

Q_SIGNALS:
    void submitted(const QString &promptId);
    void executingNode(const QString &nodeId, const QString &classType);
    void progress(int value, int max, const QString &nodeId);
    void preview(const QByteArray &image, const QByteArray &mimeType);
    void finished(const QList<OutputImage> &images);
    void failed(comfy::RunFailure failure, const QString &reason);

private:
    struct Output {
        protocol::ImageRef ref; // fetched with /view when data is empty
        OutputImage image;
    };
    void onConnected();
    void onDisconnected();
    void onText(const QString &text);
    void onBinary(const QByteArray &frame);
    void onPromptReply(QNetworkReply *reply);
    void handle(const protocol::Message &message);
    void fetchNextOutput();
    void openSocket();
    void scheduleReconnect(const QString &reason);
    // Asks /history for the prompt (after a reconnect, or after a silence): finished there ->
    // the results from it; else goes on waiting, or (after a silence) ends as NodeLost.
    void checkHistory(bool afterSilence);
    void takeResultsFromHistory(const QJsonObject &entry);
    void checkQueueAfterSilence();
    bool lostWebsocketImages(); // true (and failed) when frames may be missing
    void fail(RunFailure failure, const QString &reason);
    QString nodeName() const;

    QNetworkAccessManager &m_network;
    QUrl m_node;
    QString m_clientId;
    QJsonObject m_graph;
    QWebSocket m_socket;
    QTimer m_connectTimer;
    QTimer m_silenceTimer;
    QTimer m_reconnectTimer;
    int m_reconnects = 0;
    bool m_posted = false;       // POST /prompt sent: a later connect is a reconnect
    bool m_missedFrames = false; // frames may have been sent while the socket was down
    QPointer<QNetworkReply> m_request;
    QString m_promptId;
    QString m_currentNode;
    QList<Output> m_outputs;
    qsizetype m_nextFetch = 0;
    bool m_succeeded = false;
    bool m_finished = false;
    bool m_cancelRequested = false;
};

} // namespace comfy
