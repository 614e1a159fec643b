// The hardened HTTP front end to end: Router + ApiServer on 127.0.0.1:0, driven by raw
// QTcpSocket clients that send exact bytes (bodies over the limit, chunked bodies, 100-continue,
// oversized headers, idle and stalled connections, too many connections, clients that vanish
// at every stage, failed logins from two addresses).
#include "apiserver.h"
#include "isolatedsettings.h"
#include "rawhttp.h"
#include "router/router.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>
#include <QTimer>

#include <memory>
#include <vector>

using namespace comfy;
using namespace httptest;

namespace {

constexpr qint64 MiB = 1024 * 1024;
const QHostAddress OtherClient(QStringLiteral("127.0.0.2")); // Linux loopback takes 127/8

struct Server {
    explicit Server(Settings settings = {})
    {
        router = std::make_unique<Router>(dirs.apply(settings));
        api = std::make_unique<server::ApiServer>(*router);
        port = api->listen(QHostAddress::LocalHost, 0);
    }
    // One request on a new connection: the status of its answer, 0 when none came.
    int status(const QByteArray &request, const QHostAddress &from = {})
    {
        RawClient client(port, from);
        client.send(request);
        const auto response = client.next();
        return response ? response->status : 0;
    }
    int health() { return status("GET /health_check HTTP/1.1\r\nHost: t\r\n\r\n"); }

    testsupport::IsolatedSettings dirs;
    std::unique_ptr<Router> router;
    std::unique_ptr<server::ApiServer> api;
    quint16 port = 0;
};

const QByteArray Auth = basicAuthLine("admin", "admin");

// POST /cluster/nodes: answered with the node, labels included, so a whole body shows in the
// answer. The label pads the body to `size` bytes.
QByteArray addNodeBody(int port, qsizetype size = 0)
{
    const auto body = [port](const QByteArray &label) {
        return "{\"url\":\"http://127.0.0.1:" + QByteArray::number(port) + "\",\"labels\":[\"" +
               label + "\"]}";
    };
    const qsizetype bare = body("x").size() - 1;
    return body(QByteArray(std::max<qsizetype>(1, size - bare), 'l'));
}

QByteArray addNodeHead(const QByteArray &framing)
{
    return "POST /cluster/nodes HTTP/1.1\r\nHost: t\r\n" + Auth +
           "Content-Type: application/json\r\n" + framing + "\r\n";
}

QByteArray contentLength(qint64 length)
{
    return "Content-Length: " + QByteArray::number(length) + "\r\n";
}

QByteArray chunked(const QByteArray &data)
{
    return QByteArray::number(data.size(), 16) + "\r\n" + data + "\r\n";
}

// Empty when the next answer is a JSON refusal with `status` and the server then closes.
QString refusalProblem(RawClient &client, int status)
{
    const auto response = client.next();
    if (!response)
        return QStringLiteral("no answer (expected %1)").arg(status);
    if (response->status != status)
        return QStringLiteral("status %1, expected %2: %3")
            .arg(response->status)
            .arg(status)
            .arg(QString::fromUtf8(response->body));
    if (!response->headers.value("content-type").startsWith("application/json") ||
        response->message().isEmpty())
        return QStringLiteral("not a JSON {\"message\"}: ") + QString::fromUtf8(response->body);
    if (response->headers.value("connection") != "close")
        return QStringLiteral("no Connection: close");
    if (!client.waitClosed())
        return QStringLiteral("the connection stayed open");
    return {};
}

} // namespace

class TestHttpFront : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void declaredGigabyteBodyRefusedWithFlatMemory();
    void bodyAtTheLimitIsServedOneByteMoreIsNot();
    void chunkedBodyIsServed();
    void chunkedBodyOverTheLimitIsCutOff();
    void expectContinue();
    void expectContinueOverTheLimit();
    void refusedAtTheHeaders_data();
    void refusedAtTheHeaders();
    void pipelinedRequestsAreAnsweredInOrder();
    void headIsAnsweredWithoutABody();
    void headHasTheHeadersOfGet_data();
    void headHasTheHeadersOfGet();
    void connectionCloseIsHonoured();
    void idleConnectionIsClosed();
    void stalledRequestGets408();
    void slowUploadIsNotIdle();
    void connectionCapGives503();
    void disconnectsAtEveryStage_data();
    void disconnectsAtEveryStage();
    void failedLoginsAreThrottledPerAddress();
};

