#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QString>

#include <optional>

// ComfyUI's websocket and HTTP message shapes, as recorded from a real node
// (tests/data/comfyui). Pure functions: no I/O here.
namespace comfy::protocol {

enum class MessageType {
    Status,
    ExecutionStart,
    ExecutionCached,
    Executing,
    Progress,
    Executed,
    ExecutionSuccess,
    ExecutionError,
    ExecutionInterrupted,
    Unknown // newer ComfyUI sends more (progress_state, feature_flags...): ignored
};

struct Message {
    MessageType type = MessageType::Unknown;
    QString typeName;
    QString promptId;        // empty when the message has none (status, reconnect's executing)
    QString node;            // executing/progress/executed
    bool nodeIsNull = false; // executing {"node": null}: the prompt has ended
    int value = 0;           // progress
    int max = 0;             // progress
    int queueRemaining = -1; // status
    QJsonObject data;
};

std::optional<Message> parseText(const QByteArray &text);

// Binary frame: 4-byte big-endian event type, 4-byte big-endian image type, the image.
struct BinaryFrame {
    static constexpr quint32 PreviewImage = 1;
    quint32 eventType = 0;
    quint32 imageType = 0; // 1 JPEG, 2 PNG
    QByteArray image;
    QByteArray mimeType() const;
};

std::optional<BinaryFrame> parseBinary(const QByteArray &frame);

// An image a node keeps in its output/temp folder, fetched with GET /view.
struct ImageRef {
    QString filename;
    QString subfolder;
    QString type;              // output | temp | input
    QString viewQuery() const; // "filename=..&subfolder=..&type=.."
};

// The "images" of an executed message's output (or of a /history output).
QList<ImageRef> imagesOf(const QJsonObject &output);

// A POST /prompt 400 body as one readable sentence: the error and every node error.
QString describeRejection(const QJsonObject &body);
// execution_error data as one sentence: node id, class, exception type and message.
QString describeExecutionError(const QJsonObject &data);
QString describeInterruption(const QJsonObject &data);

// Content type from the first bytes of an image (PNG, JPEG, WebP, GIF), else octet-stream.
QByteArray sniffImageType(const QByteArray &bytes);

} // namespace comfy::protocol
