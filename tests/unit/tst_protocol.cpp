// comfy::protocol against the transcripts recorded from a real ComfyUI node
// (tests/data/comfyui): every websocket text message, the binary frames, the /prompt
// rejections and the execution errors.
#include "comfy/protocol.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QMap>
#include <QRegularExpression>
#include <QTest>
#include <QUrlQuery>

using namespace comfy::protocol;

Q_DECLARE_METATYPE(comfy::protocol::MessageType)

namespace {

QString transcriptDir()
{
    return QStringLiteral(COMFY_TEST_DATA "/comfyui");
}

QJsonObject transcript(const QString &name)
{
    QFile file(transcriptDir() + QLatin1Char('/') + name + QStringLiteral(".json"));
    if (!file.open(QIODevice::ReadOnly))
        qFatal("cannot open transcript %s", qPrintable(file.fileName()));
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(file.readAll(), &error);
    if (error.error != QJsonParseError::NoError)
        qFatal("transcript %s: %s", qPrintable(name), qPrintable(error.errorString()));
    return document.object();
}

QList<QJsonObject> events(const QJsonObject &transcript, const QString &channel,
                          const QString &kind = {})
{
    QList<QJsonObject> result;
    for (const QJsonValue &value : transcript.value(QLatin1String("events")).toArray()) {
        const QJsonObject event = value.toObject();
        if (event.value(QLatin1String("channel")).toString() != channel)
            continue;
        if (!kind.isEmpty() && event.value(QLatin1String("kind")).toString() != kind)
            continue;
        result << event;
    }
    return result;
}

// All recorded websocket text messages of a transcript, as the node sent them (compact JSON).
QList<QJsonObject> textMessages(const QJsonObject &transcript)
{
    QList<QJsonObject> result;
    for (const QJsonObject &event :
         events(transcript, QStringLiteral("ws"), QStringLiteral("text")))
        result << event.value(QLatin1String("message")).toObject();
    return result;
}

QByteArray wire(const QJsonObject &message)
{
    return QJsonDocument(message).toJson(QJsonDocument::Compact);
}

QJsonObject eventBySeq(const QJsonObject &transcript, int seq)
{
    for (const QJsonValue &value : transcript.value(QLatin1String("events")).toArray())
        if (value.toObject().value(QLatin1String("seq")).toInt(-1) == seq)
            return value.toObject();
    return {};
}

// The contract of the recorded protocol: each message type ComfyUI v0.3.10 sends.
MessageType expectedType(const QString &name)
{
    static const QMap<QString, MessageType> types{
        {QStringLiteral("status"), MessageType::Status},
        {QStringLiteral("execution_start"), MessageType::ExecutionStart},
        {QStringLiteral("execution_cached"), MessageType::ExecutionCached},
        {QStringLiteral("executing"), MessageType::Executing},
        {QStringLiteral("progress"), MessageType::Progress},
        {QStringLiteral("executed"), MessageType::Executed},
        {QStringLiteral("execution_success"), MessageType::ExecutionSuccess},
        {QStringLiteral("execution_error"), MessageType::ExecutionError},
        {QStringLiteral("execution_interrupted"), MessageType::ExecutionInterrupted},
    };
    return types.value(name, MessageType::Unknown);
}

QString typeKey(MessageType type)
{
    switch (type) {
    case MessageType::Status:
        return QStringLiteral("status");
    case MessageType::ExecutionStart:
        return QStringLiteral("execution_start");
    case MessageType::ExecutionCached:
        return QStringLiteral("execution_cached");
    case MessageType::Executing:
        return QStringLiteral("executing");
    case MessageType::Progress:
        return QStringLiteral("progress");
    case MessageType::Executed:
        return QStringLiteral("executed");
    case MessageType::ExecutionSuccess:
        return QStringLiteral("execution_success");
    case MessageType::ExecutionError:
        return QStringLiteral("execution_error");
    case MessageType::ExecutionInterrupted:
        return QStringLiteral("execution_interrupted");
    case MessageType::Unknown:
        break;
    }
    return QStringLiteral("unknown");
}

// "node 2 (...)": the id as a word of its own, not as a digit inside a uuid or a number.
bool namesWord(const QString &text, const QString &word)
{
    const QRegularExpression re(QStringLiteral("(^|[^0-9A-Za-z_])%1($|[^0-9A-Za-z_])")
                                    .arg(QRegularExpression::escape(word)));
    return re.match(text).hasMatch();
}

QByteArray pngSignature()
{
    return QByteArray::fromHex("89504e470d0a1a0a");
}

} // namespace

class TestProtocol : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void everyTranscriptIsTested();
    void recordedTextMessages_data();
    void recordedTextMessages();
    void recordedSpotChecks_data();
    void recordedSpotChecks();
    void otherTextMessages_data();
    void otherTextMessages();
    void recordedFullBinaryFrame();
    void recordedBinaryHeaders();
    void binaryFrames_data();
    void binaryFrames();
    void imagesOfRecordedOutputs();
    void imagesOfOtherOutputs();
    void describeRecordedRejections_data();
    void describeRecordedRejections();
    void everyRecordedRejectionIsDescribed();
    void describeRecordedExecutionErrors();
    void describeRecordedInterruption();
    void sniffImageType_data();
    void sniffImageType();
};

