// comfy-bench-scale: the router with 200 simulated ComfyUI nodes and 20,000 tasks (issue #6).
//
//   comfy-bench-scale [--nodes 200] [--tasks 20000] [--health-seconds 10] [--out DIR]
//
// Two processes, so that the router's CPU time and memory are its own: this one runs the router
// (Router: registry, queue, dispatcher, runners, SQLite store, as in comfy-router) and the
// benchmark's driver; a child process (this program with --serve-nodes) runs every simulated
// node. Both on 127.0.0.1.
//
// 1. Run: all tasks (Raw LoadImage -> ImageInvert -> SaveImage, alternating two pictures so no
//    node merely repeats its previous graph; node step delay 0 or 1 ms, alternating over the
//    nodes) are submitted at once (Router::submit, the pending limit raised to the task count)
//    and must all end done (checked). Router CPU time per task: getrusage(RUSAGE_SELF) of this
//    process over the run (submission, dispatch, websockets, POST /prompt, GET /view, SQLite and
//    images on disk, the health checks of the run) divided by the tasks; the nodes' CPU time
//    (the child, /proc/PID/stat) is shown beside it. Memory per finished task: growth of VmRSS
//    (heap trimmed before both readings) divided by the tasks in the history (its limit is the
//    task count, so all of them stay).
// 2. Health checks: a new router with the same nodes, all idle, checked every 100 ms; its CPU
//    time over the window divided by the checks done (GET /queue replies counted).
//
// The state (DATA_DIR: SQLite and result images) lives on the disk of TMPDIR, as deployed.
#include "benchsupport.h"
#include "router/router.h"
#include "simulatednode.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QHash>
#include <QProcess>
#include <QRegularExpression>
#include <QStorageInfo>
#include <QTemporaryDir>
#include <QTimer>

#include <cstdio>
#include <functional>
#include <memory>
#include <vector>

using namespace comfy;

namespace {

const QString Program = QStringLiteral("comfy-bench-scale");

// --serve-nodes: the child. Starts the nodes, prints "NODE <url>" for each and "READY", then
// serves until it is terminated.
int serveNodes(int count, const QString &rootDir)
{
    bench::quietLogs();
    std::vector<std::unique_ptr<simnode::SimulatedNode>> nodes;
    nodes.reserve(size_t(count));
    for (int i = 0; i < count; ++i) {
        const QString root = QDir(rootDir).filePath(QStringLiteral("node%1").arg(i));
        bench::prepareNodeRoot(root);
        auto node = std::make_unique<simnode::SimulatedNode>(root);
        node->setStepDelayMs(i % 2); // 0 or 1 ms
        if (node->listen(QHostAddress::LocalHost, 0) == 0)
            bench::die(Program, QStringLiteral("simulated node %1 cannot listen").arg(i));
        std::printf("NODE %s\n", qPrintable(node->url().toString()));
        nodes.push_back(std::move(node));
    }
    std::printf("READY\n");
    std::fflush(stdout);
    return QCoreApplication::exec();
}

int idleCount(Router &router)
{
    int idle = 0;
    for (const NodeInfo &node : router.nodes().nodes())
        idle += node.state == NodeState::Idle ? 1 : 0;
    return idle;
}

Settings routerSettings(const QString &dir, int tasks, int healthIntervalMs)
{
    Settings settings;
    settings.dataDir = QDir(dir).filePath(QStringLiteral("data"));
    settings.downloadCacheDir = QDir(dir).filePath(QStringLiteral("cache"));
    settings.downloadRootDir = QDir(dir).filePath(QStringLiteral("root"));
    settings.downloadRecordPath = QDir(dir).filePath(QStringLiteral("record.json"));
    settings.pendingLimit = tasks;
    settings.historyLimit = tasks;
    settings.healthIntervalMs = healthIntervalMs;
    settings.env = QStringLiteral("prod");
    return settings;
}

void addNodes(Router &router, const QStringList &urls)
{
    for (const QString &url : urls) {
        if (!router.nodes().addNode(url, {}, true))
            bench::die(Program, QStringLiteral("cannot add node %1").arg(url));
    }
    if (!bench::waitFor([&] { return idleCount(router) == urls.size(); }, 60000))
        bench::die(Program, QStringLiteral("only %1 of %2 nodes came online")
                                .arg(idleCount(router))
                                .arg(urls.size()));
}

QString mib(qint64 kib)
{
    return QStringLiteral("%1 MiB").arg(double(kib) / 1024.0, 0, 'f', 1);
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(Program);
    bench::raiseFileLimit();
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("The router with many simulated ComfyUI nodes and many tasks: all done, "
                       "CPU time per task, memory per finished task, health-check cost."));
    parser.addHelpOption();
    const QCommandLineOption nodesOption(QStringLiteral("nodes"),
                                         QStringLiteral("Simulated nodes."), QStringLiteral("n"),
                                         QStringLiteral("200"));
    const QCommandLineOption tasksOption(QStringLiteral("tasks"), QStringLiteral("Tasks."),
                                         QStringLiteral("n"), QStringLiteral("20000"));
    const QCommandLineOption healthSecondsOption(
        QStringLiteral("health-seconds"), QStringLiteral("Window of the health-check measurement."),
        QStringLiteral("s"), QStringLiteral("10"));
    const QCommandLineOption healthIntervalOption(
        QStringLiteral("health-interval-ms"),
        QStringLiteral("Health-check interval of that measurement."), QStringLiteral("ms"),
        QStringLiteral("100"));
    const QCommandLineOption timeoutOption(QStringLiteral("timeout-s"),
                                           QStringLiteral("Give up after this long."),
                                           QStringLiteral("s"), QStringLiteral("900"));
    const QCommandLineOption outOption(QStringLiteral("out"),
                                       QStringLiteral("Folder of the results."),
                                       QStringLiteral("dir"), bench::defaultResultsDir());
    const QCommandLineOption serveOption(
        QStringLiteral("serve-nodes"),
        QStringLiteral("Internal: run N simulated nodes under --root (the child process)."),
        QStringLiteral("n"));
    const QCommandLineOption rootOption(QStringLiteral("root"),
                                        QStringLiteral("Internal: folder of the nodes."),
                                        QStringLiteral("dir"));
    parser.addOptions({nodesOption, tasksOption, healthSecondsOption, healthIntervalOption,
                       timeoutOption, outOption, serveOption, rootOption});
    parser.process(app);