void TestHttpFront::declaredGigabyteBodyRefusedWithFlatMemory()
{
    Server server; // the default limit, 16 MiB
    RawClient client(server.port);
    QVERIFY(client.isConnected());
    const QByteArray piece(MiB, 'x');
    const qint64 before = residentBytes();
    QVERIFY(before > 0);

    client.send(addNodeHead(contentLength(1024 * MiB)));
    // Up to 64 MiB of the body, as fast as the connection takes it (never more than a piece
    // waiting in this process). A server that buffered the body would grow by all of it.
    qint64 sent = 0;
    qint64 peak = before;
    QElapsedTimer clock;
    clock.start();
    while (sent < 64 * MiB && !client.closed() && clock.elapsed() < 30000) {
        if (client.socket().bytesToWrite() < piece.size()) {
            client.socket().write(piece);
            sent += piece.size();
        } else if (!QTest::qWaitFor(
                       [&] {
                           return client.socket().bytesToWrite() < piece.size() || client.closed();
                       },
                       2000)) {
            break; // nothing moves: the checks below tell why
        }
        peak = std::max(peak, residentBytes());
    }
    peak = std::max(peak, residentBytes());
    qInfo("sent %lld KiB of the body before the close; memory grew by %lld KiB", sent / 1024,
          (peak - before) / 1024);
    QVERIFY2(peak - before < 32 * MiB,
             qPrintable(QStringLiteral("memory grew by %1 MiB").arg((peak - before) / MiB)));
    const QString problem = refusalProblem(client, 413);
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    QVERIFY2(sent < 64 * MiB,
             qPrintable(QStringLiteral("%1 MiB went through: the body was read").arg(sent / MiB)));
    QCOMPARE(server.health(), 200);
}

void TestHttpFront::bodyAtTheLimitIsServedOneByteMoreIsNot()
{
    Settings settings;
    settings.maxBodyBytes = 4096;
    Server server(settings);

    const QByteArray atLimit = addNodeBody(1, 4096);
    QCOMPARE(atLimit.size(), 4096);
    RawClient client(server.port);
    client.send(addNodeHead(contentLength(atLimit.size())) + atLimit);
    const auto response = client.next();
    QVERIFY(response);
    QCOMPARE(response->status, 200);
    const QJsonObject node = QJsonDocument::fromJson(response->body).object();
    QCOMPARE(node.value(QLatin1String("labels")).toArray().at(0).toString().size(),
             4096 - (addNodeBody(1, 1).size() - 1));

    const QByteArray overLimit = addNodeBody(2, 4097);
    RawClient refused(server.port);
    refused.send(addNodeHead(contentLength(overLimit.size())) + overLimit);
    const QString problem = refusalProblem(refused, 413);
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    QCOMPARE(server.router->nodes().nodes().size(), qsizetype(1)); // the second never ran
}

void TestHttpFront::chunkedBodyIsServed()
{
    Settings settings;
    settings.maxBodyBytes = 4096;
    Server server(settings);
    const QByteArray body = addNodeBody(3, 3000);
    RawClient client(server.port);
    client.send(addNodeHead("Transfer-Encoding: chunked\r\n"));
    // In pieces that cut through chunk headers and data.
    const QByteArray stream = chunked(body.left(1000)) + chunked(body.mid(1000, 1500)) +
                              chunked(body.mid(2500)) + "0\r\n\r\n";
    for (qsizetype at = 0; at < stream.size(); at += 333) {
        client.send(stream.mid(at, 333));
        QVERIFY(QTest::qWaitFor([&] { return client.socket().bytesToWrite() == 0; }, 1000));
    }
    const auto response = client.next();
    QVERIFY(response);
    QCOMPARE(response->status, 200);
    const QJsonObject node = QJsonDocument::fromJson(response->body).object();
    QCOMPARE(node.value(QLatin1String("labels")).toArray().at(0).toString().toUtf8(),
             QJsonDocument::fromJson(body)
                 .object()
                 .value(QLatin1String("labels"))
                 .toArray()
                 .at(0)
                 .toString()
                 .toUtf8());
    // Keep-alive still works after a chunked request.
    client.send("GET /health_check HTTP/1.1\r\nHost: t\r\n\r\n");
    const auto next = client.next();
    QVERIFY(next);
    QCOMPARE(next->status, 200);
}

