// The simulated node at run time: interrupt (g_interrupt) and reconnection
// (m_reconnect_during_run) as recorded, the behaviour switches tests use (failNextPrompts, hang,
// dropWebSockets, goDown/comeUp), the queue operations, the stable-diffusion node classes, and
// the comfy-simnode executable.

#include "simnodetestkit.h"
#include "simulatednode.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>

#include <memory>

using namespace simtest;

class TestSimnodeControl : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void replayInterrupt();
    void reconnectDuringRun();
    void failNextPrompts();
    void hang();
    void hangThenInterrupt();
    void dropWebSockets();
    void goDownAndComeUp();
    void queueDeleteAndClear();
    void sameClientIdTwice();
    void resetState();
    void txt2imgOrderProgressAndCache();
    void ksamplerAdvancedRange();
    void modelFiles();
    void modelLoadDelay();
    void img2imgKeepsTheSize();
    void repeatLatentBatch();
    void generatedBatchOverWebsocket();
    void genericNodeClass();
    void viewRejectsTraversal();
    void uploadNames();
    void executable();

private:
    QString post(const QByteArray &promptJson, const QString &clientId = QStringLiteral("abc"));
    QString post(const QJsonObject &prompt, const QString &clientId = QStringLiteral("abc"))
    {
        return post(QJsonDocument(prompt).toJson(QJsonDocument::Compact), clientId);
    }
    // Waits for promptFinished(id); its success flag, or nullopt on timeout.
    std::optional<bool> waitFinished(const QString &id, int timeoutMs = 10000);
    QJsonObject history(const QString &id);
    std::unique_ptr<WsClient> connectWs(const QString &clientId = QStringLiteral("abc"));
    QJsonObject quickPrompt(const QString &input = QStringLiteral("in.png"),
                            const QString &prefix = QStringLiteral("q"));

    std::unique_ptr<QTemporaryDir> m_root;
    std::unique_ptr<simnode::SimulatedNode> m_node;
    std::unique_ptr<Http> m_http;
    std::unique_ptr<QSignalSpy> m_finished;
};

namespace {

QJsonObject node(const QString &cls, const QJsonObject &inputs)
{
    return QJsonObject{{QStringLiteral("class_type"), cls}, {QStringLiteral("inputs"), inputs}};
}

QJsonArray link(const QString &id, int slot = 0)
{
    return QJsonArray{id, slot};
}

QJsonObject progressPrompt(int steps, int delayMs, bool preview = false)
{
    return QJsonObject{{"1", node("ExampleProgressNode", {{"steps", steps},
                                                          {"delay_ms", delayMs},
                                                          {"send_preview", preview},
                                                          {"fail_at_step", 0}})},
                       {"2", node("PreviewImage", {{"images", link("1")}})}};
}

// Text messages of one type (data objects).
QList<QJsonObject> ofType(const WsClient &ws, const QString &type, qsizetype from = 0)
{
    QList<QJsonObject> out;
    for (qsizetype i = from; i < ws.messages.size(); ++i) {
        const auto &m = ws.messages.at(i);
        if (!m.binary && m.json.value("type").toString() == type)
            out << m.json.value("data").toObject();
    }
    return out;
}

QStringList executingNodes(const WsClient &ws, const QString &promptId)
{
    QStringList nodes;
    for (const QJsonObject &data : ofType(ws, QStringLiteral("executing"))) {
        if (data.value("prompt_id").toString() == promptId && data.value("node").isString())
            nodes << data.value("node").toString();
    }
    return nodes;
}

// The default ComfyUI text-to-image workflow in API form, keys in the order ComfyUI exports them
// (the execution order depends on it).
QByteArray txt2img(int seed, int width, int height, int batch, int steps,
                   const QString &checkpoint = QStringLiteral("sd15.safetensors"))
{
    return QStringLiteral(R"({"prompt": {
 "3": {"inputs": {"seed": %1, "steps": %5, "cfg": 8, "sampler_name": "euler", "scheduler": "normal",
       "denoise": 1, "model": ["4", 0], "positive": ["6", 0], "negative": ["7", 0],
       "latent_image": ["5", 0]}, "class_type": "KSampler"},
 "4": {"inputs": {"ckpt_name": "%6"}, "class_type": "CheckpointLoaderSimple"},
 "5": {"inputs": {"width": %2, "height": %3, "batch_size": %4}, "class_type": "EmptyLatentImage"},
 "6": {"inputs": {"text": "a red fox in the snow", "clip": ["4", 1]}, "class_type": "CLIPTextEncode"},
 "7": {"inputs": {"text": "blurry", "clip": ["4", 1]}, "class_type": "CLIPTextEncode"},
 "8": {"inputs": {"samples": ["3", 0], "vae": ["4", 2]}, "class_type": "VAEDecode"},
 "9": {"inputs": {"filename_prefix": "fox", "images": ["8", 0]}, "class_type": "SaveImage"}
}, "client_id": "abc"})")
        .arg(seed)
        .arg(width)
        .arg(height)
        .arg(batch)
        .arg(steps)
        .arg(checkpoint)
        .toUtf8();
}

void touch(const QString &path, const QByteArray &content = "not a real model")
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(content);
}

} // namespace

void TestSimnodeControl::init()
{
    m_root = std::make_unique<QTemporaryDir>();
    QVERIFY(m_root->isValid());
    writePng(m_root->filePath(QStringLiteral("input/in.png")), 24, 16, 1);
    writePng(m_root->filePath(QStringLiteral("input/in2.png")), 24, 16, 2);
    writePng(m_root->filePath(QStringLiteral("input/in3.png")), 24, 16, 3);
    m_node = std::make_unique<simnode::SimulatedNode>(m_root->path());
    m_node->setStepDelayMs(2);
    QVERIFY(m_node->listen() != 0);
    m_http = std::make_unique<Http>(m_node->url());
    m_finished =
        std::make_unique<QSignalSpy>(m_node.get(), &simnode::SimulatedNode::promptFinished);
}

void TestSimnodeControl::cleanup()
{
    m_finished.reset();
    m_http.reset();
    m_node.reset();
    m_root.reset();
}

