#include "simulatednode.h"

#include "catalog.h"
#include "executor.h"
#include "httpfrontend.h"
#include "multipart.h"
#include "pyformat.h"
#include "validation.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHttpServerRequest>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QMimeDatabase>
#include <QPointer>
#include <QSaveFile>
#include <QTimer>
#include <QUuid>
#include <QWebSocket>

#include <functional>
#include <vector>

Q_LOGGING_CATEGORY(lcSimNode, "comfy.simnode", QtInfoMsg)

namespace simnode {

namespace {

using Status = QHttpServerResponder::StatusCode;

const QByteArray kJson = QByteArrayLiteral("application/json; charset=utf-8");
const QByteArray kText = QByteArrayLiteral("text/plain; charset=utf-8");
const QByteArray kOctets = QByteArrayLiteral("application/octet-stream");

// Query items decoded like aiohttp does ('+' is a space).
QHash<QString, QString> queryItems(const QUrl &url)
{
    QHash<QString, QString> items;
    const QString query = url.query(QUrl::FullyEncoded);
    if (query.isEmpty())
        return items;
    const QStringList pairs = query.split(QLatin1Char('&'), Qt::SkipEmptyParts);
    for (const QString &pair : pairs) {
        const qsizetype eq = pair.indexOf(QLatin1Char('='));
        QString key = eq < 0 ? pair : pair.left(eq);
        QString value = eq < 0 ? QString() : pair.mid(eq + 1);
        key.replace(QLatin1Char('+'), QLatin1Char(' '));
        value.replace(QLatin1Char('+'), QLatin1Char(' '));
        key = QUrl::fromPercentEncoding(key.toUtf8());
        value = QUrl::fromPercentEncoding(value.toUtf8());
        if (!items.contains(key))
            items.insert(key, value);
    }
    return items;
}

QString newUuidHex()
{
    return QUuid::createUuid().toString(QUuid::Id128);
}

QByteArray compact(const QJsonValue &value)
{
    if (value.isObject())
        return QJsonDocument(value.toObject()).toJson(QJsonDocument::Compact);
    if (value.isArray())
        return QJsonDocument(value.toArray()).toJson(QJsonDocument::Compact);
    // A scalar: serialize inside an array and strip the brackets.
    QByteArray text = QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact);
    return text.mid(1, text.size() - 2);
}

} // namespace

class SimulatedNodePrivate : public MessageSink {
public:
    SimulatedNodePrivate(SimulatedNode *q, const QString &rootDir);
    ~SimulatedNodePrivate() override;

    void sendMessage(const QString &type, const QJsonObject &data,
                     const std::optional<QString> &sid) override;
    void sendBinary(const QByteArray &frame, const std::optional<QString> &sid) override;

    void handle(const QHttpServerRequest &request, QTcpSocket *socket);
    void acceptWebSockets();
    void webSocketClosed(QWebSocket *socket, const QString &sid);

    // Routes.
    void postPrompt(const QHttpServerRequest &request, QTcpSocket *socket);
    void postQueue(const QHttpServerRequest &request, QTcpSocket *socket);
    void postHistory(const QHttpServerRequest &request, QTcpSocket *socket);
    void clearOrDelete(const QHttpServerRequest &request, QTcpSocket *socket,
                       const std::function<void()> &clear,
                       const std::function<void(const QStringList &)> &remove);
    void getView(const QHttpServerRequest &request, QTcpSocket *socket);
    void uploadImage(const QHttpServerRequest &request, QTcpSocket *socket);
    QJsonObject systemStats() const;

    static void reply(const QHttpServerRequest &request, QTcpSocket *socket, Status status,
                      const QByteArray &contentType, const QByteArray &body,
                      const QList<QPair<QByteArray, QByteArray>> &headers = {});
    static void replyJson(const QHttpServerRequest &request, QTcpSocket *socket,
                          const QJsonValue &json, Status status = Status::Ok);
    static void replyEmpty(const QHttpServerRequest &request, QTcpSocket *socket,
                           Status status = Status::Ok);

    SimulatedNode *q;
    Catalog catalog;
    Executor executor;
    std::unique_ptr<HttpFrontend> frontend;
    QPointer<TrackingTcpServer> tcpServer;
    QHostAddress address;
    quint16 boundPort = 0;
    bool up = false;
    double number = 0; // ComfyUI's server.number
    int promptsReceived = 0;
    int promptAnswerDelayMs = 0;

