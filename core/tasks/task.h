#pragma once

#include "comfy/promptrun.h"
#include "workflows/graphbuilder.h"

#include <QDateTime>
#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>
#include <QUrl>

#include <optional>

namespace comfy {

enum class WorkflowType { SD15, SDXL, Flux, Raw };
QString workflowTypeName(WorkflowType type);
std::optional<WorkflowType> workflowTypeFromName(const QString &name);

// The contract's statuses: pending -> running -> done | error, and cancelled from either
// of the first two. TaskQueue is the only place that moves a task between them.
enum class TaskStatus { Pending, Running, Done, Error, Cancelled };
QString taskStatusName(TaskStatus status);
std::optional<TaskStatus> taskStatusFromName(const QString &name);

// Finer-grained than the status, for operators: where a task is right now.
// A pending task is queued (may run) or downloading (waits for its files).
enum class TaskPhase { Queued, Downloading, Submitting, Executing, Finished };
QString taskPhaseName(TaskPhase phase);

struct Task {
    QString id;
    WorkflowType type = WorkflowType::Raw;
    QJsonObject params; // as submitted
    QJsonObject graph;  // the ComfyUI API-format prompt that runs on a node
    int priority = 0;
    QStringList nodeLabels;
    QUrl webhook; // receives one POST with the final status
    std::optional<qint64> seed;
    QList<FileToFetch> downloads;     // must be in place before the task may run
    QHash<QString, int> samplerSteps; // sampler node id -> steps, for progress

    TaskStatus status = TaskStatus::Pending;
    TaskPhase phase = TaskPhase::Queued;
    QUrl node;
    QString promptId;
    int attempts = 0;
    QStringList attemptErrors; // why each earlier attempt ended ("node X: reason")
    double progress = 0.0;
    qint64 downloadDone = 0; // bytes, while phase is downloading
    qint64 downloadTotal = 0;
    QString executingNode; // graph node id running now
    OutputImage preview;   // the latest preview frame
    QList<OutputImage> images;
    QString error;
    QDateTime createdAt;
    QDateTime startedAt;
    QDateTime finishedAt;

    bool isFinished() const
    {
        return status == TaskStatus::Done || status == TaskStatus::Error ||
               status == TaskStatus::Cancelled;
    }
};

} // namespace comfy
