// TaskQueue: where a task waits and the one place that moves it through the contract's
// statuses (pending -> running -> done | error, cancelled from the first two), the pending
// limit (429), priorities, and the history limit.
#include "tasks/taskqueue.h"

#include <QSignalSpy>
#include <QTest>

using comfy::Error;
using comfy::OutputImage;
using comfy::QueueLimits;
using comfy::Task;
using comfy::TaskPhase;
using comfy::TaskQueue;
using comfy::TaskStatus;

namespace {

const QUrl NodeUrl(QStringLiteral("http://gpu-1:8188/"));

Task newTask(int priority = 0, const QString &marker = {})
{
    Task task;
    task.priority = priority;
    task.params = QJsonObject{{QStringLiteral("marker"), marker}};
    task.graph = QJsonObject{
        {QStringLiteral("1"), QJsonObject{{QStringLiteral("class_type"), QStringLiteral("X")}}}};
    return task;
}

QString enqueueOk(TaskQueue &queue, int priority = 0, const QString &marker = {})
{
    const comfy::Result<QString> result = queue.enqueue(newTask(priority, marker));
    if (!result.ok())
        qFatal("enqueue failed: %s", qPrintable(result.error().message));
    return result.value();
}

QString statusOf(const TaskQueue &queue, const QString &id)
{
    const std::optional<Task> task = queue.task(id);
    return task ? comfy::taskStatusName(task->status) : QStringLiteral("gone");
}

QStringList idsOf(const QList<Task> &tasks)
{
    QStringList ids;
    for (const Task &task : tasks)
        ids << task.id;
    return ids;
}

// A task in the given state of the contract's state machine ("unknown": an id never issued).
QString taskIn(TaskQueue &queue, const QString &state)
{
    if (state == QLatin1String("unknown"))
        return QStringLiteral("00000000-0000-0000-0000-000000000000");
    const QString id = enqueueOk(queue);
    if (state == QLatin1String("pending"))
        return id;
    if (state == QLatin1String("error"))
        return queue.fail(id, QStringLiteral("setup")) ? id : QString();
    if (state == QLatin1String("cancelled"))
        return queue.cancel(id) ? id : QString();
    if (!queue.start(id, NodeUrl))
        return {};
    if (state == QLatin1String("running"))
        return id;
    if (state == QLatin1String("done"))
        return queue.finish(id, {}) ? id : QString();
    return {};
}

bool apply(TaskQueue &queue, const QString &id, const QString &operation)
{
    if (operation == QLatin1String("start"))
        return queue.start(id, QUrl(QStringLiteral("http://gpu-2:8188/")));
    if (operation == QLatin1String("finish"))
        return queue.finish(id, {OutputImage{QByteArray("png"), QByteArray("image/png")}});
    if (operation == QLatin1String("fail"))
        return queue.fail(id, QStringLiteral("the node exploded"));
    if (operation == QLatin1String("cancel"))
        return queue.cancel(id);
    if (operation == QLatin1String("setPhase"))
        return queue.setPhase(id, TaskPhase::Downloading);
    if (operation == QLatin1String("setPromptId"))
        return queue.setPromptId(id, QStringLiteral("2419b760-4792-4e8e-bfb3-2322a744f918"));
    if (operation == QLatin1String("setProgress"))
        return queue.setProgress(id, 0.5, QStringLiteral("3"));
    if (operation == QLatin1String("setExecutingNode"))
        return queue.setExecutingNode(id, QStringLiteral("2"));
    if (operation == QLatin1String("setPreview"))
        return queue.setPreview(id, OutputImage{QByteArray("jpeg"), QByteArray("image/jpeg")});
    qFatal("unknown operation %s", qPrintable(operation));
}

} // namespace

class TestTaskQueue : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void enqueueAssignsIdAndPendingState();
    void pendingLimit();
    void pendingLimitCountsOnlyWaitingTasks();
    void priorityOrder_data();
    void priorityOrder();
    void positionOf();
    void stateMachine_data();
    void stateMachine();
    void startRecordsTheRun();
    void finishKeepsImagesInOrder();
    void failKeepsTheReason();
    void progressStaysInRange_data();
    void progressStaysInRange();
    void historyLimitForgetsOldestFinished();
    void historyLimitNeverForgetsPendingOrRunning();
    void listNewestFirst();
    void count();
    void signalsNameTheTask();
};

