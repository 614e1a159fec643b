#include "imaging.h"

#include <QBuffer>
#include <QCryptographicHash>
#include <QImageWriter>
#include <QtEndian>

#include <algorithm>
#include <cmath>

namespace simnode::imaging {

namespace {

quint64 splitmix(quint64 &state)
{
    quint64 z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

QRgb colorFrom(quint64 &state)
{
    const quint64 v = splitmix(state);
    return qRgb(int(v & 0xff), int((v >> 8) & 0xff), int((v >> 16) & 0xff));
}

int lerp(int a, int b, double t)
{
    return int(std::lround(a + (b - a) * t));
}

} // namespace

quint64 mix(quint64 a, quint64 b)
{
    quint64 state = a ^ (b + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2));
    return splitmix(state);
}

quint64 hashBytes(const QByteArray &bytes)
{
    const QByteArray digest = QCryptographicHash::hash(bytes, QCryptographicHash::Sha1);
    return qFromBigEndian<quint64>(digest.constData());
}

quint64 hashString(const QString &text)
{
    return hashBytes(text.toUtf8());
}

QImage pattern(quint64 seed, int width, int height)
{
    width = std::max(1, width);
    height = std::max(1, height);
    quint64 state = seed;
    const QRgb c1 = colorFrom(state);
    const QRgb c2 = colorFrom(state);
    const QRgb c3 = colorFrom(state);
    const double angle = double(splitmix(state) % 360) * M_PI / 180.0;
    const double dx = std::cos(angle);
    const double dy = std::sin(angle);
    const double span = std::abs(dx) * width + std::abs(dy) * height;
    const double offset = std::min(0.0, dx * width) + std::min(0.0, dy * height);

    QImage image(width, height, QImage::Format_RGB32);
    for (int y = 0; y < height; ++y) {
        auto *line = reinterpret_cast<QRgb *>(image.scanLine(y));
        for (int x = 0; x < width; ++x) {
            const double t = span > 0 ? ((x * dx + y * dy) - offset) / span : 0.0;
            line[x] = qRgb(lerp(qRed(c1), qRed(c2), t), lerp(qGreen(c1), qGreen(c2), t),
                           lerp(qBlue(c1), qBlue(c2), t));
        }
    }
    // A few soft discs so that pictures of different seeds are told apart at a glance.
    const int shapes = 2 + int(splitmix(state) % 3);
    for (int i = 0; i < shapes; ++i) {
        const int alpha = 90 + int(splitmix(state) % 100);
        const int r = std::max(1, int((splitmix(state) % 40 + 10) * std::min(width, height) / 100));
        const int cx = int(splitmix(state) % quint64(width));
        const int cy = int(splitmix(state) % quint64(height));
        for (int y = std::max(0, cy - r); y <= std::min(height - 1, cy + r); ++y) {
            auto *line = reinterpret_cast<QRgb *>(image.scanLine(y));
            for (int x = std::max(0, cx - r); x <= std::min(width - 1, cx + r); ++x) {
                if ((x - cx) * (x - cx) + (y - cy) * (y - cy) > r * r)
                    continue;
                const double t = alpha / 255.0;
                line[x] =
                    qRgb(lerp(qRed(line[x]), qRed(c3), t), lerp(qGreen(line[x]), qGreen(c3), t),
                         lerp(qBlue(line[x]), qBlue(c3), t));
            }
        }
    }
    return image;
}

QImage blend(const QImage &base, const QImage &over, double strength)
{
    QImage out = base.convertToFormat(QImage::Format_RGB32);
    const QImage top = over.convertToFormat(QImage::Format_RGB32)
                           .scaled(out.size(), Qt::IgnoreAspectRatio, Qt::FastTransformation);
    strength = std::clamp(strength, 0.0, 1.0);
    for (int y = 0; y < out.height(); ++y) {
        auto *line = reinterpret_cast<QRgb *>(out.scanLine(y));
        const auto *src = reinterpret_cast<const QRgb *>(top.constScanLine(y));
        for (int x = 0; x < out.width(); ++x) {
            line[x] = qRgb(lerp(qRed(line[x]), qRed(src[x]), strength),
                           lerp(qGreen(line[x]), qGreen(src[x]), strength),
                           lerp(qBlue(line[x]), qBlue(src[x]), strength));
        }
    }
    return out;
}

QByteArray encodePng(const QImage &image, const QList<QPair<QString, QString>> &text,
                     int compression)
{
    QByteArray bytes;
    QBuffer buffer(&bytes);
    buffer.open(QIODevice::WriteOnly);
    QImageWriter writer(&buffer, "png");
    writer.setCompression(compression);
    for (const auto &[key, value] : text)
        writer.setText(key, value);
    writer.write(image);
    return bytes;
}

QByteArray encodeJpeg(const QImage &image, int quality)
{
    QByteArray bytes;
    QBuffer buffer(&bytes);
    buffer.open(QIODevice::WriteOnly);
    QImageWriter writer(&buffer, "jpeg");
    writer.setQuality(quality);
    writer.write(image.convertToFormat(QImage::Format_RGB32));
    return bytes;
}

QByteArray previewFrame(const QImage &image, FrameFormat format)
{
    QByteArray frame(8, '\0');
    qToBigEndian<quint32>(1, frame.data());
    qToBigEndian<quint32>(quint32(format), frame.data() + 4);
    frame += format == FrameFormat::Png ? encodePng(image) : encodeJpeg(image);
    return frame;
}

} // namespace simnode::imaging