QString TestSimnodeControl::post(const QByteArray &promptJson, const QString &clientId)
{
    QByteArray body = promptJson;
    if (!body.contains("\"prompt\"")) {
        body = "{\"prompt\": " + promptJson;
        if (!clientId.isEmpty())
            body += ", \"client_id\": \"" + clientId.toUtf8() + "\"";
        body += "}";
    }
    const HttpResponse response =
        m_http->request("POST", QStringLiteral("/prompt"), body, "application/json");
    if (response.status != 200) {
        qWarning() << "POST /prompt" << response.status << response.body;
        return QString();
    }
    return response.json().toObject().value("prompt_id").toString();
}

std::optional<bool> TestSimnodeControl::waitFinished(const QString &id, int timeoutMs)
{
    QElapsedTimer timer;
    timer.start();
    while (true) {
        for (const QList<QVariant> &args : std::as_const(*m_finished)) {
            if (args.at(0).toString() == id)
                return args.at(1).toBool();
        }
        const qint64 left = timeoutMs - timer.elapsed();
        if (left <= 0)
            return std::nullopt;
        m_finished->wait(int(left));
    }
}

QJsonObject TestSimnodeControl::history(const QString &id)
{
    return m_http->get(QStringLiteral("/history/") + id).json().toObject().value(id).toObject();
}

std::unique_ptr<WsClient> TestSimnodeControl::connectWs(const QString &clientId)
{
    auto ws = std::make_unique<WsClient>();
    QUrl url = m_node->url();
    url.setScheme(QStringLiteral("ws"));
    url.setPath(QStringLiteral("/ws"));
    if (!clientId.isEmpty())
        url.setQuery(QStringLiteral("clientId=") + clientId);
    if (!ws->open(url) || !ws->waitForCount(1))
        return nullptr;
    return ws;
}

QJsonObject TestSimnodeControl::quickPrompt(const QString &input, const QString &prefix)
{
    return QJsonObject{
        {"1", node("LoadImage", {{"image", input}})},
        {"2", node("ImageInvert", {{"image", link("1")}})},
        {"3", node("SaveImage", {{"images", link("2")}, {"filename_prefix", prefix}})}};
}

void TestSimnodeControl::replayInterrupt()
{
    const Transcript t = loadTranscript(QStringLiteral("g_interrupt"));
    QVERIFY(!t.json.isEmpty());
    prepareInputs(m_root->path(), t);
    Replayer replayer(*m_node, t);
    QVERIFY2(replayer.run(), qPrintable(replayer.error()));
}

void TestSimnodeControl::reconnectDuringRun()
{
    const Transcript t = loadTranscript(QStringLiteral("m_reconnect_during_run"));
    QVERIFY(!t.json.isEmpty());
    QJsonObject recordedAfterReconnect[2];
    int connects = 0;
    for (const QJsonValue &v : t.events()) {
        const QJsonObject e = v.toObject();
        if (e.value("kind").toString() == QLatin1String("connect"))
            ++connects;
        if (connects == 2 && e.value("kind").toString() == QLatin1String("text") &&
            recordedAfterReconnect[1].isEmpty()) {
            (recordedAfterReconnect[0].isEmpty() ? recordedAfterReconnect[0]
                                                 : recordedAfterReconnect[1]) =
                e.value("message").toObject();
        }
    }
    QVERIFY(!recordedAfterReconnect[1].isEmpty());

    auto ws = connectWs();
    QVERIFY(ws);
    const QJsonObject workflow = t.json.value("result").toObject().value("workflow").toObject();
    const QString id = post(workflow);
    QVERIFY(!id.isEmpty());
    // Leave after progress 3/12, as recorded.
    QTRY_VERIFY_WITH_TIMEOUT(ws->summaries().contains(QStringLiteral("progress(node=\"1\" 3/12)")),
                             10000);
    QVERIFY(ws->close());
    // Reconnect once the node has seen the old socket go (see sameClientIdTwice).
    QTRY_VERIFY(m_node->connectedClientIds().isEmpty());

    auto again = connectWs();
    QVERIFY(again);
    QVERIFY(again->waitForCount(2));
    // status with the sid and the queue, then executing with the node only (no prompt_id).
    QCOMPARE(jsonText(again->messages.at(0).json), jsonText(recordedAfterReconnect[0]));
    QCOMPARE(jsonText(again->messages.at(1).json), jsonText(recordedAfterReconnect[1]));

    QVERIFY(waitFinished(id).value_or(false));
    QVERIFY(again->waitForType(QStringLiteral("executing"), 2) >= 0);
    QTRY_VERIFY(again->summaries().contains(QStringLiteral("executing(node=null)")));
    // Then the progress it did not miss, increasing up to 12/12, and the recorded end.
    const QStringList got = again->summaries().mid(2);
    const QStringList recorded = t.wsSequence();
    const QStringList recordedTail =
        recorded.mid(recorded.indexOf(QStringLiteral("progress(node=\"1\" 12/12)")) + 1);
    QCOMPARE(recordedTail.last(), QStringLiteral("<client_close>"));
    int last = 3;
    qsizetype i = 0;
    static const QRegularExpression progress(
        QStringLiteral("^progress\\(node=\"1\" (\\d+)/12\\)$"));
    for (; i < got.size(); ++i) {
        const auto match = progress.match(got.at(i));
        if (!match.hasMatch())
            break;
        QVERIFY2(match.captured(1).toInt() > last, qPrintable(got.join(QLatin1Char(' '))));
        last = match.captured(1).toInt();
    }
    QCOMPARE(last, 12);
    QCOMPARE(got.mid(i), recordedTail.mid(0, recordedTail.size() - 1));
    QCOMPARE(history(id).value("status").toObject().value("status_str").toString(),
             QStringLiteral("success"));
}

