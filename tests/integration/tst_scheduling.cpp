// Placement and node controls through the router: model affinity, pipelining (queue depth),
// drain / disable / enable / labels, priorities.
#include "apiserver.h"
#include "dispatch/taskpicker.h"
#include "httpclient.h"
#include "isolatedsettings.h"
#include "router/router.h"
#include "simcluster.h"

#include <QJsonArray>
#include <QTest>

using namespace comfy;
using namespace testsupport;

namespace {

struct Harness {
    Harness(int nodes, Settings settings = {}, int stepDelayMs = 5)
        : cluster(nodes, stepDelayMs)
    {
        settings.healthIntervalMs = 50;
        settings.nodes = cluster.urls();
        settings.pendingLimit = 100;
        router = std::make_unique<Router>(dirs.apply(settings));
        api = std::make_unique<server::ApiServer>(*router);
        client = std::make_unique<HttpClient>(QUrl(
            QStringLiteral("http://127.0.0.1:%1/").arg(api->listen(QHostAddress::LocalHost, 0))));
        cluster.addModelFile(QStringLiteral("models/checkpoints/a.safetensors"));
        cluster.addModelFile(QStringLiteral("models/checkpoints/b.safetensors"));
        // The order tasks start in, as the queue reports it (startedAt has only milliseconds:
        // a free node takes the next task within one).
        QObject::connect(&router->tasks(), &TaskQueue::taskChanged, &router->tasks(),
                         [this](const QString &id) {
                             const auto t = task(id);
                             if (t && t->status == TaskStatus::Running && !started.contains(id))
                                 started.append(id);
                         });
    }
    bool allIdle() const
    {
        const auto nodes = router->nodes().nodes();
        return std::all_of(nodes.cbegin(), nodes.cend(),
                           [](const NodeInfo &n) { return n.state == NodeState::Idle; });
    }
    QString submit(const QString &checkpoint, int steps = 2, const QJsonObject &extra = {})
    {
        QJsonObject graph = samplerGraph(steps);
        graph.insert(
            QStringLiteral("4"),
            QJsonObject{{QStringLiteral("class_type"), QStringLiteral("CheckpointLoaderSimple")},
                        {QStringLiteral("inputs"),
                         QJsonObject{{QStringLiteral("ckpt_name"), checkpoint}}}});
        QJsonObject body{
            {QStringLiteral("type"), QStringLiteral("Raw")},
            {QStringLiteral("params"), QJsonObject{{QStringLiteral("prompt"), graph}}}};
        for (auto it = extra.begin(); it != extra.end(); ++it)
            body.insert(it.key(), it.value());
        return client->post(QStringLiteral("/workflow"), body)
            .object()
            .value(QLatin1String("id"))
            .toString();
    }
    std::optional<Task> task(const QString &id) const { return router->tasks().task(id); }
    // Keeps node 0 busy with a task of `checkpoint` (the node hangs) so that the tasks
    // submitted next pile up; release() lets it finish with that checkpoint loaded.
    bool holdNode(const QString &checkpoint)
    {
        cluster.node(0).setHang(true);
        const QString id = submit(checkpoint);
        return QTest::qWaitFor(
            [&] {
                const auto t = task(id);
                return t && t->status == TaskStatus::Running &&
                       !cluster.node(0).runningPromptId().isEmpty();
            },
            5000);
    }
    void release() { cluster.node(0).setHang(false); }
    // The ids in the order their tasks started.
    QStringList startOrder(const QStringList &ids) const
    {
        QStringList order;
        for (const QString &id : started)
            if (ids.contains(id))
                order.append(id);
        return order;
    }
    bool allDone(const QStringList &ids) const
    {
        return std::all_of(ids.cbegin(), ids.cend(),
                           [this](const QString &id) { return done(id); });
    }
    bool done(const QString &id) const
    {
        const auto t = task(id);
        return t && t->status == TaskStatus::Done;
    }
    QJsonObject nodeJson(const QString &url)
    {
        for (const QJsonValue &node : client->get(QStringLiteral("/cluster/nodes"))
                                          .object()
                                          .value(QLatin1String("nodes"))
                                          .toArray())
            if (node.toObject().value(QLatin1String("url")).toString() == url)
                return node.toObject();
        return {};
    }

