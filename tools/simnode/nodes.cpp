#include "nodes.h"

#include "catalog.h"
#include "imaging.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QSaveFile>

#include <algorithm>
#include <cmath>

namespace simnode {

namespace {

const QString kExecuteFrames[] = {
    QStringLiteral("  File \"/opt/ComfyUI/execution.py\", line 327, in execute\n"
                   "    output_data, output_ui, has_subgraph = get_output_data(obj, "
                   "input_data_all, execution_block_cb=execution_block_cb, "
                   "pre_execute_cb=pre_execute_cb)\n"),
    QStringLiteral("  File \"/opt/ComfyUI/execution.py\", line 202, in get_output_data\n"
                   "    return_values = _map_node_over_list(obj, input_data_all, obj.FUNCTION, "
                   "allow_interrupt=True, execution_block_cb=execution_block_cb, "
                   "pre_execute_cb=pre_execute_cb)\n"),
    QStringLiteral("  File \"/opt/ComfyUI/execution.py\", line 174, in _map_node_over_list\n"
                   "    process_inputs(input_dict, i)\n"),
    QStringLiteral("  File \"/opt/ComfyUI/execution.py\", line 163, in process_inputs\n"
                   "    results.append(getattr(obj, func)(**inputs))\n"),
};

NodeError error(const QString &type, const QString &message, const QStringList &traceback)
{
    return NodeError{type, message, traceback};
}

// Accessors for a node's values.
struct Args {
    const NodeCall &call;

