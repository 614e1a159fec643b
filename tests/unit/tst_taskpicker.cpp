// Which waiting task a free node takes (TaskPicker): with a backlog, the first task within the
// look-ahead whose model the node holds; never one of a lower priority than the head, never one
// whose labels the node lacks; a task passed over MaxPassOvers times is taken regardless.
#include "dispatch/taskpicker.h"

#include <QJsonObject>
#include <QTest>

using comfy::NodeInfo;
using comfy::NodeState;
using comfy::Task;
using comfy::TaskPhase;
using comfy::TaskPicker;

namespace {

const QUrl NodeUrl(QStringLiteral("http://gpu:8188/"));

NodeInfo nodeHolding(const QString &model, QStringList labels = {})
{
    NodeInfo info;
    info.url = NodeUrl;
    info.state = NodeState::Idle;
    info.labels = std::move(labels);
    if (!model.isEmpty())
        info.loadedModels = {model};
    return info;
}

Task task(const QString &id, const QString &model, int priority = 0, QStringList labels = {})
{
    Task t;
    t.id = id;
    t.priority = priority;
    t.nodeLabels = std::move(labels);
    t.graph = QJsonObject{
        {QStringLiteral("4"),
         QJsonObject{
             {QStringLiteral("class_type"), QStringLiteral("CheckpointLoaderSimple")},
             {QStringLiteral("inputs"), QJsonObject{{QStringLiteral("ckpt_name"), model}}}}}};
    return t;
}

// The queue as the dispatcher shows it: queue[0] is the head; counts the tasks read behind it.
struct Queue {
    QList<Task> tasks;
    int reads = 0;
    TaskPicker::Waiting waiting()
    {
        return [this](qsizetype k) -> std::optional<Task> {
            ++reads;
            if (k >= tasks.size())
                return std::nullopt;
            return tasks.at(k);
        };
    }
};

} // namespace

class TestTaskPicker : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void takesTheFirstWaitingTaskOfItsModel();
    void theHeadWhenTheNodeHoldsItsModel();
    void affinityOffIsFirstIdle();
    void aNodeWithoutModelsTakesTheHead();
    void theHeadWhenNothingBehindMatches();
    void lookAheadIsBounded();
    void neverOvertakesAHigherPriority();
    void labelsMustFit();
    void tasksStillDownloadingAreSkipped();
    void aTaskPassedOverTooOftenIsTaken();
    void forgetDropsTheCount();
};

void TestTaskPicker::takesTheFirstWaitingTaskOfItsModel()
{
    TaskPicker picker;
    Queue q{{task("b0", "b"), task("b1", "b"), task("a2", "a"), task("a3", "a")}};
    QCOMPARE(picker.taskFor(q.tasks[0], NodeUrl, {nodeHolding("a")}, q.waiting(), true), "a2");
    // Both tasks it overtook count a pass-over; the one behind it does not.
    QCOMPARE(picker.passOvers("b0"), 1);
    QCOMPARE(picker.passOvers("b1"), 1);
    QCOMPARE(picker.passOvers("a3"), 0);
    QCOMPARE(q.reads, 2);
}

void TestTaskPicker::theHeadWhenTheNodeHoldsItsModel()
{
    TaskPicker picker;
    Queue q{{task("a0", "a"), task("a1", "a")}};
    QCOMPARE(picker.taskFor(q.tasks[0], NodeUrl, {nodeHolding("a")}, q.waiting(), true), "a0");
    QCOMPARE(q.reads, 0); // nothing behind the head is read
}

void TestTaskPicker::affinityOffIsFirstIdle()
{
    TaskPicker picker;
    Queue q{{task("b0", "b"), task("a1", "a")}};
    QCOMPARE(picker.taskFor(q.tasks[0], NodeUrl, {nodeHolding("a")}, q.waiting(), false), "b0");
    QCOMPARE(q.reads, 0);
    QCOMPARE(picker.passOvers("b0"), 0);
}

void TestTaskPicker::aNodeWithoutModelsTakesTheHead()
{
    TaskPicker picker;
    Queue q{{task("b0", "b"), task("a1", "a")}};
    QCOMPARE(picker.taskFor(q.tasks[0], NodeUrl, {nodeHolding({})}, q.waiting(), true), "b0");
    QCOMPARE(q.reads, 0);
    // A node that is not among the available ones: the head, as NodeSelector chose.
    QCOMPARE(picker.taskFor(q.tasks[0], NodeUrl, {}, q.waiting(), true), "b0");
}

void TestTaskPicker::theHeadWhenNothingBehindMatches()
{
    TaskPicker picker;
    Queue q{{task("b0", "b"), task("c1", "c"), task("b2", "b")}};
    QCOMPARE(picker.taskFor(q.tasks[0], NodeUrl, {nodeHolding("a")}, q.waiting(), true), "b0");
    QCOMPARE(picker.passOvers("b0"), 0);
    QCOMPARE(picker.passOvers("c1"), 0);
}

