// comfy-simnode: a SIMULATED ComfyUI node (not a real ComfyUI) for tests and demos.

#include "simulatednode.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QHostAddress>

#include <cstdio>

#ifndef COMFY_ROUTER_VERSION
#define COMFY_ROUTER_VERSION "dev"
#endif

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("comfy-simnode"));
    QCoreApplication::setApplicationVersion(QStringLiteral(COMFY_ROUTER_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "A SIMULATED ComfyUI node: speaks ComfyUI's HTTP and websocket API and makes up small "
        "pictures instead of running models. For tests and demos only."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption portOption(QStringLiteral("port"),
                                        QStringLiteral("Port to listen on (0: any free port)."),
                                        QStringLiteral("N"), QStringLiteral("8188"));
    const QCommandLineOption rootOption(
        QStringLiteral("root"),
        QStringLiteral("Root directory with models/, input/, output/ and temp/."),
        QStringLiteral("DIR"));
    const QCommandLineOption listenOption(QStringLiteral("listen"),
                                          QStringLiteral("Address to listen on."),
                                          QStringLiteral("ADDRESS"), QStringLiteral("127.0.0.1"));
    const QCommandLineOption delayOption(
        QStringLiteral("step-delay-ms"),
        QStringLiteral("Duration of each simulated step and node execution."), QStringLiteral("N"),
        QStringLiteral("5"));
    const QCommandLineOption loadDelayOption(
        QStringLiteral("model-load-delay-ms"),
        QStringLiteral("Extra duration of a model loader whose model differs from the one loaded "
                       "last (a checkpoint switch)."),
        QStringLiteral("N"), QStringLiteral("0"));
    parser.addOptions({portOption, rootOption, listenOption, delayOption, loadDelayOption});
    parser.process(app);

    if (!parser.isSet(rootOption)) {
        std::fprintf(stderr, "comfy-simnode: --root DIR is required\n");
        return 2;
    }
    bool ok = false;
    const uint port = parser.value(portOption).toUInt(&ok);
    if (!ok || port > 65535) {
        std::fprintf(stderr, "comfy-simnode: invalid --port\n");
        return 2;
    }
    const int delay = parser.value(delayOption).toInt(&ok);
    if (!ok || delay < 0) {
        std::fprintf(stderr, "comfy-simnode: invalid --step-delay-ms\n");
        return 2;
    }
    const int loadDelay = parser.value(loadDelayOption).toInt(&ok);
    if (!ok || loadDelay < 0) {
        std::fprintf(stderr, "comfy-simnode: invalid --model-load-delay-ms\n");
        return 2;
    }
    QHostAddress address;
    if (!address.setAddress(parser.value(listenOption))) {
        std::fprintf(stderr, "comfy-simnode: invalid --listen address\n");
        return 2;
    }
    const QString root = QDir(parser.value(rootOption)).absolutePath();
    if (!QDir().mkpath(root)) {
        std::fprintf(stderr, "comfy-simnode: cannot create %s\n", qPrintable(root));
        return 1;
    }

    simnode::SimulatedNode node(root);
    node.setStepDelayMs(delay);
    node.setModelLoadDelayMs(loadDelay);
    if (node.listen(address, quint16(port)) == 0) {
        std::fprintf(stderr, "comfy-simnode: cannot listen on %s:%u\n",
                     qPrintable(address.toString()), port);
        return 1;
    }
    std::printf("SIMULATED ComfyUI node (not a real ComfyUI) listening on %s\n"
                "root directory: %s\n",
                qPrintable(node.url().toString()), qPrintable(root));
    std::fflush(stdout);
    return app.exec();
}
