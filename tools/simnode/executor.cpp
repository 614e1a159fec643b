#include "executor.h"

#include "catalog.h"
#include "imaging.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <QRandomGenerator>
#include <QSet>

#include <algorithm>
#include <cmath>

Q_DECLARE_LOGGING_CATEGORY(lcSimNode)

namespace simnode {

namespace {

constexpr int kMaximumHistorySize = 10000;

QJsonValue numberJson(double number)
{
    if (number == std::trunc(number) && std::fabs(number) < 9e15)
        return QJsonValue(qint64(number));
    return QJsonValue(number);
}

bool isLink(const QJsonValue &value)
{
    return value.isArray() && value.toArray().size() == 2;
}

QString classOf(const QJsonObject &prompt, const QString &id)
{
    return prompt.value(id).toObject().value(QLatin1String("class_type")).toString();
}

QJsonObject inputsOf(const QJsonObject &prompt, const QString &id)
{
    return prompt.value(id).toObject().value(QLatin1String("inputs")).toObject();
}

} // namespace

QJsonArray QueueItem::toJson() const
{
    return QJsonArray{numberJson(number), promptId, prompt, extraData,
                      QJsonArray::fromStringList(outputs)};
}

// The prompt being executed: ComfyUI's PromptExecutor state and ExecutionList.
struct Executor::Run {
    QueueItem item;
    std::optional<QString> clientId;
    bool fail = false;
    QString failMessage;
    QJsonArray messages; // status.messages of the history entry
    QHash<QString, QList<SimValue>> outputs;
    mutable QHash<QString, QString> signatures;
    // ExecutionList
    QStringList pending; // insertion order
    QHash<QString, int> blockCount;
    QHash<QString, QStringList> blocking;
    QStringList executed;
    QString current;
    NodeCall call;
    NodePlan plan;
    qsizetype step = 0;
};

Executor::Executor(const Catalog &catalog, MessageSink &sink, QObject *parent)
    : QObject(parent)
    , m_catalog(catalog)
    , m_sink(sink)
{
    m_stepTimer.setSingleShot(true);
    connect(&m_stepTimer, &QTimer::timeout, this, &Executor::advance);
}

Executor::~Executor() = default;

void Executor::enqueue(QueueItem item)
{
    const auto before = std::upper_bound(m_pending.begin(), m_pending.end(), item,
                                         [](const QueueItem &a, const QueueItem &b) {
                                             if (a.number != b.number)
                                                 return a.number < b.number;
                                             return a.promptId < b.promptId;
                                         });
    m_pending.insert(before, std::move(item));
    broadcastStatus();
}

void Executor::startIfIdle()
{
    if (!m_run)
        startNext();
}

int Executor::queueRemaining() const
{
    return int(m_pending.size()) + (m_run ? 1 : 0);
}

QJsonObject Executor::queueJson() const
{
    QJsonArray running;
    if (m_run)
        running.append(m_run->item.toJson());
    QJsonArray pending;
    for (const QueueItem &item : m_pending)
        pending.append(item.toJson());
    return QJsonObject{{QStringLiteral("queue_running"), running},
                       {QStringLiteral("queue_pending"), pending}};
}

QStringList Executor::pendingPromptIds() const
{
    QStringList ids;
    for (const QueueItem &item : m_pending)
        ids << item.promptId;
    return ids;
}

void Executor::clearQueue()
{
    m_pending.clear();
    broadcastStatus();
}

void Executor::deleteFromQueue(const QStringList &promptIds)
{
    for (const QString &id : promptIds) {
        for (qsizetype i = 0; i < m_pending.size(); ++i) {
            if (m_pending.at(i).promptId != id)
                continue;
            // As in the recorded version: deleting the last one wipes the queue (one status
            // message) and then reports the change (another one).
            if (m_pending.size() == 1)
                clearQueue();
            else
                m_pending.removeAt(i);
            broadcastStatus();
            break;
        }
    }
}

void Executor::interrupt()
{
    // Interrupts whatever runs now; an interrupt while idle is forgotten when the next prompt
    // starts (ComfyUI resets the flag).
    if (!m_run)
        return;
    m_interruptRequested = true;
    m_stalled = false;
    m_stepTimer.start(0);
}

QJsonObject Executor::historyJson(const QString &promptId) const
{
    const auto it = m_history.constFind(promptId);
    if (it == m_history.constEnd())
        return {};
    return QJsonObject{{promptId, it.value()}};
}

QJsonObject Executor::historyJson(int maxItems, int offset) const
{
    qsizetype count = m_historyOrder.size();
    qsizetype start = 0;
    if (offset >= 0) {
        start = std::min<qsizetype>(offset, count);
    } else if (maxItems >= 0) {
        start = std::max<qsizetype>(0, count - maxItems);
    }
    qsizetype end = count;
    if (maxItems >= 0)
        end = std::min<qsizetype>(count, start + maxItems);
    QJsonObject out;
    for (qsizetype i = start; i < end; ++i)
        out.insert(m_historyOrder.at(i), m_history.value(m_historyOrder.at(i)));
    return out;
}

void Executor::clearHistory()
{
    m_history.clear();
    m_historyOrder.clear();
}

void Executor::deleteHistory(const QStringList &promptIds)
{
    for (const QString &id : promptIds) {
        m_history.remove(id);
        m_historyOrder.removeAll(id);
    }
}

QString Executor::runningPromptId() const
{
    return m_run ? m_run->item.promptId : QString();
}

void Executor::setFailNextPrompts(int count, const QString &message)
{
    m_failNext = qMax(0, count);
    m_failMessage = message;
}

void Executor::setHang(bool hang)
{
    m_hang = hang;
    if (!hang && m_stalled) {
        m_stalled = false;
        m_stepTimer.start(0);
    }
}

void Executor::reset()
{
    m_stepTimer.stop();
    m_run.reset();
    m_pending.clear();
    m_stalled = false;
    m_interruptRequested = false;
    m_clientId.reset();
    m_lastNodeId.clear();
    m_loadedModel.clear(); // a restarted node has no model loaded
    m_outputCache.clear();
    m_uiCache.clear();
    m_previewPrefixes.clear();
    clearHistory();
}

void Executor::scheduleStart()
{
    if (m_run || m_startScheduled || m_pending.isEmpty())
        return;
    m_startScheduled = true;
    QTimer::singleShot(0, this, &Executor::startNext);
}

void Executor::broadcastStatus()
{
    m_sink.sendMessage(
        QStringLiteral("status"),
        QJsonObject{
            {QStringLiteral("status"),
             QJsonObject{{QStringLiteral("exec_info"),
                          QJsonObject{{QStringLiteral("queue_remaining"), queueRemaining()}}}}}},
        std::nullopt);
}

void Executor::addMessage(const QString &type, QJsonObject data, bool broadcast)
{
    data.insert(QStringLiteral("timestamp"), QDateTime::currentMSecsSinceEpoch());
    m_run->messages.append(QJsonArray{type, data});
    if (m_run->clientId || broadcast)
        m_sink.sendMessage(type, data, m_run->clientId);
}

QString Executor::previewPrefix(const QString &id, const QString &classType)
{
    const QString key = id + QLatin1Char('\n') + classType;
    auto it = m_previewPrefixes.find(key);
    if (it == m_previewPrefixes.end()) {
        // ComfyUI's alphabet, typo included.
        static const QString alphabet = QStringLiteral("abcdefghijklmnopqrstupvxyz");
        QString suffix;
        for (int i = 0; i < 5; ++i)
            suffix += alphabet.at(QRandomGenerator::global()->bounded(int(alphabet.size())));
        it = m_previewPrefixes.insert(key, QStringLiteral("_temp_") + suffix);
    }
    return it.value();
}

void Executor::startNext()
{
    m_startScheduled = false;
    if (m_run || m_pending.isEmpty())
        return;
    m_run = std::make_unique<Run>();
    m_run->item = m_pending.takeFirst();
    Run &run = *m_run;
    const QString promptId = run.item.promptId;
    m_interruptRequested = false;
    m_stalled = false;
    broadcastStatus();

    const QJsonValue client = run.item.extraData.value(QLatin1String("client_id"));
    if (client.isUndefined() || client.isNull())
        run.clientId.reset();
    else
        run.clientId = client.isString() ? client.toString() : client.toVariant().toString();
    m_clientId = run.clientId;
    m_lastNodeId.clear();
    m_lastPromptId = promptId;
    if (m_failNext > 0) {
        --m_failNext;
        run.fail = true;
        run.failMessage = m_failMessage;
    }
    qCDebug(lcSimNode) << "executing prompt" << promptId;

    addMessage(QStringLiteral("execution_start"), {{QStringLiteral("prompt_id"), promptId}}, false);

    // Keep the cache entries this prompt uses, drop the others (the classic cache).
    QSet<QString> used;
    QSet<QString> ids;
    for (const QString &id : std::as_const(run.item.nodeOrder)) {
        used.insert(signature(id));
        ids.insert(id);
    }
    for (auto it = m_outputCache.begin(); it != m_outputCache.end();)
        it = used.contains(it.key()) ? std::next(it) : m_outputCache.erase(it);
    for (auto it = m_uiCache.begin(); it != m_uiCache.end();)
        it = used.contains(it.key()) ? std::next(it) : m_uiCache.erase(it);
    for (auto it = m_previewPrefixes.begin(); it != m_previewPrefixes.end();) {
        const QString id = it.key().section(QLatin1Char('\n'), 0, 0);
        const QString cls = it.key().section(QLatin1Char('\n'), 1);
        const bool keep = ids.contains(id) && classOf(run.item.prompt, id) == cls;
        it = keep ? std::next(it) : m_previewPrefixes.erase(it);
    }

    QJsonArray cached;
    for (const QString &id : std::as_const(run.item.nodeOrder)) {
        if (isCached(id))
            cached.append(id);
    }
    addMessage(QStringLiteral("execution_cached"),
               {{QStringLiteral("nodes"), cached}, {QStringLiteral("prompt_id"), promptId}}, false);

    for (const QString &output : std::as_const(run.item.outputs))
        addNode(output);

    Q_EMIT promptStarted(promptId);
    if (m_run)
        stageNext();
}

QString Executor::signature(const QString &id, QSet<QString> *visiting) const
{
    const auto known = m_run->signatures.constFind(id);
    if (known != m_run->signatures.constEnd())
        return known.value();
    QSet<QString> local;
    if (!visiting)
        visiting = &local;
    if (visiting->contains(id))
        return QStringLiteral("cycle:") + id;
    visiting->insert(id);

    const QJsonObject &prompt = m_run->item.prompt;
    const QString cls = classOf(prompt, id);
    QString sig = cls;
    // IS_CHANGED of LoadImage: the file's hash.
    if (cls == QLatin1String("LoadImage") || cls == QLatin1String("LoadImageMask")) {
        const QString path = m_catalog.annotatedPath(
            inputsOf(prompt, id).value(QLatin1String("image")).toString(), QStringLiteral("input"));
        QFile file(path);
        if (!path.isEmpty() && file.open(QIODevice::ReadOnly))
            sig +=
                QLatin1Char('#') +
                QString::fromLatin1(
                    QCryptographicHash::hash(file.readAll(), QCryptographicHash::Sha256).toHex());
    }
    const QJsonObject inputs = inputsOf(prompt, id);
    QStringList names = inputs.keys();
    names.sort();
    for (const QString &name : std::as_const(names)) {
        const QJsonValue value = inputs.value(name);
        sig += QLatin1Char('|') + name + QLatin1Char('=');
        if (isLink(value)) {
            const QJsonArray link = value.toArray();
            sig += QStringLiteral("(") + signature(link.at(0).toString(), visiting) +
                   QStringLiteral(")#") + QString::number(link.at(1).toInteger());
        } else {
            sig += QString::fromUtf8(
                value.isObject() ? QJsonDocument(value.toObject()).toJson(QJsonDocument::Compact)
                                 : QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact));
        }
    }
    visiting->remove(id);
    // Keep signatures short: they are hash keys.
    sig = QString::fromLatin1(
        QCryptographicHash::hash(sig.toUtf8(), QCryptographicHash::Sha256).toHex());
    m_run->signatures.insert(id, sig);
    return sig;
}

