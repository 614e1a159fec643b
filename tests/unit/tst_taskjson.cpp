// taskToJson against the contract's GET /workflow/{id} shapes (api.md, "Workflows"):
// {"id", "type", "status", "data", ...added fields}, the data per status, the public view of
// GET /preview/{id} and the summary view of GET /workflow lists.
#include "tasks/taskjson.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

using comfy::OutputImage;
using comfy::Task;
using comfy::TaskPhase;
using comfy::TaskStatus;
using comfy::TaskView;
using comfy::WorkflowType;

Q_DECLARE_METATYPE(comfy::TaskView)
Q_DECLARE_METATYPE(comfy::TaskStatus)

namespace {

const QString Id = QStringLiteral("5d0c9a4e-1f0b-4c7e-9d53-0a7c2b1e4f11");
const QString NodeUrl = QStringLiteral("http://gpu-7.internal:8188/");
const QString PromptId = QStringLiteral("2419b760-4792-4e8e-bfb3-2322a744f918");

// base64 of the fixtures' bytes, worked out independently.
const QString PreviewBase64 = QStringLiteral("UFJFVklFVy1KUEVH"); // "PREVIEW-JPEG"
const QString FirstBase64 = QStringLiteral("Zmlyc3QtcG5n");       // "first-png"
const QString SecondBase64 = QStringLiteral("c2Vjb25kLXBuZw==");  // "second-png"

QDateTime at(int h, int m, int s, int ms)
{
    return QDateTime(QDate(2024, 12, 1), QTime(h, m, s, ms), Qt::UTC);
}

Task taskIn(TaskStatus status)
{
    Task task;
    task.id = Id;
    task.type = WorkflowType::SD15;
    task.params = QJsonObject{{QStringLiteral("prompt"), QStringLiteral("a secret castle")}};
    task.graph = QJsonObject{
        {QStringLiteral("3"),
         QJsonObject{{QStringLiteral("class_type"), QStringLiteral("CLIPTextEncode")},
                     {QStringLiteral("inputs"),
                      QJsonObject{{QStringLiteral("text"), QStringLiteral("a secret castle")}}}}}};
    task.priority = 2;
    task.seed = 1234567890123LL;
    task.status = status;
    task.createdAt = at(10, 0, 0, 123);
    switch (status) {
    case TaskStatus::Pending:
        task.phase = TaskPhase::Queued;
        break;
    case TaskStatus::Running:
        task.phase = TaskPhase::Executing;
        task.node = QUrl(NodeUrl);
        task.promptId = PromptId;
        task.attempts = 1;
        task.startedAt = at(10, 0, 1, 0);
        task.progress = 0.25;
        task.executingNode = QStringLiteral("3");
        task.preview = OutputImage{QByteArray("PREVIEW-JPEG"), QByteArray("image/jpeg")};
        break;
    case TaskStatus::Done:
        task.phase = TaskPhase::Finished;
        task.node = QUrl(NodeUrl);
        task.promptId = PromptId;
        task.attempts = 1;
        task.startedAt = at(10, 0, 1, 0);
        task.finishedAt = at(10, 0, 9, 500);
        task.progress = 1.0;
        task.images = {OutputImage{QByteArray("first-png"), QByteArray("image/png")},
                       OutputImage{QByteArray("second-png"), QByteArray("image/png")}};
        break;
    case TaskStatus::Error:
        task.phase = TaskPhase::Finished;
        task.node = QUrl(NodeUrl);
        task.promptId = PromptId;
        task.attempts = 2;
        task.startedAt = at(10, 0, 1, 0);
        task.finishedAt = at(10, 0, 2, 0);
        task.error = QStringLiteral("node %1 rejected the workflow: node 3 (CLIPTextEncode): "
                                    "Required input is missing: clip")
                         .arg(NodeUrl);
        break;
    case TaskStatus::Cancelled:
        task.phase = TaskPhase::Finished;
        task.finishedAt = at(10, 0, 3, 0);
        break;
    }
    return task;
}

QByteArray text(const QJsonObject &json)
{
    return QJsonDocument(json).toJson(QJsonDocument::Compact);
}

bool nullOrAbsent(const QJsonObject &json, const char *key)
{
    const QJsonValue value = json.value(QLatin1String(key));
    return value.isNull() || value.isUndefined();
}

} // namespace

class TestTaskJson : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void envelope_data();
    void envelope();
    void pending_data();
    void pending();
    void running();
    void runningWithoutPreview();
    void done();
    void error();
    void cancelled();
    void addedFields();
    void timesAreIso8601Utc();
    void publicView_data();
    void publicView();
    void publicErrorNamesNoNode_data();
    void publicErrorNamesNoNode();
    void summaryView();
};

