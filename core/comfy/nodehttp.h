#pragma once

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QPair>
#include <QPointer>
#include <QString>
#include <QTimer>
#include <QUrl>

#include <memory>
#include <vector>

class QTcpSocket;

namespace comfy {

class NodeHttp;

// One request to a ComfyUI node (NodeHttp): finished() once, then it deletes itself (later);
// abort() ends it without finished(). Hold it in a QPointer.
class NodeReply : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(NodeReply)
public:
    ~NodeReply() override;

    int status() const { return m_status; } // 0: no answer, errorString() says why
    const QByteArray &body() const { return m_body; }
    QByteArray header(const QByteArray &lowerCaseName) const;
    QString errorString() const { return m_error; }
    bool isFinished() const { return m_finished; }
    void abort();

Q_SIGNALS:
    void finished();

private:
    friend class NodeHttp;
    explicit NodeReply(NodeHttp &http, QByteArray request, QObject *parent);

    NodeHttp &m_http;
    QByteArray m_request; // the whole request, sent again once if a reused connection was stale
    int m_status = 0;
    QList<QPair<QByteArray, QByteArray>> m_headers; // names in lower case
    QByteArray m_body;
    QString m_error;
    bool m_finished = false;
    bool m_retried = false;
};

// The HTTP side of the router's connection to one node: keep-alive HTTP/1.1 connections in the
// router's own thread, for the requests a task waits on (POST /prompt, GET /view...). Qt's
// network manager hands every request to a thread of its own and back, about 0.2 ms per round
// trip on loopback; here a request is one write and its answer one read. Requests run in
// parallel on up to MaxConnections connections, the rest wait their turn. A request that finds
// its reused connection closed by the node (an idle keep-alive timing out) before any byte of
// the answer is sent once more on a new one, as browsers do.
class NodeHttp : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(NodeHttp)
public:
    explicit NodeHttp(const QUrl &node, QObject *parent = nullptr);
    ~NodeHttp() override;

    // relative: to the node's URL ("prompt", "view" with its query).
    NodeReply *get(const QUrl &relative);
    NodeReply *post(const QUrl &relative, const QByteArray &json);

    // No byte either way for this long: the request fails (default 30 s).
    void setTimeoutMs(int ms) { m_timeoutMs = ms; }
    int openConnections() const { return int(m_connections.size()); }

    static constexpr int MaxConnections = 6;
    static constexpr qint64 MaxBodyBytes = 512LL * 1024 * 1024; // a batch of large images
    static constexpr qint64 MaxHeadBytes = 64 * 1024;

private:
    friend class NodeReply;
    struct Connection;
    NodeReply *send(const QByteArray &method, const QUrl &relative, const QByteArray &body);
    Connection &open();
    void dispatch();
    void start(Connection &connection, NodeReply *reply);
    void onReadable(Connection &connection);
    // Moves what has come of the body's current piece into the reply; true once it is whole.
    bool takeBody(Connection &connection);
    void onClosed(Connection &connection);
    void finish(Connection &connection, const QString &error);
    void drop(Connection &connection);
    void forget(NodeReply *reply); // aborted or deleted: never touched again

    QUrl m_node;
    QByteArray m_hostHeader;
    int m_timeoutMs = 30000;
    std::vector<std::unique_ptr<Connection>> m_connections;
    QList<NodeReply *> m_waiting; // for a free connection, oldest first
};

} // namespace comfy
