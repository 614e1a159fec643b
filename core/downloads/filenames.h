#pragma once

#include <QByteArray>
#include <QString>
#include <QUrl>

namespace comfy {

// The name a downloaded file gets in its ComfyUI folder: a short hash of the full URL (query
// included: two URLs that differ only in their query are different files), then the URL's
// own file name with its extension (ComfyUI filters model folders by extension), reduced to
// safe characters. Never a path separator or "..".
QString downloadFileName(const QUrl &url);

// The name an inline (base64) image gets in input/: a hash of its bytes and the extension of
// its format, so the same image is written once.
QString inlineImageFileName(const QByteArray &data, const QString &extension);

} // namespace comfy
