// SettingsLoader against the contract's configuration section (docs: api.md "Configuration"):
// the original's defaults, COMFY_ROUTER__* variables, a flag for each, the flag winning, and
// every unparsable value a startup error that names the variable or flag.
#include "config/settingsloader.h"

#include <QProcessEnvironment>
#include <QSet>
#include <QTest>
#include <QUrl>

using comfy::LoadResult;
using comfy::Settings;
using comfy::SettingsLoader;
using comfy::SettingSpec;

namespace {

const QString Program = QStringLiteral("comfy-router");

// The value of a setting, read from the struct by the test itself (not through the loader's
// own "show" functions), keyed by the environment variable or, for switches, by the flag.
QString valueOf(const Settings &s, const QString &key)
{
    const QString k = QString(key).remove(QStringLiteral("COMFY_ROUTER__"));
    if (k == QLatin1String("HOST"))
        return s.host;
    if (k == QLatin1String("PORT"))
        return QString::number(s.port);
    if (k == QLatin1String("USERNAME"))
        return s.username;
    if (k == QLatin1String("PASSWORD"))
        return s.password;
    if (k == QLatin1String("HISTORY_LIMIT"))
        return QString::number(s.historyLimit);
    if (k == QLatin1String("PENDING_LIMIT"))
        return QString::number(s.pendingLimit);
    if (k == QLatin1String("ENV"))
        return s.env;
    if (k == QLatin1String("DOWNLOAD__CACHE_DIR"))
        return s.downloadCacheDir;
    if (k == QLatin1String("DOWNLOAD__ROOT_DIR"))
        return s.downloadRootDir;
    if (k == QLatin1String("DOWNLOAD__RECORD_PATH"))
        return s.downloadRecordPath;
    if (k == QLatin1String("DOWNLOAD__MAX_CACHE_BYTES"))
        return QString::number(s.downloadMaxCacheBytes);
    if (k == QLatin1String("HEALTH__INTERVAL_MS"))
        return QString::number(s.healthIntervalMs);
    if (k == QLatin1String("HEALTH__FAILURES"))
        return QString::number(s.healthFailures);
    if (k == QLatin1String("HEALTH__TIMEOUT_MS"))
        return QString::number(s.healthTimeoutMs);
    if (k == QLatin1String("NODES")) {
        // Compared without a trailing slash: the registry normalises node URLs on its own.
        QStringList urls;
        for (QString node : s.nodes) {
            if (node.endsWith(QLatin1Char('/')))
                node.chop(1);
            urls << node;
        }
        return urls.join(QLatin1Char(','));
    }
    if (k == QLatin1String("server"))
        return s.server ? QStringLiteral("true") : QStringLiteral("false");
    if (k == QLatin1String("demo"))
        return s.demo ? QStringLiteral("true") : QStringLiteral("false");
    if (k == QLatin1String("demo-nodes"))
        return QString::number(s.demoNodes);
    if (k == QLatin1String("demo-step-delay-ms"))
        return QString::number(s.demoStepDelayMs);
    return QStringLiteral("<unknown setting %1>").arg(key);
}

const SettingSpec *specForEnv(const QString &env)
{
    for (const SettingSpec &spec : SettingsLoader::specs())
        if (spec.env == env)
            return &spec;
    return nullptr;
}

QProcessEnvironment environment(const QStringList &assignments)
{
    QProcessEnvironment env;
    for (const QString &a : assignments) {
        const qsizetype eq = a.indexOf(QLatin1Char('='));
        env.insert(a.left(eq), a.mid(eq + 1));
    }
    return env;
}

// Every variable of the contract (api.md, "Configuration" and "Cluster"), with its default.
const QList<std::pair<QString, QString>> &documentedDefaults()
{
    static const QList<std::pair<QString, QString>> rows{
        {QStringLiteral("COMFY_ROUTER__HOST"), QStringLiteral("0.0.0.0")},
        {QStringLiteral("COMFY_ROUTER__PORT"), QStringLiteral("8080")},
        {QStringLiteral("COMFY_ROUTER__USERNAME"), QStringLiteral("admin")},
        {QStringLiteral("COMFY_ROUTER__PASSWORD"), QStringLiteral("admin")},
        {QStringLiteral("COMFY_ROUTER__HISTORY_LIMIT"), QStringLiteral("50")},
        {QStringLiteral("COMFY_ROUTER__PENDING_LIMIT"), QStringLiteral("25")},
        {QStringLiteral("COMFY_ROUTER__ENV"), QStringLiteral("dev")},
        {QStringLiteral("COMFY_ROUTER__DOWNLOAD__CACHE_DIR"), QStringLiteral("/tmp/cache")},
        {QStringLiteral("COMFY_ROUTER__DOWNLOAD__ROOT_DIR"), QStringLiteral("/tmp/model")},
        {QStringLiteral("COMFY_ROUTER__DOWNLOAD__RECORD_PATH"), QStringLiteral("/tmp/record.json")},
        {QStringLiteral("COMFY_ROUTER__DOWNLOAD__MAX_CACHE_BYTES"), QStringLiteral("68719476736")},
        {QStringLiteral("COMFY_ROUTER__HEALTH__INTERVAL_MS"), QStringLiteral("1000")},
        {QStringLiteral("COMFY_ROUTER__HEALTH__FAILURES"), QStringLiteral("3")},
    };
    return rows;
}

} // namespace

