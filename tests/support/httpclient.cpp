#include "httpclient.h"

#include <QBuffer>
#include <QNetworkProxy>
#include <QNetworkReply>
#include <QSignalSpy>

namespace testsupport {

HttpClient::HttpClient(const QUrl &base, QByteArray user, QByteArray password)
    : m_base(base)
    , m_authorization("Basic " + (user + ':' + password).toBase64())
{
    m_network.setProxy(QNetworkProxy::NoProxy);
}

HttpReply HttpClient::get(const QString &path, bool auth)
{
    return send("GET", path, {}, auth);
}

HttpReply HttpClient::post(const QString &path, const QByteArray &body, bool auth)
{
    return send("POST", path, body, auth);
}

HttpReply HttpClient::post(const QString &path, const QJsonObject &body, bool auth)
{
    return send("POST", path, QJsonDocument(body).toJson(QJsonDocument::Compact), auth);
}

HttpReply HttpClient::send(const QByteArray &method, const QString &path, const QByteArray &body,
                           bool auth, const QByteArray &authorization)
{
    QNetworkRequest request(m_base.resolved(QUrl(path)));
    request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    if (!authorization.isEmpty())
        request.setRawHeader("Authorization", authorization);
    else if (auth)
        request.setRawHeader("Authorization", m_authorization);
    QNetworkReply *reply = m_network.sendCustomRequest(request, method, body);
    QSignalSpy finished(reply, &QNetworkReply::finished);
    if (!reply->isFinished())
        finished.wait(15000);
    HttpReply result;
    result.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    result.body = reply->readAll();
    result.json = QJsonDocument::fromJson(result.body);
    for (const auto &pair : reply->rawHeaderPairs())
        result.headers.insert(pair.first.toLower(), pair.second);
    reply->deleteLater();
    return result;
}

} // namespace testsupport