    QJsonValue value(const QString &name) const { return call.widgets.value(name); }
    qint64 integer(const QString &name, qint64 fallback) const
    {
        const QJsonValue v = value(name);
        return v.isDouble() ? qint64(v.toDouble()) : (v.isBool() ? v.toBool() : fallback);
    }
    double number(const QString &name, double fallback) const
    {
        const QJsonValue v = value(name);
        return v.isDouble() ? v.toDouble() : fallback;
    }
    QString text(const QString &name, const QString &fallback = QString()) const
    {
        const QJsonValue v = value(name);
        return v.isString() ? v.toString() : fallback;
    }
    bool flag(const QString &name, bool fallback) const
    {
        const QJsonValue v = value(name);
        if (v.isBool())
            return v.toBool();
        if (v.isDouble())
            return v.toDouble() != 0.0;
        return fallback;
    }
    const SimValue *link(const QString &name) const
    {
        const auto it = call.links.constFind(name);
        return it == call.links.constEnd() ? nullptr : &it.value();
    }
    // The fingerprint of everything the node received: same inputs, same pictures.
    quint64 fingerprint() const
    {
        quint64 fp = imaging::hashString(call.classType);
        fp = imaging::mix(
            fp, imaging::hashBytes(QJsonDocument(call.widgets).toJson(QJsonDocument::Compact)));
        QStringList names = call.links.keys();
        names.sort();
        for (const QString &name : std::as_const(names))
            fp = imaging::mix(
                fp, imaging::mix(imaging::hashString(name), call.links.value(name).fingerprint));
        return fp;
    }
};

SimValue opaque(const QString &type, quint64 fingerprint, const QString &label = QString())
{
    SimValue v;
    v.type = type;
    v.fingerprint = fingerprint;
    v.label = label;
    return v;
}

SimValue imageValue(QList<QImage> images, quint64 fingerprint)
{
    SimValue v;
    v.type = QStringLiteral("IMAGE");
    v.images = std::move(images);
    v.fingerprint = fingerprint;
    return v;
}

SimValue maskValue(QList<QImage> masks, quint64 fingerprint)
{
    SimValue v;
    v.type = QStringLiteral("MASK");
    v.images = std::move(masks);
    v.fingerprint = fingerprint;
    return v;
}

SimValue latentValue(int width, int height, int batch, quint64 fingerprint)
{
    SimValue v;
    v.type = QStringLiteral("LATENT");
    v.width = std::max(8, width);
    v.height = std::max(8, height);
    v.batch = std::max(1, batch);
    v.fingerprint = fingerprint;
    return v;
}

QImage blankMask(int width, int height)
{
    QImage mask(std::max(1, width), std::max(1, height), QImage::Format_Grayscale8);
    mask.fill(0);
    return mask;
}

QList<QImage> imagesOf(const SimValue *value)
{
    if (!value || value->images.isEmpty())
        return {imaging::pattern(value ? value->fingerprint : 0, 64, 64)};
    return value->images;
}

Qt::TransformationMode transformFor(const QString &method)
{
    return method == QLatin1String("nearest-exact") ? Qt::FastTransformation
                                                    : Qt::SmoothTransformation;
}

// comfy.utils.common_upscale: optional center crop to the target's aspect, then scale.
QImage upscale(const QImage &image, int width, int height, const QString &method,
               const QString &crop)
{
    width = std::max(1, width);
    height = std::max(1, height);
    QImage source = image;
    if (crop == QLatin1String("center")) {
        const double oldAspect = double(image.width()) / image.height();
        const double newAspect = double(width) / height;
        int x = 0, y = 0, w = image.width(), h = image.height();
        if (oldAspect > newAspect) {
            x = int(std::round((image.width() - image.width() * (newAspect / oldAspect)) / 2));
            w = image.width() - 2 * x;
        } else if (oldAspect < newAspect) {
            y = int(std::round((image.height() - image.height() * (oldAspect / newAspect)) / 2));
            h = image.height() - 2 * y;
        }
        source = image.copy(x, y, std::max(1, w), std::max(1, h));
    }
    return source.scaled(width, height, Qt::IgnoreAspectRatio, transformFor(method));
}

NodePlan simple(const NodeCall &call, std::function<NodeOutcome()> complete)
{
    NodePlan plan;
    NodeStep step;
    step.delayMs = call.stepDelayMs;
    plan.steps << step;
    plan.complete = std::move(complete);
    return plan;
}

NodeDone done(QList<SimValue> outputs, QJsonObject ui = {})
{
    return NodeDone{std::move(outputs), std::move(ui)};
}

// ---- images -------------------------------------------------------------------------------

QStringList loadImageTraceback()
{
    QStringList tb(std::begin(kExecuteFrames), std::end(kExecuteFrames));
    tb << QStringLiteral("  File \"/opt/ComfyUI/nodes.py\", line 1640, in load_image\n"
                         "    img = node_helpers.pillow(Image.open, image_path)\n")
       << QStringLiteral("  File \"/opt/ComfyUI/node_helpers.py\", line 24, in pillow\n"
                         "    x = fn(arg)\n")
       << QStringLiteral("  File \"/usr/lib/python3/dist-packages/PIL/Image.py\", line 3283, "
                         "in open\n    raise UnidentifiedImageError(msg)\n");
    return tb;
}

// Reads an input picture like LoadImage does; an error like PIL's when it is not one.
std::variant<QImage, NodeError> readPicture(const NodeCall &call, const QString &name)
{
    const QString path = call.catalog->annotatedPath(name, QStringLiteral("input"));
    QFile file(path);
    if (path.isEmpty() || !file.open(QIODevice::ReadOnly)) {
        return error(QStringLiteral("FileNotFoundError"),
                     QStringLiteral("[Errno 2] No such file or directory: '%1'").arg(path),
                     loadImageTraceback());
    }
    const QByteArray bytes = file.readAll();
    QImage image = QImage::fromData(bytes);
    if (image.isNull()) {
        return error(QStringLiteral("PIL.UnidentifiedImageError"),
                     QStringLiteral("cannot identify image file '%1'").arg(path),
                     loadImageTraceback());
    }
    return image;
}

NodePlan loadImage(const NodeCall &call)
{
    return simple(call, [call]() -> NodeOutcome {
        const Args args{call};
        auto read = readPicture(call, args.text(QStringLiteral("image")));
        if (auto *e = std::get_if<NodeError>(&read))
            return *e;
        const QImage image = std::get<QImage>(read);
        const quint64 fp = args.fingerprint();
        QImage mask;
        if (image.hasAlphaChannel()) {
            const QImage argb = image.convertToFormat(QImage::Format_ARGB32);
            mask = QImage(argb.size(), QImage::Format_Grayscale8);
            for (int y = 0; y < argb.height(); ++y) {
                const auto *src = reinterpret_cast<const QRgb *>(argb.constScanLine(y));
                uchar *dst = mask.scanLine(y);
                for (int x = 0; x < argb.width(); ++x)
                    dst[x] = uchar(255 - qAlpha(src[x]));
            }
        } else {
            mask = blankMask(64, 64);
        }
        return done({imageValue({image.convertToFormat(QImage::Format_RGB32)}, fp),
                     maskValue({mask}, imaging::mix(fp, 1))});
    });
}

NodePlan loadImageMask(const NodeCall &call)
{
    return simple(call, [call]() -> NodeOutcome {
        const Args args{call};
        auto read = readPicture(call, args.text(QStringLiteral("image")));
        if (auto *e = std::get_if<NodeError>(&read))
            return *e;
        const QImage argb = std::get<QImage>(read).convertToFormat(QImage::Format_ARGB32);
        const QString channel = args.text(QStringLiteral("channel"), QStringLiteral("alpha"));
        QImage mask(argb.size(), QImage::Format_Grayscale8);
        for (int y = 0; y < argb.height(); ++y) {
            const auto *src = reinterpret_cast<const QRgb *>(argb.constScanLine(y));
            uchar *dst = mask.scanLine(y);
            for (int x = 0; x < argb.width(); ++x) {
                if (channel == QLatin1String("red"))
                    dst[x] = uchar(qRed(src[x]));
                else if (channel == QLatin1String("green"))
                    dst[x] = uchar(qGreen(src[x]));
                else if (channel == QLatin1String("blue"))
                    dst[x] = uchar(qBlue(src[x]));
                else
                    dst[x] = uchar(255 - qAlpha(src[x]));
            }
        }
        return done({maskValue({mask}, args.fingerprint())});
    });
}

NodePlan imageInvert(const NodeCall &call)
{
    return simple(call, [call]() -> NodeOutcome {
        const Args args{call};
        QList<QImage> out;
        for (QImage image : imagesOf(args.link(QStringLiteral("image")))) {
            image.invertPixels();
            out << image;
        }
        return done({imageValue(out, args.fingerprint())});
    });
}

NodePlan imageScale(const NodeCall &call)
{
    return simple(call, [call]() -> NodeOutcome {
        const Args args{call};
        const QString method = args.text(QStringLiteral("upscale_method"));
        const QString crop = args.text(QStringLiteral("crop"), QStringLiteral("disabled"));
        QList<QImage> out;
        for (const QImage &image : imagesOf(args.link(QStringLiteral("image")))) {
            qint64 width = args.integer(QStringLiteral("width"), 0);
            qint64 height = args.integer(QStringLiteral("height"), 0);
            if (width == 0 && height == 0) {
                out << image;
                continue;
            }
            if (width == 0)
                width = std::max<qint64>(
                    1, std::llround(double(image.width()) * height / image.height()));
            else if (height == 0)
                height = std::max<qint64>(
                    1, std::llround(double(image.height()) * width / image.width()));
            out << upscale(image, int(width), int(height), method, crop);
        }
        return done({imageValue(out, args.fingerprint())});
    });
}

NodePlan imageScaleBy(const NodeCall &call, const QString &factorInput, bool totalPixels)
{
    return simple(call, [call, factorInput, totalPixels]() -> NodeOutcome {
        const Args args{call};
        const QString method = args.text(QStringLiteral("upscale_method"));
        QList<QImage> out;
        for (const QImage &image : imagesOf(args.link(QStringLiteral("image")))) {
            double scale = args.number(factorInput, 1.0);
            if (totalPixels)
                scale = std::sqrt(scale * 1024 * 1024 / (double(image.width()) * image.height()));
            out << upscale(image, int(std::lround(image.width() * scale)),
                           int(std::lround(image.height() * scale)), method,
                           QStringLiteral("disabled"));
        }
        return done({imageValue(out, args.fingerprint())});
    });
}

NodePlan repeatImageBatch(const NodeCall &call)
{
    return simple(call, [call]() -> NodeOutcome {
        const Args args{call};
        const QList<QImage> images = imagesOf(args.link(QStringLiteral("image")));
        QList<QImage> out;
        const qint64 amount = std::max<qint64>(1, args.integer(QStringLiteral("amount"), 1));
        for (qint64 i = 0; i < amount; ++i)
            out << images;
        return done({imageValue(out, args.fingerprint())});
    });
}

NodePlan imageBatch(const NodeCall &call)
{
    return simple(call, [call]() -> NodeOutcome {
        const Args args{call};
        QList<QImage> out = imagesOf(args.link(QStringLiteral("image1")));
        const QSize size = out.first().size();
        for (const QImage &image : imagesOf(args.link(QStringLiteral("image2"))))
            out << (image.size() == size
                        ? image
                        : image.scaled(size, Qt::IgnoreAspectRatio, Qt::SmoothTransformation));
        return done({imageValue(out, args.fingerprint())});
    });
}

NodePlan emptyImage(const NodeCall &call)
{
    return simple(call, [call]() -> NodeOutcome {
        const Args args{call};
        const int width = int(args.integer(QStringLiteral("width"), 512));
        const int height = int(args.integer(QStringLiteral("height"), 512));
        const qint64 color = args.integer(QStringLiteral("color"), 0);
        QImage image(std::max(1, width), std::max(1, height), QImage::Format_RGB32);
        image.fill(QColor::fromRgb(QRgb(color & 0xffffff)));
        QList<QImage> out;
        for (qint64 i = 0; i < std::max<qint64>(1, args.integer(QStringLiteral("batch_size"), 1));
             ++i)
            out << image;
        return done({imageValue(out, args.fingerprint())});
    });
}

NodePlan imageUpscaleWithModel(const NodeCall &call)
{
    return simple(call, [call]() -> NodeOutcome {
        const Args args{call};
        QList<QImage> out;
        // Upscale models are mostly 4x; the simulation doubles to stay light.
        for (const QImage &image : imagesOf(args.link(QStringLiteral("image"))))
            out << image.scaled(image.width() * 2, image.height() * 2, Qt::IgnoreAspectRatio,
                                Qt::SmoothTransformation);
        return done({imageValue(out, args.fingerprint())});
    });
}

// ---- saving -------------------------------------------------------------------------------

struct SaveTarget {
    QString folder;    // absolute
    QString filename;  // base name of the files
    QString subfolder; // relative to the output directory
    int counter = 1;
};

// folder_paths.get_save_image_path() of the recorded version.
std::variant<SaveTarget, NodeError> saveTarget(QString prefix, const QString &outputDir,
                                               const QSize &size)
{
    if (prefix.contains(QLatin1Char('%'))) {
        const QDateTime now = QDateTime::currentDateTime();
        prefix.replace(QStringLiteral("%width%"), QString::number(size.width()));
        prefix.replace(QStringLiteral("%height%"), QString::number(size.height()));
        prefix.replace(QStringLiteral("%year%"), QString::number(now.date().year()));
        prefix.replace(QStringLiteral("%month%"), now.toString(QStringLiteral("MM")));
        prefix.replace(QStringLiteral("%day%"), now.toString(QStringLiteral("dd")));
        prefix.replace(QStringLiteral("%hour%"), now.toString(QStringLiteral("HH")));
        prefix.replace(QStringLiteral("%minute%"), now.toString(QStringLiteral("mm")));
        prefix.replace(QStringLiteral("%second%"), now.toString(QStringLiteral("ss")));
    }
    const QString normalized = QDir::cleanPath(prefix.isEmpty() ? QStringLiteral(".") : prefix);
    const qsizetype slash = normalized.lastIndexOf(QLatin1Char('/'));
    SaveTarget target;
    target.subfolder = slash >= 0 ? normalized.left(slash) : QString();
    target.filename = slash >= 0 ? normalized.mid(slash + 1) : normalized;
    target.folder = QDir::cleanPath(outputDir + QLatin1Char('/') + target.subfolder);
    if (target.folder != outputDir && !target.folder.startsWith(outputDir + QLatin1Char('/'))) {
        const QString message =
            QStringLiteral("**** ERROR: Saving image outside the output folder is not allowed."
                           "\n full_output_folder: %1\n         output_dir: %2\n         "
                           "commonpath: %3")
                .arg(target.folder, outputDir, QStringLiteral("/"));
        QStringList tb(std::begin(kExecuteFrames), std::end(kExecuteFrames));
        tb << QStringLiteral("  File \"/opt/ComfyUI/folder_paths.py\", line 386, in "
                             "get_save_image_path\n    raise Exception(err)\n");
        return error(QStringLiteral("Exception"), message, tb);
    }
    QDir dir(target.folder);
    if (!dir.exists())
        dir.mkpath(QStringLiteral("."));
    // The next counter after the highest "<filename>_<digits>..." already there.
    int highest = 0;
    const QStringList entries = dir.entryList(QDir::Files | QDir::Dirs | QDir::NoDotAndDotDot);
    for (const QString &entry : entries) {
        const QString head = entry.left(target.filename.size() + 1);
        if (head.size() != target.filename.size() + 1 || !head.endsWith(QLatin1Char('_')) ||
            head.chopped(1).compare(target.filename, Qt::CaseSensitive) != 0)
            continue;
        const QString digits =
            entry.mid(target.filename.size() + 1).section(QLatin1Char('_'), 0, 0);
        bool ok = false;
        const int n = digits.toInt(&ok);
        highest = std::max(highest, ok ? n : 0);
    }
    target.counter = highest + 1;
    return target;
}

NodePlan saveImages(const NodeCall &call, bool temp)
{
    return simple(call, [call, temp]() -> NodeOutcome {
        const Args args{call};
        const QList<QImage> images = imagesOf(args.link(QStringLiteral("images")));
        const QString prefix =
            temp ? QStringLiteral("ComfyUI") + call.previewPrefix
                 : args.text(QStringLiteral("filename_prefix"), QStringLiteral("ComfyUI"));
        const QString baseDir = temp ? call.catalog->tempDir() : call.catalog->outputDir();
        auto where = saveTarget(prefix, baseDir, images.first().size());
        if (auto *e = std::get_if<NodeError>(&where))
            return *e;
        SaveTarget target = std::get<SaveTarget>(where);
        QList<QPair<QString, QString>> metadata;
        if (!call.prompt.isEmpty())
            metadata.append(
                {QStringLiteral("prompt"),
                 QString::fromUtf8(QJsonDocument(call.prompt).toJson(QJsonDocument::Compact))});
        const QJsonObject pnginfo = call.extraData.value(QLatin1String("extra_pnginfo")).toObject();
        for (auto it = pnginfo.begin(); it != pnginfo.end(); ++it) {
            const QJsonValue v = it.value();
            const QByteArray text =
                v.isObject()  ? QJsonDocument(v.toObject()).toJson(QJsonDocument::Compact)
                : v.isArray() ? QJsonDocument(v.toArray()).toJson(QJsonDocument::Compact)
                              : v.toVariant().toString().toUtf8();
            metadata.append({it.key(), QString::fromUtf8(text)});
        }
        QJsonArray results;
        for (qsizetype batch = 0; batch < images.size(); ++batch) {
            QString name = target.filename;
            name.replace(QStringLiteral("%batch_num%"), QString::number(batch));
            const QString file =
                QStringLiteral("%1_%2_.png").arg(name).arg(target.counter, 5, 10, QLatin1Char('0'));
            QSaveFile out(target.folder + QLatin1Char('/') + file);
            if (!out.open(QIODevice::WriteOnly) ||
                out.write(imaging::encodePng(images.at(batch), metadata, temp ? 1 : 4)) < 0 ||
                !out.commit()) {
                return error(
                    QStringLiteral("OSError"),
                    QStringLiteral("cannot write %1: %2").arg(out.fileName(), out.errorString()),
                    QStringList(std::begin(kExecuteFrames), std::end(kExecuteFrames)));
            }
            results.append(QJsonObject{{QStringLiteral("filename"), file},
                                       {QStringLiteral("subfolder"), target.subfolder},
                                       {QStringLiteral("type"),
                                        temp ? QStringLiteral("temp") : QStringLiteral("output")}});
            ++target.counter;
        }
        return done({}, QJsonObject{{QStringLiteral("images"), results}});
    });
}

NodePlan saveImageWebsocket(const NodeCall &call)
{
    const Args args{call};
    const QList<QImage> images = imagesOf(args.link(QStringLiteral("images")));
    NodePlan plan;
    NodeStep first;
    first.delayMs = call.stepDelayMs;
    plan.steps << first;
    // progress counts the pictures 0/n .. n-1/n, each followed by its PNG.
    for (qsizetype i = 0; i < images.size(); ++i) {
        NodeStep step;
        step.progress = true;
        step.value = int(i);
        step.max = int(images.size());
        const QImage image = images.at(i);
        step.frame = [image]() { return imaging::previewFrame(image, imaging::FrameFormat::Png); };
        plan.steps << step;
    }
    plan.complete = []() -> NodeOutcome { return done({}); };
    return plan;
}

// ---- the recordings' custom node ------------------------------------------------------------

NodePlan exampleProgressNode(const NodeCall &call)
{
    const Args args{call};
    const int steps = int(std::max<qint64>(1, args.integer(QStringLiteral("steps"), 5)));
    const int delay = int(std::max<qint64>(0, args.integer(QStringLiteral("delay_ms"), 100)));
    const bool preview = args.flag(QStringLiteral("send_preview"), true);
    const qint64 failAt = args.integer(QStringLiteral("fail_at_step"), 0);
    const quint64 fp = args.fingerprint();
    NodePlan plan;
    for (int i = 1; i <= steps; ++i) {
        NodeStep step;
        step.delayMs = delay;
        if (i == failAt) {
            QStringList tb(std::begin(kExecuteFrames), std::end(kExecuteFrames));
            tb << QStringLiteral(
                "  File \"/opt/ComfyUI/custom_nodes/example_test_nodes.py\", line 61, in run\n"
                "    raise RuntimeError(\"ExampleProgressNode: deliberate failure at step %d of "
                "%d\" % (i, steps))\n");
            step.failure = error(QStringLiteral("RuntimeError"),
                                 QStringLiteral("ExampleProgressNode: deliberate failure at step "
                                                "%1 of %2")
                                     .arg(i)
                                     .arg(steps),
                                 tb);
            plan.steps << step;
            break;
        }
        step.progress = true;
        step.value = i;
        step.max = steps;
        if (preview) {
            const quint64 seed = imaging::mix(fp, quint64(i));
            step.frame = [seed]() {
                return imaging::previewFrame(imaging::pattern(seed, 64, 64),
                                             imaging::FrameFormat::Jpeg);
            };
        }
        plan.steps << step;
    }
    plan.complete = [call, fp]() -> NodeOutcome {
        const Args args{call};
        if (const SimValue *input = args.link(QStringLiteral("image")))
            return done({imageValue(input->images, fp)});
        return done({imageValue({imaging::pattern(fp, 64, 64)}, fp)});
    };
    return plan;
}

// ---- models ---------------------------------------------------------------------------------

bool isCheckpointLoader(const QString &cls)
{
    return cls.contains(QLatin1String("CheckpointLoader"));
}

// The content that makes a model file fail to load (like the dummy checkpoint of the recording
// n_symlinked_model_and_input did on the real node). Any other file loads, empty ones too.
const QByteArray kUnloadableMarker = QByteArrayLiteral("NOT A MODEL");

bool isUnloadable(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) &&
           file.read(kUnloadableMarker.size()) == kUnloadableMarker;
}

// Every file a loader names must exist and be loadable.
std::optional<NodeError> checkModelFiles(const NodeCall &call, QStringList *labels)
{
    for (const InputSpec &spec : call.cls ? call.cls->inputs : QList<InputSpec>()) {
        if (spec.modelFolder.isEmpty() || !call.widgets.contains(spec.name))
            continue;
        const QString name = call.widgets.value(spec.name).toString();
        const QString path = call.catalog->modelPath(spec.modelFolder, name);
        QStringList tb(std::begin(kExecuteFrames), std::end(kExecuteFrames));
        if (path.isEmpty()) {
            tb << QStringLiteral("  File \"/opt/ComfyUI/folder_paths.py\", line 256, in "
                                 "get_full_path_or_raise\n    raise FileNotFoundError(...)\n");
            return error(QStringLiteral("FileNotFoundError"),
                         QStringLiteral("Model in folder '%1' with filename '%2' not found.")
                             .arg(spec.modelFolder, name),
                         tb);
        }
        if (isUnloadable(path)) {
            if (isCheckpointLoader(call.classType)) {
                tb << QStringLiteral("  File \"/opt/ComfyUI/nodes.py\", line 568, in "
                                     "load_checkpoint\n    out = "
                                     "comfy.sd.load_checkpoint_guess_config(ckpt_path, "
                                     "output_vae=True, output_clip=True, "
                                     "embedding_directory=folder_paths.get_folder_paths("
                                     "\"embeddings\"))\n")
                   << QStringLiteral("  File \"/opt/ComfyUI/comfy/sd.py\", line 828, in "
                                     "load_checkpoint_guess_config\n    raise "
                                     "RuntimeError(\"ERROR: Could not detect model type of: "
                                     "{}\".format(ckpt_path))\n");
                return error(QStringLiteral("RuntimeError"),
                             QStringLiteral("ERROR: Could not detect model type of: %1").arg(path),
                             tb);
            }
            tb << QStringLiteral("  File \"/opt/ComfyUI/comfy/utils.py\", line 35, in "
                                 "load_torch_file\n    sd = safetensors.torch.load_file(ckpt, "
                                 "device=device.type)\n");
            return error(QStringLiteral("safetensors_rust.SafetensorError"),
                         QStringLiteral("Error while deserializing header: HeaderTooSmall"), tb);
        }
        labels->append(name);
    }
    return std::nullopt;
}

// The node's inputs in the order of its class (required, optional), then any other.
QStringList inputNames(const NodeCall &call)
{
    QStringList names;
    if (call.cls) {
        for (const InputSpec &spec : call.cls->inputs)
            names << spec.name;
    }
    for (const QString &name : call.inputOrder) {
        if (!names.contains(name))
            names << name;
    }
    return names;
}

// Outputs of a node that is not simulated in detail: pass through an input of the same type,
// or make up a value of that type.
QList<SimValue> genericOutputs(const NodeCall &call, const QStringList &labels = {})
{
    const Args args{call};
    const quint64 fp = args.fingerprint();
    QList<SimValue> outputs;
    const QStringList types = call.cls ? call.cls->outputTypes : QStringList();
    // The n-th output of a type passes the n-th input of that type (ControlNetApplyAdvanced:
    // positive, negative), else the first one.
    QHash<QString, QList<const SimValue *>> inputsByType;
    for (const QString &name : inputNames(call)) {
        const auto it = call.links.constFind(name);
        if (it != call.links.constEnd())
            inputsByType[it->type] << &it.value();
    }
    QHash<QString, int> seen;
    for (qsizetype i = 0; i < types.size(); ++i) {
        const QString &type = types.at(i);
        const quint64 outFp = imaging::mix(fp, quint64(i));
        const QList<const SimValue *> candidates = inputsByType.value(type);
        const int nth = seen[type]++;
        const SimValue *same = candidates.isEmpty()
                                   ? nullptr
                                   : candidates.at(std::min<qsizetype>(nth, candidates.size() - 1));
        if (same) {
            SimValue v = *same;
            v.fingerprint = outFp;
            outputs << v;
        } else if (type == QLatin1String("IMAGE")) {
            outputs << imageValue({imaging::pattern(outFp, 64, 64)}, outFp);
        } else if (type == QLatin1String("MASK")) {
            outputs << maskValue({blankMask(64, 64)}, outFp);
        } else if (type == QLatin1String("LATENT")) {
            outputs << latentValue(int(args.integer(QStringLiteral("width"), 64)),
                                   int(args.integer(QStringLiteral("height"), 64)),
                                   int(args.integer(QStringLiteral("batch_size"), 1)), outFp);
        } else {
            SimValue v = opaque(type, outFp, labels.join(QStringLiteral(", ")));
            if (type == QLatin1String("SIGMAS")) // schedulers: the number of steps
                v.batch = int(std::max<qint64>(1, args.integer(QStringLiteral("steps"), 20)));
            outputs << v;
        }
    }
    return outputs;
}

NodePlan modelLoader(const NodeCall &call)
{
    return simple(call, [call]() -> NodeOutcome {
        QStringList labels;
        if (auto failure = checkModelFiles(call, &labels))
            return *failure;
        return done(genericOutputs(call, labels));
    });
}

NodePlan emptyLatent(const NodeCall &call)
{
    return simple(call, [call]() -> NodeOutcome {
        const Args args{call};
        const int batch = int(
            args.integer(QStringLiteral("batch_size"), args.integer(QStringLiteral("length"), 1)));
        return done({latentValue(int(args.integer(QStringLiteral("width"), 512)),
                                 int(args.integer(QStringLiteral("height"), 512)), batch,
                                 args.fingerprint())});
    });
}

enum class SamplerKind { KSampler, Advanced, Custom };

NodePlan sampler(const NodeCall &call, SamplerKind kind)
{
    const Args args{call};
    const SimValue *latent = args.link(QStringLiteral("latent_image"));
    SimValue out = latent ? *latent : latentValue(512, 512, 1, 0);
    out.type = QStringLiteral("LATENT");
    out.fingerprint = args.fingerprint();
    int steps = int(std::max<qint64>(1, args.integer(QStringLiteral("steps"), 20)));
    double denoise = args.number(QStringLiteral("denoise"), 1.0);
    if (kind == SamplerKind::Custom) {
        // SamplerCustom(Advanced): as many steps as the sigmas have (BasicScheduler's steps).
        const SimValue *sigmas = args.link(QStringLiteral("sigmas"));
        steps = sigmas && sigmas->batch > 0 ? sigmas->batch : 20;
        denoise = 1.0;
    }
    if (kind == SamplerKind::Advanced) {
        const qint64 start = args.integer(QStringLiteral("start_at_step"), 0);
        const qint64 end =
            std::min<qint64>(args.integer(QStringLiteral("end_at_step"), 10000), steps);
        denoise = steps > 0 ? std::clamp(double(end - start) / steps, 0.0, 1.0) : 0.0;
        steps = int(std::max<qint64>(0, end - start));
    }
    if (!out.pixels.isEmpty())
        out.noise = std::clamp(out.noise * denoise, 0.0, 1.0);
    else
        out.noise = 1.0;

    NodePlan plan;
    const int previewWidth = std::max(8, out.width / 8);
    const int previewHeight = std::max(8, out.height / 8);
    for (int i = 1; i <= steps; ++i) {
        NodeStep step;
        step.delayMs = call.stepDelayMs;
        step.progress = true;
        step.value = i;
        step.max = steps;
        const quint64 seed = imaging::mix(out.fingerprint, quint64(i));
        step.frame = [seed, previewWidth, previewHeight]() {
            return imaging::previewFrame(imaging::pattern(seed, previewWidth, previewHeight),
                                         imaging::FrameFormat::Jpeg);
        };
        plan.steps << step;
    }
    if (steps == 0) {
        NodeStep step;
        step.delayMs = call.stepDelayMs;
        plan.steps << step;
    }
    const qsizetype outputs = call.cls ? call.cls->outputTypes.size() : 1;
    plan.complete = [out, outputs]() -> NodeOutcome {
        return done(QList<SimValue>(std::max<qsizetype>(1, outputs), out));
    };
    return plan;
}

NodePlan vaeDecode(const NodeCall &call)
{
    return simple(call, [call]() -> NodeOutcome {
        const Args args{call};
        const SimValue *latent = args.link(QStringLiteral("samples"));
        const SimValue samples = latent ? *latent : latentValue(512, 512, 1, 0);
        QList<QImage> images;
        for (int i = 0; i < samples.batch; ++i) {
            const QImage generated = imaging::pattern(imaging::mix(samples.fingerprint, quint64(i)),
                                                      samples.width, samples.height);
            if (samples.pixels.isEmpty()) {
                images << generated;
            } else {
                const QImage base = samples.pixels.at(i % samples.pixels.size())
                                        .scaled(samples.width, samples.height,
                                                Qt::IgnoreAspectRatio, Qt::SmoothTransformation);
                images << imaging::blend(base, generated, samples.noise);
            }
        }
        return done({imageValue(images, args.fingerprint())});
    });
}

NodePlan vaeEncode(const NodeCall &call)
{
    return simple(call, [call]() -> NodeOutcome {
        const Args args{call};
        const QList<QImage> images = imagesOf(args.link(QStringLiteral("pixels")));
        SimValue latent =
            latentValue(images.first().width() / 8 * 8, images.first().height() / 8 * 8,
                        int(images.size()), args.fingerprint());
        latent.pixels = images;
        latent.noise = 0.0;
        return done({latent});
    });
}

NodePlan latentUpscale(const NodeCall &call, bool by)
{
    return simple(call, [call, by]() -> NodeOutcome {
        const Args args{call};
        const SimValue *latent = args.link(QStringLiteral("samples"));
        SimValue out = latent ? *latent : latentValue(512, 512, 1, 0);
        if (by) {
            const double scale = args.number(QStringLiteral("scale_by"), 1.5);
            out.width = int(std::lround(out.width * scale / 8)) * 8;
            out.height = int(std::lround(out.height * scale / 8)) * 8;
        } else {
            qint64 width = args.integer(QStringLiteral("width"), 0);
            qint64 height = args.integer(QStringLiteral("height"), 0);
            if (width == 0 && height != 0)
                width = height * out.width / std::max(1, out.height);
            else if (height == 0 && width != 0)
                height = width * out.height / std::max(1, out.width);
            if (width != 0) {
                out.width = int(width);
                out.height = int(height);
            }
        }
        out.width = std::max(8, out.width);
        out.height = std::max(8, out.height);
        out.fingerprint = args.fingerprint();
        return done({out});
    });
}

// RepeatLatentBatch: the batch repeated `amount` times (ComfyUI's samples.repeat), so that an
// encoded picture becomes a batch of img2img starts.
NodePlan repeatLatentBatch(const NodeCall &call)
{
    return simple(call, [call]() -> NodeOutcome {
        const Args args{call};
        const SimValue *latent = args.link(QStringLiteral("samples"));
        SimValue out = latent ? *latent : latentValue(512, 512, 1, 0);
        const int amount = int(std::max<qint64>(1, args.integer(QStringLiteral("amount"), 1)));
        QList<QImage> pixels;
        for (int i = 0; i < amount; ++i)
            pixels << out.pixels;
        out.pixels = pixels;
        out.batch *= amount;
        out.fingerprint = args.fingerprint();
        return done({out});
    });
}

NodePlan generic(const NodeCall &call)
{
    return simple(call, [call]() -> NodeOutcome { return done(genericOutputs(call)); });
}

} // namespace

