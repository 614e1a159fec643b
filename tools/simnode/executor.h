#pragma once

#include "nodes.h"

#include <QHash>
#include <QJsonArray>
#include <QJsonObject>
#include <QObject>
#include <QSet>
#include <QStringList>
#include <QTimer>

#include <memory>
#include <optional>

namespace simnode {

class Catalog;

// Where the executor's websocket messages go.
class MessageSink {
public:
    virtual ~MessageSink() = default;
    // sid: the websocket of that client id; nullopt: every websocket (a broadcast).
    virtual void sendMessage(const QString &type, const QJsonObject &data,
                             const std::optional<QString> &sid) = 0;
    virtual void sendBinary(const QByteArray &frame, const std::optional<QString> &sid) = 0;
};

// A prompt accepted by POST /prompt: ComfyUI's queue item.
struct QueueItem {
    double number = 0;
    QString promptId;
    QJsonObject prompt;
    QStringList nodeOrder;                  // the prompt's node ids as sent
    QHash<QString, QStringList> inputOrder; // each node's input names as sent
    QJsonObject extraData;                  // {"client_id": ...} and the request's extra_data
    QStringList outputs;                    // output nodes to execute
    QJsonArray toJson() const;              // [number, prompt_id, prompt, extra_data, outputs]
};

// Runs prompts one at a time, in queue order, like ComfyUI's prompt worker and PromptExecutor:
// the same messages, in the same order, the same caching of unchanged nodes, the same history.
// Steps are timed with a timer: the event loop (HTTP, websockets) keeps running meanwhile.
class Executor : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Executor)

public:
    Executor(const Catalog &catalog, MessageSink &sink, QObject *parent = nullptr);
    ~Executor() override;

    // Queues a prompt (status broadcast); startIfIdle() then starts it when nothing runs, as
    // ComfyUI's worker thread picks it up at once.
    void enqueue(QueueItem item);
    void startIfIdle();
    int queueRemaining() const;
    QJsonObject queueJson() const;
    QStringList pendingPromptIds() const;
    void clearQueue();
    void deleteFromQueue(const QStringList &promptIds);
    void interrupt();

    QJsonObject historyJson(const QString &promptId) const;  // {} when unknown
    QJsonObject historyJson(int maxItems, int offset) const; // maxItems < 0: all
    void clearHistory();
    void deleteHistory(const QStringList &promptIds);

    QString runningPromptId() const;
    // ComfyUI's server.client_id (the client of the latest prompt, kept after it ended) and
    // last_node_id (the node executing now): a reconnecting websocket is told about it.
    std::optional<QString> currentClientId() const { return m_clientId; }
    QString lastNodeId() const { return m_lastNodeId; }

    void setStepDelayMs(int ms) { m_stepDelayMs = qMax(0, ms); }
    int stepDelayMs() const { return m_stepDelayMs; }
    // A model loader (CheckpointLoader*, UNETLoader) that executes with another model than the
    // one loaded last takes this much longer; the same model again costs nothing.
    void setModelLoadDelayMs(int ms) { m_modelLoadDelayMs = qMax(0, ms); }
    int modelLoadDelayMs() const { return m_modelLoadDelayMs; }
    QString loadedModel() const { return m_loadedModel; } // "" before the first load
    int modelLoads() const { return m_modelLoads; }       // the first load and every switch
    void setFailNextPrompts(int count, const QString &message);
    void setHang(bool hang);
    bool hang() const { return m_hang; }
    QStringList executedPromptIds() const { return m_executed; }
    // Forget the queue, the running prompt, the caches and the history (a restarted node).
    void reset();

Q_SIGNALS:
    void promptStarted(const QString &promptId);
    void promptFinished(const QString &promptId, bool success);

private:
    struct Run;

    void scheduleStart();
    void startNext();
    void addNode(const QString &id);
    QString pickNode(const QStringList &ready) const;
    bool isOutputNode(const QString &id) const;
    bool isCached(const QString &id) const;
    QString signature(const QString &id, QSet<QString> *visiting = nullptr) const;
    QList<SimValue> outputsOf(const QString &id) const;
    NodeCall makeCall(const QString &id) const;
    void stageNext();
    void chargeModelLoad(Run &run);
    void scheduleStep(int delayMs);
    void advance();
    void completeNode(const QString &id);
    void failNode(const NodeError &error);
    void interrupted();
    void finish(bool success);
    void addMessage(const QString &type, QJsonObject data, bool broadcast);
    void broadcastStatus();
    QString previewPrefix(const QString &id, const QString &classType);

    const Catalog &m_catalog;
    MessageSink &m_sink;
    QList<QueueItem> m_pending;
    std::unique_ptr<Run> m_run;
    QTimer m_stepTimer;
    bool m_startScheduled = false;
    bool m_interruptRequested = false;
    bool m_hang = false;
    bool m_stalled = false;
    int m_stepDelayMs = 5;
    int m_modelLoadDelayMs = 0;
    QString m_loadedModel;
    int m_modelLoads = 0;
    int m_failNext = 0;
    QString m_failMessage;

    std::optional<QString> m_clientId;
    QString m_lastNodeId;
    QString m_lastPromptId;

    // The classic cache of the recorded version: outputs and UI of the latest prompts, by
    // input signature; entries the next prompt does not use are dropped.
    QHash<QString, QList<SimValue>> m_outputCache;
    QHash<QString, QJsonObject> m_uiCache;
    QHash<QString, QString> m_previewPrefixes; // "nodeId\nclass" -> "_temp_xxxxx"

    QHash<QString, QJsonObject> m_history;
    QStringList m_historyOrder;
    QStringList m_executed;
};

} // namespace simnode
