#pragma once

#include "tasks/task.h"

#include <QJsonObject>

namespace comfy {

enum class TaskView {
    Full,    // GET /workflow/{id} and webhooks
    Public,  // GET /preview/{id}: no node URL, no prompt, no results
    Summary, // GET /workflow lists: Full without the base64 images (their URLs remain)
};

// The contract's task status: {"id", "type", "status", "data", ...added fields}.
// position: tasks ahead of a pending one.
QJsonObject taskToJson(const Task &task, int position, TaskView view = TaskView::Full);

} // namespace comfy
