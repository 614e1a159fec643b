#include "comfy/nodeconnection.h"

#include <QUrlQuery>
#include <QUuid>

Q_LOGGING_CATEGORY(lcComfy, "comfy.node")

namespace comfy {

namespace {
constexpr qint64 MaxWebSocketMessage = 256LL * 1024 * 1024; // a batch of large PNGs fits
constexpr int ConnectTimeoutMs = 10000;
// A socket whose peer vanished without a FIN (a rebooted host) looks open until something is
// sent on it; the node would send our prompts' messages to nobody.
constexpr int PingIntervalMs = 15000;
} // namespace

NodeConnection::NodeConnection(const QUrl &node, QObject *parent)
    : QObject(parent)
    , m_node(node)
    , m_clientId(QStringLiteral("comfy-router-") +
                 QUuid::createUuid().toString(QUuid::WithoutBraces))
    , m_http(node)
{
    m_socket.setMaxAllowedIncomingMessageSize(MaxWebSocketMessage);
    m_socket.setMaxAllowedIncomingFrameSize(MaxWebSocketMessage);
    m_connectTimer.setSingleShot(true);
    m_connectTimer.setInterval(ConnectTimeoutMs);
    connect(&m_connectTimer, &QTimer::timeout, this, [this] {
        qCWarning(lcComfy).noquote() << "websocket of" << m_node.toString()
                                     << "did not connect within" << ConnectTimeoutMs << "ms";
        m_socket.abort(); // reports disconnected: the usual path of a lost socket
    });
    m_reconnectTimer.setSingleShot(true);
    connect(&m_reconnectTimer, &QTimer::timeout, this, &NodeConnection::open);
    m_pingTimer.setInterval(PingIntervalMs);
    connect(&m_pingTimer, &QTimer::timeout, this, &NodeConnection::ping);
    connect(&m_socket, &QWebSocket::pong, this, [this] { m_awaitingPong = false; });
    connect(&m_socket, &QWebSocket::connected, this, &NodeConnection::onConnected);
    connect(&m_socket, &QWebSocket::disconnected, this, &NodeConnection::onDisconnected);
    connect(&m_socket, &QWebSocket::textMessageReceived, this, &NodeConnection::onText);
    connect(&m_socket, &QWebSocket::binaryMessageReceived, this, &NodeConnection::onBinary);
}

NodeConnection::~NodeConnection()
{
    disconnect(&m_socket, nullptr, this, nullptr); // no signals from the teardown
    m_socket.abort();
}

void NodeConnection::addUser()
{
    ++m_users;
    if (m_socket.state() == QAbstractSocket::UnconnectedState && !m_reconnectTimer.isActive())
        open();
}

void NodeConnection::removeUser()
{
    if (m_users > 0)
        --m_users;
    if (m_users == 0) {
        m_reconnectTimer.stop(); // nobody waits for a reconnect any more
        m_reconnects = 0;
        if (m_retired)
            deleteLater();
    }
}

void NodeConnection::retire()
{
    m_retired = true;
    if (m_users == 0)
        deleteLater();
}

void NodeConnection::open()
{
    QUrl ws = m_node.resolved(QUrl(QStringLiteral("ws")));
    ws.setScheme(m_node.scheme() == QLatin1String("https") ? QStringLiteral("wss")
                                                           : QStringLiteral("ws"));
    QUrlQuery query;
    query.addQueryItem(QStringLiteral("clientId"), m_clientId);
    ws.setQuery(query);
    m_connectTimer.start();
    m_socket.open(ws);
}

void NodeConnection::onConnected()
{
    m_connectTimer.stop();
    m_awaitingPong = false;
    m_pingTimer.start();
    qCDebug(lcComfy).noquote() << "websocket to" << m_node.toString() << "open as" << m_clientId;
    m_reconnects = 0;
    Q_EMIT opened();
}

void NodeConnection::onDisconnected()
{
    m_connectTimer.stop();
    m_pingTimer.stop();
    m_executing.clear();
    const QString error = m_socket.errorString();
    const QString reason =
        QStringLiteral("lost the websocket connection to %1%2")
            .arg(m_node.toString(), error.isEmpty() ? QString() : QStringLiteral(": ") + error);
    Q_EMIT interrupted(reason); // users that had not posted yet end here
    if (m_users == 0) {
        m_reconnects = 0; // the next prompt opens it again
        if (m_retired)
            deleteLater();
        return;
    }
    if (m_reconnects >= MaxReconnects) {
        m_reconnects = 0;
        Q_EMIT gaveUp(reason + QStringLiteral(" (no reconnect in %1 tries)").arg(MaxReconnects));
        return;
    }
    const int delay = 500 << m_reconnects++;
    qCWarning(lcComfy).noquote() << reason << "- reconnecting in" << delay << "ms";
    m_reconnectTimer.start(delay);
}

void NodeConnection::ping()
{
    if (m_awaitingPong) {
        qCWarning(lcComfy).noquote() << "websocket to" << m_node.toString()
                                     << "did not answer a ping within" << PingIntervalMs << "ms";
        m_socket.abort();
        return;
    }
    m_awaitingPong = true;
    m_socket.ping();
}

void NodeConnection::onText(const QString &text)
{
    const auto parsed = protocol::parseText(text.toUtf8());
    if (!parsed)
        return;
    const protocol::Message &message = *parsed;
    using protocol::MessageType;
    if (!message.promptId.isEmpty() &&
        (message.type == MessageType::ExecutionStart ||
         (message.type == MessageType::Executing && !message.nodeIsNull)))
        m_executing = message.promptId;
    Q_EMIT this->message(message);
    switch (message.type) {
    case MessageType::ExecutionSuccess:
    case MessageType::ExecutionError:
    case MessageType::ExecutionInterrupted:
        if (message.promptId == m_executing)
            m_executing.clear();
        break;
    default:
        break;
    }
}

void NodeConnection::onBinary(const QByteArray &frame)
{
    Q_EMIT binaryFrame(m_executing, frame);
}

NodeConnections::NodeConnections(QObject *parent)
    : QObject(parent)
{
}

NodeConnections::~NodeConnections() = default;

NodeConnection &NodeConnections::forNode(const QUrl &node)
{
    NodeConnection *&connection = m_connections[node];
    if (!connection)
        connection = new NodeConnection(node, this);
    return *connection;
}

void NodeConnections::remove(const QUrl &node)
{
    if (NodeConnection *connection = m_connections.take(node))
        connection->retire();
}

} // namespace comfy
