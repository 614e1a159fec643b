#include "simnodetestkit.h"

#include "simulatednode.h"

#include <QBuffer>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QImageReader>
#include <QJsonDocument>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QRegularExpression>
#include <QSet>
#include <QSignalSpy>
#include <QtEndian>

#include <algorithm>

namespace simtest {

namespace {

const QRegularExpression &uuidPattern()
{
    static const QRegularExpression re(
        QStringLiteral("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"));
    return re;
}

const QRegularExpression &tempNamePattern()
{
    static const QRegularExpression re(QStringLiteral("ComfyUI_temp_[a-z]{5}_"));
    return re;
}

QString shortened(const QString &text, int max = 1500)
{
    return text.size() > max ? text.left(max) + QStringLiteral("...") : text;
}

} // namespace

QString dataDir()
{
    return QStringLiteral(SIMNODE_TEST_DATA);
}

const simnode::py::KeyTree *Transcript::eventTree(int index) const
{
    const simnode::py::KeyTree *events = tree.child(QStringLiteral("events"));
    return events ? events->child(QString::number(index)) : nullptr;
}

QStringList Transcript::wsSequence() const
{
    QStringList out;
    for (const QJsonValue &v : json.value(QLatin1String("ws_sequence")).toArray())
        out << v.toString();
    return out;
}

QStringList Transcript::otherSequence(const QString &conn) const
{
    QStringList out;
    const QJsonArray list =
        json.value(QLatin1String("ws_sequence_other_connections")).toObject().value(conn).toArray();
    for (const QJsonValue &v : list)
        out << v.toString();
    return out;
}

Transcript loadTranscript(const QString &name)
{
    Transcript t;
    t.name = name;
    QFile file(dataDir() + QLatin1Char('/') + name + QStringLiteral(".json"));
    if (!file.open(QIODevice::ReadOnly))
        return t;
    const QByteArray bytes = file.readAll();
    t.json = QJsonDocument::fromJson(bytes).object();
    simnode::py::scanKeyOrder(bytes, &t.tree);
    return t;
}

QByteArray orderedJson(const QJsonValue &value, const simnode::py::KeyTree *order)
{
    if (value.isObject()) {
        const QJsonObject object = value.toObject();
        QStringList keys = order ? order->keys : QStringList();
        for (const QString &key : object.keys()) {
            if (!keys.contains(key))
                keys << key;
        }
        QByteArray out = "{";
        bool first = true;
        for (const QString &key : std::as_const(keys)) {
            if (!object.contains(key))
                continue;
            if (!first)
                out += ", ";
            first = false;
            out += QJsonDocument(QJsonArray{key}).toJson(QJsonDocument::Compact).mid(1).chopped(1);
            out += ": ";
            out += orderedJson(object.value(key), order ? order->child(key) : nullptr);
        }
        return out + "}";
    }
    if (value.isArray()) {
        const QJsonArray array = value.toArray();
        QByteArray out = "[";
        for (qsizetype i = 0; i < array.size(); ++i) {
            if (i)
                out += ", ";
            out += orderedJson(array.at(i), order ? order->child(QString::number(i)) : nullptr);
        }
        return out + "]";
    }
    return QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact).mid(1).chopped(1);
}

