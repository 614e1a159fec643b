#pragma once

#include <QByteArray>
#include <QString>

#include <optional>

namespace comfy {

struct ImageFacts {
    QString format;    // "png", "jpeg", "webp", "gif", "bmp"
    QString extension; // the file extension for it
    int width = 0;     // 0 when the header does not tell cheaply
    int height = 0;
};

// Whether bytes are an image ComfyUI's LoadImage opens, from the file's own header (the core
// has no image decoder): PNG (signature + IHDR), JPEG (SOI + a frame header), WebP, GIF, BMP.
std::optional<ImageFacts> inspectImage(const QByteArray &bytes);

} // namespace comfy