namespace {
// Per transcript: how many messages of each type it holds, and how many `executing` carry
// `"node": null` (the end of a prompt). Counted from the recordings.
void addTranscriptRows()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("counts");
    QTest::addColumn<int>("endsOfPrompt");
    auto row = [](const char *file, const char *counts, int ends) {
        QTest::newRow(file) << QString::fromLatin1(file) << QString::fromLatin1(counts) << ends;
    };
    row("a2_scale_invert_save",
        "status=4 execution_start=1 execution_cached=1 executing=5 executed=1 execution_success=1",
        1);
    row("a_save_image",
        "status=4 execution_start=1 execution_cached=1 executing=4 executed=1 execution_success=1",
        1);
    row("b_preview_image",
        "status=4 execution_start=1 execution_cached=1 executing=4 executed=1 execution_success=1",
        1);
    row("c_save_image_websocket",
        "status=7 execution_start=2 execution_cached=2 executing=8 progress=4 execution_success=2",
        2);
    row("d_invalid_workflows", "status=1", 0);
    row("e_missing_input_file",
        "status=4 execution_start=1 execution_cached=1 executing=2 execution_error=1", 1);
    row("f_submit_twice",
        "status=13 execution_start=4 execution_cached=4 executing=10 executed=4 "
        "execution_success=4",
        4);
    row("g_interrupt",
        "status=7 execution_start=2 execution_cached=2 executing=6 progress=3 executed=1 "
        "execution_success=1 execution_interrupted=1",
        2);
    row("h_progress_custom_node",
        "status=4 execution_start=1 execution_cached=1 executing=3 progress=5 executed=1 "
        "execution_success=1",
        1);
    row("i_execution_error_custom_node",
        "status=4 execution_start=1 execution_cached=1 executing=2 progress=2 execution_error=1",
        1);
    row("j_upload_and_misc_http", "status=2", 0);
    row("k_timing",
        "status=28 execution_start=9 execution_cached=9 executing=27 executed=9 "
        "execution_success=9",
        9);
    row("l_other_clients",
        "status=30 execution_start=1 execution_cached=1 executing=4 progress=9 executed=1 "
        "execution_success=1",
        1);
    row("m_reconnect_during_run",
        "status=5 execution_start=1 execution_cached=1 executing=4 progress=9 executed=1 "
        "execution_success=1",
        1);
    row("n_symlinked_model_and_input",
        "status=7 execution_start=2 execution_cached=2 executing=6 executed=1 "
        "execution_success=1 execution_error=1",
        2);
}
} // namespace

void TestProtocol::everyTranscriptIsTested()
{
    // A transcript added to the data folder must get its row in recordedTextMessages_data.
    QStringList onDisk =
        QDir(transcriptDir()).entryList({QStringLiteral("*.json")}, QDir::Files, QDir::Name);
    onDisk.removeAll(QStringLiteral("index.json"));
    onDisk.removeAll(QStringLiteral("object_info.json"));
    QVERIFY(onDisk.size() >= 15);
    QStringList tested{"a2_scale_invert_save.json",
                       "a_save_image.json",
                       "b_preview_image.json",
                       "c_save_image_websocket.json",
                       "d_invalid_workflows.json",
                       "e_missing_input_file.json",
                       "f_submit_twice.json",
                       "g_interrupt.json",
                       "h_progress_custom_node.json",
                       "i_execution_error_custom_node.json",
                       "j_upload_and_misc_http.json",
                       "k_timing.json",
                       "l_other_clients.json",
                       "m_reconnect_during_run.json",
                       "n_symlinked_model_and_input.json"};
    onDisk.sort();
    tested.sort();
    QCOMPARE(onDisk, tested);
}

void TestProtocol::recordedTextMessages_data()
{
    addTranscriptRows();
}

