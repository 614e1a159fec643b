#pragma once

#include <QAbstractHttpServer>
#include <QHttpServerResponder>
#include <QList>
#include <QPointer>
#include <QTcpServer>
#include <QTcpSocket>

#include <functional>

namespace simnode {

// A TCP server that keeps track of its connections, so that they can all be cut at once
// (SimulatedNode::goDown) and the server can listen again on the same port.
class TrackingTcpServer : public QTcpServer {
    Q_OBJECT

public:
    using QTcpServer::QTcpServer;
    void abortConnections();

protected:
    void incomingConnection(qintptr handle) override;

private:
    QList<QPointer<QTcpSocket>> m_sockets;
};

// QHttpServer 6.4 routes by pattern and cannot tell the simulated node everything it needs
// (the socket, raw bodies, /api/ prefixes, ComfyUI's exact status codes), so the node routes
// requests itself. Websocket upgrades of the paths accepted by isWebSocketPath are handed to
// QAbstractHttpServer's websocket server (newWebSocketConnection).
class HttpFrontend : public QAbstractHttpServer {
    Q_OBJECT

public:
    using Handler = std::function<void(const QHttpServerRequest &, QTcpSocket *)>;
    using WebSocketFilter = std::function<bool(const QHttpServerRequest &)>;

    explicit HttpFrontend(Handler handler, WebSocketFilter isWebSocketPath,
                          QObject *parent = nullptr);

    static QHttpServerResponder responder(const QHttpServerRequest &request, QTcpSocket *socket)
    {
        return makeResponder(request, socket);
    }

protected:
    bool handleRequest(const QHttpServerRequest &request, QTcpSocket *socket) override;
    void missingHandler(const QHttpServerRequest &request, QTcpSocket *socket) override;

private:
    Handler m_handler;
    WebSocketFilter m_isWebSocketPath;
};

} // namespace simnode
