// comfy-bench-placement: model affinity against first-idle placement (issue #6).
//
//   comfy-bench-placement [--nodes 8] [--tasks 400] [--checkpoints 4] [--load-delay-ms 300]
//                         [--step-delay-ms 5] [--steps 4] [--interval-ms 25] [--seed 6]
//                         [--out DIR] [--strict]
//
// A mixed workload over several checkpoints on simulated ComfyUI nodes (in a thread of their
// own) whose model loads take time: a node executing a CheckpointLoaderSimple of another
// checkpoint than the one it loaded last waits --load-delay-ms (SimulatedNode::
// setModelLoadDelayMs), the same one costs nothing. Each task is a Raw text-to-image graph
// (CheckpointLoaderSimple -> CLIPTextEncode x2, EmptyLatentImage -> KSampler(--steps, its own
// seed) -> VAEDecode -> SaveImage) with a checkpoint drawn at random; tasks arrive one by one
// with random (exponential) gaps of --interval-ms on average. Checkpoints and arrival times come
// from --seed: both runs get exactly the same workload, once with Settings::nodeAffinity on
// (a task goes to an idle node that has its checkpoint loaded) and once off (the node idle
// longest). Measured: model loads counted in the nodes (SimulatedNode::modelLoads: each node's
// first load, and every switch after it) and the total time from the first arrival to the last
// task done; affinity must show fewer switches and less time.
#include "benchsupport.h"
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
    int intervalMs = 25;
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