void TestProtocol::recordedTextMessages()
{
    QFETCH(QString, file);
    QFETCH(QString, counts);
    QFETCH(int, endsOfPrompt);

    QMap<QString, int> seen;
    int ends = 0;
    const QList<QJsonObject> messages = textMessages(transcript(file));
    QVERIFY(!messages.isEmpty());
    for (const QJsonObject &recorded : messages) {
        const QByteArray text = wire(recorded);
        const QString typeName = recorded.value(QLatin1String("type")).toString();
        const QJsonObject data = recorded.value(QLatin1String("data")).toObject();

        const std::optional<Message> message = parseText(text);
        QVERIFY2(message, text.constData());
        QCOMPARE(message->typeName, typeName);
        QCOMPARE(message->type, expectedType(typeName));
        QVERIFY2(message->type != MessageType::Unknown, text.constData());
        QCOMPARE(message->data, data);

        // prompt_id: every execution message has one; status messages have none.
        const QJsonValue promptId = data.value(QLatin1String("prompt_id"));
        QCOMPARE(message->promptId, promptId.isString() ? promptId.toString() : QString());
        if (message->type == MessageType::Status)
            QVERIFY(message->promptId.isEmpty());
        else if (message->type != MessageType::Executing) // a reconnect's executing has none
            QVERIFY2(!message->promptId.isEmpty(), text.constData());

        // node: a string, null (the end of a prompt, or another client's progress), or absent.
        const QJsonValue node = data.value(QLatin1String("node"));
        if (node.isString()) {
            QCOMPARE(message->node, node.toString());
            QVERIFY(!message->node.isEmpty());
            QCOMPARE(message->nodeIsNull, false);
        } else if (node.isNull()) {
            QVERIFY(message->node.isEmpty());
            QCOMPARE(message->nodeIsNull, true);
        } else {
            QVERIFY(message->node.isEmpty());
            QCOMPARE(message->nodeIsNull, false);
        }
        if (message->type == MessageType::Executing && message->nodeIsNull)
            ++ends;

        if (message->type == MessageType::Progress) {
            QCOMPARE(message->value, data.value(QLatin1String("value")).toInt(-1));
            QCOMPARE(message->max, data.value(QLatin1String("max")).toInt(-1));
            QVERIFY(message->max > 0);
            QVERIFY(message->value >= 0 && message->value <= message->max);
        }
        if (message->type == MessageType::Status) {
            const int queue = data.value(QLatin1String("status"))
                                  .toObject()
                                  .value(QLatin1String("exec_info"))
                                  .toObject()
                                  .value(QLatin1String("queue_remaining"))
                                  .toInt(-2);
            QVERIFY(queue >= 0);
            QCOMPARE(message->queueRemaining, queue);
        }
        ++seen[typeKey(message->type)];
    }

    QStringList actual;
    const QStringList order{"status",
                            "execution_start",
                            "execution_cached",
                            "executing",
                            "progress",
                            "executed",
                            "execution_success",
                            "execution_error",
                            "execution_interrupted",
                            "unknown"};
    for (const QString &type : order)
        if (seen.value(type))
            actual << QStringLiteral("%1=%2").arg(type).arg(seen.value(type));
    QCOMPARE(actual.join(QLatin1Char(' ')), counts);
    QCOMPARE(ends, endsOfPrompt);
}

void TestProtocol::recordedSpotChecks_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<int>("seq");
    QTest::addColumn<MessageType>("type");
    QTest::addColumn<QString>("promptId");
    QTest::addColumn<QString>("node");
    QTest::addColumn<bool>("nodeIsNull");
    QTest::addColumn<int>("value");
    QTest::addColumn<int>("max");
    QTest::addColumn<int>("queueRemaining");

    const QString a = QStringLiteral("2419b760-4792-4e8e-bfb3-2322a744f918");
    QTest::newRow("a: first status (with sid)") << "a_save_image" << 1 << MessageType::Status
                                                << QString() << QString() << false << 0 << 0 << 0;
    QTest::newRow("a: status queue 1") << "a_save_image" << 5 << MessageType::Status << QString()
                                       << QString() << false << 0 << 0 << 1;
    QTest::newRow("a: execution_start") << "a_save_image" << 7 << MessageType::ExecutionStart << a
                                        << QString() << false << 0 << 0 << -1;
    QTest::newRow("a: execution_cached") << "a_save_image" << 8 << MessageType::ExecutionCached << a
                                         << QString() << false << 0 << 0 << -1;
    QTest::newRow("a: executing 1")
        << "a_save_image" << 9 << MessageType::Executing << a << "1" << false << 0 << 0 << -1;
    QTest::newRow("a: executed 3")
        << "a_save_image" << 12 << MessageType::Executed << a << "3" << false << 0 << 0 << -1;
    QTest::newRow("a: execution_success") << "a_save_image" << 13 << MessageType::ExecutionSuccess
                                          << a << QString() << false << 0 << 0 << -1;
    QTest::newRow("a: executing null ends the prompt")
        << "a_save_image" << 15 << MessageType::Executing << a << QString() << true << 0 << 0 << -1;
    QTest::newRow("c: SaveImageWebsocket progress 0/1")
        << "c_save_image_websocket" << 10 << MessageType::Progress
        << "c174f1bf-55de-484b-941a-9f48db36d425"
        << "3" << false << 0 << 1 << -1;
    QTest::newRow("c: SaveImageWebsocket progress 2/3")
        << "c_save_image_websocket" << 27 << MessageType::Progress
        << "10d7b9d1-15ef-4167-a95a-900968abadd6"
        << "3" << false << 2 << 3 << -1;
    QTest::newRow("h: custom node progress 3/5")
        << "h_progress_custom_node" << 12 << MessageType::Progress
        << "d4a1a26e-474f-45cc-a2e8-3d656efee5ba"
        << "1" << false << 3 << 5 << -1;
    QTest::newRow("l: progress with null node")
        << "l_other_clients" << 48 << MessageType::Progress
        << "750d0120-2f67-4c91-b04a-9c4471b8593a" << QString() << true << 2 << 3 << -1;
    QTest::newRow("m: executing after reconnect, no prompt_id")
        << "m_reconnect_during_run" << 15 << MessageType::Executing << QString() << "1" << false
        << 0 << 0 << -1;
    QTest::newRow("e: execution_error")
        << "e_missing_input_file" << 9 << MessageType::ExecutionError
        << "670c7f1c-1fb0-4d55-8652-139420b555c4" << QString() << false << 0 << 0 << -1;
    QTest::newRow("g: execution_interrupted")
        << "g_interrupt" << 18 << MessageType::ExecutionInterrupted
        << "5c9e028d-a1b4-4daf-8d1b-fd8f8c079bb6" << QString() << false << 0 << 0 << -1;
}

