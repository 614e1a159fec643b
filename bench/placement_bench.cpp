// comfy-bench-placement: model affinity against first-idle placement (issue #6).
//
//   comfy-bench-placement [--nodes 8] [--tasks 400] [--checkpoints 4] [--load-delay-ms 300]
//                         [--step-delay-ms 5] [--steps 4] [--interval-ms 45]
//                         [--backlog-interval-ms 25] [--seed 6] [--out DIR] [--strict]
//
// A mixed workload over several checkpoints on simulated ComfyUI nodes (in a thread of their
// own) whose model loads take time: a node executing a CheckpointLoaderSimple of another
// checkpoint than the one it loaded last waits --load-delay-ms (SimulatedNode::
// setModelLoadDelayMs), the same one costs nothing. Each task is a Raw text-to-image graph
// (CheckpointLoaderSimple -> CLIPTextEncode x2, EmptyLatentImage -> KSampler(--steps, its own
// seed) -> VAEDecode -> SaveImage) with a checkpoint drawn at random; tasks arrive one by one
// with random (exponential) gaps of --interval-ms on average. Checkpoints and arrival times come
// from --seed: both runs get exactly the same workload, once with Settings::nodeAffinity off
// (the node idle longest) and once on (an idle node that has the task's checkpoint loaded; and
// NODE__AFFINITY_LOOKAHEAD 32, TaskPicker::SuggestedLookAhead).
// Measured: model loads counted in the nodes (SimulatedNode::modelLoads: each node's first
// load, and every switch after it), the total time from the first arrival to the last task
// done, and each task's turnaround (submitted -> done). Targets: affinity has fewer switches and
// takes less total time.
//
// A second workload (the same targets; --backlog-interval-ms 0 skips it) comes faster than
// first-idle placement can serve (most tasks switching models), so tasks wait in the queue: a
// node that frees then takes the first waiting task (within TaskPicker's look-ahead) of the
// checkpoint it holds.
#include "benchsupport.h"
#include "dispatch/taskpicker.h"
#include "nodethread.h"
#include "router/router.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QHash>
#include <QJsonArray>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTimer>

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>

using namespace comfy;