    struct Client {
        std::unique_ptr<QWebSocket> socket;
        QString sid;
    };
    std::vector<Client> clients;
    QHash<QString, QWebSocket *> sockets; // ComfyUI's server.sockets: sid -> latest socket
};

SimulatedNodePrivate::SimulatedNodePrivate(SimulatedNode *q, const QString &rootDir)
    : q(q)
    , catalog(rootDir)
    , executor(catalog, *this)
{
    catalog.createFolders();
    // ComfyUI empties its temp directory when it starts.
    QDir temp(catalog.tempDir());
    const QFileInfoList entries =
        temp.entryInfoList(QDir::Files | QDir::Dirs | QDir::NoDotAndDotDot);
    for (const QFileInfo &entry : entries) {
        if (entry.isDir() && !entry.isSymLink())
            QDir(entry.absoluteFilePath()).removeRecursively();
        else
            QFile::remove(entry.absoluteFilePath());
    }
    frontend = std::make_unique<HttpFrontend>(
        [this](const QHttpServerRequest &request, QTcpSocket *socket) { handle(request, socket); },
        [](const QHttpServerRequest &request) {
            const QString path = request.url().path();
            return path == QLatin1String("/ws") || path == QLatin1String("/api/ws");
        });
    QObject::connect(frontend.get(), &HttpFrontend::newWebSocketConnection, q,
                     [this]() { acceptWebSockets(); });
    // Public signals are queued: a slot may stop or destroy the node without pulling the
    // ground from under a request being answered or a run being executed.
    QObject::connect(&executor, &Executor::promptStarted, q, &SimulatedNode::promptStarted,
                     Qt::QueuedConnection);
    QObject::connect(&executor, &Executor::promptFinished, q, &SimulatedNode::promptFinished,
                     Qt::QueuedConnection);
    QObject::connect(&executor, &Executor::promptFinished, q, &SimulatedNode::promptEndSent,
                     Qt::DirectConnection);
}

SimulatedNodePrivate::~SimulatedNodePrivate()
{
    for (Client &client : clients) {
        client.socket->disconnect();
        client.socket->abort();
    }
    clients.clear();
    sockets.clear();
    frontend.reset();
}

void SimulatedNodePrivate::reply(const QHttpServerRequest &request, QTcpSocket *socket,
                                 Status status, const QByteArray &contentType,
                                 const QByteArray &body,
                                 const QList<QPair<QByteArray, QByteArray>> &headers)
{
    if (!socket || !socket->isOpen())
        return;
    QHttpServerResponder responder = HttpFrontend::responder(request, socket);
    responder.writeStatusLine(status);
    for (const auto &[key, value] : headers)
        responder.writeHeader(key, value);
    responder.writeHeader(QByteArrayLiteral("Content-Type"), contentType);
    responder.writeHeader(QByteArrayLiteral("Content-Length"), QByteArray::number(body.size()));
    responder.writeBody(body);
}

void SimulatedNodePrivate::replyJson(const QHttpServerRequest &request, QTcpSocket *socket,
                                     const QJsonValue &json, Status status)
{
    reply(request, socket, status, kJson, compact(json));
}

void SimulatedNodePrivate::replyEmpty(const QHttpServerRequest &request, QTcpSocket *socket,
                                      Status status)
{
    reply(request, socket, status, kOctets, QByteArray());
}

void SimulatedNodePrivate::sendMessage(const QString &type, const QJsonObject &data,
                                       const std::optional<QString> &sid)
{
    const QString text = QString::fromUtf8(
        QJsonDocument(QJsonObject{{QStringLiteral("type"), type}, {QStringLiteral("data"), data}})
            .toJson(QJsonDocument::Compact));
    if (sid) {
        if (QWebSocket *socket = sockets.value(*sid))
            socket->sendTextMessage(text);
        return;
    }
    for (QWebSocket *socket : std::as_const(sockets))
        socket->sendTextMessage(text);
}

void SimulatedNodePrivate::sendBinary(const QByteArray &frame, const std::optional<QString> &sid)
{
    if (sid) {
        if (QWebSocket *socket = sockets.value(*sid))
            socket->sendBinaryMessage(frame);
        return;
    }
    for (QWebSocket *socket : std::as_const(sockets))
        socket->sendBinaryMessage(frame);
}

