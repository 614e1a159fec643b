#include "benchsupport.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QFileInfo>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <QProcess>
#include <QSaveFile>
#include <QSysInfo>
#include <QThread>
#include <QTimer>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#ifndef COMFY_SOURCE_DIR
#define COMFY_SOURCE_DIR "."
#endif

namespace bench {

namespace {

constexpr int LabelWidth = 50;

QString firstMatch(const QString &path, const QString &prefix)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly | QIODevice::Text))
        return {};
    const QStringList lines = QString::fromUtf8(file.readAll()).split(QLatin1Char('\n'));
    for (const QString &line : lines) {
        if (line.startsWith(prefix))
            return line.mid(prefix.size()).trimmed();
    }
    return {};
}

QString git(const QStringList &args)
{
    QProcess process;
    process.start(QStringLiteral("git"),
                  QStringList{QStringLiteral("-C"), QStringLiteral(COMFY_SOURCE_DIR)} + args);
    if (!process.waitForFinished(10000) || process.exitCode() != 0)
        return {};
    return QString::fromUtf8(process.readAllStandardOutput()).trimmed();
}

std::atomic<qint64> g_dropped{0};
std::atomic<qint64> g_warnings{0};

void quietHandler(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    if (type == QtDebugMsg || type == QtInfoMsg) {
        ++g_dropped;
        return;
    }
    ++g_warnings;
    std::fprintf(stderr, "%s: %s\n", context.category ? context.category : "default",
                 qPrintable(message));
    if (type == QtFatalMsg)
        std::abort();
}

} // namespace

Report::Report(const QString &name, const QString &title)
    : m_name(name)
{
    m_json.insert(QStringLiteral("benchmark"), name);
    m_json.insert(QStringLiteral("title"), title);
    const QJsonObject machine = machineJson();
    for (auto it = machine.begin(); it != machine.end(); ++it)
        m_json.insert(it.key(), it.value());
    line(title);
    line(machineLine(machine));
    line();
}

void Report::line(const QString &text)
{
    m_lines.append(text);
    std::printf("%s\n", qPrintable(text));
    std::fflush(stdout);
}

void Report::field(const QString &label, const QString &value)
{
    line(label.leftJustified(LabelWidth) + QLatin1Char(' ') + value);
}

bool Report::write(const QString &dir) const
{
    if (!QDir().mkpath(dir)) {
        std::fprintf(stderr, "cannot create %s\n", qPrintable(dir));
        return false;
    }
    const QString base = QDir(dir).filePath(m_name);
    QSaveFile text(base + QStringLiteral(".txt"));
    QSaveFile json(base + QStringLiteral(".json"));
    const bool ok =
        text.open(QIODevice::WriteOnly) &&
        text.write((m_lines.join(QLatin1Char('\n')) + QLatin1Char('\n')).toUtf8()) >= 0 &&
        text.commit() && json.open(QIODevice::WriteOnly) &&
        json.write(QJsonDocument(m_json).toJson(QJsonDocument::Indented)) >= 0 && json.commit();
    if (!ok) {
        std::fprintf(stderr, "cannot write %s.txt/.json\n", qPrintable(base));
        return false;
    }
    std::fprintf(stderr, "== written %s.txt and %s.json\n", qPrintable(base), qPrintable(base));
    return true;
}

QString defaultResultsDir()
{
    return QStringLiteral(COMFY_SOURCE_DIR "/bench/results");
}

QJsonObject machineJson()
{
    const QString cpu = firstMatch(QStringLiteral("/proc/cpuinfo"), QStringLiteral("model name"))
                            .section(QLatin1Char(':'), 1)
                            .trimmed();
    const qint64 memKiB = firstMatch(QStringLiteral("/proc/meminfo"), QStringLiteral("MemTotal:"))
                              .section(QLatin1Char(' '), 0, 0)
                              .toLongLong();
    QString os = firstMatch(QStringLiteral("/etc/os-release"), QStringLiteral("PRETTY_NAME="));
    os.remove(QLatin1Char('"'));
    if (os.isEmpty())
        os = QSysInfo::prettyProductName();
    QString commit =
        git({QStringLiteral("rev-parse"), QStringLiteral("--short"), QStringLiteral("HEAD")});
    if (commit.isEmpty())
        commit = QStringLiteral("unknown");
    QStringList modified;
    for (const char *dir : {"core", "server", "tools", "bench"}) {
        const QString name = QLatin1String(dir);
        if (!git({QStringLiteral("status"), QStringLiteral("--porcelain"), QStringLiteral("--"),
                  name})
                 .isEmpty())
            modified << name + QLatin1Char('/');
    }
    if (!modified.isEmpty())
        commit += QStringLiteral(" (modified: %1)").arg(modified.join(QStringLiteral(", ")));
    return QJsonObject{
        {QStringLiteral("date"), QDateTime::currentDateTimeUtc().toString(Qt::ISODate)},
        {QStringLiteral("commit"), commit},
        {QStringLiteral("machine"),
         QJsonObject{{QStringLiteral("cpu"), cpu},
                     {QStringLiteral("cores"), QThread::idealThreadCount()},
                     {QStringLiteral("mem_gib"), qRound64(double(memKiB) / (1024.0 * 1024.0))},
                     {QStringLiteral("os"), os},
                     {QStringLiteral("kernel"), QSysInfo::kernelVersion()},
                     {QStringLiteral("qt"), QString::fromLatin1(qVersion())}}}};
}

