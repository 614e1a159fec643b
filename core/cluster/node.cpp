#include "cluster/node.h"

namespace comfy {

QString nodeStateName(NodeState state)
{
    switch (state) {
    case NodeState::Idle:
        return QStringLiteral("idle");
    case NodeState::Busy:
        return QStringLiteral("busy");
    case NodeState::Offline:
        break;
    }
    return QStringLiteral("offline");
}

QUrl normalizeNodeUrl(const QString &text)
{
    QUrl url(text.trimmed(), QUrl::StrictMode);
    if (!url.isValid() || url.host().isEmpty() || !url.userInfo().isEmpty() ||
        (url.scheme() != QLatin1String("http") && url.scheme() != QLatin1String("https")) ||
        url.hasQuery() || url.hasFragment())
        return {};
    for (const QString &part : url.path(QUrl::FullyDecoded).split(QLatin1Char('/')))
        if (part == QLatin1String(".") || part == QLatin1String(".."))
            return {}; // a node's address never needs them: refuse rather than guess
    QString path = url.path();
    if (!path.endsWith(QLatin1Char('/')))
        path += QLatin1Char('/');
    url.setPath(path);
    url.setHost(url.host().toLower());
    return url.adjusted(QUrl::NormalizePathSegments);
}

} // namespace comfy
