#pragma once

#include "config/settings.h"

#include <QTemporaryDir>

namespace testsupport {

// Settings whose download cache, ComfyUI root, record and data (database) live in a temporary
// folder of this test alone: the router reconciles its cache folder at start, so tests must never
// share one.
class IsolatedSettings {
public:
    comfy::Settings apply(comfy::Settings settings) const
    {
        settings.downloadCacheDir = m_dir.filePath(QStringLiteral("cache"));
        settings.downloadRootDir = m_dir.filePath(QStringLiteral("root"));
        settings.downloadRecordPath = m_dir.filePath(QStringLiteral("record.json"));
        settings.dataDir = m_dir.filePath(QStringLiteral("data"));
        return settings;
    }
    QString path(const QString &name) const { return m_dir.filePath(name); }

private:
    QTemporaryDir m_dir;
};

} // namespace testsupport
