// The ComfyUI client (PromptRun over a NodeConnection) against a simulated node that replays
// the recorded protocol.
#include "comfy/nodeconnection.h"
#include "comfy/promptrun.h"
#include "simcluster.h"

#include <QDir>
#include <QPointer>
#include <QSignalSpy>
#include <QTest>

using namespace comfy;
using namespace testsupport;

class TestPromptRun : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void init()
    {
        m_cluster = std::make_unique<SimCluster>(1, 10);
        m_connection = std::make_unique<NodeConnection>(m_cluster->node(0).url());
    }
    void cleanup()
    {
        m_connection.reset();
        m_cluster.reset();
    }

    void saveImageOutputsAreFetchedWithView();
    void websocketImagesArriveInOrder();
    void progressAndPreviewsAreReported();
    void rejectionIsReportedWithNodeErrors();
    void executionErrorIsReported();
    void cancelInterruptsTheRunningPrompt();
    void droppedWebSocketReconnects();
    void finishedWhileAwayTakesResultsFromHistory();
    void websocketImagesLostWhileAwayIsNodeLost();
    void silentNodeIsNodeLost();
    void unreachableNodeIsNodeLost();
    void runsShareOneWebSocket();
    void idleWebSocketLostIsReopenedByTheNextRun();
    void queuedRunsGetOnlyTheirOwnMessages();
    void messagesBeforeThePromptAnswerAreKept();
    void removedNodesConnectionLivesUntilItsLastRunEnds();

private:
    std::unique_ptr<PromptRun> run(const QJsonObject &graph,
                                   const QString &taskId = QStringLiteral("task-1"))
    {
        return std::make_unique<PromptRun>(*m_connection, taskId, graph);
    }
    std::unique_ptr<SimCluster> m_cluster;
    std::unique_ptr<NodeConnection> m_connection;
};

void TestPromptRun::saveImageOutputsAreFetchedWithView()
{
    auto r = run(saveImageGraph(QStringLiteral("fetched")));
    QSignalSpy submitted(r.get(), &PromptRun::submitted);
    QSignalSpy received(&m_cluster->node(0), &simnode::SimulatedNode::promptReceived);
    QSignalSpy finished(r.get(), &PromptRun::finished);
    QSignalSpy failed(r.get(), &PromptRun::failed);
    r->start();
    QVERIFY(finished.wait(10000));
    QCOMPARE(failed.size(), 0);
    QCOMPARE(submitted.size(), 1);
    // The node's websocket was open with its clientId before POST /prompt carried it.
    QCOMPARE(received.size(), 1);
    QCOMPARE(received.first().at(1).toString(), m_connection->clientId());
    QVERIFY(m_connection->clientId().startsWith(QLatin1String("comfy-router-")));
    QCOMPARE(received.first().at(0).toString(), submitted.first().at(0).toString());
    const auto images = finished.first().at(0).value<QList<OutputImage>>();
    QCOMPARE(images.size(), 1);
    // The bytes are the file the node wrote into its output folder.
    const QDir output(m_cluster->node(0).rootDir() + QStringLiteral("/output"));
    const QStringList files = output.entryList({QStringLiteral("fetched_*.png")}, QDir::Files);
    QCOMPARE(files.size(), 1);
    QFile file(output.filePath(files.first()));
    QVERIFY(file.open(QIODevice::ReadOnly));
    QCOMPARE(images.first().data, file.readAll());
    QCOMPARE(images.first().mimeType, QByteArray("image/png"));
}

void TestPromptRun::websocketImagesArriveInOrder()
{
    auto r = run(previewAndWebsocketGraph());
    QSignalSpy finished(r.get(), &PromptRun::finished);
    QSignalSpy previews(r.get(), &PromptRun::preview);
    r->start();
    QVERIFY(finished.wait(10000));
    const auto images = finished.first().at(0).value<QList<OutputImage>>();
    QCOMPARE(images.size(), 4);
    QCOMPARE(previews.size(), 0); // SaveImageWebsocket frames are results, not previews
}

