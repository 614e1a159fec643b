#include "basicauth.h"

#include <QHttpServerRequest>

namespace comfy::server {

namespace {
bool constantTimeEquals(const QByteArray &a, const QByteArray &b)
{
    // Always walks the expected value's length, so timing tells nothing about the prefix.
    unsigned char diff = a.size() == b.size() ? 0 : 1;
    for (qsizetype i = 0; i < b.size(); ++i)
        diff |= static_cast<unsigned char>(b.at(i) ^ (i < a.size() ? a.at(i) : 0));
    return diff == 0;
}
} // namespace

BasicAuth::BasicAuth(const QString &username, const QString &password)
    : m_expected((username + QLatin1Char(':') + password).toUtf8())
{
}

bool BasicAuth::accepts(const QHttpServerRequest &request) const
{
    for (const auto &header : request.headers()) {
        if (header.first.compare("authorization", Qt::CaseInsensitive) != 0)
            continue;
        const QByteArray value = header.second.trimmed();
        if (!value.left(6).toLower().startsWith("basic "))
            return false;
        const auto decoded = QByteArray::fromBase64Encoding(
            value.mid(6).trimmed(), QByteArray::AbortOnBase64DecodingErrors);
        return decoded && constantTimeEquals(*decoded, m_expected);
    }
    return false;
}

} // namespace comfy::server