bool Executor::isCached(const QString &id) const
{
    if (m_run->fail)
        return false;
    return m_outputCache.contains(signature(id));
}

bool Executor::isOutputNode(const QString &id) const
{
    const NodeClass *cls = m_catalog.nodeClass(classOf(m_run->item.prompt, id));
    return cls && cls->outputNode;
}

// TopologicalSort.add_node of the recorded version: a depth-first walk with a stack, inputs in
// the order they were sent; cached nodes are not added.
void Executor::addNode(const QString &start)
{
    Run &run = *m_run;
    QStringList stack{start};
    QList<QPair<QString, QString>> links;
    while (!stack.isEmpty()) {
        const QString id = stack.takeLast();
        if (run.pending.contains(id))
            continue;
        run.pending << id;
        run.blockCount.insert(id, 0);
        run.blocking.insert(id, {});
        const QJsonObject inputs = inputsOf(run.item.prompt, id);
        QStringList order = run.item.inputOrder.value(id);
        for (const QString &name : inputs.keys()) {
            if (!order.contains(name))
                order << name;
        }
        for (const QString &name : std::as_const(order)) {
            const QJsonValue value = inputs.value(name);
            if (!isLink(value))
                continue;
            const QString from = value.toArray().at(0).toString();
            if (!run.item.prompt.contains(from) || isCached(from))
                continue;
            stack << from;
            links.append({from, id});
        }
    }
    for (const auto &[from, to] : std::as_const(links)) {
        if (!run.pending.contains(from))
            addNode(from);
        QStringList &blocked = run.blocking[from];
        if (!blocked.contains(to)) {
            blocked << to;
            run.blockCount[to] += 1;
        }
    }
}

