#include "util/atomicfile.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QUuid>

#include <cstdio>

namespace comfy {

bool renameOver(const QString &from, const QString &to)
{
    return std::rename(QFile::encodeName(from).constData(), QFile::encodeName(to).constData()) == 0;
}

bool writeFileAtomically(const QString &path, const QByteArray &data, QString *error)
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile file(path + QStringLiteral(".tmp-") + QUuid::createUuid().toString(QUuid::Id128).left(8));
    const bool written =
        file.open(QIODevice::WriteOnly) && file.write(data) == data.size() && file.flush();
    if (written)
        file.close();
    if (written && renameOver(file.fileName(), path))
        return true;
    if (error)
        *error = file.errorString().isEmpty() ? QStringLiteral("cannot rename into place")
                                              : file.errorString();
    file.remove();
    return false;
}

} // namespace comfy