void TestTaskJson::envelope_data()
{
    QTest::addColumn<TaskStatus>("status");
    QTest::addColumn<QString>("statusName");
    QTest::addColumn<QString>("phaseName");
    QTest::addColumn<TaskView>("view");
    const QList<std::tuple<TaskStatus, const char *, const char *>> statuses{
        {TaskStatus::Pending, "pending", "queued"},
        {TaskStatus::Running, "running", "executing"},
        {TaskStatus::Done, "done", "finished"},
        {TaskStatus::Error, "error", "finished"},
        {TaskStatus::Cancelled, "cancelled", "finished"},
    };
    const QList<std::pair<TaskView, const char *>> views{
        {TaskView::Full, "full"}, {TaskView::Public, "public"}, {TaskView::Summary, "summary"}};
    for (const auto &[status, name, phase] : statuses)
        for (const auto &[view, viewName] : views)
            QTest::addRow("%s %s", name, viewName)
                << status << QString::fromLatin1(name) << QString::fromLatin1(phase) << view;
}

void TestTaskJson::envelope()
{
    QFETCH(TaskStatus, status);
    QFETCH(QString, statusName);
    QFETCH(QString, phaseName);
    QFETCH(TaskView, view);
    const QJsonObject json = comfy::taskToJson(taskIn(status), 4, view);
    QCOMPARE(json.value(QLatin1String("id")).toString(), Id);
    QCOMPARE(json.value(QLatin1String("type")).toString(), QStringLiteral("SD15"));
    QCOMPARE(json.value(QLatin1String("status")).toString(), statusName);
    QCOMPARE(json.value(QLatin1String("phase")).toString(), phaseName);
    QVERIFY2(json.contains(QLatin1String("data")), text(json).constData()); // even when null
}

void TestTaskJson::pending_data()
{
    QTest::addColumn<int>("position");
    QTest::addColumn<TaskView>("view");
    QTest::newRow("next in line") << 0 << TaskView::Full;
    QTest::newRow("three ahead") << 3 << TaskView::Full;
    QTest::newRow("three ahead, public") << 3 << TaskView::Public;
    QTest::newRow("twelve ahead, summary") << 12 << TaskView::Summary;
}

void TestTaskJson::pending()
{
    QFETCH(int, position);
    QFETCH(TaskView, view);
    const QJsonObject json = comfy::taskToJson(taskIn(TaskStatus::Pending), position, view);
    const QJsonValue data = json.value(QLatin1String("data"));
    QVERIFY(data.isDouble());
    QCOMPARE(data.toDouble(), double(position));
    // An integer on the wire, as the original sends it (not 3.0).
    QVERIFY2(text(json).contains(QStringLiteral("\"data\":%1,").arg(position).toLatin1()) ||
                 text(json).contains(QStringLiteral("\"data\":%1}").arg(position).toLatin1()),
             text(json).constData());
}

void TestTaskJson::running()
{
    const QJsonObject json = comfy::taskToJson(taskIn(TaskStatus::Running), 0);
    const QJsonValue data = json.value(QLatin1String("data"));
    QVERIFY2(data.isObject(), text(json).constData());
    QCOMPARE(data.toObject().value(QLatin1String("progress")).toDouble(-1), 0.25);
    const QJsonValue previews = data.toObject().value(QLatin1String("previews"));
    QVERIFY(previews.isArray());
    // The latest preview only, as base64.
    QCOMPARE(previews.toArray(), QJsonArray{PreviewBase64});
}

void TestTaskJson::runningWithoutPreview()
{
    Task task = taskIn(TaskStatus::Running);
    task.preview = {};
    task.progress = 0.0;
    const QJsonObject data = comfy::taskToJson(task, 0).value(QLatin1String("data")).toObject();
    QCOMPARE(data.value(QLatin1String("progress")).toDouble(-1), 0.0);
    QVERIFY(data.value(QLatin1String("previews")).isArray());
    QCOMPARE(data.value(QLatin1String("previews")).toArray().size(), 0);
}

void TestTaskJson::done()
{
    const QJsonObject json = comfy::taskToJson(taskIn(TaskStatus::Done), 0);
    const QJsonValue data = json.value(QLatin1String("data"));
    QVERIFY2(data.isArray(), text(json).constData());
    QCOMPARE(data.toArray(), (QJsonArray{FirstBase64, SecondBase64})); // in order
    const QJsonArray images = json.value(QLatin1String("images")).toArray();
    QCOMPARE(images.size(), 2);
    for (int n = 0; n < 2; ++n) {
        const QString url = images.at(n).toString();
        QVERIFY2(url.endsWith(QStringLiteral("/workflow/%1/images/%2").arg(Id).arg(n)),
                 qPrintable(url));
    }
}

