#pragma once

#include <QByteArray>
#include <QString>

namespace comfy {

// Writes a whole file under a temporary name in its folder, then renames it over the target:
// readers (and a restart after a crash) see the old file or the new one, never a part. No
// fsync: it guards against the process dying, not the machine losing power (as SQLite in WAL
// mode with synchronous=NORMAL does), and keeps the write off the disk's latency (inline images
// are written on the submit path).
// Renames over an existing target atomically (POSIX rename; QFile::rename refuses to replace).
bool renameOver(const QString &from, const QString &to);

bool writeFileAtomically(const QString &path, const QByteArray &data, QString *error = nullptr);

} // namespace comfy