void SimulatedNodePrivate::acceptWebSockets()
{
    while (frontend->hasPendingWebSocketConnections()) {
        std::unique_ptr<QWebSocket> socket = frontend->nextPendingWebSocketConnection();
        if (!socket)
            break;
        if (!up) {
            socket->abort();
            continue;
        }
        QString sid = queryItems(socket->requestUrl()).value(QStringLiteral("clientId"));
        if (sid.isEmpty())
            sid = newUuidHex();
        QWebSocket *raw = socket.get();
        // As in the recorded version: the newest socket of a client id replaces the older one
        // (which then receives nothing), and when any of them closes the client id is dropped.
        sockets.insert(sid, raw);
        clients.push_back(Client{std::move(socket), sid});
        QObject::connect(raw, &QWebSocket::disconnected, q,
                         [this, raw, sid]() { webSocketClosed(raw, sid); });
        qCDebug(lcSimNode) << "websocket connected, sid" << sid;

        sendMessage(QStringLiteral("status"),
                    QJsonObject{{QStringLiteral("status"),
                                 QJsonObject{{QStringLiteral("exec_info"),
                                              QJsonObject{{QStringLiteral("queue_remaining"),
                                                           executor.queueRemaining()}}}}},
                                {QStringLiteral("sid"), sid}},
                    sid);
        // A client reconnecting while its prompt runs is told which node executes.
        if (executor.currentClientId() == sid && !executor.lastNodeId().isEmpty()) {
            sendMessage(QStringLiteral("executing"),
                        QJsonObject{{QStringLiteral("node"), executor.lastNodeId()}}, sid);
        }
        QMetaObject::invokeMethod(
            q, [node = q, sid]() { Q_EMIT node->webSocketConnected(sid); }, Qt::QueuedConnection);
    }
}

void SimulatedNodePrivate::webSocketClosed(QWebSocket *socket, const QString &sid)
{
    sockets.remove(sid);
    for (auto it = clients.begin(); it != clients.end(); ++it) {
        if (it->socket.get() == socket) {
            it->socket->disconnect(q);
            it->socket.release()->deleteLater();
            clients.erase(it);
            break;
        }
    }
    qCDebug(lcSimNode) << "websocket closed, sid" << sid;
    QMetaObject::invokeMethod(
        q, [node = q, sid]() { Q_EMIT node->webSocketDisconnected(sid); }, Qt::QueuedConnection);
}

QJsonObject SimulatedNodePrivate::systemStats() const
{
    const qint64 ram = 16LL * 1024 * 1024 * 1024;
    const qint64 vram = 8LL * 1024 * 1024 * 1024;
    QJsonArray argv{QStringLiteral("comfy-simnode"),
                    QStringLiteral("--listen"),
                    address.toString(),
                    QStringLiteral("--port"),
                    int(boundPort),
                    QStringLiteral("--root"),
                    catalog.rootDir()};
    return QJsonObject{
        {QStringLiteral("system"),
         QJsonObject{{QStringLiteral("os"), QStringLiteral("posix")},
                     {QStringLiteral("ram_total"), ram},
                     {QStringLiteral("ram_free"), ram - 1024LL * 1024 * 1024},
                     {QStringLiteral("comfyui_version"), QStringLiteral("simulated-0.3.10")},
                     {QStringLiteral("python_version"), QStringLiteral("simulated")},
                     {QStringLiteral("pytorch_version"), QStringLiteral("simulated")},
                     {QStringLiteral("embedded_python"), false},
                     {QStringLiteral("argv"), argv}}},
        {QStringLiteral("devices"),
         QJsonArray{QJsonObject{{QStringLiteral("name"), QStringLiteral("simulated")},
                                {QStringLiteral("type"), QStringLiteral("cpu")},
                                {QStringLiteral("index"), QJsonValue::Null},
                                {QStringLiteral("vram_total"), vram},
                                {QStringLiteral("vram_free"), vram},
                                {QStringLiteral("torch_vram_total"), vram},
                                {QStringLiteral("torch_vram_free"), vram}}}}};
}

