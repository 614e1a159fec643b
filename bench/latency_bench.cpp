// comfy-bench-latency: the router's own latency around a task, against a simulated ComfyUI node
// on 127.0.0.1 in the same process (issue #6):
//
//   dispatch latency:   the task is queued while a node is idle -> the node has received the
//                       whole POST /prompt request (SimulatedNode::promptRequestArrived, before
//                       the node validates and queues the prompt: that is the node's time);
//   completion latency: the node has sent the prompt's last message (execution_success, status,
//                       executing null: SimulatedNode::promptEndSent) -> the task is done
//                       (TaskQueue::taskFinished), its outputs fetched and stored.
//
// Tasks run one after another (the node is idle whenever a task arrives), after a warm-up;
// median and p99 of each, target under 1 ms. Two graphs: LoadImage -> ImageInvert -> SaveImage
// (the output is fetched with GET /view) and -> SaveImageWebsocket (it comes in the websocket).
//
//   comfy-bench-latency [--tasks 2000] [--warmup 50] [--step-delay-ms 1] [--out DIR] [--strict]
//
// The router runs in the main thread, the simulated node in a thread of its own (a real node is
// another machine: its work must not queue behind the router's). Timestamps come from one
// QElapsedTimer (monotonic, ns): the submit around Router::submit, the node's in its thread by
// direct connections to the signals it emits at the moment for this, taskFinished in the
// router's thread. Dispatch is measured from the call of Router::submit
// (request checks, graph, SQLite insert: an upper bound) and, as a lower bound, from its return
// (the task is queued and dispatched inside it). Both latencies include the loopback network
// and the node's answers (POST /prompt, GET /view; the node's websocket is opened by the
// warm-up and then kept, as in production).
#include "benchsupport.h"
#include "nodethread.h"
#include "router/router.h"
#include "simulatednode.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QHash>
#include <QJsonArray>
#include <QMutex>
#include <QStorageInfo>
#include <QTemporaryDir>
#include <QTimer>

#include <memory>

using namespace comfy;

namespace {

const QString Program = QStringLiteral("comfy-bench-latency");
constexpr double TargetUs = 1000.0;

struct Sample {
    qint64 submitCalled = -1;
    qint64 submitReturned = -1;
    qint64 nodeReceived = -1; // POST /prompt accepted by the node
    qint64 nodeFinished = -1; // the node sent the prompt's last message
    qint64 done = -1;         // taskFinished
};

struct Outcome {
    QList<qint64> submitNs;
    QList<qint64> dispatchUpperNs; // submit called -> POST /prompt
    QList<qint64> dispatchLowerNs; // submit returned -> POST /prompt
    QList<qint64> completionNs;    // node's last message -> done
    double wallSeconds = 0;
};

class LatencyRun : public QObject {
public:
    LatencyRun(const QString &baseDir, bool websocketOutput, int tasks, int warmup, int stepDelayMs)
        : m_dir(baseDir + QStringLiteral("/comfy-bench-latency-XXXXXX"))
        , m_requests{bench::rawImageRequest(websocketOutput, QStringLiteral("example.png")),
                     bench::rawImageRequest(websocketOutput, QStringLiteral("example2.png"))}
        , m_total(tasks + warmup)
        , m_warmup(warmup)
    {
        if (!m_dir.isValid())
            bench::die(Program, QStringLiteral("no temporary folder"));
        m_clock.start();
        const QString root = m_dir.filePath(QStringLiteral("node"));
        bench::prepareNodeRoot(root);
        simnode::SimulatedNode *node = m_nodes.add(root);
        m_nodes.run([this, node, stepDelayMs] {
            node->setStepDelayMs(stepDelayMs);
            m_nodeUrl = node->url();
            // In the node's thread, the moment it emits (right after it acted).
            // Tasks run one at a time: the request that arrived is the next prompt received.
            QObject::connect(
                node, &simnode::SimulatedNode::promptRequestArrived, node,
                [this] { m_lastArrival = m_clock.nsecsElapsed(); }, Qt::DirectConnection);
            QObject::connect(
                node, &simnode::SimulatedNode::promptReceived, node,
                [this](const QString &promptId, const QString &) {
                    const QMutexLocker lock(&m_mutex);
                    m_received.insert(promptId, m_lastArrival);
                },
                Qt::DirectConnection);
            QObject::connect(
                node, &simnode::SimulatedNode::promptEndSent, node,
                [this](const QString &promptId) {
                    const qint64 now = m_clock.nsecsElapsed();
                    const QMutexLocker lock(&m_mutex);
                    m_finished.insert(promptId, now);
                },
                Qt::DirectConnection);
        });

        Settings settings;
        settings.dataDir = m_dir.filePath(QStringLiteral("data"));
        settings.downloadCacheDir = m_dir.filePath(QStringLiteral("cache"));
        settings.downloadRootDir = m_dir.filePath(QStringLiteral("root"));
        settings.downloadRecordPath = m_dir.filePath(QStringLiteral("record.json"));
        settings.historyLimit = m_total;
        settings.env = QStringLiteral("prod");
        m_router = std::make_unique<Router>(settings);
        if (!m_router->storageError().isEmpty())
            bench::die(Program, m_router->storageError());

        connect(&m_router->tasks(), &TaskQueue::taskFinished, this, [this](const QString &id) {
            const qint64 now = m_clock.nsecsElapsed();
            auto it = m_samples.find(id);
            if (it == m_samples.end())
                return;
            it->done = now;
            const auto task = m_router->tasks().task(id);
            if (!task || task->status != TaskStatus::Done || task->images.size() != 1)
                bench::die(Program,
                           QStringLiteral("task %1 ended %2 with %3 images: %4")
                               .arg(id, task ? taskStatusName(task->status) : QStringLiteral("?"))
                               .arg(task ? task->images.size() : 0)
                               .arg(task ? task->error : QString()));
            QTimer::singleShot(0, this, &LatencyRun::next);
        });
        connect(&m_router->nodes(), &NodeRegistry::nodeAvailable, this, [this] {
            if (m_waitingForNode) {
                m_waitingForNode = false;
                QTimer::singleShot(0, this, &LatencyRun::next);
            }
        });
        m_router->nodes().addNode(m_nodeUrl.toString(), {}, true);
    }

