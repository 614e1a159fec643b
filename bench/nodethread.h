#pragma once

#include "simulatednode.h"

#include <QObject>
#include <QString>
#include <QThread>

#include <functional>
#include <memory>
#include <vector>

namespace bench {

// Simulated ComfyUI nodes in a thread of their own, as real nodes run on other machines: their
// work (validating and executing prompts, answering HTTP) does not wait behind the router's
// thread, nor the router behind theirs. The nodes live and die in that thread; touch them only
// inside run().
class NodeThread {
public:
    NodeThread();
    ~NodeThread(); // the nodes are destroyed in their thread, then the thread ends
    Q_DISABLE_COPY_MOVE(NodeThread)

    // Runs fn in the nodes' thread and waits for it.
    void run(const std::function<void()> &fn);
    // A node on 127.0.0.1 (any port) with this ComfyUI folder; stops the program when it
    // cannot listen. Call from run() or from outside (it runs itself in the thread then).
    simnode::SimulatedNode *add(const QString &root);
    int size() const { return int(m_nodes.size()); }
    simnode::SimulatedNode *node(int i) const { return m_nodes.at(size_t(i)).get(); }

private:
    QThread m_thread;
    QObject m_context;
    std::vector<std::unique_ptr<simnode::SimulatedNode>> m_nodes;
};

} // namespace bench