void TestPromptRun::progressAndPreviewsAreReported()
{
    auto r = run(samplerGraph(6));
    QSignalSpy progress(r.get(), &PromptRun::progress);
    QSignalSpy previews(r.get(), &PromptRun::preview);
    QSignalSpy executing(r.get(), &PromptRun::executingNode);
    QSignalSpy finished(r.get(), &PromptRun::finished);
    r->start();
    QVERIFY(finished.wait(10000));
    QCOMPARE(progress.size(), 6);
    for (int i = 0; i < 6; ++i) {
        QCOMPARE(progress.at(i).at(0).toInt(), i + 1);
        QCOMPARE(progress.at(i).at(1).toInt(), 6);
        QCOMPARE(progress.at(i).at(2).toString(), QStringLiteral("3"));
    }
    QCOMPARE(previews.size(), 6);
    QCOMPARE(previews.first().at(1).toByteArray(), QByteArray("image/jpeg"));
    bool sawSampler = false;
    for (const auto &args : executing)
        sawSampler = sawSampler || args.at(1).toString() == QLatin1String("KSampler");
    QVERIFY(sawSampler);
    QCOMPARE(finished.first().at(0).value<QList<OutputImage>>().size(), 1);
}

void TestPromptRun::rejectionIsReportedWithNodeErrors()
{
    QJsonObject graph = saveImageGraph();
    graph.insert(QStringLiteral("2"),
                 QJsonObject{{QStringLiteral("class_type"), QStringLiteral("ImageInvert")},
                             {QStringLiteral("inputs"), QJsonObject{}}});
    auto r = run(graph);
    QSignalSpy failed(r.get(), &PromptRun::failed);
    r->start();
    QVERIFY(failed.wait(10000));
    QCOMPARE(failed.first().at(0).value<RunFailure>(), RunFailure::Rejected);
    const QString reason = failed.first().at(1).toString();
    QVERIFY2(
        reason.contains(QLatin1String("node 2 (ImageInvert): Required input is missing: image")),
        qPrintable(reason));
}

void TestPromptRun::executionErrorIsReported()
{
    m_cluster->node(0).setFailNextPrompts(1, QStringLiteral("boom"));
    auto r = run(saveImageGraph());
    QSignalSpy failed(r.get(), &PromptRun::failed);
    r->start();
    QVERIFY(failed.wait(10000));
    QCOMPARE(failed.first().at(0).value<RunFailure>(), RunFailure::ExecutionError);
    QVERIFY2(failed.first().at(1).toString().contains(QLatin1String("boom")),
             qPrintable(failed.first().at(1).toString()));
}

void TestPromptRun::cancelInterruptsTheRunningPrompt()
{
    auto r = run(samplerGraph(500));
    QSignalSpy progress(r.get(), &PromptRun::progress);
    QSignalSpy failed(r.get(), &PromptRun::failed);
    QSignalSpy nodeFinished(&m_cluster->node(0), &simnode::SimulatedNode::promptFinished);
    r->start();
    QVERIFY(progress.wait(10000));
    r->cancel();
    QVERIFY(failed.wait(10000));
    QCOMPARE(failed.first().at(0).value<RunFailure>(), RunFailure::Interrupted);
    QVERIFY(failed.first().at(1).toString().contains(QLatin1String("interrupted")));
    QTRY_COMPARE(nodeFinished.size(), 1);
    QCOMPARE(nodeFinished.first().at(1).toBool(), false);
}

void TestPromptRun::droppedWebSocketReconnects()
{
    auto r = run(samplerGraph(300)); // 3 s: still running when the socket is back
    QSignalSpy progress(r.get(), &PromptRun::progress);
    QSignalSpy finished(r.get(), &PromptRun::finished);
    QSignalSpy failed(r.get(), &PromptRun::failed);
    QSignalSpy connected(&m_cluster->node(0), &simnode::SimulatedNode::webSocketConnected);
    r->start();
    QVERIFY(progress.wait(10000));
    m_cluster->node(0).dropWebSockets();
    const qsizetype before = progress.size();
    // Back with the same clientId, it follows the run to its end.
    QTRY_COMPARE_WITH_TIMEOUT(connected.size(), 2, 5000);
    QVERIFY(finished.wait(15000));
    QCOMPARE(failed.size(), 0);
    QCOMPARE(finished.first().at(0).value<QList<OutputImage>>().size(), 1);
    QVERIFY(progress.size() > before + 10); // progress seen on the new socket
    QCOMPARE(progress.last().at(0).toInt(), 300);
}

void TestPromptRun::finishedWhileAwayTakesResultsFromHistory()
{
    m_cluster->node(0).setStepDelayMs(20);
    auto r = run(samplerGraph(8));
    QSignalSpy progress(r.get(), &PromptRun::progress);
    QSignalSpy finished(r.get(), &PromptRun::finished);
    QSignalSpy failed(r.get(), &PromptRun::failed);
    QSignalSpy nodeFinished(&m_cluster->node(0), &simnode::SimulatedNode::promptFinished);
    r->start();
    QVERIFY(progress.wait(10000));
    m_cluster->node(0)
        .dropWebSockets(); // the reconnect comes after 500 ms: the run is over by then
    QVERIFY(nodeFinished.wait(10000));
    QVERIFY(finished.wait(15000));
    QCOMPARE(failed.size(), 0);
    const auto images = finished.first().at(0).value<QList<OutputImage>>();
    QCOMPARE(images.size(), 1);
    QVERIFY(images.first().data.startsWith("\x89PNG"));
}

