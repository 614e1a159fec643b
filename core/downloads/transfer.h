#pragma once

#include "downloads/sha256.h"

#include <QFile>
#include <QHash>
#include <QObject>
#include <QPointer>
#include <QTimer>
#include <QUrl>

class QNetworkAccessManager;
class QNetworkReply;

namespace comfy {

struct TransferPolicy {
    int stallTimeoutMs = 60000; // no byte for this long: the attempt has failed
    int retries = 3;            // further attempts after a broken transfer (resumed with Range)
    int retryDelayMs = 1000;    // doubled after each failed attempt
    int maxRedirects = 10;
    qint64 maxBytes = -1; // larger files fail at once (the cache limit)
    QHash<QString, QList<QPair<QByteArray, QByteArray>>> hostHeaders; // per-host auth headers
};

// One download of one URL into one file, streamed: never the whole file in memory.
// Broken transfers are retried and resumed with an HTTP Range request where the server
// allows it. The file is complete and checked (HTTP status, length when known) when
// finished(true) is emitted; on failure it is removed.
class Transfer : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Transfer)
public:
    Transfer(QNetworkAccessManager &network, const QUrl &url, const QString &path,
             const TransferPolicy &policy, QObject *parent = nullptr);
    ~Transfer() override;

    void start();
    void abort(); // removes the file; emits nothing
    QString filePath() const { return m_file.fileName(); }
    qint64 bytesDone() const { return m_done; }
    qint64 bytesTotal() const { return m_total; }  // -1 while unknown
    QByteArray sha256() const { return m_sha256; } // hex, once finished

Q_SIGNALS:
    void progress(qint64 done, qint64 total);
    void finished(bool ok, const QString &error);

private:
    void startAttempt();
    void onReadyRead();
    void onFinished();
    void retryOrFail(const QString &reason);
    void fail(const QString &reason);

    QNetworkAccessManager &m_network;
    QUrl m_url;
    QFile m_file;
    TransferPolicy m_policy;
    QPointer<QNetworkReply> m_reply;
    Sha256 m_hash;
    QByteArray m_sha256;
    QTimer m_retryTimer;
    qint64 m_done = 0;
    qint64 m_total = -1;
    int m_attempt = 0;
    bool m_resumable = false;
    bool m_headersSeen = false;
    bool m_ended = false;
    QString m_writeError;
};

} // namespace comfy
