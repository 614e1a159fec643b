#pragma once

#include <QMainWindow>

class QLineEdit;
class QLabel;
class QTableView;

namespace comfy {
class Router;
}

namespace comfy::gui {

class NodeTableModel;
class TaskTableModel;

// The operator's window: the nodes and the tasks, live; add, remove a node; cancel a task.
class MainWindow : public QMainWindow {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(MainWindow)
public:
    explicit MainWindow(Router &router, const QString &apiAddress, QWidget *parent = nullptr);

    NodeTableModel *nodeModel() const { return m_nodeModel; }
    TaskTableModel *taskModel() const { return m_taskModel; }
    QLineEdit *nodeUrlEdit() const { return m_nodeUrl; }

    enum class NodeControl { Drain, Disable, Enable };
    void controlSelectedNode(NodeControl control);
    QTableView *nodeView() const { return m_nodeView; }

public Q_SLOTS:
    void addNode();
    void removeSelectedNode();

    void cancelSelectedTask();

private:
    void updateSummary();

    Router &m_router;
    NodeTableModel *m_nodeModel;
    TaskTableModel *m_taskModel;
    QTableView *m_nodeView;
    QTableView *m_taskView;
    QLineEdit *m_nodeUrl;
    QLabel *m_summary;
};

} // namespace comfy::gui