    auto positive = [&](const QCommandLineOption &option) {
        bool ok = false;
        const int value = parser.value(option).toInt(&ok);
        if (!ok || value <= 0)
            bench::die(
                Program,
                QStringLiteral("--%1 must be a positive number").arg(option.names().constFirst()),
                2);
        return value;
    };
    if (parser.isSet(serveOption))
        return serveNodes(positive(serveOption), parser.value(rootOption));

    const int nodeCount = positive(nodesOption);
    const int tasks = positive(tasksOption);
    const int healthSeconds = positive(healthSecondsOption);
    const int healthIntervalMs = positive(healthIntervalOption);
    const int timeoutS = positive(timeoutOption);
    bench::quietLogs();
    QTimer::singleShot(timeoutS * 1000, &app, [timeoutS] {
        bench::die(Program, QStringLiteral("not finished after %1 s").arg(timeoutS));
    });

    QTemporaryDir dir(QDir::tempPath() + QStringLiteral("/comfy-bench-scale-XXXXXX"));
    if (!dir.isValid())
        bench::die(Program, QStringLiteral("no temporary folder"));

    bench::Report report(
        QStringLiteral("scale"),
        QStringLiteral("Scale benchmark (comfy-bench-scale): %1 simulated ComfyUI nodes (in a "
                       "child process), %2 tasks, 127.0.0.1")
            .arg(nodeCount)
            .arg(tasks));

    // The nodes, in their own process.
    QProcess nodeHost;
    nodeHost.setProcessChannelMode(QProcess::ForwardedErrorChannel); // stdout: the node URLs
    nodeHost.start(QCoreApplication::applicationFilePath(),
                   {QStringLiteral("--serve-nodes"), QString::number(nodeCount),
                    QStringLiteral("--root"), dir.filePath(QStringLiteral("nodes"))});
    if (!nodeHost.waitForStarted(10000))
        bench::die(Program,
                   QStringLiteral("cannot start the node process: %1").arg(nodeHost.errorString()));
    QStringList urls;
    QElapsedTimer startup;
    startup.start();
    bool ready = false;
    while (!ready && startup.elapsed() < 120000) {
        if (!nodeHost.canReadLine() && !nodeHost.waitForReadyRead(1000)) {
            if (nodeHost.state() != QProcess::Running)
                bench::die(Program, QStringLiteral("the node process ended"));
            continue;
        }
        while (nodeHost.canReadLine()) {
            const QString line = QString::fromUtf8(nodeHost.readLine()).trimmed();
            if (line.startsWith(QLatin1String("NODE ")))
                urls.append(line.mid(5));
            else if (line == QLatin1String("READY"))
                ready = true;
        }
    }
    if (!ready || urls.size() != nodeCount)
        bench::die(Program, QStringLiteral("the node process started %1 of %2 nodes")
                                .arg(urls.size())
                                .arg(nodeCount));
    const qint64 nodePid = nodeHost.processId();

