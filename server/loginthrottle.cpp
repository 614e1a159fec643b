#include "loginthrottle.h"

#include "httpfront.h"

#include <algorithm>

namespace comfy::server {

LoginThrottle::LoginThrottle()
    : LoginThrottle(Policy{})
{
}

LoginThrottle::LoginThrottle(Policy policy, Clock clock)
    : m_policy(policy)
    , m_clock(std::move(clock))
{
    m_elapsed.start();
}

qint64 LoginThrottle::now() const
{
    return m_clock ? m_clock() : m_elapsed.elapsed();
}

QString LoginThrottle::keyOf(const QHostAddress &address)
{
    bool isIPv4 = false;
    const quint32 ipv4 = address.toIPv4Address(&isIPv4); // ::ffff:a.b.c.d counts as a.b.c.d
    if (isIPv4)
        return QHostAddress(ipv4).toString();
    if (address.protocol() == QAbstractSocket::IPv6Protocol) {
        Q_IPV6ADDR bytes = address.toIPv6Address();
        std::fill(std::begin(bytes.c) + 8, std::end(bytes.c), quint8(0));
        return QHostAddress(bytes).toString() + QStringLiteral("/64");
    }
    return address.toString();
}

qint64 LoginThrottle::blockedForMs(const QHostAddress &address) const
{
    if (m_entries.isEmpty())
        return 0; // the usual case: no failure anywhere, no key to build on every request
    const auto it = m_entries.constFind(keyOf(address));
    if (it == m_entries.cend())
        return 0;
    return std::max<qint64>(0, it->blockedUntilMs - now());
}

qint64 LoginThrottle::recordFailure(const QHostAddress &address)
{
    const QString key = keyOf(address);
    const qint64 at = now();
    auto it = m_entries.find(key);
    if (it == m_entries.end()) {
        makeRoom();
        it = m_entries.insert(key, Entry{});
    } else if (at - it->lastFailureMs > m_policy.forgetAfterMs) {
        *it = Entry{};
    }
    ++it->failures;
    it->lastFailureMs = at;
    const int over = it->failures - m_policy.freeFailures;
    if (over < 0)
        return 0;
    // 0.5 s, 1 s, 2 s, ... capped; the shift is capped too, so it cannot overflow.
    const qint64 backoff =
        std::min(m_policy.maxBackoffMs, m_policy.firstBackoffMs << std::min(over, 20));
    it->blockedUntilMs = at + backoff;
    if (over == 0)
        qCWarning(lcHttp).noquote() << it->failures << "failed logins in a row from" << key
                                    << "- further attempts get 429 for a while";
    return backoff;
}

void LoginThrottle::recordSuccess(const QHostAddress &address)
{
    if (!m_entries.isEmpty())
        m_entries.remove(keyOf(address));
}

void LoginThrottle::makeRoom()
{
    if (m_entries.size() < m_policy.maxAddresses)
        return;
    const qint64 at = now();
    m_entries.removeIf([this, at](QHash<QString, Entry>::iterator it) {
        return at - it->lastFailureMs > m_policy.forgetAfterMs && at >= it->blockedUntilMs;
    });
    if (m_entries.size() < m_policy.maxAddresses)
        return;
    // Still full of recent failures: the oldest one goes.
    const auto oldest =
        std::min_element(m_entries.begin(), m_entries.end(), [](const Entry &a, const Entry &b) {
            return a.lastFailureMs < b.lastFailureMs;
        });
    m_entries.erase(oldest);
}

} // namespace comfy::server