namespace {

const QString Program = QStringLiteral("comfy-bench-placement");

struct Workload {
    int nodes = 8;
    int tasks = 400;
    int checkpoints = 4;
    int loadDelayMs = 300;
    int stepDelayMs = 5;
    int steps = 4;
    int intervalMs = 45;
    quint32 seed = 6;
    QStringList checkpointNames;
    QList<int> checkpointOf; // per task
    QList<qint64> arrivalNs; // per task, from the start
};

struct Outcome {
    int loads = 0;    // every model load in the nodes
    int switches = 0; // loads after a node's first
    QList<int> loadsPerNode;
    double totalSeconds = 0; // first arrival -> last task done
    QList<qint64> turnaroundNs;
    int done = 0;
};

Workload makeWorkload(Workload w)
{
    QRandomGenerator random(w.seed);
    for (int c = 0; c < w.checkpoints; ++c)
        w.checkpointNames << QStringLiteral("checkpoint-%1.safetensors").arg(QChar(u'a' + c));
    double at = 0;
    for (int i = 0; i < w.tasks; ++i) {
        w.checkpointOf << int(random.bounded(w.checkpoints));
        w.arrivalNs << qint64(at * 1e6);
        at += -std::log(1.0 - random.generateDouble()) * w.intervalMs; // exponential gap, ms
    }
    return w;
}

Outcome runWorkload(const Workload &w, bool affinity)
{
    QTemporaryDir dir(QDir::tempPath() + QStringLiteral("/comfy-bench-placement-XXXXXX"));
    if (!dir.isValid())
        bench::die(Program, QStringLiteral("no temporary folder"));
    bench::NodeThread nodes;
    QStringList urls;
    for (int i = 0; i < w.nodes; ++i) {
        const QString root = dir.filePath(QStringLiteral("node%1").arg(i));
        bench::prepareNodeRoot(root, w.checkpointNames);
        simnode::SimulatedNode *node = nodes.add(root);
        nodes.run([&] {
            node->setStepDelayMs(w.stepDelayMs);
            node->setModelLoadDelayMs(w.loadDelayMs);
            urls << node->url().toString();
        });
    }

    Settings settings;
    settings.dataDir = dir.filePath(QStringLiteral("data"));
    settings.downloadCacheDir = dir.filePath(QStringLiteral("cache"));
    settings.downloadRootDir = dir.filePath(QStringLiteral("root"));
    settings.downloadRecordPath = dir.filePath(QStringLiteral("record.json"));
    settings.pendingLimit = w.tasks;
    settings.historyLimit = w.tasks;
    settings.nodeAffinity = affinity;
    settings.nodeAffinityLookahead = affinity ? TaskPicker::SuggestedLookAhead : 0;
    settings.env = QStringLiteral("prod");
    auto router = std::make_unique<Router>(settings);
    if (!router->storageError().isEmpty())
        bench::die(Program, router->storageError());
    for (const QString &url : std::as_const(urls))
        router->nodes().addNode(url, {}, true);
    const bool online = bench::waitFor(
        [&] {
            const QList<NodeInfo> all = router->nodes().nodes();
            return std::all_of(all.cbegin(), all.cend(),
                               [](const NodeInfo &n) { return n.state == NodeState::Idle; });
        },
        30000, 10);
    if (!online)
        bench::die(Program, QStringLiteral("the simulated nodes did not come online"));

    Outcome outcome;
    QElapsedTimer clock;
    QHash<QString, qint64> submittedAt;
    qint64 lastDone = 0;
    QString failure;
    QObject::connect(&router->tasks(), &TaskQueue::taskFinished, router.get(),
                     [&](const QString &id) {
                         const qint64 now = clock.nsecsElapsed();
                         const auto task = router->tasks().task(id);
                         if (!task || task->status != TaskStatus::Done) {
                             failure = task ? task->error : QStringLiteral("unknown task");
                             return;
                         }
                         ++outcome.done;
                         lastDone = now;
                         outcome.turnaroundNs << now - submittedAt.value(id);
                     });
    // Arrivals on schedule: every task whose time has come, then a timer to the next one.
    int next = 0;
    QTimer arrivals;
    arrivals.setSingleShot(true);
    arrivals.setTimerType(Qt::PreciseTimer);
    QObject::connect(&arrivals, &QTimer::timeout, router.get(), [&] {
        while (next < w.tasks && w.arrivalNs.at(next) <= clock.nsecsElapsed()) {
            const int c = w.checkpointOf.at(next);
            const Result<QString> id = router->submit(
                bench::rawSamplerRequest(w.checkpointNames.at(c), w.steps, 1000 + next));
            if (!id)
                bench::die(Program, QStringLiteral("submit: %1").arg(id.error().message));
            submittedAt.insert(id.value(), clock.nsecsElapsed());
            ++next;
        }
        if (next < w.tasks)
            arrivals.start(int(std::max<qint64>(
                0, (w.arrivalNs.at(next) - clock.nsecsElapsed() + 999999) / 1000000)));
    });
    clock.start();
    arrivals.start(0);
    const bool finished =
        bench::waitFor([&] { return outcome.done == w.tasks || !failure.isEmpty(); }, 600000, 10);
    if (!failure.isEmpty())
        bench::die(Program, QStringLiteral("a task failed: %1").arg(failure));
    if (!finished)
        bench::die(
            Program,
            QStringLiteral("%1 of %2 tasks done after 600 s").arg(outcome.done).arg(w.tasks));
    outcome.totalSeconds = double(lastDone) / 1e9;
    router.reset();
    nodes.run([&] {
        for (int i = 0; i < nodes.size(); ++i) {
            const int loads = nodes.node(i)->modelLoads();
            outcome.loadsPerNode << loads;
            outcome.loads += loads;
            outcome.switches += std::max(0, loads - 1);
        }
    });
    return outcome;
}

double meanMs(const QList<qint64> &ns)
{
    double sum = 0;
    for (qint64 v : ns)
        sum += double(v);
    return ns.isEmpty() ? 0 : sum / double(ns.size()) / 1e6;
}

QString joined(const QList<int> &values)
{
    QStringList parts;
    for (int v : values)
        parts << QString::number(v);
    return parts.join(QLatin1Char(' '));
}

// Both runs of one workload, their table, and its JSON.
struct Comparison {
    Outcome firstIdle;
    Outcome affinity;
    double switchRatio = 0;
    double timeRatio = 0;
    bool fewerSwitches = false;
    bool lessTime = false;
};

Comparison compare(bench::Report &report, const Workload &w)
{
    QList<int> perCheckpoint(w.checkpoints, 0);
    for (int c : std::as_const(w.checkpointOf))
        ++perCheckpoint[c];
    report.line(QStringLiteral("%1 tasks over %2 checkpoints (%3 tasks each) in random order; "
                               "arrivals at random (exponential gaps, mean %4 ms, seed %5; the "
                               "last at %6 s)")
                    .arg(w.tasks)
                    .arg(w.checkpoints)
                    .arg(joined(perCheckpoint))
                    .arg(w.intervalMs)
                    .arg(w.seed)
                    .arg(double(w.arrivalNs.constLast()) / 1e9, 0, 'f', 2));
    Comparison c;
    c.firstIdle = runWorkload(w, false);
    c.affinity = runWorkload(w, true);
    auto row = [&report](const QString &label, const QString &a, const QString &b) {
        report.line(QStringLiteral("  ") + label.leftJustified(46) + a.leftJustified(27) + b);
    };
    auto seconds = [](double s) { return QStringLiteral("%1 s").arg(s, 0, 'f', 2); };
    auto turnaround = [](const Outcome &o) {
        return QStringLiteral("%1 / %2 / %3 ms")
            .arg(bench::percentileUs(o.turnaroundNs, 50) / 1000.0, 0, 'f', 0)
            .arg(meanMs(o.turnaroundNs), 0, 'f', 0)
            .arg(bench::percentileUs(o.turnaroundNs, 95) / 1000.0, 0, 'f', 0);
    };
    row(QString(), QStringLiteral("first idle (affinity off)"),
        QStringLiteral("affinity on, look-ahead 32"));
    row(QStringLiteral("model loads"), QString::number(c.firstIdle.loads),
        QString::number(c.affinity.loads));
    row(QStringLiteral("model switches (loads after a node's first)"),
        QString::number(c.firstIdle.switches), QString::number(c.affinity.switches));
    row(QStringLiteral("loads per node"), joined(c.firstIdle.loadsPerNode),
        joined(c.affinity.loadsPerNode));
    row(QStringLiteral("node time spent loading models"),
        seconds(c.firstIdle.loads * w.loadDelayMs / 1000.0),
        seconds(c.affinity.loads * w.loadDelayMs / 1000.0));
    row(QStringLiteral("total time (first arrival -> last done)"),
        seconds(c.firstIdle.totalSeconds), seconds(c.affinity.totalSeconds));
    row(QStringLiteral("task turnaround median / mean / p95"), turnaround(c.firstIdle),
        turnaround(c.affinity));
    c.switchRatio =
        c.firstIdle.switches > 0 ? double(c.affinity.switches) / c.firstIdle.switches : 0;
    c.timeRatio = c.affinity.totalSeconds / c.firstIdle.totalSeconds;
    c.fewerSwitches = c.affinity.switches < c.firstIdle.switches;
    c.lessTime = c.affinity.totalSeconds < c.firstIdle.totalSeconds;
    report.field(QStringLiteral("  ratio affinity / first idle: switches"),
                 QString::number(c.switchRatio, 'f', 3));
    report.field(QStringLiteral("  ratio affinity / first idle: total time"),
                 QString::number(c.timeRatio, 'f', 3));
    return c;
}

QJsonObject comparisonJson(const Workload &w, const Comparison &c)
{
    auto outcomeJson = [&w](const Outcome &o) {
        QJsonArray perNode;
        for (int v : o.loadsPerNode)
            perNode.append(v);
        return QJsonObject{{QStringLiteral("model_loads"), o.loads},
                           {QStringLiteral("model_switches"), o.switches},
                           {QStringLiteral("loads_per_node"), perNode},
                           {QStringLiteral("loading_seconds"), o.loads * w.loadDelayMs / 1000.0},
                           {QStringLiteral("total_seconds"), o.totalSeconds},
                           {QStringLiteral("tasks_done"), o.done},
                           {QStringLiteral("turnaround"), bench::summaryJson(o.turnaroundNs)},
                           {QStringLiteral("turnaround_mean_ms"), meanMs(o.turnaroundNs)}};
    };
    return QJsonObject{
        {QStringLiteral("workload"), QJsonObject{{QStringLiteral("nodes"), w.nodes},
                                                 {QStringLiteral("tasks"), w.tasks},
                                                 {QStringLiteral("checkpoints"), w.checkpoints},
                                                 {QStringLiteral("load_delay_ms"), w.loadDelayMs},
                                                 {QStringLiteral("step_delay_ms"), w.stepDelayMs},
                                                 {QStringLiteral("sampler_steps"), w.steps},
                                                 {QStringLiteral("mean_interval_ms"), w.intervalMs},
                                                 {QStringLiteral("seed"), qint64(w.seed)}}},
        {QStringLiteral("first_idle"), outcomeJson(c.firstIdle)},
        {QStringLiteral("affinity"), outcomeJson(c.affinity)},
        {QStringLiteral("ratio_switches"), c.switchRatio},
        {QStringLiteral("ratio_total_time"), c.timeRatio},
        {QStringLiteral("affinity_fewer_switches"), c.fewerSwitches},
        {QStringLiteral("affinity_less_time"), c.lessTime}};
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(Program);
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Model affinity against first-idle placement: a mixed workload over "
                       "several checkpoints on simulated nodes whose model switches take time."));
    parser.addHelpOption();
    Workload w;
    int seed = int(w.seed);
    int backlogIntervalMs = 25;
    struct IntOption {
        QCommandLineOption option;
        int *value;
        int minimum;
    };
    const QList<IntOption> intOptions{
        {{QStringLiteral("nodes"), QStringLiteral("Simulated nodes."), QStringLiteral("n"),
          QString::number(w.nodes)},
         &w.nodes,
         1},
        {{QStringLiteral("tasks"), QStringLiteral("Tasks."), QStringLiteral("n"),
          QString::number(w.tasks)},
         &w.tasks,
         1},
        {{QStringLiteral("checkpoints"), QStringLiteral("Checkpoints in the mix."),
          QStringLiteral("n"), QString::number(w.checkpoints)},
         &w.checkpoints,
         1},
        {{QStringLiteral("load-delay-ms"), QStringLiteral("Time a node takes to switch models."),
          QStringLiteral("ms"), QString::number(w.loadDelayMs)},
         &w.loadDelayMs,
         0},
        {{QStringLiteral("step-delay-ms"),
          QStringLiteral("Time of a node execution and of a sampler step."), QStringLiteral("ms"),
          QString::number(w.stepDelayMs)},
         &w.stepDelayMs,
         0},
        {{QStringLiteral("steps"), QStringLiteral("KSampler steps."), QStringLiteral("n"),
          QString::number(w.steps)},
         &w.steps,
         1},
        {{QStringLiteral("interval-ms"), QStringLiteral("Mean time between two arrivals."),
          QStringLiteral("ms"), QString::number(w.intervalMs)},
         &w.intervalMs,
         1},
        {{QStringLiteral("backlog-interval-ms"),
          QStringLiteral("Mean arrival gap of the second, backlogged workload (0: skip it)."),
          QStringLiteral("ms"), QString::number(backlogIntervalMs)},
         &backlogIntervalMs,
         0},
        {{QStringLiteral("seed"), QStringLiteral("Seed of checkpoints and arrivals."),
          QStringLiteral("n"), QString::number(w.seed)},
         &seed,
         0},
    };
    for (const IntOption &o : intOptions)
        parser.addOption(o.option);
    const QCommandLineOption outOption(QStringLiteral("out"),
                                       QStringLiteral("Folder of the results."),
                                       QStringLiteral("dir"), bench::defaultResultsDir());
    const QCommandLineOption strictOption(QStringLiteral("strict"),
                                          QStringLiteral("Exit with 3 when a target is missed."));
    parser.addOptions({outOption, strictOption});
    parser.process(app);
    for (const IntOption &o : intOptions) {
        bool ok = false;
        *o.value = parser.value(o.option).toInt(&ok);
        if (!ok || *o.value < o.minimum)
            bench::die(Program,
                       QStringLiteral("--%1 must be a number of at least %2")
                           .arg(o.option.names().constFirst())
                           .arg(o.minimum),
                       2);
    }
    w.seed = quint32(seed);
    bench::quietLogs();

    bench::Report report(
        QStringLiteral("placement"),
        QStringLiteral("Placement benchmark (comfy-bench-placement): model affinity vs first-idle "
                       "placement, simulated ComfyUI nodes on 127.0.0.1"));
    report.line(QStringLiteral("%1 nodes (in a thread of their own); a model switch takes %2 ms "
                               "(a loader of another checkpoint than the node's last), a node "
                               "step %3 ms, KSampler %4 steps; Raw text-to-image graphs; SQLite "
                               "and images in %5; the same workload (seeded) for both runs")
                    .arg(w.nodes)
                    .arg(w.loadDelayMs)
                    .arg(w.stepDelayMs)
                    .arg(w.steps)
                    .arg(QDir::tempPath()));
    report.line();
    report.line(QStringLiteral("Workload 1: the cluster keeps up"));
    const Workload main = makeWorkload(w);
    const Comparison c = compare(report, main);
    report.field(QStringLiteral("  target: affinity has fewer switches"),
                 c.fewerSwitches ? QStringLiteral("PASS") : QStringLiteral("FAIL"));
    report.field(QStringLiteral("  target: affinity takes less total time"),
                 c.lessTime ? QStringLiteral("PASS") : QStringLiteral("FAIL"));
    QJsonObject &json = report.json();
    json.insert(QStringLiteral("main"), comparisonJson(main, c));
    bool targetsMet = c.fewerSwitches && c.lessTime; // of both workloads
    json.insert(QStringLiteral("targets_met"), targetsMet);

    if (backlogIntervalMs > 0) {
        Workload b = w;
        b.intervalMs = backlogIntervalMs;
        const Workload backlog = makeWorkload(b);
        report.line();
        report.line(QStringLiteral("Workload 2: arrivals faster than first-idle placement can "
                                   "serve, so tasks wait in the queue (a backlog)"));
        const Comparison cb = compare(report, backlog);
        report.field(QStringLiteral("  target: affinity has fewer switches"),
                     cb.fewerSwitches ? QStringLiteral("PASS") : QStringLiteral("FAIL"));
        report.field(QStringLiteral("  target: affinity takes less total time"),
                     cb.lessTime ? QStringLiteral("PASS") : QStringLiteral("FAIL"));
        json.insert(QStringLiteral("backlog"), comparisonJson(backlog, cb));
        targetsMet = targetsMet && cb.fewerSwitches && cb.lessTime;
        json.insert(QStringLiteral("targets_met"), targetsMet);
    }
    report.line();
    report.field(
        QStringLiteral("log lines formatted and dropped; warnings"),
        QStringLiteral("%1; %2").arg(bench::droppedLogLines()).arg(bench::warningLogLines()));
    if (!report.write(parser.value(outOption)))
        return 1;
    return parser.isSet(strictOption) && !targetsMet ? 3 : 0;
}
