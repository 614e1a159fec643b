// The parts of the hardened HTTP front that need no socket: the request framer (where requests
// end, what is refused), the login throttle (with a clock the test moves), the constant-time
// credential comparison, the settings that configure them, and the cache of finished tasks'
// answers.
#include "basicauth.h"
#include "bodycache.h"
#include "config/settingsloader.h"
#include "httpframing.h"
#include "loginthrottle.h"

#include <QTest>

using namespace comfy;
using namespace comfy::server;

namespace {

constexpr qint64 BodyLimit = 1000;
constexpr qint64 HeaderLimit = 2000;

struct Fed {
    QList<FramingEvent> events;
    qint64 completed = 0;
    bool inRequest = false;
};

// Fed whole, or one byte at a time: where the reads split a stream must not matter.
Fed feed(const QByteArray &stream, bool byteByByte)
{
    RequestFramer framer({BodyLimit, HeaderLimit});
    Fed fed;
    if (byteByByte) {
        for (qsizetype i = 0; i < stream.size(); ++i)
            framer.feed(QByteArrayView(stream).sliced(i, 1), fed.events);
    } else {
        framer.feed(stream, fed.events);
    }
    fed.completed = framer.completedRequests();
    fed.inRequest = framer.inRequest();
    return fed;
}

QByteArray chunk(qsizetype size, char fill = 'x')
{
    return QByteArray::number(size, 16) + "\r\n" + QByteArray(size, fill) + "\r\n";
}

} // namespace

class TestHttpUnits : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void framesRequests_data();
    void framesRequests();
    void closesAfterTheAnswer_data();
    void closesAfterTheAnswer();
    void refuses_data();
    void refuses();
    void ignoresBytesAfterARefusal();

    void throttleBlocksAfterFiveFailures();
    void throttleBackoffGrowsAndIsCapped();
    void throttleSuccessResets();
    void throttleKeepsAddressesApart();
    void throttleForgetsOldFailures();
    void throttleTableIsBounded();

    void constantTimeEquals_data();
    void constantTimeEquals();

    void settingsDefaults();
    void settingsFromEnvironmentAndFlags();
    void settingsInvalid_data();
    void settingsInvalid();

    void bodyCacheKeepsRecentlyUsedWithinItsBytes();
    void bodyCacheReplacesAndRefusesHugeBodies();
};