void SimulatedNodePrivate::handle(const QHttpServerRequest &request, QTcpSocket *socket)
{
    using Method = QHttpServerRequest::Method;
    QString path = request.url().path();
    if (path.startsWith(QLatin1String("/api/")))
        path = path.mid(4); // every route is also served under /api
    const Method method = request.method();
    const bool get = method == Method::Get || method == Method::Head;
    const bool post = method == Method::Post;
    qCDebug(lcSimNode) << request.method() << request.url().toString();

    auto wrongMethod = [&](const QByteArray &allowed) {
        reply(request, socket, Status::MethodNotAllowed, kText,
              QByteArrayLiteral("405: Method Not Allowed"), {{"Allow", allowed}});
    };

    if (path == QLatin1String("/")) {
        if (!get)
            return wrongMethod("GET,HEAD");
        return reply(request, socket, Status::Ok, QByteArrayLiteral("text/html; charset=utf-8"),
                     QByteArrayLiteral("<!doctype html><title>Simulated ComfyUI node</title>"
                                       "<p>This is a SIMULATED ComfyUI node (comfy-router "
                                       "simnode), not a real ComfyUI.</p>"));
    }
    if (path == QLatin1String("/ws")) {
        // A plain GET without the websocket upgrade, as aiohttp answers it.
        return reply(request, socket, Status::BadRequest, kText,
                     QByteArrayLiteral("400: Bad Request"));
    }
    if (path == QLatin1String("/prompt")) {
        if (post)
            return postPrompt(request, socket);
        if (get)
            return replyJson(request, socket,
                             QJsonObject{{QStringLiteral("exec_info"),
                                          QJsonObject{{QStringLiteral("queue_remaining"),
                                                       executor.queueRemaining()}}}});
        return wrongMethod("GET,HEAD,POST");
    }
    if (path == QLatin1String("/queue")) {
        if (post)
            return postQueue(request, socket);
        if (get)
            return replyJson(request, socket, executor.queueJson());
        return wrongMethod("GET,HEAD,POST");
    }
    if (path == QLatin1String("/history")) {
        if (post)
            return postHistory(request, socket);
        if (!get)
            return wrongMethod("GET,HEAD,POST");
        const QHash<QString, QString> query = queryItems(request.url());
        int maxItems = -1;
        if (query.contains(QStringLiteral("max_items"))) {
            bool ok = false;
            maxItems = query.value(QStringLiteral("max_items")).trimmed().toInt(&ok);
            if (!ok)
                return reply(request, socket, Status::InternalServerError, kText,
                             QByteArrayLiteral("500 Internal Server Error\n\nServer got itself "
                                               "in trouble"));
        }
        return replyJson(request, socket, executor.historyJson(maxItems, -1));
    }
    if (path.startsWith(QLatin1String("/history/"))) {
        if (!get)
            return wrongMethod("GET,HEAD");
        return replyJson(request, socket,
                         executor.historyJson(path.mid(int(qstrlen("/history/")))));
    }
    if (path == QLatin1String("/interrupt")) {
        if (!post)
            return wrongMethod("POST");
        executor.interrupt();
        return replyEmpty(request, socket);
    }
    if (path == QLatin1String("/free")) {
        if (!post)
            return wrongMethod("POST");
        return replyEmpty(request, socket);
    }
    if (path == QLatin1String("/system_stats")) {
        if (!get)
            return wrongMethod("GET,HEAD");
        return replyJson(request, socket, systemStats());
    }
    if (path == QLatin1String("/object_info")) {
        if (!get)
            return wrongMethod("GET,HEAD");
        return replyJson(request, socket, catalog.objectInfo());
    }
    if (path.startsWith(QLatin1String("/object_info/"))) {
        if (!get)
            return wrongMethod("GET,HEAD");
        const QString name = path.mid(int(qstrlen("/object_info/")));
        QJsonObject out;
        if (catalog.nodeClass(name))
            out.insert(name, catalog.objectInfo(name));
        return replyJson(request, socket, out);
    }
    if (path == QLatin1String("/embeddings") || path == QLatin1String("/extensions")) {
        if (!get)
            return wrongMethod("GET,HEAD");
        QJsonArray list;
        if (path == QLatin1String("/embeddings")) {
            for (const QString &file :
                 catalog.modelFiles(QStringLiteral("embeddings")).value_or(QStringList()))
                list.append(QFileInfo(file).completeBaseName());
        }
        return replyJson(request, socket, list);
    }
    if (path == QLatin1String("/models")) {
        if (!get)
            return wrongMethod("GET,HEAD");
        return replyJson(request, socket, QJsonArray::fromStringList(Catalog::modelFolderNames()));
    }
    if (path.startsWith(QLatin1String("/models/"))) {
        if (!get)
            return wrongMethod("GET,HEAD");
        const auto files = catalog.modelFiles(path.mid(int(qstrlen("/models/"))));
        if (!files)
            return replyEmpty(request, socket, Status::NotFound);
        return replyJson(request, socket, QJsonArray::fromStringList(*files));
    }
    if (path == QLatin1String("/view")) {
        if (!get)
            return wrongMethod("GET,HEAD");
        return getView(request, socket);
    }
    if (path == QLatin1String("/upload/image")) {
        if (!post)
            return wrongMethod("POST");
        return uploadImage(request, socket);
    }
    reply(request, socket, Status::NotFound, kText, QByteArrayLiteral("404: Not Found"));
}

