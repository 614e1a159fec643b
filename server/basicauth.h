#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

class QHttpServerRequest;

namespace comfy::server {

// Whether `given` equals `expected`, in a time that depends on the length of `expected` only:
// how long a wrong guess takes tells nothing about how much of it was right.
bool constantTimeEquals(QByteArrayView given, QByteArrayView expected);

// The one auth check: HTTP Basic against the configured username and password, compared in
// constant time.
class BasicAuth {
public:
    // Missing: no Authorization field at all; Wrong: credentials that do not match (or are not
    // Basic); the login throttle counts only the wrong ones.
    enum class Verdict { Missing, Wrong, Accepted };

    BasicAuth(const QString &username, const QString &password);
    Verdict check(const QHttpServerRequest &request) const;

private:
    QByteArray m_expected; // "username:password"
};

} // namespace comfy::server
