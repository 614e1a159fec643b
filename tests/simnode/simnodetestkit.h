#pragma once

// Shared helpers of the simulated node's tests: a websocket client that records what it
// receives, a small HTTP client, the recorded transcripts (tests/data/comfyui) and a replayer
// that plays a transcript's client side against a SimulatedNode and compares every answer and
// websocket message with the recording.

#include "pyformat.h"

#include <QByteArray>
#include <QHash>
#include <QImage>
#include <QJsonArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QList>
#include <QNetworkAccessManager>
#include <QObject>
#include <QString>
#include <QStringList>
#include <QUrl>
#include <QWebSocket>

#include <functional>
#include <map>
#include <memory>

namespace simnode {
class SimulatedNode;
}

namespace simtest {

QString dataDir();

struct Transcript {
    QString name;
    QJsonObject json;
    simnode::py::KeyTree tree; // key order of the file (request bodies are sent in that order)
    QJsonArray events() const { return json.value(QLatin1String("events")).toArray(); }
    const simnode::py::KeyTree *eventTree(int index) const;
    QStringList wsSequence() const;
    QStringList otherSequence(const QString &conn) const;
};
// Loads tests/data/comfyui/<name>.json; an empty json on failure.
Transcript loadTranscript(const QString &name);

// JSON text of a value with object keys in the order of `order` (when given).
QByteArray orderedJson(const QJsonValue &value, const simnode::py::KeyTree *order);

// The one-line summaries of the transcripts' ws_sequence: status(queue_remaining=0, sid=abc),
// executing(node="1"), progress(node="3" 0/1), binary(event_type=1, image_type=2), ...
QString summarize(const QJsonObject &message);
QString summarizeBinary(const QByteArray &frame);

struct FrameInfo {
    quint32 eventType = 0;
    quint32 imageType = 0;
    QByteArray format; // "PNG" / "JPEG"
    QSize size;
};
FrameInfo frameInfo(const QByteArray &frame);
QByteArray imageFormat(const QByteArray &bytes);

class WsClient : public QObject {
    Q_OBJECT

public:
    struct Message {
        bool binary = false;
        QJsonObject json;
        QByteArray bytes;
        QString summary;
    };

    explicit WsClient(QObject *parent = nullptr);
    ~WsClient() override;
    bool open(const QUrl &url, int timeoutMs = 5000);
    bool close(int timeoutMs = 5000);
    bool waitForCount(qsizetype count, int timeoutMs = 10000);
    // Waits for a text message of this type (after `from`); its index or -1.
    qsizetype waitForType(const QString &type, qsizetype from = 0, int timeoutMs = 10000);
    bool isConnected() const;
    QStringList summaries() const;
    QList<Message> messages;
    QWebSocket socket;
};

struct HttpResponse {
    bool ok = false; // a response arrived (any status)
    int status = 0;
    QByteArray body;
    QHash<QByteArray, QByteArray> headers; // lower-case names
    QString errorString;
    QJsonValue json() const;
};

class Http {
public:
    explicit Http(const QUrl &base);
    void setBase(const QUrl &base) { m_base = base; }
    HttpResponse request(const QByteArray &method, const QString &pathAndQuery,
                         const QByteArray &body = QByteArray(),
                         const QByteArray &contentType = QByteArray(), int timeoutMs = 10000);
    HttpResponse get(const QString &path) { return request("GET", path); }
    HttpResponse postJson(const QString &path, const QJsonObject &body);

private:
    QNetworkAccessManager m_nam;
    QUrl m_base;
};

// A multipart/form-data body like a browser's upload of one file.
QByteArray multipartBody(const QByteArray &boundary, const QString &fieldName,
                         const QString &filename, const QByteArray &data,
                         const QList<QPair<QString, QString>> &fields = {});

void writePng(const QString &path, int width, int height, quint32 seed = 1);

// Input files the transcripts use: every sample_*.png they name (with the recorded sizes) and
// the not-an-image file; names in `skip` are left out (the test makes them itself).
void prepareInputs(const QString &root, const Transcript &transcript, const QStringList &skip = {});

// Makes recorded and live values comparable: prompt ids by the order they were returned,
// timestamps and queue numbers zeroed, tracebacks elided, unordered lists sorted, the node's
// root directory written as the recorded one (/srv/comfyui), random temp names neutral.
class Normalizer {
public:
    explicit Normalizer(QString rootToReplace = QString())
        : m_root(std::move(rootToReplace))
    {
    }
    void addPromptId(const QString &id, int index) { m_ids.insert(id, index); }
    QJsonValue operator()(const QJsonValue &value, const QString &key = QString()) const;
    QString text(const QString &text) const;

private:
    QString m_root;
    QHash<QString, int> m_ids;
};

QString jsonText(const QJsonValue &value);
// The keys of every object (recursively), values left out: "a{b,c[d]}"-like text.
QString shapeOf(const QJsonValue &value);

class Replayer {
public:
    Replayer(simnode::SimulatedNode &node, const Transcript &transcript);
    ~Replayer();
    bool run();
    QString error() const { return m_error; }
    WsClient *client(const QString &conn) const;
    // Skip the comparison of an HTTP answer (event index): e.g. a history of another session.
    std::function<bool(const QJsonObject &event)> skipResponse;
    // Compare only the shape of an HTTP answer (timing dependent contents).
    std::function<bool(const QJsonObject &event)> shapeOnly;

private:
    bool fail(const QString &message);
    bool connectWs(const QJsonObject &event);
    bool closeWs(const QJsonObject &event);
    bool checkWs(const QJsonObject &event);
    bool doHttp(int index, const QJsonObject &event);
    QString translate(QString text) const;
    void learnTempNames(const QJsonValue &recorded, const QJsonValue &actual);

    simnode::SimulatedNode &m_node;
    const Transcript &m_transcript;
    Http m_http;
    std::map<QString, std::unique_ptr<WsClient>> m_clients;
    QHash<QString, qsizetype> m_seen;  // messages compared per connection
    QHash<QString, QString> m_idMap;   // recorded prompt id -> live prompt id
    QHash<QString, QString> m_tempMap; // recorded temp prefix -> live one
    Normalizer m_recorded;
    Normalizer m_live;
    int m_prompts = 0;
    QString m_error;
};

} // namespace simtest
