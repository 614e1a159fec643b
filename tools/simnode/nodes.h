#pragma once

#include <QByteArray>
#include <QHash>
#include <QImage>
#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>

#include <functional>
#include <optional>
#include <variant>

namespace simnode {

class Catalog;
struct NodeClass;

// What flows between simulated nodes.
struct SimValue {
    QString type;         // ComfyUI's type name: IMAGE, MASK, LATENT, MODEL, CONDITIONING, ...
    QList<QImage> images; // IMAGE (RGB32) or MASK (Grayscale8): the batch
    int width = 0;        // LATENT: size in pixels and batch
    int height = 0;
    int batch = 0;
    QList<QImage> pixels; // LATENT encoded from pictures (img2img, inpainting)
    double noise = 1.0;   // LATENT: how much of the pictures a sampler replaced (denoise)
    quint64 fingerprint = 0;
    QString label; // model file, prompt text...
    // How ComfyUI would print it in execution_error's current_inputs.
    QString describe() const;
};

struct NodeError {
    QString type; // Python's exception type, e.g. "RuntimeError"
    QString message;
    QStringList traceback;
};

// One timed step of a node's execution: wait delayMs, then report progress (and send a binary
// frame), or raise.
struct NodeStep {
    int delayMs = 0;
    bool progress = false;
    int value = 0;
    int max = 0;
    std::function<QByteArray()> frame; // binary websocket frame sent after the progress message
    std::optional<NodeError> failure;
};

struct NodeDone {
    QList<SimValue> outputs;
    QJsonObject ui; // "executed" output ({} when the node shows nothing)
};
using NodeOutcome = std::variant<NodeDone, NodeError>;

struct NodePlan {
    QList<NodeStep> steps;
    std::function<NodeOutcome()> complete; // after the last step: outputs (files written) or error
};

struct NodeCall {
    const Catalog *catalog = nullptr;
    const NodeClass *cls = nullptr;
    QString nodeId;
    QString classType;
    QJsonObject widgets;            // the node's values (converted by the validation)
    QHash<QString, SimValue> links; // linked inputs, resolved
    QStringList inputOrder;         // the node's input names as sent
    QJsonObject prompt;             // for the PNG metadata
    QJsonObject extraData;
    int stepDelayMs = 5;
    QString previewPrefix; // PreviewImage's "_temp_xxxxx", stable per node like ComfyUI's
};

NodePlan planNode(const NodeCall &call);
// execution_error's "current_inputs": every input as a one-element list.
QJsonObject formatInputs(const NodeCall &call);
// The traceback a failing simulated node reports (shaped like the recorded ones).
QStringList simulatedTraceback(const QString &function, const QString &line);

} // namespace simnode