void TestPromptRun::websocketImagesLostWhileAwayIsNodeLost()
{
    m_cluster->node(0).setStepDelayMs(200);
    auto r = run(previewAndWebsocketGraph());
    QSignalSpy failed(r.get(), &PromptRun::failed);
    QSignalSpy executing(r.get(), &PromptRun::executingNode);
    r->start();
    // Drop the socket as SaveImageWebsocket starts sending its frames.
    QTRY_VERIFY_WITH_TIMEOUT(!executing.isEmpty() && executing.last().at(1).toString() ==
                                                         QLatin1String("SaveImageWebsocket"),
                             10000);
    m_cluster->node(0).dropWebSockets();
    QVERIFY(failed.wait(20000));
    QCOMPARE(failed.first().at(0).value<RunFailure>(), RunFailure::NodeLost);
    QVERIFY2(failed.first().at(1).toString().contains(QLatin1String("SaveImageWebsocket")),
             qPrintable(failed.first().at(1).toString()));
}

void TestPromptRun::silentNodeIsNodeLost()
{
    m_cluster->node(0).setHang(true);
    auto r = run(saveImageGraph());
    r->setSilenceTimeoutMs(300);
    QSignalSpy submitted(r.get(), &PromptRun::submitted);
    QSignalSpy failed(r.get(), &PromptRun::failed);
    r->start();
    QVERIFY(submitted.wait(10000));
    // Silent, but the node still lists the prompt as running: the run waits (the task timeout
    // bounds it), through several silences.
    QVERIFY(!failed.wait(1200));
    // A node that has forgotten the prompt (restarted) will never send its end.
    m_cluster->node(0).resetState();
    QVERIFY(failed.wait(10000));
    QCOMPARE(failed.first().at(0).value<RunFailure>(), RunFailure::NodeLost);
    QVERIFY2(failed.first().at(1).toString().contains(QLatin1String("no longer has the prompt")),
             qPrintable(failed.first().at(1).toString()));
}

void TestPromptRun::unreachableNodeIsNodeLost()
{
    m_cluster->node(0).goDown();
    auto r = run(saveImageGraph());
    QSignalSpy failed(r.get(), &PromptRun::failed);
    r->start();
    QVERIFY(failed.wait(15000));
    QCOMPARE(failed.size(), 1);
    QCOMPARE(failed.first().at(0).value<RunFailure>(), RunFailure::NodeLost);
    QVERIFY(failed.first().at(1).toString().contains(m_cluster->node(0).url().toString()));
}

void TestPromptRun::runsShareOneWebSocket()
{
    QSignalSpy connected(&m_cluster->node(0), &simnode::SimulatedNode::webSocketConnected);
    QSignalSpy received(&m_cluster->node(0), &simnode::SimulatedNode::promptReceived);
    for (int i = 0; i < 3; ++i) {
        auto r = run(saveImageGraph(QStringLiteral("shared%1").arg(i)));
        QSignalSpy finished(r.get(), &PromptRun::finished);
        r->start();
        QVERIFY(finished.wait(10000));
        QCOMPARE(finished.first().at(0).value<QList<OutputImage>>().size(), 1);
    }
    // One handshake for all three; the socket stays open for the next task.
    QCOMPARE(connected.size(), 1);
    QCOMPARE(received.size(), 3);
    QVERIFY(m_connection->isOpen());
    QCOMPARE(m_connection->users(), 0);
    QCOMPARE(m_cluster->node(0).connectedClientIds(), QStringList{m_connection->clientId()});
}

void TestPromptRun::idleWebSocketLostIsReopenedByTheNextRun()
{
    QSignalSpy connected(&m_cluster->node(0), &simnode::SimulatedNode::webSocketConnected);
    {
        auto r = run(saveImageGraph(QStringLiteral("before")));
        QSignalSpy finished(r.get(), &PromptRun::finished);
        r->start();
        QVERIFY(finished.wait(10000));
    }
    QSignalSpy interrupted(m_connection.get(), &NodeConnection::interrupted);
    m_cluster->node(0).dropWebSockets();
    QVERIFY(interrupted.wait(5000));
    QVERIFY(!m_connection->isOpen()); // nobody needs it: no reconnect loop against the node
    auto r = run(saveImageGraph(QStringLiteral("after")));
    QSignalSpy finished(r.get(), &PromptRun::finished);
    QSignalSpy failed(r.get(), &PromptRun::failed);
    r->start();
    QVERIFY(finished.wait(10000));
    QCOMPARE(failed.size(), 0);
    QCOMPARE(connected.size(), 2);
}