// ExecutionList.ux_friendly_pick_node of the recorded version.
QString Executor::pickNode(const QStringList &ready) const
{
    for (const QString &id : ready) {
        if (isOutputNode(id))
            return id;
    }
    for (const QString &id : ready) {
        for (const QString &blocked : m_run->blocking.value(id)) {
            if (isOutputNode(blocked))
                return id;
        }
    }
    for (const QString &id : ready) {
        for (const QString &blocked : m_run->blocking.value(id)) {
            for (const QString &next : m_run->blocking.value(blocked)) {
                if (isOutputNode(next))
                    return id;
            }
        }
    }
    return ready.first();
}

QList<SimValue> Executor::outputsOf(const QString &id) const
{
    const auto it = m_run->outputs.constFind(id);
    if (it != m_run->outputs.constEnd())
        return it.value();
    return m_outputCache.value(signature(id));
}

NodeCall Executor::makeCall(const QString &id) const
{
    const Run &run = *m_run;
    NodeCall call;
    call.catalog = &m_catalog;
    call.classType = classOf(run.item.prompt, id);
    call.cls = m_catalog.nodeClass(call.classType);
    call.nodeId = id;
    call.prompt = run.item.prompt;
    call.extraData = run.item.extraData;
    call.stepDelayMs = m_stepDelayMs;
    const QJsonObject inputs = inputsOf(run.item.prompt, id);
    call.inputOrder = run.item.inputOrder.value(id);
    for (const QString &name : inputs.keys()) {
        if (!call.inputOrder.contains(name))
            call.inputOrder << name;
    }
    for (auto it = inputs.begin(); it != inputs.end(); ++it) {
        if (!isLink(it.value())) {
            call.widgets.insert(it.key(), it.value());
            continue;
        }
        const QJsonArray link = it.value().toArray();
        const QList<SimValue> source = outputsOf(link.at(0).toString());
        const qint64 slot = link.at(1).toInteger();
        if (slot >= 0 && slot < source.size()) {
            call.links.insert(it.key(), source.at(slot));
        } else {
            SimValue missing;
            const InputSpec *spec = call.cls ? call.cls->input(it.key()) : nullptr;
            missing.type = spec && spec->type.isString() ? spec->type.toString() : QString();
            call.links.insert(it.key(), missing);
        }
    }
    return call;
}