void TestHttpFront::chunkedBodyOverTheLimitIsCutOff()
{
    Settings settings;
    settings.maxBodyBytes = 4096;
    Server server(settings);
    RawClient client(server.port);
    client.send(addNodeHead("Transfer-Encoding: chunked\r\n"));
    for (int i = 0; i < 4; ++i)
        client.send(chunked(QByteArray(1000, 'a'))); // 4000 bytes: still under the limit
    // Another connection's full round trip: the server has had its turn with the first one.
    QCOMPARE(server.health(), 200);
    QVERIFY2(client.unparsed().isEmpty(), client.unparsed().constData());
    QVERIFY(!client.closed());

    client.send(chunked(QByteArray(1000, 'a'))); // 5000: cut off
    const QString problem = refusalProblem(client, 413);
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    QCOMPARE(server.router->nodes().nodes().size(), qsizetype(0));
    QCOMPARE(server.health(), 200);
}

void TestHttpFront::expectContinue()
{
    Server server;
    const QByteArray body = addNodeBody(4, 2000);
    RawClient client(server.port);
    client.send(addNodeHead(contentLength(body.size()) + "Expect: 100-continue\r\n"));
    const auto interim = client.next();
    QVERIFY(interim);
    QCOMPARE(interim->status, 100);
    QVERIFY(interim->body.isEmpty());
    client.send(body);
    const auto response = client.next();
    QVERIFY(response);
    QCOMPARE(response->status, 200);
    QVERIFY(!client.closed());
}

void TestHttpFront::expectContinueOverTheLimit()
{
    Settings settings;
    settings.maxBodyBytes = 1024;
    Server server(settings);
    RawClient client(server.port);
    client.send(addNodeHead(contentLength(2000) + "Expect: 100-continue\r\n"));
    const QString problem = refusalProblem(client, 413); // no 100 before it
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
}

void TestHttpFront::refusedAtTheHeaders_data()
{
    QTest::addColumn<QByteArray>("request");
    QTest::addColumn<int>("status");
    const QByteArray get = "GET /cluster/nodes HTTP/1.1\r\nHost: t\r\n" + Auth;
    QTest::newRow("header block over 64 KiB")
        << get + QByteArray("X-Filler: " + QByteArray(4000, 'f') + "\r\n").repeated(17) + "\r\n"
        << 431;
    QTest::newRow("one header field over 8 KiB")
        << get + "X-Big: " + QByteArray(9000, 'b') + "\r\n\r\n"
        << 431;
    QTest::newRow("request line over 64 KiB")
        << "GET /" + QByteArray(70 * 1024, 'p') + " HTTP/1.1\r\n\r\n"
        << 414;
    QTest::newRow("unknown expectation")
        << addNodeHead(contentLength(10) + "Expect: 200-ok\r\n") << 417;
    QTest::newRow("Content-Length with Transfer-Encoding")
        << addNodeHead(contentLength(10) + "Transfer-Encoding: chunked\r\n") << 400;
    QTest::newRow("conflicting Content-Length")
        << addNodeHead(contentLength(10) + contentLength(11)) << 400;
    QTest::newRow("Content-Length not a number") << addNodeHead("Content-Length: ten\r\n") << 400;
    QTest::newRow("gzip transfer coding") << addNodeHead("Transfer-Encoding: gzip\r\n") << 501;
    QTest::newRow("malformed request line") << QByteArray("HELLO\r\n\r\n") << 400;
    QTest::newRow("HTTP/3") << QByteArray("GET /health_check HTTP/3.0\r\n\r\n") << 505;
    QTest::newRow("chunk trailers")
        << addNodeHead("Transfer-Encoding: chunked\r\n") + chunked("{}") + "0\r\nX-T: 1\r\n\r\n"
        << 400;
}

void TestHttpFront::refusedAtTheHeaders()
{
    QFETCH(QByteArray, request);
    QFETCH(int, status);
    Server server;
    RawClient client(server.port);
    client.send(request);
    const QString problem = refusalProblem(client, status);
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    QCOMPARE(server.health(), 200);
}

