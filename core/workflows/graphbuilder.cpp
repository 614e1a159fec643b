#include "workflows/graphbuilder.h"

#include "downloads/filenames.h"
#include "workflows/imagecheck.h"

#include <QRandomGenerator>

namespace comfy {

QString GraphBuilder::add(const QString &classType, const QJsonObject &inputs)
{
    const QString id = QString::number(m_nextId++);
    m_result.graph.insert(id, QJsonObject{{QStringLiteral("class_type"), classType},
                                          {QStringLiteral("inputs"), inputs}});
    return id;
}

QString GraphBuilder::modelFile(const ModelRef &model, const QString &folder, const QString &field)
{
    if (!model.custom)
        return model.name;
    const QUrl url(model.name, QUrl::StrictMode);
    const FileToFetch file{url, folder, linkFileName(downloadFileName(url), folder), field,
                           model.sha256};
    if (!m_result.downloads.contains(file))
        m_result.downloads.append(file);
    return file.fileName;
}

QString GraphBuilder::imageFile(const ImageInput &image, const QString &field, ParamReader &reader,
                                ImageFacts *facts)
{
    if (!image.base64)
        return modelFile(ModelRef{true, image.content, {}}, QStringLiteral("input"), field);
    QString content = image.content.trimmed();
    // Accept data URLs ("data:image/png;base64,....") as browsers produce them.
    if (content.startsWith(QLatin1String("data:"))) {
        const qsizetype comma = content.indexOf(QLatin1Char(','));
        content = comma < 0 ? QString() : content.mid(comma + 1);
    }
    const auto decoded =
        QByteArray::fromBase64Encoding(content.toLatin1(), QByteArray::AbortOnBase64DecodingErrors);
    if (!decoded || (*decoded).isEmpty()) {
        reader.fail(field + QStringLiteral(".content"), QStringLiteral("is not valid base64"));
        return {};
    }
    const std::optional<ImageFacts> found = inspectImage(*decoded);
    if (!found) {
        reader.fail(field + QStringLiteral(".content"),
                    QStringLiteral("is not an image (PNG, JPEG, WebP, GIF or BMP expected)"));
        return {};
    }
    if (facts)
        *facts = *found;
    const QString name = inlineImageFileName(*decoded, found->extension);
    const bool known = std::any_of(m_result.inlineFiles.cbegin(), m_result.inlineFiles.cend(),
                                   [&name](const FileToWrite &f) { return f.fileName == name; });
    if (!known)
        m_result.inlineFiles.append({QStringLiteral("input"), name, *decoded});
    return name;
}

qint64 randomSeed()
{
    return qint64(QRandomGenerator::global()->bounded(quint64(MaxSeed) + 1));
}

} // namespace comfy
