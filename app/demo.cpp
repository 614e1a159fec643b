#include "demo.h"

#include "config/settings.h"
#include "router/router.h"
#include "simulatednode.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QImage>
#include <QLoggingCategory>
#include <QPainter>

Q_LOGGING_CATEGORY(lcDemo, "comfy.demo")

namespace comfy {

namespace {
// A small picture for the example workflow's LoadImage.
bool writeSampleImage(const QString &path)
{
    QImage image(64, 48, QImage::Format_RGB32);
    for (int y = 0; y < image.height(); ++y)
        for (int x = 0; x < image.width(); ++x)
            image.setPixel(x, y, qRgb(x * 4, y * 5, 128));
    return image.save(path, "PNG");
}
} // namespace

DemoCluster::DemoCluster(Router &router, const Settings &settings, QObject *parent)
    : QObject(parent)
    , m_router(router)
    , m_count(settings.demoNodes)
    , m_stepDelayMs(settings.demoStepDelayMs)
    , m_rootDir(settings.downloadRootDir)
{
}

DemoCluster::~DemoCluster() = default;

bool DemoCluster::start()
{
    // The simulated nodes share the router's ComfyUI folder (ROOT_DIR), as nodes of a farm
    // share one model folder: files the router downloads and links there are theirs too.
    const QString root = m_rootDir;
    QDir().mkpath(root + QStringLiteral("/input"));
    QDir().mkpath(root + QStringLiteral("/models/checkpoints"));
    if (!QFileInfo::exists(root + QStringLiteral("/input/example.png")) &&
        !writeSampleImage(root + QStringLiteral("/input/example.png")))
        return false;
    // An empty stand-in so checkpoint loaders validate; the simulated node never reads it.
    QFile checkpoint(root + QStringLiteral("/models/checkpoints/demo-sd15.safetensors"));
    if (!checkpoint.exists() && !checkpoint.open(QIODevice::WriteOnly))
        return false;
    checkpoint.close();
    for (int i = 0; i < m_count; ++i) {
        auto node = std::make_unique<simnode::SimulatedNode>(root);
        node->setStepDelayMs(m_stepDelayMs);
        if (!node->listen(QHostAddress::LocalHost, 0))
            return false;
        qCWarning(lcDemo).noquote()
            << "SIMULATED ComfyUI node" << i + 1 << "at" << node->url().toString()
            << "(demo only: no GPU, placeholder images; folder" << root << ")";
        m_router.nodes().addNode(node->url().toString(), {QStringLiteral("simulated")}, true);
        m_nodes.push_back(std::move(node));
    }
    return true;
}

} // namespace comfy
