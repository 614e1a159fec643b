#include "tasks/task.h"

#include <array>

namespace comfy {

namespace {
const std::array<QString, 4> &typeNames()
{
    static const std::array<QString, 4> names{QStringLiteral("SD15"), QStringLiteral("SDXL"),
                                              QStringLiteral("Flux"), QStringLiteral("Raw")};
    return names;
}
const std::array<QString, 5> &statusNames()
{
    static const std::array<QString, 5> names{QStringLiteral("pending"), QStringLiteral("running"),
                                              QStringLiteral("done"), QStringLiteral("error"),
                                              QStringLiteral("cancelled")};
    return names;
}
} // namespace

QString workflowTypeName(WorkflowType type)
{
    return typeNames().at(static_cast<size_t>(type));
}

std::optional<WorkflowType> workflowTypeFromName(const QString &name)
{
    for (size_t i = 0; i < typeNames().size(); ++i)
        if (typeNames()[i] == name)
            return static_cast<WorkflowType>(i);
    return std::nullopt;
}

QString taskStatusName(TaskStatus status)
{
    return statusNames().at(static_cast<size_t>(status));
}

std::optional<TaskStatus> taskStatusFromName(const QString &name)
{
    for (size_t i = 0; i < statusNames().size(); ++i)
        if (statusNames()[i] == name)
            return static_cast<TaskStatus>(i);
    return std::nullopt;
}

QString taskPhaseName(TaskPhase phase)
{
    switch (phase) {
    case TaskPhase::Queued:
        return QStringLiteral("queued");
    case TaskPhase::Downloading:
        return QStringLiteral("downloading");
    case TaskPhase::Submitting:
        return QStringLiteral("submitting");
    case TaskPhase::Executing:
        return QStringLiteral("executing");
    case TaskPhase::Finished:
        break;
    }
    return QStringLiteral("finished");
}

} // namespace comfy
