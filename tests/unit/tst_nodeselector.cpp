// Who picks the node: of the idle nodes carrying all of the task's node_labels, the one idle
// the longest. And normalizeNodeUrl, the one spelling of a node's URL (api.md, "Cluster":
// "http://host:8188/"; a URL that is not http(s) with a host is refused).
#include "cluster/node.h"
#include "dispatch/nodeselector.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using comfy::NodeInfo;
using comfy::NodeSelector;
using comfy::NodeState;
using comfy::Task;

Q_DECLARE_METATYPE(comfy::NodeInfo)

namespace {

const QDateTime T0(QDate(2024, 12, 1), QTime(10, 0), Qt::UTC);

NodeInfo node(const char *url, NodeState state, int idleSeconds, QStringList labels = {})
{
    NodeInfo info;
    info.url = QUrl(QString::fromLatin1(url));
    info.state = state;
    info.checked = true;
    info.idleSince = T0.addSecs(-idleSeconds); // idle for idleSeconds at T0
    info.labels = std::move(labels);
    if (state == NodeState::Busy)
        info.tasks = {QStringLiteral("running-task")}; // a busy node holds a task
    return info;
}

Task taskWithLabels(QStringList labels)
{
    Task task;
    task.nodeLabels = std::move(labels);
    return task;
}

} // namespace

class TestNodeSelector : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void pick_data();
    void pick();
    void pickDoesNotDependOnOrder();
    void affinityPrefersANodeWithTheModelLoaded();
    void modelsOfAGraph();
    void normalizeNodeUrl_data();
    void normalizeNodeUrl();
    void normalizedUrlIsStable();
};

void TestNodeSelector::pick_data()
{
    QTest::addColumn<QList<NodeInfo>>("nodes");
    QTest::addColumn<QStringList>("taskLabels");
    QTest::addColumn<QString>("expected"); // empty: no node fits

    const NodeState Idle = NodeState::Idle;
    const NodeState Busy = NodeState::Busy;
    const NodeState Offline = NodeState::Offline;

    QTest::newRow("no nodes") << QList<NodeInfo>{} << QStringList{} << QString();
    QTest::newRow("one idle") << QList<NodeInfo>{node("http://a:8188/", Idle, 5)} << QStringList{}
                              << "http://a:8188/";
    QTest::newRow("longest idle wins")
        << QList<NodeInfo>{node("http://a:8188/", Idle, 5), node("http://b:8188/", Idle, 60),
                           node("http://c:8188/", Idle, 30)}
        << QStringList{} << "http://b:8188/";
    QTest::newRow("longest idle wins, listed first")
        << QList<NodeInfo>{node("http://b:8188/", Idle, 60), node("http://a:8188/", Idle, 5)}
        << QStringList{} << "http://b:8188/";
    // The registry offers only nodes with a free slot; with a queue depth above 1 that includes
    // busy ones, which come after every idle one.
    QTest::newRow("idle before busy, even if the busy one waited longer")
        << QList<NodeInfo>{node("http://a:8188/", Busy, 600), node("http://b:8188/", Idle, 1)}
        << QStringList{} << "http://b:8188/";
    QTest::newRow("offline skipped even if longest idle")
        << QList<NodeInfo>{node("http://a:8188/", Offline, 600), node("http://b:8188/", Idle, 1)}
        << QStringList{} << "http://b:8188/";
    QTest::newRow("a busy node with a free slot when none is idle")
        << QList<NodeInfo>{node("http://a:8188/", Busy, 10), node("http://b:8188/", Offline, 20)}
        << QStringList{} << "http://a:8188/";
    QTest::newRow("all offline") << QList<NodeInfo>{node("http://a:8188/", Offline, 10),
                                                    node("http://b:8188/", Offline, 20)}
                                 << QStringList{} << QString();
    QTest::newRow("labelled nodes serve unlabelled tasks")
        << QList<NodeInfo>{node("http://a:8188/", Idle, 10, {"gpu", "sdxl"})} << QStringList{}
        << "http://a:8188/";
    QTest::newRow("label required") << QList<NodeInfo>{node("http://a:8188/", Idle, 60),
                                                       node("http://b:8188/", Idle, 5, {"gpu"})}
                                    << QStringList{"gpu"} << "http://b:8188/";
    QTest::newRow("all labels required")
        << QList<NodeInfo>{node("http://a:8188/", Idle, 60, {"gpu"}),
                           node("http://b:8188/", Idle, 50, {"sdxl"}),
                           node("http://c:8188/", Idle, 5, {"sdxl", "fast", "gpu"})}
        << QStringList{"gpu", "sdxl"} << "http://c:8188/";
    QTest::newRow("longest idle among those that fit")
        << QList<NodeInfo>{node("http://a:8188/", Idle, 90),
                           node("http://b:8188/", Idle, 50, {"gpu"}),
                           node("http://c:8188/", Idle, 70, {"gpu"})}
        << QStringList{"gpu"} << "http://c:8188/";
    QTest::newRow("labels are case-sensitive")
        << QList<NodeInfo>{node("http://a:8188/", Idle, 60, {"GPU"})} << QStringList{"gpu"}
        << QString();
    QTest::newRow("no node carries the label")
        << QList<NodeInfo>{node("http://a:8188/", Idle, 60, {"cpu"}),
                           node("http://b:8188/", Idle, 60)}
        << QStringList{"gpu"} << QString();
    QTest::newRow("the only fitting node is busy (with a free slot)")
        << QList<NodeInfo>{node("http://a:8188/", Busy, 60, {"gpu"}),
                           node("http://b:8188/", Idle, 60)}
        << QStringList{"gpu"} << "http://a:8188/";
    QTest::newRow("one of two labels missing everywhere")
        << QList<NodeInfo>{node("http://a:8188/", Idle, 60, {"gpu"}),
                           node("http://b:8188/", Idle, 60, {"sdxl"})}
        << QStringList{"gpu", "sdxl"} << QString();
}