QString machineLine(const QJsonObject &json)
{
    const QJsonObject machine = json.value(QLatin1String("machine")).toObject();
    return QStringLiteral("date %1; commit %2; %3, %4 cores, %5 GiB RAM; %6, Linux %7; Qt %8")
        .arg(json.value(QLatin1String("date")).toString(),
             json.value(QLatin1String("commit")).toString(),
             machine.value(QLatin1String("cpu")).toString())
        .arg(machine.value(QLatin1String("cores")).toInt())
        .arg(machine.value(QLatin1String("mem_gib")).toInteger())
        .arg(machine.value(QLatin1String("os")).toString(),
             machine.value(QLatin1String("kernel")).toString(),
             machine.value(QLatin1String("qt")).toString());
}

bool waitFor(const std::function<bool()> &done, int timeoutMs, int pollMs)
{
    QElapsedTimer timer;
    timer.start();
    while (!done()) {
        if (timer.elapsed() > timeoutMs)
            return false;
        QEventLoop loop;
        QTimer::singleShot(pollMs, &loop, &QEventLoop::quit);
        loop.exec();
    }
    return true;
}

double percentileUs(QList<qint64> samplesNs, double p)
{
    if (samplesNs.isEmpty())
        return 0;
    std::sort(samplesNs.begin(), samplesNs.end());
    const auto n = samplesNs.size();
    const auto rank = qBound<qsizetype>(1, qsizetype(std::ceil(p / 100.0 * double(n))), n);
    return double(samplesNs.at(rank - 1)) / 1000.0;
}

QString summaryUs(const QList<qint64> &samplesNs)
{
    return QStringLiteral("median %1 us, p99 %2 us, max %3 us")
        .arg(percentileUs(samplesNs, 50), 0, 'f', 1)
        .arg(percentileUs(samplesNs, 99), 0, 'f', 1)
        .arg(percentileUs(samplesNs, 100), 0, 'f', 1);
}

QJsonObject summaryJson(const QList<qint64> &samplesNs)
{
    auto round1 = [](double v) { return std::round(v * 10.0) / 10.0; };
    return QJsonObject{{QStringLiteral("samples"), samplesNs.size()},
                       {QStringLiteral("median_us"), round1(percentileUs(samplesNs, 50))},
                       {QStringLiteral("p99_us"), round1(percentileUs(samplesNs, 99))},
                       {QStringLiteral("max_us"), round1(percentileUs(samplesNs, 100))},
                       {QStringLiteral("min_us"), round1(percentileUs(samplesNs, 0))}};
}

double processCpuSeconds()
{
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

double processCpuSeconds(qint64 pid)
{
    QFile file(QStringLiteral("/proc/%1/stat").arg(pid));
    if (!file.open(QIODevice::ReadOnly))
        return -1;
    const QByteArray stat = file.readAll();
    // "pid (comm) state ..." : comm may hold spaces, the fields after ')' do not.
    const QList<QByteArray> fields = stat.mid(stat.lastIndexOf(')') + 2).split(' ');
    if (fields.size() < 13)
        return -1;
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the state (index 0).
    const double ticks = double(sysconf(_SC_CLK_TCK));
    return (fields.at(11).toDouble() + fields.at(12).toDouble()) / ticks;
}

qint64 rssKiB()
{
    const QString value = firstMatch(QStringLiteral("/proc/self/status"), QStringLiteral("VmRSS:"));
    bool ok = false;
    const qint64 kib = value.section(QLatin1Char(' '), 0, 0).toLongLong(&ok);
    return ok ? kib : -1;
}

void trimHeap()
{
    malloc_trim(0);
}

void raiseFileLimit()
{
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
    }
}

void quietLogs()
{
    QLoggingCategory::setFilterRules(QStringLiteral("*.debug=false"));
    qInstallMessageHandler(quietHandler);
}

qint64 droppedLogLines()
{
    return g_dropped.load();
}

qint64 warningLogLines()
{
    return g_warnings.load();
}

