#pragma once

#include <QByteArray>
#include <QHash>
#include <QString>

#include <list>

namespace comfy::server {

// Serialised answers that can no longer change (a finished task's JSON with its base64
// images), kept so that polling clients cost a lookup instead of a serialisation. Least
// recently used first out, bounded by the bytes held.
class BodyCache {
public:
    explicit BodyCache(qsizetype maxBytes)
        : m_maxBytes(maxBytes)
    {
    }

    // A null QByteArray when absent.
    QByteArray find(const QString &key);
    void insert(const QString &key, const QByteArray &body);
    qsizetype bytes() const { return m_bytes; }
    qsizetype size() const { return m_entries.size(); }

private:
    struct Entry {
        QString key;
        QByteArray body;
    };
    using Order = std::list<Entry>; // most recently used first
    qsizetype m_maxBytes;
    qsizetype m_bytes = 0;
    Order m_order;
    QHash<QString, Order::iterator> m_entries;
};

} // namespace comfy::server
