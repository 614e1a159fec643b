// The documentation stays true: the README's configuration table is the settings table, and
// the OpenAPI document describes every route the server has.
#include "apiserver.h"
#include "config/settingsloader.h"
#include "isolatedsettings.h"
#include "router/router.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

class TestDocs : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void readmeConfigurationTableIsTheSettingsTable();
    void openApiDocumentsEveryRoute();
};

namespace {
QByteArray read(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        qFatal("cannot read %s", qPrintable(path));
    return file.readAll();
}
} // namespace

void TestDocs::readmeConfigurationTableIsTheSettingsTable()
{
    const QString readme = QString::fromUtf8(read(QStringLiteral(COMFY_SOURCE_DIR "/README.md")));
    const QString begin = QStringLiteral("<!-- config-table:begin -->\n");
    const qsizetype from = readme.indexOf(begin);
    const qsizetype to = readme.indexOf(QStringLiteral("<!-- config-table:end -->"));
    QVERIFY(from >= 0 && to > from);
    QCOMPARE(readme.mid(from + begin.size(), to - from - begin.size()),
             comfy::SettingsLoader::markdownTable());
}

void TestDocs::openApiDocumentsEveryRoute()
{
    const QJsonObject paths =
        QJsonDocument::fromJson(read(QStringLiteral(COMFY_SOURCE_DIR "/resources/openapi.json")))
            .object()
            .value(QLatin1String("paths"))
            .toObject();
    testsupport::IsolatedSettings dirs;
    comfy::Router router(dirs.apply({}));
    comfy::server::ApiServer server(router);
    const QStringList routes = server.routeList();
    QVERIFY(routes.size() > 10);
    for (const QString &route : routes) {
        const QString method = route.section(QLatin1Char(' '), 0, 0).toLower();
        const QString path = route.section(QLatin1Char(' '), 1);
        QVERIFY2(paths.value(path).toObject().contains(method),
                 qPrintable(route + QStringLiteral(" is not in openapi.json")));
    }
}

QTEST_GUILESS_MAIN(TestDocs)
#include "tst_docs.moc"
