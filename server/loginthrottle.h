#pragma once

#include <QElapsedTimer>
#include <QHash>
#include <QHostAddress>
#include <QString>

#include <functional>

namespace comfy::server {

// Failed logins per client address. After `freeFailures` failures in a row an address is
// blocked for a back-off that doubles with every further failure (first 0.5 s, at most 30 s);
// while blocked its attempts are answered 429 without looking at the credentials. Nothing
// waits: a blocked address gets its answer at once. A success forgets the address; so does a
// quiet period. Other addresses are never affected. IPv6 clients count per /64, the block a
// single host usually holds.
class LoginThrottle {
    Q_DISABLE_COPY_MOVE(LoginThrottle)
public:
    struct Policy {
        int freeFailures = 5;
        qint64 firstBackoffMs = 500;
        qint64 maxBackoffMs = 30000;
        qint64 forgetAfterMs = 15 * 60 * 1000; // failures this old no longer count
        qsizetype maxAddresses = 10000;        // bounds the table under a distributed attack
    };
    using Clock = std::function<qint64()>; // monotonic milliseconds

    LoginThrottle();
    explicit LoginThrottle(Policy policy, Clock clock = {});

    // 0 when the address may try; otherwise how long it must wait.
    qint64 blockedForMs(const QHostAddress &address) const;
    // Returns the back-off this failure starts (0 while failures are still free).
    qint64 recordFailure(const QHostAddress &address);
    void recordSuccess(const QHostAddress &address);
    qsizetype trackedAddresses() const { return m_entries.size(); }

    static QString keyOf(const QHostAddress &address);

private:
    struct Entry {
        int failures = 0;
        qint64 lastFailureMs = 0;
        qint64 blockedUntilMs = 0;
    };
    qint64 now() const;
    void makeRoom();

    Policy m_policy;
    Clock m_clock;
    QElapsedTimer m_elapsed;
    QHash<QString, Entry> m_entries;
};

} // namespace comfy::server