QString summarize(const QJsonObject &message)
{
    const QString type = message.value(QLatin1String("type")).toString();
    const QJsonObject data = message.value(QLatin1String("data")).toObject();
    auto node = [&data]() {
        const QJsonValue n = data.value(QLatin1String("node"));
        return n.isString() ? QStringLiteral("\"%1\"").arg(n.toString()) : QStringLiteral("null");
    };
    if (type == QLatin1String("status")) {
        const int remaining = data.value(QLatin1String("status"))
                                  .toObject()
                                  .value(QLatin1String("exec_info"))
                                  .toObject()
                                  .value(QLatin1String("queue_remaining"))
                                  .toInt(-1);
        if (data.contains(QLatin1String("sid")))
            return QStringLiteral("status(queue_remaining=%1, sid=%2)")
                .arg(remaining)
                .arg(data.value(QLatin1String("sid")).toString());
        return QStringLiteral("status(queue_remaining=%1)").arg(remaining);
    }
    if (type == QLatin1String("execution_cached")) {
        QStringList nodes;
        for (const QJsonValue &n : data.value(QLatin1String("nodes")).toArray())
            nodes << QStringLiteral("\"%1\"").arg(n.toString());
        return QStringLiteral("execution_cached(nodes=[%1])").arg(nodes.join(QStringLiteral(", ")));
    }
    if (type == QLatin1String("executing") || type == QLatin1String("executed"))
        return QStringLiteral("%1(node=%2)").arg(type, node());
    if (type == QLatin1String("progress"))
        return QStringLiteral("progress(node=%1 %2/%3)")
            .arg(node())
            .arg(data.value(QLatin1String("value")).toInt())
            .arg(data.value(QLatin1String("max")).toInt());
    return type;
}

QString summarizeBinary(const QByteArray &frame)
{
    const FrameInfo info = frameInfo(frame);
    return QStringLiteral("binary(event_type=%1, image_type=%2)")
        .arg(info.eventType)
        .arg(info.imageType);
}

QByteArray imageFormat(const QByteArray &bytes)
{
    if (bytes.startsWith("\x89PNG\r\n\x1a\n"))
        return "PNG";
    if (bytes.startsWith("\xff\xd8\xff"))
        return "JPEG";
    return "?";
}

FrameInfo frameInfo(const QByteArray &frame)
{
    FrameInfo info;
    if (frame.size() < 8)
        return info;
    info.eventType = qFromBigEndian<quint32>(frame.constData());
    info.imageType = qFromBigEndian<quint32>(frame.constData() + 4);
    const QByteArray image = frame.mid(8);
    info.format = imageFormat(image);
    info.size = QImage::fromData(image).size();
    return info;
}

// ---- WsClient -----------------------------------------------------------------------------

WsClient::WsClient(QObject *parent)
    : QObject(parent)
{
    connect(&socket, &QWebSocket::textMessageReceived, this, [this](const QString &text) {
        Message m;
        m.json = QJsonDocument::fromJson(text.toUtf8()).object();
        m.summary = summarize(m.json);
        messages << m;
    });
    connect(&socket, &QWebSocket::binaryMessageReceived, this, [this](const QByteArray &bytes) {
        Message m;
        m.binary = true;
        m.bytes = bytes;
        m.summary = summarizeBinary(bytes);
        messages << m;
    });
}

WsClient::~WsClient()
{
    socket.disconnect(this);
    socket.abort();
}

bool WsClient::open(const QUrl &url, int timeoutMs)
{
    QSignalSpy connected(&socket, &QWebSocket::connected);
    QSignalSpy disconnected(&socket, &QWebSocket::disconnected);
    socket.open(url);
    QElapsedTimer timer;
    timer.start();
    while (connected.isEmpty() && disconnected.isEmpty() && timer.elapsed() < timeoutMs)
        connected.wait(50);
    return !connected.isEmpty();
}

bool WsClient::close(int timeoutMs)
{
    if (socket.state() == QAbstractSocket::UnconnectedState)
        return true;
    QSignalSpy disconnected(&socket, &QWebSocket::disconnected);
    socket.close();
    return !disconnected.isEmpty() || disconnected.wait(timeoutMs);
}

bool WsClient::isConnected() const
{
    return socket.state() == QAbstractSocket::ConnectedState;
}

bool WsClient::waitForCount(qsizetype count, int timeoutMs)
{
    QElapsedTimer timer;
    timer.start();
    while (messages.size() < count && timer.elapsed() < timeoutMs) {
        QSignalSpy text(&socket, &QWebSocket::textMessageReceived);
        QSignalSpy binary(&socket, &QWebSocket::binaryMessageReceived);
        if (messages.size() >= count)
            break;
        text.wait(20);
    }
    return messages.size() >= count;
}