void TestTaskQueue::enqueueAssignsIdAndPendingState()
{
    TaskQueue queue(QueueLimits{10, 10});
    Task task = newTask(3, QStringLiteral("m"));
    task.id = QStringLiteral("caller-chosen");
    task.status = TaskStatus::Done; // whatever the caller says, a new task is pending
    task.phase = TaskPhase::Finished;
    const QDateTime before = QDateTime::currentDateTimeUtc();
    const comfy::Result<QString> a = queue.enqueue(task);
    const comfy::Result<QString> b = queue.enqueue(newTask());
    QVERIFY(a.ok());
    QVERIFY(b.ok());
    QVERIFY(!a.value().isEmpty());
    QVERIFY(a.value() != QLatin1String("caller-chosen"));
    QVERIFY(a.value() != b.value());

    const std::optional<Task> stored = queue.task(a.value());
    QVERIFY(stored);
    QCOMPARE(stored->id, a.value());
    QCOMPARE(stored->status, TaskStatus::Pending);
    QCOMPARE(stored->phase, TaskPhase::Queued);
    QCOMPARE(stored->priority, 3);
    QCOMPARE(stored->params.value(QLatin1String("marker")).toString(), QStringLiteral("m"));
    QVERIFY(stored->createdAt.isValid());
    QCOMPARE(stored->createdAt.timeSpec(), Qt::UTC);
    QVERIFY(stored->createdAt >= before.addMSecs(-1));
    QVERIFY(stored->createdAt <= QDateTime::currentDateTimeUtc().addMSecs(1));
    QVERIFY(!stored->startedAt.isValid());
    QVERIFY(!stored->finishedAt.isValid());
    QVERIFY(!queue.task(QStringLiteral("caller-chosen")));
}

void TestTaskQueue::pendingLimit()
{
    TaskQueue queue(QueueLimits{3, 50});
    QSignalSpy queued(&queue, &TaskQueue::taskQueued);
    for (int i = 0; i < 3; ++i)
        QVERIFY(queue.enqueue(newTask()).ok());
    QCOMPARE(queued.size(), 3);

    const comfy::Result<QString> full = queue.enqueue(newTask(1000));
    QVERIFY(!full.ok());
    QCOMPARE(full.error().kind, Error::Kind::QueueFull);
    QVERIFY(!full.error().message.isEmpty());
    // Nothing queued: no signal, no task, same counts.
    QCOMPARE(queued.size(), 3);
    QCOMPARE(queue.pendingCount(), 3);
    QCOMPARE(queue.pendingIds().size(), 3);
    QCOMPARE(queue.count(std::nullopt), 3);
    QCOMPARE(queue.list(std::nullopt, 0, 100).size(), 3);
    for (const Task &task : queue.list(std::nullopt, 0, 100))
        QCOMPARE(task.priority, 0); // the refused priority-1000 task went nowhere

    // Still full on the next try.
    QCOMPARE(queue.enqueue(newTask()).error().kind, Error::Kind::QueueFull);
}

void TestTaskQueue::pendingLimitCountsOnlyWaitingTasks()
{
    // The contract: 429 when PENDING_LIMIT tasks already *wait*. Running and finished tasks do
    // not count.
    TaskQueue queue(QueueLimits{2, 50});
    const QString a = enqueueOk(queue);
    const QString b = enqueueOk(queue);
    QVERIFY(!queue.enqueue(newTask()).ok());

    QVERIFY(queue.start(a, NodeUrl)); // a runs: one place frees up
    const comfy::Result<QString> c = queue.enqueue(newTask());
    QVERIFY(c.ok());
    QVERIFY(!queue.enqueue(newTask()).ok());

    QVERIFY(queue.cancel(b)); // a pending task leaves the queue
    QVERIFY(queue.enqueue(newTask()).ok());
    QVERIFY(!queue.enqueue(newTask()).ok());

    QVERIFY(queue.finish(a, {}));
    QVERIFY(queue.fail(c.value(), QStringLiteral("x")));
    QCOMPARE(queue.pendingCount(), 1);
    QVERIFY(queue.enqueue(newTask()).ok());
    QCOMPARE(queue.pendingCount(), 2);
}

