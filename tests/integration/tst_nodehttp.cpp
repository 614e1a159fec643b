// NodeHttp, the router's own HTTP/1.1 client for a node's API, against a scripted TCP server on
// 127.0.0.1 that answers with exact bytes: keep-alive reuse, the ways a body ends, a stale
// kept connection, timeouts, refusals, abort, and parallel requests.
#include "comfy/nodehttp.h"

#include <QFile>
#include <QPointer>
#include <QSignalSpy>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslKey>
#include <QSslServer>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>

#include <functional>
#include <memory>
#include <optional>

using namespace comfy;

namespace {

// Accepts connections; for every whole request head (and its Content-Length body) calls the
// script with the connection's number and the request, and writes what it returns. An empty
// answer writes nothing; the script may also close the socket itself.
class ScriptedServer : public QObject {
public:
    using Script =
        std::function<QByteArray(int connection, const QByteArray &request, QTcpSocket *socket)>;
    // tls: answers over TLS with this configuration (a QSslServer).
    explicit ScriptedServer(Script script, const std::optional<QSslConfiguration> &tls = {})
        : m_script(std::move(script))
        , m_server(tls ? std::make_unique<QSslServer>() : std::make_unique<QTcpServer>())
    {
        if (tls)
            static_cast<QSslServer &>(*m_server).setSslConfiguration(*tls);
        QVERIFY(m_server->listen(QHostAddress::LocalHost, 0));
        connect(m_server.get(), &QTcpServer::pendingConnectionAvailable, this, [this] {
            while (QTcpSocket *socket = m_server->nextPendingConnection()) {
                const int number = ++m_connections;
                auto buffer = std::make_shared<QByteArray>();
                connect(socket, &QIODevice::readyRead, this, [this, socket, number, buffer] {
                    *buffer += socket->readAll();
                    for (;;) {
                        const qsizetype end = buffer->indexOf("\r\n\r\n");
                        if (end < 0)
                            return;
                        qsizetype length = 0;
                        const qsizetype at = buffer->toLower().indexOf("content-length:");
                        if (at >= 0 && at < end)
                            length = buffer->mid(at + 15, buffer->indexOf("\r\n", at) - at - 15)
                                         .trimmed()
                                         .toLongLong();
                        if (buffer->size() < end + 4 + length)
                            return;
                        const QByteArray request = buffer->left(end + 4 + length);
                        buffer->remove(0, end + 4 + length);
                        requests.append(request);
                        const QByteArray answer = m_script(number, request, socket);
                        if (!answer.isEmpty() && socket->state() == QAbstractSocket::ConnectedState)
                            socket->write(answer);
                    }
                });
                connect(socket, &QAbstractSocket::disconnected, socket, &QObject::deleteLater);
            }
        });
    }
    QUrl url(const QString &scheme = QStringLiteral("http")) const
    {
        return QUrl(
            QStringLiteral("%1://127.0.0.1:%2/base/").arg(scheme).arg(m_server->serverPort()));
    }
    int connections() const { return m_connections; }
    QList<QByteArray> requests;

private:
    Script m_script;
    std::unique_ptr<QTcpServer> m_server;
    int m_connections = 0;
};

QByteArray ok(const QByteArray &body, const QByteArray &extra = {})
{
    return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
           QByteArray::number(body.size()) + "\r\n" + extra + "\r\n" + body;
}

// Waits for the reply's end; the reply deletes itself afterwards, so its fields are copied.
struct Answer {
    bool finished = false;
    int status = 0;
    QByteArray body;
    QByteArray contentType;
    QString error;
};
Answer wait(NodeReply *reply, int timeoutMs = 5000)
{
    auto answer = std::make_shared<Answer>();
    QObject::connect(reply, &NodeReply::finished, reply, [reply, answer] {
        answer->finished = true;
        answer->status = reply->status();
        answer->body = reply->body();
        answer->contentType = reply->header("content-type");
        answer->error = reply->errorString();
    });
    (void)QTest::qWaitFor([&] { return answer->finished; }, timeoutMs); // finished says
    return *answer;
}

} // namespace

class TestNodeHttp : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void requestsReuseOneConnection();
    void postSendsJsonWithItsLength();
    void chunkedBodyAndInformationalAnswer();
    void bodyUntilCloseAndConnectionClose();
    void staleKeptConnectionIsRetriedOnce();
    void noRetryOnceTheAnswerBegan();
    void silentNodeTimesOut();
    void refusedConnectionFails();
    void abortedRequestNeverFinishes();
    void parallelRequestsUseUpToSixConnections();
    void malformedAnswersFail_data();
    void malformedAnswersFail();
    void httpsNodeIsVerifiedAndKeptAlive();
};