void TestPromptRun::queuedRunsGetOnlyTheirOwnMessages()
{
    // Both prompts on the node at once (the second waits in its queue, as with
    // NODE__QUEUE_DEPTH 2): one socket carries the messages of both.
    m_cluster->node(0).setStepDelayMs(5);
    auto first = run(samplerGraph(6, 64, 64), QStringLiteral("task-a"));
    auto second = run(samplerGraph(9, 64, 96), QStringLiteral("task-b"));
    QSignalSpy progress1(first.get(), &PromptRun::progress);
    QSignalSpy progress2(second.get(), &PromptRun::progress);
    QSignalSpy previews1(first.get(), &PromptRun::preview);
    QSignalSpy previews2(second.get(), &PromptRun::preview);
    QSignalSpy finished1(first.get(), &PromptRun::finished);
    QSignalSpy finished2(second.get(), &PromptRun::finished);
    first->start();
    second->start();
    QTRY_COMPARE_WITH_TIMEOUT(finished1.size(), 1, 10000);
    QTRY_COMPARE_WITH_TIMEOUT(finished2.size(), 1, 10000);
    QVERIFY(first->promptId() != second->promptId());
    QCOMPARE(progress1.size(), 6);
    QCOMPARE(progress2.size(), 9);
    QCOMPARE(progress1.last().at(1).toInt(), 6);
    QCOMPARE(progress2.last().at(1).toInt(), 9);
    QCOMPARE(previews1.size(), 6);
    QCOMPARE(previews2.size(), 9);
    const auto images1 = finished1.first().at(0).value<QList<OutputImage>>();
    const auto images2 = finished2.first().at(0).value<QList<OutputImage>>();
    QCOMPARE(images1.size(), 1);
    QCOMPARE(images2.size(), 1);
    QVERIFY(images1.first().data != images2.first().data); // each its own picture
}

void TestPromptRun::messagesBeforeThePromptAnswerAreKept()
{
    // The node runs the whole prompt before its answer to POST /prompt arrives: every
    // message came before the run knew its prompt_id.
    m_cluster->node(0).setStepDelayMs(1);
    m_cluster->node(0).setPromptAnswerDelayMs(400);
    auto r = run(samplerGraph(5));
    QSignalSpy submitted(r.get(), &PromptRun::submitted);
    QSignalSpy progress(r.get(), &PromptRun::progress);
    QSignalSpy finished(r.get(), &PromptRun::finished);
    QSignalSpy failed(r.get(), &PromptRun::failed);
    QSignalSpy nodeFinished(&m_cluster->node(0), &simnode::SimulatedNode::promptFinished);
    r->start();
    QVERIFY(nodeFinished.wait(10000));
    QCOMPARE(submitted.size(), 0); // the scenario: the node is done, the answer still out
    QVERIFY(finished.wait(10000));
    QCOMPARE(failed.size(), 0);
    QCOMPARE(progress.size(), 5);
    QCOMPARE(finished.first().at(0).value<QList<OutputImage>>().size(), 1);
}

void TestPromptRun::removedNodesConnectionLivesUntilItsLastRunEnds()
{
    NodeConnections connections;
    const QUrl url = m_cluster->node(0).url();
    QPointer<NodeConnection> connection = &connections.forNode(url);
    auto r = std::make_unique<PromptRun>(*connection, QStringLiteral("task-r"), samplerGraph(30));
    QSignalSpy progress(r.get(), &PromptRun::progress);
    QSignalSpy finished(r.get(), &PromptRun::finished);
    r->start();
    QVERIFY(progress.wait(10000));
    connections.remove(url); // the node left the cluster while the run goes on
    QCOMPARE(connections.size(), 0);
    QVERIFY(finished.wait(10000)); // its messages and its output fetch still came through
    QCOMPARE(finished.first().at(0).value<QList<OutputImage>>().size(), 1);
    QTRY_VERIFY(connection.isNull()); // gone with its last run
    connections.forNode(url);         // back in the cluster: a new connection
    QCOMPARE(connections.size(), 1);
}

QTEST_GUILESS_MAIN(TestPromptRun)
#include "tst_promptrun.moc"