class TestSettings : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void contractDefaults_data();
    void contractDefaults();
    void specTableIsConsistent();
    void fromEnvironment_data();
    void fromEnvironment();
    void fromFlag_data();
    void fromFlag();
    void flagWinsOverEnvironment_data();
    void flagWinsOverEnvironment();
    void switches_data();
    void switches();
    void invalid_data();
    void invalid();
    void help_data();
    void help();
    void version_data();
    void version();
    void markdownTableListsEverySetting();
};

void TestSettings::contractDefaults_data()
{
    QTest::addColumn<QString>("env");
    QTest::addColumn<QString>("expected");
    for (const auto &[env, value] : documentedDefaults())
        QTest::newRow(qPrintable(env)) << env << value;
}

void TestSettings::contractDefaults()
{
    QFETCH(QString, env);
    QFETCH(QString, expected);

    // Nothing set at all: the original's default.
    const LoadResult result = SettingsLoader::load({Program}, QProcessEnvironment());
    QCOMPARE(result.action, LoadResult::Action::Run);
    QVERIFY2(result.text.isEmpty(), qPrintable(result.text));
    QCOMPARE(valueOf(result.settings, env), expected);

    // The variable exists in the table (with a flag), and the docs show the same default.
    const SettingSpec *spec = specForEnv(env);
    QVERIFY2(spec, qPrintable(env + QStringLiteral(" is not in SettingsLoader::specs()")));
    QVERIFY(!spec->flag.isEmpty());
    QCOMPARE(spec->show(Settings{}), expected);
}

void TestSettings::specTableIsConsistent()
{
    QSet<QString> envs;
    QSet<QString> flags;
    for (const SettingSpec &spec : SettingsLoader::specs()) {
        QVERIFY2(!spec.flag.isEmpty(), qPrintable(spec.env));
        QVERIFY2(!spec.flag.startsWith(QLatin1Char('-')), qPrintable(spec.flag));
        QVERIFY2(!flags.contains(spec.flag),
                 qPrintable(QStringLiteral("duplicate flag ") + spec.flag));
        flags.insert(spec.flag);
        QVERIFY(!spec.description.isEmpty());
        QVERIFY(spec.apply);
        QVERIFY(spec.show);
        if (spec.env.isEmpty())
            continue;
        QVERIFY2(spec.env.startsWith(QLatin1String("COMFY_ROUTER__")), qPrintable(spec.env));
        QCOMPARE(spec.env, spec.env.toUpper());
        QVERIFY2(!envs.contains(spec.env), qPrintable(QStringLiteral("duplicate ") + spec.env));
        envs.insert(spec.env);
        // A variable takes a value: only command-line switches may go without one.
        QVERIFY2(!spec.valueName.isEmpty(), qPrintable(spec.env));
    }
    QCOMPARE(flags.contains(QStringLiteral("help")), false);
    QCOMPARE(flags.contains(QStringLiteral("version")), false);
    QVERIFY(flags.contains(QStringLiteral("server")));
}