void TestTaskJson::error()
{
    const Task task = taskIn(TaskStatus::Error);
    const QJsonObject json = comfy::taskToJson(task, 0);
    const QJsonValue data = json.value(QLatin1String("data"));
    QVERIFY2(data.isString(), text(json).constData());
    QCOMPARE(data.toString(), task.error); // the full view keeps the node's URL
}

void TestTaskJson::cancelled()
{
    const QJsonObject json = comfy::taskToJson(taskIn(TaskStatus::Cancelled), 0);
    QVERIFY(json.contains(QLatin1String("data")));
    QVERIFY(json.value(QLatin1String("data")).isNull());
    QVERIFY(text(json).contains("\"data\":null"));
}

void TestTaskJson::addedFields()
{
    const QJsonObject running = comfy::taskToJson(taskIn(TaskStatus::Running), 0);
    QCOMPARE(running.value(QLatin1String("node")).toString(), NodeUrl);
    QCOMPARE(running.value(QLatin1String("prompt_id")).toString(), PromptId);
    QCOMPARE(running.value(QLatin1String("seed")).toDouble(), 1234567890123.0);
    QVERIFY(text(running).contains("\"seed\":1234567890123"));
    QCOMPARE(running.value(QLatin1String("attempts")).toInt(-1), 1);
    for (const char *key : {"phase", "node", "prompt_id", "seed", "attempts", "created_at",
                            "started_at", "finished_at"})
        QVERIFY2(running.contains(QLatin1String(key)), key);

    // A pending task has no node, prompt or start yet.
    Task pendingTask = taskIn(TaskStatus::Pending);
    pendingTask.seed.reset();
    const QJsonObject pending = comfy::taskToJson(pendingTask, 0);
    QVERIFY(nullOrAbsent(pending, "node"));
    QVERIFY(nullOrAbsent(pending, "prompt_id"));
    QVERIFY(nullOrAbsent(pending, "seed"));
    QVERIFY(nullOrAbsent(pending, "started_at"));
    QVERIFY(nullOrAbsent(pending, "finished_at"));
    QCOMPARE(pending.value(QLatin1String("attempts")).toInt(-1), 0);

    const QJsonObject error = comfy::taskToJson(taskIn(TaskStatus::Error), 0);
    QCOMPARE(error.value(QLatin1String("attempts")).toInt(-1), 2);
}

void TestTaskJson::timesAreIso8601Utc()
{
    const Task task = taskIn(TaskStatus::Done);
    const QJsonObject json = comfy::taskToJson(task, 0);
    const QList<std::pair<const char *, QDateTime>> times{{"created_at", task.createdAt},
                                                          {"started_at", task.startedAt},
                                                          {"finished_at", task.finishedAt}};
    for (const auto &[key, expected] : times) {
        const QString value = json.value(QLatin1String(key)).toString();
        QVERIFY2(value.startsWith(QLatin1String("2024-12-01T10:00:")), qPrintable(value));
        QVERIFY2(value.endsWith(QLatin1Char('Z')), qPrintable(value)); // UTC
        const QDateTime parsed = QDateTime::fromString(value, Qt::ISODateWithMs);
        QVERIFY2(parsed.isValid(), qPrintable(value));
        QCOMPARE(parsed.toMSecsSinceEpoch(), expected.toMSecsSinceEpoch());
    }
}

void TestTaskJson::publicView_data()
{
    QTest::addColumn<TaskStatus>("status");
    QTest::newRow("pending") << TaskStatus::Pending;
    QTest::newRow("running") << TaskStatus::Running;
    QTest::newRow("done") << TaskStatus::Done;
    QTest::newRow("error") << TaskStatus::Error;
    QTest::newRow("cancelled") << TaskStatus::Cancelled;
}

