#pragma once

#include <QDateTime>
#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <QUrl>

namespace comfy {

// The contract's three node states: usable (idle), running our tasks (busy), or not answering
// its health checks (offline). A node nobody has checked yet counts as offline. Whether it
// takes new tasks also depends on NodeInfo::enabled and the queue depth.
enum class NodeState { Offline, Idle, Busy };

QString nodeStateName(NodeState state);

// A ComfyUI node as the registry knows it.
struct NodeInfo {
    QUrl url; // normalised: scheme://host:port/ with a trailing slash
    NodeState state = NodeState::Offline;
    QStringList labels;     // a task with node_labels runs only where all of them are
    bool simulated = false; // started by --demo: a simulated ComfyUI, not a real GPU node
    bool checked = false;   // at least one health check answered or failed
    int failures = 0;       // failed health checks in a row
    QString lastError;      // why the last check failed
    QDateTime addedAt;
    QDateTime lastCheck;
    QDateTime idleSince;
    QStringList tasks;        // our tasks on the node: running, then queued there (pipelining)
    bool enabled = true;      // false: takes no new tasks (disabled, or drained)
    bool draining = false;    // finishing its tasks, then disabled
    QStringList loadedModels; // checkpoints/UNets of the last graph it ran: likely still in VRAM
    int queueRemaining = 0;   // the node's own queue (ours and other clients')
    QString version;          // system_stats.system.comfyui_version
    QJsonObject devices;      // {"name": ..., "vram_total": ...} of the first device
    qint64 tasksRun = 0;
};

// "http://host:8188" -> "http://host:8188/"; an invalid or non-http(s) URL gives an empty one.
QUrl normalizeNodeUrl(const QString &text);

} // namespace comfy