namespace {
void addValidValueRows()
{
    QTest::addColumn<QString>("env");
    QTest::addColumn<QString>("value");
    QTest::addColumn<QString>("expected");
    const QString p = QStringLiteral("COMFY_ROUTER__");
    auto row = [&p](const char *name, const char *key, const char *value, const char *expected) {
        QTest::newRow(name) << p + QLatin1String(key) << QString::fromUtf8(value)
                            << QString::fromUtf8(expected);
    };
    row("host ipv4", "HOST", "127.0.0.1", "127.0.0.1");
    row("host ipv6", "HOST", "::1", "::1");
    row("host any ipv6", "HOST", "::", "::");
    row("host localhost", "HOST", "localhost",
        "127.0.0.1"); // never a null address (= every interface)
    row("port", "PORT", "9090", "9090");
    row("port zero (any free port)", "PORT", "0", "0");
    row("port max", "PORT", "65535", "65535");
    row("username", "USERNAME", "operator", "operator");
    row("password", "PASSWORD", "s3cr3t:with=odd chars", "s3cr3t:with=odd chars");
    row("history limit", "HISTORY_LIMIT", "7", "7");
    row("history limit 1", "HISTORY_LIMIT", "1", "1");
    row("pending limit", "PENDING_LIMIT", "3", "3");
    row("env prod", "ENV", "prod", "prod");
    row("env dev", "ENV", "dev", "dev");
    row("cache dir", "DOWNLOAD__CACHE_DIR", "/var/cache/comfy", "/var/cache/comfy");
    row("root dir", "DOWNLOAD__ROOT_DIR", "/srv/comfyui", "/srv/comfyui");
    row("record path", "DOWNLOAD__RECORD_PATH", "/var/lib/comfy/record.json",
        "/var/lib/comfy/record.json");
    row("max cache bytes", "DOWNLOAD__MAX_CACHE_BYTES", "1024", "1024");
    row("max cache bytes beyond 32 bits", "DOWNLOAD__MAX_CACHE_BYTES", "1099511627776",
        "1099511627776");
    row("health interval", "HEALTH__INTERVAL_MS", "250", "250");
    row("health failures", "HEALTH__FAILURES", "5", "5");
    row("health timeout", "HEALTH__TIMEOUT_MS", "2000", "2000");
    row("one node", "NODES", "http://gpu-1:8188", "http://gpu-1:8188");
    row("two nodes", "NODES", "http://gpu-1:8188, https://gpu-2.example.com:8443/",
        "http://gpu-1:8188,https://gpu-2.example.com:8443");
}
} // namespace

void TestSettings::fromEnvironment_data()
{
    addValidValueRows();
}

void TestSettings::fromEnvironment()
{
    QFETCH(QString, env);
    QFETCH(QString, value);
    QFETCH(QString, expected);
    QProcessEnvironment environment;
    environment.insert(env, value);
    const LoadResult result = SettingsLoader::load({Program}, environment);
    QVERIFY2(result.action == LoadResult::Action::Run, qPrintable(result.text));
    QCOMPARE(valueOf(result.settings, env), expected);
    // Everything else keeps its default.
    for (const auto &[other, def] : documentedDefaults())
        if (other != env)
            QCOMPARE(valueOf(result.settings, other), def);
}

void TestSettings::fromFlag_data()
{
    addValidValueRows();
}

void TestSettings::fromFlag()
{
    QFETCH(QString, env);
    QFETCH(QString, value);
    QFETCH(QString, expected);
    const SettingSpec *spec = specForEnv(env);
    QVERIFY2(spec, qPrintable(env));
    const QString flag = QStringLiteral("--") + spec->flag;

    // --flag=value
    LoadResult result = SettingsLoader::load({Program, flag + QLatin1Char('=') + value}, {});
    QVERIFY2(result.action == LoadResult::Action::Run, qPrintable(result.text));
    QCOMPARE(valueOf(result.settings, env), expected);

    // --flag value
    result = SettingsLoader::load({Program, flag, value}, {});
    QVERIFY2(result.action == LoadResult::Action::Run, qPrintable(result.text));
    QCOMPARE(valueOf(result.settings, env), expected);
}

