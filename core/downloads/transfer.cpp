#include "downloads/transfer.h"

#include "downloads/downloadcache.h" // lcDownloads

#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>

namespace comfy {

Transfer::Transfer(QNetworkAccessManager &network, const QUrl &url, const QString &path,
                   const TransferPolicy &policy, QObject *parent)
    : QObject(parent)
    , m_network(network)
    , m_url(url)
    , m_file(path)
    , m_policy(policy)
{
    m_retryTimer.setSingleShot(true);
    connect(&m_retryTimer, &QTimer::timeout, this, &Transfer::startAttempt);
}

Transfer::~Transfer()
{
    if (!m_ended)
        abort();
}

void Transfer::start()
{
    if (!m_file.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
        // Reported from the event loop like every other ending.
        const QString reason =
            QStringLiteral("cannot write %1: %2").arg(m_file.fileName(), m_file.errorString());
        QMetaObject::invokeMethod(
            this, [this, reason] { fail(reason); }, Qt::QueuedConnection);
        return;
    }
    startAttempt();
}

void Transfer::abort()
{
    m_ended = true;
    m_retryTimer.stop();
    if (m_reply) {
        m_reply->disconnect(this);
        m_reply->abort();
        m_reply->deleteLater();
    }
    m_file.close();
    m_file.remove();
}

void Transfer::startAttempt()
{
    ++m_attempt;
    m_headersSeen = false;
    QNetworkRequest request(m_url);
    request.setTransferTimeout(m_policy.stallTimeoutMs);
    request.setMaximumRedirectsAllowed(m_policy.maxRedirects);
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute,
                         QNetworkRequest::NoLessSafeRedirectPolicy);
    // Downloads are big and sequential: no HTTP/2 multiplexing, no compression of model files.
    request.setAttribute(QNetworkRequest::Http2AllowedAttribute, false);
    request.setRawHeader("Accept-Encoding", "identity");
    for (const auto &header : m_policy.hostHeaders.value(m_url.host().toLower()))
        request.setRawHeader(header.first, header.second);
    if (m_done > 0 && m_resumable)
        request.setRawHeader("Range", "bytes=" + QByteArray::number(m_done) + '-');
    m_reply = m_network.get(request);
    // Bounded memory whatever the disk speed. 1 MiB, not more: Qt keeps several times this
    // much in flight between its HTTP thread and the reply (4 MiB made the process's peak
    // memory grow by up to ~32 MiB during a 1 GiB download, 1 MiB by ~6-11 MiB), and a larger
    // buffer does not make loopback downloads any faster (bench/download.sh).
    m_reply->setReadBufferSize(1024 * 1024);
    connect(m_reply, &QNetworkReply::readyRead, this, &Transfer::onReadyRead);
    connect(m_reply, &QNetworkReply::finished, this, &Transfer::onFinished);
}

void Transfer::onReadyRead()
{
    QNetworkReply *reply = m_reply;
    if (!reply || m_ended)
        return;
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (status != 200 && status != 206)
        return;           // an error page: read in onFinished, never written to the file
    if (!m_headersSeen) { // once per attempt
        m_headersSeen = true;
        const QVariant length = reply->header(QNetworkRequest::ContentLengthHeader);
        if (status == 200) {
            if (m_done > 0) { // the server ignored our Range: start over
                m_file.resize(0);
                m_file.seek(0);
                m_hash.reset();
                m_done = 0;
            }
            m_total = length.isValid() ? length.toLongLong() : -1;
            m_resumable = reply->rawHeader("Accept-Ranges").toLower() == "bytes";
        }
        if (m_policy.maxBytes >= 0 && m_total > m_policy.maxBytes) {
            fail(QStringLiteral("the file has %1 bytes, more than the whole cache (%2 bytes)")
                     .arg(m_total)
                     .arg(m_policy.maxBytes));
            return;
        }
    }
    if (status == 206)
        m_resumable = true;
    while (reply->bytesAvailable() > 0) {
        const QByteArray chunk = reply->read(1024 * 1024);
        if (m_file.write(chunk) != chunk.size()) {
            m_writeError = m_file.errorString();
            reply->abort();
            return;
        }
        m_hash.addData(chunk);
        m_done += chunk.size();
    }
    if (m_policy.maxBytes >= 0 && m_done > m_policy.maxBytes) {
        fail(QStringLiteral("the file is larger than the whole cache (%1 bytes)")
                 .arg(m_policy.maxBytes));
        return;
    }
    Q_EMIT progress(m_done, m_total);
}

void Transfer::onFinished()
{
    QNetworkReply *reply = m_reply;
    if (!reply || m_ended)
        return;
    onReadyRead();
    if (m_ended)
        return;
    reply->deleteLater();
    m_reply.clear();
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (!m_writeError.isEmpty()) {
        fail(QStringLiteral("cannot write the file: %1").arg(m_writeError));
        return;
    }
    if (reply->error() == QNetworkReply::NoError && (status == 200 || status == 206)) {
        if (m_total >= 0 && m_done != m_total) {
            retryOrFail(QStringLiteral("the connection ended after %1 of %2 bytes")
                            .arg(m_done)
                            .arg(m_total));
            return;
        }
        if (!m_file.flush()) {
            fail(QStringLiteral("cannot write the file: %1").arg(m_file.errorString()));
            return;
        }
        m_file.close();
        m_sha256 = m_hash.hexResult();
        m_ended = true;
        Q_EMIT finished(true, {});
        return;
    }
    if (status >= 400 && status < 500 && status != 408 && status != 429) {
        fail(QStringLiteral("HTTP %1 %2")
                 .arg(status)
                 .arg(reply->attribute(QNetworkRequest::HttpReasonPhraseAttribute).toString()));
        return;
    }
    if (reply->error() == QNetworkReply::TooManyRedirectsError ||
        reply->error() == QNetworkReply::InsecureRedirectError ||
        reply->error() == QNetworkReply::ProtocolUnknownError) {
        fail(reply->errorString());
        return;
    }
    const QString reason =
        reply->error() == QNetworkReply::OperationCanceledError
            ? QStringLiteral("no data for %1 s").arg(m_policy.stallTimeoutMs / 1000.0)
            : (status ? QStringLiteral("HTTP %1").arg(status) : reply->errorString());
    retryOrFail(reason);
}

void Transfer::retryOrFail(const QString &reason)
{
    if (m_attempt > m_policy.retries) {
        fail(QStringLiteral("%1 (after %2 attempts)").arg(reason).arg(m_attempt));
        return;
    }
    if (!m_resumable && m_done > 0) { // cannot resume: start over
        m_file.resize(0);
        m_file.seek(0);
        m_hash.reset();
        m_done = 0;
    }
    const int delay = m_policy.retryDelayMs << (m_attempt - 1);
    qCInfo(lcDownloads).noquote() << "download of" << m_url.toString() << "broke:" << reason
                                  << "- attempt" << m_attempt + 1 << "in" << delay << "ms"
                                  << (m_done > 0 ? QStringLiteral("from byte %1").arg(m_done)
                                                 : QString());
    m_retryTimer.start(delay);
}

void Transfer::fail(const QString &reason)
{
    if (m_ended)
        return;
    abort(); // nothing half-written stays
    Q_EMIT finished(false, reason);
}

} // namespace comfy