void SimulatedNodePrivate::postPrompt(const QHttpServerRequest &request, QTcpSocket *socket)
{
    Q_EMIT q->promptRequestArrived();
    const QByteArray body = request.body();
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(body, &error);
    if (error.error != QJsonParseError::NoError) {
        return reply(
            request, socket, Status::InternalServerError, kText,
            QByteArrayLiteral("500 Internal Server Error\n\nServer got itself in trouble"));
    }
    const QJsonObject json = doc.object();

    double promptNumber = number;
    if (json.contains(QLatin1String("number"))) {
        promptNumber = json.value(QLatin1String("number")).toDouble();
    } else {
        if (json.contains(QLatin1String("front")) && json.value(QLatin1String("front")).toBool())
            promptNumber = -promptNumber;
        number += 1;
    }

    if (!json.contains(QLatin1String("prompt"))) {
        return replyJson(request, socket,
                         QJsonObject{{QStringLiteral("error"), QStringLiteral("no prompt")},
                                     {QStringLiteral("node_errors"), QJsonArray()}},
                         Status::BadRequest);
    }
    const QJsonValue promptValue = json.value(QLatin1String("prompt"));
    if (!promptValue.isObject()) {
        return reply(
            request, socket, Status::InternalServerError, kText,
            QByteArrayLiteral("500 Internal Server Error\n\nServer got itself in trouble"));
    }
    const QJsonObject prompt = promptValue.toObject();

    // The order of the nodes and of their inputs, as sent.
    py::KeyTree tree;
    QStringList nodeOrder;
    QHash<QString, QStringList> inputOrder;
    if (py::scanKeyOrder(body, &tree)) {
        if (const py::KeyTree *nodes = tree.child(QStringLiteral("prompt"))) {
            nodeOrder = nodes->keys;
            for (const QString &id : std::as_const(nodeOrder)) {
                const py::KeyTree *node = nodes->child(id);
                const py::KeyTree *inputs = node ? node->child(QStringLiteral("inputs")) : nullptr;
                if (inputs)
                    inputOrder.insert(id, inputs->keys);
            }
        }
    }
    for (const QString &id : prompt.keys()) {
        if (!nodeOrder.contains(id))
            nodeOrder << id;
    }

    const ValidationResult validation = validatePrompt(prompt, nodeOrder, catalog);
    if (!validation.ok) {
        qCInfo(lcSimNode) << "invalid prompt:" << compact(validation.error);
        return replyJson(request, socket,
                         QJsonObject{{QStringLiteral("error"), validation.error},
                                     {QStringLiteral("node_errors"), validation.nodeErrors}},
                         Status::BadRequest);
    }

    QueueItem item;
    item.number = promptNumber;
    item.promptId = QUuid::createUuid().toString(QUuid::WithoutBraces);
    item.prompt = validation.prompt;
    item.nodeOrder = nodeOrder;
    item.inputOrder = inputOrder;
    item.extraData = json.value(QLatin1String("extra_data")).toObject();
    QString clientId;
    if (json.contains(QLatin1String("client_id"))) {
        const QJsonValue client = json.value(QLatin1String("client_id"));
        item.extraData.insert(QStringLiteral("client_id"), client);
        clientId = py::str(client);
    }
    item.outputs = validation.goodOutputs;
    const QString promptId = item.promptId;
    ++promptsReceived;
    executor.enqueue(std::move(item));
    const QJsonObject answer{{QStringLiteral("prompt_id"), promptId},
                             {QStringLiteral("number"), promptNumber == qint64(promptNumber)
                                                            ? QJsonValue(qint64(promptNumber))
                                                            : QJsonValue(promptNumber)},
                             {QStringLiteral("node_errors"), validation.nodeErrors}};
    if (promptAnswerDelayMs > 0) {
        // Written by hand: a QHttpServerResponder must not outlive its request in Qt 6.4.
        const QByteArray json = compact(answer);
        QTimer::singleShot(
            promptAnswerDelayMs, socket, [target = QPointer<QTcpSocket>(socket), json] {
                if (target && target->isOpen())
                    target->write("HTTP/1.1 200 OK\r\nContent-Type: " + kJson +
                                  "\r\nContent-Length: " + QByteArray::number(json.size()) +
                                  "\r\n\r\n" + json);
            });
    } else {
        replyJson(request, socket, answer);
    }
    QMetaObject::invokeMethod(
        q, [node = q, promptId, clientId]() { Q_EMIT node->promptReceived(promptId, clientId); },
        Qt::QueuedConnection);
    executor.startIfIdle();
}

