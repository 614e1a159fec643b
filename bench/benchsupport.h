#pragma once

// What the scheduling benchmarks (comfy-bench-latency, -scale, -placement) share: the report
// (printed and written to bench/results/<name>.txt and .json, with the machine it ran on),
// percentiles, the process's CPU time and memory, quiet logging, and folders for simulated
// ComfyUI nodes.

#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>

#include <functional>

namespace bench {

// A benchmark's report: every line is printed at once (stdout) and kept; write() stores the
// lines in <dir>/<name>.txt and the figures (plus the machine) in <dir>/<name>.json.
class Report {
public:
    Report(const QString &name, const QString &title);
    void line(const QString &text = {});
    // "label ........ value" with the label padded to a column.
    void field(const QString &label, const QString &value);
    QJsonObject &json() { return m_json; }
    // Writes both files; false (with a message on stderr) when it cannot.
    bool write(const QString &dir) const;

private:
    QString m_name;
    QStringList m_lines;
    QJsonObject m_json;
};

// Where the figures go: --out, else the source tree's bench/results.
QString defaultResultsDir();

// Date (UTC), commit, CPU, cores, memory, OS, kernel and Qt of this run, as one line and as
// JSON ("machine", "date", "commit").
QJsonObject machineJson();
QString machineLine(const QJsonObject &machine);

// The p-th percentile (0..100, nearest rank) of nanosecond samples, in microseconds.
double percentileUs(QList<qint64> samplesNs, double p);

// Runs the event loop until done() or the deadline; false on the deadline.
bool waitFor(const std::function<bool()> &done, int timeoutMs, int pollMs = 20);
// "median 123.4 us, p99 456.7 us, max 789.0 us" and its JSON form.
QString summaryUs(const QList<qint64> &samplesNs);
QJsonObject summaryJson(const QList<qint64> &samplesNs);

// CPU time (user + system) of this process so far, in seconds (getrusage(RUSAGE_SELF)).
double processCpuSeconds();
// CPU time (user + system) of another process so far, in seconds (/proc/PID/stat), -1 if gone.
double processCpuSeconds(qint64 pid);
// Resident memory of this process in KiB (VmRSS), -1 when unreadable.
qint64 rssKiB();
// Gives freed heap back to the system (glibc malloc_trim), so that RSS shows what is in use.
void trimHeap();
// Raises the soft limit of open files to the hard limit (hundreds of nodes, their sockets).
void raiseFileLimit();

// Logs as in production (COMFY_ROUTER__ENV=prod: no debug lines) but not written anywhere:
// a benchmark measures the router, not the terminal. Warnings and worse still go to stderr.
void quietLogs();
// Log lines dropped and warnings passed on since quietLogs().
qint64 droppedLogLines();
qint64 warningLogLines();

// A ComfyUI folder for a simulated node: input/example.png and example2.png (two pictures), and
// an (empty) file per checkpoint in models/checkpoints/.
void prepareNodeRoot(const QString &root, const QStringList &checkpoints = {});

// The Raw request of LoadImage(image) -> ImageInvert -> SaveImage (or SaveImageWebsocket, whose
// images come over the websocket, not from GET /view). A node does not run a graph again that
// equals its previous one (ComfyUI's cache): alternate example.png and example2.png.
QJsonObject rawImageRequest(bool websocketOutput = false,
                            const QString &image = QStringLiteral("example.png"));
// The Raw request of a text-to-image graph: CheckpointLoaderSimple(checkpoint) -> CLIPTextEncode
// x2, EmptyLatentImage(64x64) -> KSampler(steps, seed) -> VAEDecode -> SaveImage.
QJsonObject rawSamplerRequest(const QString &checkpoint, int steps, qint64 seed);

[[noreturn]] void die(const QString &program, const QString &message, int code = 1);

} // namespace bench
