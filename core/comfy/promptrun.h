#pragma once

#include "comfy/nodeconnection.h"
#include "comfy/protocol.h"

#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QTimer>
#include <QUrl>

#include <optional>

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

// One prompt on one ComfyUI node, the client side of the protocol: POST /prompt with the
// client_id of the node's shared websocket (NodeConnection), follow the messages of that
// prompt, fetch SaveImage/PreviewImage outputs with GET /view as soon as the node reports
// them, and report the end once.
class PromptRun : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(PromptRun)
public:
    // taskId only names the run in logs.
    PromptRun(NodeConnection &connection, const QString &taskId, const QJsonObject &graph,
              QObject *parent = nullptr);
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
    // What came on the shared socket before POST /prompt answered with our prompt_id: some
    // of it may be ours (a fast node starts the prompt before its answer arrives).
    struct Early {
        std::optional<protocol::Message> message;
        QString framePromptId;
        QByteArray frame;
    };
    void post();
    void onOpened();
    void onInterrupted(const QString &reason);
    void onMessage(const protocol::Message &message);
    void onBinaryFrame(const QString &promptId, const QByteArray &frame);
    void onPromptReply(NodeReply *reply);
    void handle(const protocol::Message &message);
    void handleFrame(const QByteArray &frame);
    void fetchOutputs(); // the next output not yet fetched; the end once all are and it succeeded
    void stopFetch();
    // Asks /history for the prompt (after a reconnect, or after a silence): finished there ->
    // the results from it; else goes on waiting, or (after a silence) ends as NodeLost.
    void checkHistory(bool afterSilence);
    void takeResultsFromHistory(const QJsonObject &entry);
    void checkQueueAfterSilence();
    bool lostWebsocketImages(); // true (and failed) when frames may be missing
    void succeed();
    void fail(RunFailure failure, const QString &reason);
    void releaseConnection();
    QString nodeName() const;

    NodeConnection &m_connection;
    QString m_taskId;
    QJsonObject m_graph;
    QTimer m_silenceTimer;
    bool m_usingConnection = false;
    bool m_posted = false;       // POST /prompt sent
    bool m_missedFrames = false; // frames may have been sent while the socket was down
    QList<Early> m_early;
    QPointer<NodeReply> m_request; // POST /prompt
    QPointer<NodeReply> m_fetch;   // GET /view of m_outputs[m_nextFetch]
    QString m_promptId;
    QString m_currentNode;
    QList<Output> m_outputs;
    qsizetype m_nextFetch = 0;
    bool m_succeeded = false;
    bool m_finished = false;
    bool m_cancelRequested = false;
};

} // namespace comfy