void TestNodeHttp::requestsReuseOneConnection()
{
    ScriptedServer server([](int, const QByteArray &request, QTcpSocket *) {
        return ok(request.split(' ').at(1)); // echoes the target
    });
    NodeHttp http(server.url());
    for (int i = 0; i < 5; ++i) {
        QUrl view(QStringLiteral("view"));
        view.setQuery(QStringLiteral("filename=a%20b.png&type=output"), QUrl::StrictMode);
        const Answer answer = wait(http.get(view));
        QVERIFY(answer.finished);
        QCOMPARE(answer.status, 200);
        QCOMPARE(answer.body, QByteArray("/base/view?filename=a%20b.png&type=output"));
        QCOMPARE(answer.contentType, QByteArray("application/json"));
    }
    QCOMPARE(server.connections(), 1);
    QVERIFY(server.requests.first().contains("\r\nHost: 127.0.0.1:"));
    QVERIFY(server.requests.first().startsWith("GET /base/view?"));
}

void TestNodeHttp::postSendsJsonWithItsLength()
{
    ScriptedServer server([](int, const QByteArray &request, QTcpSocket *) {
        return ok(request.mid(request.indexOf("\r\n\r\n") + 4));
    });
    NodeHttp http(server.url());
    const QByteArray json = R"({"prompt":{"1":{}},"client_id":"x"})";
    const Answer answer = wait(http.post(QUrl(QStringLiteral("prompt")), json));
    QCOMPARE(answer.status, 200);
    QCOMPARE(answer.body, json);
    const QByteArray request = server.requests.first();
    QVERIFY(request.startsWith("POST /base/prompt HTTP/1.1\r\n"));
    QVERIFY(request.contains("\r\nContent-Type: application/json\r\n"));
    QVERIFY(request.contains("\r\nContent-Length: " + QByteArray::number(json.size()) + "\r\n"));
}

void TestNodeHttp::chunkedBodyAndInformationalAnswer()
{
    ScriptedServer server([](int, const QByteArray &, QTcpSocket *socket) {
        // Written in pieces, split inside the head, a size line and the data.
        const QByteArray all = "HTTP/1.1 100 Continue\r\n\r\n"
                               "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                               "5;ext=1\r\nhello\r\n"
                               "7\r\n, world\r\n"
                               "0\r\nX-Trailer: t\r\n\r\n";
        for (qsizetype i = 0; i < all.size(); i += 7) {
            socket->write(all.mid(i, 7));
            socket->flush();
            socket->waitForBytesWritten(100);
        }
        return QByteArray();
    });
    NodeHttp http(server.url());
    const Answer first = wait(http.get(QUrl(QStringLiteral("queue"))));
    QCOMPARE(first.status, 200);
    QCOMPARE(first.body, QByteArray("hello, world"));
    const Answer second = wait(http.get(QUrl(QStringLiteral("queue"))));
    QCOMPARE(second.body, QByteArray("hello, world"));
    QCOMPARE(server.connections(), 1); // a chunked answer keeps the connection
}

void TestNodeHttp::bodyUntilCloseAndConnectionClose()
{
    ScriptedServer server([](int, const QByteArray &request, QTcpSocket *socket) {
        if (request.contains("/until-close"))
            socket->write("HTTP/1.0 200 OK\r\n\r\nall of it");
        else
            socket->write(ok("closing", "Connection: close\r\n"));
        socket->disconnectFromHost();
        return QByteArray();
    });
    NodeHttp http(server.url());
    const Answer untilClose = wait(http.get(QUrl(QStringLiteral("until-close"))));
    QCOMPARE(untilClose.status, 200);
    QCOMPARE(untilClose.body, QByteArray("all of it"));
    const Answer closing = wait(http.get(QUrl(QStringLiteral("other"))));
    QCOMPARE(closing.body, QByteArray("closing"));
    const Answer again = wait(http.get(QUrl(QStringLiteral("other"))));
    QCOMPARE(again.status, 200);
    QCOMPARE(server.connections(), 3); // none was kept
}