    // ---- 1. the run ------------------------------------------------------------------------
    const Settings runSettings =
        routerSettings(dir.filePath(QStringLiteral("run")), tasks, Settings{}.healthIntervalMs);
    auto router = std::make_unique<Router>(runSettings);
    if (!router->storageError().isEmpty())
        bench::die(Program, router->storageError());
    int healthChecks = 0;
    QObject::connect(&router->nodes(), &NodeRegistry::nodeChecked, &app,
                     [&healthChecks](const QUrl &, bool) { ++healthChecks; });
    addNodes(*router, urls);

    int finished = 0;
    int failed = 0;
    QString firstFailure;
    QObject::connect(&router->tasks(), &TaskQueue::taskFinished, &app, [&](const QString &id) {
        ++finished;
        const auto task = router->tasks().task(id);
        if (!task || task->status != TaskStatus::Done) {
            ++failed;
            if (firstFailure.isEmpty())
                firstFailure =
                    task ? taskStatusName(task->status) + QStringLiteral(": ") + task->error
                         : QStringLiteral("unknown task");
        }
    });
    const QJsonObject requests[2] = {bench::rawImageRequest(false, QStringLiteral("example.png")),
                                     bench::rawImageRequest(false, QStringLiteral("example2.png"))};

    bench::trimHeap();
    const qint64 rssBefore = bench::rssKiB();
    const int checksBefore = healthChecks;
    const double cpuBefore = bench::processCpuSeconds();
    const double nodeCpuBefore = bench::processCpuSeconds(nodePid);
    QElapsedTimer wall;
    wall.start();
    // Submitted in small chunks from the event loop, so that the nodes start while the rest
    // arrives and the router's connections are served meanwhile. The CPU time of the submits is
    // kept per 1000 tasks: it shows how their cost grows with the tasks already there.
    constexpr int Chunk = 20;
    constexpr int Bucket = 1000;
    int submitted = 0;
    double submitCpu = 0;
    qint64 submitNs = 0;
    QList<double> submitCpuPerBucket((tasks + Bucket - 1) / Bucket, 0.0);
    std::function<void()> submitChunk = [&] {
        QElapsedTimer t;
        t.start();
        for (int i = 0; i < Chunk && submitted < tasks; ++i, ++submitted) {
            const double cpu = bench::processCpuSeconds();
            const Result<QString> id = router->submit(requests[submitted % 2]);
            if (!id)
                bench::die(Program,
                           QStringLiteral("submit %1: %2").arg(submitted).arg(id.error().message));
            const double used = bench::processCpuSeconds() - cpu;
            submitCpu += used;
            submitCpuPerBucket[submitted / Bucket] += used;
        }
        submitNs += t.nsecsElapsed();
        if (submitted < tasks)
            QTimer::singleShot(0, &app, submitChunk);
    };
    QObject::connect(&router->tasks(), &TaskQueue::taskFinished, &app, [&] {
        if (finished % std::max(1, tasks / 10) == 0) // progress on stderr
            std::fprintf(stderr, "== %d of %d tasks finished after %.0f s (%d submitted)\n",
                         finished, tasks, double(wall.elapsed()) / 1000.0, submitted);
    });
    QTimer::singleShot(0, &app, submitChunk);
    if (!bench::waitFor([&] { return finished == tasks; }, timeoutS * 1000, 50))
        bench::die(Program, QStringLiteral("%1 of %2 tasks finished").arg(finished).arg(tasks));
    const double runSeconds = double(wall.nsecsElapsed()) / 1e9;
    const double runCpu = bench::processCpuSeconds() - cpuBefore;
    const double nodeCpu = bench::processCpuSeconds(nodePid) - nodeCpuBefore;
    const int runChecks = healthChecks - checksBefore;
    bench::trimHeap();
    const qint64 rssAfter = bench::rssKiB();
    const int done = router->tasks().count(TaskStatus::Done);
    const int inHistory = router->tasks().count(std::nullopt); // every task, all finished
    if (failed > 0 || done != tasks)
        bench::die(Program, QStringLiteral("%1 of %2 tasks did not end done (first: %3)")
                                .arg(tasks - done)
                                .arg(tasks)
                                .arg(firstFailure));
    // Tasks that needed more than one attempt (a node lost mid-task: handed to another node).
    int failovers = 0;
    QHash<QString, int> failoverReasons;
    for (const Task &task : router->tasks().list(TaskStatus::Done, 0, tasks)) {
        if (task.attempts <= 1)
            continue;
        ++failovers;
        for (QString reason : task.attemptErrors) {
            reason.replace(QRegularExpression(QStringLiteral("https?://[^ ]+")),
                           QStringLiteral("NODE"));
            ++failoverReasons[reason];
        }
    }
    qint64 tasksPerNodeMin = tasks;
    qint64 tasksPerNodeMax = 0;
    for (const NodeInfo &node : router->nodes().nodes()) {
        tasksPerNodeMin = std::min(tasksPerNodeMin, node.tasksRun);
        tasksPerNodeMax = std::max(tasksPerNodeMax, node.tasksRun);
    }
    router.reset();

