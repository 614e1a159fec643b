#pragma once

#include <QByteArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QUrl>

namespace testsupport {

struct HttpReply {
    int status = 0;
    QByteArray body;
    QJsonDocument json;
    QHash<QByteArray, QByteArray> headers; // lower-case names
    QJsonObject object() const { return json.object(); }
    QString message() const { return json.object().value(QLatin1String("message")).toString(); }
};

// A blocking (event-loop waiting) HTTP client for tests, with Basic auth by default.
class HttpClient {
public:
    explicit HttpClient(const QUrl &base, QByteArray user = "admin", QByteArray password = "admin");
    HttpReply get(const QString &path, bool auth = true);
    HttpReply post(const QString &path, const QByteArray &body, bool auth = true);
    HttpReply post(const QString &path, const QJsonObject &body, bool auth = true);
    HttpReply send(const QByteArray &method, const QString &path, const QByteArray &body = {},
                   bool auth = true, const QByteArray &authorization = {});

private:
    QUrl m_base;
    QByteArray m_authorization;
    QNetworkAccessManager m_network;
};

} // namespace testsupport