void Executor::stageNext()
{
    while (m_run) {
        Run &run = *m_run;
        if (run.pending.isEmpty()) {
            addMessage(QStringLiteral("execution_success"),
                       {{QStringLiteral("prompt_id"), run.item.promptId}}, false);
            finish(true);
            return;
        }
        QStringList ready;
        for (const QString &id : std::as_const(run.pending)) {
            if (run.blockCount.value(id) == 0)
                ready << id;
        }
        if (ready.isEmpty()) {
            run.current = run.pending.first();
            run.call = makeCall(run.current);
            failNode(NodeError{QStringLiteral("graph.DependencyCycleError"),
                               QStringLiteral("Dependency cycle detected"),
                               {}});
            return;
        }
        const QString id = pickNode(ready);
        run.current = id;
        const QString cls = classOf(run.item.prompt, id);

        if (isCached(id)) {
            if (run.clientId) {
                const QJsonObject ui = m_uiCache.value(signature(id));
                m_sink.sendMessage(
                    QStringLiteral("executed"),
                    {{QStringLiteral("node"), id},
                     {QStringLiteral("display_node"), id},
                     {QStringLiteral("output"), ui.isEmpty() ? QJsonValue(QJsonValue::Null)
                                                             : ui.value(QLatin1String("output"))},
                     {QStringLiteral("prompt_id"), run.item.promptId}},
                    run.clientId);
            }
            completeNode(id);
            continue;
        }

        run.call = makeCall(id);
        if (cls == QLatin1String("PreviewImage"))
            run.call.previewPrefix = previewPrefix(id, cls);
        if (run.clientId) {
            m_lastNodeId = id;
            m_sink.sendMessage(QStringLiteral("executing"),
                               {{QStringLiteral("node"), id},
                                {QStringLiteral("display_node"), id},
                                {QStringLiteral("prompt_id"), run.item.promptId}},
                               run.clientId);
        }
        if (m_interruptRequested) {
            interrupted();
            return;
        }
        if (run.fail) {
            NodeStep step;
            step.delayMs = m_stepDelayMs;
            step.failure =
                NodeError{QStringLiteral("RuntimeError"), run.failMessage,
                          simulatedTraceback(cls, QStringLiteral("raise RuntimeError(message)"))};
            run.plan = NodePlan{{step}, {}};
        } else {
            run.plan = planNode(run.call);
            chargeModelLoad(run);
        }
        run.step = 0;
        scheduleStep(run.plan.steps.isEmpty() ? 0 : run.plan.steps.first().delayMs);
        return;
    }
}