QString SimValue::describe() const
{
    if (type == QLatin1String("IMAGE") && !images.isEmpty())
        return QStringLiteral("tensor(shape=[%1, %2, %3, 3])")
            .arg(images.size())
            .arg(images.first().height())
            .arg(images.first().width());
    if (type == QLatin1String("MASK") && !images.isEmpty())
        return QStringLiteral("tensor(shape=[%1, %2, %3])")
            .arg(images.size())
            .arg(images.first().height())
            .arg(images.first().width());
    if (type == QLatin1String("LATENT"))
        return QStringLiteral("{'samples': tensor(shape=[%1, 4, %2, %3])}")
            .arg(batch)
            .arg(height / 8)
            .arg(width / 8);
    return QStringLiteral("<simulated %1%2>")
        .arg(type, label.isEmpty() ? QString() : QStringLiteral(" ") + label);
}

QStringList simulatedTraceback(const QString &function, const QString &line)
{
    QStringList tb(std::begin(kExecuteFrames), std::end(kExecuteFrames));
    tb << QStringLiteral("  File \"/opt/ComfyUI/nodes.py\", line 1, in %1\n    %2\n")
              .arg(function, line);
    return tb;
}

QJsonObject formatInputs(const NodeCall &call)
{
    QJsonObject formatted;
    for (const QString &name : call.inputOrder) {
        if (call.links.contains(name)) {
            formatted.insert(name, QJsonArray{call.links.value(name).describe()});
        } else if (call.widgets.contains(name) && call.cls && call.cls->input(name)) {
            formatted.insert(name, QJsonArray{call.widgets.value(name)});
        }
    }
    return formatted;
}

