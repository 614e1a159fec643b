#pragma once

#include "simulatednode.h"

#include <QJsonObject>
#include <QTemporaryDir>

#include <memory>
#include <vector>

namespace testsupport {

// Simulated ComfyUI nodes on 127.0.0.1:0, each with its own folder holding an input image
// (example.png) and a checkpoint (model.safetensors).
class SimCluster {
public:
    explicit SimCluster(int count, int stepDelayMs = 5);
    simnode::SimulatedNode &node(int i) { return *m_nodes.at(size_t(i)); }
    int size() const { return int(m_nodes.size()); }
    QStringList urls() const;

private:
    QTemporaryDir m_root;
    std::vector<std::unique_ptr<simnode::SimulatedNode>> m_nodes;
};

// LoadImage(example.png) -> ImageInvert -> SaveImage
QJsonObject saveImageGraph(const QString &prefix = QStringLiteral("test"));
// LoadImage -> ImageInvert -> PreviewImage, and -> RepeatImageBatch(3) -> SaveImageWebsocket
QJsonObject previewAndWebsocketGraph();
// checkpoint -> prompts -> EmptyLatentImage -> KSampler(steps) -> VAEDecode -> SaveImage
QJsonObject samplerGraph(int steps, int width = 64, int height = 64, int batch = 1);

} // namespace testsupport