void SimulatedNodePrivate::postQueue(const QHttpServerRequest &request, QTcpSocket *socket)
{
    clearOrDelete(
        request, socket, [this] { executor.clearQueue(); },
        [this](const QStringList &ids) { executor.deleteFromQueue(ids); });
}

void SimulatedNodePrivate::postHistory(const QHttpServerRequest &request, QTcpSocket *socket)
{
    clearOrDelete(
        request, socket, [this] { executor.clearHistory(); },
        [this](const QStringList &ids) { executor.deleteHistory(ids); });
}

// POST /queue and POST /history take the same body: {"clear": true} and/or {"delete": [ids]}.
void SimulatedNodePrivate::clearOrDelete(const QHttpServerRequest &request, QTcpSocket *socket,
                                         const std::function<void()> &clear,
                                         const std::function<void(const QStringList &)> &remove)
{
    QJsonParseError error;
    const QJsonObject json = QJsonDocument::fromJson(request.body(), &error).object();
    if (error.error != QJsonParseError::NoError) {
        return reply(
            request, socket, Status::InternalServerError, kText,
            QByteArrayLiteral("500 Internal Server Error\n\nServer got itself in trouble"));
    }
    if (json.contains(QLatin1String("clear")) && json.value(QLatin1String("clear")).toBool())
        clear();
    if (json.contains(QLatin1String("delete"))) {
        QStringList ids;
        const QJsonArray list = json.value(QLatin1String("delete")).toArray();
        for (const QJsonValue &id : list)
            ids << id.toString();
        remove(ids);
    }
    replyEmpty(request, socket);
}

void SimulatedNodePrivate::getView(const QHttpServerRequest &request, QTcpSocket *socket)
{
    const QHash<QString, QString> query = queryItems(request.url());
    if (!query.contains(QStringLiteral("filename")))
        return replyEmpty(request, socket, Status::NotFound);
    QString filename = query.value(QStringLiteral("filename"));
    QString dir;
    // "name.png [output]" names their folder.
    static const struct {
        const char *suffix;
        const char *type;
    } annotations[] = {{" [output]", "output"}, {" [input]", "input"}, {" [temp]", "temp"}};
    for (const auto &annotation : annotations) {
        if (filename.endsWith(QLatin1String(annotation.suffix))) {
            filename.chop(int(qstrlen(annotation.suffix)));
            dir = catalog.directoryByType(QLatin1String(annotation.type));
            break;
        }
    }
    if (filename.isEmpty() || filename.startsWith(QLatin1Char('/')) ||
        filename.contains(QLatin1String("..")))
        return replyEmpty(request, socket, Status::BadRequest);
    if (dir.isEmpty())
        dir =
            catalog.directoryByType(query.value(QStringLiteral("type"), QStringLiteral("output")));
    if (dir.isEmpty())
        return replyEmpty(request, socket, Status::BadRequest);
    if (query.contains(QStringLiteral("subfolder"))) {
        const QString full =
            QDir::cleanPath(dir + QLatin1Char('/') + query.value(QStringLiteral("subfolder")));
        if (full != dir && !full.startsWith(dir + QLatin1Char('/')))
            return replyEmpty(request, socket, Status::Forbidden);
        dir = full;
    }
    const qsizetype slash = filename.lastIndexOf(QLatin1Char('/'));
    const QString base = slash >= 0 ? filename.mid(slash + 1) : filename;
    const QString path = dir + QLatin1Char('/') + base;
    QFile file(path);
    if (!QFileInfo(path).isFile() || !file.open(QIODevice::ReadOnly))
        return replyEmpty(request, socket, Status::NotFound);
    const QByteArray bytes = file.readAll();
    QByteArray contentType =
        QMimeDatabase().mimeTypeForFile(base, QMimeDatabase::MatchExtension).name().toLatin1();
    if (contentType.isEmpty() || contentType == "application/octet-stream" ||
        contentType.startsWith("text/") || contentType == "application/xhtml+xml")
        contentType = kOctets;
    reply(request, socket, Status::Ok, contentType, bytes,
          {{QByteArrayLiteral("Content-Disposition"),
            QByteArrayLiteral("filename=\"") + base.toUtf8() + QByteArrayLiteral("\"")}});
}

