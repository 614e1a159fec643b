#include "httpfrontend.h"

#include <QHttpServerRequest>

#include <memory>
#include <utility>

namespace simnode {

void TrackingTcpServer::incomingConnection(qintptr handle)
{
    auto socket = std::make_unique<QTcpSocket>();
    if (!socket->setSocketDescriptor(handle))
        return;
    // Like ComfyUI, whose asyncio transports set TCP_NODELAY on every connection (Python 3.6+):
    // a small message (a websocket frame right after another) leaves at once instead of waiting
    // for the ACK of the previous one.
    socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    socket->setParent(this); // QAbstractHttpServer deletes it when the connection ends
    m_sockets.removeAll(QPointer<QTcpSocket>());
    m_sockets << socket.get();
    addPendingConnection(socket.release());
}

void TrackingTcpServer::abortConnections()
{
    const QList<QPointer<QTcpSocket>> sockets = std::exchange(m_sockets, {});
    for (const QPointer<QTcpSocket> &socket : sockets) {
        if (socket)
            socket->abort();
    }
}

HttpFrontend::HttpFrontend(Handler handler, WebSocketFilter isWebSocketPath, QObject *parent)
    : QAbstractHttpServer(parent)
    , m_handler(std::move(handler))
    , m_isWebSocketPath(std::move(isWebSocketPath))
{
}

bool HttpFrontend::handleRequest(const QHttpServerRequest &request, QTcpSocket *socket)
{
    const bool upgrade =
        request.value(QByteArrayLiteral("upgrade")).compare("websocket", Qt::CaseInsensitive) == 0;
    if (upgrade) {
        // Writing nothing and returning true hands the socket to the websocket server.
        return m_isWebSocketPath(request);
    }
    m_handler(request, socket);
    return true;
}

void HttpFrontend::missingHandler(const QHttpServerRequest &request, QTcpSocket *socket)
{
    // Only reached for websocket upgrades of other paths.
    m_handler(request, socket);
}

} // namespace simnode