    SimCluster cluster;
    IsolatedSettings dirs;
    std::unique_ptr<Router> router;
    QStringList started; // task ids in the order they started
    std::unique_ptr<server::ApiServer> api;
    std::unique_ptr<HttpClient> client;
};

} // namespace

class TestScheduling : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void affinitySendsATaskWhereItsModelIsLoaded();
    void withoutAffinityTheLongestIdleNodeWins();
    void pipeliningQueuesTheNextTaskOnTheNode();
    void drainFinishesTheTaskThenTakesNoMore();
    void disableAndEnable();
    void labelsRouteSteersPlacement();
    void higherPriorityRunsFirst();
    void backlogAFreedNodeTakesATaskOfItsModel_data();
    void backlogAFreedNodeTakesATaskOfItsModel();
    void backlogAPassedOverTaskRunsWithinTheBound();
    void backlogNeverOvertakesAHigherPriority();
    void backlogRespectsLabels();
};

void TestScheduling::affinitySendsATaskWhereItsModelIsLoaded()
{
    Harness h(2);
    QTRY_VERIFY(h.allIdle());
    const QString first = h.submit(QStringLiteral("a.safetensors"));
    QTRY_VERIFY_WITH_TIMEOUT(h.done(first), 10000);
    const QUrl warm = h.task(first)->node;
    QTRY_VERIFY(h.allIdle());
    // The other node has been idle longer, but this one has the checkpoint loaded.
    const QJsonObject node = h.nodeJson(warm.toString());
    QCOMPARE(node.value(QLatin1String("status"))
                 .toObject()
                 .value(QLatin1String("cache"))
                 .toObject()
                 .value(QLatin1String("models"))
                 .toArray(),
             QJsonArray{QStringLiteral("a.safetensors")});
    for (int i = 0; i < 3; ++i) {
        const QString next = h.submit(QStringLiteral("a.safetensors"));
        QTRY_VERIFY_WITH_TIMEOUT(h.done(next), 10000);
        QCOMPARE(h.task(next)->node, warm);
        QTRY_VERIFY(h.allIdle());
    }
    // Another model goes to the cold node, which has waited longest.
    const QString other = h.submit(QStringLiteral("b.safetensors"));
    QTRY_VERIFY_WITH_TIMEOUT(h.done(other), 10000);
    QVERIFY(h.task(other)->node != warm);
}

void TestScheduling::withoutAffinityTheLongestIdleNodeWins()
{
    Settings settings;
    settings.nodeAffinity = false;
    Harness h(2, settings);
    QTRY_VERIFY(h.allIdle());
    QList<QUrl> used;
    for (int i = 0; i < 4; ++i) {
        const QString id = h.submit(QStringLiteral("a.safetensors"));
        QTRY_VERIFY_WITH_TIMEOUT(h.done(id), 10000);
        used << h.task(id)->node;
        QTRY_VERIFY(h.allIdle());
    }
    QVERIFY(used[0] != used[1]); // round and round
    QCOMPARE(used[0], used[2]);
    QCOMPARE(used[1], used[3]);
}