void TestHttpFront::headIsAnsweredWithoutABody()
{
    Server server;
    RawClient client(server.port);
    // A HEAD answered with a body would be read as the start of the next answer.
    client.send("HEAD /health_check HTTP/1.1\r\nHost: t\r\n\r\n"
                "HEAD /no/such/route HTTP/1.1\r\nHost: t\r\n\r\n"
                "DELETE /health_check HTTP/1.1\r\nHost: t\r\n\r\n"
                "GET /health_check HTTP/1.1\r\nHost: t\r\n\r\n");
    QTRY_VERIFY(client.unparsed().endsWith("\r\n\r\nok"));
    QByteArray stream = client.unparsed();
    const qsizetype firstEnd = stream.indexOf("\r\n\r\n");
    const QByteArray head = stream.left(firstEnd);
    QVERIFY2(head.startsWith("HTTP/1.1 200 "), head.constData());
    QVERIFY2(head.contains("\r\nContent-Length: 2"), head.constData()); // what GET would send
    stream.remove(0, firstEnd + 4);
    QVERIFY2(stream.startsWith("HTTP/1.1 404 "), stream.constData()); // no body in between
    const qsizetype secondEnd = stream.indexOf("\r\n\r\n");
    stream.remove(0, secondEnd + 4);
    QVERIFY2(stream.startsWith("HTTP/1.1 405 "), stream.constData());
    QVERIFY2(stream.left(stream.indexOf("\r\n\r\n")).contains("\r\nAllow: GET, HEAD"),
             stream.constData());
}

void TestHttpFront::headHasTheHeadersOfGet_data()
{
    QTest::addColumn<QByteArray>("target");
    QTest::addColumn<QByteArray>("auth");
    QTest::newRow("text") << QByteArray("/health_check") << QByteArray();
    QTest::newRow("CORS, 404") << QByteArray("/preview/nope") << QByteArray();
    QTest::newRow("nosniff page") << QByteArray("/doc") << QByteArray();
    QTest::newRow("401 with its challenge") << QByteArray("/workflow") << QByteArray();
    QTest::newRow("405 with Allow")
        << QByteArray("/workflow/x/cancel") << QByteArray("admin:admin").toBase64();
    QTest::newRow("JSON") << QByteArray("/cluster/nodes") << QByteArray("admin:admin").toBase64();
}

void TestHttpFront::headHasTheHeadersOfGet()
{
    // ApiServer writes a HEAD's headers from a list of the names routes set: a header missing
    // from it shows here.
    QFETCH(QByteArray, target);
    QFETCH(QByteArray, auth);
    Server server;
    const auto answer = [&](const QByteArray &method) {
        RawClient client(server.port);
        client.send(method + ' ' + target + " HTTP/1.1\r\nHost: t\r\n" +
                    (auth.isEmpty() ? QByteArray() : "Authorization: Basic " + auth + "\r\n") +
                    "\r\n");
        (void)QTest::qWaitFor([&client] { return client.unparsed().contains("\r\n\r\n"); }, 5000);
        const QByteArray head = client.unparsed().left(client.unparsed().indexOf("\r\n\r\n"));
        QList<QByteArray> lines = head.split('\n');
        for (QByteArray &line : lines)
            line = line.trimmed().toLower();
        std::sort(lines.begin() + 1, lines.end()); // the status line first, then by name
        return lines;
    };
    const QList<QByteArray> get = answer("GET");
    const QList<QByteArray> head = answer("HEAD");
    QVERIFY(!get.isEmpty());
    QCOMPARE(head, get);
}

void TestHttpFront::connectionCloseIsHonoured()
{
    Server server;
    // Asked to close: answered, then closed by the router (a client may wait for that).
    for (const QByteArray &request :
         {QByteArray("GET /health_check HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"),
          QByteArray("GET /health_check HTTP/1.0\r\n\r\n")}) {
        RawClient client(server.port);
        client.send(request);
        const auto response = client.next();
        QVERIFY(response);
        QCOMPARE(response->status, 200);
        QCOMPARE(response->body, QByteArray("ok"));
        QVERIFY2(client.waitClosed(3000), request.constData());
    }
    // HTTP/1.0 with keep-alive, and HTTP/1.1 by default: the connection stays for the next one.
    for (const QByteArray &request :
         {QByteArray("GET /health_check HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"),
          QByteArray("GET /health_check HTTP/1.1\r\nHost: t\r\n\r\n")}) {
        RawClient client(server.port);
        for (int i = 0; i < 2; ++i) {
            client.send(request);
            const auto response = client.next();
            QVERIFY(response);
            QCOMPARE(response->status, 200);
        }
        QVERIFY(!client.closed());
    }
}

