#include "multipart.h"

#include <QUrl>

namespace simnode {

namespace {

// The value of a header parameter: name="value" or name=value.
QByteArray parameter(const QByteArray &header, const QByteArray &name, bool *found)
{
    *found = false;
    const QList<QByteArray> items = header.split(';');
    for (const QByteArray &item : items) {
        const QByteArray trimmed = item.trimmed();
        const qsizetype eq = trimmed.indexOf('=');
        if (eq < 0 || trimmed.left(eq).trimmed().toLower() != name)
            continue;
        QByteArray value = trimmed.mid(eq + 1).trimmed();
        if (value.size() >= 2 && value.startsWith('"') && value.endsWith('"')) {
            value = value.mid(1, value.size() - 2);
            value.replace("\\\"", "\"");
            value.replace("\\\\", "\\");
        }
        *found = true;
        return value;
    }
    return QByteArray();
}

} // namespace

std::optional<QList<FormPart>> parseMultipart(const QByteArray &contentType, const QByteArray &body)
{
    if (!contentType.trimmed().toLower().startsWith("multipart/form-data"))
        return std::nullopt;
    bool found = false;
    const QByteArray boundary = parameter(contentType, "boundary", &found);
    if (!found || boundary.isEmpty())
        return std::nullopt;
    const QByteArray delimiter = "--" + boundary;

    QList<FormPart> parts;
    qsizetype pos = body.indexOf(delimiter);
    if (pos < 0)
        return std::nullopt;
    while (true) {
        pos += delimiter.size();
        if (body.mid(pos, 2) == "--")
            break; // the closing delimiter
        if (body.mid(pos, 2) != "\r\n")
            return std::nullopt;
        pos += 2;
        const qsizetype headerEnd = body.indexOf("\r\n\r\n", pos);
        if (headerEnd < 0)
            return std::nullopt;
        const QList<QByteArray> headers = body.mid(pos, headerEnd - pos).split('\n');
        const qsizetype dataStart = headerEnd + 4;
        const qsizetype next = body.indexOf("\r\n" + delimiter, dataStart);
        if (next < 0)
            return std::nullopt;
        FormPart part;
        for (const QByteArray &line : headers) {
            const qsizetype colon = line.indexOf(':');
            if (colon < 0)
                continue;
            const QByteArray key = line.left(colon).trimmed().toLower();
            const QByteArray value = line.mid(colon + 1).trimmed();
            if (key == "content-disposition") {
                bool has = false;
                part.name = QString::fromUtf8(parameter(value, "name", &has));
                const QByteArray filename = parameter(value, "filename", &part.hasFilename);
                part.filename = QString::fromUtf8(filename);
                bool hasStar = false;
                const QByteArray filenameStar = parameter(value, "filename*", &hasStar);
                if (hasStar) {
                    // RFC 5987: utf-8''percent-encoded
                    const qsizetype quote = filenameStar.lastIndexOf('\'');
                    part.filename = QUrl::fromPercentEncoding(filenameStar.mid(quote + 1));
                    part.hasFilename = true;
                }
            } else if (key == "content-type") {
                part.contentType = value;
            }
        }
        part.data = body.mid(dataStart, next - dataStart);
        parts << part;
        pos = next + 2;
    }
    return parts;
}

} // namespace simnode