void TestTaskQueue::priorityOrder_data()
{
    QTest::addColumn<QList<int>>("priorities"); // in arrival order
    QTest::addColumn<QList<int>>("runOrder");   // arrival indexes, in the order they run
    QTest::newRow("FIFO when all equal") << QList<int>{0, 0, 0, 0} << QList<int>{0, 1, 2, 3};
    QTest::newRow("higher first") << QList<int>{0, 5} << QList<int>{1, 0};
    QTest::newRow("lower later") << QList<int>{5, 0} << QList<int>{0, 1};
    QTest::newRow("mixed, FIFO among equals")
        << QList<int>{0, 5, 0, 5, -1, 10} << QList<int>{5, 1, 3, 0, 2, 4};
    QTest::newRow("negatives") << QList<int>{-1, -2, -1, -2} << QList<int>{0, 2, 1, 3};
    QTest::newRow("late high priority jumps the queue")
        << QList<int>{1, 1, 1, 2} << QList<int>{3, 0, 1, 2};
    QTest::newRow("late equal priority waits behind")
        << QList<int>{2, 1, 1, 2} << QList<int>{0, 3, 1, 2};
}

void TestTaskQueue::priorityOrder()
{
    QFETCH(QList<int>, priorities);
    QFETCH(QList<int>, runOrder);
    TaskQueue queue(QueueLimits{100, 100});
    QStringList ids;
    for (int priority : priorities)
        ids << enqueueOk(queue, priority);
    QStringList expected;
    for (int index : runOrder)
        expected << ids.at(index);
    QCOMPARE(queue.pendingIds(), expected);
    for (qsizetype position = 0; position < expected.size(); ++position)
        QCOMPARE(queue.positionOf(expected.at(position)), int(position));
}

void TestTaskQueue::positionOf()
{
    TaskQueue queue(QueueLimits{100, 100});
    const QString a = enqueueOk(queue);
    const QString b = enqueueOk(queue);
    const QString c = enqueueOk(queue);
    const QString d = enqueueOk(queue);
    QCOMPARE(queue.positionOf(a), 0);
    QCOMPARE(queue.positionOf(b), 1);
    QCOMPARE(queue.positionOf(c), 2);
    QCOMPARE(queue.positionOf(d), 3);
    QCOMPARE(queue.positionOf(QStringLiteral("nope")), -1);

    QVERIFY(queue.start(a, NodeUrl)); // the head runs: everyone moves up
    QCOMPARE(queue.positionOf(a), -1);
    QCOMPARE(queue.positionOf(b), 0);
    QCOMPARE(queue.positionOf(d), 2);

    QVERIFY(queue.start(c, NodeUrl)); // one further back runs (e.g. node labels)
    QCOMPARE(queue.positionOf(b), 0);
    QCOMPARE(queue.positionOf(d), 1);

    QVERIFY(queue.cancel(b));
    QCOMPARE(queue.positionOf(b), -1);
    QCOMPARE(queue.positionOf(d), 0);
    QCOMPARE(queue.pendingIds(), QStringList{d});

    QVERIFY(queue.finish(a, {}));
    QCOMPARE(queue.positionOf(a), -1);
}

void TestTaskQueue::stateMachine_data()
{
    QTest::addColumn<QString>("from");
    QTest::addColumn<QString>("operation");
    QTest::addColumn<bool>("allowed");
    QTest::addColumn<QString>("to");

    const QStringList states{"pending", "running", "done", "error", "cancelled", "unknown"};
    // The contract's moves: pending -> running -> done | error; cancelled from pending or
    // running; error also straight from pending (e.g. a download failed before any node ran it).
    const QList<std::tuple<const char *, const char *, const char *>> allowedMoves{
        {"start", "pending", "running"},       {"finish", "running", "done"},
        {"fail", "pending", "error"},          {"fail", "running", "error"},
        {"cancel", "pending", "cancelled"},    {"cancel", "running", "cancelled"},
        {"setPhase", "running", "running"},    {"setPromptId", "running", "running"},
        {"setProgress", "running", "running"}, {"setExecutingNode", "running", "running"},
        {"setPreview", "running", "running"},
    };
    const QStringList operations{"start",       "finish",           "fail",
                                 "cancel",      "setPhase",         "setPromptId",
                                 "setProgress", "setExecutingNode", "setPreview"};
    for (const QString &operation : operations) {
        for (const QString &from : states) {
            QString to;
            for (const auto &[op, f, t] : allowedMoves)
                if (operation == QLatin1String(op) && from == QLatin1String(f))
                    to = QLatin1String(t);
            const bool allowed = !to.isEmpty();
            if (!allowed)
                to = from == QLatin1String("unknown") ? QStringLiteral("gone") : from;
            QTest::addRow("%s on %s", qPrintable(operation), qPrintable(from))
                << from << operation << allowed << to;
        }
    }
}