NodePlan planNode(const NodeCall &call)
{
    const QString &cls = call.classType;
    if (cls == QLatin1String("LoadImage"))
        return loadImage(call);
    if (cls == QLatin1String("LoadImageMask"))
        return loadImageMask(call);
    if (cls == QLatin1String("ImageInvert"))
        return imageInvert(call);
    if (cls == QLatin1String("ImageScale"))
        return imageScale(call);
    if (cls == QLatin1String("ImageScaleBy"))
        return imageScaleBy(call, QStringLiteral("scale_by"), false);
    if (cls == QLatin1String("ImageScaleToTotalPixels"))
        return imageScaleBy(call, QStringLiteral("megapixels"), true);
    if (cls == QLatin1String("RepeatImageBatch"))
        return repeatImageBatch(call);
    if (cls == QLatin1String("ImageBatch"))
        return imageBatch(call);
    if (cls == QLatin1String("EmptyImage"))
        return emptyImage(call);
    if (cls == QLatin1String("ImageUpscaleWithModel"))
        return imageUpscaleWithModel(call);
    if (cls == QLatin1String("SaveImage"))
        return saveImages(call, false);
    if (cls == QLatin1String("PreviewImage"))
        return saveImages(call, true);
    if (cls == QLatin1String("SaveImageWebsocket"))
        return saveImageWebsocket(call);
    if (cls == QLatin1String("ExampleProgressNode"))
        return exampleProgressNode(call);
    if (cls == QLatin1String("KSampler"))
        return sampler(call, SamplerKind::KSampler);
    if (cls == QLatin1String("KSamplerAdvanced"))
        return sampler(call, SamplerKind::Advanced);
    if (cls == QLatin1String("SamplerCustom") || cls == QLatin1String("SamplerCustomAdvanced"))
        return sampler(call, SamplerKind::Custom);
    if (cls == QLatin1String("VAEDecode") || cls == QLatin1String("VAEDecodeTiled"))
        return vaeDecode(call);
    if (cls == QLatin1String("VAEEncode") || cls == QLatin1String("VAEEncodeForInpaint") ||
        cls == QLatin1String("VAEEncodeTiled"))
        return vaeEncode(call);
    if (cls == QLatin1String("LatentUpscale"))
        return latentUpscale(call, false);
    if (cls == QLatin1String("LatentUpscaleBy"))
        return latentUpscale(call, true);
    if (cls == QLatin1String("RepeatLatentBatch"))
        return repeatLatentBatch(call);
    if (cls.startsWith(QLatin1String("Empty")) && cls.contains(QLatin1String("Latent")))
        return emptyLatent(call);
    if (call.cls) {
        for (const InputSpec &spec : call.cls->inputs) {
            if (!spec.modelFolder.isEmpty())
                return modelLoader(call);
        }
    }
    // CLIPTextEncode, SetLatentNoiseMask, ControlNetApply(Advanced), FluxGuidance, LoraLoader's
    // model/clip... pass through or make up a value of each output type.
    return generic(call);
}

} // namespace simnode
