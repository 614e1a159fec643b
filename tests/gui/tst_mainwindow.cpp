// The operator window, offscreen: live node and task tables over a real router.
#include "isolatedsettings.h"
#include "mainwindow.h"
#include "nodetablemodel.h"
#include "router/router.h"
#include "simcluster.h"
#include "tasktablemodel.h"

#include <QLineEdit>
#include <QTableView>
#include <QTest>

using namespace comfy;
using namespace testsupport;

class TestMainWindow : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void showsNodesAndTasksLive();
    void rejectsBadNodeUrl();
};

void TestMainWindow::showsNodesAndTasksLive()
{
    SimCluster cluster(2);
    Settings settings;
    settings.healthIntervalMs = 50;
    settings.nodes = {cluster.urls().first()};
    IsolatedSettings dirs;
    Router router(dirs.apply(settings));
    gui::MainWindow window(router, QStringLiteral("http://127.0.0.1:0/"));
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));

    auto *nodes = window.nodeModel();
    QCOMPARE(nodes->rowCount(), 1);
    const QModelIndex state = nodes->index(0, gui::NodeTableModel::State);
    QTRY_COMPARE(nodes->data(state, Qt::DisplayRole).toString(), QStringLiteral("idle"));
    QTRY_VERIFY(nodes->data(nodes->index(0, gui::NodeTableModel::Url), Qt::DisplayRole)
                    .toString()
                    .contains(QLatin1String("simulated")));

    // Add the second node through the window, as an operator would.
    QTest::keyClicks(window.nodeUrlEdit(), cluster.urls().last());
    QTest::keyClick(window.nodeUrlEdit(), Qt::Key_Return);
    QCOMPARE(nodes->rowCount(), 2);
    QVERIFY(window.nodeUrlEdit()->text().isEmpty());
    QTRY_COMPARE(
        nodes->data(nodes->index(1, gui::NodeTableModel::State), Qt::DisplayRole).toString(),
        QStringLiteral("idle"));

    // Disable the second node from the window, then take it back.
    window.nodeView()->selectRow(1);
    window.controlSelectedNode(gui::MainWindow::NodeControl::Disable);
    QVERIFY(nodes->data(nodes->index(1, gui::NodeTableModel::State), Qt::DisplayRole)
                .toString()
                .contains(QLatin1String("disabled")));
    QCOMPARE(router.nodes().nodes().at(1).enabled, false);
    window.controlSelectedNode(gui::MainWindow::NodeControl::Enable);
    QCOMPARE(router.nodes().nodes().at(1).enabled, true);

    auto *tasks = window.taskModel();
    QCOMPARE(tasks->rowCount(), 0);
    const Result<QString> id = router.submit(
        {{QStringLiteral("type"), QStringLiteral("Raw")},
         {QStringLiteral("params"), QJsonObject{{QStringLiteral("prompt"), saveImageGraph()}}}});
    QVERIFY(id.ok());
    QCOMPARE(tasks->rowCount(), 1);
    QCOMPARE(tasks->data(tasks->index(0, gui::TaskTableModel::Id), Qt::DisplayRole).toString(),
             id.value());
    QTRY_COMPARE_WITH_TIMEOUT(
        tasks->data(tasks->index(0, gui::TaskTableModel::Status), Qt::DisplayRole).toString(),
        QStringLiteral("done"), 10000);
    QCOMPARE(
        tasks->data(tasks->index(0, gui::TaskTableModel::Progress), Qt::DisplayRole).toString(),
        QStringLiteral("100%"));
}

void TestMainWindow::rejectsBadNodeUrl()
{
    Settings settings;
    IsolatedSettings dirs;
    Router router(dirs.apply(settings));
    gui::MainWindow window(router, QStringLiteral("http://127.0.0.1:0/"));
    // A bad URL opens a warning box; close it from a timer so the test goes on.
    QTimer::singleShot(200, [] {
        if (QWidget *box = QApplication::activeModalWidget())
            box->close();
    });
    window.nodeUrlEdit()->setText(QStringLiteral("ftp://nowhere"));
    window.addNode();
    QCOMPARE(window.nodeModel()->rowCount(), 0);
    QCOMPARE(window.nodeUrlEdit()->text(), QStringLiteral("ftp://nowhere")); // kept for fixing
}

QTEST_MAIN(TestMainWindow)
#include "tst_mainwindow.moc"
