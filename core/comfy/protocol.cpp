#include "comfy/protocol.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QUrlQuery>
#include <QtEndian>

namespace comfy::protocol {

namespace {

MessageType typeOf(const QString &name)
{
    static const QHash<QString, MessageType> types = {
        {QStringLiteral("status"), MessageType::Status},
        {QStringLiteral("execution_start"), MessageType::ExecutionStart},
        {QStringLiteral("execution_cached"), MessageType::ExecutionCached},
        {QStringLiteral("executing"), MessageType::Executing},
        {QStringLiteral("progress"), MessageType::Progress},
        {QStringLiteral("executed"), MessageType::Executed},
        {QStringLiteral("execution_success"), MessageType::ExecutionSuccess},
        {QStringLiteral("execution_error"), MessageType::ExecutionError},
        {QStringLiteral("execution_interrupted"), MessageType::ExecutionInterrupted},
    };
    return types.value(name, MessageType::Unknown);
}

} // namespace

std::optional<Message> parseText(const QByteArray &text)
{
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(text, &error);
    if (error.error != QJsonParseError::NoError || !document.isObject())
        return std::nullopt;
    const QJsonObject root = document.object();
    Message message;
    message.typeName = root.value(QLatin1String("type")).toString();
    message.type = typeOf(message.typeName);
    message.data = root.value(QLatin1String("data")).toObject();
    const QJsonObject &data = message.data;
    message.promptId = data.value(QLatin1String("prompt_id")).toString();
    const QJsonValue node = data.value(QLatin1String("node"));
    message.node = node.isString() ? node.toString() : QString();
    message.nodeIsNull = node.isNull();
    if (message.type == MessageType::Progress) {
        message.value = data.value(QLatin1String("value")).toInt();
        message.max = data.value(QLatin1String("max")).toInt();
    }
    if (message.type == MessageType::Status) {
        const QJsonObject exec = data.value(QLatin1String("status"))
                                     .toObject()
                                     .value(QLatin1String("exec_info"))
                                     .toObject();
        message.queueRemaining = exec.value(QLatin1String("queue_remaining")).toInt(-1);
    }
    return message;
}

QByteArray BinaryFrame::mimeType() const
{
    switch (imageType) {
    case 1:
        return QByteArrayLiteral("image/jpeg");
    case 2:
        return QByteArrayLiteral("image/png");
    default:
        return sniffImageType(image);
    }
}

std::optional<BinaryFrame> parseBinary(const QByteArray &frame)
{
    if (frame.size() < 8)
        return std::nullopt;
    BinaryFrame result;
    result.eventType = qFromBigEndian<quint32>(frame.constData());
    result.imageType = qFromBigEndian<quint32>(frame.constData() + 4);
    result.image = frame.mid(8);
    return result;
}

QString ImageRef::viewQuery() const
{
    QUrlQuery query;
    query.addQueryItem(QStringLiteral("filename"), filename);
    query.addQueryItem(QStringLiteral("subfolder"), subfolder);
    query.addQueryItem(QStringLiteral("type"), type);
    return query.toString(QUrl::FullyEncoded);
}

QList<ImageRef> imagesOf(const QJsonObject &output)
{
    QList<ImageRef> refs;
    for (const QJsonValue &value : output.value(QLatin1String("images")).toArray()) {
        const QJsonObject image = value.toObject();
        ImageRef ref{image.value(QLatin1String("filename")).toString(),
                     image.value(QLatin1String("subfolder")).toString(),
                     image.value(QLatin1String("type")).toString(QStringLiteral("output"))};
        if (!ref.filename.isEmpty())
            refs.append(ref);
    }
    return refs;
}

QString describeRejection(const QJsonObject &body)
{
    QStringList parts;
    const QJsonValue error = body.value(QLatin1String("error"));
    if (error.isString()) {
        parts << error.toString();
    } else {
        const QJsonObject e = error.toObject();
        QString text = e.value(QLatin1String("message")).toString();
        const QString details = e.value(QLatin1String("details")).toString();
        if (!details.isEmpty())
            text += QStringLiteral(" (%1)").arg(details);
        if (!text.isEmpty())
            parts << text;
    }
    const QJsonObject nodeErrors = body.value(QLatin1String("node_errors")).toObject();
    for (auto it = nodeErrors.begin(); it != nodeErrors.end(); ++it) {
        const QJsonObject node = it.value().toObject();
        QStringList errors;
        for (const QJsonValue &value : node.value(QLatin1String("errors")).toArray()) {
            const QJsonObject e = value.toObject();
            QString text = e.value(QLatin1String("message")).toString();
            const QString details = e.value(QLatin1String("details")).toString();
            if (!details.isEmpty())
                text += QStringLiteral(": ") + details;
            errors << text;
        }
        parts << QStringLiteral("node %1 (%2): %3")
                     .arg(it.key(), node.value(QLatin1String("class_type")).toString(),
                          errors.join(QStringLiteral("; ")));
    }
    return parts.isEmpty() ? QStringLiteral("the node rejected the workflow")
                           : parts.join(QStringLiteral("; "));
}

QString describeExecutionError(const QJsonObject &data)
{
    QString text = QStringLiteral("node %1 (%2) failed")
                       .arg(data.value(QLatin1String("node_id")).toString(),
                            data.value(QLatin1String("node_type")).toString());
    const QString type = data.value(QLatin1String("exception_type")).toString();
    const QString message = data.value(QLatin1String("exception_message")).toString().trimmed();
    if (!type.isEmpty() || !message.isEmpty())
        text += QStringLiteral(": ") +
                (type.isEmpty() ? message : type + QStringLiteral(": ") + message);
    return text;
}

QString describeInterruption(const QJsonObject &data)
{
    const QString node = data.value(QLatin1String("node_id")).toString();
    if (node.isEmpty())
        return QStringLiteral("interrupted");
    return QStringLiteral("interrupted at node %1 (%2)")
        .arg(node, data.value(QLatin1String("node_type")).toString());
}

QByteArray sniffImageType(const QByteArray &bytes)
{
    if (bytes.startsWith("\x89PNG\r\n\x1a\n"))
        return QByteArrayLiteral("image/png");
    if (bytes.startsWith("\xff\xd8\xff"))
        return QByteArrayLiteral("image/jpeg");
    if (bytes.startsWith("RIFF") && bytes.mid(8, 4) == "WEBP")
        return QByteArrayLiteral("image/webp");
    if (bytes.startsWith("GIF8"))
        return QByteArrayLiteral("image/gif");
    return QByteArrayLiteral("application/octet-stream");
}

} // namespace comfy::protocol
