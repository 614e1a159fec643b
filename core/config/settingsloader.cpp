#include "config/settingsloader.h"

#include "cluster/node.h"

#include <QCommandLineParser>
#include <QHostAddress>
#include <QJsonDocument>
#include <QJsonObject>
#include <QUrl>

#include <limits>

namespace comfy {

namespace {

QString parseInt(const QString &text, qint64 min, qint64 max, qint64 &out)
{
    bool ok = false;
    const qint64 value = text.trimmed().toLongLong(&ok);
    if (!ok)
        return QStringLiteral("'%1' is not a whole number").arg(text);
    if (value < min || value > max)
        return QStringLiteral("%1 is outside %2..%3").arg(value).arg(min).arg(max);
    out = value;
    return {};
}

template<typename T>
std::function<QString(Settings &, const QString &)> intField(T Settings::*field, qint64 min,
                                                             qint64 max)
{
    return [field, min, max](Settings &s, const QString &text) {
        qint64 value = 0;
        const QString error = parseInt(text, min, max, value);
        if (error.isEmpty())
            s.*field = static_cast<T>(value);
        return error;
    };
}

template<typename T> std::function<QString(const Settings &)> showInt(T Settings::*field)
{
    return [field](const Settings &s) { return QString::number(s.*field); };
}

std::function<QString(Settings &, const QString &)> textField(QString Settings::*field,
                                                              bool allowEmpty = false)
{
    return [field, allowEmpty](Settings &s, const QString &text) {
        if (!allowEmpty && text.isEmpty())
            return QStringLiteral("must not be empty");
        s.*field = text;
        return QString();
    };
}

std::function<QString(const Settings &)> showText(QString Settings::*field)
{
    return [field](const Settings &s) { return s.*field; };
}

QString applyNodes(Settings &s, const QString &text)
{
    QStringList nodes;
    for (const QString &part : text.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        // The registry's rule for node URLs, so a start-up list cannot hold what the API refuses.
        const QUrl url = normalizeNodeUrl(part);
        if (url.isEmpty())
            return QStringLiteral("'%1' is not an http(s) URL with a host").arg(part.trimmed());
        nodes.append(url.toString());
    }
    s.nodes = nodes;
    return {};
}

QString applyAuthHeaders(Settings &s, const QString &text)
{
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(text.toUtf8(), &error);
    if (error.error != QJsonParseError::NoError || !document.isObject())
        return QStringLiteral("must be a JSON object {\"host\": {\"Header\": \"value\"}}");
    QHash<QString, QList<QPair<QByteArray, QByteArray>>> headers;
    const QJsonObject hosts = document.object();
    for (auto host = hosts.begin(); host != hosts.end(); ++host) {
        if (!host.value().isObject())
            return QStringLiteral("the headers of '%1' must be an object").arg(host.key());
        const QJsonObject values = host.value().toObject();
        for (auto header = values.begin(); header != values.end(); ++header) {
            if (!header.value().isString())
                return QStringLiteral("header '%1' of '%2' must be a string")
                    .arg(header.key(), host.key());
            headers[host.key().toLower()].append(
                {header.key().toLatin1(), header.value().toString().toUtf8()});
        }
    }
    s.downloadAuthHeaders = headers;
    return {};
}

QString applyBool(bool &field, const QString &text)
{
    const QString t = text.trimmed().toLower();
    if (t.isEmpty() || t == QLatin1String("1") || t == QLatin1String("true") ||
        t == QLatin1String("yes") || t == QLatin1String("on")) {
        field = true;
        return {};
    }
    if (t == QLatin1String("0") || t == QLatin1String("false") || t == QLatin1String("no") ||
        t == QLatin1String("off")) {
        field = false;
        return {};
    }
    return QStringLiteral("'%1' is not a boolean (true/false)").arg(text);
}

std::vector<SettingSpec> buildSpecs()
{
    constexpr qint64 intMax = std::numeric_limits<int>::max();
    std::vector<SettingSpec> specs;
    auto add = [&specs](QString env, QString flag, QString valueName, QString description,
                        std::function<QString(Settings &, const QString &)> apply,
                        std::function<QString(const Settings &)> show) {
        specs.push_back({std::move(env), std::move(flag), std::move(valueName),
                         std::move(description), std::move(apply), std::move(show)});
    };
    const QString prefix = QStringLiteral("COMFY_ROUTER__");
    add(
        prefix + QLatin1String("HOST"), QStringLiteral("host"), QStringLiteral("address"),
        QStringLiteral("Address the HTTP API listens on"),
        [](Settings &s, const QString &text) {
            // "localhost" would be a null QHostAddress, which listens on every interface.
            const QString address =
                text == QLatin1String("localhost") ? QStringLiteral("127.0.0.1") : text;
            if (QHostAddress(address).isNull())
                return QStringLiteral("'%1' is not an IP address").arg(text);
            s.host = address;
            return QString();
        },
        showText(&Settings::host));
    add(prefix + QLatin1String("PORT"), QStringLiteral("port"), QStringLiteral("port"),
        QStringLiteral("TCP port of the HTTP API (0 picks a free one)"),
        intField(&Settings::port, 0, 65535), showInt(&Settings::port));
    add(prefix + QLatin1String("USERNAME"), QStringLiteral("username"), QStringLiteral("name"),
        QStringLiteral("User name of the API's Basic auth"), textField(&Settings::username),
        showText(&Settings::username));
    add(prefix + QLatin1String("PASSWORD"), QStringLiteral("password"), QStringLiteral("secret"),
        QStringLiteral("Password of the API's Basic auth"), textField(&Settings::password),
        [](const Settings &) { return QStringLiteral("admin"); });
    add(prefix + QLatin1String("HISTORY_LIMIT"), QStringLiteral("history-limit"),
        QStringLiteral("n"), QStringLiteral("Finished tasks kept for GET /workflow/{id}"),
        intField(&Settings::historyLimit, 1, intMax), showInt(&Settings::historyLimit));
    add(prefix + QLatin1String("PENDING_LIMIT"), QStringLiteral("pending-limit"),
        QStringLiteral("n"), QStringLiteral("Tasks that may wait for a node before 429"),
        intField(&Settings::pendingLimit, 1, intMax), showInt(&Settings::pendingLimit));
    add(
        prefix + QLatin1String("ENV"), QStringLiteral("env"), QStringLiteral("dev|prod"),
        QStringLiteral("Deployment environment: dev logs debug lines, prod does not"),
        [](Settings &s, const QString &text) {
            if (text != QLatin1String("dev") && text != QLatin1String("prod"))
                return QStringLiteral("'%1' is not one of dev, prod").arg(text);
            s.env = text;
            return QString();
        },
        showText(&Settings::env));
    add(prefix + QLatin1String("MAX_BODY_BYTES"), QStringLiteral("max-body-bytes"),
        QStringLiteral("bytes"),
        QStringLiteral("Largest request body the API reads (base64 images included); larger ones "
                       "get 413 before they are read"),
        intField(&Settings::maxBodyBytes, 1, 1024LL * 1024 * 1024),
        showInt(&Settings::maxBodyBytes));
    add(prefix + QLatin1String("HTTP__IDLE_TIMEOUT_S"), QStringLiteral("http-idle-timeout-s"),
        QStringLiteral("s"),
        QStringLiteral("An API connection that sends and receives nothing for this long is "
                       "closed (408 if a request was half sent)"),
        intField(&Settings::httpIdleTimeoutS, 1, 24 * 3600), showInt(&Settings::httpIdleTimeoutS));
    add(prefix + QLatin1String("HTTP__MAX_CONNECTIONS"), QStringLiteral("http-max-connections"),
        QStringLiteral("n"),
        QStringLiteral("Open API connections at most; further ones get 503 and are closed"),
        intField(&Settings::httpMaxConnections, 1, 100000), showInt(&Settings::httpMaxConnections));
    add(prefix + QLatin1String("DOWNLOAD__CACHE_DIR"), QStringLiteral("download-cache-dir"),
        QStringLiteral("dir"),
        QStringLiteral("Folder of the download cache (downloaded model and image files)"),
        textField(&Settings::downloadCacheDir), showText(&Settings::downloadCacheDir));
    add(prefix + QLatin1String("DOWNLOAD__ROOT_DIR"), QStringLiteral("download-root-dir"),
        QStringLiteral("dir"),
        QStringLiteral("ComfyUI folder shared with the nodes: downloads are linked into its "
                       "models/<kind>/ and input/ folders"),
        textField(&Settings::downloadRootDir), showText(&Settings::downloadRootDir));
    add(prefix + QLatin1String("DOWNLOAD__RECORD_PATH"), QStringLiteral("download-record-path"),
        QStringLiteral("file"), QStringLiteral("Record of the download cache (JSON)"),
        textField(&Settings::downloadRecordPath), showText(&Settings::downloadRecordPath));
    add(prefix + QLatin1String("DOWNLOAD__MAX_CACHE_BYTES"),
        QStringLiteral("download-max-cache-bytes"), QStringLiteral("bytes"),
        QStringLiteral("Size limit of the download cache"),
        intField(&Settings::downloadMaxCacheBytes, 1, std::numeric_limits<qint64>::max()),
        showInt(&Settings::downloadMaxCacheBytes));
    add(prefix + QLatin1String("DOWNLOAD__CONCURRENCY"), QStringLiteral("download-concurrency"),
        QStringLiteral("n"), QStringLiteral("Downloads that run at the same time"),
        intField(&Settings::downloadConcurrency, 1, 64), showInt(&Settings::downloadConcurrency));
    add(prefix + QLatin1String("DOWNLOAD__STALL_TIMEOUT_S"),
        QStringLiteral("download-stall-timeout-s"), QStringLiteral("s"),
        QStringLiteral("A download that receives nothing for this long is retried"),
        intField(&Settings::downloadStallTimeoutS, 1, 3600),
        showInt(&Settings::downloadStallTimeoutS));
    add(prefix + QLatin1String("DOWNLOAD__RETRIES"), QStringLiteral("download-retries"),
        QStringLiteral("n"),
        QStringLiteral("Further attempts of a broken download (resumed with HTTP Range)"),
        intField(&Settings::downloadRetries, 0, 100), showInt(&Settings::downloadRetries));
    add(prefix + QLatin1String("DOWNLOAD__AUTH_HEADERS"), QStringLiteral("download-auth-headers"),
        QStringLiteral("json"),
        QStringLiteral("Headers per host for gated downloads, e.g. {\"huggingface.co\": "
                       "{\"Authorization\": \"Bearer hf_...\"}}"),
        applyAuthHeaders, [](const Settings &s) {
            return s.downloadAuthHeaders.isEmpty() ? QString() : QStringLiteral("(set)");
        });
    add(prefix + QLatin1String("DATA_DIR"), QStringLiteral("data-dir"), QStringLiteral("dir"),
        QStringLiteral("Where tasks, nodes and result images are kept across restarts (empty: the "
                       "platform's app-data folder)"),
        textField(&Settings::dataDir, true), showText(&Settings::dataDir));
    add(prefix + QLatin1String("TASK__MAX_ATTEMPTS"), QStringLiteral("task-max-attempts"),
        QStringLiteral("n"),
        QStringLiteral("Runs of one task in all: a node lost mid-task hands it to another"),
        intField(&Settings::taskMaxAttempts, 1, 100), showInt(&Settings::taskMaxAttempts));
    add(prefix + QLatin1String("TASK__TIMEOUT_S"), QStringLiteral("task-timeout-s"),
        QStringLiteral("s"),
        QStringLiteral("A task still running after this long is interrupted and fails"),
        intField(&Settings::taskTimeoutS, 1, 7 * 24 * 3600), showInt(&Settings::taskTimeoutS));
    add(prefix + QLatin1String("TASK__SILENCE_S"), QStringLiteral("task-silence-s"),
        QStringLiteral("s"),
        QStringLiteral("A node silent this long is asked for the prompt; if it no longer has it, "
                       "the task moves on"),
        intField(&Settings::taskSilenceS, 1, 24 * 3600), showInt(&Settings::taskSilenceS));
    add(prefix + QLatin1String("NODE__QUEUE_DEPTH"), QStringLiteral("node-queue-depth"),
        QStringLiteral("n"),
        QStringLiteral(
            "Tasks a node holds at once: 2 queues the next one on the node while one runs"),
        intField(&Settings::nodeQueueDepth, 1, 16), showInt(&Settings::nodeQueueDepth));
    add(
        prefix + QLatin1String("NODE__AFFINITY"), QStringLiteral("node-affinity"),
        QStringLiteral("true|false"),
        QStringLiteral(
            "Send a task to a node that has its checkpoint/UNet loaded when one is free"),
        [](Settings &s, const QString &text) { return applyBool(s.nodeAffinity, text); },
        [](const Settings &s) {
            return s.nodeAffinity ? QStringLiteral("true") : QStringLiteral("false");
        });
    add(prefix + QLatin1String("NODE__AFFINITY_LOOKAHEAD"),
        QStringLiteral("node-affinity-lookahead"), QStringLiteral("n"),
        QStringLiteral(
            "With tasks waiting, a freed node takes the first of this many waiting tasks "
            "(of the first one's priority) whose checkpoint/UNet it holds; a task is "
            "passed over at most 16 times. 0: equal priorities start first in, first "
            "out. 32 saves most model switches"),
        intField(&Settings::nodeAffinityLookahead, 0, 1000),
        showInt(&Settings::nodeAffinityLookahead));
    add(prefix + QLatin1String("HEALTH__INTERVAL_MS"), QStringLiteral("health-interval-ms"),
        QStringLiteral("ms"), QStringLiteral("Time between two health checks of a node"),
        intField(&Settings::healthIntervalMs, 10, 3600000), showInt(&Settings::healthIntervalMs));
    add(prefix + QLatin1String("HEALTH__FAILURES"), QStringLiteral("health-failures"),
        QStringLiteral("n"), QStringLiteral("Failed checks in a row that make a node offline"),
        intField(&Settings::healthFailures, 1, 1000), showInt(&Settings::healthFailures));
    add(prefix + QLatin1String("HEALTH__TIMEOUT_MS"), QStringLiteral("health-timeout-ms"),
        QStringLiteral("ms"), QStringLiteral("A health check without answer by then has failed"),
        intField(&Settings::healthTimeoutMs, 10, 600000), showInt(&Settings::healthTimeoutMs));
    add(prefix + QLatin1String("NODES"), QStringLiteral("nodes"), QStringLiteral("urls"),
        QStringLiteral("Comma-separated ComfyUI node URLs registered at start-up"), applyNodes,
        [](const Settings &s) { return s.nodes.join(QLatin1Char(',')); });
    add(
        {}, QStringLiteral("server"), {}, QStringLiteral("Run headless: HTTP API only, no window"),
        [](Settings &s, const QString &text) { return applyBool(s.server, text); },
        [](const Settings &s) {
            return s.server ? QStringLiteral("true") : QStringLiteral("false");
        });
    add(
        {}, QStringLiteral("demo"), {},
        QStringLiteral(
            "Also start SIMULATED ComfyUI nodes (no GPU, fake images) and register them"),
        [](Settings &s, const QString &text) { return applyBool(s.demo, text); },
        [](const Settings &s) {
            return s.demo ? QStringLiteral("true") : QStringLiteral("false");
        });
    add({}, QStringLiteral("demo-nodes"), QStringLiteral("n"),
        QStringLiteral("How many simulated nodes --demo starts"),
        intField(&Settings::demoNodes, 1, 64), showInt(&Settings::demoNodes));
    add({}, QStringLiteral("demo-step-delay-ms"), QStringLiteral("ms"),
        QStringLiteral("Time one sampler step takes on a simulated node"),
        intField(&Settings::demoStepDelayMs, 0, 60000), showInt(&Settings::demoStepDelayMs));
    return specs;
}

QString nameOf(const SettingSpec &spec, bool fromEnv)
{
    return fromEnv ? spec.env : QStringLiteral("--") + spec.flag;
}

} // namespace

const std::vector<SettingSpec> &SettingsLoader::specs()
{
    static const std::vector<SettingSpec> table = buildSpecs();
    return table;
}

LoadResult SettingsLoader::load(const QStringList &arguments,
                                const QProcessEnvironment &environment)
{
    LoadResult result;
    auto fail = [&result](const QString &text) {
        result.action = LoadResult::Action::Fail;
        result.text = text;
        return result;
    };

    for (const SettingSpec &spec : specs()) {
        if (spec.env.isEmpty() || !environment.contains(spec.env))
            continue;
        const QString error = spec.apply(result.settings, environment.value(spec.env));
        if (!error.isEmpty())
            return fail(QStringLiteral("invalid %1: %2").arg(nameOf(spec, true), error));
    }

    QCommandLineParser parser;
    parser.setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);
    const QCommandLineOption help({QStringLiteral("h"), QStringLiteral("help")}, {});
    const QCommandLineOption version({QStringLiteral("v"), QStringLiteral("version")}, {});
    parser.addOption(help);
    parser.addOption(version);
    for (const SettingSpec &spec : specs())
        parser.addOption(spec.valueName.isEmpty()
                             ? QCommandLineOption(spec.flag, spec.description)
                             : QCommandLineOption(spec.flag, spec.description, spec.valueName));
    if (!parser.parse(arguments))
        return fail(parser.errorText() + QStringLiteral(" (see --help)"));
    if (!parser.positionalArguments().isEmpty())
        return fail(QStringLiteral("unexpected argument '%1' (see --help)")
                        .arg(parser.positionalArguments().constFirst()));
    if (parser.isSet(help)) {
        result.action = LoadResult::Action::ShowHelp;
        result.text = helpText();
        return result;
    }
    if (parser.isSet(version)) {
        result.action = LoadResult::Action::ShowVersion;
        result.text = QStringLiteral("comfy-router %1").arg(QStringLiteral(COMFY_ROUTER_VERSION));
        return result;
    }
    for (const SettingSpec &spec : specs()) {
        if (!parser.isSet(spec.flag))
            continue;
        const QString value = spec.valueName.isEmpty() ? QString() : parser.value(spec.flag);
        const QString error = spec.apply(result.settings, value);
        if (!error.isEmpty())
            return fail(QStringLiteral("invalid %1: %2").arg(nameOf(spec, false), error));
    }
    return result;
}

