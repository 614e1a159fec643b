#pragma once

#include <QObject>
#include <QTemporaryDir>

#include <memory>
#include <vector>

namespace simnode {
class SimulatedNode;
}

namespace comfy {

class Router;
struct Settings;

// --demo: SIMULATED ComfyUI nodes in this process (no GPU; they make placeholder images),
// each with its own folder holding a sample input image, registered with the router and
// labelled simulated everywhere they show. Never started without the flag.
class DemoCluster : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DemoCluster)
public:
    DemoCluster(Router &router, const Settings &settings, QObject *parent = nullptr);
    ~DemoCluster() override;
    bool start();

private:
    Router &m_router;
    int m_count;
    int m_stepDelayMs;
    QTemporaryDir m_root;
    std::vector<std::unique_ptr<simnode::SimulatedNode>> m_nodes;
};

} // namespace comfy