void TestSettings::flagWinsOverEnvironment_data()
{
    QTest::addColumn<QString>("env");
    QTest::addColumn<QString>("envValue");
    QTest::addColumn<QString>("flagValue");
    const QString p = QStringLiteral("COMFY_ROUTER__");
    auto row = [&p](const char *key, const char *envValue, const char *flagValue) {
        QTest::newRow(key) << p + QLatin1String(key) << QString::fromUtf8(envValue)
                           << QString::fromUtf8(flagValue);
    };
    row("HOST", "127.0.0.1", "::1");
    row("PORT", "9090", "7070");
    row("USERNAME", "alice", "bob");
    row("PASSWORD", "from-env", "from-flag");
    row("HISTORY_LIMIT", "10", "20");
    row("PENDING_LIMIT", "4", "8");
    row("ENV", "dev", "prod");
    row("DOWNLOAD__CACHE_DIR", "/env/cache", "/flag/cache");
    row("DOWNLOAD__ROOT_DIR", "/env/root", "/flag/root");
    row("DOWNLOAD__RECORD_PATH", "/env/record.json", "/flag/record.json");
    row("DOWNLOAD__MAX_CACHE_BYTES", "1000", "2000");
    row("HEALTH__INTERVAL_MS", "500", "1500");
    row("HEALTH__FAILURES", "2", "9");
    row("HEALTH__TIMEOUT_MS", "3000", "4000");
    row("NODES", "http://env-node:8188", "http://flag-node:8188");
}

void TestSettings::flagWinsOverEnvironment()
{
    QFETCH(QString, env);
    QFETCH(QString, envValue);
    QFETCH(QString, flagValue);
    const SettingSpec *spec = specForEnv(env);
    QVERIFY2(spec, qPrintable(env));
    const QProcessEnvironment environment = ::environment({env + QLatin1Char('=') + envValue});

    // The variable alone applies...
    LoadResult result = SettingsLoader::load({Program}, environment);
    QVERIFY2(result.action == LoadResult::Action::Run, qPrintable(result.text));
    QCOMPARE(valueOf(result.settings, env), envValue);

    // ...and the flag wins over it, in both spellings.
    result = SettingsLoader::load({Program, QStringLiteral("--%1=%2").arg(spec->flag, flagValue)},
                                  environment);
    QVERIFY2(result.action == LoadResult::Action::Run, qPrintable(result.text));
    QCOMPARE(valueOf(result.settings, env), flagValue);
    result =
        SettingsLoader::load({Program, QStringLiteral("--") + spec->flag, flagValue}, environment);
    QVERIFY2(result.action == LoadResult::Action::Run, qPrintable(result.text));
    QCOMPARE(valueOf(result.settings, env), flagValue);
}

void TestSettings::switches_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("expected");
    QTest::newRow("gui by default") << QStringList{} << "server"
                                    << "false";
    QTest::newRow("--server") << QStringList{"--server"} << "server"
                              << "true";
    QTest::newRow("no demo by default") << QStringList{} << "demo"
                                        << "false";
    QTest::newRow("--demo") << QStringList{"--demo"} << "demo"
                            << "true";
    QTest::newRow("--demo-nodes=4") << QStringList{"--demo-nodes=4"} << "demo-nodes"
                                    << "4";
    QTest::newRow("--demo-nodes 3") << QStringList{"--demo-nodes", "3"} << "demo-nodes"
                                    << "3";
    QTest::newRow("--demo-step-delay-ms 0")
        << QStringList{"--demo-step-delay-ms", "0"} << "demo-step-delay-ms"
        << "0";
    QTest::newRow("--server with options")
        << QStringList{"--port", "1234", "--server", "--env=prod"} << "server"
        << "true";
}

void TestSettings::switches()
{
    QFETCH(QStringList, arguments);
    QFETCH(QString, key);
    QFETCH(QString, expected);
    arguments.prepend(Program);
    const LoadResult result = SettingsLoader::load(arguments, {});
    QVERIFY2(result.action == LoadResult::Action::Run, qPrintable(result.text));
    QCOMPARE(valueOf(result.settings, key), expected);
}