    // ---- 2. health checks ------------------------------------------------------------------
    const Settings healthSettings =
        routerSettings(dir.filePath(QStringLiteral("health")), 10, healthIntervalMs);
    router = std::make_unique<Router>(healthSettings);
    if (!router->storageError().isEmpty())
        bench::die(Program, router->storageError());
    int checks = 0;
    int checkFailures = 0;
    QObject::connect(&router->nodes(), &NodeRegistry::nodeChecked, &app,
                     [&](const QUrl &, bool answered) {
                         ++checks;
                         checkFailures += answered ? 0 : 1;
                     });
    addNodes(*router, urls);
    bench::waitFor([] { return false; },
                   1000); // settle: the first checks and system_stats are done
    const int checksAtStart = checks;
    const int failuresAtStart = checkFailures;
    const double healthCpuBefore = bench::processCpuSeconds();
    const double healthNodeCpuBefore = bench::processCpuSeconds(nodePid);
    QElapsedTimer window;
    window.start();
    bench::waitFor([] { return false; }, healthSeconds * 1000, 100);
    const double windowSeconds = double(window.nsecsElapsed()) / 1e9;
    const double healthCpu = bench::processCpuSeconds() - healthCpuBefore;
    const double healthNodeCpu = bench::processCpuSeconds(nodePid) - healthNodeCpuBefore;
    const int windowChecks = checks - checksAtStart;
    const int windowFailures = checkFailures - failuresAtStart;
    const int idleAtEnd = idleCount(*router);
    router.reset();
    nodeHost.terminate();
    if (!nodeHost.waitForFinished(10000))
        nodeHost.kill();
    nodeHost.waitForFinished(5000);
    if (windowChecks == 0)
        bench::die(Program, QStringLiteral("no health check in the window"));

    // ---- figures -----------------------------------------------------------------------------
    const double usPerCheck = healthCpu / windowChecks * 1e6;
    const double expectedChecks = double(nodeCount) * windowSeconds * 1000.0 / healthIntervalMs;
    const int defaultIntervalMs = Settings{}.healthIntervalMs;
    const double coreShareDefault = usPerCheck * nodeCount / (defaultIntervalMs * 1000.0) * 100.0;
    const double cpuPerTaskUs = runCpu / tasks * 1e6;
    const double submitPerTaskUs = submitCpu / tasks * 1e6;
    const double checksPerTaskUs = runChecks * usPerCheck / tasks;
    const double restPerTaskUs = cpuPerTaskUs - submitPerTaskUs - checksPerTaskUs;
    const double firstBucketUs = submitCpuPerBucket.constFirst() / std::min(tasks, Bucket) * 1e6;
    const int lastBucketSize = tasks - (int(submitCpuPerBucket.size()) - 1) * Bucket;
    const double lastBucketUs = submitCpuPerBucket.constLast() / lastBucketSize * 1e6;
    const double kibPerTask = double(rssAfter - rssBefore) / inHistory;
    const QString fs = QString::fromLatin1(QStorageInfo(dir.path()).fileSystemType());
    QStringList reasons;
    for (auto it = failoverReasons.cbegin(); it != failoverReasons.cend(); ++it)
        reasons << QStringLiteral("%1 x \"%2\"").arg(it.value()).arg(it.key());