void TestTaskQueue::stateMachine()
{
    QFETCH(QString, from);
    QFETCH(QString, operation);
    QFETCH(bool, allowed);
    QFETCH(QString, to);

    TaskQueue queue(QueueLimits{100, 100});
    const QString other = enqueueOk(queue); // a bystander in the queue
    const QString id = taskIn(queue, from);
    QVERIFY2(!id.isEmpty(), "could not bring the task into its start state");
    if (from != QLatin1String("unknown"))
        QCOMPARE(statusOf(queue, id), from);
    const std::optional<Task> before = queue.task(id);

    QSignalSpy changed(&queue, &TaskQueue::taskChanged);
    QSignalSpy finished(&queue, &TaskQueue::taskFinished);
    QSignalSpy queued(&queue, &TaskQueue::taskQueued);
    QSignalSpy forgotten(&queue, &TaskQueue::taskForgotten);

    QCOMPARE(apply(queue, id, operation), allowed);
    QCOMPARE(statusOf(queue, id), to);
    QCOMPARE(statusOf(queue, other), QStringLiteral("pending"));
    QCOMPARE(queued.size(), 0);
    QCOMPARE(forgotten.size(), 0);

    if (!allowed) {
        // A refused move changes nothing and tells nobody.
        QCOMPARE(changed.size(), 0);
        QCOMPARE(finished.size(), 0);
        const std::optional<Task> after = queue.task(id);
        QCOMPARE(after.has_value(), before.has_value());
        if (after) {
            QCOMPARE(after->phase, before->phase);
            QCOMPARE(after->node, before->node);
            QCOMPARE(after->promptId, before->promptId);
            QCOMPARE(after->progress, before->progress);
            QCOMPARE(after->executingNode, before->executingNode);
            QCOMPARE(after->preview.data, before->preview.data);
            QCOMPARE(after->images.size(), before->images.size());
            QCOMPARE(after->error, before->error);
            QCOMPARE(after->attempts, before->attempts);
            QCOMPARE(after->finishedAt, before->finishedAt);
        }
        return;
    }

    QVERIFY(changed.size() >= 1);
    QCOMPARE(changed.last().at(0).toString(), id);
    const std::optional<Task> after = queue.task(id);
    QVERIFY(after);
    const bool terminal = to == QLatin1String("done") || to == QLatin1String("error") ||
                          to == QLatin1String("cancelled");
    QCOMPARE(after->isFinished(), terminal);
    QCOMPARE(queue.positionOf(id), -1);
    QVERIFY(!queue.pendingIds().contains(id));
    if (terminal) {
        QCOMPARE(finished.size(), 1);
        QCOMPARE(finished.at(0).at(0).toString(), id);
        QCOMPARE(after->phase, TaskPhase::Finished);
        QVERIFY(after->finishedAt.isValid());
    } else {
        QCOMPARE(finished.size(), 0);
        QVERIFY(!after->finishedAt.isValid());
        QVERIFY(after->phase != TaskPhase::Finished);
    }
    if (to == QLatin1String("error"))
        QCOMPARE(after->error, QStringLiteral("the node exploded"));
}