void TestHttpFront::pipelinedRequestsAreAnsweredInOrder()
{
    Settings settings;
    settings.maxBodyBytes = 1024;
    Server server(settings);
    const QByteArray health = "GET /health_check HTTP/1.1\r\nHost: t\r\n\r\n";
    const QByteArray missing = "GET /no/such/route HTTP/1.1\r\nHost: t\r\n\r\n";

    // The refusal of the third must come after the answers to the first two.
    RawClient client(server.port);
    client.send(health + missing + addNodeHead(contentLength(5000)));
    for (const int expected : {200, 404}) {
        const auto response = client.next();
        QVERIFY(response);
        QCOMPARE(response->status, expected);
    }
    QString problem = refusalProblem(client, 413);
    QVERIFY2(problem.isEmpty(), qPrintable(problem));

    // The 100 Continue of the second comes after the answer to the first.
    const QByteArray body = addNodeBody(5, 100);
    RawClient second(server.port);
    second.send(health + addNodeHead(contentLength(body.size()) + "Expect: 100-continue\r\n"));
    for (const int expected : {200, 100}) {
        const auto response = second.next();
        QVERIFY(response);
        QCOMPARE(response->status, expected);
    }
    second.send(body);
    const auto created = second.next();
    QVERIFY(created);
    QCOMPARE(created->status, 200);
}

void TestHttpFront::idleConnectionIsClosed()
{
    Settings settings;
    settings.httpIdleTimeoutS = 1;
    Server server(settings);

    // A connection that never sends anything.
    QElapsedTimer clock;
    clock.start();
    RawClient silent(server.port);
    QVERIFY(silent.isConnected());
    QVERIFY(silent.waitClosed(5000));
    QVERIFY2(clock.elapsed() >= 900, qPrintable(QString::number(clock.elapsed())));

    // A keep-alive connection after its answer.
    RawClient kept(server.port);
    kept.send("GET /health_check HTTP/1.1\r\nHost: t\r\n\r\n");
    const auto response = kept.next();
    QVERIFY(response);
    QCOMPARE(response->status, 200);
    clock.restart();
    QVERIFY(!kept.closed());
    QVERIFY(kept.waitClosed(5000));
    QVERIFY2(clock.elapsed() >= 900, qPrintable(QString::number(clock.elapsed())));
    QVERIFY(kept.unparsed().isEmpty()); // closed quietly: nothing was half sent
    QTRY_COMPARE(server.api->openConnections(), 0);
}

void TestHttpFront::stalledRequestGets408()
{
    Settings settings;
    settings.httpIdleTimeoutS = 1;
    Server server(settings);
    RawClient client(server.port);
    client.send("GET /health_check HTTP/1.1\r\nHost: t\r\n"); // the empty line never comes
    const QString problem = refusalProblem(client, 408);
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
}

void TestHttpFront::slowUploadIsNotIdle()
{
    Settings settings;
    settings.httpIdleTimeoutS = 1;
    Server server(settings);
    const QByteArray body = addNodeBody(6, 1000);
    RawClient client(server.port);
    client.send(addNodeHead(contentLength(body.size())));
    // A part every 400 ms: 2 s in all, longer than the idle timeout, never silent that long.
    int part = 0;
    QTimer pacer;
    QObject::connect(&pacer, &QTimer::timeout, &pacer, [&] {
        client.send(body.mid(part * 200, 200));
        if (++part * 200 >= body.size())
            pacer.stop();
    });
    QElapsedTimer clock;
    clock.start();
    pacer.start(400);
    const auto response = client.next(10000);
    QVERIFY(response);
    QCOMPARE(response->status, 200);
    QVERIFY(clock.elapsed() >= 1500);
}

void TestHttpFront::connectionCapGives503()
{
    Settings settings;
    settings.httpMaxConnections = 3;
    Server server(settings);
    std::vector<std::unique_ptr<RawClient>> clients;
    for (int i = 0; i < 3; ++i) {
        clients.push_back(std::make_unique<RawClient>(server.port));
        clients.back()->send("GET /health_check HTTP/1.1\r\nHost: t\r\n\r\n");
        const auto response = clients.back()->next();
        QVERIFY(response);
        QCOMPARE(response->status, 200);
    }
    QCOMPARE(server.api->openConnections(), 3);

    RawClient extra(server.port);
    extra.send("GET /health_check HTTP/1.1\r\nHost: t\r\n\r\n");
    const auto refused = extra.next();
    QVERIFY(refused);
    QCOMPARE(refused->status, 503);
    QVERIFY(!refused->message().isEmpty());
    QCOMPARE(refused->headers.value("retry-after"), QByteArray("1"));
    QVERIFY(extra.waitClosed());
    QCOMPARE(server.api->openConnections(), 3);

    // One goes: there is room again.
    clients.front()->abort();
    QTRY_COMPARE(server.api->openConnections(), 2);
    QCOMPARE(server.health(), 200);
}