void TestNodeHttp::staleKeptConnectionIsRetriedOnce()
{
    // The node closes a kept connection as the next request is written (an idle keep-alive
    // timing out): that request is sent again on a new connection.
    ScriptedServer server([](int connection, const QByteArray &request, QTcpSocket *socket) {
        if (connection == 1 && request.contains("/second")) {
            socket->abort();
            return QByteArray();
        }
        return ok("fine");
    });
    NodeHttp http(server.url());
    QCOMPARE(wait(http.get(QUrl(QStringLiteral("first")))).status, 200);
    const Answer second = wait(http.get(QUrl(QStringLiteral("second"))));
    QCOMPARE(second.status, 200);
    QCOMPARE(second.body, QByteArray("fine"));
    QCOMPARE(server.connections(), 2);
    QCOMPARE(server.requests.count(server.requests.last()), 2); // the same request, twice
}

void TestNodeHttp::noRetryOnceTheAnswerBegan()
{
    ScriptedServer server([](int, const QByteArray &request, QTcpSocket *socket) {
        if (request.contains("/cut")) {
            socket->write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npart");
            socket->flush();
            socket->abort();
            return QByteArray();
        }
        return ok("fine");
    });
    NodeHttp http(server.url());
    QCOMPARE(wait(http.get(QUrl(QStringLiteral("first")))).status, 200);
    const Answer cut = wait(http.get(QUrl(QStringLiteral("cut"))));
    QVERIFY(cut.finished);
    QCOMPARE(cut.status, 0);
    QVERIFY2(cut.error.contains(QLatin1String("closed the connection")), qPrintable(cut.error));
    QCOMPARE(server.requests.size(), 2); // not sent again: the node had it
}

void TestNodeHttp::silentNodeTimesOut()
{
    ScriptedServer server([](int, const QByteArray &, QTcpSocket *) { return QByteArray(); });
    NodeHttp http(server.url());
    http.setTimeoutMs(200);
    const Answer answer = wait(http.get(QUrl(QStringLiteral("history/x"))));
    QVERIFY(answer.finished);
    QCOMPARE(answer.status, 0);
    QVERIFY2(answer.error.contains(QLatin1String("sent nothing for 200 ms")),
             qPrintable(answer.error));
    QCOMPARE(http.openConnections(), 0);
}

void TestNodeHttp::refusedConnectionFails()
{
    QTcpServer probe;
    QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
    const quint16 port = probe.serverPort();
    probe.close(); // nothing listens there now
    NodeHttp http(QUrl(QStringLiteral("http://127.0.0.1:%1/").arg(port)));
    const Answer answer = wait(http.get(QUrl(QStringLiteral("queue"))));
    QVERIFY(answer.finished);
    QCOMPARE(answer.status, 0);
    QVERIFY2(answer.error.contains(QLatin1String("cannot connect to")), qPrintable(answer.error));
}

void TestNodeHttp::abortedRequestNeverFinishes()
{
    ScriptedServer server([](int, const QByteArray &, QTcpSocket *) { return QByteArray(); });
    NodeHttp http(server.url());
    QPointer<NodeReply> reply = http.get(QUrl(QStringLiteral("view")));
    QSignalSpy finished(reply.data(), &NodeReply::finished);
    QTRY_COMPARE(server.requests.size(), 1);
    reply->abort();
    QTRY_VERIFY(reply.isNull()); // deleted
    QCOMPARE(finished.size(), 0);
    QCOMPARE(http.openConnections(), 0); // its answer could still come: not reused
    // The client goes on working.
    ScriptedServer other([](int, const QByteArray &, QTcpSocket *) { return ok("x"); });
    NodeHttp second(other.url());
    QPointer<NodeReply> waiting = second.get(QUrl(QStringLiteral("a")));
    waiting->abort(); // before it was even sent
    QCOMPARE(wait(second.get(QUrl(QStringLiteral("b")))).status, 200);
    QCOMPARE(other.requests.size(), 1);
}

void TestNodeHttp::parallelRequestsUseUpToSixConnections()
{
    QList<QTcpSocket *> held;
    ScriptedServer server([&held](int, const QByteArray &, QTcpSocket *socket) {
        held.append(socket); // answered together below
        return QByteArray();
    });
    NodeHttp http(server.url());
    QList<QPointer<NodeReply>> replies;
    auto done = std::make_shared<int>(0);
    for (int i = 0; i < 10; ++i) {
        replies.append(http.get(QUrl(QStringLiteral("view"))));
        connect(replies.last(), &NodeReply::finished, this, [done] { ++*done; });
    }
    QTRY_COMPARE(server.requests.size(), NodeHttp::MaxConnections);
    QCOMPARE(server.connections(), NodeHttp::MaxConnections);
    // Answering frees connections for the four that wait.
    for (int round = 0; round < 2; ++round) {
        const QList<QTcpSocket *> now = std::exchange(held, {});
        for (QTcpSocket *socket : now)
            socket->write(ok("done"));
        QTRY_COMPARE(*done, round == 0 ? NodeHttp::MaxConnections : 10);
    }
    QCOMPARE(server.connections(), NodeHttp::MaxConnections);
}