void TestTaskQueue::startRecordsTheRun()
{
    TaskQueue queue(QueueLimits{10, 10});
    const QString id = enqueueOk(queue);
    QCOMPARE(queue.task(id)->attempts, 0);
    QCOMPARE(queue.runningCount(), 0);
    QVERIFY(queue.start(id, NodeUrl));
    const Task task = *queue.task(id);
    QCOMPARE(task.status, TaskStatus::Running);
    QCOMPARE(task.node, NodeUrl);
    QCOMPARE(task.attempts, 1);
    QVERIFY(task.startedAt.isValid());
    QVERIFY(task.startedAt >= task.createdAt);
    QVERIFY(task.phase != TaskPhase::Queued && task.phase != TaskPhase::Finished);
    QCOMPARE(queue.runningCount(), 1);

    QVERIFY(queue.setPromptId(id, QStringLiteral("p-1")));
    QCOMPARE(queue.task(id)->promptId, QStringLiteral("p-1"));
    QVERIFY(queue.setExecutingNode(id, QStringLiteral("7")));
    QCOMPARE(queue.task(id)->executingNode, QStringLiteral("7"));
    QVERIFY(queue.setPreview(id, OutputImage{QByteArray("jpg"), QByteArray("image/jpeg")}));
    QCOMPARE(queue.task(id)->preview.data, QByteArray("jpg"));
    QVERIFY(queue.setPhase(id, TaskPhase::Executing));
    QCOMPARE(queue.task(id)->phase, TaskPhase::Executing);
}

void TestTaskQueue::finishKeepsImagesInOrder()
{
    TaskQueue queue(QueueLimits{10, 10});
    const QString id = enqueueOk(queue);
    QVERIFY(queue.start(id, NodeUrl));
    QVERIFY(queue.setProgress(id, 0.4, QStringLiteral("3")));
    const QList<OutputImage> images{{QByteArray("first"), QByteArray("image/png")},
                                    {QByteArray("second"), QByteArray("image/jpeg")},
                                    {QByteArray("third"), QByteArray("image/webp")}};
    QVERIFY(queue.finish(id, images));
    const Task task = *queue.task(id);
    QCOMPARE(task.status, TaskStatus::Done);
    QCOMPARE(task.images.size(), 3);
    for (int i = 0; i < 3; ++i) {
        QCOMPARE(task.images[i].data, images[i].data);
        QCOMPARE(task.images[i].mimeType, images[i].mimeType);
    }
    QCOMPARE(task.progress, 1.0);
    QVERIFY(task.finishedAt >= task.startedAt);
    QCOMPARE(queue.runningCount(), 0);
}

void TestTaskQueue::failKeepsTheReason()
{
    TaskQueue queue(QueueLimits{10, 10});
    const QString pending = enqueueOk(queue);
    QVERIFY(queue.fail(pending, QStringLiteral("download of https://x/y.safetensors failed")));
    QCOMPARE(queue.task(pending)->status, TaskStatus::Error);
    QCOMPARE(queue.task(pending)->error,
             QStringLiteral("download of https://x/y.safetensors failed"));
    QVERIFY(!queue.task(pending)->startedAt.isValid());
    QVERIFY(queue.task(pending)->finishedAt.isValid());
    // A second verdict does not overwrite the first.
    QVERIFY(!queue.fail(pending, QStringLiteral("again")));
    QCOMPARE(queue.task(pending)->error,
             QStringLiteral("download of https://x/y.safetensors failed"));
}

void TestTaskQueue::progressStaysInRange_data()
{
    QTest::addColumn<double>("progress");
    QTest::addColumn<double>("expected");
    QTest::newRow("zero") << 0.0 << 0.0;
    QTest::newRow("half") << 0.5 << 0.5;
    QTest::newRow("one") << 1.0 << 1.0;
    QTest::newRow("above one") << 1.5 << 1.0;
    QTest::newRow("below zero") << -0.25 << 0.0;
}

void TestTaskQueue::progressStaysInRange()
{
    QFETCH(double, progress);
    QFETCH(double, expected);
    TaskQueue queue(QueueLimits{10, 10});
    const QString id = enqueueOk(queue);
    QVERIFY(queue.start(id, NodeUrl));
    QVERIFY(queue.setProgress(id, progress, QStringLiteral("3")));
    QCOMPARE(queue.task(id)->progress, expected);
    QCOMPARE(queue.task(id)->executingNode, QStringLiteral("3"));
}

