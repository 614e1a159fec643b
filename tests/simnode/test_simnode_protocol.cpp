// Replays the recorded transcripts of a real ComfyUI node (tests/data/comfyui) against the
// simulated node and compares every HTTP answer and websocket message with the recording.

#include "simnodetestkit.h"
#include "simulatednode.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

using namespace simtest;

class TestSimnodeProtocol : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void summariesMatchRecordings_data();
    void summariesMatchRecordings();
    void replay_data();
    void replay();
};

namespace {

const QStringList kAllCases = {
    QStringLiteral("a_save_image"),
    QStringLiteral("a2_scale_invert_save"),
    QStringLiteral("b_preview_image"),
    QStringLiteral("c_save_image_websocket"),
    QStringLiteral("d_invalid_workflows"),
    QStringLiteral("e_missing_input_file"),
    QStringLiteral("f_submit_twice"),
    QStringLiteral("g_interrupt"),
    QStringLiteral("h_progress_custom_node"),
    QStringLiteral("i_execution_error_custom_node"),
    QStringLiteral("j_upload_and_misc_http"),
    QStringLiteral("k_timing"),
    QStringLiteral("l_other_clients"),
    QStringLiteral("m_reconnect_during_run"),
    QStringLiteral("n_symlinked_model_and_input"),
};

} // namespace

// The summarizer the replays rely on reproduces the transcripts' own ws_sequence.
void TestSimnodeProtocol::summariesMatchRecordings_data()
{
    QTest::addColumn<QString>("name");
    for (const QString &name : kAllCases)
        QTest::newRow(qPrintable(name)) << name;
}

void TestSimnodeProtocol::summariesMatchRecordings()
{
    QFETCH(QString, name);
    const Transcript t = loadTranscript(name);
    QVERIFY2(!t.json.isEmpty(), qPrintable(name));
    QHash<QString, QStringList> perConn;
    for (const QJsonValue &v : t.events()) {
        const QJsonObject e = v.toObject();
        if (e.value(QLatin1String("channel")).toString() != QLatin1String("ws"))
            continue;
        const QString conn = e.value(QLatin1String("conn")).toString();
        const QString kind = e.value(QLatin1String("kind")).toString();
        if (kind == QLatin1String("text"))
            perConn[conn] << summarize(e.value(QLatin1String("message")).toObject());
        else if (kind == QLatin1String("binary"))
            perConn[conn] << QStringLiteral("binary(event_type=%1, image_type=%2)")
                                 .arg(e.value(QLatin1String("event_type")).toInt())
                                 .arg(e.value(QLatin1String("image_type")).toInt());
        else if (kind == QLatin1String("connect") && name.startsWith(QLatin1Char('m')))
            perConn[conn] << QStringLiteral("<connect>");
        else if (kind == QLatin1String("client_close") && name.startsWith(QLatin1Char('m')))
            perConn[conn] << QStringLiteral("<client_close>");
    }
    QCOMPARE(perConn.value(QStringLiteral("main")), t.wsSequence());
    for (auto it = perConn.begin(); it != perConn.end(); ++it) {
        if (it.key() != QLatin1String("main"))
            QCOMPARE(it.value(), t.otherSequence(it.key()));
    }
}

void TestSimnodeProtocol::replay_data()
{
    QTest::addColumn<QString>("name");
    // d, e, g and m are replayed in test_simnode_validation / test_simnode_control.
    for (const QString &name :
         {QStringLiteral("a_save_image"), QStringLiteral("a2_scale_invert_save"),
          QStringLiteral("b_preview_image"), QStringLiteral("c_save_image_websocket"),
          QStringLiteral("f_submit_twice"), QStringLiteral("h_progress_custom_node"),
          QStringLiteral("i_execution_error_custom_node"), QStringLiteral("j_upload_and_misc_http"),
          QStringLiteral("k_timing"), QStringLiteral("l_other_clients"),
          QStringLiteral("n_symlinked_model_and_input")})
        QTest::newRow(qPrintable(name)) << name;
}

void TestSimnodeProtocol::replay()
{
    QFETCH(QString, name);
    const Transcript t = loadTranscript(name);
    QVERIFY(!t.json.isEmpty());
    QTemporaryDir root;
    QVERIFY(root.isValid());

    QStringList skip;
    if (name.startsWith(QLatin1Char('j')))
        skip << QStringLiteral("sample_uploaded.png"); // uploaded by the replay
    if (name.startsWith(QLatin1Char('n'))) {
        // As the router does: model and input linked into the node's folders.
        skip << QStringLiteral("sample_linked_input.png");
        QVERIFY(QDir().mkpath(root.filePath(QStringLiteral("_link_sources"))));
        QVERIFY(QDir().mkpath(root.filePath(QStringLiteral("models/checkpoints"))));
        QVERIFY(QDir().mkpath(root.filePath(QStringLiteral("input"))));
        QFile dummy(root.filePath(QStringLiteral("_link_sources/sample_dummy.safetensors")));
        QVERIFY(dummy.open(QIODevice::WriteOnly));
        dummy.write("NOT A MODEL: the dummy of the recording"); // fails to load, as recorded
        dummy.close();
        writePng(root.filePath(QStringLiteral("_link_sources/linked_input.png")), 20, 10, 7);
        QVERIFY(QFile::link(
            root.filePath(QStringLiteral("_link_sources/sample_dummy.safetensors")),
            root.filePath(QStringLiteral("models/checkpoints/sample_dummy.safetensors"))));
        QVERIFY(QFile::link(root.filePath(QStringLiteral("_link_sources/linked_input.png")),
                            root.filePath(QStringLiteral("input/sample_linked_input.png"))));
    }
    prepareInputs(root.path(), t, skip);

    simnode::SimulatedNode node(root.path());
    node.setStepDelayMs(2);
    QVERIFY(node.listen() != 0);
    Replayer replayer(node, t);
    // j asks for the history of its recording session (other cases' prompts): not comparable.
    replayer.skipResponse = [](const QJsonObject &event) {
        return event.value(QLatin1String("path")).toString().contains(QLatin1String("max_items"));
    };
    // f reads /queue "right after" two submissions: whether they still run is timing.
    replayer.shapeOnly = [](const QJsonObject &event) {
        return event.value(QLatin1String("note")).toString().contains(QLatin1String("right after"));
    };
    QVERIFY2(replayer.run(), qPrintable(replayer.error()));
}

QTEST_GUILESS_MAIN(TestSimnodeProtocol)
#include "test_simnode_protocol.moc"
