#include "catalog.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QLoggingCategory>

Q_DECLARE_LOGGING_CATEGORY(lcSimNode)

namespace simnode {

namespace {

// ComfyUI's folder_paths: folder name -> directories under models/ (in its search order).
struct ModelFolder {
    const char *name;
    QStringList dirs;
    QStringList suffixes; // empty: every file
};

const QStringList &ptSuffixes()
{
    static const QStringList suffixes = {QStringLiteral(".ckpt"), QStringLiteral(".pt"),
                                         QStringLiteral(".pt2"),  QStringLiteral(".bin"),
                                         QStringLiteral(".pth"),  QStringLiteral(".safetensors"),
                                         QStringLiteral(".pkl"),  QStringLiteral(".sft")};
    return suffixes;
}

const QList<ModelFolder> &modelFolders()
{
    // The order of GET /models on the recorded node.
    static const QList<ModelFolder> folders = {
        {"checkpoints", {QStringLiteral("checkpoints")}, ptSuffixes()},
        {"configs", {QStringLiteral("configs")}, {QStringLiteral(".yaml")}},
        {"loras", {QStringLiteral("loras")}, ptSuffixes()},
        {"vae", {QStringLiteral("vae")}, ptSuffixes()},
        {"text_encoders", {QStringLiteral("text_encoders"), QStringLiteral("clip")}, ptSuffixes()},
        {"diffusion_models",
         {QStringLiteral("unet"), QStringLiteral("diffusion_models")},
         ptSuffixes()},
        {"clip_vision", {QStringLiteral("clip_vision")}, ptSuffixes()},
        {"style_models", {QStringLiteral("style_models")}, ptSuffixes()},
        {"embeddings", {QStringLiteral("embeddings")}, ptSuffixes()},
        {"diffusers", {QStringLiteral("diffusers")}, {}},
        {"vae_approx", {QStringLiteral("vae_approx")}, ptSuffixes()},
        {"controlnet", {QStringLiteral("controlnet"), QStringLiteral("t2i_adapter")}, ptSuffixes()},
        {"gligen", {QStringLiteral("gligen")}, ptSuffixes()},
        {"upscale_models", {QStringLiteral("upscale_models")}, ptSuffixes()},
        {"custom_nodes", {QStringLiteral("../custom_nodes")}, {}},
        {"hypernetworks", {QStringLiteral("hypernetworks")}, ptSuffixes()},
        {"photomaker", {QStringLiteral("photomaker")}, ptSuffixes()},
        {"classifiers", {QStringLiteral("classifiers")}, {}},
    };
    return folders;
}

const ModelFolder *findFolder(const QString &name)
{
    for (const ModelFolder &folder : modelFolders()) {
        if (name == QLatin1String(folder.name))
            return &folder;
    }
    return nullptr;
}

// Which folder the files of a list input come from.
QString modelFolderFor(const QString &className, const QString &input)
{
    if (input == QLatin1String("ckpt_name"))
        return QStringLiteral("checkpoints");
    if (input == QLatin1String("vae_name"))
        return QStringLiteral("vae");
    if (input == QLatin1String("lora_name"))
        return QStringLiteral("loras");
    if (input == QLatin1String("control_net_name"))
        return QStringLiteral("controlnet");
    if (input == QLatin1String("unet_name"))
        return QStringLiteral("diffusion_models");
    if (input.startsWith(QLatin1String("clip_name"))) {
        if (className == QLatin1String("CLIPVisionLoader"))
            return QStringLiteral("clip_vision");
        return QStringLiteral("text_encoders");
    }
    if (input == QLatin1String("model_name"))
        return QStringLiteral("upscale_models");
    if (input == QLatin1String("gligen_name"))
        return QStringLiteral("gligen");
    if (input == QLatin1String("hypernetwork_name"))
        return QStringLiteral("hypernetworks");
    if (input == QLatin1String("style_model_name"))
        return QStringLiteral("style_models");
    if (input == QLatin1String("photomaker_model_name"))
        return QStringLiteral("photomaker");
    if (input == QLatin1String("model_path"))
        return QStringLiteral("diffusers");
    return QString();
}

bool hasSuffix(const QString &name, const QStringList &suffixes)
{
    if (suffixes.isEmpty())
        return true;
    for (const QString &suffix : suffixes) {
        if (name.endsWith(suffix, Qt::CaseInsensitive))
            return true;
    }
    return false;
}

const QStringList &imageSuffixes()
{
    static const QStringList suffixes = {QStringLiteral(".png"),  QStringLiteral(".jpg"),
                                         QStringLiteral(".jpeg"), QStringLiteral(".webp"),
                                         QStringLiteral(".gif"),  QStringLiteral(".bmp"),
                                         QStringLiteral(".tif"),  QStringLiteral(".tiff")};
    return suffixes;
}

// A relative name that stays inside its folder.
bool isSafeRelative(const QString &name)
{
    if (name.isEmpty() || name.startsWith(QLatin1Char('/')) || name.startsWith(QLatin1Char('\\')) ||
        name.contains(QLatin1Char('\0')))
        return false;
    const QStringList parts =
        QString(name).replace(QLatin1Char('\\'), QLatin1Char('/')).split(QLatin1Char('/'));
    for (const QString &part : parts) {
        if (part == QLatin1String(".."))
            return false;
    }
    return true;
}

} // namespace

QJsonArray InputSpec::config() const
{
    return QJsonArray{type, options};
}

const InputSpec *NodeClass::input(const QString &name) const
{
    for (const InputSpec &spec : inputs) {
        if (spec.name == name)
            return &spec;
    }
    return nullptr;
}

Catalog::Catalog(const QString &rootDir)
    : m_root(QDir(rootDir).absolutePath())
{
    for (const QString &resource : {QStringLiteral(":/simnode/object_info.json"),
                                    QStringLiteral(":/simnode/extra_object_info.json")}) {
        QFile file(resource);
        if (!file.open(QIODevice::ReadOnly)) {
            qCCritical(lcSimNode) << "cannot open the embedded" << resource;
            continue;
        }
        load(file.readAll());
    }
}

void Catalog::load(const QByteArray &json)
{
    const QJsonObject all = QJsonDocument::fromJson(json).object();
    for (auto it = all.begin(); it != all.end(); ++it) {
        const QJsonObject info = it.value().toObject();
        NodeClass cls;
        cls.name = it.key();
        cls.info = info;
        cls.outputNode = info.value(QLatin1String("output_node")).toBool();
        const QJsonArray outputs = info.value(QLatin1String("output")).toArray();
        for (const QJsonValue &output : outputs)
            cls.outputTypes << (output.isString() ? output.toString() : QStringLiteral("COMBO"));
        const QJsonObject input = info.value(QLatin1String("input")).toObject();
        const QJsonObject order = info.value(QLatin1String("input_order")).toObject();
        for (const QString &category :
             {QStringLiteral("required"), QStringLiteral("optional"), QStringLiteral("hidden")}) {
            const QJsonObject specs = input.value(category).toObject();
            QStringList names;
            const QJsonArray ordered = order.value(category).toArray();
            for (const QJsonValue &name : ordered)
                names << name.toString();
            for (auto spec = specs.begin(); spec != specs.end(); ++spec) {
                if (!names.contains(spec.key()))
                    names << spec.key();
            }
            for (const QString &name : std::as_const(names)) {
                if (!specs.contains(name))
                    continue;
                const QJsonValue value = specs.value(name);
                InputSpec spec;
                spec.name = name;
                spec.category = category;
                if (value.isArray()) {
                    const QJsonArray array = value.toArray();
                    spec.type = array.at(0);
                    spec.options = array.at(1).toObject();
                } else {
                    spec.type = value; // hidden inputs: "PROMPT", "UNIQUE_ID", ...
                }
                if (spec.type.isArray() && spec.type.toArray().isEmpty()) {
                    // The recording's lists of files are empty: they are read from disk.
                    spec.modelFolder = modelFolderFor(cls.name, name);
                    spec.inputFiles = spec.modelFolder.isEmpty();
                }
                cls.inputs << spec;
            }
        }
        cls.customValidation = (cls.name == QLatin1String("LoadImage") ||
                                cls.name == QLatin1String("LoadImageMask")) &&
                               cls.input(QStringLiteral("image"));
        if (!m_classes.contains(cls.name))
            m_order << cls.name;
        m_classes.insert(cls.name, cls);
    }
}

const NodeClass *Catalog::nodeClass(const QString &name) const
{
    const auto it = m_classes.constFind(name);
    return it == m_classes.constEnd() ? nullptr : &it.value();
}

QJsonArray Catalog::allowedValues(const InputSpec &input) const
{
    if (!input.modelFolder.isEmpty())
        return QJsonArray::fromStringList(modelFiles(input.modelFolder).value_or(QStringList()));
    if (input.inputFiles) {
        if (input.name == QLatin1String("image"))
            return QJsonArray::fromStringList(inputImages());
        if (input.name == QLatin1String("latent"))
            return QJsonArray::fromStringList(listInputFiles({QStringLiteral(".latent")}, {}));
        if (input.name == QLatin1String("model_file"))
            return QJsonArray::fromStringList(listInputFiles(
                {QStringLiteral(".gltf"), QStringLiteral(".glb"), QStringLiteral(".obj"),
                 QStringLiteral(".mtl"), QStringLiteral(".fbx"), QStringLiteral(".stl")},
                QStringLiteral("3d")));
        return QJsonArray::fromStringList(listInputFiles({}, {}));
    }
    return input.type.toArray();
}

QJsonObject Catalog::objectInfo(const QString &name) const
{
    const NodeClass *cls = nodeClass(name);
    if (!cls)
        return {};
    QJsonObject info = cls->info;
    QJsonObject inputs = info.value(QLatin1String("input")).toObject();
    bool changed = false;
    for (const InputSpec &spec : cls->inputs) {
        if (spec.modelFolder.isEmpty() && !spec.inputFiles)
            continue;
        QJsonObject category = inputs.value(spec.category).toObject();
        QJsonArray array = category.value(spec.name).toArray();
        array.replace(0, allowedValues(spec));
        category.insert(spec.name, array);
        inputs.insert(spec.category, category);
        changed = true;
    }
    if (changed)
        info.insert(QStringLiteral("input"), inputs);
    return info;
}

QJsonObject Catalog::objectInfo() const
{
    QJsonObject all;
    for (const QString &name : m_order)
        all.insert(name, objectInfo(name));
    return all;
}

QString Catalog::inputDir() const
{
    return m_root + QStringLiteral("/input");
}

QString Catalog::outputDir() const
{
    return m_root + QStringLiteral("/output");
}

QString Catalog::tempDir() const
{
    return m_root + QStringLiteral("/temp");
}

QString Catalog::directoryByType(const QString &type) const
{
    if (type == QLatin1String("input"))
        return inputDir();
    if (type == QLatin1String("output"))
        return outputDir();
    if (type == QLatin1String("temp"))
        return tempDir();
    return QString();
}

QStringList Catalog::modelFolderNames()
{
    QStringList names;
    for (const ModelFolder &folder : modelFolders())
        names << QLatin1String(folder.name);
    return names;
}

QStringList Catalog::modelFolderDirs(const QString &folder) const
{
    QStringList dirs;
    if (const ModelFolder *f = findFolder(folder)) {
        for (const QString &dir : f->dirs)
            dirs << QDir::cleanPath(m_root + QStringLiteral("/models/") + dir);
    }
    return dirs;
}

std::optional<QStringList> Catalog::modelFiles(const QString &folder) const
{
    const ModelFolder *f = findFolder(folder);
    if (!f)
        return std::nullopt;
    QStringList files;
    for (const QString &dir : modelFolderDirs(folder)) {
        const QDir base(dir);
        // Symlinked files and folders count (the router links models into place).
        QDirIterator it(dir, QDir::Files | QDir::NoDotAndDotDot,
                        QDirIterator::Subdirectories | QDirIterator::FollowSymlinks);
        while (it.hasNext()) {
            const QString path = it.next();
            const QString relative = base.relativeFilePath(path);
            if (relative.startsWith(QLatin1String(".git/")) || !hasSuffix(relative, f->suffixes))
                continue;
            if (!files.contains(relative))
                files << relative;
        }
    }
    files.sort(Qt::CaseSensitive);
    return files;
}

QString Catalog::modelPath(const QString &folder, const QString &name) const
{
    if (!isSafeRelative(name))
        return QString();
    for (const QString &dir : modelFolderDirs(folder)) {
        const QString path = dir + QLatin1Char('/') + name;
        if (QFileInfo(path).isFile())
            return path;
    }
    return QString();
}

QStringList Catalog::listInputFiles(const QStringList &suffixes, const QString &subdir) const
{
    QDir dir(inputDir());
    if (!subdir.isEmpty() && !dir.cd(subdir))
        return {};
    QStringList files;
    const QFileInfoList entries = dir.entryInfoList(QDir::Files | QDir::NoDotAndDotDot);
    for (const QFileInfo &entry : entries) {
        if (!hasSuffix(entry.fileName(), suffixes))
            continue;
        files << (subdir.isEmpty() ? entry.fileName()
                                   : subdir + QLatin1Char('/') + entry.fileName());
    }
    files.sort(Qt::CaseSensitive);
    return files;
}

QStringList Catalog::inputImages() const
{
    return listInputFiles(imageSuffixes(), {});
}

QString Catalog::annotatedPath(const QString &name, const QString &defaultType) const
{
    QString file = name;
    QString dir = directoryByType(defaultType);
    static const struct {
        const char *suffix;
        const char *type;
    } annotations[] = {{" [output]", "output"}, {" [input]", "input"}, {" [temp]", "temp"}};
    for (const auto &annotation : annotations) {
        if (file.endsWith(QLatin1String(annotation.suffix))) {
            file.chop(int(qstrlen(annotation.suffix)));
            dir = directoryByType(QLatin1String(annotation.type));
            break;
        }
    }
    if (dir.isEmpty() || !isSafeRelative(file))
        return QString();
    return dir + QLatin1Char('/') + file;
}

void Catalog::createFolders() const
{
    QDir root(m_root);
    for (const QString &dir :
         {QStringLiteral("input"), QStringLiteral("output"), QStringLiteral("temp"),
          QStringLiteral("models/checkpoints"), QStringLiteral("models/loras"),
          QStringLiteral("models/vae"), QStringLiteral("models/text_encoders"),
          QStringLiteral("models/clip"), QStringLiteral("models/diffusion_models"),
          QStringLiteral("models/unet"), QStringLiteral("models/controlnet"),
          QStringLiteral("models/upscale_models"), QStringLiteral("models/embeddings"),
          QStringLiteral("models/clip_vision"), QStringLiteral("models/vae_approx")}) {
        if (!root.mkpath(dir))
            qCWarning(lcSimNode) << "cannot create" << root.filePath(dir);
    }
}

} // namespace simnode
