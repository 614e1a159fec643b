#include "basicauth.h"

#include <QHttpServerRequest>

namespace comfy::server {

bool constantTimeEquals(QByteArrayView given, QByteArrayView expected)
{
    // Always walks the expected value's length, so timing tells nothing about the prefix.
    unsigned char diff = given.size() == expected.size() ? 0 : 1;
    for (qsizetype i = 0; i < expected.size(); ++i)
        diff |= static_cast<unsigned char>(expected[i] ^ (i < given.size() ? given[i] : 0));
    return diff == 0;
}

BasicAuth::BasicAuth(const QString &username, const QString &password)
    : m_expected((username + QLatin1Char(':') + password).toUtf8())
{
}

BasicAuth::Verdict BasicAuth::check(const QHttpServerRequest &request) const
{
    for (const auto &header : request.headers()) {
        if (header.first.compare("authorization", Qt::CaseInsensitive) != 0)
            continue;
        const QByteArray value = header.second.trimmed();
        if (!value.left(6).toLower().startsWith("basic "))
            return Verdict::Wrong;
        const auto decoded = QByteArray::fromBase64Encoding(
            value.mid(6).trimmed(), QByteArray::AbortOnBase64DecodingErrors);
        return decoded && constantTimeEquals(*decoded, m_expected) ? Verdict::Accepted
                                                                   : Verdict::Wrong;
    }
    return Verdict::Missing;
}

} // namespace comfy::server