qsizetype WsClient::waitForType(const QString &type, qsizetype from, int timeoutMs)
{
    QElapsedTimer timer;
    timer.start();
    qsizetype index = from;
    while (true) {
        for (; index < messages.size(); ++index) {
            if (!messages.at(index).binary &&
                messages.at(index).json.value(QLatin1String("type")).toString() == type)
                return index;
        }
        if (timer.elapsed() >= timeoutMs)
            return -1;
        waitForCount(messages.size() + 1, 50);
    }
}

QStringList WsClient::summaries() const
{
    QStringList out;
    for (const Message &m : messages)
        out << m.summary;
    return out;
}

// ---- HTTP ---------------------------------------------------------------------------------

QJsonValue HttpResponse::json() const
{
    const QJsonDocument doc = QJsonDocument::fromJson(body);
    if (doc.isObject())
        return doc.object();
    if (doc.isArray())
        return doc.array();
    return QJsonValue(QJsonValue::Undefined);
}

Http::Http(const QUrl &base)
    : m_base(base)
{
}

HttpResponse Http::request(const QByteArray &method, const QString &pathAndQuery,
                           const QByteArray &body, const QByteArray &contentType, int timeoutMs)
{
    QUrl url = m_base;
    const qsizetype q = pathAndQuery.indexOf(QLatin1Char('?'));
    url.setPath(q < 0 ? pathAndQuery : pathAndQuery.left(q));
    if (q >= 0)
        url.setQuery(pathAndQuery.mid(q + 1), QUrl::TolerantMode);
    QNetworkRequest request(url);
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute,
                         QNetworkRequest::ManualRedirectPolicy);
    if (!contentType.isEmpty())
        request.setHeader(QNetworkRequest::ContentTypeHeader, contentType);
    QNetworkReply *reply = nullptr;
    if (method == "GET")
        reply = m_nam.get(request);
    else if (method == "POST")
        reply = m_nam.post(request, body);
    else
        reply = m_nam.sendCustomRequest(request, method, body);
    QSignalSpy finished(reply, &QNetworkReply::finished);
    HttpResponse response;
    if (!reply->isFinished() && !finished.wait(timeoutMs)) {
        reply->abort();
        response.errorString = QStringLiteral("timeout");
        reply->deleteLater();
        return response;
    }
    response.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    response.ok = response.status != 0;
    response.body = reply->readAll();
    for (const auto &[name, value] : reply->rawHeaderPairs())
        response.headers.insert(name.toLower(), value);
    if (reply->error() != QNetworkReply::NoError)
        response.errorString = reply->errorString();
    reply->deleteLater();
    return response;
}

HttpResponse Http::postJson(const QString &path, const QJsonObject &body)
{
    return request("POST", path, QJsonDocument(body).toJson(QJsonDocument::Compact),
                   "application/json");
}

QByteArray multipartBody(const QByteArray &boundary, const QString &fieldName,
                         const QString &filename, const QByteArray &data,
                         const QList<QPair<QString, QString>> &fields)
{
    QByteArray body;
    for (const auto &[name, value] : fields) {
        body += "--" + boundary + "\r\n";
        body += "Content-Disposition: form-data; name=\"" + name.toUtf8() + "\"\r\n\r\n";
        body += value.toUtf8() + "\r\n";
    }
    body += "--" + boundary + "\r\n";
    body += "Content-Disposition: form-data; name=\"" + fieldName.toUtf8() + "\"; filename=\"" +
            filename.toUtf8() + "\"\r\n";
    body += "Content-Type: image/png\r\n\r\n";
    body += data + "\r\n";
    body += "--" + boundary + "--\r\n";
    return body;
}

void writePng(const QString &path, int width, int height, quint32 seed)
{
    QImage image(width, height, QImage::Format_RGB32);
    for (int y = 0; y < height; ++y) {
        for (int x = 0; x < width; ++x)
            image.setPixel(x, y,
                           qRgb(int((x * 255 / std::max(1, width - 1) + seed * 37) % 256),
                                int((y * 255 / std::max(1, height - 1) + seed * 11) % 256),
                                int((seed * 91) % 256)));
    }
    QDir().mkpath(QFileInfo(path).absolutePath());
    image.save(path, "PNG");
}

