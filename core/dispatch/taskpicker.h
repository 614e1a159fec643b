#pragma once

#include "cluster/node.h"
#include "tasks/task.h"

#include <QHash>
#include <QList>
#include <QString>
#include <QUrl>

#include <functional>
#include <optional>

namespace comfy {

// Which task a free node takes when tasks pile up: model affinity under a backlog.
// NodeSelector picks the node for the task at the head of the queue. When that node lacks the
// head's models (no free node has them), it takes instead the first of the first LookAhead
// waiting tasks (the head included; NODE__AFFINITY_LOOKAHEAD) that it holds the models of, so the
// switch is saved; the head waits for a node of its own. Rules:
// - only tasks of the head's priority are looked at: the queue is sorted by priority, so a task
//   behind the head never overtakes a higher-priority one that could run on this node (one ahead
//   of the head could not: it fits no free node or is still downloading);
// - only tasks that fit the node's labels and may run now (queued, not downloading);
// - every fitting task overtaken counts a pass-over; one passed over MaxPassOvers times is taken
//   by the next node that fits it, whatever its models (no starvation). Counts are conservative:
//   a head passed over may still get another free node in the same dispatch.
// Affinity off, a look-ahead of 0 (the default: equal priorities start first in, first out), or a
// node that holds no models: always the head.
class TaskPicker {
public:
    // NODE__AFFINITY_LOOKAHEAD as the README suggests it: wide enough to find a task for each
    // model loaded in a mixed queue; small enough that a dispatch costs at most this many task
    // reads per free node, however long the queue.
    static constexpr int SuggestedLookAhead = 32;
    // A passed-over task waits for at most this many other starts: two rounds of an 8-node
    // cluster, about what a saved model switch (seconds to minutes) is worth.
    static constexpr int MaxPassOvers = 16;

    // lookAhead: waiting tasks looked through, the head included; 0 or 1: always the head, so
    // tasks of equal priority start in arrival order.
    explicit TaskPicker(int lookAhead = SuggestedLookAhead)
        : m_lookAhead(lookAhead)
    {
    }

    // The k-th waiting task behind the head (k >= 1), in queue order; nullopt past the end.
    using Waiting = std::function<std::optional<Task>(qsizetype k)>;

    // The id of the task `node` (one of `available`, picked for `head`) takes: the head or one
    // behind it. `waiting` is read only when the look-ahead runs.
    QString taskFor(const Task &head, const QUrl &node, const QList<NodeInfo> &available,
                    const Waiting &waiting, bool affinity);
    // The task left the queue (started, cancelled, failed): drop its count.
    void forget(const QString &taskId) { m_passOvers.remove(taskId); }
    int passOvers(const QString &taskId) const { return m_passOvers.value(taskId); }

private:
    int m_lookAhead;
    QHash<QString, int> m_passOvers; // waiting tasks passed over at least once
};

} // namespace comfy