void TestSimnodeControl::failNextPrompts()
{
    auto ws = connectWs();
    QVERIFY(ws);
    m_node->setFailNextPrompts(2, QStringLiteral("boom"));
    QStringList ids;
    for (int i = 0; i < 3; ++i) {
        ids << post(quickPrompt(QStringLiteral("in.png"), QStringLiteral("f")));
        QVERIFY(!ids.last().isEmpty());
        QCOMPARE(waitFinished(ids.last()), std::optional<bool>(i == 2));
    }
    QTRY_COMPARE(ofType(*ws, QStringLiteral("execution_error")).size(), 2);
    const QList<QJsonObject> errors = ofType(*ws, QStringLiteral("execution_error"));
    for (int i = 0; i < 2; ++i) {
        QCOMPARE(errors.at(i).value("prompt_id").toString(), ids.at(i));
        QCOMPARE(errors.at(i).value("exception_message").toString(), QStringLiteral("boom"));
        QCOMPARE(errors.at(i).value("exception_type").toString(), QStringLiteral("RuntimeError"));
        QCOMPARE(errors.at(i).value("node_id").toString(), QStringLiteral("1"));
        QCOMPARE(errors.at(i).value("node_type").toString(), QStringLiteral("LoadImage"));
        QCOMPARE(jsonText(errors.at(i).value("current_inputs")),
                 QStringLiteral(R"({"image":["in.png"]})"));
        const QJsonObject status = history(ids.at(i)).value("status").toObject();
        QCOMPARE(status.value("status_str").toString(), QStringLiteral("error"));
        QCOMPARE(status.value("completed").toBool(), false);
    }
    QCOMPARE(history(ids.at(2)).value("status").toObject().value("status_str").toString(),
             QStringLiteral("success"));
    QCOMPARE(m_node->executedPromptIds(), ids);
    QCOMPARE(m_node->promptsReceived(), 3);
}

void TestSimnodeControl::hang()
{
    auto ws = connectWs();
    QVERIFY(ws);
    m_node->setHang(true);
    const QString id = post(quickPrompt());
    QVERIFY(!id.isEmpty());
    QTRY_COMPARE(executingNodes(*ws, id), QStringList{QStringLiteral("1")});
    QCOMPARE(m_node->runningPromptId(), id);
    // Still answering while stuck.
    QCOMPARE(m_http->get(QStringLiteral("/system_stats")).status, 200);
    const QJsonObject queue = m_http->get(QStringLiteral("/queue")).json().toObject();
    QCOMPARE(queue.value("queue_running").toArray().at(0).toArray().at(1).toString(), id);
    QCOMPARE(jsonText(m_http->get(QStringLiteral("/prompt")).json()),
             QStringLiteral(R"({"exec_info":{"queue_remaining":1}})"));
    // No progress while the hang lasts.
    QVERIFY(!waitFinished(id, 300).has_value());
    QCOMPARE(executingNodes(*ws, id), QStringList{QStringLiteral("1")});
    m_node->setHang(false);
    QCOMPARE(waitFinished(id), std::optional<bool>(true));
    QCOMPARE(executingNodes(*ws, id),
             QStringList({QStringLiteral("1"), QStringLiteral("2"), QStringLiteral("3")}));
}

void TestSimnodeControl::hangThenInterrupt()
{
    auto ws = connectWs();
    QVERIFY(ws);
    m_node->setHang(true);
    const QString id = post(progressPrompt(5, 10));
    QTRY_COMPARE(executingNodes(*ws, id), QStringList{QStringLiteral("1")});
    QCOMPARE(m_http->request("POST", QStringLiteral("/interrupt"), "{}", "application/json").status,
             200);
    QCOMPARE(waitFinished(id), std::optional<bool>(false));
    QTRY_COMPARE(ofType(*ws, QStringLiteral("execution_interrupted")).size(), 1);
    const QList<QJsonObject> interrupted = ofType(*ws, QStringLiteral("execution_interrupted"));
    QCOMPARE(interrupted.at(0).value("node_id").toString(), QStringLiteral("1"));
    QCOMPARE(interrupted.at(0).value("node_type").toString(),
             QStringLiteral("ExampleProgressNode"));
    m_node->setHang(false);
    const QString next = post(quickPrompt());
    QCOMPARE(waitFinished(next), std::optional<bool>(true));
}

void TestSimnodeControl::dropWebSockets()
{
    auto ws = connectWs();
    QVERIFY(ws);
    auto observer = connectWs(QStringLiteral("observer"));
    QVERIFY(observer);
    QTRY_COMPARE(m_node->connectedClientIds().size(), 2);
    const QString id = post(progressPrompt(20, 20));
    QTRY_VERIFY(ws->summaries().contains(QStringLiteral("progress(node=\"1\" 2/20)")));
    QSignalSpy gone(&ws->socket, &QWebSocket::disconnected);
    QSignalSpy observerGone(&observer->socket, &QWebSocket::disconnected);
    m_node->dropWebSockets();
    QVERIFY(!gone.isEmpty() || gone.wait(5000));
    QVERIFY(!observerGone.isEmpty() || observerGone.wait(5000));
    QTRY_VERIFY(m_node->connectedClientIds().isEmpty());
    QVERIFY(m_node->isUp());
    // The run went on; the client comes back and is told where it is.
    auto back = connectWs();
    QVERIFY(back);
    QVERIFY(back->waitForCount(2));
    QCOMPARE(back->messages.at(1).summary, QStringLiteral("executing(node=\"1\")"));
    QCOMPARE(waitFinished(id), std::optional<bool>(true));
    QTRY_VERIFY(back->summaries().contains(QStringLiteral("execution_success")));
}

void TestSimnodeControl::goDownAndComeUp()
{
    auto ws = connectWs();
    QVERIFY(ws);
    const quint16 port = m_node->port();
    const QString id = post(progressPrompt(10, 20));
    QVERIFY(!id.isEmpty());
    QSignalSpy gone(&ws->socket, &QWebSocket::disconnected);
    m_node->goDown();
    QVERIFY(!m_node->isUp());
    QVERIFY(!gone.isEmpty() || gone.wait(5000));
    const HttpResponse refused = m_http->get(QStringLiteral("/system_stats"));
    QVERIFY(!refused.ok);
    auto none = std::make_unique<WsClient>();
    QUrl wsUrl = m_node->url();
    wsUrl.setScheme(QStringLiteral("ws"));
    wsUrl.setPath(QStringLiteral("/ws"));
    QVERIFY(!none->open(wsUrl, 2000));
    // The node keeps working while unreachable.
    QCOMPARE(waitFinished(id), std::optional<bool>(true));

    QVERIFY(m_node->comeUp());
    QVERIFY(m_node->isUp());
    QCOMPARE(m_node->port(), port);
    QCOMPARE(m_node->url().port(), int(port));
    QCOMPARE(m_http->get(QStringLiteral("/system_stats")).status, 200);
    QCOMPARE(history(id).value("status").toObject().value("status_str").toString(),
             QStringLiteral("success"));
    auto back = connectWs();
    QVERIFY(back);
    const QString next = post(quickPrompt());
    QCOMPARE(waitFinished(next), std::optional<bool>(true));
    QTRY_VERIFY(back->summaries().contains(QStringLiteral("execution_success")));

    // Down and up again, twice.
    m_node->goDown();
    QVERIFY(m_node->comeUp());
    QCOMPARE(m_node->port(), port);
    QCOMPARE(m_http->get(QStringLiteral("/queue")).status, 200);
}

