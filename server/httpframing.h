#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QString>

namespace comfy::server {

// What the bytes of a connection call for, for its request number `request` (0-based): a
// "100 Continue" to send, a refusal to answer before the connection is closed, or a close once
// the request is answered ("Connection: close", or HTTP/1.0 without keep-alive: QHttpServer 6.4
// would keep the connection open, and a client waiting for the close would wait).
struct FramingEvent {
    enum class Kind { Continue, Refuse, Close };
    Kind kind = Kind::Refuse;
    qint64 request = 0;
    int status = 0;  // Refuse: the HTTP status of the answer
    QString message; // Refuse: the answer's {"message"}
};

// Follows the HTTP/1.x requests of one connection byte by byte, the way QHttpServer 6.4 will
// read them, without keeping their bodies: it only holds the header block being read. It
// finds where each request ends (so the front knows when a request is in progress), refuses
// what must not reach QHttpServer (bodies over the limit, header blocks over the limit), and
// refuses whatever QHttpServer could frame differently from it (duplicate or malformed
// Content-Length, Content-Length with Transfer-Encoding, header lines its parser rejects,
// chunk trailers): the two must agree on where a request ends, or a body could smuggle in a
// request whose size nobody checked.
class RequestFramer {
public:
    struct Limits {
        qint64 maxBodyBytes = 16 * 1024 * 1024;
        qint64 maxHeaderBytes = 64 * 1024; // request line and header fields together
    };
    // QHttpHeaderParser (Qt 6.4) drops every header of a block with more fields than this or
    // with a longer field: refused here before that can happen.
    static constexpr int MaxHeaderFields = 100;
    static constexpr qsizetype MaxHeaderFieldBytes = 8 * 1024;

    explicit RequestFramer(Limits limits);

    // Follows the next bytes of the stream and appends what they call for to `events`. After a
    // refusal the rest of the stream is ignored: the connection is answered and closed.
    void feed(QByteArrayView bytes, QList<FramingEvent> &events);

    bool inRequest() const; // part of a request has arrived, not all of it
    bool refused() const { return m_state == State::Refused; }
    qint64 completedRequests() const { return m_completed; }

private:
    enum class State {
        Idle,        // between requests
        RequestLine, // "POST /workflow HTTP/1.1"
        Headers,     // up to the empty line
        Body,        // Content-Length bytes
        ChunkSize,   // "1f;ext\r\n"
        ChunkData,
        ChunkDataEnd, // the CRLF after a chunk's data
        LastChunkEnd, // the CRLF after the "0" chunk (trailers are refused)
        Refused,
    };

    qsizetype takeHeadLine(QByteArrayView bytes, qsizetype from, QList<FramingEvent> &events);
    void requestLineDone(QList<FramingEvent> &events);
    void headersDone(QList<FramingEvent> &events);
    void chunkSizeDone(QList<FramingEvent> &events);
    void requestDone(QList<FramingEvent> &events);
    void refuse(int status, const QString &message, QList<FramingEvent> &events);

    Limits m_limits;
    State m_state = State::Idle;
    QByteArray m_head;            // request line and header block being read
    qsizetype m_headersStart = 0; // where the header block starts in m_head
    QByteArray m_line;            // chunk-size line being read
    bool m_http11 = true;         // HTTP/1.1 (not 1.0): Expect applies
    bool m_closeAfter = false;    // the client asked for the connection to end with this request
    qint64 m_remaining = 0;       // body or chunk bytes still to come
    qint64 m_bodyBytes = 0;       // chunked: data bytes so far
    int m_crlfSeen = 0;           // ChunkDataEnd / LastChunkEnd: bytes of the CRLF seen
    qint64 m_completed = 0;       // requests whose last byte has arrived
};

} // namespace comfy::server