void TestProtocol::recordedSpotChecks()
{
    QFETCH(QString, file);
    QFETCH(int, seq);
    QFETCH(MessageType, type);
    QFETCH(QString, promptId);
    QFETCH(QString, node);
    QFETCH(bool, nodeIsNull);
    QFETCH(int, value);
    QFETCH(int, max);
    QFETCH(int, queueRemaining);

    const QJsonObject event = eventBySeq(transcript(file), seq);
    QCOMPARE(event.value(QLatin1String("kind")).toString(), QStringLiteral("text"));
    const std::optional<Message> message =
        parseText(wire(event.value(QLatin1String("message")).toObject()));
    QVERIFY(message);
    QCOMPARE(message->type, type);
    QCOMPARE(message->promptId, promptId);
    QCOMPARE(message->node, node);
    QCOMPARE(message->nodeIsNull, nodeIsNull);
    if (type == MessageType::Progress) {
        QCOMPARE(message->value, value);
        QCOMPARE(message->max, max);
    }
    if (type == MessageType::Status)
        QCOMPARE(message->queueRemaining, queueRemaining);
}

void TestProtocol::otherTextMessages_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<bool>("parses");
    QTest::addColumn<MessageType>("type");
    QTest::addColumn<QString>("typeName");

    // Newer ComfyUI sends types v0.3.10 does not: parsed, but Unknown (and then ignored).
    QTest::newRow("progress_state")
        << QByteArray(R"({"type":"progress_state","data":{"prompt_id":"p","nodes":{}}})") << true
        << MessageType::Unknown << "progress_state";
    QTest::newRow("feature_flags") << QByteArray(R"({"type":"feature_flags","data":{}})") << true
                                   << MessageType::Unknown << "feature_flags";
    QTest::newRow("custom node monitor")
        << QByteArray(R"({"type":"crystools.monitor","data":{"cpu_utilization":3}})") << true
        << MessageType::Unknown << "crystools.monitor";
    QTest::newRow("no type") << QByteArray(R"({"data":{"node":"1"}})") << true
                             << MessageType::Unknown << QString();
    QTest::newRow("type not a string")
        << QByteArray(R"({"type":7,"data":{}})") << true << MessageType::Unknown << QString();
    QTest::newRow("type in other case")
        << QByteArray(R"({"type":"STATUS","data":{}})") << true << MessageType::Unknown << "STATUS";

    // Not a JSON object at all: nothing.
    QTest::newRow("empty") << QByteArray() << false << MessageType::Unknown << QString();
    QTest::newRow("not json") << QByteArray("hello") << false << MessageType::Unknown << QString();
    QTest::newRow("truncated") << QByteArray(R"({"type":"status","data":{)") << false
                               << MessageType::Unknown << QString();
    QTest::newRow("array") << QByteArray(R"([{"type":"status"}])") << false << MessageType::Unknown
                           << QString();
    QTest::newRow("string") << QByteArray(R"("status")") << false << MessageType::Unknown
                            << QString();
}

void TestProtocol::otherTextMessages()
{
    QFETCH(QByteArray, text);
    QFETCH(bool, parses);
    QFETCH(MessageType, type);
    QFETCH(QString, typeName);
    const std::optional<Message> message = parseText(text);
    QCOMPARE(message.has_value(), parses);
    if (!parses)
        return;
    QCOMPARE(message->type, type);
    QCOMPARE(message->typeName, typeName);
}