void prepareInputs(const QString &root, const Transcript &transcript, const QStringList &skip)
{
    // Sizes seen in the recordings (outputs of ImageInvert have the input's size).
    static const QHash<QString, QSize> sizes = {
        {QStringLiteral("sample_in_a.png"), QSize(24, 16)},
        {QStringLiteral("sample_in_b.png"), QSize(24, 16)},
        {QStringLiteral("sample_in_c.png"), QSize(16, 12)},
        {QStringLiteral("sample_in_c2.png"), QSize(8, 6)},
        {QStringLiteral("sample_linked_input.png"), QSize(20, 10)},
        {QStringLiteral("sample_uploaded.png"), QSize(8, 8)},
    };
    const QString text =
        QString::fromUtf8(QJsonDocument(transcript.json).toJson(QJsonDocument::Compact));
    static const QRegularExpression names(QStringLiteral("sample_[a-z0-9_]+\\.png"));
    QSet<QString> files;
    for (auto it = names.globalMatch(text); it.hasNext();) {
        const QString name = it.next().captured();
        if (name.startsWith(QLatin1String("sample_in_")) ||
            name == QLatin1String("sample_not_an_image.png") ||
            name == QLatin1String("sample_uploaded.png") ||
            name == QLatin1String("sample_linked_input.png"))
            files.insert(name);
    }
    quint32 seed = 1;
    QStringList sorted(files.begin(), files.end());
    sorted.sort();
    for (const QString &name : std::as_const(sorted)) {
        if (skip.contains(name))
            continue;
        const QString path = root + QStringLiteral("/input/") + name;
        if (name == QLatin1String("sample_not_an_image.png")) {
            QFile file(path);
            QDir().mkpath(QFileInfo(path).absolutePath());
            if (file.open(QIODevice::WriteOnly))
                file.write("this is not an image\n");
            continue;
        }
        const QSize size = sizes.value(name, QSize(24, 16));
        writePng(path, size.width(), size.height(), seed++);
    }
}

// ---- normalization ------------------------------------------------------------------------

QString Normalizer::text(const QString &input) const
{
    QString out = input;
    if (!m_root.isEmpty())
        out.replace(m_root, QStringLiteral("/srv/comfyui"));
    out.replace(tempNamePattern(), QStringLiteral("ComfyUI_temp_RANDOM_"));
    QString result;
    qsizetype last = 0;
    for (auto it = uuidPattern().globalMatch(out); it.hasNext();) {
        const auto match = it.next();
        result += out.mid(last, match.capturedStart() - last);
        const auto id = m_ids.constFind(match.captured());
        result += id == m_ids.constEnd() ? QStringLiteral("<uuid>")
                                         : QStringLiteral("<prompt%1>").arg(id.value());
        last = match.capturedEnd();
    }
    result += out.mid(last);
    static const QRegularExpression hex32(QStringLiteral("^[0-9a-f]{32}$"));
    if (hex32.match(result).hasMatch())
        return QStringLiteral("<hex32>");
    return result;
}

QJsonValue Normalizer::operator()(const QJsonValue &value, const QString &key) const
{
    if (key == QLatin1String("timestamp") && value.isDouble())
        return 0;
    if (key == QLatin1String("traceback") && value.isArray())
        return QStringLiteral("<traceback>");
    if (value.isString())
        return text(value.toString());
    if (value.isObject()) {
        const QJsonObject in = value.toObject();
        QJsonObject out;
        for (auto it = in.begin(); it != in.end(); ++it)
            out.insert(text(it.key()), (*this)(it.value(), it.key()));
        return out;
    }
    if (value.isArray()) {
        const QJsonArray in = value.toArray();
        QJsonArray out;
        for (const QJsonValue &item : in)
            out.append((*this)(item, QString()));
        // Queue and history items: [number, prompt_id, prompt, extra_data, outputs]
        if (out.size() == 5 && out.at(0).isDouble() && out.at(1).isString() &&
            out.at(1).toString().startsWith(QLatin1String("<prompt")))
            out.replace(0, 0);
        // Sets in ComfyUI: their order is random.
        if (key == QLatin1String("current_outputs") || key == QLatin1String("executed") ||
            key == QLatin1String("errors") || key == QLatin1String("dependent_outputs")) {
            QList<QJsonValue> items(out.begin(), out.end());
            std::sort(items.begin(), items.end(), [](const QJsonValue &a, const QJsonValue &b) {
                return jsonText(a) < jsonText(b);
            });
            out = QJsonArray();
            for (const QJsonValue &item : items)
                out.append(item);
        }
        return out;
    }
    return value;
}