void TestNodeHttp::malformedAnswersFail_data()
{
    QTest::addColumn<QByteArray>("answer");
    QTest::addColumn<QString>("error");
    QTest::newRow("not http") << QByteArray("SSH-2.0-OpenSSH\r\n\r\n")
                              << "did not answer in HTTP/1.1";
    QTest::newRow("bad status") << QByteArray("HTTP/1.1 abc OK\r\n\r\n")
                                << "did not answer in HTTP/1.1";
    QTest::newRow("bad length") << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n")
                                << "announced a body of -5 bytes";
    QTest::newRow("huge length") << QByteArray(
                                        "HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n")
                                 << "announced a body of 99999999999 bytes";
    QTest::newRow("bad chunk") << QByteArray(
                                      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
                               << "malformed chunked body";
    QTest::newRow("endless head") << QByteArray("HTTP/1.1 200 OK\r\nX: ") + QByteArray(70000, 'x')
                                  << "sent a header over 65536 bytes";
}

void TestNodeHttp::malformedAnswersFail()
{
    QFETCH(QByteArray, answer);
    QFETCH(QString, error);
    ScriptedServer server([answer](int, const QByteArray &, QTcpSocket *) { return answer; });
    NodeHttp http(server.url());
    const Answer got = wait(http.get(QUrl(QStringLiteral("queue"))));
    QVERIFY(got.finished);
    QCOMPARE(got.status, 0);
    QVERIFY2(got.error.contains(error), qPrintable(got.error));
    QCOMPARE(http.openConnections(), 0);
}

void TestNodeHttp::httpsNodeIsVerifiedAndKeptAlive()
{
    QFile certFile(QStringLiteral(COMFY_TEST_DATA "/tls/node-cert.pem"));
    QFile keyFile(QStringLiteral(COMFY_TEST_DATA "/tls/node-key.pem"));
    QVERIFY(certFile.open(QIODevice::ReadOnly) && keyFile.open(QIODevice::ReadOnly));
    const QSslCertificate cert(&certFile, QSsl::Pem);
    const QSslKey key(&keyFile, QSsl::Rsa, QSsl::Pem);
    QVERIFY(!cert.isNull() && !key.isNull());
    QSslConfiguration server = QSslConfiguration::defaultConfiguration();
    server.setLocalCertificate(cert);
    server.setPrivateKey(key);
    server.setPeerVerifyMode(QSslSocket::VerifyNone); // clients show no certificate
    ScriptedServer node([](int, const QByteArray &, QTcpSocket *) { return ok("secret"); }, server);

    // A certificate nobody vouches for: refused, not used.
    {
        NodeHttp http(node.url(QStringLiteral("https")));
        const Answer refused = wait(http.get(QUrl(QStringLiteral("queue"))));
        QVERIFY(refused.finished);
        QCOMPARE(refused.status, 0);
        QVERIFY2(refused.error.contains(QLatin1String("cannot connect to https://127.0.0.1")),
                 qPrintable(refused.error));
        QVERIFY2(refused.error.contains(QLatin1String("certificate"), Qt::CaseInsensitive),
                 qPrintable(refused.error));
        QCOMPARE(node.requests.size(), 0);
    }
    // Trusted (as an operator's CA would be, through the system's store): served, kept alive.
    const QSslConfiguration before = QSslConfiguration::defaultConfiguration();
    QSslConfiguration trusting = before;
    trusting.addCaCertificate(cert);
    QSslConfiguration::setDefaultConfiguration(trusting);
    {
        NodeHttp http(node.url(QStringLiteral("https")));
        for (int i = 0; i < 3; ++i) {
            const Answer answer = wait(http.get(QUrl(QStringLiteral("queue"))));
            QVERIFY2(answer.finished && answer.status == 200, qPrintable(answer.error));
            QCOMPARE(answer.body, QByteArray("secret"));
        }
        QCOMPARE(http.openConnections(), 1);
    }
    QSslConfiguration::setDefaultConfiguration(before);
    QCOMPARE(node.requests.size(), 3);
}

QTEST_GUILESS_MAIN(TestNodeHttp)
#include "tst_nodehttp.moc"
