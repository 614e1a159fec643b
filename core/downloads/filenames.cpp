#include "downloads/filenames.h"

#include <QCryptographicHash>

namespace comfy {

namespace {
QString safeName(const QString &name)
{
    QString safe;
    safe.reserve(name.size());
    for (const QChar c : name) {
        const bool plain = (c >= QLatin1Char('a') && c <= QLatin1Char('z')) ||
                           (c >= QLatin1Char('A') && c <= QLatin1Char('Z')) ||
                           (c >= QLatin1Char('0') && c <= QLatin1Char('9')) ||
                           c == QLatin1Char('.') || c == QLatin1Char('-') || c == QLatin1Char('_');
        safe += plain ? c : QLatin1Char('_');
    }
    while (safe.startsWith(QLatin1Char('.')))
        safe.remove(0, 1); // no hidden files, no ".."
    return safe.left(120);
}
} // namespace

QString linkFileName(const QString &cacheFileName, const QString &folder)
{
    // The extensions ComfyUI (folder_paths) lists in each kind of folder.
    static const QStringList images = {QStringLiteral(".png"),  QStringLiteral(".jpg"),
                                       QStringLiteral(".jpeg"), QStringLiteral(".webp"),
                                       QStringLiteral(".gif"),  QStringLiteral(".bmp"),
                                       QStringLiteral(".tif"),  QStringLiteral(".tiff")};
    static const QStringList models = {QStringLiteral(".safetensors"), QStringLiteral(".sft"),
                                       QStringLiteral(".ckpt"),        QStringLiteral(".pt"),
                                       QStringLiteral(".pt2"),         QStringLiteral(".pth"),
                                       QStringLiteral(".bin"),         QStringLiteral(".pkl")};
    const bool input =
        folder == QLatin1String("input") || folder.startsWith(QLatin1String("input/"));
    const QStringList &known = input ? images : models;
    for (const QString &extension : known)
        if (cacheFileName.endsWith(extension, Qt::CaseInsensitive))
            return cacheFileName;
    return cacheFileName + known.first();
}

QString downloadFileName(const QUrl &url)
{
    const QByteArray hash = QCryptographicHash::hash(url.toString(QUrl::FullyEncoded).toUtf8(),
                                                     QCryptographicHash::Sha256)
                                .toHex()
                                .left(10);
    QString name = safeName(url.fileName(QUrl::FullyDecoded));
    if (name.isEmpty())
        name = QStringLiteral("download");
    return QString::fromLatin1(hash) + QLatin1Char('-') + name;
}

QString inlineImageFileName(const QByteArray &data, const QString &extension)
{
    return QStringLiteral("inline-") +
           QString::fromLatin1(
               QCryptographicHash::hash(data, QCryptographicHash::Sha256).toHex().left(24)) +
           QLatin1Char('.') + extension;
}

} // namespace comfy