void TestTaskQueue::historyLimitForgetsOldestFinished()
{
    TaskQueue queue(QueueLimits{100, 2});
    QSignalSpy forgotten(&queue, &TaskQueue::taskForgotten);
    const QString a = enqueueOk(queue);
    const QString b = enqueueOk(queue);
    const QString c = enqueueOk(queue);
    const QString d = enqueueOk(queue);

    QVERIFY(queue.start(a, NodeUrl));
    QVERIFY(queue.finish(a, {}));
    QVERIFY(queue.fail(b, QStringLiteral("x")));
    QCOMPARE(forgotten.size(), 0); // two finished, the limit is two
    QVERIFY(queue.task(a));

    QVERIFY(queue.cancel(c)); // a third finished task: the oldest finished one goes
    QCOMPARE(forgotten.size(), 1);
    QCOMPARE(forgotten.at(0).at(0).toString(), a);
    QVERIFY(!queue.task(a).has_value());
    QVERIFY(queue.task(b).has_value());
    QVERIFY(queue.task(c).has_value());
    QVERIFY(queue.task(d).has_value());
    QVERIFY(!idsOf(queue.list(std::nullopt, 0, 100)).contains(a));
    QCOMPARE(queue.count(std::nullopt), 3);
    QCOMPARE(queue.count(TaskStatus::Done), 0);
    // A forgotten task cannot be moved any more.
    QVERIFY(!queue.cancel(a));
    QVERIFY(!queue.fail(a, QStringLiteral("x")));

    // The order is the order they finished in, not the order they were created in.
    const QString e = enqueueOk(queue);
    const QString f = enqueueOk(queue);
    QVERIFY(queue.start(f, NodeUrl));
    QVERIFY(queue.finish(f, {})); // b goes
    QCOMPARE(forgotten.size(), 2);
    QCOMPARE(forgotten.at(1).at(0).toString(), b);
    QVERIFY(queue.cancel(e)); // c goes
    QCOMPARE(forgotten.size(), 3);
    QCOMPARE(forgotten.at(2).at(0).toString(), c);
    QVERIFY(queue.task(f));
    QVERIFY(queue.task(e));
    QCOMPARE(queue.count(std::nullopt), 3); // d pending, e and f finished
}

void TestTaskQueue::historyLimitNeverForgetsPendingOrRunning()
{
    TaskQueue queue(QueueLimits{100, 1});
    QSignalSpy forgotten(&queue, &TaskQueue::taskForgotten);
    const QString running = enqueueOk(queue);
    QVERIFY(queue.start(running, NodeUrl));
    const QString waiting1 = enqueueOk(queue);
    const QString waiting2 = enqueueOk(queue);

    QStringList finishedIds;
    for (int i = 0; i < 10; ++i) {
        const QString id = enqueueOk(queue, -1);
        QVERIFY(queue.start(id, NodeUrl));
        QVERIFY(queue.finish(id, {}));
        finishedIds << id;
    }
    QCOMPARE(forgotten.size(), 9);
    for (const QList<QVariant> &signal : std::as_const(forgotten)) {
        const QString id = signal.at(0).toString();
        QVERIFY(id != running && id != waiting1 && id != waiting2);
    }
    QCOMPARE(statusOf(queue, running), QStringLiteral("running"));
    QCOMPARE(statusOf(queue, waiting1), QStringLiteral("pending"));
    QCOMPARE(statusOf(queue, waiting2), QStringLiteral("pending"));
    QCOMPARE(statusOf(queue, finishedIds.last()), QStringLiteral("done"));
    QCOMPARE(statusOf(queue, finishedIds.first()), QStringLiteral("gone"));
    QCOMPARE(queue.count(std::nullopt), 4);
    QCOMPARE(queue.positionOf(waiting1), 0);
    QCOMPARE(queue.positionOf(waiting2), 1);
}