QString jsonText(const QJsonValue &value)
{
    if (value.isObject())
        return QString::fromUtf8(QJsonDocument(value.toObject()).toJson(QJsonDocument::Compact));
    if (value.isArray())
        return QString::fromUtf8(QJsonDocument(value.toArray()).toJson(QJsonDocument::Compact));
    return QString::fromUtf8(
        QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact).mid(1).chopped(1));
}

QString shapeOf(const QJsonValue &value)
{
    if (value.isObject()) {
        const QJsonObject object = value.toObject();
        QStringList parts;
        for (auto it = object.begin(); it != object.end(); ++it)
            parts << it.key() + shapeOf(it.value());
        return QLatin1Char('{') + parts.join(QLatin1Char(',')) + QLatin1Char('}');
    }
    if (value.isArray())
        return QStringLiteral("[]");
    if (value.isString())
        return QStringLiteral(":s");
    if (value.isDouble())
        return QStringLiteral(":n");
    if (value.isBool())
        return QStringLiteral(":b");
    return QStringLiteral(":null");
}

// ---- Replayer -----------------------------------------------------------------------------

Replayer::Replayer(simnode::SimulatedNode &node, const Transcript &transcript)
    : m_node(node)
    , m_transcript(transcript)
    , m_http(node.url())
    , m_recorded()
    , m_live(node.rootDir())
{
}

Replayer::~Replayer() = default;

WsClient *Replayer::client(const QString &conn) const
{
    const auto it = m_clients.find(conn);
    return it == m_clients.end() ? nullptr : it->second.get();
}

bool Replayer::fail(const QString &message)
{
    if (m_error.isEmpty())
        m_error = QStringLiteral("[%1] %2").arg(m_transcript.name, message);
    return false;
}

QString Replayer::translate(QString text) const
{
    for (auto it = m_idMap.begin(); it != m_idMap.end(); ++it)
        text.replace(it.key(), it.value());
    for (auto it = m_tempMap.begin(); it != m_tempMap.end(); ++it)
        text.replace(it.key(), it.value());
    return text;
}

bool Replayer::run()
{
    if (m_transcript.json.isEmpty())
        return fail(QStringLiteral("transcript not found"));
    const QJsonArray events = m_transcript.events();
    for (int i = 0; i < events.size(); ++i) {
        const QJsonObject event = events.at(i).toObject();
        const QString channel = event.value(QLatin1String("channel")).toString();
        const QString kind = event.value(QLatin1String("kind")).toString();
        bool ok = true;
        if (channel == QLatin1String("http"))
            ok = doHttp(i, event);
        else if (kind == QLatin1String("connect"))
            ok = connectWs(event);
        else if (kind == QLatin1String("client_close"))
            ok = closeWs(event);
        else if (kind == QLatin1String("text") || kind == QLatin1String("binary"))
            ok = checkWs(event);
        if (!ok)
            return false;
    }
    // Nothing more than recorded arrived, and in the recorded order.
    for (const auto &[conn, client] : m_clients) {
        const QStringList expected = conn == QLatin1String("main")
                                         ? m_transcript.wsSequence()
                                         : m_transcript.otherSequence(conn);
        static const QRegularExpression hex32(QStringLiteral("\\b[0-9a-f]{32}\\b"));
        QStringList actual = client->summaries();
        for (QString &s : actual)
            s = m_live.text(s).replace(hex32, QStringLiteral("<hex32>"));
        QStringList wanted;
        for (const QString &s : expected) {
            if (!s.startsWith(QLatin1Char('<')))
                wanted << m_recorded.text(s).replace(hex32, QStringLiteral("<hex32>"));
        }
        if (actual != wanted)
            return fail(QStringLiteral("websocket %1 received\n  %2\nrecorded\n  %3")
                            .arg(conn, actual.join(QStringLiteral("\n  ")),
                                 wanted.join(QStringLiteral("\n  "))));
    }
    return true;
}