void TestProtocol::recordedFullBinaryFrame()
{
    const QJsonObject c = transcript(QStringLiteral("c_save_image_websocket"));
    QJsonObject recorded;
    for (const QJsonObject &event : events(c, QStringLiteral("ws"), QStringLiteral("binary")))
        if (event.contains(QLatin1String("full_frame_base64")))
            recorded = event;
    QVERIFY2(!recorded.isEmpty(), "c_save_image_websocket has no full frame");
    const QByteArray frame = QByteArray::fromBase64(
        recorded.value(QLatin1String("full_frame_base64")).toString().toLatin1());
    QCOMPARE(frame.size(), 123); // "length" of the recording
    QCOMPARE(frame.size(), recorded.value(QLatin1String("length")).toInt());

    const std::optional<BinaryFrame> parsed = parseBinary(frame);
    QVERIFY(parsed);
    QCOMPARE(parsed->eventType, quint32(1));
    QCOMPARE(parsed->eventType, BinaryFrame::PreviewImage);
    QCOMPARE(parsed->imageType, quint32(2));
    QCOMPARE(parsed->image.size(), 123 - 8);
    QVERIFY(parsed->image.startsWith(pngSignature()));
    QCOMPARE(parsed->image, frame.mid(8));
    QCOMPARE(parsed->mimeType(), QByteArray("image/png"));
    QCOMPARE(comfy::protocol::sniffImageType(parsed->image), QByteArray("image/png"));
}

void TestProtocol::recordedBinaryHeaders()
{
    // Every other recorded frame is summarised by its first 16 bytes: the header and the start
    // of the image. Enough for the event type, the image type and the content type.
    int frames = 0;
    const QStringList files{"c_save_image_websocket", "g_interrupt", "h_progress_custom_node",
                            "i_execution_error_custom_node", "l_other_clients"};
    for (const QString &file : files) {
        for (const QJsonObject &event :
             events(transcript(file), QStringLiteral("ws"), QStringLiteral("binary"))) {
            const QByteArray head =
                QByteArray::fromHex(event.value(QLatin1String("head16_hex")).toString().toLatin1());
            QCOMPARE(head.size(), 16);
            const std::optional<BinaryFrame> parsed = parseBinary(head);
            QVERIFY(parsed);
            QCOMPARE(parsed->eventType, quint32(event.value(QLatin1String("event_type")).toInt()));
            QCOMPARE(parsed->imageType, quint32(event.value(QLatin1String("image_type")).toInt()));
            QCOMPARE(parsed->image, head.mid(8));
            const QString format = event.value(QLatin1String("image"))
                                       .toObject()
                                       .value(QLatin1String("format"))
                                       .toString();
            const QByteArray mime =
                format == QLatin1String("PNG") ? QByteArray("image/png") : QByteArray("image/jpeg");
            QCOMPARE(parsed->mimeType(), mime);
            ++frames;
        }
    }
    QCOMPARE(frames, 23); // every binary frame of the recordings
}

void TestProtocol::binaryFrames_data()
{
    QTest::addColumn<QByteArray>("frame");
    QTest::addColumn<bool>("parses");
    QTest::addColumn<quint32>("eventType");
    QTest::addColumn<quint32>("imageType");
    QTest::addColumn<QByteArray>("image");
    QTest::addColumn<QByteArray>("mimeType");

    const QByteArray jpeg = QByteArray::fromHex("ffd8ffe000104a464946");
    QTest::newRow("empty") << QByteArray() << false << 0u << 0u << QByteArray() << QByteArray();
    QTest::newRow("1 byte") << QByteArray::fromHex("00") << false << 0u << 0u << QByteArray()
                            << QByteArray();
    QTest::newRow("4 bytes") << QByteArray::fromHex("00000001") << false << 0u << 0u << QByteArray()
                             << QByteArray();
    QTest::newRow("7 bytes") << QByteArray::fromHex("00000001000000") << false << 0u << 0u
                             << QByteArray() << QByteArray();
    QTest::newRow("jpeg preview") << QByteArray::fromHex("0000000100000001") + jpeg << true << 1u
                                  << 1u << jpeg << QByteArray("image/jpeg");
    QTest::newRow("png preview") << QByteArray::fromHex("0000000100000002") + pngSignature() << true
                                 << 1u << 2u << pngSignature() << QByteArray("image/png");
    // Big-endian: 0x01020304 is not 0x04030201.
    QTest::newRow("big endian") << QByteArray::fromHex("0102030400000001") + jpeg << true
                                << 0x01020304u << 1u << jpeg << QByteArray("image/jpeg");
    // Newer ComfyUI's type 4 frames and unknown image types: the bytes decide.
    QTest::newRow("unknown image type, png bytes")
        << QByteArray::fromHex("0000000400000009") + pngSignature() << true << 4u << 9u
        << pngSignature() << QByteArray("image/png");
}

void TestProtocol::binaryFrames()
{
    QFETCH(QByteArray, frame);
    QFETCH(bool, parses);
    QFETCH(quint32, eventType);
    QFETCH(quint32, imageType);
    QFETCH(QByteArray, image);
    QFETCH(QByteArray, mimeType);
    const std::optional<BinaryFrame> parsed = parseBinary(frame);
    QCOMPARE(parsed.has_value(), parses);
    if (!parses)
        return;
    QCOMPARE(parsed->eventType, eventType);
    QCOMPARE(parsed->imageType, imageType);
    QCOMPARE(parsed->image, image);
    QCOMPARE(parsed->mimeType(), mimeType);
}