void TestNodeSelector::pick()
{
    QFETCH(QList<NodeInfo>, nodes);
    QFETCH(QStringList, taskLabels);
    QFETCH(QString, expected);
    const std::optional<QUrl> picked = NodeSelector::pick(nodes, taskWithLabels(taskLabels));
    if (expected.isEmpty()) {
        QVERIFY2(!picked, picked ? qPrintable(picked->toString()) : "");
        return;
    }
    QVERIFY(picked);
    QCOMPARE(picked->toString(), expected);
}

void TestNodeSelector::pickDoesNotDependOnOrder()
{
    QList<NodeInfo> nodes{
        node("http://a:8188/", NodeState::Idle, 10), node("http://b:8188/", NodeState::Idle, 40),
        node("http://c:8188/", NodeState::Busy, 90), node("http://d:8188/", NodeState::Idle, 20)};
    std::sort(nodes.begin(), nodes.end(),
              [](const NodeInfo &l, const NodeInfo &r) { return l.url.host() < r.url.host(); });
    do {
        const std::optional<QUrl> picked = NodeSelector::pick(nodes, Task{});
        QVERIFY(picked);
        QCOMPARE(picked->toString(), QStringLiteral("http://b:8188/"));
    } while (
        std::next_permutation(nodes.begin(), nodes.end(), [](const NodeInfo &l, const NodeInfo &r) {
            return l.url.host() < r.url.host();
        }));
}

void TestNodeSelector::normalizeNodeUrl_data()
{
    QTest::addColumn<QString>("input");
    QTest::addColumn<QString>("expected"); // empty: refused

    QTest::newRow("trailing slash added") << "http://gpu-1:8188"
                                          << "http://gpu-1:8188/";
    QTest::newRow("trailing slash kept") << "http://gpu-1:8188/"
                                         << "http://gpu-1:8188/";
    QTest::newRow("https without port") << "https://comfy.example.com"
                                        << "https://comfy.example.com/";
    QTest::newRow("uppercase host lowered") << "http://GPU-1.Example.COM:8188"
                                            << "http://gpu-1.example.com:8188/";
    QTest::newRow("uppercase scheme lowered") << "HTTP://gpu-1:8188/"
                                              << "http://gpu-1:8188/";
    QTest::newRow("surrounding spaces") << "  http://gpu-1:8188  "
                                        << "http://gpu-1:8188/";
    QTest::newRow("ipv4") << "http://10.0.0.7:8188"
                          << "http://10.0.0.7:8188/";
    QTest::newRow("ipv6") << "http://[::1]:8188"
                          << "http://[::1]:8188/";
    QTest::newRow("behind a reverse proxy path") << "https://proxy.example.com/comfy/gpu1"
                                                 << "https://proxy.example.com/comfy/gpu1/";

    QTest::newRow("ftp") << "ftp://gpu-1:8188" << QString();
    QTest::newRow("websocket scheme") << "ws://gpu-1:8188" << QString();
    QTest::newRow("file") << "file:///srv/comfyui" << QString();
    QTest::newRow("no scheme") << "gpu-1:8188" << QString();
    QTest::newRow("bare host") << "gpu-1" << QString();
    QTest::newRow("no host") << "http://" << QString();
    QTest::newRow("no host, with path") << "http:///comfy" << QString();
    QTest::newRow("query") << "http://gpu-1:8188/?token=abc" << QString();
    QTest::newRow("fragment") << "http://gpu-1:8188/#top" << QString();
    QTest::newRow("user info") << "http://admin:secret@gpu-1:8188" << QString();
    QTest::newRow("user name only") << "http://admin@gpu-1:8188" << QString();
    QTest::newRow("port out of range") << "http://gpu-1:99999" << QString();
    QTest::newRow("space in host") << "http://gpu 1:8188" << QString();
    QTest::newRow("empty") << "" << QString();
    QTest::newRow("garbage") << "not a url" << QString();
}