void TestSimnodeControl::queueDeleteAndClear()
{
    auto ws = connectWs();
    QVERIFY(ws);
    m_node->setHang(true);
    const QString a = post(quickPrompt(QStringLiteral("in.png")));
    const QString b = post(quickPrompt(QStringLiteral("in2.png")));
    const QString c = post(quickPrompt(QStringLiteral("in3.png")));
    QTRY_COMPARE(executingNodes(*ws, a), QStringList{QStringLiteral("1")});
    QCOMPARE(m_node->pendingPromptIds(), QStringList({b, c}));
    QJsonObject queue = m_http->get(QStringLiteral("/queue")).json().toObject();
    QCOMPARE(queue.value("queue_running").toArray().size(), 1);
    QCOMPARE(queue.value("queue_pending").toArray().at(0).toArray().at(1).toString(), b);
    QCOMPARE(queue.value("queue_pending").toArray().at(1).toArray().at(1).toString(), c);

    qsizetype before = ws->messages.size();
    QCOMPARE(m_http->postJson(QStringLiteral("/queue"), {{"delete", QJsonArray{b}}}).status, 200);
    QVERIFY(ws->waitForCount(before + 1));
    QCOMPARE(ws->messages.at(before).summary, QStringLiteral("status(queue_remaining=2)"));
    QCOMPARE(m_node->pendingPromptIds(), QStringList{c});
    // Deleting the last queued prompt wipes the queue: two status messages, as recorded code does.
    before = ws->messages.size();
    QCOMPARE(m_http->postJson(QStringLiteral("/queue"), {{"delete", QJsonArray{c}}}).status, 200);
    QVERIFY(ws->waitForCount(before + 2));
    QCOMPARE(ws->summaries().mid(before),
             QStringList(2, QStringLiteral("status(queue_remaining=1)")));
    const QString d = post(quickPrompt(QStringLiteral("in2.png")));
    QCOMPARE(m_node->pendingPromptIds(), QStringList{d});
    QCOMPARE(m_http->postJson(QStringLiteral("/queue"), {{"clear", true}}).status, 200);
    QVERIFY(m_node->pendingPromptIds().isEmpty());
    QCOMPARE(m_http->request("POST", QStringLiteral("/interrupt"), "{}", "application/json").status,
             200);
    QCOMPARE(waitFinished(a), std::optional<bool>(false));
    m_node->setHang(false);
    QVERIFY(history(b).isEmpty());
    QVERIFY(history(c).isEmpty());
    QCOMPARE(history(a).value("status").toObject().value("status_str").toString(),
             QStringLiteral("error"));
    // /history delete and clear.
    QCOMPARE(m_http->postJson(QStringLiteral("/history"), {{"delete", QJsonArray{a}}}).status, 200);
    QVERIFY(history(a).isEmpty());
    const QString e = post(quickPrompt(QStringLiteral("in3.png")));
    QCOMPARE(waitFinished(e), std::optional<bool>(true));
    QCOMPARE(m_http->get(QStringLiteral("/history")).json().toObject().keys(), QStringList{e});
    QCOMPARE(m_http->postJson(QStringLiteral("/history"), {{"clear", true}}).status, 200);
    QCOMPARE(jsonText(m_http->get(QStringLiteral("/history")).json()), QStringLiteral("{}"));
}

// README of the recordings: two websockets with one clientId; when the older one closes, the
// newer one stops receiving the client's messages.
void TestSimnodeControl::sameClientIdTwice()
{
    auto older = connectWs();
    QVERIFY(older);
    auto newer = connectWs();
    QVERIFY(newer);
    QVERIFY(older->close());
    QTRY_VERIFY(m_node->connectedClientIds().size() == 1);
    const qsizetype before = newer->messages.size();
    const QString id = post(quickPrompt());
    QCOMPARE(waitFinished(id), std::optional<bool>(true));
    QVERIFY(ofType(*newer, QStringLiteral("execution_start"), before).isEmpty());
    QVERIFY(ofType(*newer, QStringLiteral("status"), before).isEmpty());
    // A fresh connection is registered again.
    auto fresh = connectWs();
    QVERIFY(fresh);
    const QString second = post(quickPrompt(QStringLiteral("in2.png")));
    QCOMPARE(waitFinished(second), std::optional<bool>(true));
    QTRY_COMPARE(ofType(*fresh, QStringLiteral("execution_success")).size(), 1);
}

void TestSimnodeControl::resetState()
{
    auto ws = connectWs();
    QVERIFY(ws);
    const QString first = post(quickPrompt());
    QCOMPARE(waitFinished(first), std::optional<bool>(true));
    m_node->setHang(true);
    const QString running = post(quickPrompt(QStringLiteral("in2.png")));
    const QString queued = post(quickPrompt(QStringLiteral("in3.png")));
    QTRY_COMPARE(m_node->runningPromptId(), running);
    m_node->resetState();
    m_node->setHang(false);
    QVERIFY(m_node->runningPromptId().isEmpty());
    QVERIFY(m_node->pendingPromptIds().isEmpty());
    QCOMPARE(jsonText(m_http->get(QStringLiteral("/queue")).json()),
             QStringLiteral(R"({"queue_pending":[],"queue_running":[]})"));
    QCOMPARE(jsonText(m_http->get(QStringLiteral("/history")).json()), QStringLiteral("{}"));
    // Numbers start again at 0 and nothing is cached any more.
    const HttpResponse again = m_http->postJson(QStringLiteral("/prompt"),
                                                {{"prompt", quickPrompt()}, {"client_id", "abc"}});
    QCOMPARE(again.json().toObject().value("number").toInt(), 0);
    const QString id = again.json().toObject().value("prompt_id").toString();
    QCOMPARE(waitFinished(id), std::optional<bool>(true));
    // The same prompt as the first one: it would be cached without the reset.
    auto cachedOf = [&ws, &id]() {
        for (const QJsonObject &data : ofType(*ws, QStringLiteral("execution_cached"))) {
            if (data.value("prompt_id").toString() == id)
                return jsonText(data.value("nodes"));
        }
        return QString();
    };
    QTRY_COMPARE(cachedOf(), QStringLiteral("[]"));
    QVERIFY(!m_node->executedPromptIds().contains(running));
    QVERIFY(!m_node->executedPromptIds().contains(queued));
}

