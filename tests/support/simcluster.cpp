#include "simcluster.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QImage>
#include <QJsonArray>

namespace testsupport {

namespace {
void writeFile(const QString &path, const QByteArray &bytes)
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size())
        qFatal("SimCluster: cannot write %s", qPrintable(path));
}

void writeExampleFiles(const QString &root, int i)
{
    QDir().mkpath(root + QStringLiteral("/input"));
    QImage image(32, 24, QImage::Format_RGB32);
    image.fill(qRgb(10 * i, 200, 30));
    image.save(root + QStringLiteral("/input/example.png"), "PNG");
    writeFile(root + QStringLiteral("/models/checkpoints/model.safetensors"), "not really a model");
}
} // namespace

SimCluster::SimCluster(int count, int stepDelayMs, Layout layout)
{
    if (layout == Layout::SharedModelsAndInput) {
        m_shared = m_root.filePath(QStringLiteral("shared"));
        writeExampleFiles(m_shared, 0);
    }
    for (int i = 0; i < count; ++i) {
        const QString root = m_root.filePath(QStringLiteral("node%1").arg(i));
        if (m_shared.isEmpty()) {
            writeExampleFiles(root, i);
        } else {
            QDir().mkpath(root);
            for (const char *folder : {"models", "input"}) {
                const QString name = QLatin1String(folder);
                if (!QFile::link(m_shared + QLatin1Char('/') + name,
                                 root + QLatin1Char('/') + name))
                    qFatal("SimCluster: cannot link %s into %s", folder, qPrintable(root));
            }
        }
        m_nodeRoots.append(root);
        auto node = std::make_unique<simnode::SimulatedNode>(root);
        node->setStepDelayMs(stepDelayMs);
        node->listen(QHostAddress::LocalHost, 0);
        m_nodes.push_back(std::move(node));
    }
}

void SimCluster::addModelFile(const QString &relativePath)
{
    const QStringList roots = m_shared.isEmpty() ? m_nodeRoots : QStringList{m_shared};
    for (const QString &root : roots)
        writeFile(root + QLatin1Char('/') + relativePath, "not really a model");
}

QStringList SimCluster::urls() const
{
    QStringList list;
    for (const auto &node : m_nodes)
        list.append(node->url().toString());
    return list;
}

namespace {
QJsonObject node(const QString &classType, const QJsonObject &inputs)
{
    return {{QStringLiteral("class_type"), classType}, {QStringLiteral("inputs"), inputs}};
}
QJsonArray link(const char *id, int output)
{
    return {QString::fromLatin1(id), output};
}
} // namespace

QJsonObject saveImageGraph(const QString &prefix)
{
    return {
        {QStringLiteral("1"), node(QStringLiteral("LoadImage"),
                                   {{QStringLiteral("image"), QStringLiteral("example.png")}})},
        {QStringLiteral("2"),
         node(QStringLiteral("ImageInvert"), {{QStringLiteral("image"), link("1", 0)}})},
        {QStringLiteral("3"),
         node(QStringLiteral("SaveImage"), {{QStringLiteral("images"), link("2", 0)},
                                            {QStringLiteral("filename_prefix"), prefix}})},
    };
}

QJsonObject previewAndWebsocketGraph()
{
    return {
        {QStringLiteral("1"), node(QStringLiteral("LoadImage"),
                                   {{QStringLiteral("image"), QStringLiteral("example.png")}})},
        {QStringLiteral("2"),
         node(QStringLiteral("ImageInvert"), {{QStringLiteral("image"), link("1", 0)}})},
        {QStringLiteral("3"),
         node(QStringLiteral("PreviewImage"), {{QStringLiteral("images"), link("2", 0)}})},
        {QStringLiteral("4"),
         node(QStringLiteral("RepeatImageBatch"),
              {{QStringLiteral("image"), link("2", 0)}, {QStringLiteral("amount"), 3}})},
        {QStringLiteral("5"),
         node(QStringLiteral("SaveImageWebsocket"), {{QStringLiteral("images"), link("4", 0)}})},
    };
}

QJsonObject samplerGraph(int steps, int width, int height, int batch)
{
    return {
        {QStringLiteral("4"),
         node(QStringLiteral("CheckpointLoaderSimple"),
              {{QStringLiteral("ckpt_name"), QStringLiteral("model.safetensors")}})},
        {QStringLiteral("6"), node(QStringLiteral("CLIPTextEncode"),
                                   {{QStringLiteral("text"), QStringLiteral("a red fox")},
                                    {QStringLiteral("clip"), link("4", 1)}})},
        {QStringLiteral("7"),
         node(QStringLiteral("CLIPTextEncode"), {{QStringLiteral("text"), QStringLiteral("blurry")},
                                                 {QStringLiteral("clip"), link("4", 1)}})},
        {QStringLiteral("5"),
         node(QStringLiteral("EmptyLatentImage"), {{QStringLiteral("width"), width},
                                                   {QStringLiteral("height"), height},
                                                   {QStringLiteral("batch_size"), batch}})},
        {QStringLiteral("3"), node(QStringLiteral("KSampler"),
                                   {{QStringLiteral("model"), link("4", 0)},
                                    {QStringLiteral("positive"), link("6", 0)},
                                    {QStringLiteral("negative"), link("7", 0)},
                                    {QStringLiteral("latent_image"), link("5", 0)},
                                    {QStringLiteral("seed"), 42},
                                    {QStringLiteral("steps"), steps},
                                    {QStringLiteral("cfg"), 7.0},
                                    {QStringLiteral("sampler_name"), QStringLiteral("euler")},
                                    {QStringLiteral("scheduler"), QStringLiteral("normal")},
                                    {QStringLiteral("denoise"), 1.0}})},
        {QStringLiteral("8"),
         node(QStringLiteral("VAEDecode"),
              {{QStringLiteral("samples"), link("3", 0)}, {QStringLiteral("vae"), link("4", 2)}})},
        {QStringLiteral("9"),
         node(QStringLiteral("SaveImage"),
              {{QStringLiteral("images"), link("8", 0)},
               {QStringLiteral("filename_prefix"), QStringLiteral("sampler")}})},
    };
}

} // namespace testsupport