    report.line(QStringLiteral("router: this process (pid %1); %2 nodes: child process %3; "
                               "state (SQLite, result images) in %4 (%5); logs at production "
                               "level (formatted, not written)")
                    .arg(QCoreApplication::applicationPid())
                    .arg(nodeCount)
                    .arg(nodePid)
                    .arg(QDir::tempPath(), fs));
    report.line(QStringLiteral("graph: Raw LoadImage -> ImageInvert -> SaveImage (two pictures "
                               "alternating); node step delay 0 or 1 ms"));
    report.line(QStringLiteral("CPU time: getrusage(RUSAGE_SELF) of the router's process (every "
                               "thread); the nodes' process measured apart (/proc/PID/stat)"));
    report.line();
    report.line(QStringLiteral("Run: %1 tasks submitted at once (Router::submit, %2 per event-loop "
                               "turn; pending and history limits %1), health checks every %3 ms")
                    .arg(tasks)
                    .arg(Chunk)
                    .arg(runSettings.healthIntervalMs));
    report.field(QStringLiteral("  tasks done"),
                 QStringLiteral("%1 of %2 (checked: all done, %3 in the history)")
                     .arg(done)
                     .arg(tasks)
                     .arg(inHistory));
    report.field(QStringLiteral("  wall time"), QStringLiteral("%1 s (%2 tasks/s)")
                                                    .arg(runSeconds, 0, 'f', 1)
                                                    .arg(tasks / runSeconds, 0, 'f', 0));
    report.field(QStringLiteral("  tasks per node"),
                 QStringLiteral("%1 to %2").arg(tasksPerNodeMin).arg(tasksPerNodeMax));
    report.field(QStringLiteral("  tasks run more than once (failover)"),
                 failovers == 0 ? QStringLiteral("0")
                                : QStringLiteral("%1: %2").arg(failovers).arg(
                                      reasons.join(QStringLiteral("; "))));
    report.field(QStringLiteral("  router CPU time, whole run"),
                 QStringLiteral("%1 s").arg(runCpu, 0, 'f', 2));
    report.field(QStringLiteral("  router CPU time per task"),
                 QStringLiteral("%1 us").arg(cpuPerTaskUs, 0, 'f', 0));
    report.field(QStringLiteral("    of which Router::submit"),
                 QStringLiteral("%1 us (%2 s wall for all; first / last %3: %4 / %5 us each)")
                     .arg(submitPerTaskUs, 0, 'f', 0)
                     .arg(double(submitNs) / 1e9, 0, 'f', 1)
                     .arg(std::min(tasks, Bucket))
                     .arg(firstBucketUs, 0, 'f', 0)
                     .arg(lastBucketUs, 0, 'f', 0));
    report.field(
        QStringLiteral("    of which health checks (%1 during the run)").arg(runChecks),
        QStringLiteral("%1 us (at the cost measured below)").arg(checksPerTaskUs, 0, 'f', 0));
    report.field(QStringLiteral("    the rest: dispatch, run, results, storage"),
                 QStringLiteral("%1 us").arg(restPerTaskUs, 0, 'f', 0));
    report.field(QStringLiteral("  simulated nodes' CPU time (child process)"),
                 QStringLiteral("%1 s (%2 us per task)")
                     .arg(nodeCpu, 0, 'f', 2)
                     .arg(nodeCpu / tasks * 1e6, 0, 'f', 0));
    report.field(QStringLiteral("  router RSS before / after (heap trimmed)"),
                 QStringLiteral("%1 / %2").arg(mib(rssBefore), mib(rssAfter)));
    report.field(
        QStringLiteral("  memory per finished task in history"),
        QStringLiteral("%1 KiB (RSS growth / %2 tasks)").arg(kibPerTask, 0, 'f', 2).arg(inHistory));
    report.line();
    report.line(QStringLiteral("Health checks: a new router, the %1 nodes idle, checked every %2 "
                               "ms (GET /queue), %3 s window")
                    .arg(nodeCount)
                    .arg(healthIntervalMs)
                    .arg(windowSeconds, 0, 'f', 1));
    report.field(QStringLiteral("  checks answered"),
                 QStringLiteral("%1 (%2% of %3 nodes x %4 per s; %5 failed; %6 of %3 nodes idle "
                                "at the end)")
                     .arg(windowChecks)
                     .arg(100.0 * windowChecks / expectedChecks, 0, 'f', 0)
                     .arg(nodeCount)
                     .arg(1000.0 / healthIntervalMs, 0, 'f', 0)
                     .arg(windowFailures)
                     .arg(idleAtEnd));
    report.field(QStringLiteral("  router CPU time"),
                 QStringLiteral("%1 s (%2% of one core)")
                     .arg(healthCpu, 0, 'f', 2)
                     .arg(healthCpu / windowSeconds * 100.0, 0, 'f', 1));
    report.field(QStringLiteral("  health-check cost per node"),
                 QStringLiteral("%1 us CPU per check").arg(usPerCheck, 0, 'f', 1));
    report.field(QStringLiteral("  at the default interval (%1 ms)").arg(defaultIntervalMs),
                 QStringLiteral("%1% of one core for %2 nodes")
                     .arg(coreShareDefault, 0, 'f', 2)
                     .arg(nodeCount));
    report.field(QStringLiteral("  the nodes' CPU time answering them"),
                 QStringLiteral("%1 s (%2 us per check)")
                     .arg(healthNodeCpu, 0, 'f', 2)
                     .arg(healthNodeCpu / windowChecks * 1e6, 0, 'f', 1));
    report.line();
    report.field(
        QStringLiteral("log lines formatted and dropped; warnings"),
        QStringLiteral("%1; %2").arg(bench::droppedLogLines()).arg(bench::warningLogLines()));

