#pragma once

#include <QHostAddress>
#include <QObject>
#include <QString>
#include <QStringList>
#include <QUrl>

#include <memory>

namespace simnode {

class SimulatedNodePrivate;

// A SIMULATED ComfyUI node: ComfyUI's HTTP API and websocket on one port, behaving like the
// recorded real node (tests/data/comfyui: the same routes, message order, validation errors,
// caching, history), with node classes that compute small real pictures instead of running
// models. For tests and the --demo mode.
//
// rootDir holds models/<kind>/, input/, output/ and temp/ like a ComfyUI installation (missing
// folders are created; temp/ is emptied at start, as ComfyUI does). Model files are any file in
// the model folders (symlinks too, empty files too) and are never really read, except that a file
// starting with the bytes "NOT A MODEL" fails to load at execution, like the dummy checkpoint of
// the recording n_symlinked_model_and_input ("ERROR: Could not detect model type of: ...").
class SimulatedNode : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SimulatedNode)

public:
    explicit SimulatedNode(const QString &rootDir, QObject *parent = nullptr);
    ~SimulatedNode() override;

    // The bound port, 0 on failure. Listening again (after goDown()) uses the same port.
    quint16 listen(const QHostAddress &address = QHostAddress::LocalHost, quint16 port = 0);
    QUrl url() const; // "http://127.0.0.1:PORT/"
    quint16 port() const;
    QString rootDir() const;

    // Behaviour switches.
    void setStepDelayMs(int ms); // each simulated step / node execution takes this (default 5)
    int stepDelayMs() const;
    // Executing a model loader (CheckpointLoaderSimple and the other CheckpointLoader classes,
    // UNETLoader) whose model differs from the one this node loaded last takes this much longer,
    // like a GPU node switching checkpoints; the same model again costs nothing (default 0).
    void setModelLoadDelayMs(int ms);
    // The answer to an accepted POST /prompt leaves this much later, after the prompt has
    // started: a real node's executor runs in a thread of its own and may send the prompt's
    // first messages (or all of them) before the HTTP answer (default 0).
    void setPromptAnswerDelayMs(int ms);
    int modelLoadDelayMs() const;
    // The next `count` prompts to start end with execution_error (RuntimeError, this message)
    // at their first node.
    void setFailNextPrompts(int count,
                            const QString &exceptionMessage = QStringLiteral("simulated failure"));
    // Prompts start (execution_start, executing of their first node) but make no progress
    // until the hang is cleared. POST /interrupt still interrupts them.
    void setHang(bool hang);
    void dropWebSockets(); // abort every websocket connection now (runs continue)
    void goDown();         // stop listening and cut every connection (runs continue)
    bool comeUp();         // listen again on the same address and port
    bool isUp() const;
    // Forget the queue, the running prompt (no message about it), the caches, the history and
    // the queue numbers, like a restarted node (with goDown()/comeUp() for the connections).
    void resetState();

    // Observation for tests.
    int promptsReceived() const;            // POST /prompt calls accepted (200)
    QStringList executedPromptIds() const;  // prompts that finished (success, error, interrupt)
    QString runningPromptId() const;        // empty when idle
    QStringList pendingPromptIds() const;   // queued, in execution order
    QStringList connectedClientIds() const; // websockets' client ids (generated for anonymous)
    QString loadedModel() const; // the model loaded last ("" before any, and after resetState())
    int modelLoads() const;      // models loaded: the first one and every switch to another

    // The signals are queued (delivered from the event loop), so that a slot may stop or delete
    // the node.
Q_SIGNALS:
    void promptReceived(const QString &promptId, const QString &clientId);
    void promptStarted(const QString &promptId);
    void promptFinished(const QString &promptId, bool success);
    void webSocketConnected(const QString &clientId);
    void webSocketDisconnected(const QString &clientId);

    // For latency measurements only, emitted directly in the node's thread at the moment
    // (a slot must not stop or delete the node): a POST /prompt request has arrived whole
    // (before its validation), and a prompt's last message has been sent.
    void promptRequestArrived();
    void promptEndSent(const QString &promptId);

private:
    std::unique_ptr<SimulatedNodePrivate> d;
    friend class SimulatedNodePrivate;
};

} // namespace simnode
