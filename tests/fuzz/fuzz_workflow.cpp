// libFuzzer target for the POST /workflow payload: the bytes are parsed as JSON the way the
// HTTP API does, then checked (parseWorkflowRequest) and built into a ComfyUI graph
// (buildWorkflow against the recorded object_info). Besides never crashing, leaking or hanging,
// the result must keep the promises the router relies on; a broken promise aborts, which
// libFuzzer reports as a crash with the input that caused it:
//   - an error is Invalid, names a field, and its message starts with that field's path;
//   - a built graph is a non-empty object of {"class_type", "inputs"} nodes whose links point
//     at nodes of the graph;
//   - every file to download is an http(s) URL with a host and no "." / ".." segments, going
//     to a known folder under a plain file name (no separator, not hidden);
//   - every inline file is "inline-<hash>.<ext>" in input/ with non-empty bytes.
//
// Built by tests/fuzz/CMakeLists.txt as its own project with clang++ -fsanitize=fuzzer.
#include "workflows/objectinfo.h"
#include "workflows/paramreader.h"
#include "workflows/workflowrequest.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonParseError>
#include <QRegularExpression>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

using namespace comfy;

namespace {

[[noreturn]] void broken(const char *promise, const QString &detail)
{
    std::fprintf(stderr, "fuzz_workflow: broken promise: %s: %s\n", promise,
                 qPrintable(detail.left(2000)));
    std::abort();
}

void checkError(const Error &error)
{
    if (error.kind != Error::Kind::Invalid)
        broken("an error is Invalid", error.message);
    if (error.field.isEmpty())
        broken("an error names its field", error.message);
    if (!error.message.startsWith(error.field + QLatin1Char(':')))
        broken("an error message starts with its field",
               error.field + QStringLiteral(" / ") + error.message);
}

void checkGraph(const QJsonObject &graph)
{
    if (graph.isEmpty())
        broken("a built graph has nodes", {});
    for (auto it = graph.begin(); it != graph.end(); ++it) {
        const QJsonObject node = it.value().toObject();
        if (!it.value().isObject() || !node.value(QLatin1String("class_type")).isString())
            broken("a graph node has a class_type", it.key());
        const QJsonObject inputs = node.value(QLatin1String("inputs")).toObject();
        for (auto input = inputs.begin(); input != inputs.end(); ++input) {
            const QJsonArray link = input.value().toArray();
            if (input.value().isArray() && link.size() == 2 && link.at(0).isString() &&
                link.at(1).isDouble() && !graph.contains(link.at(0).toString()))
                broken("links point at nodes of the graph",
                       it.key() + QLatin1Char('.') + input.key());
        }
    }
}

void checkFiles(const BuiltWorkflow &built)
{
    static const QStringList folders = {
        QStringLiteral("models/checkpoints"),    QStringLiteral("models/vae"),
        QStringLiteral("models/loras"),          QStringLiteral("models/controlnet"),
        QStringLiteral("models/unet"),           QStringLiteral("models/clip"),
        QStringLiteral("models/upscale_models"), QStringLiteral("input")};
    static const QRegularExpression plain(QStringLiteral("^[A-Za-z0-9_-][A-Za-z0-9._-]*$"));
    static const QRegularExpression inlineName(QStringLiteral("^inline-[0-9a-f]{24}\\.[a-z]+$"));
    for (const FileToFetch &file : built.downloads) {
        const QString url = file.url.toString(QUrl::FullyEncoded);
        if (!checkDownloadUrl(url).isEmpty())
            broken("downloads are http(s) URLs with a host and no dot segments", url);
        if (!folders.contains(file.folder))
            broken("downloads go to a known folder", file.folder);
        if (!plain.match(file.fileName).hasMatch())
            broken("downloads get a plain file name", file.fileName);
        if (file.field.isEmpty())
            broken("downloads name their field", url);
    }
    for (const FileToWrite &file : built.inlineFiles) {
        if (file.folder != QLatin1String("input") || !inlineName.match(file.fileName).hasMatch())
            broken("inline files are input/inline-<hash>.<ext>",
                   file.folder + QLatin1Char('/') + file.fileName);
        if (file.data.isEmpty())
            broken("inline files have bytes", file.fileName);
    }
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    ObjectInfo::builtIn(); // loaded once, not counted as a per-input allocation
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray bytes =
        QByteArray::fromRawData(reinterpret_cast<const char *>(data), qsizetype(size));
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(bytes, &parseError);
    if (parseError.error != QJsonParseError::NoError || !document.isObject())
        return 0; // the API answers 400 "body: ..." before the parser sees it
    const Result<WorkflowRequest> request = parseWorkflowRequest(document.object());
    if (!request) {
        checkError(request.error());
        return 0;
    }
    const Result<BuiltWorkflow> built = buildWorkflow(request.value(), ObjectInfo::builtIn());
    if (!built) {
        checkError(built.error());
        return 0;
    }
    checkGraph(built.value().graph);
    checkFiles(built.value());
    return 0;
}