bool Replayer::connectWs(const QJsonObject &event)
{
    const QString conn = event.value(QLatin1String("conn")).toString();
    const QUrl recorded(event.value(QLatin1String("url")).toString());
    QUrl url = m_node.url();
    url.setScheme(QStringLiteral("ws"));
    url.setPath(recorded.path());
    url.setQuery(recorded.query());
    auto &client = m_clients[conn];
    if (!client)
        client = std::make_unique<WsClient>();
    if (!client->open(url))
        return fail(QStringLiteral("websocket %1 did not connect to %2").arg(conn, url.toString()));
    return true;
}

bool Replayer::closeWs(const QJsonObject &event)
{
    const QString conn = event.value(QLatin1String("conn")).toString();
    WsClient *ws = client(conn);
    if (!ws)
        return fail(QStringLiteral("close of unknown websocket %1").arg(conn));
    if (!ws->close())
        return fail(QStringLiteral("websocket %1 did not close").arg(conn));
    return true;
}

void Replayer::learnTempNames(const QJsonValue &recorded, const QJsonValue &actual)
{
    if (recorded.isString() && actual.isString()) {
        const auto r = tempNamePattern().match(recorded.toString());
        const auto a = tempNamePattern().match(actual.toString());
        if (r.hasMatch() && a.hasMatch())
            m_tempMap.insert(r.captured(), a.captured());
        return;
    }
    if (recorded.isObject() && actual.isObject()) {
        const QJsonObject ro = recorded.toObject();
        const QJsonObject ao = actual.toObject();
        for (auto it = ro.begin(); it != ro.end(); ++it)
            learnTempNames(it.value(), ao.value(it.key()));
    } else if (recorded.isArray() && actual.isArray()) {
        const QJsonArray ra = recorded.toArray();
        const QJsonArray aa = actual.toArray();
        for (qsizetype i = 0; i < std::min(ra.size(), aa.size()); ++i)
            learnTempNames(ra.at(i), aa.at(i));
    }
}

bool Replayer::checkWs(const QJsonObject &event)
{
    const QString conn = event.value(QLatin1String("conn")).toString();
    WsClient *ws = client(conn);
    if (!ws)
        return fail(QStringLiteral("message on unknown websocket %1").arg(conn));
    const qsizetype index = m_seen.value(conn);
    if (!ws->waitForCount(index + 1)) {
        return fail(QStringLiteral("websocket %1: message #%2 (seq %3) did not arrive; got:\n  %4")
                        .arg(conn)
                        .arg(index)
                        .arg(event.value(QLatin1String("seq")).toInt())
                        .arg(ws->summaries().join(QStringLiteral("\n  "))));
    }
    m_seen[conn] = index + 1;
    const WsClient::Message &actual = ws->messages.at(index);
    const bool binary = event.value(QLatin1String("kind")).toString() == QLatin1String("binary");
    if (binary != actual.binary)
        return fail(
            QStringLiteral("websocket %1 #%2: expected a %3 message, got %4")
                .arg(conn)
                .arg(index)
                .arg(binary ? QStringLiteral("binary") : QStringLiteral("text"), actual.summary));
    if (binary) {
        const FrameInfo info = frameInfo(actual.bytes);
        const QJsonObject image = event.value(QLatin1String("image")).toObject();
        const QSize size(image.value(QLatin1String("width")).toInt(),
                         image.value(QLatin1String("height")).toInt());
        if (info.eventType != quint32(event.value(QLatin1String("event_type")).toInt()) ||
            info.imageType != quint32(event.value(QLatin1String("image_type")).toInt()) ||
            info.format != image.value(QLatin1String("format")).toString().toLatin1() ||
            info.size != size) {
            return fail(QStringLiteral("websocket %1 #%2: frame %3/%4 %5 %6x%7, recorded %8")
                            .arg(conn)
                            .arg(index)
                            .arg(info.eventType)
                            .arg(info.imageType)
                            .arg(QString::fromLatin1(info.format))
                            .arg(info.size.width())
                            .arg(info.size.height())
                            .arg(jsonText(event)));
        }
        return true;
    }
    const QJsonObject recorded = event.value(QLatin1String("message")).toObject();
    learnTempNames(recorded, actual.json);
    const QString want = jsonText(m_recorded(recorded));
    const QString got = jsonText(m_live(actual.json));
    if (want != got)
        return fail(QStringLiteral("websocket %1 #%2 (seq %3):\n  got      %4\n  recorded %5")
                        .arg(conn)
                        .arg(index)
                        .arg(event.value(QLatin1String("seq")).toInt())
                        .arg(shortened(got), shortened(want)));
    return true;
}

