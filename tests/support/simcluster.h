#pragma once

#include "simulatednode.h"

#include <QJsonObject>
#include <QTemporaryDir>

#include <memory>
#include <vector>

namespace testsupport {

// Simulated ComfyUI nodes on 127.0.0.1:0, each with its own folder holding an input image
// (example.png) and a checkpoint (model.safetensors).
//
// With Layout::SharedModelsAndInput the nodes share one models/ and one input/ folder (in
// sharedRoot(), linked into each node's own root, which keeps its output/ and temp/), as
// ComfyUI installations sharing a network drive do. A test passes sharedRoot() to the router
// as Settings::downloadRootDir, so that files the router writes there are the nodes' files.
class SimCluster {
public:
    enum class Layout { Separate, SharedModelsAndInput };
    explicit SimCluster(int count, int stepDelayMs = 5, Layout layout = Layout::Separate);
    simnode::SimulatedNode &node(int i) { return *m_nodes.at(size_t(i)); }
    int size() const { return int(m_nodes.size()); }
    QStringList urls() const;
    // The shared folder (Layout::SharedModelsAndInput); empty otherwise.
    QString sharedRoot() const { return m_shared; }
    // Creates a model file at <models root>/<relativePath> ("models/loras/x.safetensors") in
    // the shared folder, or in every node's folder when they are separate.
    void addModelFile(const QString &relativePath);

private:
    QTemporaryDir m_root;
    QString m_shared;
    QStringList m_nodeRoots;
    std::vector<std::unique_ptr<simnode::SimulatedNode>> m_nodes;
};

// LoadImage(example.png) -> ImageInvert -> SaveImage
QJsonObject saveImageGraph(const QString &prefix = QStringLiteral("test"));
// LoadImage -> ImageInvert -> PreviewImage, and -> RepeatImageBatch(3) -> SaveImageWebsocket
QJsonObject previewAndWebsocketGraph();
// checkpoint -> prompts -> EmptyLatentImage -> KSampler(steps) -> VAEDecode -> SaveImage
QJsonObject samplerGraph(int steps, int width = 64, int height = 64, int batch = 1);

} // namespace testsupport
