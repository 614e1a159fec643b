#include "bodycache.h"

namespace comfy::server {

QByteArray BodyCache::find(const QString &key)
{
    const auto it = m_entries.constFind(key);
    if (it == m_entries.cend())
        return {};
    m_order.splice(m_order.begin(), m_order, it.value());
    return it.value()->body;
}

void BodyCache::insert(const QString &key, const QByteArray &body)
{
    if (body.size() > m_maxBytes / 4)
        return; // one huge answer would push out everything else
    if (const auto it = m_entries.constFind(key); it != m_entries.cend()) {
        m_bytes -= it.value()->body.size();
        m_order.erase(it.value());
        m_entries.erase(it);
    }
    m_order.push_front({key, body});
    m_entries.insert(key, m_order.begin());
    m_bytes += body.size();
    while (m_bytes > m_maxBytes && !m_order.empty()) {
        m_bytes -= m_order.back().body.size();
        m_entries.remove(m_order.back().key);
        m_order.pop_back();
    }
}

} // namespace comfy::server