    QJsonObject reasonsJson;
    for (auto it = failoverReasons.cbegin(); it != failoverReasons.cend(); ++it)
        reasonsJson.insert(it.key(), it.value());
    QJsonObject &json = report.json();
    json.insert(QStringLiteral("nodes"), nodeCount);
    json.insert(QStringLiteral("tasks"), tasks);
    json.insert(QStringLiteral("state_filesystem"), fs);
    json.insert(QStringLiteral("run"),
                QJsonObject{{QStringLiteral("tasks_done"), done},
                            {QStringLiteral("history_size"), inHistory},
                            {QStringLiteral("all_done"), done == tasks},
                            {QStringLiteral("wall_seconds"), runSeconds},
                            {QStringLiteral("tasks_per_second"), tasks / runSeconds},
                            {QStringLiteral("tasks_per_node_min"), tasksPerNodeMin},
                            {QStringLiteral("tasks_per_node_max"), tasksPerNodeMax},
                            {QStringLiteral("failovers"), failovers},
                            {QStringLiteral("failover_reasons"), reasonsJson},
                            {QStringLiteral("router_cpu_seconds"), runCpu},
                            {QStringLiteral("router_cpu_us_per_task"), cpuPerTaskUs},
                            {QStringLiteral("submit_cpu_us_per_task"), submitPerTaskUs},
                            {QStringLiteral("submit_cpu_us_first_1000"), firstBucketUs},
                            {QStringLiteral("submit_cpu_us_last_1000"), lastBucketUs},
                            {QStringLiteral("submit_wall_seconds"), double(submitNs) / 1e9},
                            {QStringLiteral("health_checks_during_run"), runChecks},
                            {QStringLiteral("health_check_cpu_us_per_task"), checksPerTaskUs},
                            {QStringLiteral("rest_cpu_us_per_task"), restPerTaskUs},
                            {QStringLiteral("nodes_cpu_seconds"), nodeCpu},
                            {QStringLiteral("rss_before_kib"), rssBefore},
                            {QStringLiteral("rss_after_kib"), rssAfter},
                            {QStringLiteral("kib_per_finished_task"), kibPerTask}});
    json.insert(QStringLiteral("health"),
                QJsonObject{{QStringLiteral("interval_ms"), healthIntervalMs},
                            {QStringLiteral("window_seconds"), windowSeconds},
                            {QStringLiteral("checks"), windowChecks},
                            {QStringLiteral("failed_checks"), windowFailures},
                            {QStringLiteral("router_cpu_seconds"), healthCpu},
                            {QStringLiteral("cpu_us_per_check"), usPerCheck},
                            {QStringLiteral("core_percent_at_default_interval"), coreShareDefault},
                            {QStringLiteral("nodes_cpu_seconds"), healthNodeCpu}});
    return report.write(parser.value(outOption)) ? 0 : 1;
}
