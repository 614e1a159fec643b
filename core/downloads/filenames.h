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

// The name a cached download is linked under in a ComfyUI folder ("input", "models/..."): its
// cache name, plus an extension when it has none that ComfyUI lists there. ComfyUI offers only
// files of known types (images in input/, .safetensors and the like in model folders), and
// URLs such as https://civitai.com/api/download/models/123 or https://host/image?id=7 name no
// type: such an image is linked as .png (ComfyUI reads the bytes whatever the name), such a
// model as .safetensors (what model sites serve today).
QString linkFileName(const QString &cacheFileName, const QString &folder);

// The name an inline (base64) image gets in input/: a hash of its bytes and the extension of
// its format, so the same image is written once.
QString inlineImageFileName(const QByteArray &data, const QString &extension);

} // namespace comfy
