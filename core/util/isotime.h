#pragma once

#include <QDateTime>
#include <QJsonValue>
#include <QString>

namespace comfy {

// The one time format of the API, the database and the cache record: ISO 8601 UTC with
// milliseconds; an unset time is "" (text) or null (JSON).
inline QString isoTime(const QDateTime &time)
{
    return time.isValid() ? time.toString(Qt::ISODateWithMs) : QString();
}

// The reverse of isoTime(): "" (or anything unreadable) is an unset time.
inline QDateTime fromIsoTime(const QString &text)
{
    return text.isEmpty() ? QDateTime() : QDateTime::fromString(text, Qt::ISODateWithMs);
}

inline QJsonValue isoTimeOrNull(const QDateTime &time)
{
    return time.isValid() ? QJsonValue(isoTime(time)) : QJsonValue();
}

} // namespace comfy