void TestSimnodeControl::txt2imgOrderProgressAndCache()
{
    touch(m_root->filePath(QStringLiteral("models/checkpoints/sd15.safetensors")));
    auto ws = connectWs();
    QVERIFY(ws);
    const QString first = post(txt2img(42, 96, 64, 2, 4));
    QVERIFY(!first.isEmpty());
    QCOMPARE(waitFinished(first), std::optional<bool>(true));
    QTRY_VERIFY(ws->summaries().contains(QStringLiteral("executing(node=null)")));
    // ComfyUI's order for this graph (ExecutionList.ux_friendly_pick_node).
    QCOMPARE(executingNodes(*ws, first), QStringList({"4", "5", "7", "6", "3", "8", "9"}));
    QStringList expected{
        QStringLiteral("status(queue_remaining=0, sid=abc)"),
        QStringLiteral("status(queue_remaining=1)"), QStringLiteral("status(queue_remaining=1)"),
        QStringLiteral("execution_start"), QStringLiteral("execution_cached(nodes=[])")};
    for (const char *n : {"4", "5", "7", "6"})
        expected << QStringLiteral("executing(node=\"%1\")").arg(QLatin1String(n));
    expected << QStringLiteral("executing(node=\"3\")");
    for (int i = 1; i <= 4; ++i)
        expected << QStringLiteral("progress(node=\"3\" %1/4)").arg(i)
                 << QStringLiteral("binary(event_type=1, image_type=1)");
    expected << QStringLiteral("executing(node=\"8\")") << QStringLiteral("executing(node=\"9\")")
             << QStringLiteral("executed(node=\"9\")") << QStringLiteral("execution_success")
             << QStringLiteral("status(queue_remaining=0)")
             << QStringLiteral("executing(node=null)");
    QCOMPARE(ws->summaries(), expected);
    for (const auto &m : std::as_const(ws->messages)) {
        if (m.binary) {
            const FrameInfo frame = frameInfo(m.bytes);
            QCOMPARE(frame.format, QByteArray("JPEG"));
            QCOMPARE(frame.size, QSize(12, 8));
        }
    }
    const QJsonObject executed = ofType(*ws, QStringLiteral("executed")).first();
    QCOMPARE(
        jsonText(executed.value("output")),
        QStringLiteral(
            R"({"images":[{"filename":"fox_00001_.png","subfolder":"","type":"output"},{"filename":"fox_00002_.png","subfolder":"","type":"output"}]})"));
    const HttpResponse view =
        m_http->get(QStringLiteral("/view?filename=fox_00002_.png&type=output"));
    QCOMPARE(view.status, 200);
    QCOMPARE(view.headers.value("content-type"), QByteArray("image/png"));
    const QImage picture = QImage::fromData(view.body);
    QCOMPARE(picture.size(), QSize(96, 64));
    QVERIFY(
        picture.text(QStringLiteral("prompt")).contains(QLatin1String("CheckpointLoaderSimple")));
    const QImage other =
        QImage::fromData(m_http->get(QStringLiteral("/view?filename=fox_00001_.png")).body);
    QVERIFY(other != picture); // the batch holds different pictures

    // The same prompt again: every node cached, only the output reports.
    qsizetype before = ws->messages.size();
    const QString second = post(txt2img(42, 96, 64, 2, 4));
    QCOMPARE(waitFinished(second), std::optional<bool>(true));
    QTRY_VERIFY(ws->summaries().mid(before).contains(QStringLiteral("executing(node=null)")));
    QCOMPARE(
        ws->summaries().mid(before),
        QStringList({"status(queue_remaining=1)", "status(queue_remaining=1)", "execution_start",
                     "execution_cached(nodes=[\"3\", \"4\", \"5\", \"6\", \"7\", \"8\", \"9\"])",
                     "executed(node=\"9\")", "execution_success", "status(queue_remaining=0)",
                     "executing(node=null)"}));
    QCOMPARE(jsonText(history(second).value("outputs")), jsonText(history(first).value("outputs")));

    // Another seed: the loaders, the texts and the latent are still cached.
    before = ws->messages.size();
    const QString third = post(txt2img(43, 96, 64, 2, 4));
    QCOMPARE(waitFinished(third), std::optional<bool>(true));
    QTRY_VERIFY(ws->summaries().mid(before).contains(QStringLiteral("executing(node=null)")));
    QCOMPARE(ofType(*ws, QStringLiteral("execution_cached"), before).first().value("nodes"),
             QJsonValue(QJsonArray{"4", "5", "6", "7"}));
    QCOMPARE(executingNodes(*ws, third), QStringList({"3", "8", "9"}));
    const QImage reseeded =
        QImage::fromData(m_http->get(QStringLiteral("/view?filename=fox_00004_.png")).body);
    QCOMPARE(reseeded.size(), QSize(96, 64));
    QVERIFY(reseeded != picture);
}