void TestProtocol::imagesOfRecordedOutputs()
{
    // Every executed message of every transcript; where the recording then fetched the image,
    // viewQuery() must be exactly the query the client sent to /view.
    const QStringList files =
        QDir(transcriptDir())
            .entryList({QStringLiteral("?_*.json"), QStringLiteral("a2_*.json")}, QDir::Files,
                       QDir::Name);
    int outputs = 0;
    int viewsMatched = 0;
    for (const QString &fileName : files) {
        const QJsonObject t = transcript(QFileInfo(fileName).completeBaseName());
        QStringList viewQueries;
        for (const QJsonObject &http : events(t, QStringLiteral("http"))) {
            const QString path = http.value(QLatin1String("path")).toString();
            if (path.startsWith(QLatin1String("/view?")) &&
                http.value(QLatin1String("status")).toInt() == 200)
                viewQueries << path.mid(6);
        }
        for (const QJsonObject &message : textMessages(t)) {
            if (message.value(QLatin1String("type")).toString() != QLatin1String("executed"))
                continue;
            const QJsonObject output = message.value(QLatin1String("data"))
                                           .toObject()
                                           .value(QLatin1String("output"))
                                           .toObject();
            const QJsonArray recorded = output.value(QLatin1String("images")).toArray();
            const QList<ImageRef> refs = imagesOf(output);
            QCOMPARE(refs.size(), recorded.size());
            for (qsizetype i = 0; i < refs.size(); ++i) {
                const QJsonObject image = recorded.at(i).toObject();
                QCOMPARE(refs[i].filename, image.value(QLatin1String("filename")).toString());
                QCOMPARE(refs[i].subfolder, image.value(QLatin1String("subfolder")).toString());
                QCOMPARE(refs[i].type, image.value(QLatin1String("type")).toString());
                QVERIFY(refs[i].type == QLatin1String("output") ||
                        refs[i].type == QLatin1String("temp"));
                if (viewQueries.contains(refs[i].viewQuery()))
                    ++viewsMatched;
            }
            ++outputs;
        }
    }
    QCOMPARE(outputs, 21); // every executed message of the recordings
    // a, a2, b (type temp), h, n fetched their image with /view.
    QCOMPARE(viewsMatched, 5);

    // Spot checks straight from the recordings.
    const QList<ImageRef> a = imagesOf(eventBySeq(transcript(QStringLiteral("a_save_image")), 12)
                                           .value(QLatin1String("message"))
                                           .toObject()
                                           .value(QLatin1String("data"))
                                           .toObject()
                                           .value(QLatin1String("output"))
                                           .toObject());
    QCOMPARE(a.size(), 1);
    QCOMPARE(a[0].filename, QStringLiteral("sample_a_00001_.png"));
    QCOMPARE(a[0].subfolder, QString());
    QCOMPARE(a[0].type, QStringLiteral("output"));
    QCOMPARE(a[0].viewQuery(),
             QStringLiteral("filename=sample_a_00001_.png&subfolder=&type=output"));
    const QList<ImageRef> b = imagesOf(eventBySeq(transcript(QStringLiteral("b_preview_image")), 10)
                                           .value(QLatin1String("message"))
                                           .toObject()
                                           .value(QLatin1String("data"))
                                           .toObject()
                                           .value(QLatin1String("output"))
                                           .toObject());
    QCOMPARE(b.size(), 1);
    QCOMPARE(b[0].type, QStringLiteral("temp"));
    QCOMPARE(b[0].viewQuery(),
             QStringLiteral("filename=ComfyUI_temp_vxzom_00001_.png&subfolder=&type=temp"));
}

void TestProtocol::imagesOfOtherOutputs()
{
    // SaveImageWebsocket's history output has no images.
    QVERIFY(imagesOf(QJsonObject()).isEmpty());
    // An output of text only (e.g. a custom node's "text": [...]) has no images.
    QVERIFY(imagesOf(QJsonObject{{"text", QJsonArray{"hello"}}}).isEmpty());

    // A batch, in order, with a subfolder that needs encoding in the /view query.
    const QJsonObject batch{
        {"images",
         QJsonArray{
             QJsonObject{
                 {"filename", "x_00001_.png"}, {"subfolder", "run 1/a&b"}, {"type", "output"}},
             QJsonObject{
                 {"filename", "x_00002_.png"}, {"subfolder", "run 1/a&b"}, {"type", "output"}},
             QJsonObject{{"filename", "x_00003_.png"}, {"subfolder", ""}, {"type", "temp"}}}}};
    const QList<ImageRef> refs = imagesOf(batch);
    QCOMPARE(refs.size(), 3);
    QCOMPARE(refs[0].filename, QStringLiteral("x_00001_.png"));
    QCOMPARE(refs[1].filename, QStringLiteral("x_00002_.png"));
    QCOMPARE(refs[2].filename, QStringLiteral("x_00003_.png"));
    QCOMPARE(refs[2].type, QStringLiteral("temp"));
    const QUrlQuery query(refs[0].viewQuery());
    QCOMPARE(query.queryItemValue(QStringLiteral("filename"), QUrl::FullyDecoded),
             QStringLiteral("x_00001_.png"));
    QCOMPARE(query.queryItemValue(QStringLiteral("subfolder"), QUrl::FullyDecoded),
             QStringLiteral("run 1/a&b"));
    QCOMPARE(query.queryItemValue(QStringLiteral("type"), QUrl::FullyDecoded),
             QStringLiteral("output"));
    QCOMPARE(query.queryItems().size(), 3);
}