    Outcome run()
    {
        QTimer::singleShot(0, this, &LatencyRun::next);
        m_loop.exec();
        Outcome outcome;
        outcome.wallSeconds = double(m_clock.nsecsElapsed() - m_startNs) / 1e9;
        for (int i = m_warmup; i < m_order.size(); ++i) {
            Sample s = m_samples.value(m_order.at(i));
            const auto task = m_router->tasks().task(m_order.at(i));
            const QString promptId = task ? task->promptId : QString();
            {
                const QMutexLocker lock(&m_mutex);
                s.nodeReceived = m_received.value(promptId, -1);
                s.nodeFinished = m_finished.value(promptId, -1);
            }
            if (s.nodeReceived < 0 || s.nodeFinished < 0 || s.done < 0)
                bench::die(Program, QStringLiteral("task %1 lacks a timestamp").arg(m_order.at(i)));
            outcome.submitNs.append(s.submitReturned - s.submitCalled);
            outcome.dispatchUpperNs.append(s.nodeReceived - s.submitCalled);
            outcome.dispatchLowerNs.append(s.nodeReceived - s.submitReturned);
            outcome.completionNs.append(s.done - s.nodeFinished);
        }
        return outcome;
    }

private:
    bool nodeIdle() const
    {
        const QList<NodeInfo> nodes = m_router->nodes().nodes();
        return !nodes.isEmpty() && nodes.first().state == NodeState::Idle;
    }

    void next()
    {
        if (m_order.size() == m_total) {
            m_loop.quit();
            return;
        }
        if (!nodeIdle()) { // not yet online, or not yet released after the previous task
            m_waitingForNode = true;
            return;
        }
        if (m_order.size() == m_warmup)
            m_startNs = m_clock.nsecsElapsed();
        Sample sample;
        sample.submitCalled = m_clock.nsecsElapsed();
        // Alternate pictures: a node does not run a graph again that equals its previous one.
        const Result<QString> id = m_router->submit(m_requests[m_order.size() % 2]);
        sample.submitReturned = m_clock.nsecsElapsed();
        if (!id)
            bench::die(Program, QStringLiteral("submit: %1").arg(id.error().message));
        // The node cannot have answered yet: the POST needs the event loop.
        m_samples.insert(id.value(), sample);
        m_order.append(id.value());
    }

