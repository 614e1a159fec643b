#pragma once

#include <QByteArray>
#include <QList>
#include <QLoggingCategory>
#include <QPair>
#include <QString>
#include <QTcpServer>

// "comfy.http" (defined in apiserver.cpp).
Q_DECLARE_LOGGING_CATEGORY(lcHttp)

namespace comfy::server {

// The limits QHttpServer 6.4 does not have (see ../shared/design/qt64.md), enforced by HttpFront.
struct HttpLimits {
    qint64 maxBodyBytes = 16 * 1024 * 1024;
    qint64 maxHeaderBytes = 64 * 1024; // request line and header fields
    int idleTimeoutMs = 60000;         // no byte either way for this long: the connection goes
    int maxConnections = 512;
    int lingerMs = 2000; // after a refusal: how long the rest of a request is read and dropped
};

// The TCP server QHttpServer is bound to (QHttpServer::bind). QHttpServer 6.4 buffers every
// body whole, never closes an idle connection, takes any number of them and ignores
// "Expect: 100-continue"; so every connection passes here first. Its readyRead handler is
// connected before QHttpServer's and follows the bytes with a RequestFramer (peeked, never
// consumed): a body or header block over the limit is answered 413 / 431 before QHttpServer
// reads it, and the connection closed; a 100-continue is answered; a connection silent for the
// idle timeout is closed (408 if a request was half sent); beyond the connection cap a new
// connection gets 503. A second handler, connected after QHttpServer's, counts the requests
// QHttpServer has answered, so that answers from here never overtake its answers to earlier
// requests on the same connection. QHttpServer still answers every request synchronously.
class HttpFront : public QTcpServer {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(HttpFront)
public:
    explicit HttpFront(const HttpLimits &limits, QObject *parent = nullptr);

    int openConnections() const { return m_open; }

    // A complete answer with a {"message"} JSON body and "Connection: close".
    static QByteArray closingResponse(int status, const QString &message,
                                      const QList<QPair<QByteArray, QByteArray>> &headers = {});

protected:
    void incomingConnection(qintptr descriptor) override;

private:
    void refuseConnection(QTcpSocket *socket);

    HttpLimits m_limits;
    int m_open = 0;      // connections handed to QHttpServer and not yet destroyed
    int m_refusing = 0;  // 503 answers still being sent
    bool m_full = false; // the cap was reached (logged once until a connection fits again)
};

} // namespace comfy::server