void prepareNodeRoot(const QString &root, const QStringList &checkpoints)
{
    QDir().mkpath(root + QStringLiteral("/input"));
    QDir().mkpath(root + QStringLiteral("/models/checkpoints"));
    for (const QString &name : {QStringLiteral("example.png"), QStringLiteral("example2.png")}) {
        QImage image(32, 24, QImage::Format_RGB32);
        image.fill(name == QLatin1String("example.png") ? qRgb(10, 200, 30) : qRgb(200, 10, 30));
        if (!image.save(root + QStringLiteral("/input/") + name, "PNG"))
            die(QCoreApplication::applicationName(),
                QStringLiteral("cannot write %1/input/%2").arg(root, name));
    }
    for (const QString &name : checkpoints) {
        QFile file(root + QStringLiteral("/models/checkpoints/") + name);
        if (!file.open(QIODevice::WriteOnly))
            die(QCoreApplication::applicationName(),
                QStringLiteral("cannot write %1").arg(file.fileName()));
    }
}

namespace {
QJsonObject graphNode(const QString &classType, const QJsonObject &inputs)
{
    return {{QStringLiteral("class_type"), classType}, {QStringLiteral("inputs"), inputs}};
}
QJsonArray link(const char *id, int output = 0)
{
    return {QString::fromLatin1(id), output};
}
QJsonObject rawRequest(const QJsonObject &graph)
{
    return {{QStringLiteral("type"), QStringLiteral("Raw")},
            {QStringLiteral("params"), QJsonObject{{QStringLiteral("prompt"), graph}}}};
}
} // namespace

QJsonObject rawImageRequest(bool websocketOutput, const QString &image)
{
    QJsonObject save{{QStringLiteral("images"), link("2")}};
    if (!websocketOutput)
        save.insert(QStringLiteral("filename_prefix"), QStringLiteral("bench"));
    return rawRequest(
        {{QStringLiteral("1"),
          graphNode(QStringLiteral("LoadImage"), {{QStringLiteral("image"), image}})},
         {QStringLiteral("2"),
          graphNode(QStringLiteral("ImageInvert"), {{QStringLiteral("image"), link("1")}})},
         {QStringLiteral("3"), graphNode(websocketOutput ? QStringLiteral("SaveImageWebsocket")
                                                         : QStringLiteral("SaveImage"),
                                         save)}});
}

QJsonObject rawSamplerRequest(const QString &checkpoint, int steps, qint64 seed)
{
    return rawRequest(
        {{QStringLiteral("4"), graphNode(QStringLiteral("CheckpointLoaderSimple"),
                                         {{QStringLiteral("ckpt_name"), checkpoint}})},
         {QStringLiteral("6"), graphNode(QStringLiteral("CLIPTextEncode"),
                                         {{QStringLiteral("text"), QStringLiteral("a red fox")},
                                          {QStringLiteral("clip"), link("4", 1)}})},
         {QStringLiteral("7"), graphNode(QStringLiteral("CLIPTextEncode"),
                                         {{QStringLiteral("text"), QStringLiteral("blurry")},
                                          {QStringLiteral("clip"), link("4", 1)}})},
         {QStringLiteral("5"),
          graphNode(QStringLiteral("EmptyLatentImage"), {{QStringLiteral("width"), 64},
                                                         {QStringLiteral("height"), 64},
                                                         {QStringLiteral("batch_size"), 1}})},
         {QStringLiteral("3"), graphNode(QStringLiteral("KSampler"),
                                         {{QStringLiteral("model"), link("4")},
                                          {QStringLiteral("positive"), link("6")},
                                          {QStringLiteral("negative"), link("7")},
                                          {QStringLiteral("latent_image"), link("5")},
                                          {QStringLiteral("seed"), seed},
                                          {QStringLiteral("steps"), steps},
                                          {QStringLiteral("cfg"), 7.0},
                                          {QStringLiteral("sampler_name"), QStringLiteral("euler")},
                                          {QStringLiteral("scheduler"), QStringLiteral("normal")},
                                          {QStringLiteral("denoise"), 1.0}})},
         {QStringLiteral("8"),
          graphNode(QStringLiteral("VAEDecode"), {{QStringLiteral("samples"), link("3")},
                                                  {QStringLiteral("vae"), link("4", 2)}})},
         {QStringLiteral("9"),
          graphNode(QStringLiteral("SaveImage"),
                    {{QStringLiteral("images"), link("8")},
                     {QStringLiteral("filename_prefix"), QStringLiteral("bench")}})}});
}

void die(const QString &program, const QString &message, int code)
{
    std::fprintf(stderr, "%s: FAILED: %s\n", qPrintable(program), qPrintable(message));
    std::fflush(stderr);
    std::fflush(stdout);
    std::_Exit(code);
}

} // namespace bench