void TestSimnodeControl::ksamplerAdvancedRange()
{
    touch(m_root->filePath(QStringLiteral("models/checkpoints/sd15.safetensors")));
    auto ws = connectWs();
    QVERIFY(ws);
    const QJsonObject prompt{
        {"1", node("CheckpointLoaderSimple", {{"ckpt_name", "sd15.safetensors"}})},
        {"2", node("CLIPTextEncode", {{"text", "x"}, {"clip", link("1", 1)}})},
        {"3", node("EmptyLatentImage", {{"width", 64}, {"height", 64}, {"batch_size", 1}})},
        {"4", node("KSamplerAdvanced", {{"model", link("1")},
                                        {"add_noise", "enable"},
                                        {"noise_seed", 5},
                                        {"steps", 10},
                                        {"cfg", 7},
                                        {"sampler_name", "euler"},
                                        {"scheduler", "normal"},
                                        {"positive", link("2")},
                                        {"negative", link("2")},
                                        {"latent_image", link("3")},
                                        {"start_at_step", 2},
                                        {"end_at_step", 6},
                                        {"return_with_leftover_noise", "disable"}})},
        {"5", node("VAEDecode", {{"samples", link("4")}, {"vae", link("1", 2)}})},
        {"6", node("PreviewImage", {{"images", link("5")}})},
    };
    const QString id = post(prompt);
    QCOMPARE(waitFinished(id), std::optional<bool>(true));
    QTRY_VERIFY(ws->summaries().contains(QStringLiteral("executing(node=null)")));
    QStringList progress;
    for (const QJsonObject &p : ofType(*ws, QStringLiteral("progress")))
        progress
            << QStringLiteral("%1/%2").arg(p.value("value").toInt()).arg(p.value("max").toInt());
    QCOMPARE(progress, QStringList({"1/4", "2/4", "3/4", "4/4"}));
    const QJsonObject images = history(id)
                                   .value("outputs")
                                   .toObject()
                                   .value("6")
                                   .toObject()
                                   .value("images")
                                   .toArray()
                                   .at(0)
                                   .toObject();
    QCOMPARE(images.value("type").toString(), QStringLiteral("temp"));
    QVERIFY(QRegularExpression(QStringLiteral("^ComfyUI_temp_[a-z]{5}_00001_\\.png$"))
                .match(images.value("filename").toString())
                .hasMatch());
}

// Model files are not read, except that "NOT A MODEL" fails like the recorded dummy (n).
void TestSimnodeControl::modelFiles()
{
    touch(m_root->filePath(QStringLiteral("models/checkpoints/empty.safetensors")), QByteArray());
    touch(m_root->filePath(QStringLiteral("models/checkpoints/broken.safetensors")),
          "NOT A MODEL at all");
    auto ws = connectWs();
    QVERIFY(ws);
    const QString empty = post(txt2img(1, 64, 64, 1, 1, QStringLiteral("empty.safetensors")));
    QCOMPARE(waitFinished(empty), std::optional<bool>(true));
    const QString broken = post(txt2img(1, 64, 64, 1, 1, QStringLiteral("broken.safetensors")));
    QCOMPARE(waitFinished(broken), std::optional<bool>(false));
    QTRY_COMPARE(ofType(*ws, QStringLiteral("execution_error")).size(), 1);
    const QJsonObject error = ofType(*ws, QStringLiteral("execution_error")).first();
    QCOMPARE(error.value("node_id").toString(), QStringLiteral("4"));
    QCOMPARE(error.value("node_type").toString(), QStringLiteral("CheckpointLoaderSimple"));
    QCOMPARE(error.value("exception_type").toString(), QStringLiteral("RuntimeError"));
    QCOMPARE(error.value("exception_message").toString(),
             QStringLiteral("ERROR: Could not detect model type of: ") + m_node->rootDir() +
                 QStringLiteral("/models/checkpoints/broken.safetensors"));
    QCOMPARE(jsonText(error.value("current_inputs")),
             QStringLiteral(R"({"ckpt_name":["broken.safetensors"]})"));
    QCOMPARE(jsonText(error.value("executed")), QStringLiteral("[]"));
}

void TestSimnodeControl::modelLoadDelay()
{
    // Loading another model than the one loaded last takes the delay; the same model again
    // costs nothing, whether its loader is cached or executed again.
    constexpr int delayMs = 600;
    touch(m_root->filePath(QStringLiteral("models/checkpoints/a.safetensors")));
    touch(m_root->filePath(QStringLiteral("models/checkpoints/b.safetensors")));
    touch(m_root->filePath(QStringLiteral("models/unet/flux.safetensors")));
    m_node->setStepDelayMs(1);
    QCOMPARE(m_node->modelLoadDelayMs(), 0);
    m_node->setModelLoadDelayMs(delayMs);
    QCOMPARE(m_node->modelLoadDelayMs(), delayMs);
    QCOMPARE(m_node->loadedModel(), QString());
    QCOMPARE(m_node->modelLoads(), 0);
    auto ws = connectWs();
    QVERIFY(ws);
    // Milliseconds from POST /prompt to promptFinished(success).
    auto run = [this](const QByteArray &prompt) -> qint64 {
        QElapsedTimer timer;
        timer.start();
        const QString id = post(prompt);
        if (id.isEmpty() || waitFinished(id) != std::optional<bool>(true))
            return -1;
        return timer.elapsed();
    };
    // Qt's coarse timers may fire up to 5% early.
    const qint64 switched = delayMs * 95 / 100;

    qint64 ms = run(txt2img(1, 64, 64, 1, 1, QStringLiteral("a.safetensors")));
    QVERIFY2(ms >= switched, qPrintable(QStringLiteral("first load took %1 ms").arg(ms)));
    QCOMPARE(m_node->loadedModel(), QStringLiteral("a.safetensors"));
    QCOMPARE(m_node->modelLoads(), 1);

    // The same checkpoint: its loader is cached (same inputs as the previous prompt).
    ms = run(txt2img(2, 64, 64, 1, 1, QStringLiteral("a.safetensors")));
    QVERIFY2(ms >= 0 && ms < delayMs, qPrintable(QStringLiteral("took %1 ms").arg(ms)));
    QCOMPARE(m_node->modelLoads(), 1);

    // A prompt without a loader drops it from the cache: it executes again, but the model is
    // still the loaded one.
    QCOMPARE(waitFinished(post(quickPrompt())), std::optional<bool>(true));
    const qsizetype before = ofType(*ws, QStringLiteral("executing")).size();
    ms = run(txt2img(3, 64, 64, 1, 1, QStringLiteral("a.safetensors")));
    QVERIFY2(ms >= 0 && ms < delayMs, qPrintable(QStringLiteral("took %1 ms").arg(ms)));
    bool loaderExecuted = false;
    for (const QJsonObject &data : ofType(*ws, QStringLiteral("executing"), before))
        loaderExecuted = loaderExecuted || data.value("node").toString() == QStringLiteral("4");
    QVERIFY(loaderExecuted);
    QCOMPARE(m_node->modelLoads(), 1);

    // Another checkpoint, and back: two switches.
    ms = run(txt2img(4, 64, 64, 1, 1, QStringLiteral("b.safetensors")));
    QVERIFY2(ms >= switched, qPrintable(QStringLiteral("switch took %1 ms").arg(ms)));
    QCOMPARE(m_node->loadedModel(), QStringLiteral("b.safetensors"));
    ms = run(txt2img(5, 64, 64, 1, 1, QStringLiteral("a.safetensors")));
    QVERIFY2(ms >= switched, qPrintable(QStringLiteral("switch took %1 ms").arg(ms)));
    QCOMPARE(m_node->modelLoads(), 3);

    // A UNet loader counts too (the checkpoint's loader is cached here).
    QJsonObject withUnet = QJsonDocument::fromJson(txt2img(5, 64, 64, 1, 1, "a.safetensors"))
                               .object()
                               .value("prompt")
                               .toObject();
    withUnet.insert(
        "10", node("UNETLoader", {{"unet_name", "flux.safetensors"}, {"weight_dtype", "default"}}));
    QJsonObject sampler = withUnet.value("3").toObject();
    QJsonObject inputs = sampler.value("inputs").toObject();
    inputs.insert("model", link("10"));
    sampler.insert("inputs", inputs);
    withUnet.insert("3", sampler);
    ms = run(QJsonDocument(withUnet).toJson(QJsonDocument::Compact));
    QVERIFY2(ms >= switched, qPrintable(QStringLiteral("UNet load took %1 ms").arg(ms)));
    QCOMPARE(m_node->loadedModel(), QStringLiteral("flux.safetensors"));
    QCOMPARE(m_node->modelLoads(), 4);

    // A model that fails to load is not loaded.
    touch(m_root->filePath(QStringLiteral("models/checkpoints/broken.safetensors")),
          "NOT A MODEL at all");
    const QString broken = post(txt2img(6, 64, 64, 1, 1, QStringLiteral("broken.safetensors")));
    QCOMPARE(waitFinished(broken), std::optional<bool>(false));
    QCOMPARE(m_node->loadedModel(), QStringLiteral("flux.safetensors"));
    QCOMPARE(m_node->modelLoads(), 4);

    // A restarted node has nothing loaded; the count stays.
    m_node->resetState();
    QCOMPARE(m_node->loadedModel(), QString());
    QCOMPARE(m_node->modelLoads(), 4);
}