void TestTaskPicker::lookAheadIsBounded()
{
    for (const int at : {TaskPicker::SuggestedLookAhead - 1, TaskPicker::SuggestedLookAhead}) {
        TaskPicker picker;
        Queue q;
        for (int i = 0; i < at; ++i)
            q.tasks << task(QStringLiteral("b%1").arg(i), "b");
        q.tasks << task("a", "a") << task("a-after", "a");
        const QString taken =
            picker.taskFor(q.tasks[0], NodeUrl, {nodeHolding("a")}, q.waiting(), true);
        QCOMPARE(taken,
                 at < TaskPicker::SuggestedLookAhead ? QStringLiteral("a") : QStringLiteral("b0"));
        QVERIFY(q.reads <= TaskPicker::SuggestedLookAhead - 1);
    }
}

void TestTaskPicker::neverOvertakesAHigherPriority()
{
    TaskPicker picker;
    Queue q{{task("b-high", "b", 5), task("a-normal", "a", 0)}};
    QCOMPARE(picker.taskFor(q.tasks[0], NodeUrl, {nodeHolding("a")}, q.waiting(), true), "b-high");
    // Equal priorities may be reordered, not across a lower one.
    Queue same{{task("b0", "b", 5), task("b1", "b", 5), task("a-high", "a", 5)}};
    QCOMPARE(picker.taskFor(same.tasks[0], NodeUrl, {nodeHolding("a")}, same.waiting(), true),
             "a-high");
    Queue across{{task("b0", "b", 5), task("a-low", "a", 0), task("a-high", "a", 5)}};
    QCOMPARE(picker.taskFor(across.tasks[0], NodeUrl, {nodeHolding("a")}, across.waiting(), true),
             "b0");
}

void TestTaskPicker::labelsMustFit()
{
    TaskPicker picker;
    Queue q{{task("b0", "b"), task("a-big", "a", 0, {"big-gpu"}), task("b2", "b", 0, {"big-gpu"}),
             task("a3", "a")}};
    QCOMPARE(picker.taskFor(q.tasks[0], NodeUrl, {nodeHolding("a")}, q.waiting(), true), "a3");
    // Only tasks that could have taken this node were passed over.
    QCOMPARE(picker.passOvers("b0"), 1);
    QCOMPARE(picker.passOvers("a-big"), 0);
    QCOMPARE(picker.passOvers("b2"), 0);
    // The node carrying the label takes it.
    QCOMPARE(
        picker.taskFor(q.tasks[0], NodeUrl, {nodeHolding("a", {"big-gpu"})}, q.waiting(), true),
        "a-big");
}

void TestTaskPicker::tasksStillDownloadingAreSkipped()
{
    TaskPicker picker;
    Queue q{{task("b0", "b"), task("a1", "a"), task("a2", "a")}};
    q.tasks[1].phase = TaskPhase::Downloading;
    QCOMPARE(picker.taskFor(q.tasks[0], NodeUrl, {nodeHolding("a")}, q.waiting(), true), "a2");
    QCOMPARE(picker.passOvers("a1"), 0);
}

void TestTaskPicker::aTaskPassedOverTooOftenIsTaken()
{
    TaskPicker picker;
    const Task head = task("b", "b");
    for (int i = 0; i < TaskPicker::MaxPassOvers; ++i) {
        Queue q{{head, task(QStringLiteral("a%1").arg(i), "a")}};
        QCOMPARE(picker.taskFor(head, NodeUrl, {nodeHolding("a")}, q.waiting(), true),
                 q.tasks[1].id);
    }
    QCOMPARE(picker.passOvers("b"), TaskPicker::MaxPassOvers);
    Queue q{{head, task("a-next", "a")}};
    QCOMPARE(picker.taskFor(head, NodeUrl, {nodeHolding("a")}, q.waiting(), true), "b");
    QCOMPARE(q.reads, 0);
    // One behind the head that is owed its turn goes before a task of the node's model.
    Queue owed{{task("c", "c"), head, task("a", "a")}};
    QCOMPARE(picker.taskFor(owed.tasks[0], NodeUrl, {nodeHolding("a")}, owed.waiting(), true), "b");
    QCOMPARE(picker.passOvers("c"), 1);
}

void TestTaskPicker::forgetDropsTheCount()
{
    TaskPicker picker;
    Queue q{{task("b0", "b"), task("a1", "a")}};
    QCOMPARE(picker.taskFor(q.tasks[0], NodeUrl, {nodeHolding("a")}, q.waiting(), true), "a1");
    QCOMPARE(picker.passOvers("b0"), 1);
    picker.forget("b0");
    QCOMPARE(picker.passOvers("b0"), 0);
}

QTEST_GUILESS_MAIN(TestTaskPicker)
#include "tst_taskpicker.moc"