bool waitFor(const std::function<bool()> &done, int timeoutMs)
{
    QElapsedTimer timer;
    timer.start();
    while (!done()) {
        if (timer.elapsed() > timeoutMs)
            return false;
        QEventLoop loop;
        QTimer::singleShot(10, &loop, &QEventLoop::quit);
        loop.exec();
    }
    return true;
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
    settings.env = QStringLiteral("prod");
    auto router = std::make_unique<Router>(settings);
    if (!router->storageError().isEmpty())
        bench::die(Program, router->storageError());
    for (const QString &url : std::as_const(urls))
        router->nodes().addNode(url, {}, true);
    const bool online = waitFor(
        [&] {
            const QList<NodeInfo> all = router->nodes().nodes();
            return std::all_of(all.cbegin(), all.cend(),
                               [](const NodeInfo &n) { return n.state == NodeState::Idle; });
        },
        30000);
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
        waitFor([&] { return outcome.done == w.tasks || !failure.isEmpty(); }, 600000);
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
    struct IntOption {
        QCommandLineOption option;
        int *value;
    };
    int seed = int(w.seed);
    const QList<IntOption> intOptions{
        {{QStringLiteral("nodes"), QStringLiteral("Simulated nodes."), QStringLiteral("n"),
          QString::number(w.nodes)},
         &w.nodes},
        {{QStringLiteral("tasks"), QStringLiteral("Tasks."), QStringLiteral("n"),
          QString::number(w.tasks)},
         &w.tasks},
        {{QStringLiteral("checkpoints"), QStringLiteral("Checkpoints in the mix."),
          QStringLiteral("n"), QString::number(w.checkpoints)},
         &w.checkpoints},
        {{QStringLiteral("load-delay-ms"), QStringLiteral("Time a node takes to switch models."),
          QStringLiteral("ms"), QString::number(w.loadDelayMs)},
         &w.loadDelayMs},
        {{QStringLiteral("step-delay-ms"),
          QStringLiteral("Time of a node execution and of a sampler step."), QStringLiteral("ms"),
          QString::number(w.stepDelayMs)},
         &w.stepDelayMs},
        {{QStringLiteral("steps"), QStringLiteral("KSampler steps."), QStringLiteral("n"),
          QString::number(w.steps)},
         &w.steps},
        {{QStringLiteral("interval-ms"), QStringLiteral("Mean time between two arrivals."),
          QStringLiteral("ms"), QString::number(w.intervalMs)},
         &w.intervalMs},
        {{QStringLiteral("seed"), QStringLiteral("Seed of checkpoints and arrivals."),
          QStringLiteral("n"), QString::number(w.seed)},
         &seed},
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
        if (!ok || *o.value < 0 ||
            (*o.value == 0 && o.value != &w.stepDelayMs && o.value != &w.loadDelayMs &&
             o.value != &seed))
            bench::die(Program,
                       QStringLiteral("--%1 must be a number").arg(o.option.names().constFirst()),
                       2);
    }
    w.seed = quint32(seed);
    w = makeWorkload(w);
    bench::quietLogs();

    bench::Report report(
        QStringLiteral("placement"),
        QStringLiteral("Placement benchmark (comfy-bench-placement): model affinity vs first-idle "
                       "placement, simulated ComfyUI nodes on 127.0.0.1"));
    QList<int> perCheckpoint(w.checkpoints, 0);
    for (int c : std::as_const(w.checkpointOf))
        ++perCheckpoint[c];
    report.line(QStringLiteral("%1 nodes; %2 tasks over %3 checkpoints (%4 tasks each), random "
                               "order and arrivals (exponential gaps, mean %5 ms, seed %6; the "
                               "last arrives at %7 s)")
                    .arg(w.nodes)
                    .arg(w.tasks)
                    .arg(w.checkpoints)
                    .arg(joined(perCheckpoint))
                    .arg(w.intervalMs)
                    .arg(w.seed)
                    .arg(double(w.arrivalNs.constLast()) / 1e9, 0, 'f', 2));
    report.line(QStringLiteral("model switch %1 ms (a loader of another checkpoint than the "
                               "node's last), node step %2 ms, KSampler %3 steps; Raw "
                               "text-to-image graph, SQLite and images on %4")
                    .arg(w.loadDelayMs)
                    .arg(w.stepDelayMs)
                    .arg(w.steps)
                    .arg(QDir::tempPath()));
    report.line();

    const Outcome firstIdle = runWorkload(w, false);
    const Outcome affinity = runWorkload(w, true);

    auto row = [&report](const QString &label, const QString &a, const QString &b) {
        report.line(label.leftJustified(40) + a.leftJustified(24) + b);
    };
    row(QString(), QStringLiteral("first idle (affinity off)"), QStringLiteral("affinity on"));
    row(QStringLiteral("model loads"), QString::number(firstIdle.loads),
        QString::number(affinity.loads));
    row(QStringLiteral("model switches (loads after the first)"),
        QString::number(firstIdle.switches), QString::number(affinity.switches));
    row(QStringLiteral("loads per node"), joined(firstIdle.loadsPerNode),
        joined(affinity.loadsPerNode));
    row(QStringLiteral("total time (first arrival -> last done)"),
        QStringLiteral("%1 s").arg(firstIdle.totalSeconds, 0, 'f', 2),
        QStringLiteral("%1 s").arg(affinity.totalSeconds, 0, 'f', 2));
    auto turnaround = [](const Outcome &o) {
        return QStringLiteral("%1 / %2 / %3 ms")
            .arg(bench::percentileUs(o.turnaroundNs, 50) / 1000.0, 0, 'f', 0)
            .arg(meanMs(o.turnaroundNs), 0, 'f', 0)
            .arg(bench::percentileUs(o.turnaroundNs, 95) / 1000.0, 0, 'f', 0);
    };
    row(QStringLiteral("task turnaround median / mean / p95"), turnaround(firstIdle),
        turnaround(affinity));
    const double switchRatio =
        firstIdle.switches > 0 ? double(affinity.switches) / firstIdle.switches : 0;
    const double timeRatio = affinity.totalSeconds / firstIdle.totalSeconds;
    report.line();
    report.field(QStringLiteral("ratio affinity / first idle: switches"),
                 QString::number(switchRatio, 'f', 3));
    report.field(QStringLiteral("ratio affinity / first idle: total time"),
                 QString::number(timeRatio, 'f', 3));
    const bool fewerSwitches = affinity.switches < firstIdle.switches;
    const bool lessTime = affinity.totalSeconds < firstIdle.totalSeconds;
    report.field(QStringLiteral("target: affinity has fewer switches"),
                 fewerSwitches ? QStringLiteral("PASS") : QStringLiteral("FAIL"));
    report.field(QStringLiteral("target: affinity takes less total time"),
                 lessTime ? QStringLiteral("PASS") : QStringLiteral("FAIL"));
    report.field(
        QStringLiteral("log lines formatted and dropped; warnings"),
        QStringLiteral("%1; %2").arg(bench::droppedLogLines()).arg(bench::warningLogLines()));

    auto outcomeJson = [](const Outcome &o) {
        QJsonArray perNode;
        for (int v : o.loadsPerNode)
            perNode.append(v);
        return QJsonObject{{QStringLiteral("model_loads"), o.loads},
                           {QStringLiteral("model_switches"), o.switches},
                           {QStringLiteral("loads_per_node"), perNode},
                           {QStringLiteral("total_seconds"), o.totalSeconds},
                           {QStringLiteral("tasks_done"), o.done},
                           {QStringLiteral("turnaround"), bench::summaryJson(o.turnaroundNs)},
                           {QStringLiteral("turnaround_mean_ms"), meanMs(o.turnaroundNs)}};
    };
    QJsonObject &json = report.json();
    json.insert(QStringLiteral("workload"),
                QJsonObject{{QStringLiteral("nodes"), w.nodes},
                            {QStringLiteral("tasks"), w.tasks},
                            {QStringLiteral("checkpoints"), w.checkpoints},
                            {QStringLiteral("load_delay_ms"), w.loadDelayMs},
                            {QStringLiteral("step_delay_ms"), w.stepDelayMs},
                            {QStringLiteral("sampler_steps"), w.steps},
                            {QStringLiteral("mean_interval_ms"), w.intervalMs},
                            {QStringLiteral("seed"), qint64(w.seed)}});
    json.insert(QStringLiteral("first_idle"), outcomeJson(firstIdle));
    json.insert(QStringLiteral("affinity"), outcomeJson(affinity));
    json.insert(QStringLiteral("ratio_switches"), switchRatio);
    json.insert(QStringLiteral("ratio_total_time"), timeRatio);
    json.insert(QStringLiteral("affinity_fewer_switches"), fewerSwitches);
    json.insert(QStringLiteral("affinity_less_time"), lessTime);
    if (!report.write(parser.value(outOption)))
        return 1;
    return parser.isSet(strictOption) && !(fewerSwitches && lessTime) ? 3 : 0;
}
