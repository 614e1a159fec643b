#pragma once

#include <QByteArray>
#include <QList>
#include <QString>

#include <optional>

namespace simnode {

// One part of a multipart/form-data body (POST /upload/image).
struct FormPart {
    QString name;
    QString filename; // empty for a plain field
    bool hasFilename = false;
    QByteArray contentType;
    QByteArray data;
};

// nullopt when the body is not multipart/form-data or is malformed.
std::optional<QList<FormPart>> parseMultipart(const QByteArray &contentType,
                                              const QByteArray &body);

} // namespace simnode