void TestProtocol::describeRecordedRejections_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<int>("seq");
    QTest::addColumn<QStringList>("needles");
    QTest::addColumn<QStringList>("nodeIds");

    QTest::newRow("unknown class type (node_errors: [])")
        << "d_invalid_workflows" << 2
        << QStringList{"Cannot execute because node NoSuchNodeType does not exist.", "#1"}
        << QStringList{};
    QTest::newRow("missing input") << "d_invalid_workflows" << 3
                                   << QStringList{"Prompt outputs failed validation", "ImageInvert",
                                                  "Required input is missing", "image"}
                                   << QStringList{"2"};
    QTest::newRow("bad values")
        << "d_invalid_workflows" << 4
        << QStringList{"ImageScale", "Failed to convert an input value to a INT value",
                       "invalid literal for int() with base 10: 'not-an-int'", "Value not in list",
                       "upscale_method: 'no-such-method' not in"}
        << QStringList{"4"};
    QTest::newRow("no output node")
        << "d_invalid_workflows" << 5 << QStringList{"Prompt has no outputs"} << QStringList{};
    QTest::newRow("dangling link") << "d_invalid_workflows" << 6
                                   << QStringList{"Exception when validating node: '9'",
                                                  "SaveImage", "Exception when validating node"}
                                   << QStringList{"3"};
    QTest::newRow("no prompt (error is a string)")
        << "d_invalid_workflows" << 7 << QStringList{"no prompt"} << QStringList{};
    QTest::newRow("missing input file")
        << "e_missing_input_file" << 2
        << QStringList{"LoadImage", "Custom validation failed for node",
                       "Invalid image file: does_not_exist_8126ed7b.png"}
        << QStringList{"1"};
}

void TestProtocol::describeRecordedRejections()
{
    QFETCH(QString, file);
    QFETCH(int, seq);
    QFETCH(QStringList, needles);
    QFETCH(QStringList, nodeIds);
    const QJsonObject event = eventBySeq(transcript(file), seq);
    QCOMPARE(event.value(QLatin1String("status")).toInt(), 400);
    const QString text = describeRejection(event.value(QLatin1String("response_json")).toObject());
    for (const QString &needle : needles)
        QVERIFY2(text.contains(needle),
                 qPrintable(QStringLiteral("'%1' lacks '%2'").arg(text, needle)));
    for (const QString &id : nodeIds)
        QVERIFY2(namesWord(text, id),
                 qPrintable(QStringLiteral("'%1' does not name node %2").arg(text, id)));
    // One readable sentence, not JSON.
    QVERIFY(!text.contains(QLatin1Char('{')));
    QVERIFY(!text.contains(QLatin1String("extra_info")));
    QVERIFY(!text.contains(QLatin1String("traceback")));
}

void TestProtocol::everyRecordedRejectionIsDescribed()
{
    // Every 400 of every transcript: the error's message and details, and for every node error
    // its node id, class_type, and each error's message and details.
    int rejections = 0;
    const QStringList files =
        QDir(transcriptDir())
            .entryList({QStringLiteral("?_*.json"), QStringLiteral("a2_*.json")}, QDir::Files,
                       QDir::Name);
    for (const QString &fileName : files) {
        for (const QJsonObject &http :
             events(transcript(QFileInfo(fileName).completeBaseName()), QStringLiteral("http"))) {
            if (http.value(QLatin1String("status")).toInt() != 400 ||
                !http.value(QLatin1String("path")).toString().startsWith(QLatin1String("/prompt")))
                continue;
            const QJsonObject body = http.value(QLatin1String("response_json")).toObject();
            const QString text = describeRejection(body);
            QStringList needles;
            const QJsonValue error = body.value(QLatin1String("error"));
            if (error.isString()) {
                needles << error.toString();
            } else {
                needles << error.toObject().value(QLatin1String("message")).toString()
                        << error.toObject().value(QLatin1String("details")).toString();
            }
            const QJsonValue nodeErrors = body.value(QLatin1String("node_errors"));
            QVERIFY(nodeErrors.isObject() || nodeErrors.isArray());
            const QJsonObject nodes = nodeErrors.toObject();
            for (auto it = nodes.begin(); it != nodes.end(); ++it) {
                QVERIFY2(namesWord(text, it.key()), qPrintable(text));
                needles << it.value().toObject().value(QLatin1String("class_type")).toString();
                for (const QJsonValue &e :
                     it.value().toObject().value(QLatin1String("errors")).toArray())
                    needles << e.toObject().value(QLatin1String("message")).toString()
                            << e.toObject().value(QLatin1String("details")).toString();
            }
            for (const QString &needle : std::as_const(needles))
                QVERIFY2(text.contains(needle),
                         qPrintable(QStringLiteral("'%1' lacks '%2'").arg(text, needle)));
            ++rejections;
        }
    }
    QCOMPARE(rejections, 7); // 6 in d_invalid_workflows, 1 in e_missing_input_file

    // Nothing to go on: still a sentence.
    QVERIFY(!describeRejection(QJsonObject()).trimmed().isEmpty());
}