void TestHttpFront::disconnectsAtEveryStage_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("then"); // abort | after-100 | mid-answer

    const QByteArray docs = "GET /api-docs/openapi.json HTTP/1.1\r\nHost: t\r\n" + Auth + "\r\n";
    QTest::newRow("connected, nothing sent") << QByteArray() << "abort";
    QTest::newRow("half a request line") << QByteArray("GET /heal") << "abort";
    QTest::newRow("half the headers")
        << QByteArray("GET /health_check HTTP/1.1\r\nHost:") << "abort";
    QTest::newRow("half a body") << addNodeHead(contentLength(1000)) + "{\"url\":"
                                 << "abort";
    QTest::newRow("half a chunked body")
        << addNodeHead("Transfer-Encoding: chunked\r\n") + "100\r\n{\"u"
        << "abort";
    QTest::newRow("whole request, before the answer") << docs << "abort";
    QTest::newRow("whole POST, before the answer")
        << addNodeHead(contentLength(addNodeBody(7).size())) + addNodeBody(7) << "abort";
    QTest::newRow("while the answer is read") << docs << "mid-answer";
    QTest::newRow("after 100 Continue")
        << addNodeHead(contentLength(500) + "Expect: 100-continue\r\n") << "after-100";
    QTest::newRow("during a refusal")
        << addNodeHead(contentLength(1024 * MiB)) + QByteArray(256 * 1024, 'x') << "abort";
    QTest::newRow("pipelined, third half sent") << docs + docs + "GET /doc HTTP/1.1\r\nHo"
                                                << "abort";
}

void TestHttpFront::disconnectsAtEveryStage()
{
    QFETCH(QByteArray, bytes);
    QFETCH(QString, then);
    Server server;
    for (int round = 0; round < 3; ++round) {
        {
            RawClient client(server.port);
            QVERIFY(client.isConnected());
            client.send(bytes);
            if (then == QLatin1String("after-100")) {
                const auto interim = client.next();
                QVERIFY(interim);
                QCOMPARE(interim->status, 100);
            } else if (then == QLatin1String("mid-answer")) {
                QVERIFY(QTest::qWaitFor([&] { return !client.unparsed().isEmpty(); }, 5000));
            }
            client.abort();
        }
        // Alive, still serving, and the connection is gone on the server's side too.
        QCOMPARE(server.health(), 200);
        QTRY_COMPARE(server.api->openConnections(), 0);
    }
}

void TestHttpFront::failedLoginsAreThrottledPerAddress()
{
    Server server;
    const auto attempt = [&server](const QHostAddress &from, const QByteArray &password) {
        RawClient client(server.port, from);
        QByteArray request = "GET /cluster/nodes HTTP/1.1\r\nHost: t\r\n";
        if (!password.isNull())
            request += basicAuthLine("admin", password);
        client.send(request + "\r\n");
        return client.next().value_or(RawResponse{});
    };
    const QHostAddress first(QHostAddress::LocalHost);

    for (int i = 0; i < 5; ++i)
        QCOMPARE(attempt(first, "wrong").status, 401);
    // Blocked: answered at once (no sleep on the server) with 429, whatever the credentials.
    QElapsedTimer clock;
    clock.start();
    const RawResponse blocked = attempt(first, "wrong");
    QVERIFY2(clock.elapsed() < 450, qPrintable(QString::number(clock.elapsed())));
    QCOMPARE(blocked.status, 429);
    QVERIFY(!blocked.message().isEmpty());
    QVERIFY(blocked.headers.value("retry-after").toInt() >= 1);
    QCOMPARE(attempt(first, "admin").status, 429);
    QCOMPARE(attempt(first, QByteArray()).status, 429);
    // Public routes stay open to it.
    QCOMPARE(server.status("GET /health_check HTTP/1.1\r\nHost: t\r\n\r\n", first), 200);

    // Another address is served as usual.
    QCOMPARE(attempt(OtherClient, "admin").status, 200);
    QCOMPARE(attempt(OtherClient, "wrong").status, 401);

    // After the back-off (0.5 s) the right password works, and resets the count.
    QTRY_COMPARE_WITH_TIMEOUT(attempt(first, "admin").status, 200, 5000);
    for (int i = 0; i < 5; ++i)
        QCOMPARE(attempt(first, "wrong").status, 401);
    QCOMPARE(attempt(first, "wrong").status, 429);
}

QTEST_GUILESS_MAIN(TestHttpFront)
#include "tst_httpfront.moc"