void TestSettings::invalid_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QStringList>("environment");
    QTest::addColumn<QString>("named"); // what the error text must name

    const QString p = QStringLiteral("COMFY_ROUTER__");
    auto env = [&p](const char *name, const char *key, const char *value) {
        QTest::newRow(name) << QStringList{}
                            << QStringList{p + QLatin1String(key) + QLatin1Char('=') +
                                           QString::fromUtf8(value)}
                            << p + QLatin1String(key);
    };
    // Environment: non-numbers, out of range, bad host, bad env, bad node URLs.
    env("env port text", "PORT", "http");
    env("env port empty", "PORT", "");
    env("env port negative", "PORT", "-1");
    env("env port too big", "PORT", "65536");
    env("env port fraction", "PORT", "80.5");
    env("env port trailing junk", "PORT", "8080x");
    env("env history limit text", "HISTORY_LIMIT", "fifty");
    env("env history limit zero", "HISTORY_LIMIT", "0");
    env("env history limit negative", "HISTORY_LIMIT", "-3");
    env("env history limit over int", "HISTORY_LIMIT", "2147483648");
    env("env pending limit text", "PENDING_LIMIT", "many");
    env("env pending limit zero", "PENDING_LIMIT", "0");
    env("env pending limit negative", "PENDING_LIMIT", "-25");
    env("env max cache bytes text", "DOWNLOAD__MAX_CACHE_BYTES", "64GB");
    env("env max cache bytes zero", "DOWNLOAD__MAX_CACHE_BYTES", "0");
    env("env max cache bytes negative", "DOWNLOAD__MAX_CACHE_BYTES", "-1");
    env("env max cache bytes overflow", "DOWNLOAD__MAX_CACHE_BYTES", "9223372036854775808");
    env("env health interval text", "HEALTH__INTERVAL_MS", "1s");
    env("env health interval zero", "HEALTH__INTERVAL_MS", "0");
    env("env health failures zero", "HEALTH__FAILURES", "0");
    env("env health failures text", "HEALTH__FAILURES", "three");
    env("env health timeout zero", "HEALTH__TIMEOUT_MS", "0");
    env("env host name with space", "HOST", "not a host");
    env("env host bad ipv4", "HOST", "999.1.1.1");
    env("env host empty", "HOST", "");
    env("env env unknown", "ENV", "staging");
    env("env env empty", "ENV", "");
    env("env username empty", "USERNAME", "");
    env("env password empty", "PASSWORD", "");
    env("env nodes ftp", "NODES", "ftp://gpu-1:8188");
    env("env nodes no host", "NODES", "http://");
    env("env nodes no scheme", "NODES", "gpu-1:8188");
    env("env nodes not a url", "NODES", "not a url");
    env("env nodes one bad of two", "NODES", "http://gpu-1:8188,ws://gpu-2:8188");

    auto flag = [](const char *name, QStringList arguments, const char *named) {
        QTest::newRow(name) << arguments << QStringList{} << QString::fromUtf8(named);
    };
    flag("flag port text", {"--port=abc"}, "--port");
    flag("flag port too big (separate value)", {"--port", "70000"}, "--port");
    flag("flag port negative", {"--port=-5"}, "--port");
    flag("flag port without value", {"--port"}, "port");
    flag("flag history limit zero", {"--history-limit=0"}, "--history-limit");
    flag("flag pending limit text", {"--pending-limit", "x"}, "--pending-limit");
    flag("flag max cache bytes text", {"--download-max-cache-bytes=lots"},
         "--download-max-cache-bytes");
    flag("flag health interval zero", {"--health-interval-ms=0"}, "--health-interval-ms");
    flag("flag health failures zero", {"--health-failures", "0"}, "--health-failures");
    flag("flag host bad", {"--host=256.256.256.256"}, "--host");
    flag("flag env bad", {"--env", "production"}, "--env");
    flag("flag nodes bad", {"--nodes=file:///etc/passwd"}, "--nodes");
    flag("flag demo nodes zero", {"--demo-nodes=0"}, "--demo-nodes");
    flag("flag demo nodes text", {"--demo-nodes", "two"}, "--demo-nodes");
    flag("flag demo step delay negative", {"--demo-step-delay-ms=-1"}, "--demo-step-delay-ms");
    flag("flag value on a switch", {"--server=yes"}, "server");
    flag("unknown flag", {"--frobnicate"}, "frobnicate");
    flag("unknown flag with value", {"--colour=blue"}, "colour");
    flag("stray positional", {"extra"}, "extra");
    flag("stray positional after flags", {"--port", "9000", "serve"}, "serve");

    // A bad variable is an error even when the flag gives a good value for it: the operator
    // must hear about the broken environment, not run on a silent default.
    QTest::newRow("bad env var next to good flags")
        << QStringList{"--history-limit=5"} << QStringList{p + QLatin1String("PENDING_LIMIT=lots")}
        << p + QLatin1String("PENDING_LIMIT");
}

