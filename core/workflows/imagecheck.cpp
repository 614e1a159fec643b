#include "workflows/imagecheck.h"

#include <QtEndian>

namespace comfy {

namespace {
quint32 be32(const QByteArray &b, qsizetype at)
{
    return qFromBigEndian<quint32>(b.constData() + at);
}
quint16 be16(const QByteArray &b, qsizetype at)
{
    return qFromBigEndian<quint16>(b.constData() + at);
}

std::optional<ImageFacts> jpeg(const QByteArray &b)
{
    // Walk the markers to a start-of-frame, which carries the size.
    qsizetype at = 2;
    while (at + 9 < b.size()) {
        if (quint8(b[at]) != 0xFF)
            return std::nullopt;
        const quint8 marker = quint8(b[at + 1]);
        if (marker == 0xFF) {
            ++at;
            continue;
        }
        const quint16 length = be16(b, at + 2);
        if (length < 2)
            return std::nullopt;
        const bool frame =
            marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
        if (frame)
            return ImageFacts{QStringLiteral("jpeg"), QStringLiteral("jpg"), be16(b, at + 7),
                              be16(b, at + 5)};
        at += 2 + length;
    }
    return std::nullopt;
}

quint32 le24(const QByteArray &b, qsizetype at)
{
    return quint32(quint8(b[at])) | quint32(quint8(b[at + 1])) << 8 |
           quint32(quint8(b[at + 2])) << 16;
}

// The size from the first chunk of a WebP file (RFC 9649): VP8X carries the canvas size,
// VP8L and VP8 their bitstream's frame size. 0x0 when the chunk is none of them.
ImageFacts webp(const QByteArray &b)
{
    ImageFacts facts{QStringLiteral("webp"), QStringLiteral("webp"), 0, 0};
    const QByteArray chunk = b.mid(12, 4);
    if (chunk == "VP8X" && b.size() >= 30) {
        facts.width = int(le24(b, 24)) + 1;
        facts.height = int(le24(b, 27)) + 1;
    } else if (chunk == "VP8L" && b.size() >= 25 && quint8(b[20]) == 0x2F) {
        const quint32 bits = qFromLittleEndian<quint32>(b.constData() + 21);
        facts.width = int(bits & 0x3FFF) + 1;
        facts.height = int((bits >> 14) & 0x3FFF) + 1;
    } else if (chunk == "VP8 " && b.size() >= 30 && quint8(b[23]) == 0x9D &&
               quint8(b[24]) == 0x01 && quint8(b[25]) == 0x2A) {
        facts.width = qFromLittleEndian<quint16>(b.constData() + 26) & 0x3FFF;
        facts.height = qFromLittleEndian<quint16>(b.constData() + 28) & 0x3FFF;
    }
    return facts;
}
} // namespace

std::optional<ImageFacts> inspectImage(const QByteArray &b)
{
    if (b.size() >= 24 && b.startsWith("\x89PNG\r\n\x1a\n") && b.mid(12, 4) == "IHDR") {
        const quint32 w = be32(b, 16);
        const quint32 h = be32(b, 20);
        if (w == 0 || h == 0 || w > 1u << 20 || h > 1u << 20)
            return std::nullopt;
        return ImageFacts{QStringLiteral("png"), QStringLiteral("png"), int(w), int(h)};
    }
    if (b.size() >= 12 && b.startsWith("\xff\xd8\xff"))
        return jpeg(b);
    if (b.size() >= 16 && b.startsWith("RIFF") && b.mid(8, 4) == "WEBP")
        return webp(b);
    if (b.size() >= 10 && (b.startsWith("GIF87a") || b.startsWith("GIF89a")))
        return ImageFacts{QStringLiteral("gif"), QStringLiteral("gif"),
                          qFromLittleEndian<quint16>(b.constData() + 6),
                          qFromLittleEndian<quint16>(b.constData() + 8)};
    if (b.size() >= 26 && b.startsWith("BM"))
        return ImageFacts{QStringLiteral("bmp"), QStringLiteral("bmp"),
                          qFromLittleEndian<qint32>(b.constData() + 18),
                          std::abs(qFromLittleEndian<qint32>(b.constData() + 22))};
    return std::nullopt;
}

} // namespace comfy
