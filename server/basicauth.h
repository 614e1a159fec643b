#pragma once

#include <QByteArray>
#include <QString>

class QHttpServerRequest;

namespace comfy::server {

// The one auth check: HTTP Basic against the configured username and password, compared in
// constant time.
class BasicAuth {
public:
    BasicAuth(const QString &username, const QString &password);
    bool accepts(const QHttpServerRequest &request) const;

private:
    QByteArray m_expected; // "username:password"
};

} // namespace comfy::server