// A loader of another model than the one loaded last: its first step waits for the load too,
// and once it succeeded that model is the loaded one. A loader that does not execute (cached,
// the same inputs as in the previous prompt) loads nothing.
void Executor::chargeModelLoad(Run &run)
{
    const QString &cls = run.call.classType;
    QString model;
    if (cls.contains(QLatin1String("CheckpointLoader")))
        model = run.call.widgets.value(QLatin1String("ckpt_name")).toString();
    else if (cls == QLatin1String("UNETLoader"))
        model = run.call.widgets.value(QLatin1String("unet_name")).toString();
    if (model.isEmpty() || model == m_loadedModel)
        return;
    if (!run.plan.steps.isEmpty())
        run.plan.steps.first().delayMs += m_modelLoadDelayMs;
    run.plan.complete = [this, model, complete = std::move(run.plan.complete)]() {
        NodeOutcome outcome = complete ? complete() : NodeOutcome(NodeDone{});
        if (std::holds_alternative<NodeDone>(outcome)) {
            m_loadedModel = model;
            ++m_modelLoads;
        }
        return outcome;
    };
}

void Executor::scheduleStep(int delayMs)
{
    m_stepTimer.start(qMax(0, delayMs));
}

void Executor::advance()
{
    if (!m_run)
        return;
    if (m_interruptRequested) {
        interrupted();
        return;
    }
    if (m_hang) {
        m_stalled = true;
        return;
    }
    Run &run = *m_run;
    if (run.step < run.plan.steps.size()) {
        const NodeStep step = run.plan.steps.at(run.step);
        if (step.failure) {
            failNode(*step.failure);
            return;
        }
        if (step.progress) {
            m_sink.sendMessage(
                QStringLiteral("progress"),
                {{QStringLiteral("value"), step.value},
                 {QStringLiteral("max"), step.max},
                 {QStringLiteral("prompt_id"), m_lastPromptId},
                 {QStringLiteral("node"), m_lastNodeId.isEmpty() ? QJsonValue(QJsonValue::Null)
                                                                 : QJsonValue(m_lastNodeId)}},
                run.clientId);
            if (step.frame)
                m_sink.sendBinary(step.frame(), run.clientId);
        }
        ++run.step;
        if (run.step < run.plan.steps.size()) {
            scheduleStep(run.plan.steps.at(run.step).delayMs);
            return;
        }
    }

    // Every step done: the node completes.
    const QString id = run.current;
    const NodeOutcome outcome = run.plan.complete ? run.plan.complete() : NodeOutcome(NodeDone{});
    if (const auto *failure = std::get_if<NodeError>(&outcome)) {
        failNode(*failure);
        return;
    }
    const NodeDone &result = std::get<NodeDone>(outcome);
    const QString sig = signature(id);
    run.outputs.insert(id, result.outputs);
    m_outputCache.insert(sig, result.outputs);
    if (!result.ui.isEmpty()) {
        m_uiCache.insert(sig, QJsonObject{{QStringLiteral("output"), result.ui}});
        if (run.clientId) {
            m_sink.sendMessage(QStringLiteral("executed"),
                               {{QStringLiteral("node"), id},
                                {QStringLiteral("display_node"), id},
                                {QStringLiteral("output"), result.ui},
                                {QStringLiteral("prompt_id"), run.item.promptId}},
                               run.clientId);
        }
    }
    run.executed << id;
    completeNode(id);
    stageNext();
}