void TestTaskJson::publicView()
{
    QFETCH(TaskStatus, status);
    const QJsonObject json = comfy::taskToJson(taskIn(status), 1, TaskView::Public);
    const QByteArray wire = text(json);
    // No node URL, no prompt (neither ComfyUI's prompt id nor the caller's text or graph).
    QVERIFY2(nullOrAbsent(json, "node"), wire.constData());
    QVERIFY2(nullOrAbsent(json, "prompt_id"), wire.constData());
    QVERIFY2(!wire.contains("gpu-7.internal"), wire.constData());
    QVERIFY2(!wire.contains(PromptId.toLatin1()), wire.constData());
    QVERIFY2(!wire.contains("secret castle"), wire.constData());
    QVERIFY2(!wire.contains("CLIPTextEncode\",\"inputs"), wire.constData());
    // No results: a done task shows "data": [].
    QVERIFY2(!wire.contains(FirstBase64.toLatin1()), wire.constData());
    QVERIFY2(!wire.contains(SecondBase64.toLatin1()), wire.constData());
    if (status == TaskStatus::Done) {
        QVERIFY(json.value(QLatin1String("data")).isArray());
        QCOMPARE(json.value(QLatin1String("data")).toArray().size(), 0);
    }
    if (status == TaskStatus::Pending)
        QCOMPARE(json.value(QLatin1String("data")).toInt(-1), 1);
    if (status == TaskStatus::Running)
        QCOMPARE(json.value(QLatin1String("data"))
                     .toObject()
                     .value(QLatin1String("progress"))
                     .toDouble(-1),
                 0.25);
    if (status == TaskStatus::Error) {
        const QString data = json.value(QLatin1String("data")).toString();
        QVERIFY2(data.contains(QLatin1String("Required input is missing: clip")), qPrintable(data));
    }
    if (status == TaskStatus::Cancelled)
        QVERIFY(json.value(QLatin1String("data")).isNull());
}

void TestTaskJson::publicErrorNamesNoNode_data()
{
    QTest::addColumn<QString>("error");
    QTest::addColumn<QString>("keep"); // the part that says what went wrong
    // The router's own wording (comfy/promptrun.cpp) around Qt's error strings.
    QTest::newRow("rejected") << QStringLiteral("node %1 rejected the workflow: Prompt has no "
                                                "outputs")
                                     .arg(NodeUrl)
                              << "Prompt has no outputs";
    QTest::newRow("HTTP error with the URL of /prompt")
        << QStringLiteral("POST /prompt to %1 failed: Error transferring %1prompt - server "
                          "replied: Internal Server Error")
               .arg(NodeUrl)
        << "Internal Server Error";
    QTest::newRow("websocket lost") << QStringLiteral("lost the websocket connection to %1: "
                                                      "The remote host closed the connection")
                                           .arg(NodeUrl)
                                    << "closed the connection";
    // Qt names the host on its own in "Host ... not found" (QNetworkReply::HostNotFoundError).
    QTest::newRow("host not found")
        << QStringLiteral("POST /prompt to %1 failed: Host gpu-7.internal not found").arg(NodeUrl)
        << "not found";
}

void TestTaskJson::publicErrorNamesNoNode()
{
    QFETCH(QString, error);
    QFETCH(QString, keep);
    Task task = taskIn(TaskStatus::Error);
    task.error = error;
    const QString full =
        comfy::taskToJson(task, 0, TaskView::Full).value(QLatin1String("data")).toString();
    QCOMPARE(full, error);
    const QString shown =
        comfy::taskToJson(task, 0, TaskView::Public).value(QLatin1String("data")).toString();
    QVERIFY2(shown.contains(keep), qPrintable(shown));
    QVERIFY2(!shown.contains(QLatin1String("gpu-7.internal")),
             qPrintable(QStringLiteral("the public view names the node: ") + shown));
}

void TestTaskJson::summaryView()
{
    // Full without the base64 images: their URLs remain, node and prompt id too.
    const QJsonObject done = comfy::taskToJson(taskIn(TaskStatus::Done), 0, TaskView::Summary);
    const QByteArray doneWire = text(done);
    QVERIFY2(!doneWire.contains(FirstBase64.toLatin1()), doneWire.constData());
    QVERIFY2(!doneWire.contains(SecondBase64.toLatin1()), doneWire.constData());
    QVERIFY(done.value(QLatin1String("data")).isArray());
    const QJsonArray images = done.value(QLatin1String("images")).toArray();
    QCOMPARE(images.size(), 2);
    QVERIFY(images.at(1).toString().endsWith(QStringLiteral("/workflow/%1/images/1").arg(Id)));
    QCOMPARE(done.value(QLatin1String("node")).toString(), NodeUrl);
    QCOMPARE(done.value(QLatin1String("prompt_id")).toString(), PromptId);

    const QJsonObject running =
        comfy::taskToJson(taskIn(TaskStatus::Running), 0, TaskView::Summary);
    const QByteArray runningWire = text(running);
    QVERIFY2(!runningWire.contains(PreviewBase64.toLatin1()), runningWire.constData());
    QCOMPARE(running.value(QLatin1String("data"))
                 .toObject()
                 .value(QLatin1String("progress"))
                 .toDouble(-1),
             0.25);
    QCOMPARE(running.value(QLatin1String("node")).toString(), NodeUrl);

    const Task error = taskIn(TaskStatus::Error);
    QCOMPARE(comfy::taskToJson(error, 0, TaskView::Summary).value(QLatin1String("data")).toString(),
             error.error);
}

QTEST_GUILESS_MAIN(TestTaskJson)
#include "tst_taskjson.moc"
