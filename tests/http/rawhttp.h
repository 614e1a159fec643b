#pragma once

#include <QByteArray>
#include <QHash>
#include <QHostAddress>
#include <QString>
#include <QTcpSocket>

#include <optional>

namespace httptest {

struct RawResponse {
    int status = 0;
    QHash<QByteArray, QByteArray> headers; // lower-case names
    QByteArray body;
    QString message() const; // the {"message"} of a JSON body
};

// A raw HTTP/1.1 client for tests: the exact bytes go out, and what comes back is kept as it
// arrives (even after the server has closed) and parsed one response at a time.
class RawClient {
    Q_DISABLE_COPY_MOVE(RawClient)
public:
    // Connects to 127.0.0.1:port, from `local` when given (e.g. 127.0.0.2).
    explicit RawClient(quint16 port, const QHostAddress &local = {});
    ~RawClient();

    bool isConnected() const { return m_socket.state() == QAbstractSocket::ConnectedState; }
    bool closed() const { return m_closed; }
    void send(const QByteArray &bytes); // written and flushed
    void abort() { m_socket.abort(); }
    // The next whole response (a 100 Continue is one); nullopt when none came in time.
    std::optional<RawResponse> next(int timeoutMs = 5000);
    bool waitClosed(int timeoutMs = 5000);
    QTcpSocket &socket() { return m_socket; }
    const QByteArray &unparsed() const { return m_buffer; }

private:
    std::optional<RawResponse> parse();

    QByteArray m_buffer;
    bool m_closed = false;
    QTcpSocket m_socket;
};

// "Authorization: Basic ...\r\n"
QByteArray basicAuthLine(const QByteArray &user, const QByteArray &password);
// The resident memory of this process (VmRSS), in bytes.
qint64 residentBytes();

} // namespace httptest