void Executor::completeNode(const QString &id)
{
    Run &run = *m_run;
    run.pending.removeAll(id);
    const QStringList blocked = run.blocking.take(id);
    for (const QString &next : blocked)
        run.blockCount[next] -= 1;
    run.blockCount.remove(id);
}

void Executor::failNode(const NodeError &error)
{
    Run &run = *m_run;
    addMessage(
        QStringLiteral("execution_error"),
        {{QStringLiteral("prompt_id"), run.item.promptId},
         {QStringLiteral("node_id"), run.current},
         {QStringLiteral("node_type"), classOf(run.item.prompt, run.current)},
         {QStringLiteral("executed"), QJsonArray::fromStringList(run.executed)},
         {QStringLiteral("exception_message"), error.message},
         {QStringLiteral("exception_type"), error.type},
         {QStringLiteral("traceback"), QJsonArray::fromStringList(error.traceback)},
         {QStringLiteral("current_inputs"), formatInputs(run.call)},
         {QStringLiteral("current_outputs"), QJsonArray::fromStringList(run.item.nodeOrder)}},
        false);
    finish(false);
}

void Executor::interrupted()
{
    Run &run = *m_run;
    m_stepTimer.stop();
    m_interruptRequested = false;
    addMessage(QStringLiteral("execution_interrupted"),
               {{QStringLiteral("prompt_id"), run.item.promptId},
                {QStringLiteral("node_id"), run.current},
                {QStringLiteral("node_type"), classOf(run.item.prompt, run.current)},
                {QStringLiteral("executed"), QJsonArray::fromStringList(run.executed)}},
               true);
    finish(false);
}

void Executor::finish(bool success)
{
    m_stepTimer.stop();
    std::unique_ptr<Run> run = std::move(m_run);
    const QString promptId = run->item.promptId;

    // The history entry: the UI of every node of the prompt (run now or cached).
    QJsonObject outputs;
    QJsonObject meta;
    for (const QString &id : std::as_const(run->item.nodeOrder)) {
        const auto sig = run->signatures.constFind(id);
        if (sig == run->signatures.constEnd())
            continue;
        const auto ui = m_uiCache.constFind(sig.value());
        if (ui == m_uiCache.constEnd())
            continue;
        outputs.insert(id, ui->value(QLatin1String("output")));
        meta.insert(id, QJsonObject{{QStringLiteral("node_id"), id},
                                    {QStringLiteral("display_node"), id},
                                    {QStringLiteral("parent_node"), QJsonValue::Null},
                                    {QStringLiteral("real_node_id"), id}});
    }
    const QJsonObject entry{
        {QStringLiteral("prompt"), run->item.toJson()},
        {QStringLiteral("outputs"), outputs},
        {QStringLiteral("status"),
         QJsonObject{{QStringLiteral("status_str"),
                      success ? QStringLiteral("success") : QStringLiteral("error")},
                     {QStringLiteral("completed"), success},
                     {QStringLiteral("messages"), run->messages}}},
        {QStringLiteral("meta"), meta}};
    if (m_historyOrder.size() > kMaximumHistorySize)
        m_history.remove(m_historyOrder.takeFirst());
    m_historyOrder.removeAll(promptId);
    m_historyOrder << promptId;
    m_history.insert(promptId, entry);
    m_executed << promptId;

    broadcastStatus();
    if (run->clientId) {
        m_sink.sendMessage(
            QStringLiteral("executing"),
            {{QStringLiteral("node"), QJsonValue::Null}, {QStringLiteral("prompt_id"), promptId}},
            run->clientId);
    }
    m_lastNodeId.clear();
    qCDebug(lcSimNode) << "prompt" << promptId << (success ? "succeeded" : "failed");
    scheduleStart();
    Q_EMIT promptFinished(promptId, success);
}

} // namespace simnode
