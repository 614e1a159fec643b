#include "simcluster.h"

#include <QDir>
#include <QFile>
#include <QImage>
#include <QJsonArray>

namespace testsupport {

SimCluster::SimCluster(int count, int stepDelayMs)
{
    for (int i = 0; i < count; ++i) {
        const QString root = m_root.filePath(QStringLiteral("node%1").arg(i));
        QDir().mkpath(root + QStringLiteral("/input"));
        QDir().mkpath(root + QStringLiteral("/models/checkpoints"));
        QImage image(32, 24, QImage::Format_RGB32);
        image.fill(qRgb(10 * i, 200, 30));
        image.save(root + QStringLiteral("/input/example.png"), "PNG");
        QFile model(root + QStringLiteral("/models/checkpoints/model.safetensors"));
        model.open(QIODevice::WriteOnly);
        model.write("not really a model");
        model.close();
        auto node = std::make_unique<simnode::SimulatedNode>(root);
        node->setStepDelayMs(stepDelayMs);
        node->listen(QHostAddress::LocalHost, 0);
        m_nodes.push_back(std::move(node));
    }
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