void TestProtocol::describeRecordedExecutionErrors()
{
    struct Expected {
        const char *file;
        const char *nodeId;
        const char *nodeType;
        const char *exceptionType;
        const char *exceptionMessage;
    };
    const Expected expected[] = {
        {"e_missing_input_file", "1", "LoadImage", "PIL.UnidentifiedImageError",
         "cannot identify image file '/srv/comfyui/input/sample_not_an_image.png'"},
        {"i_execution_error_custom_node", "1", "ExampleProgressNode", "RuntimeError",
         "ExampleProgressNode: deliberate failure at step 3 of 5"},
        {"n_symlinked_model_and_input", "1", "CheckpointLoaderSimple", "RuntimeError",
         "ERROR: Could not detect model type of: "
         "/srv/comfyui/models/checkpoints/sample_dummy.safetensors"},
    };
    for (const Expected &e : expected) {
        QList<QJsonObject> errors;
        for (const QJsonObject &message : textMessages(transcript(QString::fromLatin1(e.file))))
            if (message.value(QLatin1String("type")).toString() == QLatin1String("execution_error"))
                errors << message.value(QLatin1String("data")).toObject();
        QCOMPARE(errors.size(), 1);
        const QString text = describeExecutionError(errors.first());
        QVERIFY2(namesWord(text, QLatin1String(e.nodeId)), qPrintable(text));
        for (const char *needle : {e.nodeType, e.exceptionType, e.exceptionMessage})
            QVERIFY2(
                text.contains(QLatin1String(needle)),
                qPrintable(QStringLiteral("'%1' lacks '%2'").arg(text, QLatin1String(needle))));
        // The traceback stays in the logs, not in the task's error message.
        QVERIFY2(!text.contains(QLatin1String("execution.py")), qPrintable(text));
        QVERIFY(!text.contains(QLatin1Char('\n')));
    }
}

void TestProtocol::describeRecordedInterruption()
{
    const QJsonObject event = eventBySeq(transcript(QStringLiteral("g_interrupt")), 18);
    const QJsonObject data =
        event.value(QLatin1String("message")).toObject().value(QLatin1String("data")).toObject();
    const QString text = describeInterruption(data);
    QVERIFY2(text.contains(QLatin1String("interrupted"), Qt::CaseInsensitive), qPrintable(text));
    QVERIFY2(namesWord(text, QStringLiteral("1")), qPrintable(text));
    QVERIFY2(text.contains(QLatin1String("ExampleProgressNode")), qPrintable(text));
}

void TestProtocol::sniffImageType_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QByteArray>("mimeType");
    QTest::newRow("png") << pngSignature() + QByteArray(8, '\0') << QByteArray("image/png");
    QTest::newRow("jpeg jfif") << QByteArray::fromHex("ffd8ffe000104a464946")
                               << QByteArray("image/jpeg");
    QTest::newRow("jpeg exif") << QByteArray::fromHex("ffd8ffe1001845786966")
                               << QByteArray("image/jpeg");
    QTest::newRow("webp") << QByteArray("RIFF") + QByteArray::fromHex("24000000") +
                                 QByteArray("WEBPVP8 ")
                          << QByteArray("image/webp");
    QTest::newRow("gif87a") << QByteArray("GIF87a\x01\x00") << QByteArray("image/gif");
    QTest::newRow("gif89a") << QByteArray("GIF89a\x01\x00") << QByteArray("image/gif");
    QTest::newRow("riff wave is no image")
        << QByteArray("RIFF") + QByteArray::fromHex("24000000") + QByteArray("WAVEfmt ")
        << QByteArray("application/octet-stream");
    QTest::newRow("png signature cut short")
        << pngSignature().left(4) << QByteArray("application/octet-stream");
    QTest::newRow("text") << QByteArray("<html>not an image</html>")
                          << QByteArray("application/octet-stream");
    QTest::newRow("empty") << QByteArray() << QByteArray("application/octet-stream");
}

void TestProtocol::sniffImageType()
{
    QFETCH(QByteArray, bytes);
    QFETCH(QByteArray, mimeType);
    QCOMPARE(comfy::protocol::sniffImageType(bytes), mimeType);
}

QTEST_GUILESS_MAIN(TestProtocol)
#include "tst_protocol.moc"