void TestHttpUnits::framesRequests_data()
{
    QTest::addColumn<QByteArray>("stream");
    QTest::addColumn<qint64>("completed");
    QTest::addColumn<bool>("inRequest");
    QTest::addColumn<QList<qint64>>("continues"); // requests that get a 100 Continue

    const QByteArray get = "GET /health_check HTTP/1.1\r\nHost: x\r\n\r\n";
    QTest::newRow("nothing") << QByteArray() << 0LL << false << QList<qint64>{};
    QTest::newRow("GET") << get << 1LL << false << QList<qint64>{};
    QTest::newRow("GET without header fields")
        << QByteArray("GET / HTTP/1.1\r\n\r\n") << 1LL << false << QList<qint64>{};
    QTest::newRow("LF line ends") << QByteArray("GET / HTTP/1.1\nHost: x\n\n") << 1LL << false
                                  << QList<qint64>{};
    QTest::newRow("blank lines before a request")
        << QByteArray("\r\n\r\n \t") + get << 1LL << false << QList<qint64>{};
    QTest::newRow("half a request line")
        << QByteArray("GET /heal") << 0LL << true << QList<qint64>{};
    QTest::newRow("half the headers")
        << QByteArray("GET / HTTP/1.1\r\nHost: x\r\n") << 0LL << true << QList<qint64>{};
    QTest::newRow("POST with a body")
        << QByteArray("POST /workflow HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello") << 1LL << false
        << QList<qint64>{};
    QTest::newRow("half a body") << QByteArray("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhel")
                                 << 0LL << true << QList<qint64>{};
    QTest::newRow("body exactly at the limit")
        << "POST / HTTP/1.1\r\nContent-Length: 1000\r\n\r\n" + QByteArray(1000, 'x') << 1LL << false
        << QList<qint64>{};
    QTest::newRow("Content-Length 0") << QByteArray("POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
                                      << 1LL << false << QList<qint64>{};
    QTest::newRow("same Content-Length twice")
        << QByteArray("POST / HTTP/1.1\r\ncontent-length: 2\r\nContent-Length: 2\r\n\r\nhi") << 1LL
        << false << QList<qint64>{};
    QTest::newRow("chunked") << "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" +
                                    chunk(10) + chunk(300) + "0\r\n\r\n"
                             << 1LL << false << QList<qint64>{};
    QTest::newRow("chunked with an extension and upper-case hex")
        << "POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\nA;name=value\r\n" +
               QByteArray(10, 'y') + "\r\n0\r\n\r\n"
        << 1LL << false << QList<qint64>{};
    QTest::newRow("chunked exactly at the limit")
        << "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk(600) + chunk(400) +
               "0\r\n\r\n"
        << 1LL << false << QList<qint64>{};
    QTest::newRow("chunked, last chunk not ended")
        << "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk(10) + "0\r\n"
        << 0LL << true << QList<qint64>{};
    QTest::newRow("three pipelined") << get + get + get << 3LL << false << QList<qint64>{};
    QTest::newRow("pipelined, the third half sent")
        << get + get + "GET / HT" << 2LL << true << QList<qint64>{};
    QTest::newRow("100-continue")
        << QByteArray("POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n") << 0LL
        << true << QList<qint64>{0};
    QTest::newRow("100-continue, body sent anyway")
        << QByteArray("POST / HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\nabc")
        << 1LL << false << QList<qint64>{0};
    QTest::newRow("100-continue on the second request")
        << get + "POST / HTTP/1.1\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n"
        << 1LL << true << QList<qint64>{1};
    QTest::newRow("100-continue without a body: nothing to continue")
        << QByteArray("GET / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n") << 1LL << false
        << QList<qint64>{};
    QTest::newRow("HTTP/1.0 expectation is ignored")
        << QByteArray("POST / HTTP/1.0\r\nExpect: something\r\nContent-Length: 1\r\n\r\n!") << 1LL
        << false << QList<qint64>{};
    QTest::newRow("header block exactly at the limit")
        << "GET / HTTP/1.1\r\nX: " + QByteArray(HeaderLimit - 16 - 7, 'a') + "\r\n\r\n"
        << 1LL << false << QList<qint64>{};
}

void TestHttpUnits::framesRequests()
{
    QFETCH(QByteArray, stream);
    QFETCH(qint64, completed);
    QFETCH(bool, inRequest);
    QFETCH(QList<qint64>, continues);
    for (const bool byteByByte : {false, true}) {
        const Fed fed = feed(stream, byteByByte);
        QList<qint64> continued;
        for (const FramingEvent &event : fed.events) {
            if (event.kind == FramingEvent::Kind::Close)
                continue; // closesAfterTheAnswer()
            QVERIFY2(
                event.kind == FramingEvent::Kind::Continue,
                qPrintable(QStringLiteral("refused %1: %2").arg(event.status).arg(event.message)));
            continued.append(event.request);
        }
        QCOMPARE(fed.completed, completed);
        QCOMPARE(fed.inRequest, inRequest);
        QCOMPARE(continued, continues);
    }
}

void TestHttpUnits::closesAfterTheAnswer_data()
{
    QTest::addColumn<QByteArray>("stream");
    QTest::addColumn<QList<int>>("events"); // kinds in order: 0 Continue, 2 Close
    QTest::addColumn<QList<qint64>>("requests");
    const QByteArray get = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    QTest::newRow("keep-alive by default") << get + get << QList<int>{} << QList<qint64>{};
    QTest::newRow("Connection: close") << get + "GET / HTTP/1.1\r\nConnection: Close\r\n\r\n"
                                       << QList<int>{2} << QList<qint64>{1};
    QTest::newRow("among other tokens")
        << QByteArray("GET / HTTP/1.1\r\nConnection: TE, close\r\n\r\n") << QList<int>{2}
        << QList<qint64>{0};
    QTest::newRow("HTTP/1.0") << QByteArray("GET / HTTP/1.0\r\n\r\n") << QList<int>{2}
                              << QList<qint64>{0};
    QTest::newRow("HTTP/1.0 keep-alive")
        << QByteArray("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n") << QList<int>{}
        << QList<qint64>{};
    QTest::newRow("after the body and its 100 Continue")
        << QByteArray("POST / HTTP/1.1\r\nExpect: 100-continue\r\nConnection: close\r\n"
                      "Content-Length: 3\r\n\r\nabc")
        << QList<int>{0, 2} << QList<qint64>{0, 0};
}

void TestHttpUnits::closesAfterTheAnswer()
{
    QFETCH(QByteArray, stream);
    QFETCH(QList<int>, events);
    QFETCH(QList<qint64>, requests);
    for (const bool byteByByte : {false, true}) {
        const Fed fed = feed(stream, byteByByte);
        QList<int> kinds;
        QList<qint64> of;
        for (const FramingEvent &event : fed.events) {
            kinds.append(int(event.kind));
            of.append(event.request);
        }
        QCOMPARE(kinds, events);
        QCOMPARE(of, requests);
    }
}

void TestHttpUnits::refuses_data()
{
    QTest::addColumn<QByteArray>("stream");
    QTest::addColumn<int>("status");
    QTest::addColumn<qint64>("request"); // which request of the stream is refused

    const QByteArray post = "POST /workflow HTTP/1.1\r\nHost: x\r\n";
    const QByteArray chunked = post + "Transfer-Encoding: chunked\r\n\r\n";
    QTest::newRow("Content-Length over the limit") << post + "Content-Length: 1001\r\n\r\n"
                                                   << 413 << 0LL;
    QTest::newRow("1 GiB declared") << post + "Content-Length: 1073741824\r\n\r\n" << 413 << 0LL;
    QTest::newRow("Content-Length beyond 64 bits")
        << post + "Content-Length: 99999999999999999999999\r\n\r\n"
        << 413 << 0LL;
    QTest::newRow("over the limit with 100-continue")
        << post + "Expect: 100-continue\r\nContent-Length: 5000\r\n\r\n"
        << 413 << 0LL;
    QTest::newRow("chunked over the limit") << chunked + chunk(600) + chunk(401) + "0\r\n\r\n"
                                            << 413 << 0LL;
    QTest::newRow("one huge chunk announced") << chunked + "fffffff\r\n" << 413 << 0LL;
    QTest::newRow("second request over the limit")
        << "GET / HTTP/1.1\r\n\r\n" + post + "Content-Length: 2000\r\n\r\n"
        << 413 << 1LL;
    QTest::newRow("header block over the limit")
        << "GET / HTTP/1.1\r\nX: " + QByteArray(HeaderLimit, 'a') + "\r\n\r\n"
        << 431 << 0LL;
    QTest::newRow("header block over the limit, no line end")
        << "GET / HTTP/1.1\r\nX: " + QByteArray(HeaderLimit, 'a') << 431 << 0LL;
    QTest::newRow("request line over the limit")
        << "GET /" + QByteArray(HeaderLimit, 'a') + " HTTP/1.1\r\n\r\n"
        << 414 << 0LL;
    QTest::newRow("too many header fields")
        << "GET / HTTP/1.1\r\n" + QByteArray("X: y\r\n").repeated(101) + "\r\n"
        << 431 << 0LL;
    QTest::newRow("unknown expectation") << post + "Expect: magic\r\nContent-Length: 1\r\n\r\n"
                                         << 417 << 0LL;
    QTest::newRow("Content-Length and Transfer-Encoding")
        << post + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
        << 400 << 0LL;
    QTest::newRow("gzip transfer coding") << post + "Transfer-Encoding: gzip\r\n\r\n" << 501 << 0LL;
    QTest::newRow("two transfer codings") << post + "Transfer-Encoding: gzip, chunked\r\n\r\n"
                                          << 501 << 0LL;
    QTest::newRow("Content-Length not a number") << post + "Content-Length: 12abc\r\n\r\n"
                                                 << 400 << 0LL;
    QTest::newRow("negative Content-Length") << post + "Content-Length: -1\r\n\r\n" << 400 << 0LL;
    QTest::newRow("conflicting Content-Length")
        << post + "Content-Length: 5\r\nContent-Length: 6\r\n\r\n"
        << 400 << 0LL;
    QTest::newRow("folded header line") << post + "X-A: b\r\n c\r\n\r\n" << 400 << 0LL;
    QTest::newRow("header line without colon") << post + "Content-Length 5\r\n\r\n" << 400 << 0LL;
    QTest::newRow("space in a header name") << post + "Content-Length : 5\r\n\r\n" << 400 << 0LL;
    QTest::newRow("malformed request line") << QByteArray("GARBAGE\r\n\r\n") << 400 << 0LL;
    QTest::newRow("request line without version") << QByteArray("GET /\r\n\r\n") << 400 << 0LL;
    QTest::newRow("HTTP/2.0") << QByteArray("GET / HTTP/2.0\r\n\r\n") << 505 << 0LL;
    QTest::newRow("chunk trailers") << chunked + chunk(3) + "0\r\nX-Trailer: 1\r\n\r\n"
                                    << 400 << 0LL;
    QTest::newRow("bad chunk size") << chunked + "zz\r\nabc\r\n" << 400 << 0LL;
    QTest::newRow("chunk size with LF only") << chunked + "3\nabc\r\n" << 400 << 0LL;
    QTest::newRow("chunk data not ended by CRLF") << chunked + "3\r\nabcd\r\n" << 400 << 0LL;
}

void TestHttpUnits::refuses()
{
    QFETCH(QByteArray, stream);
    QFETCH(int, status);
    QFETCH(qint64, request);
    for (const bool byteByByte : {false, true}) {
        const Fed fed = feed(stream, byteByByte);
        QVERIFY(!fed.events.isEmpty());
        const FramingEvent &last = fed.events.constLast();
        QCOMPARE(last.kind, FramingEvent::Kind::Refuse);
        QCOMPARE(last.status, status);
        QCOMPARE(last.request, request);
        QVERIFY(!last.message.isEmpty());
        QVERIFY(!fed.inRequest);
    }
}

void TestHttpUnits::ignoresBytesAfterARefusal()
{
    RequestFramer framer({BodyLimit, HeaderLimit});
    QList<FramingEvent> events;
    framer.feed("POST / HTTP/1.1\r\nContent-Length: 5000\r\n\r\n", events);
    QCOMPARE(events.size(), qsizetype(1));
    QVERIFY(framer.refused());
    // What follows (the refused body, or requests smuggled in it) is never framed.
    framer.feed("GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n", events);
    QCOMPARE(events.size(), qsizetype(1));
    QCOMPARE(framer.completedRequests(), 0LL);
}

namespace {
struct FakeClock {
    qint64 now = 1000;
    LoginThrottle::Clock clock()
    {
        return [this] { return now; };
    }
};
const QHostAddress ClientA(QStringLiteral("192.0.2.1"));
const QHostAddress ClientB(QStringLiteral("192.0.2.2"));
} // namespace

void TestHttpUnits::throttleBlocksAfterFiveFailures()
{
    FakeClock time;
    LoginThrottle throttle(LoginThrottle::Policy{}, time.clock());
    for (int i = 1; i <= 4; ++i) {
        QCOMPARE(throttle.recordFailure(ClientA), 0LL);
        QCOMPARE(throttle.blockedForMs(ClientA), 0LL);
    }
    QCOMPARE(throttle.recordFailure(ClientA), 500LL); // the fifth
    QCOMPARE(throttle.blockedForMs(ClientA), 500LL);
    time.now += 499;
    QCOMPARE(throttle.blockedForMs(ClientA), 1LL);
    time.now += 1;
    QCOMPARE(throttle.blockedForMs(ClientA), 0LL);
}

void TestHttpUnits::throttleBackoffGrowsAndIsCapped()
{
    FakeClock time;
    LoginThrottle throttle(LoginThrottle::Policy{}, time.clock());
    for (int i = 0; i < 4; ++i)
        throttle.recordFailure(ClientA);
    qint64 previous = 0;
    for (const qint64 expected :
         {500LL, 1000LL, 2000LL, 4000LL, 8000LL, 16000LL, 30000LL, 30000LL, 30000LL}) {
        const qint64 backoff = throttle.recordFailure(ClientA);
        QCOMPARE(backoff, expected);
        QVERIFY(backoff >= previous);
        previous = backoff;
        QCOMPARE(throttle.blockedForMs(ClientA), expected);
        time.now += backoff; // waits it out, then fails again
    }
    for (int i = 0; i < 100; ++i) // no overflow however long it goes on
        QCOMPARE(throttle.recordFailure(ClientA), 30000LL);
}

void TestHttpUnits::throttleSuccessResets()
{
    FakeClock time;
    LoginThrottle throttle(LoginThrottle::Policy{}, time.clock());
    for (int i = 0; i < 5; ++i)
        throttle.recordFailure(ClientA);
    time.now += 500;
    throttle.recordSuccess(ClientA);
    QCOMPARE(throttle.trackedAddresses(), qsizetype(0));
    for (int i = 0; i < 4; ++i)
        QCOMPARE(throttle.recordFailure(ClientA), 0LL); // counted from zero again
    QCOMPARE(throttle.recordFailure(ClientA), 500LL);
}

void TestHttpUnits::throttleKeepsAddressesApart()
{
    FakeClock time;
    LoginThrottle throttle(LoginThrottle::Policy{}, time.clock());
    for (int i = 0; i < 5; ++i)
        throttle.recordFailure(ClientA);
    QVERIFY(throttle.blockedForMs(ClientA) > 0);
    QCOMPARE(throttle.blockedForMs(ClientB), 0LL);
    QCOMPARE(throttle.recordFailure(ClientB), 0LL);
    // The same IPv4 client over an IPv6 socket (mapped address) is the same client.
    QVERIFY(throttle.blockedForMs(QHostAddress(QStringLiteral("::ffff:192.0.2.1"))) > 0);
    // IPv6 clients count per /64.
    for (int i = 0; i < 5; ++i)
        throttle.recordFailure(QHostAddress(QStringLiteral("2001:db8:1:2::%1").arg(i + 1)));
    QVERIFY(throttle.blockedForMs(QHostAddress(QStringLiteral("2001:db8:1:2:ffff::9"))) > 0);
    QCOMPARE(throttle.blockedForMs(QHostAddress(QStringLiteral("2001:db8:1:3::1"))), 0LL);
}

void TestHttpUnits::throttleForgetsOldFailures()
{
    FakeClock time;
    LoginThrottle::Policy policy;
    policy.forgetAfterMs = 60000;
    LoginThrottle throttle(policy, time.clock());
    for (int i = 0; i < 4; ++i)
        throttle.recordFailure(ClientA);
    time.now += 60001;
    QCOMPARE(throttle.recordFailure(ClientA), 0LL); // the four old ones no longer count
}

void TestHttpUnits::throttleTableIsBounded()
{
    FakeClock time;
    LoginThrottle::Policy policy;
    policy.maxAddresses = 3;
    LoginThrottle throttle(policy, time.clock());
    for (int i = 0; i < 5; ++i)
        throttle.recordFailure(ClientA);
    for (int i = 0; i < 50; ++i) {
        time.now += 1;
        throttle.recordFailure(QHostAddress(QStringLiteral("198.51.100.%1").arg(i)));
        QVERIFY(throttle.trackedAddresses() <= 3);
    }
}

void TestHttpUnits::constantTimeEquals_data()
{
    QTest::addColumn<QByteArray>("given");
    QTest::addColumn<QByteArray>("expected");
    QTest::addColumn<bool>("equal");
    QTest::newRow("equal") << QByteArray("admin:admin") << QByteArray("admin:admin") << true;
    QTest::newRow("both empty") << QByteArray() << QByteArray() << true;
    QTest::newRow("binary equal") << QByteArray("a\0b", 3) << QByteArray("a\0b", 3) << true;
    QTest::newRow("same length, first byte differs")
        << QByteArray("Admin:admin") << QByteArray("admin:admin") << false;
    QTest::newRow("same length, last byte differs")
        << QByteArray("admin:admiN") << QByteArray("admin:admin") << false;
    QTest::newRow("prefix") << QByteArray("admin:") << QByteArray("admin:admin") << false;
    QTest::newRow("longer") << QByteArray("admin:admin2") << QByteArray("admin:admin") << false;
    QTest::newRow("longer by a NUL")
        << QByteArray("admin:admin\0", 12) << QByteArray("admin:admin") << false;
    QTest::newRow("empty given") << QByteArray() << QByteArray("admin:admin") << false;
    QTest::newRow("empty expected") << QByteArray("x") << QByteArray() << false;
    QTest::newRow("binary differs") << QByteArray("a\0b", 3) << QByteArray("a\0c", 3) << false;
}

void TestHttpUnits::constantTimeEquals()
{
    QFETCH(QByteArray, given);
    QFETCH(QByteArray, expected);
    QFETCH(bool, equal);
    QCOMPARE(server::constantTimeEquals(given, expected), equal);
}

void TestHttpUnits::settingsDefaults()
{
    const LoadResult result = SettingsLoader::load({QStringLiteral("comfy-router")}, {});
    QCOMPARE(result.action, LoadResult::Action::Run);
    QCOMPARE(result.settings.maxBodyBytes, 16LL * 1024 * 1024);
    QCOMPARE(result.settings.httpIdleTimeoutS, 60);
    QCOMPARE(result.settings.httpMaxConnections, 512);
    const QString table = SettingsLoader::markdownTable();
    QVERIFY(table.contains(
        QLatin1String("| `COMFY_ROUTER__MAX_BODY_BYTES` | `--max-body-bytes` | `16777216` |")));
    QVERIFY(table.contains(QLatin1String(
        "| `COMFY_ROUTER__HTTP__IDLE_TIMEOUT_S` | `--http-idle-timeout-s` | `60` |")));
    QVERIFY(table.contains(QLatin1String(
        "| `COMFY_ROUTER__HTTP__MAX_CONNECTIONS` | `--http-max-connections` | `512` |")));
}

void TestHttpUnits::settingsFromEnvironmentAndFlags()
{
    QProcessEnvironment environment;
    environment.insert(QStringLiteral("COMFY_ROUTER__MAX_BODY_BYTES"), QStringLiteral("4096"));
    environment.insert(QStringLiteral("COMFY_ROUTER__HTTP__IDLE_TIMEOUT_S"), QStringLiteral("5"));
    environment.insert(QStringLiteral("COMFY_ROUTER__HTTP__MAX_CONNECTIONS"), QStringLiteral("8"));
    LoadResult result = SettingsLoader::load({QStringLiteral("comfy-router")}, environment);
    QCOMPARE(result.action, LoadResult::Action::Run);
    QCOMPARE(result.settings.maxBodyBytes, 4096LL);
    QCOMPARE(result.settings.httpIdleTimeoutS, 5);
    QCOMPARE(result.settings.httpMaxConnections, 8);

    result = SettingsLoader::load({QStringLiteral("comfy-router"),
                                   QStringLiteral("--max-body-bytes=1073741824"),
                                   QStringLiteral("--http-idle-timeout-s"), QStringLiteral("7"),
                                   QStringLiteral("--http-max-connections=9")},
                                  environment);
    QCOMPARE(result.action, LoadResult::Action::Run);
    QCOMPARE(result.settings.maxBodyBytes, 1073741824LL);
    QCOMPARE(result.settings.httpIdleTimeoutS, 7);
    QCOMPARE(result.settings.httpMaxConnections, 9);
}

void TestHttpUnits::settingsInvalid_data()
{
    QTest::addColumn<QString>("variable");
    QTest::addColumn<QString>("value");
    QTest::newRow("body zero") << "COMFY_ROUTER__MAX_BODY_BYTES"
                               << "0";
    QTest::newRow("body text") << "COMFY_ROUTER__MAX_BODY_BYTES"
                               << "16MB";
    QTest::newRow("body over 1 GiB") << "COMFY_ROUTER__MAX_BODY_BYTES"
                                     << "1073741825";
    QTest::newRow("idle zero") << "COMFY_ROUTER__HTTP__IDLE_TIMEOUT_S"
                               << "0";
    QTest::newRow("idle negative") << "COMFY_ROUTER__HTTP__IDLE_TIMEOUT_S"
                                   << "-5";
    QTest::newRow("connections zero") << "COMFY_ROUTER__HTTP__MAX_CONNECTIONS"
                                      << "0";
    QTest::newRow("connections text") << "COMFY_ROUTER__HTTP__MAX_CONNECTIONS"
                                      << "many";
}

void TestHttpUnits::settingsInvalid()
{
    QFETCH(QString, variable);
    QFETCH(QString, value);
    QProcessEnvironment environment;
    environment.insert(variable, value);
    const LoadResult result = SettingsLoader::load({QStringLiteral("comfy-router")}, environment);
    QCOMPARE(result.action, LoadResult::Action::Fail);
    QVERIFY2(result.text.contains(variable), qPrintable(result.text));
}

void TestHttpUnits::bodyCacheKeepsRecentlyUsedWithinItsBytes()
{
    BodyCache cache(1000);
    QVERIFY(cache.find(QStringLiteral("a")).isNull());
    cache.insert(QStringLiteral("a"), QByteArray(200, 'a'));
    cache.insert(QStringLiteral("b"), QByteArray(200, 'b'));
    cache.insert(QStringLiteral("c"), QByteArray(200, 'c'));
    cache.insert(QStringLiteral("d"), QByteArray(200, 'd'));
    QCOMPARE(cache.bytes(), 800);
    QCOMPARE(cache.find(QStringLiteral("a")), QByteArray(200, 'a')); // a is now the newest
    cache.insert(QStringLiteral("e"), QByteArray(250, 'e'));         // 1050 bytes: b goes
    QCOMPARE(cache.size(), 4);
    QCOMPARE(cache.bytes(), 850);
    QVERIFY(cache.find(QStringLiteral("b")).isNull());
    for (const char *kept : {"a", "c", "d", "e"})
        QVERIFY2(!cache.find(QString::fromLatin1(kept)).isNull(), kept);
    QVERIFY(!cache.find(QStringLiteral("e")).isEmpty());
}

void TestHttpUnits::bodyCacheReplacesAndRefusesHugeBodies()
{
    BodyCache cache(1000);
    cache.insert(QStringLiteral("a"), QByteArray(100, 'x'));
    cache.insert(QStringLiteral("a"), QByteArray(50, 'y'));
    QCOMPARE(cache.size(), 1);
    QCOMPARE(cache.bytes(), 50);
    QCOMPARE(cache.find(QStringLiteral("a")), QByteArray(50, 'y'));
    cache.insert(QStringLiteral("huge"), QByteArray(251, 'h')); // over a quarter: not kept
    QVERIFY(cache.find(QStringLiteral("huge")).isNull());
    QCOMPARE(cache.bytes(), 50);
}

QTEST_GUILESS_MAIN(TestHttpUnits)
#include "tst_httpunits.moc"
