#include "nodethread.h"

#include "benchsupport.h"

#include <QCoreApplication>
#include <QHostAddress>

namespace bench {

NodeThread::NodeThread()
{
    m_thread.setObjectName(QStringLiteral("simulated nodes"));
    m_context.moveToThread(&m_thread);
    m_thread.start();
}

NodeThread::~NodeThread()
{
    run([this] { m_nodes.clear(); });
    m_thread.quit();
    m_thread.wait();
}

void NodeThread::run(const std::function<void()> &fn)
{
    if (QThread::currentThread() == &m_thread)
        fn();
    else
        QMetaObject::invokeMethod(&m_context, fn, Qt::BlockingQueuedConnection);
}

simnode::SimulatedNode *NodeThread::add(const QString &root)
{
    simnode::SimulatedNode *added = nullptr;
    run([this, &root, &added] {
        auto node = std::make_unique<simnode::SimulatedNode>(root);
        if (node->listen(QHostAddress::LocalHost, 0) == 0)
            die(QCoreApplication::applicationName(),
                QStringLiteral("a simulated node cannot listen (%1)").arg(root));
        added = node.get();
        m_nodes.push_back(std::move(node));
    });
    return added;
}

} // namespace bench
