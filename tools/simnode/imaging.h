#pragma once

#include <QByteArray>
#include <QImage>
#include <QList>
#include <QPair>
#include <QString>

// Pictures of the simulated node: deterministic patterns computed from a seed, real PNG/JPEG.
namespace simnode::imaging {

quint64 mix(quint64 a, quint64 b);
quint64 hashString(const QString &text);
quint64 hashBytes(const QByteArray &bytes);

// A smooth gradient with a few shapes, the same for the same seed and size.
QImage pattern(quint64 seed, int width, int height);
// The same pattern blended with an existing picture (img2img, inpainting): strength 0..1.
QImage blend(const QImage &base, const QImage &over, double strength);

// PNG with text chunks (ComfyUI stores "prompt" and "workflow" in its PNGs).
QByteArray encodePng(const QImage &image, const QList<QPair<QString, QString>> &text = {},
                     int compression = 1);
QByteArray encodeJpeg(const QImage &image, int quality = 85);

// A websocket binary frame: 4-byte big-endian event type (1 = preview image), 4-byte big-endian
// image type (1 = JPEG, 2 = PNG), then the encoded picture.
enum class FrameFormat { Jpeg = 1, Png = 2 };
QByteArray previewFrame(const QImage &image, FrameFormat format);

} // namespace simnode::imaging
