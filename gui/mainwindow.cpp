#include "mainwindow.h"

#include "nodetablemodel.h"
#include "router/router.h"
#include "tasktablemodel.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QSplitter>
#include <QStatusBar>
#include <QTableView>
#include <QVBoxLayout>

namespace comfy::gui {

namespace {
QTableView *makeView(QAbstractItemModel *model, QWidget *parent)
{
    auto *view = new QTableView(parent);
    view->setModel(model);
    view->setSelectionBehavior(QAbstractItemView::SelectRows);
    view->setSelectionMode(QAbstractItemView::SingleSelection);
    view->horizontalHeader()->setStretchLastSection(true);
    // URLs and task ids are what an operator reads first: never cut them.
    view->horizontalHeader()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    view->setWordWrap(false);
    view->verticalHeader()->hide();
    return view;
}
} // namespace

MainWindow::MainWindow(Router &router, const QString &apiAddress, QWidget *parent)
    : QMainWindow(parent)
    , m_router(router)
    , m_nodeModel(new NodeTableModel(router.nodes(), this))
    , m_taskModel(new TaskTableModel(router.tasks(), this))
{
    setWindowTitle(tr("comfy-router"));
    auto *central = new QWidget(this);
    auto *layout = new QVBoxLayout(central);

    auto *nodeBar = new QHBoxLayout;
    m_nodeUrl = new QLineEdit(central);
    m_nodeUrl->setPlaceholderText(tr("http://host:8188"));
    auto *add = new QPushButton(tr("Add node"), central);
    auto *remove = new QPushButton(tr("Remove node"), central);
    nodeBar->addWidget(new QLabel(tr("Nodes"), central));
    nodeBar->addWidget(m_nodeUrl, 1);
    nodeBar->addWidget(add);
    nodeBar->addWidget(remove);
    connect(add, &QPushButton::clicked, this, &MainWindow::addNode);
    connect(m_nodeUrl, &QLineEdit::returnPressed, this, &MainWindow::addNode);
    connect(remove, &QPushButton::clicked, this, &MainWindow::removeSelectedNode);
    // Fix the farm in seconds: stop sending work to a node, let it finish, take it back.
    auto *drain = new QPushButton(tr("Drain"), central);
    auto *disable = new QPushButton(tr("Disable"), central);
    auto *enable = new QPushButton(tr("Enable"), central);
    drain->setToolTip(tr("Finish its tasks, then take no new ones"));
    nodeBar->addWidget(drain);
    nodeBar->addWidget(disable);
    nodeBar->addWidget(enable);
    connect(drain, &QPushButton::clicked, this,
            [this] { controlSelectedNode(NodeControl::Drain); });
    connect(disable, &QPushButton::clicked, this,
            [this] { controlSelectedNode(NodeControl::Disable); });
    connect(enable, &QPushButton::clicked, this,
            [this] { controlSelectedNode(NodeControl::Enable); });

    auto *taskBar = new QHBoxLayout;
    auto *cancel = new QPushButton(tr("Cancel task"), central);
    taskBar->addWidget(new QLabel(tr("Tasks"), central));
    taskBar->addStretch(1);
    taskBar->addWidget(cancel);
    connect(cancel, &QPushButton::clicked, this, &MainWindow::cancelSelectedTask);

    auto *splitter = new QSplitter(Qt::Vertical, central);
    auto *top = new QWidget(splitter);
    auto *topLayout = new QVBoxLayout(top);
    topLayout->setContentsMargins(0, 0, 0, 0);
    topLayout->addLayout(nodeBar);
    m_nodeView = makeView(m_nodeModel, top);
    topLayout->addWidget(m_nodeView);
    auto *bottom = new QWidget(splitter);
    auto *bottomLayout = new QVBoxLayout(bottom);
    bottomLayout->setContentsMargins(0, 0, 0, 0);
    bottomLayout->addLayout(taskBar);
    m_taskView = makeView(m_taskModel, bottom);
    bottomLayout->addWidget(m_taskView);
    layout->addWidget(splitter);
    setCentralWidget(central);

    m_summary = new QLabel(this);
    statusBar()->addWidget(m_summary, 1);
    statusBar()->addPermanentWidget(new QLabel(tr("API: %1").arg(apiAddress), this));
    connect(&router.tasks(), &TaskQueue::taskChanged, this, &MainWindow::updateSummary);
    connect(&router.tasks(), &TaskQueue::taskQueued, this, &MainWindow::updateSummary);
    connect(&router.nodes(), &NodeRegistry::nodeChanged, this, &MainWindow::updateSummary);
    updateSummary();
    resize(1100, 700);
}

void MainWindow::addNode()
{
    const QString url = m_nodeUrl->text().trimmed();
    if (url.isEmpty())
        return;
    const Result<NodeInfo> node = m_router.nodes().addNode(url);
    if (!node) {
        QMessageBox::warning(this, tr("Add node"), node.error().message);
        return;
    }
    m_nodeUrl->clear();
}

void MainWindow::removeSelectedNode()
{
    const QModelIndexList rows = m_nodeView->selectionModel()->selectedRows();
    if (rows.isEmpty())
        return;
    const Result<NodeInfo> removed =
        m_router.nodes().removeNode(m_nodeModel->urlAt(rows.first().row()).toString());
    if (!removed)
        QMessageBox::warning(this, tr("Remove node"), removed.error().message);
}

void MainWindow::controlSelectedNode(NodeControl control)
{
    const QModelIndexList rows = m_nodeView->selectionModel()->selectedRows();
    if (rows.isEmpty())
        return;
    const QString url = m_nodeModel->urlAt(rows.first().row()).toString();
    NodeRegistry &nodes = m_router.nodes();
    const Result<NodeInfo> result = control == NodeControl::Drain     ? nodes.drain(url)
                                    : control == NodeControl::Disable ? nodes.setEnabled(url, false)
                                                                      : nodes.setEnabled(url, true);
    if (!result)
        QMessageBox::warning(this, tr("Node"), result.error().message);
}

void MainWindow::cancelSelectedTask()
{
    const QModelIndexList rows = m_taskView->selectionModel()->selectedRows();
    if (rows.isEmpty())
        return;
    const Result<bool> cancelled =
        m_router.dispatcher().cancel(m_taskModel->idAt(rows.first().row()));
    if (!cancelled)
        QMessageBox::warning(this, tr("Cancel task"), cancelled.error().message);
}

void MainWindow::updateSummary()
{
    int idle = 0;
    int busy = 0;
    int offline = 0;
    for (const NodeInfo &node : m_router.nodes().nodes())
        (node.state == NodeState::Idle ? idle : node.state == NodeState::Busy ? busy : offline)++;
    const TaskQueue &tasks = m_router.tasks();
    m_summary->setText(tr("Nodes: %1 idle, %2 busy, %3 offline   Tasks: %4 pending, %5 running")
                           .arg(idle)
                           .arg(busy)
                           .arg(offline)
                           .arg(tasks.pendingCount())
                           .arg(tasks.runningCount()));
}

} // namespace comfy::gui