void TestNodeSelector::normalizeNodeUrl()
{
    QFETCH(QString, input);
    QFETCH(QString, expected);
    const QUrl url = comfy::normalizeNodeUrl(input);
    if (expected.isEmpty()) {
        QVERIFY2(url.isEmpty(), qPrintable(url.toString()));
        return;
    }
    QVERIFY(url.isValid());
    QCOMPARE(url.toString(), expected);
}

void TestNodeSelector::normalizedUrlIsStable()
{
    // The same node spelled differently is the same node ("adding a known node again is a
    // no-op"), and normalising twice changes nothing.
    const QStringList spellings{"http://gpu-1:8188", "http://gpu-1:8188/", "HTTP://GPU-1:8188",
                                " http://Gpu-1:8188/ "};
    const QUrl first = comfy::normalizeNodeUrl(spellings.first());
    QVERIFY(!first.isEmpty());
    for (const QString &spelling : spellings)
        QCOMPARE(comfy::normalizeNodeUrl(spelling), first);
    QCOMPARE(comfy::normalizeNodeUrl(first.toString()), first);
}

void TestNodeSelector::affinityPrefersANodeWithTheModelLoaded()
{
    Task task;
    task.graph = QJsonObject{
        {QStringLiteral("4"),
         QJsonObject{
             {QStringLiteral("class_type"), QStringLiteral("CheckpointLoaderSimple")},
             {QStringLiteral("inputs"),
              QJsonObject{{QStringLiteral("ckpt_name"), QStringLiteral("sdxl.safetensors")}}}}}};
    NodeInfo cold = node("http://cold:8188/", NodeState::Idle, 600);
    cold.loadedModels = {QStringLiteral("sd15.safetensors")};
    NodeInfo warm = node("http://warm:8188/", NodeState::Idle, 5);
    warm.loadedModels = {QStringLiteral("sdxl.safetensors")};
    QCOMPARE(NodeSelector::pick({cold, warm}, task, true)->host(), QStringLiteral("warm"));
    // Off: the longest idle, whatever it holds.
    QCOMPARE(NodeSelector::pick({cold, warm}, task, false)->host(), QStringLiteral("cold"));
    // An idle cold node still beats a warm one that is busy.
    NodeInfo busyWarm = node("http://busywarm:8188/", NodeState::Busy, 5);
    busyWarm.loadedModels = warm.loadedModels;
    QCOMPARE(NodeSelector::pick({cold, busyWarm}, task, true)->host(), QStringLiteral("cold"));
    // A warm node must hold every model of the task (base and refiner).
    task.graph.insert(
        QStringLiteral("5"),
        QJsonObject{
            {QStringLiteral("class_type"), QStringLiteral("CheckpointLoaderSimple")},
            {QStringLiteral("inputs"),
             QJsonObject{{QStringLiteral("ckpt_name"), QStringLiteral("refiner.safetensors")}}}});
    QCOMPARE(NodeSelector::pick({cold, warm}, task, true)->host(), QStringLiteral("cold"));
}

void TestNodeSelector::modelsOfAGraph()
{
    const QJsonObject graph = QJsonDocument::fromJson(R"({
        "1": {"class_type": "UNETLoader", "inputs": {"unet_name": "flux1-dev.safetensors", "weight_dtype": "default"}},
        "2": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "b.safetensors"}},
        "3": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "a.safetensors"}},
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "a.safetensors"}},
        "5": {"class_type": "LoraLoader", "inputs": {"lora_name": "l.safetensors", "model": ["2", 0]}},
        "6": {"class_type": "KSampler", "inputs": {"model": ["2", 0]}}})")
                                  .object();
    QCOMPARE(NodeSelector::modelsOf(graph),
             QStringList({"a.safetensors", "b.safetensors", "flux1-dev.safetensors"}));
}

QTEST_GUILESS_MAIN(TestNodeSelector)
#include "tst_nodeselector.moc"