QString SettingsLoader::helpText()
{
    QString text = QStringLiteral(
        "Usage: comfy-router [--server] [options]\n"
        "Routes image-generation workflows to a fleet of ComfyUI nodes.\n"
        "Without --server it opens the operator window; the HTTP API runs in both modes.\n\n"
        "Options (each COMFY_ROUTER__* variable may be given instead; the flag wins):\n"
        "  -h, --help                       this text\n"
        "  -v, --version                    the version\n");
    const Settings defaults;
    for (const SettingSpec &spec : specs()) {
        QString left = QStringLiteral("  --") + spec.flag;
        if (!spec.valueName.isEmpty())
            left += QStringLiteral(" <%1>").arg(spec.valueName);
        text += left.leftJustified(35) + spec.description;
        if (!spec.valueName.isEmpty())
            text += QStringLiteral(" [%1]").arg(spec.show(defaults));
        if (!spec.env.isEmpty())
            text += QStringLiteral("\n") + QString(35, QLatin1Char(' ')) + spec.env;
        text += QLatin1Char('\n');
    }
    return text;
}

QString SettingsLoader::markdownTable()
{
    QString text =
        QStringLiteral("| Variable | Flag | Default | Meaning |\n| --- | --- | --- | --- |\n");
    const Settings defaults;
    for (const SettingSpec &spec : specs()) {
        const QString def = spec.show(defaults);
        text += QStringLiteral("| %1 | `--%2` | %3 | %4 |\n")
                    .arg(spec.env.isEmpty() ? QStringLiteral("(flag only)")
                                            : QStringLiteral("`%1`").arg(spec.env),
                         spec.flag,
                         def.isEmpty() ? QStringLiteral("(none)") : QStringLiteral("`%1`").arg(def),
                         spec.description);
    }
    return text;
}

} // namespace comfy
