#pragma once

#include <QByteArray>
#include <QString>

namespace comfy {

// Writes a whole file under a temporary name in its folder, then renames it over the target:
// readers (and a restart after a crash) see the old file or the new one, never a part. No
// fsync: it guards against the process dying, not the machine losing power, and keeps the
// write off the disk's latency (it sits on the path of every finished task).
// Renames over an existing target atomically (POSIX rename; QFile::rename refuses to replace).
bool renameOver(const QString &from, const QString &to);

bool writeFileAtomically(const QString &path, const QByteArray &data, QString *error = nullptr);

} // namespace comfy