    QTemporaryDir m_dir;
    QJsonObject m_requests[2];
    int m_total;
    int m_warmup;
    QElapsedTimer m_clock;
    qint64 m_lastArrival = -1;         // the node's thread only
    QMutex m_mutex;                    // guards the node's timestamps:
    QHash<QString, qint64> m_received; // prompt id -> POST /prompt accepted
    QHash<QString, qint64> m_finished; // prompt id -> the prompt's last message sent
    bench::NodeThread m_nodes;         // after what its slots use: it ends before them
    QUrl m_nodeUrl;
    std::unique_ptr<Router> m_router;
    qint64 m_startNs = 0;
    QEventLoop m_loop;
    bool m_waitingForNode = false;
    QHash<QString, Sample> m_samples;
    QStringList m_order;
};

QString verdict(const QList<qint64> &samples)
{
    const double median = bench::percentileUs(samples, 50);
    const double p99 = bench::percentileUs(samples, 99);
    return median < TargetUs && p99 < TargetUs ? QStringLiteral("PASS") : QStringLiteral("FAIL");
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(Program);
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Dispatch and completion latency of the router against a simulated ComfyUI node on "
        "127.0.0.1 (median and p99, target under 1 ms)."));
    parser.addHelpOption();
    const QCommandLineOption tasksOption(QStringLiteral("tasks"),
                                         QStringLiteral("Measured tasks per graph."),
                                         QStringLiteral("n"), QStringLiteral("2000"));
    const QCommandLineOption warmupOption(QStringLiteral("warmup"),
                                          QStringLiteral("Tasks run first and not counted."),
                                          QStringLiteral("n"), QStringLiteral("50"));
    const QCommandLineOption stepOption(QStringLiteral("step-delay-ms"),
                                        QStringLiteral("Duration of a simulated node execution."),
                                        QStringLiteral("ms"), QStringLiteral("1"));
    const QCommandLineOption outOption(QStringLiteral("out"),
                                       QStringLiteral("Folder of the results."),
                                       QStringLiteral("dir"), bench::defaultResultsDir());
    const QCommandLineOption strictOption(QStringLiteral("strict"),
                                          QStringLiteral("Exit with 3 when a target is missed."));
    parser.addOptions({tasksOption, warmupOption, stepOption, outOption, strictOption});
    parser.process(app);
    bool ok1 = false, ok2 = false, ok3 = false;
    const int tasks = parser.value(tasksOption).toInt(&ok1);
    const int warmup = parser.value(warmupOption).toInt(&ok2);
    const int stepDelay = parser.value(stepOption).toInt(&ok3);
    if (!ok1 || !ok2 || !ok3 || tasks < 1 || warmup < 0 || stepDelay < 0)
        bench::die(Program, QStringLiteral("--tasks, --warmup and --step-delay-ms are counts"), 2);

    bench::quietLogs();
    bench::Report report(
        QStringLiteral("latency"),
        QStringLiteral("Latency benchmark (comfy-bench-latency): router + one simulated "
                       "ComfyUI node in one process, 127.0.0.1"));
    report.line(
        QStringLiteral("%1 tasks per graph one after another (after %2 warm-up tasks), node step "
                       "delay %3 ms, logs at production level (formatted, not written)")
            .arg(tasks)
            .arg(warmup)
            .arg(stepDelay));
    report.line(QStringLiteral(
        "dispatch: task queued on an idle node -> the node received the whole POST "
        "/prompt (from Router::submit called = upper bound; returned = lower bound)"));
    report.line(QStringLiteral("completion: the node sent the prompt's last message -> task done "
                               "(outputs fetched; images and state stored)"));
    report.line(QStringLiteral("the node runs in a thread of its own; both latencies include "
                               "loopback and the node's answers"));

    // Where the router keeps its state (SQLite with the result images, the download record): the
    // disk of TMPDIR, as deployed; then memory (tmpfs), for comparison.
    struct Storage {
        QString key;
        QString path;
    };
    QList<Storage> storages{{QStringLiteral("disk"), QDir::tempPath()}};
    if (QFileInfo(QStringLiteral("/dev/shm")).isWritable() &&
        QStorageInfo(QStringLiteral("/dev/shm")).fileSystemType() == "tmpfs" &&
        QStorageInfo(QDir::tempPath()).fileSystemType() != "tmpfs")
        storages.append({QStringLiteral("tmpfs"), QStringLiteral("/dev/shm")});

    bool allPass = true; // the targets count on the disk, as deployed
    QJsonObject runs;
    const struct {
        const char *key;
        const char *label;
        bool websocket;
    } cases[] = {
        {"save_image", "LoadImage -> ImageInvert -> SaveImage (output by GET /view)", false},
        {"save_image_websocket",
         "LoadImage -> ImageInvert -> SaveImageWebsocket (output in the websocket)", true}};
    for (const Storage &storage : std::as_const(storages)) {
        const QString fs = QString::fromLatin1(QStorageInfo(storage.path).fileSystemType());
        for (const auto &c : cases) {
            Outcome outcome;
            {
                LatencyRun run(storage.path, c.websocket, tasks, warmup, stepDelay);
                outcome = run.run();
            }
            const QString dispatchVerdict = verdict(outcome.dispatchUpperNs);
            const QString completionVerdict = verdict(outcome.completionNs);
            if (storage.key == QLatin1String("disk"))
                allPass = allPass && dispatchVerdict == QLatin1String("PASS") &&
                          completionVerdict == QLatin1String("PASS");
            report.line();
            report.line(QStringLiteral("%1; router state in %2 (%3)")
                            .arg(QLatin1String(c.label), storage.path, fs));
            report.field(QStringLiteral("  Router::submit (checks, graph, SQLite)"),
                         bench::summaryUs(outcome.submitNs));
            report.field(QStringLiteral("  dispatch, from submit called"),
                         bench::summaryUs(outcome.dispatchUpperNs));
            report.field(QStringLiteral("  dispatch, from submit returned"),
                         bench::summaryUs(outcome.dispatchLowerNs));
            report.field(QStringLiteral("  completion"), bench::summaryUs(outcome.completionNs));
            report.field(QStringLiteral("  wall time"),
                         QStringLiteral("%1 s for %2 tasks (%3 tasks/s)")
                             .arg(outcome.wallSeconds, 0, 'f', 2)
                             .arg(tasks)
                             .arg(double(tasks) / outcome.wallSeconds, 0, 'f', 0));
            report.field(QStringLiteral("  target: dispatch under 1 ms (median, p99)"),
                         QStringLiteral("%1 (%2 / %3 us)")
                             .arg(dispatchVerdict)
                             .arg(bench::percentileUs(outcome.dispatchUpperNs, 50), 0, 'f', 1)
                             .arg(bench::percentileUs(outcome.dispatchUpperNs, 99), 0, 'f', 1));
            report.field(QStringLiteral("  target: completion under 1 ms (median, p99)"),
                         QStringLiteral("%1 (%2 / %3 us)")
                             .arg(completionVerdict)
                             .arg(bench::percentileUs(outcome.completionNs, 50), 0, 'f', 1)
                             .arg(bench::percentileUs(outcome.completionNs, 99), 0, 'f', 1));
            runs.insert(
                storage.key + QLatin1Char('_') + QLatin1String(c.key),
                QJsonObject{
                    {QStringLiteral("graph"), QLatin1String(c.label)},
                    {QStringLiteral("storage"), storage.path},
                    {QStringLiteral("filesystem"), fs},
                    {QStringLiteral("submit"), bench::summaryJson(outcome.submitNs)},
                    {QStringLiteral("dispatch_from_submit_called"),
                     bench::summaryJson(outcome.dispatchUpperNs)},
                    {QStringLiteral("dispatch_from_submit_returned"),
                     bench::summaryJson(outcome.dispatchLowerNs)},
                    {QStringLiteral("completion"), bench::summaryJson(outcome.completionNs)},
                    {QStringLiteral("wall_seconds"), outcome.wallSeconds},
                    {QStringLiteral("dispatch_under_1ms"),
                     dispatchVerdict == QLatin1String("PASS")},
                    {QStringLiteral("completion_under_1ms"),
                     completionVerdict == QLatin1String("PASS")}});
        }
    }
    report.line();
    report.field(
        QStringLiteral("log lines formatted and dropped; warnings"),
        QStringLiteral("%1; %2").arg(bench::droppedLogLines()).arg(bench::warningLogLines()));
    report.json().insert(QStringLiteral("tasks_per_graph"), tasks);
    report.json().insert(QStringLiteral("warmup"), warmup);
    report.json().insert(QStringLiteral("step_delay_ms"), stepDelay);
    report.json().insert(QStringLiteral("runs"), runs);
    report.json().insert(QStringLiteral("targets_met_on_disk"), allPass);
    if (!report.write(parser.value(outOption)))
        return 1;
    return parser.isSet(strictOption) && !allPass ? 3 : 0;
}