void SimulatedNodePrivate::uploadImage(const QHttpServerRequest &request, QTcpSocket *socket)
{
    const auto parts =
        parseMultipart(request.value(QByteArrayLiteral("content-type")), request.body());
    if (!parts)
        return replyEmpty(request, socket, Status::BadRequest);
    const FormPart *image = nullptr;
    QString overwrite;
    QString type;
    QString subfolder;
    bool overwriteGiven = false;
    for (const FormPart &part : *parts) {
        if (part.name == QLatin1String("image") && part.hasFilename && !image)
            image = &part;
        else if (part.name == QLatin1String("overwrite")) {
            overwrite = QString::fromUtf8(part.data);
            overwriteGiven = true;
        } else if (part.name == QLatin1String("type"))
            type = QString::fromUtf8(part.data);
        else if (part.name == QLatin1String("subfolder"))
            subfolder = QString::fromUtf8(part.data);
    }
    if (!image || image->filename.isEmpty())
        return replyEmpty(request, socket, Status::BadRequest);
    if (type.isEmpty())
        type = QStringLiteral("input");
    QString uploadDir = catalog.directoryByType(type);
    if (uploadDir.isEmpty()) {
        type = QStringLiteral("input");
        uploadDir = catalog.inputDir();
    }
    const QString folder = QDir::cleanPath(uploadDir + QLatin1Char('/') + subfolder);
    QString filename = image->filename;
    QString path = QDir::cleanPath(folder + QLatin1Char('/') + filename);
    if (!path.startsWith(uploadDir + QLatin1Char('/')))
        return replyEmpty(request, socket, Status::BadRequest);
    QDir().mkpath(folder);

    bool duplicate = false;
    if (!(overwriteGiven &&
          (overwrite == QLatin1String("true") || overwrite == QLatin1String("1")))) {
        const QFileInfo info(filename);
        const QString stem = filename.left(
            filename.size() - (info.suffix().isEmpty() ? 0 : info.suffix().size() + 1));
        const QString suffix =
            info.suffix().isEmpty() ? QString() : QLatin1Char('.') + info.suffix();
        const QByteArray hash = QCryptographicHash::hash(image->data, QCryptographicHash::Sha256);
        for (int i = 1; QFileInfo::exists(path); ++i) {
            QFile existing(path);
            if (existing.open(QIODevice::ReadOnly) &&
                QCryptographicHash::hash(existing.readAll(), QCryptographicHash::Sha256) == hash) {
                duplicate = true;
                break;
            }
            filename = QStringLiteral("%1 (%2)%3").arg(stem).arg(i).arg(suffix);
            path = folder + QLatin1Char('/') + filename;
        }
    }
    if (!duplicate) {
        QSaveFile out(path);
        if (!out.open(QIODevice::WriteOnly) || out.write(image->data) < 0 || !out.commit())
            return reply(request, socket, Status::InternalServerError, kText,
                         QByteArrayLiteral("500 Internal Server Error\n\nServer got itself in "
                                           "trouble"));
    }
    replyJson(request, socket,
              QJsonObject{{QStringLiteral("name"), filename},
                          {QStringLiteral("subfolder"), subfolder},
                          {QStringLiteral("type"), type}});
}

// ---- SimulatedNode ----------------------------------------------------------------------

SimulatedNode::SimulatedNode(const QString &rootDir, QObject *parent)
    : QObject(parent)
    , d(std::make_unique<SimulatedNodePrivate>(this, rootDir))
{
}

SimulatedNode::~SimulatedNode()
{
    d.reset();
}