bool Replayer::doHttp(int index, const QJsonObject &event)
{
    const QByteArray method = event.value(QLatin1String("method")).toString().toLatin1();
    const QString path = translate(event.value(QLatin1String("path")).toString());
    const QString what = QStringLiteral("%1 %2 (seq %3)")
                             .arg(QString::fromLatin1(method), path)
                             .arg(event.value(QLatin1String("seq")).toInt());
    QByteArray body;
    QByteArray contentType;
    if (event.contains(QLatin1String("request_json"))) {
        const simnode::py::KeyTree *tree = m_transcript.eventTree(index);
        body = translate(QString::fromUtf8(orderedJson(
                             event.value(QLatin1String("request_json")),
                             tree ? tree->child(QStringLiteral("request_json")) : nullptr)))
                   .toUtf8();
        contentType = "application/json";
    } else if (event.contains(QLatin1String("request_body"))) {
        const QJsonObject info = event.value(QLatin1String("request_body")).toObject();
        contentType = info.value(QLatin1String("content_type")).toString().toLatin1();
        if (contentType.startsWith("multipart/form-data")) {
            // The recorded upload: an 8x8 PNG named sample_uploaded.png.
            QImage image(8, 8, QImage::Format_RGB32);
            image.fill(Qt::darkCyan);
            QByteArray png;
            QBuffer buffer(&png);
            buffer.open(QIODevice::WriteOnly);
            image.save(&buffer, "PNG");
            const QByteArray boundary = "----simnodetestboundary";
            body = multipartBody(boundary, QStringLiteral("image"),
                                 QStringLiteral("sample_uploaded.png"), png);
            contentType = "multipart/form-data; boundary=" + boundary;
        } else {
            // Malformed JSON of the recorded length.
            body = QByteArray("{not json")
                       .leftJustified(info.value(QLatin1String("length")).toInt(9), ' ', true);
        }
    }

    const HttpResponse response = m_http.request(method, path, body, contentType);
    if (!response.ok)
        return fail(QStringLiteral("%1: no answer (%2)").arg(what, response.errorString));
    const int status = event.value(QLatin1String("status")).toInt();
    if (response.status != status)
        return fail(QStringLiteral("%1: status %2, recorded %3; body %4")
                        .arg(what)
                        .arg(response.status)
                        .arg(status)
                        .arg(QString::fromUtf8(response.body.left(600))));
    const QJsonObject headers = event.value(QLatin1String("response_headers")).toObject();
    if (headers.contains(QLatin1String("Content-Type")) &&
        response.headers.value("content-type") !=
            headers.value(QLatin1String("Content-Type")).toString().toLatin1())
        return fail(QStringLiteral("%1: Content-Type %2, recorded %3")
                        .arg(what, QString::fromLatin1(response.headers.value("content-type")),
                             headers.value(QLatin1String("Content-Type")).toString()));
    if (headers.contains(QLatin1String("Content-Disposition"))) {
        const QString want =
            m_recorded.text(headers.value(QLatin1String("Content-Disposition")).toString());
        const QString got =
            m_live.text(QString::fromUtf8(response.headers.value("content-disposition")));
        if (want != got)
            return fail(
                QStringLiteral("%1: Content-Disposition %2, recorded %3").arg(what, got, want));
    }

    if (event.contains(QLatin1String("response_json"))) {
        const QJsonValue recorded = event.value(QLatin1String("response_json"));
        const QJsonValue actual = response.json();
        if (actual.isUndefined())
            return fail(QStringLiteral("%1: not JSON: %2")
                            .arg(what, QString::fromUtf8(response.body.left(300))));
        if (method == "POST" && path.endsWith(QLatin1String("/prompt")) && status == 200) {
            const QString recordedId =
                recorded.toObject().value(QLatin1String("prompt_id")).toString();
            const QString liveId = actual.toObject().value(QLatin1String("prompt_id")).toString();
            m_idMap.insert(recordedId, liveId);
            m_recorded.addPromptId(recordedId, m_prompts);
            m_live.addPromptId(liveId, m_prompts);
            ++m_prompts;
            if (!actual.toObject().value(QLatin1String("number")).isDouble())
                return fail(QStringLiteral("%1: no number").arg(what));
        }
        if (skipResponse && skipResponse(event))
            return true;
        if (path.endsWith(QLatin1String("/system_stats"))) {
            if (shapeOf(actual) != shapeOf(recorded))
                return fail(QStringLiteral("%1: shape %2, recorded %3")
                                .arg(what, shapeOf(actual), shapeOf(recorded)));
            const QJsonObject stats = actual.toObject();
            if (!stats.value(QLatin1String("system"))
                     .toObject()
                     .value(QLatin1String("comfyui_version"))
                     .toString()
                     .startsWith(QLatin1String("simulated")))
                return fail(QStringLiteral("%1: comfyui_version is not simulated*").arg(what));
            const QJsonArray devices = stats.value(QLatin1String("devices")).toArray();
            if (devices.size() != 1 ||
                devices.at(0).toObject().value(QLatin1String("name")).toString() !=
                    QLatin1String("simulated"))
                return fail(QStringLiteral("%1: devices %2").arg(what, jsonText(devices)));
            return true;
        }
        QJsonValue want = m_recorded(recorded);
        QJsonValue got = m_live(actual);
        if (shapeOnly && shapeOnly(event)) {
            want = shapeOf(want);
            got = shapeOf(got);
        } else if (method == "POST" && path.endsWith(QLatin1String("/prompt")) && status == 200) {
            QJsonObject w = want.toObject();
            QJsonObject g = got.toObject();
            w.insert(QStringLiteral("number"), 0);
            g.insert(QStringLiteral("number"), 0);
            want = w;
            got = g;
        }
        if (jsonText(want) != jsonText(got))
            return fail(QStringLiteral("%1:\n  got      %2\n  recorded %3")
                            .arg(what, shortened(jsonText(got)), shortened(jsonText(want))));
    } else if (event.contains(QLatin1String("response_text"))) {
        if (QString::fromUtf8(response.body) !=
            event.value(QLatin1String("response_text")).toString())
            return fail(QStringLiteral("%1: body %2").arg(what, QString::fromUtf8(response.body)));
    } else if (event.contains(QLatin1String("response_binary"))) {
        const QJsonObject image = event.value(QLatin1String("response_binary"))
                                      .toObject()
                                      .value(QLatin1String("image"))
                                      .toObject();
        const QSize size = QImage::fromData(response.body).size();
        if (imageFormat(response.body) !=
                image.value(QLatin1String("format")).toString().toLatin1() ||
            size != QSize(image.value(QLatin1String("width")).toInt(),
                          image.value(QLatin1String("height")).toInt()))
            return fail(QStringLiteral("%1: picture %2 %3x%4, recorded %5")
                            .arg(what, QString::fromLatin1(imageFormat(response.body)))
                            .arg(size.width())
                            .arg(size.height())
                            .arg(jsonText(image)));
    } else if (event.contains(QLatin1String("response_body_length"))) {
        if (response.body.size() != event.value(QLatin1String("response_body_length")).toInt())
            return fail(QStringLiteral("%1: body of %2 bytes").arg(what).arg(response.body.size()));
    }
    return true;
}

} // namespace simtest
