#pragma once

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QPair>
#include <QString>
#include <QStringList>

namespace comfy {

// Every setting of the router. Defaults are the original Comfy Router's; each field is
// filled from a COMFY_ROUTER__* environment variable or its command-line flag (see
// SettingsLoader, the one table that names them all).
struct Settings {
    QString host = QStringLiteral("0.0.0.0");
    quint16 port = 8080;
    QString username = QStringLiteral("admin");
    QString password = QStringLiteral("admin");
    int historyLimit = 50;
    int pendingLimit = 25;
    QString env = QStringLiteral("dev");
    qint64 maxBodyBytes = 16 * 1024 * 1024; // larger request bodies get 413 before they are read
    int httpIdleTimeoutS = 60;              // a connection silent this long is closed
    int httpMaxConnections = 512;           // beyond this, new connections get 503
    QString downloadCacheDir = QStringLiteral("/tmp/cache");
    QString downloadRootDir = QStringLiteral("/tmp/model");
    QString downloadRecordPath = QStringLiteral("/tmp/record.json");
    qint64 downloadMaxCacheBytes = 68719476736LL;
    int downloadConcurrency = 4;    // transfers at once
    int downloadStallTimeoutS = 60; // no byte for this long: the attempt failed
    int downloadRetries = 3;        // further attempts, resumed with Range where possible
    // host -> headers sent with downloads from it (gated Hugging Face or Civitai files)
    QHash<QString, QList<QPair<QByteArray, QByteArray>>> downloadAuthHeaders;
    QString dataDir; // SQLite database and result images; "" = the platform's app-data folder
    int taskMaxAttempts = 3; // runs of one task in all, failovers included
    int taskTimeoutS = 3600; // a running task is stopped after this long
    int taskSilenceS =
        600; // a running node that says nothing this long is checked, then failed over
    int nodeQueueDepth = 1;        // our tasks a node holds at once (2: the next waits on the node)
    bool nodeAffinity = true;      // prefer nodes that have the task's model loaded
    int nodeAffinityLookahead = 0; // waiting tasks a freed node looks through (0: FIFO)
    int healthIntervalMs = 1000;
    int healthFailures = 3;
    int healthTimeoutMs = 5000;
    QStringList nodes; // nodes registered at start-up

    // Run mode, command line only.
    bool server = false;      // headless, no window
    bool demo = false;        // start simulated ComfyUI nodes (never implicit)
    int demoNodes = 2;        // how many simulated nodes --demo starts
    int demoStepDelayMs = 40; // pace of the simulated nodes' sampler steps
};

} // namespace comfy