void TestScheduling::pipeliningQueuesTheNextTaskOnTheNode()
{
    Settings settings;
    settings.nodeQueueDepth = 2;
    Harness h(1, settings, 20);
    QTRY_VERIFY(h.allIdle());
    const QString first = h.submit(QStringLiteral("a.safetensors"), 20);
    const QString second = h.submit(QStringLiteral("b.safetensors"), 5);
    const QString third = h.submit(QStringLiteral("a.safetensors"), 5);
    // Two on the node at once: the second waits in ComfyUI's own queue, not in the router.
    QTRY_VERIFY_WITH_TIMEOUT(h.task(first)->status == TaskStatus::Running &&
                                 h.task(second)->status == TaskStatus::Running &&
                                 !h.task(second)->promptId.isEmpty(),
                             5000);
    QCOMPARE(h.task(third)->status, TaskStatus::Pending);
    QCOMPARE(h.cluster.node(0).pendingPromptIds(), QStringList{h.task(second)->promptId});
    QCOMPARE(h.nodeJson(h.cluster.urls().first()).value(QLatin1String("tasks")).toArray().size(),
             2);
    // Cancelling the one queued on the node removes it there; the running one is untouched.
    QCOMPARE(h.client->post(QStringLiteral("/workflow/%1/cancel").arg(second), QByteArray()).status,
             200);
    QTRY_VERIFY_WITH_TIMEOUT(h.done(first) && h.done(third), 15000);
    QCOMPARE(h.task(second)->status, TaskStatus::Cancelled);
    // Results and progress stay per task.
    QCOMPARE(h.task(first)->images.size(), 1);
    QCOMPARE(h.task(third)->images.size(), 1);
    QCOMPARE(h.task(first)->progress, 1.0);
}

void TestScheduling::drainFinishesTheTaskThenTakesNoMore()
{
    Harness h(2, {}, 20);
    QTRY_VERIFY(h.allIdle());
    const QString running = h.submit(QStringLiteral("a.safetensors"), 30);
    QTRY_VERIFY_WITH_TIMEOUT(h.task(running)->status == TaskStatus::Running, 5000);
    const QString url = h.task(running)->node.toString();
    HttpReply reply = h.client->post(QStringLiteral("/cluster/nodes/drain"),
                                     QJsonObject{{QStringLiteral("url"), url}});
    QCOMPARE(reply.status, 200);
    QCOMPARE(reply.object().value(QLatin1String("draining")).toBool(), true);
    const QString next = h.submit(QStringLiteral("a.safetensors"));
    QTRY_VERIFY_WITH_TIMEOUT(h.done(running) && h.done(next), 15000);
    QVERIFY(h.task(next)->node.toString() != url); // not on the draining node, warm or not
    const QJsonObject drained = h.nodeJson(url);
    QCOMPARE(drained.value(QLatin1String("draining")).toBool(), false);
    QCOMPARE(drained.value(QLatin1String("enabled")).toBool(), false);
    QCOMPARE(h.client
                 ->post(QStringLiteral("/cluster/nodes/drain"),
                        QJsonObject{{QStringLiteral("url"), QStringLiteral("http://nowhere:1")}})
                 .status,
             404);
    QCOMPARE(h.client->post(QStringLiteral("/cluster/nodes/drain"), QJsonObject{}).status, 400);
}

void TestScheduling::disableAndEnable()
{
    Harness h(1);
    QTRY_VERIFY(h.allIdle());
    const QString url = h.cluster.urls().first();
    QCOMPARE(h.client
                 ->post(QStringLiteral("/cluster/nodes/disable"),
                        QJsonObject{{QStringLiteral("url"), url}})
                 .status,
             200);
    const QString id = h.submit(QStringLiteral("a.safetensors"));
    QVERIFY(!QTest::qWaitFor([&] { return h.task(id)->status != TaskStatus::Pending; }, 500));
    QCOMPARE(h.cluster.node(0).promptsReceived(), 0);
    const HttpReply reply = h.client->post(QStringLiteral("/cluster/nodes/enable"),
                                           QJsonObject{{QStringLiteral("url"), url}});
    QCOMPARE(reply.status, 200);
    QCOMPARE(reply.object().value(QLatin1String("enabled")).toBool(), true);
    QTRY_VERIFY_WITH_TIMEOUT(h.done(id), 10000); // at once, no polling
}

