#pragma once

#include <QObject>

#include <memory>
#include <vector>

namespace simnode {
class SimulatedNode;
}

namespace comfy {

class Router;
struct Settings;

// --demo: SIMULATED ComfyUI nodes in this process (no GPU; they make placeholder images),
// sharing the router's ComfyUI folder (with a sample input image, example.png), registered
// with the router and labelled simulated everywhere they show. Never started without the flag.
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
    QString m_rootDir;
    std::vector<std::unique_ptr<simnode::SimulatedNode>> m_nodes;
};

} // namespace comfy