void TestSimnodeControl::img2imgKeepsTheSize()
{
    touch(m_root->filePath(QStringLiteral("models/checkpoints/sd15.safetensors")));
    writePng(m_root->filePath(QStringLiteral("input/photo.png")), 44, 30, 9);
    const QJsonObject prompt{
        {"1", node("CheckpointLoaderSimple", {{"ckpt_name", "sd15.safetensors"}})},
        {"2", node("CLIPTextEncode", {{"text", "x"}, {"clip", link("1", 1)}})},
        {"3", node("LoadImage", {{"image", "photo.png"}})},
        {"4", node("VAEEncode", {{"pixels", link("3")}, {"vae", link("1", 2)}})},
        {"5", node("KSampler", {{"model", link("1")},
                                {"seed", 1},
                                {"steps", 2},
                                {"cfg", 7},
                                {"sampler_name", "euler"},
                                {"scheduler", "normal"},
                                {"positive", link("2")},
                                {"negative", link("2")},
                                {"latent_image", link("4")},
                                {"denoise", 0.5}})},
        {"6", node("VAEDecode", {{"samples", link("5")}, {"vae", link("1", 2)}})},
        {"7", node("SaveImage", {{"images", link("6")}, {"filename_prefix", "img2img"}})},
    };
    const QString id = post(prompt);
    QCOMPARE(waitFinished(id), std::optional<bool>(true));
    const QImage out =
        QImage::fromData(m_http->get(QStringLiteral("/view?filename=img2img_00001_.png")).body);
    QCOMPARE(out.size(), QSize(40, 24));
}

void TestSimnodeControl::repeatLatentBatch()
{
    // An encoded picture repeated into a batch: one output image per repeat, of its size.
    touch(m_root->filePath(QStringLiteral("models/checkpoints/sd15.safetensors")));
    writePng(m_root->filePath(QStringLiteral("input/photo.png")), 48, 32, 3);
    const QJsonObject prompt{
        {"1", node("CheckpointLoaderSimple", {{"ckpt_name", "sd15.safetensors"}})},
        {"2", node("LoadImage", {{"image", "photo.png"}})},
        {"3", node("VAEEncode", {{"pixels", link("2")}, {"vae", link("1", 2)}})},
        {"4", node("RepeatLatentBatch", {{"samples", link("3")}, {"amount", 3}})},
        {"5", node("VAEDecode", {{"samples", link("4")}, {"vae", link("1", 2)}})},
        {"6", node("SaveImage", {{"images", link("5")}, {"filename_prefix", "repeat"}})},
    };
    const QString id = post(prompt);
    QCOMPARE(waitFinished(id), std::optional<bool>(true));
    const QJsonArray images =
        history(id).value("outputs").toObject().value("6").toObject().value("images").toArray();
    QCOMPARE(images.size(), 3);
    for (const QJsonValue &image : images) {
        const QImage out = QImage::fromData(m_http
                                                ->get(QStringLiteral("/view?filename=") +
                                                      image.toObject().value("filename").toString())
                                                .body);
        QCOMPARE(out.size(), QSize(48, 32));
    }
}

void TestSimnodeControl::generatedBatchOverWebsocket()
{
    touch(m_root->filePath(QStringLiteral("models/checkpoints/sd15.safetensors")));
    auto ws = connectWs();
    QVERIFY(ws);
    const QJsonObject prompt{
        {"1", node("CheckpointLoaderSimple", {{"ckpt_name", "sd15.safetensors"}})},
        {"2", node("EmptyLatentImage", {{"width", 32}, {"height", 24}, {"batch_size", 2}})},
        {"3", node("VAEDecode", {{"samples", link("2")}, {"vae", link("1", 2)}})},
        {"4", node("SaveImageWebsocket", {{"images", link("3")}})},
    };
    const QString id = post(prompt);
    QCOMPARE(waitFinished(id), std::optional<bool>(true));
    QTRY_VERIFY(ws->summaries().contains(QStringLiteral("executing(node=null)")));
    QStringList tail = ws->summaries();
    tail = tail.mid(tail.indexOf(QStringLiteral("executing(node=\"4\")")));
    QCOMPARE(tail, QStringList({"executing(node=\"4\")", "progress(node=\"4\" 0/2)",
                                "binary(event_type=1, image_type=2)", "progress(node=\"4\" 1/2)",
                                "binary(event_type=1, image_type=2)", "execution_success",
                                "status(queue_remaining=0)", "executing(node=null)"}));
    for (const auto &m : std::as_const(ws->messages)) {
        if (m.binary)
            QCOMPARE(frameInfo(m.bytes).size, QSize(32, 24));
    }
    QCOMPARE(jsonText(history(id).value("outputs")), QStringLiteral("{}"));
}