void TestScheduling::labelsRouteSteersPlacement()
{
    Harness h(2);
    QTRY_VERIFY(h.allIdle());
    const QString big = h.cluster.urls().last();
    HttpReply reply = h.client->post(
        QStringLiteral("/cluster/nodes/labels"),
        QJsonObject{{QStringLiteral("url"), big},
                    {QStringLiteral("labels"), QJsonArray{QStringLiteral("big-gpu")}}});
    QCOMPARE(reply.status, 200);
    QCOMPARE(reply.object().value(QLatin1String("labels")).toArray(),
             QJsonArray{QStringLiteral("big-gpu")});
    for (int i = 0; i < 3; ++i) {
        const QString id =
            h.submit(QStringLiteral("a.safetensors"), 2,
                     {{QStringLiteral("node_labels"), QJsonArray{QStringLiteral("big-gpu")}}});
        QTRY_VERIFY_WITH_TIMEOUT(h.done(id), 10000);
        QCOMPARE(h.task(id)->node.toString(), big);
    }
    QCOMPARE(h.client
                 ->post(QStringLiteral("/cluster/nodes/labels"),
                        QJsonObject{{QStringLiteral("url"), big}})
                 .status,
             400);
    QCOMPARE(h.client
                 ->post(QStringLiteral("/cluster/nodes/labels"),
                        QJsonObject{{QStringLiteral("url"), big},
                                    {QStringLiteral("labels"), QJsonArray{1}}})
                 .status,
             400);
}

void TestScheduling::higherPriorityRunsFirst()
{
    Harness h(1, {}, 20);
    QTRY_VERIFY(h.allIdle());
    const QString blocker = h.submit(QStringLiteral("a.safetensors"), 20);
    QTRY_VERIFY_WITH_TIMEOUT(h.task(blocker)->status == TaskStatus::Running, 5000);
    const QString low = h.submit(QStringLiteral("a.safetensors"), 1);
    const QString normal =
        h.submit(QStringLiteral("a.safetensors"), 1, {{QStringLiteral("priority"), 0}});
    const QString high =
        h.submit(QStringLiteral("a.safetensors"), 1, {{QStringLiteral("priority"), 10}});
    const QString normal2 = h.submit(QStringLiteral("a.safetensors"), 1);
    QCOMPARE(h.router->tasks().pendingIds(),
             QStringList({high, low, normal, normal2})); // equal ones FIFO
    QTRY_VERIFY_WITH_TIMEOUT(h.done(normal2), 15000);
    QVERIFY(h.task(high)->startedAt <= h.task(low)->startedAt);
    QVERIFY(h.task(low)->startedAt <= h.task(normal)->startedAt);
    QVERIFY(h.task(normal)->startedAt <= h.task(normal2)->startedAt);
}

namespace {
Settings withLookAhead()
{
    Settings settings;
    settings.nodeAffinityLookahead = TaskPicker::SuggestedLookAhead;
    return settings;
}
} // namespace

void TestScheduling::backlogAFreedNodeTakesATaskOfItsModel_data()
{
    QTest::addColumn<bool>("affinity");
    QTest::addColumn<int>("lookAhead");
    QTest::addColumn<QList<int>>("order"); // indexes into b1, a1, b2, a2
    QTest::newRow("affinity, look-ahead 32") << true << 32 << QList<int>{1, 3, 0, 2};
    QTest::newRow("affinity, look-ahead 0 (default): queue order")
        << true << 0 << QList<int>{0, 1, 2, 3};
    QTest::newRow("first idle (affinity off): queue order")
        << false << 32 << QList<int>{0, 1, 2, 3};
}

void TestScheduling::backlogAFreedNodeTakesATaskOfItsModel()
{
    QFETCH(bool, affinity);
    QFETCH(int, lookAhead);
    QFETCH(QList<int>, order);
    Settings settings;
    settings.nodeAffinity = affinity;
    settings.nodeAffinityLookahead = lookAhead;
    Harness h(1, settings);
    QTRY_VERIFY(h.allIdle());
    QVERIFY(h.holdNode(QStringLiteral("a.safetensors")));
    const QStringList queued{
        h.submit(QStringLiteral("b.safetensors")), h.submit(QStringLiteral("a.safetensors")),
        h.submit(QStringLiteral("b.safetensors")), h.submit(QStringLiteral("a.safetensors"))};
    QCOMPARE(h.router->tasks().pendingIds(), queued);
    h.release();
    QTRY_VERIFY_WITH_TIMEOUT(h.allDone(queued), 15000);
    // The node freed with a.safetensors loaded: both a tasks before the b one at the head.
    QStringList expected;
    for (int i : order)
        expected << queued.at(i);
    QCOMPARE(h.startOrder(queued), expected);
}

