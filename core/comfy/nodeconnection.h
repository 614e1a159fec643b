#pragma once

#include "comfy/nodehttp.h"
#include "comfy/protocol.h"

#include <QHash>
#include <QLoggingCategory>
#include <QObject>
#include <QTimer>
#include <QUrl>
#include <QWebSocket>

Q_DECLARE_LOGGING_CATEGORY(lcComfy) // "comfy.node"

namespace comfy {

// The router's connection to one ComfyUI node: the one websocket it keeps open there, shared by
// every prompt it runs there (a task starts with POST /prompt at once instead of waiting for a
// handshake), and kept-alive HTTP connections for its requests (NodeHttp). Every
// prompt carries this connection's clientId, so the node sends their messages here; they are
// handed out by prompt_id (PromptRun picks its own). Binary frames have no prompt_id: they
// belong to the prompt executing at the time (a node runs one prompt at a time).
//
// A socket lost while a prompt is out is reopened with the same clientId (the prompts were
// posted with it) after the old one is gone: the recorded ComfyUI drops a clientId when any of
// its sockets closes, so two must never overlap. Lost while nobody uses it, it stays closed
// until the next prompt.
class NodeConnection : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(NodeConnection)
public:
    explicit NodeConnection(const QUrl &node, QObject *parent = nullptr);
    ~NodeConnection() override;

    QUrl node() const { return m_node; }
    QString clientId() const { return m_clientId; }
    NodeHttp &http() { return m_http; } // the node's HTTP API, kept-alive connections
    bool isOpen() const { return m_socket.state() == QAbstractSocket::ConnectedState; }

    // A prompt run starts or stops needing the socket; the first use opens it.
    void addUser();
    void removeUser();
    int users() const { return m_users; }

    // Ends the connection once its last user has gone (the node was removed).
    void retire();

    static constexpr int MaxReconnects = 5; // 0.5 + 1 + 2 + 4 + 8 s: about 15 s in all

Q_SIGNALS:
    void opened();
    // The socket is down; users that posted may have missed messages. A reconnect follows
    // (opened) unless the tries are used up (gaveUp).
    void interrupted(const QString &reason);
    void gaveUp(const QString &reason);
    void message(const comfy::protocol::Message &message);
    // promptId: the prompt executing when the frame came (empty if unknown).
    void binaryFrame(const QString &promptId, const QByteArray &frame);

private:
    void open();
    void onConnected();
    void onDisconnected();
    void onText(const QString &text);
    void onBinary(const QByteArray &frame);
    void ping();

    QUrl m_node;
    QString m_clientId;
    NodeHttp m_http;
    QWebSocket m_socket;
    QTimer m_connectTimer;
    QTimer m_reconnectTimer;
    QTimer m_pingTimer; // a socket that no longer answers pings is given up and reopened
    bool m_awaitingPong = false;
    int m_users = 0;
    int m_reconnects = 0;
    bool m_retired = false;
    QString m_executing; // prompt_id of the prompt running on the node, as its messages say
};

// The connections of the router, one per node URL; who runs a prompt on a node takes its
// connection from here.
class NodeConnections : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(NodeConnections)
public:
    explicit NodeConnections(QObject *parent = nullptr);
    ~NodeConnections() override;

    NodeConnection &forNode(const QUrl &node);
    void remove(const QUrl &node); // the node left the cluster
    qsizetype size() const { return m_connections.size(); }

private:
    QHash<QUrl, NodeConnection *> m_connections; // children
};

} // namespace comfy