void TestSimnodeControl::genericNodeClass()
{
    // ImageBlur is not simulated in detail: it passes its picture through.
    const QJsonObject prompt{
        {"1", node("LoadImage", {{"image", "in.png"}})},
        {"2", node("ImageBlur", {{"image", link("1")}, {"blur_radius", 3}, {"sigma", 1.0}})},
        {"3", node("SaveImage", {{"images", link("2")}, {"filename_prefix", "blur"}})},
    };
    const QString id = post(prompt);
    QCOMPARE(waitFinished(id), std::optional<bool>(true));
    const QImage out =
        QImage::fromData(m_http->get(QStringLiteral("/view?filename=blur_00001_.png")).body);
    QCOMPARE(out.size(), QSize(24, 16));
}

void TestSimnodeControl::viewRejectsTraversal()
{
    writePng(m_root->filePath(QStringLiteral("output/sub/x.png")), 4, 4);
    QCOMPARE(m_http->get(QStringLiteral("/view?filename=x.png&subfolder=sub&type=output")).status,
             200);
    QCOMPARE(m_http->get(QStringLiteral("/api/view?filename=x.png&subfolder=sub")).status, 200);
    QCOMPARE(m_http->get(QStringLiteral("/view?filename=../input/in.png")).status, 400);
    QCOMPARE(m_http->get(QStringLiteral("/view?filename=/etc/passwd")).status, 400);
    QCOMPARE(m_http->get(QStringLiteral("/view?filename=in.png&subfolder=../input")).status, 403);
    QCOMPARE(m_http->get(QStringLiteral("/view?filename=in.png&type=nope")).status, 400);
    QCOMPARE(m_http->get(QStringLiteral("/view?filename=in.png&type=input")).status, 200);
    QCOMPARE(m_http->get(QStringLiteral("/view?filename=in.png [input]")).status, 200);
    QCOMPARE(m_http->get(QStringLiteral("/view?filename=missing.png")).status, 404);
    QCOMPARE(m_http->get(QStringLiteral("/view")).status, 404);
    QCOMPARE(m_http->get(QStringLiteral("/no/such/route")).status, 404);
    QCOMPARE(m_http->get(QStringLiteral("/interrupt")).status, 405);
}

void TestSimnodeControl::uploadNames()
{
    auto upload = [this](const QString &name, const QByteArray &content,
                         const QList<QPair<QString, QString>> &fields = {}) {
        const QByteArray boundary = "----b0undary";
        return m_http->request(
            "POST", QStringLiteral("/upload/image"),
            multipartBody(boundary, QStringLiteral("image"), name, content, fields),
            "multipart/form-data; boundary=" + boundary);
    };
    HttpResponse r = upload(QStringLiteral("u.png"), "AAAA");
    QCOMPARE(r.status, 200);
    QCOMPARE(jsonText(r.json()),
             QStringLiteral(R"({"name":"u.png","subfolder":"","type":"input"})"));
    r = upload(QStringLiteral("u.png"), "AAAA"); // the same file: kept once
    QCOMPARE(r.json().toObject().value("name").toString(), QStringLiteral("u.png"));
    r = upload(QStringLiteral("u.png"), "BBBB");
    QCOMPARE(r.json().toObject().value("name").toString(), QStringLiteral("u (1).png"));
    r = upload(QStringLiteral("u.png"), "CCCC",
               {{QStringLiteral("overwrite"), QStringLiteral("true")}});
    QCOMPARE(r.json().toObject().value("name").toString(), QStringLiteral("u.png"));
    QFile file(m_root->filePath(QStringLiteral("input/u.png")));
    QVERIFY(file.open(QIODevice::ReadOnly));
    QCOMPARE(file.readAll(), QByteArray("CCCC"));
    r = upload(QStringLiteral("s.png"), "DDDD",
               {{QStringLiteral("subfolder"), QStringLiteral("sub")}});
    QCOMPARE(jsonText(r.json()),
             QStringLiteral(R"({"name":"s.png","subfolder":"sub","type":"input"})"));
    QVERIFY(QFile::exists(m_root->filePath(QStringLiteral("input/sub/s.png"))));
    QCOMPARE(upload(QStringLiteral("../evil.png"), "EEEE").status, 400);
    QVERIFY(!QFile::exists(m_root->filePath(QStringLiteral("evil.png"))));
}

void TestSimnodeControl::executable()
{
    QProcess process;
    process.setProgram(QStringLiteral(SIMNODE_EXECUTABLE));
    process.setArguments({QStringLiteral("--port"), QStringLiteral("0"), QStringLiteral("--root"),
                          m_root->filePath(QStringLiteral("exe")),
                          QStringLiteral("--step-delay-ms"), QStringLiteral("1")});
    process.start();
    QVERIFY(process.waitForStarted(5000));
    QByteArray out;
    QTRY_VERIFY_WITH_TIMEOUT((out += process.readAllStandardOutput()).contains("listening on http"),
                             10000);
    QVERIFY(out.contains("SIMULATED ComfyUI node"));
    const QRegularExpression url(QStringLiteral("(http://127\\.0\\.0\\.1:\\d+/)"));
    const auto match = url.match(QString::fromUtf8(out));
    QVERIFY(match.hasMatch());
    Http http{QUrl(match.captured(1))};
    const HttpResponse stats = http.get(QStringLiteral("/system_stats"));
    QCOMPARE(stats.status, 200);
    QVERIFY(stats.json()
                .toObject()
                .value("system")
                .toObject()
                .value("comfyui_version")
                .toString()
                .startsWith(QLatin1String("simulated")));
    QVERIFY(QDir(m_root->filePath(QStringLiteral("exe/models/checkpoints"))).exists());
    process.kill();
    QVERIFY(process.waitForFinished(5000));
}

QTEST_GUILESS_MAIN(TestSimnodeControl)
#include "test_simnode_control.moc"