void TestScheduling::backlogAPassedOverTaskRunsWithinTheBound()
{
    Harness h(1, withLookAhead());
    QTRY_VERIFY(h.allIdle());
    QVERIFY(h.holdNode(QStringLiteral("a.safetensors")));
    const QString b = h.submit(QStringLiteral("b.safetensors"));
    QStringList a;
    for (int i = 0; i < TaskPicker::MaxPassOvers + 3; ++i)
        a << h.submit(QStringLiteral("a.safetensors"), 1);
    h.release();
    QTRY_VERIFY_WITH_TIMEOUT(h.allDone(a + QStringList{b}), 30000);
    // Passed over MaxPassOvers times, then taken although the node holds another model.
    QStringList expected = a.mid(0, TaskPicker::MaxPassOvers);
    expected << b << a.mid(TaskPicker::MaxPassOvers);
    QCOMPARE(h.startOrder(a + QStringList{b}), expected);
}

void TestScheduling::backlogNeverOvertakesAHigherPriority()
{
    Harness h(1, withLookAhead());
    QTRY_VERIFY(h.allIdle());
    QVERIFY(h.holdNode(QStringLiteral("a.safetensors")));
    const QJsonObject high{{QStringLiteral("priority"), 5}};
    const QString bHigh = h.submit(QStringLiteral("b.safetensors"), 2, high);
    const QString aHigh = h.submit(QStringLiteral("a.safetensors"), 2, high);
    const QString aNormal = h.submit(QStringLiteral("a.safetensors"));
    QCOMPARE(h.router->tasks().pendingIds(), QStringList({bHigh, aHigh, aNormal}));
    h.release();
    QTRY_VERIFY_WITH_TIMEOUT(h.allDone({bHigh, aHigh, aNormal}), 15000);
    // a at the same priority may go first; the lower-priority one waits for b, whatever the
    // node has loaded.
    QCOMPARE(h.startOrder({bHigh, aHigh, aNormal}), QStringList({aHigh, bHigh, aNormal}));
}

void TestScheduling::backlogRespectsLabels()
{
    Harness h(1, withLookAhead());
    QTRY_VERIFY(h.allIdle());
    QVERIFY(h.holdNode(QStringLiteral("a.safetensors")));
    const QString b = h.submit(QStringLiteral("b.safetensors"));
    const QString aBig =
        h.submit(QStringLiteral("a.safetensors"), 2,
                 {{QStringLiteral("node_labels"), QJsonArray{QStringLiteral("big-gpu")}}});
    const QString a = h.submit(QStringLiteral("a.safetensors"));
    h.release();
    QTRY_VERIFY_WITH_TIMEOUT(h.allDone({a, b}), 15000);
    // The first a task needs a label the node lacks: the next one is taken, then the head.
    QCOMPARE(h.startOrder({a, b}), QStringList({a, b}));
    QCOMPARE(h.task(aBig)->status, TaskStatus::Pending);
    QCOMPARE(
        h.client
            ->post(QStringLiteral("/cluster/nodes/labels"),
                   QJsonObject{{QStringLiteral("url"), h.cluster.urls().first()},
                               {QStringLiteral("labels"), QJsonArray{QStringLiteral("big-gpu")}}})
            .status,
        200);
    QTRY_VERIFY_WITH_TIMEOUT(h.done(aBig), 10000);
}

QTEST_GUILESS_MAIN(TestScheduling)
#include "tst_scheduling.moc"