void TestTaskQueue::listNewestFirst()
{
    TaskQueue queue(QueueLimits{100, 100});
    const QString a = enqueueOk(queue, 0);
    const QString b = enqueueOk(queue, 9); // priority changes the run order, not the list order
    const QString c = enqueueOk(queue, 0);
    const QString d = enqueueOk(queue, 0);
    const QString e = enqueueOk(queue, 0);
    QVERIFY(queue.start(b, NodeUrl));
    QVERIFY(queue.start(d, NodeUrl));
    QVERIFY(queue.finish(d, {}));
    QVERIFY(queue.cancel(a));

    using L = QStringList;
    QCOMPARE(idsOf(queue.list(std::nullopt, 0, 100)), (L{e, d, c, b, a}));
    QCOMPARE(idsOf(queue.list(std::nullopt, 0, 2)), (L{e, d}));
    QCOMPARE(idsOf(queue.list(std::nullopt, 1, 2)), (L{d, c}));
    QCOMPARE(idsOf(queue.list(std::nullopt, 4, 10)), (L{a}));
    QCOMPARE(idsOf(queue.list(std::nullopt, 5, 10)), L{});
    QCOMPARE(idsOf(queue.list(std::nullopt, 0, 0)), L{});
    QCOMPARE(idsOf(queue.list(TaskStatus::Pending, 0, 100)), (L{e, c}));
    QCOMPARE(idsOf(queue.list(TaskStatus::Pending, 1, 100)), (L{c}));
    QCOMPARE(idsOf(queue.list(TaskStatus::Pending, 0, 1)), (L{e}));
    QCOMPARE(idsOf(queue.list(TaskStatus::Running, 0, 100)), (L{b}));
    QCOMPARE(idsOf(queue.list(TaskStatus::Done, 0, 100)), (L{d}));
    QCOMPARE(idsOf(queue.list(TaskStatus::Cancelled, 0, 100)), (L{a}));
    QCOMPARE(idsOf(queue.list(TaskStatus::Error, 0, 100)), L{});
    QCOMPARE(idsOf(queue.list(TaskStatus::Pending, 2, 100)), L{});

    // The listed tasks carry their current state.
    const QList<Task> all = queue.list(std::nullopt, 0, 100);
    QCOMPARE(all.at(1).status, TaskStatus::Done);
    QCOMPARE(all.at(3).status, TaskStatus::Running);
    QCOMPARE(all.at(3).node, NodeUrl);
}

void TestTaskQueue::count()
{
    TaskQueue queue(QueueLimits{100, 100});
    QCOMPARE(queue.count(std::nullopt), 0);
    const QString a = enqueueOk(queue);
    const QString b = enqueueOk(queue);
    const QString c = enqueueOk(queue);
    const QString d = enqueueOk(queue);
    enqueueOk(queue);
    QVERIFY(queue.start(a, NodeUrl));
    QVERIFY(queue.start(b, NodeUrl));
    QVERIFY(queue.finish(b, {}));
    QVERIFY(queue.fail(c, QStringLiteral("x")));
    QVERIFY(queue.cancel(d));
    QCOMPARE(queue.count(std::nullopt), 5);
    QCOMPARE(queue.count(TaskStatus::Pending), 1);
    QCOMPARE(queue.count(TaskStatus::Running), 1);
    QCOMPARE(queue.count(TaskStatus::Done), 1);
    QCOMPARE(queue.count(TaskStatus::Error), 1);
    QCOMPARE(queue.count(TaskStatus::Cancelled), 1);
    QCOMPARE(queue.pendingCount(), 1);
    QCOMPARE(queue.runningCount(), 1);
}

void TestTaskQueue::signalsNameTheTask()
{
    TaskQueue queue(QueueLimits{100, 1});
    QSignalSpy queued(&queue, &TaskQueue::taskQueued);
    QSignalSpy changed(&queue, &TaskQueue::taskChanged);
    QSignalSpy finished(&queue, &TaskQueue::taskFinished);
    QSignalSpy forgotten(&queue, &TaskQueue::taskForgotten);

    const QString a = enqueueOk(queue);
    QCOMPARE(queued.size(), 1);
    QCOMPARE(queued.at(0).at(0).toString(), a);
    QCOMPARE(changed.size(), 0);

    QVERIFY(queue.start(a, NodeUrl));
    QCOMPARE(changed.size(), 1);
    QCOMPARE(changed.at(0).at(0).toString(), a);
    QVERIFY(queue.setProgress(a, 0.5, QStringLiteral("1")));
    QCOMPARE(changed.size(), 2);
    QVERIFY(queue.finish(a, {}));
    QCOMPARE(finished.size(), 1);
    QCOMPARE(finished.at(0).at(0).toString(), a);
    QVERIFY(changed.size() >= 3);
    QCOMPARE(changed.last().at(0).toString(), a);
    QCOMPARE(forgotten.size(), 0);

    const QString b = enqueueOk(queue);
    QCOMPARE(queued.size(), 2);
    QVERIFY(queue.cancel(b));
    QCOMPARE(finished.size(), 2);
    QCOMPARE(finished.at(1).at(0).toString(), b);
    QCOMPARE(forgotten.size(), 1);
    QCOMPARE(forgotten.at(0).at(0).toString(), a);
}

QTEST_GUILESS_MAIN(TestTaskQueue)
#include "tst_taskqueue.moc"
