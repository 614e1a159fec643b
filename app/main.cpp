// comfy-router: wires the core, the HTTP API, and (without --server) the window.
#include "apiserver.h"
#include "config/settingsloader.h"
#include "demo.h"
#include "mainwindow.h"
#include "router/router.h"
#include "signalwatcher.h"

#include <QApplication>
#include <QCoreApplication>
#include <QLoggingCategory>

#include <cstdio>
#include <memory>

namespace {

void setUpLogging(const comfy::Settings &settings)
{
    // One line per event: time, level, area, what happened.
    qSetMessagePattern(QStringLiteral(
        "%{time yyyy-MM-ddThh:mm:ss.zzz} "
        "%{if-debug}DEBUG%{endif}%{if-info}INFO %{endif}%{if-warning}WARN %{endif}"
        "%{if-critical}ERROR%{endif}%{if-fatal}FATAL%{endif} %{category}: %{message}"));
    QLoggingCategory::setFilterRules(
        settings.env == QLatin1String("dev")
            ? QStringLiteral(
                  "comfy.*.debug=true\ncomfy.http.debug=false\ncomfy.simnode.debug=false")
            : QStringLiteral("comfy.*.debug=false"));
}

QStringList argumentsOf(int argc, char **argv)
{
    QStringList arguments;
    for (int i = 0; i < argc; ++i)
        arguments.append(QString::fromLocal8Bit(argv[i]));
    return arguments;
}

} // namespace

int main(int argc, char **argv)
{
    // Settings first: --server decides between QCoreApplication and QApplication, and
    // --help must work without a display.
    const comfy::LoadResult loaded = comfy::SettingsLoader::load(
        argumentsOf(argc, argv), QProcessEnvironment::systemEnvironment());
    switch (loaded.action) {
    case comfy::LoadResult::Action::ShowHelp:
    case comfy::LoadResult::Action::ShowVersion:
        std::fputs(qPrintable(loaded.text + QLatin1Char('\n')), stdout);
        return 0;
    case comfy::LoadResult::Action::Fail:
        std::fputs(qPrintable(QStringLiteral("comfy-router: %1\n").arg(loaded.text)), stderr);
        return 2;
    case comfy::LoadResult::Action::Run:
        break;
    }
    const comfy::Settings &settings = loaded.settings;

    std::unique_ptr<QCoreApplication> app;
    if (settings.server)
        app = std::make_unique<QCoreApplication>(argc, argv);
    else
        app = std::make_unique<QApplication>(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("comfy-router"));
    QCoreApplication::setApplicationVersion(QStringLiteral(COMFY_ROUTER_VERSION));
    setUpLogging(settings);

    comfy::Router router(settings);
    if (!router.storageError().isEmpty()) {
        std::fputs(qPrintable(QStringLiteral("comfy-router: %1\n").arg(router.storageError())),
                   stderr);
        return 1;
    }
    comfy::server::ApiServer api(router);
    const quint16 port = api.listen(QHostAddress(settings.host), settings.port);
    if (!port) {
        std::fputs(qPrintable(QStringLiteral("comfy-router: cannot listen on %1:%2\n")
                                  .arg(settings.host)
                                  .arg(settings.port)),
                   stderr);
        return 1;
    }

    std::unique_ptr<comfy::DemoCluster> demo;
    if (settings.demo) {
        demo = std::make_unique<comfy::DemoCluster>(router, settings);
        if (!demo->start()) {
            std::fputs("comfy-router: could not start the simulated demo nodes\n", stderr);
            return 1;
        }
    }

    std::unique_ptr<comfy::gui::MainWindow> window;
    if (!settings.server) {
        window = std::make_unique<comfy::gui::MainWindow>(
            router, QStringLiteral("http://%1:%2/").arg(settings.host).arg(port));
        window->show();
    }
    comfy::SignalWatcher stopSignals;
    QObject::connect(&stopSignals, &comfy::SignalWatcher::stopRequested, app.get(),
                     [&api](int signal) {
                         // Every accepted task is already on disk: stop taking requests and leave;
                         // tasks that were running go back to the queue at the next start.
                         qInfo().noquote() << "signal" << signal
                                           << "- stopping: no new requests; state is on disk";
                         api.close();
                         QCoreApplication::quit();
                     });
    const int code = app->exec();
    qInfo().noquote() << "comfy-router stopped";
    return code;
}