quint16 SimulatedNode::listen(const QHostAddress &address, quint16 port)
{
    if (d->tcpServer && d->tcpServer->isListening())
        return d->boundPort;
    auto server = std::make_unique<TrackingTcpServer>();
    if (!server->listen(address, port)) {
        qCWarning(lcSimNode) << "cannot listen on" << address << port << server->errorString();
        return 0;
    }
    d->tcpServer = server.get();
    d->frontend->bind(server.release()); // the frontend becomes its parent
    d->address = address;
    d->boundPort = d->tcpServer->serverPort();
    d->up = true;
    qCInfo(lcSimNode) << "simulated ComfyUI node listening on" << url().toString();
    return d->boundPort;
}

QUrl SimulatedNode::url() const
{
    QString host = QStringLiteral("127.0.0.1");
    if (d->address != QHostAddress::LocalHost && d->address != QHostAddress::Any &&
        d->address != QHostAddress::AnyIPv4 && d->address != QHostAddress::AnyIPv6 &&
        !d->address.isNull()) {
        host = d->address.protocol() == QAbstractSocket::IPv6Protocol
                   ? QLatin1Char('[') + d->address.toString() + QLatin1Char(']')
                   : d->address.toString();
    }
    return QUrl(QStringLiteral("http://%1:%2/").arg(host).arg(d->boundPort));
}

quint16 SimulatedNode::port() const
{
    return d->boundPort;
}

QString SimulatedNode::rootDir() const
{
    return d->catalog.rootDir();
}

void SimulatedNode::setStepDelayMs(int ms)
{
    d->executor.setStepDelayMs(ms);
}

int SimulatedNode::stepDelayMs() const
{
    return d->executor.stepDelayMs();
}

void SimulatedNode::setPromptAnswerDelayMs(int ms)
{
    d->promptAnswerDelayMs = ms;
}

void SimulatedNode::setModelLoadDelayMs(int ms)
{
    d->executor.setModelLoadDelayMs(ms);
}

int SimulatedNode::modelLoadDelayMs() const
{
    return d->executor.modelLoadDelayMs();
}

void SimulatedNode::setFailNextPrompts(int count, const QString &exceptionMessage)
{
    d->executor.setFailNextPrompts(count, exceptionMessage);
}

void SimulatedNode::setHang(bool hang)
{
    d->executor.setHang(hang);
}

void SimulatedNode::dropWebSockets()
{
    std::vector<QWebSocket *> sockets;
    for (const auto &client : d->clients)
        sockets.push_back(client.socket.get());
    for (QWebSocket *socket : sockets)
        socket->abort();
}

void SimulatedNode::goDown()
{
    if (!d->up)
        return;
    d->up = false;
    if (d->tcpServer) {
        d->tcpServer->close();
        d->tcpServer->abortConnections();
    }
    dropWebSockets();
    qCInfo(lcSimNode) << "simulated node on port" << d->boundPort << "went down";
}

bool SimulatedNode::comeUp()
{
    if (d->up)
        return true;
    if (!d->tcpServer || d->boundPort == 0)
        return false;
    if (!d->tcpServer->listen(d->address, d->boundPort)) {
        qCWarning(lcSimNode) << "cannot listen again on port" << d->boundPort
                             << d->tcpServer->errorString();
        return false;
    }
    d->up = true;
    qCInfo(lcSimNode) << "simulated node on port" << d->boundPort << "is up again";
    return true;
}

bool SimulatedNode::isUp() const
{
    return d->up;
}

void SimulatedNode::resetState()
{
    d->executor.reset();
    d->number = 0;
}

int SimulatedNode::promptsReceived() const
{
    return d->promptsReceived;
}

QStringList SimulatedNode::executedPromptIds() const
{
    return d->executor.executedPromptIds();
}

QString SimulatedNode::runningPromptId() const
{
    return d->executor.runningPromptId();
}

QStringList SimulatedNode::pendingPromptIds() const
{
    return d->executor.pendingPromptIds();
}

QString SimulatedNode::loadedModel() const
{
    return d->executor.loadedModel();
}

int SimulatedNode::modelLoads() const
{
    return d->executor.modelLoads();
}

QStringList SimulatedNode::connectedClientIds() const
{
    QStringList ids;
    for (const auto &client : d->clients)
        ids << client.sid;
    return ids;
}

} // namespace simnode