void TestSettings::invalid()
{
    QFETCH(QStringList, arguments);
    QFETCH(QStringList, environment);
    QFETCH(QString, named);
    arguments.prepend(Program);
    const LoadResult result = SettingsLoader::load(arguments, ::environment(environment));
    QCOMPARE(result.action, LoadResult::Action::Fail);
    QVERIFY2(result.text.contains(named),
             qPrintable(QStringLiteral("'%1' does not name %2").arg(result.text, named)));
}

void TestSettings::help_data()
{
    QTest::addColumn<QString>("argument");
    QTest::newRow("--help") << "--help";
    QTest::newRow("-h") << "-h";
}

void TestSettings::help()
{
    QFETCH(QString, argument);
    const LoadResult result = SettingsLoader::load({Program, argument}, {});
    QCOMPARE(result.action, LoadResult::Action::ShowHelp);
    QVERIFY(result.text.contains(QLatin1String("Usage")));
    QVERIFY(result.text.contains(QLatin1String("--version")));
    for (const SettingSpec &spec : SettingsLoader::specs()) {
        QVERIFY2(result.text.contains(QStringLiteral("--") + spec.flag), qPrintable(spec.flag));
        if (!spec.env.isEmpty())
            QVERIFY2(result.text.contains(spec.env), qPrintable(spec.env));
    }
    // The documented defaults appear (the password is never echoed beyond its default).
    QVERIFY(result.text.contains(QLatin1String("8080")));
    QVERIFY(result.text.contains(QLatin1String("68719476736")));
}

void TestSettings::version_data()
{
    QTest::addColumn<QString>("argument");
    QTest::newRow("--version") << "--version";
    QTest::newRow("-v") << "-v";
}

void TestSettings::version()
{
    QFETCH(QString, argument);
    const LoadResult result = SettingsLoader::load({Program, argument}, {});
    QCOMPARE(result.action, LoadResult::Action::ShowVersion);
    QVERIFY2(result.text.contains(QLatin1String(COMFY_ROUTER_VERSION)), qPrintable(result.text));
    QVERIFY(result.text.contains(QLatin1String("comfy-router")));
}

void TestSettings::markdownTableListsEverySetting()
{
    const QString table = SettingsLoader::markdownTable();
    const QStringList lines = table.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QVERIFY(lines.size() >= 2);
    QVERIFY(lines.at(0).startsWith(QLatin1Char('|')));
    QVERIFY(lines.at(1).startsWith(QLatin1String("| ---")));

    auto lineOf = [&lines](const QString &needle) {
        for (const QString &line : lines)
            if (line.contains(needle))
                return line;
        return QString();
    };
    // The contract's variables, each on its row with its default.
    for (const auto &[env, def] : documentedDefaults()) {
        const QString line = lineOf(QLatin1Char('`') + env + QLatin1Char('`'));
        QVERIFY2(!line.isEmpty(), qPrintable(env + QStringLiteral(" missing from the table")));
        QVERIFY2(line.contains(QLatin1Char('`') + def + QLatin1Char('`')), qPrintable(line));
    }
    // And every row of the settings table, variables and flags alike.
    int rows = 0;
    for (const SettingSpec &spec : SettingsLoader::specs()) {
        const QString line = lineOf(QStringLiteral("`--%1`").arg(spec.flag));
        QVERIFY2(!line.isEmpty(), qPrintable(spec.flag));
        if (!spec.env.isEmpty())
            QVERIFY2(line.contains(spec.env), qPrintable(line));
        ++rows;
    }
    QCOMPARE(lines.size(), rows + 2);
}

QTEST_GUILESS_MAIN(TestSettings)
#include "tst_settings.moc"
