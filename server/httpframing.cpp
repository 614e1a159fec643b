#include "httpframing.h"

#include <algorithm>
#include <limits>

namespace comfy::server {

namespace {

// A chunk-size line is a hex number and perhaps an extension; anything longer is an attack.
constexpr qsizetype MaxChunkSizeLine = 1024;

bool isLeadingSpace(char c)
{
    // What QHttpServer 6.4 skips before a request line (left over from the previous request).
    return c == '\v' || c == '\n' || c == '\r' || c == ' ' || c == '\t';
}

bool isTokenChar(char c)
{
    // The field-name characters QHttpHeaderParser accepts (RFC 9110 token).
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           QByteArrayView("!#$%&'*+-.^_`|~").contains(c);
}

bool isDigits(QByteArrayView text)
{
    return !text.isEmpty() &&
           std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool isHexDigits(QByteArrayView text)
{
    return !text.isEmpty() && std::all_of(text.begin(), text.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    });
}

bool sameName(QByteArrayView name, QByteArrayView wanted)
{
    return name.compare(wanted, Qt::CaseInsensitive) == 0;
}

QString bodyTooLarge(qint64 limit)
{
    return QStringLiteral("the request body is larger than %1 bytes (COMFY_ROUTER__MAX_BODY_BYTES)")
        .arg(limit);
}

} // namespace

RequestFramer::RequestFramer(Limits limits)
    : m_limits(limits)
{
}

bool RequestFramer::inRequest() const
{
    return m_state != State::Idle && m_state != State::Refused;
}

void RequestFramer::feed(QByteArrayView bytes, QList<FramingEvent> &events)
{
    qsizetype i = 0;
    while (i < bytes.size() && m_state != State::Refused) {
        switch (m_state) {
        case State::Idle:
            if (isLeadingSpace(bytes[i])) {
                ++i;
                break;
            }
            m_state = State::RequestLine;
            m_head.clear();
            break;
        case State::RequestLine:
        case State::Headers:
            i = takeHeadLine(bytes, i, events);
            break;
        case State::Body:
        case State::ChunkData: {
            // Only counted: the body itself is QHttpServer's to read.
            const qint64 take = std::min<qint64>(m_remaining, bytes.size() - i);
            i += take;
            m_remaining -= take;
            if (m_remaining > 0)
                break;
            if (m_state == State::Body) {
                requestDone(events);
            } else {
                m_state = State::ChunkDataEnd;
                m_crlfSeen = 0;
            }
            break;
        }
        case State::ChunkSize: {
            const qsizetype newline = bytes.indexOf('\n', i);
            const qsizetype end = newline < 0 ? bytes.size() : newline + 1;
            if (m_line.size() + (end - i) > MaxChunkSizeLine) {
                refuse(400, QStringLiteral("malformed chunked body: a chunk-size line is too long"),
                       events);
                break;
            }
            m_line.append(bytes.sliced(i, end - i));
            i = end;
            if (newline >= 0)
                chunkSizeDone(events);
            break;
        }
        case State::ChunkDataEnd:
        case State::LastChunkEnd: {
            const char wanted = m_crlfSeen == 0 ? '\r' : '\n';
            if (bytes[i] != wanted) {
                // QHttpServer would take trailer fields (or whatever follows a chunk) for the
                // start of the next request.
                refuse(400,
                       m_state == State::LastChunkEnd
                           ? QStringLiteral("chunked body: trailer fields are not accepted")
                           : QStringLiteral("malformed chunked body: a chunk's data must end "
                                            "with CRLF"),
                       events);
                break;
            }
            ++i;
            if (++m_crlfSeen < 2)
                break;
            if (m_state == State::LastChunkEnd) {
                requestDone(events);
            } else {
                m_state = State::ChunkSize;
                m_line.clear();
            }
            break;
        }
        case State::Refused:
            break;
        }
    }
}

qsizetype RequestFramer::takeHeadLine(QByteArrayView bytes, qsizetype from,
                                      QList<FramingEvent> &events)
{
    const qsizetype newline = bytes.indexOf('\n', from);
    const qsizetype end = newline < 0 ? bytes.size() : newline + 1;
    if (m_head.size() + (end - from) > m_limits.maxHeaderBytes) {
        if (m_state == State::RequestLine)
            refuse(414,
                   QStringLiteral("the request line is longer than %1 bytes")
                       .arg(m_limits.maxHeaderBytes),
                   events);
        else
            refuse(431,
                   QStringLiteral("the request's header fields take more than %1 bytes")
                       .arg(m_limits.maxHeaderBytes),
                   events);
        return end;
    }
    m_head.append(bytes.sliced(from, end - from));
    if (newline < 0)
        return end;
    if (m_state == State::RequestLine) {
        requestLineDone(events);
        return end;
    }
    // The block ends where QHttpServer ends it: an empty line, with CRLF or LF.
    const QByteArrayView block = QByteArrayView(m_head).sliced(m_headersStart);
    if (block == "\n" || block == "\r\n" || block.endsWith("\n\n") || block.endsWith("\n\r\n"))
        headersDone(events);
    return end;
}

void RequestFramer::requestLineDone(QList<FramingEvent> &events)
{
    QByteArrayView line(m_head);
    line.chop(1); // '\n'
    if (line.endsWith('\r'))
        line.chop(1);
    m_headersStart = m_head.size();
    m_state = State::Headers;

    // The same split as QHttpServer's: method, spaces, target, spaces, version. A line it
    // cannot split makes it drop the connection without an answer; here it gets a 400.
    const auto malformed = [this, &events] {
        refuse(400, QStringLiteral("malformed request line"), events);
    };
    qsizetype i = line.indexOf(' ');
    if (i <= 0)
        return malformed();
    while (i < line.size() && line[i] == ' ')
        ++i;
    qsizetype j = line.indexOf(' ', i);
    if (j < 0)
        return malformed();
    i = j;
    while (i < line.size() && line[i] == ' ')
        ++i;
    if (i >= line.size())
        return malformed();
    j = line.indexOf(' ', i);
    const QByteArrayView version = j < 0 ? line.sliced(i) : line.sliced(i, j - i);
    if (version.size() != 8 || !version.startsWith("HTTP/"))
        return malformed();
    if (version != "HTTP/1.1" && version != "HTTP/1.0")
        return refuse(505, QStringLiteral("only HTTP/1.0 and HTTP/1.1 are spoken here"), events);
    m_http11 = version == "HTTP/1.1";
}

void RequestFramer::headersDone(QList<FramingEvent> &events)
{
    const QByteArrayView block = QByteArrayView(m_head).sliced(m_headersStart);
    QList<QByteArrayView> contentLengths;
    QList<QByteArrayView> transferEncodings;
    QList<QByteArrayView> expectations;
    bool close = false;
    bool keepAlive = false;
    int fields = 0;
    qsizetype pos = 0;
    while (pos < block.size()) {
        const qsizetype newline = block.indexOf('\n', pos);
        QByteArrayView line = block.sliced(pos, newline - pos);
        pos = newline + 1;
        if (line.endsWith('\r'))
            line.chop(1);
        if (line.isEmpty())
            break; // the empty line that ends the block
        // Each case below makes QHttpHeaderParser drop every header of the request, its
        // Content-Length included: refused rather than framed differently.
        if (line.startsWith(' ') || line.startsWith('\t'))
            return refuse(400, QStringLiteral("folded header lines are not accepted"), events);
        const qsizetype colon = line.indexOf(':');
        if (colon < 0)
            return refuse(400, QStringLiteral("malformed header line (no colon)"), events);
        const QByteArrayView name = line.first(colon);
        if (name.isEmpty() || !std::all_of(name.begin(), name.end(), isTokenChar))
            return refuse(400, QStringLiteral("malformed header field name"), events);
        if (line.size() > MaxHeaderFieldBytes)
            return refuse(431,
                          QStringLiteral("header field %1 is longer than %2 bytes")
                              .arg(QString::fromLatin1(name))
                              .arg(MaxHeaderFieldBytes),
                          events);
        if (++fields > MaxHeaderFields)
            return refuse(431, QStringLiteral("more than %1 header fields").arg(MaxHeaderFields),
                          events);
        const QByteArrayView value = line.sliced(colon + 1).trimmed();
        if (sameName(name, "content-length"))
            contentLengths.append(value);
        else if (sameName(name, "transfer-encoding"))
            transferEncodings.append(value);
        else if (sameName(name, "expect"))
            expectations.append(value);
        else if (sameName(name, "connection"))
            for (const QByteArray &token : value.toByteArray().split(',')) {
                close = close || sameName(token.trimmed(), QByteArrayView("close"));
                keepAlive = keepAlive || sameName(token.trimmed(), QByteArrayView("keep-alive"));
            }
    }

    bool chunked = false;
    qint64 length = 0;
    if (!transferEncodings.isEmpty()) {
        if (!contentLengths.isEmpty())
            return refuse(400,
                          QStringLiteral("Content-Length and Transfer-Encoding together are not "
                                         "accepted"),
                          events);
        if (transferEncodings.size() > 1 ||
            !sameName(transferEncodings.constFirst(), QByteArrayView("chunked")))
            return refuse(501, QStringLiteral("only the chunked transfer coding is supported"),
                          events);
        chunked = true;
    }
    for (const QByteArrayView value : std::as_const(contentLengths)) {
        if (!isDigits(value))
            return refuse(400, QStringLiteral("Content-Length must be a whole number"), events);
        if (value != contentLengths.constFirst())
            return refuse(400, QStringLiteral("conflicting Content-Length fields"), events);
    }
    if (!contentLengths.isEmpty()) {
        const QByteArrayView value = contentLengths.constFirst();
        // 18 digits always fit a qint64; more is over any limit anyway.
        length = value.size() > 18 ? std::numeric_limits<qint64>::max() : value.toLongLong();
    }
    bool sendContinue = false;
    // RFC 9110: an HTTP/1.0 request's expectation is ignored.
    if (!expectations.isEmpty() && m_http11) {
        if (expectations.size() > 1 ||
            !sameName(expectations.constFirst(), QByteArrayView("100-continue")))
            return refuse(417, QStringLiteral("only \"Expect: 100-continue\" is supported"),
                          events);
        sendContinue = true;
    }

    m_closeAfter = close || (!m_http11 && !keepAlive);

    if (chunked) {
        m_state = State::ChunkSize;
        m_line.clear();
        m_bodyBytes = 0;
    } else if (length > m_limits.maxBodyBytes) {
        // Refused at the header stage: not one byte of the body is read.
        return refuse(413, bodyTooLarge(m_limits.maxBodyBytes), events);
    } else if (length > 0) {
        m_state = State::Body;
        m_remaining = length;
    } else {
        return requestDone(events); // no body to wait for: no 100 Continue either
    }
    m_head.clear();
    if (sendContinue)
        events.append({FramingEvent::Kind::Continue, m_completed, 100, {}});
}

void RequestFramer::chunkSizeDone(QList<FramingEvent> &events)
{
    if (!m_line.endsWith("\r\n"))
        return refuse(400, QStringLiteral("malformed chunked body: lines must end with CRLF"),
                      events);
    QByteArrayView sizeText = QByteArrayView(m_line).chopped(2);
    if (const qsizetype semicolon = sizeText.indexOf(';'); semicolon >= 0)
        sizeText = sizeText.first(semicolon); // a chunk extension, ignored
    // 15 hex digits always fit a qint64; QHttpServer reads a longer one as 0 (the last chunk).
    if (!isHexDigits(sizeText) || sizeText.size() > 15)
        return refuse(400, QStringLiteral("malformed chunked body: bad chunk size"), events);
    const qint64 size = sizeText.toLongLong(nullptr, 16);
    m_line.clear();
    m_crlfSeen = 0;
    if (size == 0) {
        m_state = State::LastChunkEnd;
        return;
    }
    if (size > m_limits.maxBodyBytes - m_bodyBytes)
        // Cut off when the chunk is announced, before its data arrives.
        return refuse(413, bodyTooLarge(m_limits.maxBodyBytes), events);
    m_bodyBytes += size;
    m_remaining = size;
    m_state = State::ChunkData;
}

void RequestFramer::requestDone(QList<FramingEvent> &events)
{
    if (m_closeAfter) // after its 100 Continue, if any
        events.append({FramingEvent::Kind::Close, m_completed, 0, {}});
    m_closeAfter = false;
    ++m_completed;
    m_state = State::Idle;
    m_head.clear();
    m_line.clear();
    m_remaining = 0;
    m_bodyBytes = 0;
}

void RequestFramer::refuse(int status, const QString &message, QList<FramingEvent> &events)
{
    m_state = State::Refused;
    m_head.clear();
    m_line.clear();
    events.append({FramingEvent::Kind::Refuse, m_completed, status, message});
}

} // namespace comfy::server
