// Bad input on every route of the HTTP API (issue #5): malformed JSON, wrong types, missing
// fields, huge numbers, deep nesting, invalid UTF-8, unknown workflow types, other schemes and
// dot segments in every URL field, path tricks in file names, bad ids in path segments and bad
// query strings. Each row is sent as raw bytes (the exact request target and body go out) to
// one Router + ApiServer on 127.0.0.1:0, and must get: the row's 4xx status, a JSON body with a
// non-empty "message" (starting with the offending field's path where a field is at fault),
// no task queued, no file created under the router's root and cache folders, no node or cache
// entry added, and a server that still answers GET /health_check afterwards.
#include "apiserver.h"
#include "isolatedsettings.h"
#include "router/router.h"
#include "simcluster.h"
#include "workflowfixtures.h"

#include <QDeadlineTimer>
#include <QDirIterator>
#include <QEventLoop>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QSet>
#include <QTcpSocket>
#include <QTest>
#include <QTimer>

#include <optional>

using namespace comfy;
using namespace testsupport;

namespace {

// ---------------------------------------------------------------------------------------------
// A raw HTTP/1.1 request on its own connection: the bytes go out exactly as given.

struct Reply {
    int status = 0;
    QHash<QByteArray, QByteArray> headers; // lower-case names
    QByteArray body;
    QJsonDocument json;
    QString message() const { return json.object().value(QLatin1String("message")).toString(); }
};

// The first whole response in `in`, or nullopt while it is incomplete (`closed`: no more
// bytes will come, so a body without a length ends here).
std::optional<Reply> parseReply(const QByteArray &in, bool closed)
{
    const qsizetype headEnd = in.indexOf("\r\n\r\n");
    if (headEnd < 0)
        return std::nullopt;
    const QList<QByteArray> lines = in.left(headEnd).split('\n');
    Reply reply;
    const QList<QByteArray> statusLine = lines.first().trimmed().split(' ');
    if (statusLine.size() < 2 || !statusLine.first().startsWith("HTTP/1."))
        return std::nullopt;
    reply.status = statusLine.at(1).toInt();
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const qsizetype colon = lines.at(i).indexOf(':');
        if (colon > 0)
            reply.headers.insert(lines.at(i).left(colon).trimmed().toLower(),
                                 lines.at(i).mid(colon + 1).trimmed());
    }
    const QByteArray rest = in.mid(headEnd + 4);
    if (reply.headers.contains("content-length")) {
        const qsizetype length = reply.headers.value("content-length").toLongLong();
        if (rest.size() < length)
            return std::nullopt;
        reply.body = rest.left(length);
    } else if (reply.headers.value("transfer-encoding").toLower() == "chunked") {
        qsizetype at = 0;
        for (;;) {
            const qsizetype eol = rest.indexOf("\r\n", at);
            if (eol < 0)
                return std::nullopt;
            bool ok = false;
            const qsizetype size = rest.mid(at, eol - at).split(';').first().toLongLong(&ok, 16);
            if (!ok)
                return std::nullopt;
            if (size == 0)
                break;
            if (rest.size() < eol + 2 + size + 2)
                return std::nullopt;
            reply.body += rest.mid(eol + 2, size);
            at = eol + 2 + size + 2;
        }
    } else if (closed) {
        reply.body = rest;
    } else {
        return std::nullopt;
    }
    reply.json = QJsonDocument::fromJson(reply.body);
    return reply;
}

Reply rawRequest(quint16 port, const QByteArray &method, const QByteArray &target,
                 const QByteArray &body, const QByteArray &authorization)
{
    QTcpSocket socket;
    QByteArray request = method + ' ' + target +
                         " HTTP/1.1\r\nHost: 127.0.0.1:" + QByteArray::number(port) +
                         "\r\nConnection: close\r\n";
    if (!authorization.isNull())
        request += "Authorization: " + authorization + "\r\n";
    if (!body.isEmpty() || method == "POST" || method == "PUT")
        request +=
            "Content-Type: application/json\r\nContent-Length: " + QByteArray::number(body.size()) +
            "\r\n";
    request += "\r\n" + body;

    QEventLoop loop;
    QTimer timeout;
    timeout.setSingleShot(true);
    QObject::connect(&timeout, &QTimer::timeout, &loop, &QEventLoop::quit);
    QObject::connect(&socket, &QTcpSocket::readyRead, &loop, &QEventLoop::quit);
    QObject::connect(&socket, &QTcpSocket::disconnected, &loop, &QEventLoop::quit);
    QObject::connect(&socket, &QTcpSocket::errorOccurred, &loop, &QEventLoop::quit);
    socket.connectToHost(QHostAddress::LocalHost, port);
    socket.write(request); // buffered until connected
    timeout.start(15000);
    QByteArray in;
    for (;;) {
        in += socket.readAll();
        const bool closed = socket.state() == QAbstractSocket::UnconnectedState;
        if (std::optional<Reply> reply = parseReply(in, closed))
            return *reply;
        if (closed || !timeout.isActive())
            return {};
        loop.exec();
    }
}

// ---------------------------------------------------------------------------------------------
// The rows.

enum class Auth { Good, None, Wrong, NotBasic, BadBase64 };

struct Row {
    QByteArray name;
    QString route;     // the ApiServer::routeList() entry the row attacks
    QByteArray method; // as sent
    QByteArray target; // request target as sent; "{done}" becomes a finished task's id
    QByteArray body;   // "{node}" becomes the URL of the registered (simulated) node
    int status = 400;
    QString field; // the message must start with it; "" when no field is at fault
    Auth auth = Auth::Good;
};

QByteArray compact(const QJsonObject &object)
{
    return QJsonDocument(object).toJson(QJsonDocument::Compact);
}

// For with(): the field is removed.
const QJsonValue Remove(QJsonValue::Undefined);

// "params.loras[0].model.name" -> {"params", "loras", 0, "model", "name"}
QJsonValue setPath(const QJsonValue &node, QStringList path, const QJsonValue &value)
{
    if (path.isEmpty())
        return value;
    QString key = path.takeFirst();
    static const QRegularExpression indexed(QStringLiteral("^(.*)\\[(\\d+)\\]$"));
    const QRegularExpressionMatch match = indexed.match(key);
    if (match.hasMatch()) {
        // "loras[0]": the key, then the index.
        path.prepend(QLatin1Char('#') + match.captured(2));
        key = match.captured(1);
    }
    if (key.startsWith(QLatin1Char('#'))) {
        QJsonArray array = node.toArray();
        const int index = key.mid(1).toInt();
        const QJsonValue inner = setPath(array.at(index), path, value);
        if (inner.isUndefined())
            array.removeAt(index);
        else
            array[index] = inner;
        return array;
    }
    QJsonObject object = node.toObject();
    const QJsonValue inner = setPath(object.value(key), path, value);
    if (inner.isUndefined())
        object.remove(key);
    else
        object.insert(key, inner);
    return object;
}

QJsonObject with(const QJsonObject &body, const QString &path, const QJsonValue &value)
{
    return setPath(body, path.split(QLatin1Char('.')), value).toObject();
}

// The body with the JSON text at `path` replaced by `literal` exactly ("1e308",
// "9223372036854775808", a string with invalid UTF-8...).
QByteArray withLiteral(const QJsonObject &body, const QString &path, const QByteArray &literal)
{
    const QByteArray marker = "@@literal@@";
    QByteArray text = compact(with(body, path, QString::fromLatin1(marker)));
    text.replace('"' + marker + '"', literal);
    return text;
}

QJsonObject photo()
{
    return fixtures::base64Image(fixtures::photoPng());
}

QJsonObject buildIn(const char *name)
{
    return fixtures::buildIn(QLatin1String(name));
}

// Valid requests of each type (validBodiesAreAccepted proves it), each with every optional
// part that has a field to attack.
QJsonObject sd15Body()
{
    QJsonObject params{
        {"checkpoint", buildIn("sd15/v1-5-pruned-emaonly.safetensors")},
        {"vae", buildIn("vae-ft-mse-840000-ema-pruned.safetensors")},
        {"prompt", "a lighthouse at dusk"},
        {"negative_prompt", "blurry"},
        {"seed", 42},
        {"steps", 20},
        {"width", 512},
        {"height", 512},
        {"loras", QJsonArray{QJsonObject{{"model", buildIn("detail-tweaker.safetensors")},
                                         {"weight", 0.8}}}},
        {"controlnets", QJsonArray{QJsonObject{{"model", buildIn("control_v11p_sd15_canny.pth")},
                                               {"image", photo()},
                                               {"weight", 0.5}}}},
        {"input_image", photo()},
    };
    return {{"type", "SD15"}, {"params", params}};
}

QJsonObject sdxlBody()
{
    QJsonObject params{
        {"checkpoint", buildIn("SDXL/sd_xl_base_1.0.safetensors")},
        {"vae", buildIn("SDXL/sdxl_vae.safetensors")},
        {"refiner", QJsonObject{{"checkpoint", buildIn("SDXL/sd_xl_refiner_1.0.safetensors")},
                                {"switch_at", 0.8}}},
        {"prompt", "a lighthouse at dusk, photograph"},
        {"seed", 7},
        {"steps", 20},
        {"denoise", 0.6},
        {"loras", QJsonArray{QJsonObject{{"model", buildIn("detail-tweaker.safetensors")}}}},
        {"controlnets", QJsonArray{QJsonObject{{"model", buildIn("control_v11p_sd15_canny.pth")},
                                               {"image", photo()}}}},
        {"input_image", photo()},
        {"input_mask", fixtures::base64Image(fixtures::maskPng())},
    };
    return {{"type", "SDXL"}, {"params", params}};
}

QJsonObject fluxBody()
{
    QJsonObject params{
        {"unet", buildIn("flux1-dev.safetensors")},
        {"vae", buildIn("ae.safetensors")},
        {"t5xxl", buildIn("t5xxl_fp16.safetensors")},
        {"clip", buildIn("clip_l.safetensors")},
        {"prompt", "a lighthouse at dusk, cinematic"},
        {"seed", 9},
        {"loras",
         QJsonArray{QJsonObject{{"model", buildIn("flux-realism.safetensors")}, {"weight", 0.7}}}},
        {"controlnets",
         QJsonArray{QJsonObject{{"model", buildIn("flux-canny-controlnet-v3.safetensors")},
                                {"image", photo()},
                                {"end_at", 0.6}}}},
        {"input_image", photo()},
    };
    return {{"type", "Flux"}, {"params", params}};
}

// Every loader input RawWorkflow downloads when it is an http(s) URL, with a plain file name.
struct RawInput {
    const char *node;
    const char *input;
};
constexpr RawInput RawUrlInputs[] = {
    {"1", "ckpt_name"},  {"2", "vae_name"},   {"3", "lora_name"},  {"4", "control_net_name"},
    {"5", "unet_name"},  {"6", "clip_name"},  {"7", "clip_name1"}, {"7", "clip_name2"},
    {"8", "clip_name3"}, {"9", "model_name"}, {"10", "image"},     {"11", "image"},
};

QJsonObject rawBody()
{
    const auto node = [](const char *classType, const QJsonObject &inputs) {
        return QJsonObject{{"class_type", classType}, {"inputs", inputs}};
    };
    const auto link = [](const char *id, int output) { return QJsonArray{id, output}; };
    const QJsonObject prompt{
        {"1", node("CheckpointLoaderSimple", {{"ckpt_name", "model.safetensors"}})},
        {"2", node("VAELoader", {{"vae_name", "vae.safetensors"}})},
        {"3", node("LoraLoader", {{"model", link("1", 0)},
                                  {"clip", link("1", 1)},
                                  {"lora_name", "lora.safetensors"},
                                  {"strength_model", 1.0},
                                  {"strength_clip", 1.0}})},
        {"4", node("ControlNetLoader", {{"control_net_name", "canny.safetensors"}})},
        {"5", node("UNETLoader", {{"unet_name", "unet.safetensors"}, {"weight_dtype", "default"}})},
        {"6",
         node("CLIPLoader", {{"clip_name", "clip.safetensors"}, {"type", "stable_diffusion"}})},
        {"7", node("DualCLIPLoader", {{"clip_name1", "t5xxl.safetensors"},
                                      {"clip_name2", "clip_l.safetensors"},
                                      {"type", "flux"}})},
        {"8", node("TripleCLIPLoader", {{"clip_name1", "a.safetensors"},
                                        {"clip_name2", "b.safetensors"},
                                        {"clip_name3", "c.safetensors"}})},
        {"9", node("UpscaleModelLoader", {{"model_name", "4x.pth"}})},
        {"10", node("LoadImage", {{"image", "example.png"}})},
        {"11", node("LoadImageMask", {{"image", "mask.png"}, {"channel", "alpha"}})},
        {"12", node("ImageInvert", {{"image", link("10", 0)}})},
        {"13", node("SaveImage", {{"images", link("12", 0)}, {"filename_prefix", "bad"}})},
    };
    return {{"type", "Raw"}, {"params", QJsonObject{{"prompt", prompt}}}};
}

struct Named {
    const char *name;
    QByteArray value;
};

// URLs a download field must refuse: only http(s) with a host and no "." / ".." segments.
QList<Named> badUrls()
{
    return {
        {"file", "file:///etc/passwd"},
        {"file with host", "file://127.0.0.1/etc/passwd"},
        {"ftp", "ftp://127.0.0.1:9/models/model.safetensors"},
        {"data", "data:application/octet-stream;base64,AAAAAAAA"},
        {"gopher", "gopher://127.0.0.1:9/_model.safetensors"},
        {"javascript", "javascript:alert(1)"},
        {"no host", "http:///models/model.safetensors"},
        {"no host single slash", "http:/models/model.safetensors"},
        {"scheme only", "https://"},
        {"dotdot", "http://127.0.0.1:9/models/../../etc/passwd"},
        {"dot", "http://127.0.0.1:9/./model.safetensors"},
        {"encoded dotdot", "https://127.0.0.1:9/models/%2e%2e/%2E%2E/etc/passwd"},
        {"trailing dotdot", "http://127.0.0.1:9/models/.."},
    };
}

// build_in names that leave their folder or cannot be a file name.
QList<Named> badNames()
{
    return {
        {"absolute", "/etc/passwd"},
        {"dotdot", "../../../etc/passwd"},
        {"inner dotdot", "sd15/../../model.safetensors"},
        {"dot", "./model.safetensors"},
        {"backslashes", "..\\..\\windows\\win.ini"},
        {"drive", "C:\\models\\model.safetensors"},
        {"drive slash", "C:/models/model.safetensors"},
        {"NUL", QByteArray("model.safetensors\0.png", 22)},
        {"empty", ""},
        {"empty segment", "sd15//model.safetensors"},
        {"trailing slash", "sd15/"},
        {"file url", "file:///etc/passwd"},
        {"very long", QByteArray(100000, 'a') + ".safetensors"},
    };
}

// Numbers no field takes, as JSON text, and values of the wrong type.
QList<Named> badNumbers()
{
    return {
        {"1e308", "1e308"},
        {"-1e308", "-1e308"},
        {"2^63", "9223372036854775808"},
        {"-2^63-1", "-9223372036854775809"},
        {"string", "\"20\""},
        {"boolean", "true"},
        {"list", "[20]"},
    };
}

// A JSON string of these bytes: quotes, backslashes and control characters (NUL included)
// escaped, anything else (invalid UTF-8 too) as it is.
QByteArray jsonString(const QByteArray &bytes)
{
    QByteArray out = "\"";
    for (const char c : bytes) {
        if (c == '"' || c == '\\')
            out += '\\' + QByteArray(1, c);
        else if (uchar(c) < 0x20)
            out += "\\u" + QByteArray::number(uchar(c), 16).rightJustified(4, '0');
        else
            out += c;
    }
    return out + '"';
}

void addWorkflowRows(QList<Row> &rows, const QByteArray &prefix, const QJsonObject &base,
                     const QStringList &models, const QStringList &images,
                     const QStringList &numbers, const QStringList &required)
{
    const QString route = QStringLiteral("POST /workflow");
    const auto add = [&](const QByteArray &name, const QByteArray &body, const QString &field,
                         int status = 400) {
        rows.append({prefix + ' ' + name, route, "POST", "/workflow", body, status, field});
    };
    for (const QString &model : models) {
        const QByteArray f = model.toUtf8();
        for (const Named &bad : badNames())
            add(f + " build_in " + bad.name,
                withLiteral(base, model + QStringLiteral(".name"), jsonString(bad.value)),
                model + QStringLiteral(".name"));
        for (const Named &bad : badUrls())
            add(f + " custom " + bad.name,
                compact(
                    with(base, model,
                         QJsonObject{{"type", "custom"}, {"name", QString::fromUtf8(bad.value)}})),
                model + QStringLiteral(".name"));
        add(f + " name int", withLiteral(base, model + QStringLiteral(".name"), "42"),
            model + QStringLiteral(".name"));
        add(f + " name 1e308", withLiteral(base, model + QStringLiteral(".name"), "1e308"),
            model + QStringLiteral(".name"));
        add(f + " name null", withLiteral(base, model + QStringLiteral(".name"), "null"),
            model + QStringLiteral(".name"));
        add(f + " unknown type", compact(with(base, model + QStringLiteral(".type"), "file")),
            model + QStringLiteral(".type"));
        add(f + " type int", withLiteral(base, model + QStringLiteral(".type"), "1"),
            model + QStringLiteral(".type"));
        add(f + " no type", compact(with(base, model + QStringLiteral(".type"), Remove)),
            model + QStringLiteral(".type"));
        add(f + " as string", compact(with(base, model, "model.safetensors")), model);
        add(f + " as number", withLiteral(base, model, "1e308"), model);
        add(f + " unknown key", compact(with(base, model + QStringLiteral(".path"), "/etc")),
            model + QStringLiteral(".path"));
        add(f + " sha256 on build_in",
            compact(with(base, model + QStringLiteral(".sha256"), QString(64, QLatin1Char('0')))),
            model + QStringLiteral(".sha256"));
        add(f + " sha256 not hex",
            compact(with(base, model,
                         QJsonObject{{"type", "custom"},
                                     {"name", "http://127.0.0.1:9/model.safetensors"},
                                     {"sha256", "../../etc/passwd"}})),
            model + QStringLiteral(".sha256"));
    }
    for (const QString &image : images) {
        const QByteArray f = image.toUtf8();
        for (const Named &bad : badUrls())
            add(f + " url " + bad.name,
                compact(
                    with(base, image,
                         QJsonObject{{"type", "url"}, {"content", QString::fromUtf8(bad.value)}})),
                image + QStringLiteral(".content"));
        add(f + " file type",
            compact(with(base, image, QJsonObject{{"type", "file"}, {"content", "/etc/passwd"}})),
            image + QStringLiteral(".type"));
        add(f + " base64 junk",
            compact(with(base, image + QStringLiteral(".content"), "not base64 at all!")),
            image + QStringLiteral(".content"));
        add(f + " base64 of text",
            compact(with(base, image + QStringLiteral(".content"),
                         QString::fromLatin1(QByteArray("root:x:0:0").toBase64()))),
            image + QStringLiteral(".content"));
        add(f + " content int", withLiteral(base, image + QStringLiteral(".content"), "42"),
            image + QStringLiteral(".content"));
        add(f + " as string", compact(with(base, image, "/etc/passwd")), image);
        add(f + " unknown key", compact(with(base, image + QStringLiteral(".path"), "/etc")),
            image + QStringLiteral(".path"));
    }
    for (const QString &number : numbers) {
        for (const Named &bad : badNumbers())
            add(number.toUtf8() + ' ' + bad.name, withLiteral(base, number, bad.value), number);
    }
    add("number beyond double", withLiteral(base, numbers.first(), "1e309"), "body");
    for (const QString &field : required)
        add("missing " + field.toUtf8(), compact(with(base, field, Remove)), field);

    // Strings of the wrong type, choices that do not exist, unknown fields.
    add("prompt int", withLiteral(base, "params.prompt", "42"), "params.prompt");
    add("prompt list", withLiteral(base, "params.prompt", "[\"a\"]"), "params.prompt");
    add("prompt object", withLiteral(base, "params.prompt", "{}"), "params.prompt");
    add("negative_prompt int", withLiteral(base, "params.negative_prompt", "42"),
        "params.negative_prompt");
    add("sampler int", withLiteral(base, "params.sampler", "42"), "params.sampler");
    add("sampler DROP TABLE", compact(with(base, "params.sampler", "euler'; DROP TABLE tasks;--")),
        "params.sampler");
    add("scheduler unknown", compact(with(base, "params.scheduler", "../karras")),
        "params.scheduler");
    add("unknown param", compact(with(base, "params.stepz", 20)), "params.stepz");
    add("params list", withLiteral(base, "params", "[]"), "params");
    add("params string", withLiteral(base, "params", "\"x\""), "params");
    add("params null", withLiteral(base, "params", "null"), "params");
    add("loras string", withLiteral(base, "params.loras", "\"x\""), "params.loras");
    add("loras of numbers", withLiteral(base, "params.loras", "[1e308]"), "params.loras[0]");
    add("lora without model", withLiteral(base, "params.loras", "[{}]"), "params.loras[0].model");
    add("lora unknown key", compact(with(base, "params.loras[0].strength", 1)),
        "params.loras[0].strength");
    add("controlnets object", withLiteral(base, "params.controlnets", "{}"), "params.controlnets");
    add("controlnet without image", compact(with(base, "params.controlnets[0].image", Remove)),
        "params.controlnets[0].image");
    add("controlnet preprocessor path",
        compact(with(base, "params.controlnets[0].preprocessor", "../../bin/sh")),
        "params.controlnets[0].preprocessor");
    add("controlnet start after end",
        compact(with(with(base, "params.controlnets[0].start_at", 0.9),
                     "params.controlnets[0].end_at", 0.1)),
        "params.controlnets[0].start_at");
    add("prompt invalid UTF-8", withLiteral(base, "params.prompt", "\"light\xff\xfehouse\""),
        "body");
    add("prompt overlong UTF-8", withLiteral(base, "params.prompt", "\"..\xc0\xaf..\""), "body");
    add("prompt UTF-8 surrogate", withLiteral(base, "params.prompt", "\"\xed\xa0\x80\""), "body");
    add("deep nesting in params",
        withLiteral(base, "params.prompt", QByteArray(1000, '[') + QByteArray(1000, ']')), "body");
    add("65 levels in params",
        withLiteral(base, "params.prompt", QByteArray(65, '[') + QByteArray(65, ']')), "body");
}

QList<Row> workflowRows()
{
    QList<Row> rows;
    const QString route = QStringLiteral("POST /workflow");
    const auto add = [&](const QByteArray &name, const QByteArray &body, const QString &field) {
        rows.append({"workflow " + name, route, "POST", "/workflow", body, 400, field});
    };
    // The body as a whole.
    add("empty body", "", "body");
    add("blank body", " \r\n\t ", "body");
    add("malformed", "{\"type\": ", "body");
    add("unterminated string", "{\"type\": \"Raw", "body");
    add("single quotes", "{'type': 'Raw'}", "body");
    add("trailing garbage", "{\"type\": \"Raw\", \"params\": {}} x", "body");
    add("trailing comma", "{\"type\": \"Raw\",}", "body");
    add("list", "[1, 2]", "body");
    add("string", "\"Raw\"", "body");
    add("number", "1e308", "body");
    add("null", "null", "body");
    add("NaN", "{\"type\": \"Raw\", \"priority\": NaN}", "body");
    add("deep lists", QByteArray(100000, '['), "body");
    add("deep objects", QByteArray("{\"a\":").repeated(100000), "body");
    add("deep closed lists", QByteArray(100000, '[') + QByteArray(100000, ']'), "body");
    add("invalid UTF-8 type", "{\"type\": \"Raw\xff\xfe\", \"params\": {}}", "body");
    add("invalid UTF-8 key", "{\"ty\xc3\x28pe\": \"Raw\", \"params\": {}}", "body");
    add("lone continuation byte", "{\"type\": \"\x80\", \"params\": {}}", "body");
    add("truncated UTF-8", "{\"type\": \"\xe2\x82\", \"params\": {}}", "body");
    const QString utf16 = QStringLiteral("{\"type\": \"Raw\", \"params\": {}}");
    add("UTF-16 body", QByteArray(reinterpret_cast<const char *>(utf16.utf16()), utf16.size() * 2),
        "body");

    // Unknown workflow types.
    const QJsonObject raw = rawBody();
    add("no type", compact(with(raw, "type", Remove)), "type");
    for (const Named &type : QList<Named>{{"SD3", "\"SD3\""},
                                          {"lower case", "\"sd15\""},
                                          {"trailing space", "\"SD15 \""},
                                          {"empty", "\"\""},
                                          {"NUL", "\"Raw\\u0000\""},
                                          {"path", "\"../Raw\""},
                                          {"very long", '"' + QByteArray(100000, 'R') + '"'},
                                          {"int", "1"},
                                          {"1e308", "1e308"},
                                          {"null", "null"},
                                          {"list", "[\"Raw\"]"},
                                          {"object", "{\"name\": \"Raw\"}"}})
        add("type " + QByteArray(type.name), withLiteral(raw, "type", type.value), "type");
    add("no params", compact(with(raw, "params", Remove)), "params");

    // The optional fields beside type and params.
    for (const Named &bad : badNumbers())
        add("priority " + QByteArray(bad.name), withLiteral(raw, "priority", bad.value),
            "priority");
    add("priority fraction", withLiteral(raw, "priority", "1.5"), "priority");
    add("priority beyond double", withLiteral(raw, "priority", "1e309"), "body");
    add("node_labels string", compact(with(raw, "node_labels", "gpu")), "node_labels");
    add("node_labels ints", withLiteral(raw, "node_labels", "[1, 2]"), "node_labels");
    add("node_labels empty string", withLiteral(raw, "node_labels", "[\"\"]"), "node_labels");
    add("node_labels object", withLiteral(raw, "node_labels", "{}"), "node_labels");
    for (const Named &bad : badUrls())
        add("webhook " + QByteArray(bad.name),
            compact(with(raw, "webhook", QString::fromUtf8(bad.value))), "webhook");
    add("webhook int", withLiteral(raw, "webhook", "8080"), "webhook");
    add("webhook empty", compact(with(raw, "webhook", "")), "webhook");
    add("webhook scheme-relative", compact(with(raw, "webhook", "//127.0.0.1:9/hook")), "webhook");

    // The predefined workflows.
    const QStringList diffusionNumbers = {"params.width",
                                          "params.height",
                                          "params.steps",
                                          "params.seed",
                                          "params.batch_size",
                                          "params.cfg_scale",
                                          "params.denoise",
                                          "params.loras[0].weight",
                                          "params.controlnets[0].weight",
                                          "params.controlnets[0].start_at",
                                          "params.controlnets[0].end_at"};
    addWorkflowRows(
        rows, "SD15", sd15Body(),
        {"params.checkpoint", "params.vae", "params.loras[0].model", "params.controlnets[0].model"},
        {"params.input_image", "params.controlnets[0].image"}, diffusionNumbers,
        {"params.checkpoint", "params.prompt"});
    addWorkflowRows(rows, "SDXL", sdxlBody(),
                    {"params.checkpoint", "params.vae", "params.refiner.checkpoint",
                     "params.loras[0].model", "params.controlnets[0].model"},
                    {"params.input_image", "params.input_mask", "params.controlnets[0].image"},
                    QStringList(diffusionNumbers) << "params.refiner.switch_at",
                    {"params.checkpoint", "params.prompt", "params.refiner.checkpoint"});
    addWorkflowRows(rows, "Flux", fluxBody(),
                    {"params.unet", "params.vae", "params.t5xxl", "params.clip",
                     "params.loras[0].model", "params.controlnets[0].model"},
                    {"params.input_image", "params.controlnets[0].image"}, diffusionNumbers,
                    {"params.unet", "params.vae", "params.t5xxl", "params.clip", "params.prompt"});

    // Raw: the graph's shape, and every loader input that names a file.
    const auto addRaw = [&](const QByteArray &name, const QByteArray &body, const QString &field) {
        add("Raw " + name, body, field);
    };
    for (const RawInput &input : RawUrlInputs) {
        const QString path = QStringLiteral("params.prompt.%1.inputs.%2")
                                 .arg(QLatin1String(input.node), QLatin1String(input.input));
        const QByteArray name = QByteArray(input.node) + '.' + input.input;
        for (const Named &bad : badUrls())
            addRaw(name + ' ' + bad.name, compact(with(raw, path, QString::fromUtf8(bad.value))),
                   path);
        for (const Named &bad : badNames())
            addRaw(name + " name " + bad.name, withLiteral(raw, path, jsonString(bad.value)), path);
    }
    const QString prompt = QStringLiteral("params.prompt");
    addRaw("no prompt", compact(with(raw, prompt, Remove)), prompt);
    addRaw("prompt string", compact(with(raw, prompt, "x")), prompt);
    addRaw("prompt list", withLiteral(raw, prompt, "[]"), prompt);
    addRaw("prompt 1e308", withLiteral(raw, prompt, "1e308"), prompt);
    addRaw("empty graph", withLiteral(raw, prompt, "{}"), prompt);
    addRaw("node not an object", withLiteral(raw, "params.prompt.13", "\"SaveImage\""),
           "params.prompt.13");
    addRaw("no class_type", compact(with(raw, "params.prompt.13.class_type", Remove)),
           "params.prompt.13.class_type");
    addRaw("class_type int", withLiteral(raw, "params.prompt.13.class_type", "42"),
           "params.prompt.13.class_type");
    addRaw("class_type empty", compact(with(raw, "params.prompt.13.class_type", "")),
           "params.prompt.13.class_type");
    addRaw("inputs string", compact(with(raw, "params.prompt.13.inputs", "x")),
           "params.prompt.13.inputs");
    addRaw("dangling link", withLiteral(raw, "params.prompt.13.inputs.images", "[\"99\", 0]"),
           "params.prompt.13.inputs.images");
    addRaw("link to path", withLiteral(raw, "params.prompt.13.inputs.images", "[\"../1\", 0]"),
           "params.prompt.13.inputs.images");
    for (const Named &bad : {Named{"-1", "-1"}, Named{"1.5", "1.5"}, Named{"1e308", "1e308"},
                             Named{"2^63", "9223372036854775808"}, Named{"-1e308", "-1e308"}})
        addRaw("link index " + QByteArray(bad.name),
               withLiteral(raw, "params.prompt.13.inputs.images", "[\"12\", " + bad.value + "]"),
               "params.prompt.13.inputs.images");
    addRaw("empty node id", withLiteral(raw, "params.prompt", "{\"\": {\"class_type\": \"X\"}}"),
           "params.prompt.");
    QByteArray many = "{\"type\": \"Raw\", \"params\": {\"prompt\": {";
    for (int i = 1; i <= 10001; ++i)
        many += (i > 1 ? "," : "") + QByteArray("\"") + QByteArray::number(i) +
                "\": {\"class_type\": \"X\"}";
    addRaw("10001 nodes", many + "}}}", prompt);
    return rows;
}

QList<Row> otherRows()
{
    QList<Row> rows;
    const auto add = [&rows](const char *route, const QByteArray &name, const QByteArray &method,
                             const QByteArray &target, const QByteArray &body, int status,
                             const QString &field, Auth auth = Auth::Good) {
        rows.append({QByteArray(route) + ' ' + name, QLatin1String(route), method, target, body,
                     status, field, auth});
    };
    const QByteArray longId(4000, 'x');
    const QByteArray hugeId(100000, 'x'); // beyond the request line limit: 414
    // Ids that are not task ids, as path segments.
    const QList<Named> badIds = {
        {"encoded dotdot", "..%2F..%2Fetc%2Fpasswd"},
        {"encoded dots and slashes", "%2E%2E%2F%2E%2E%2Fetc%2Fpasswd"},
        {"encoded backslashes", "..%5C..%5Cwindows"},
        {"NUL", "abc%00def"},
        {"invalid UTF-8", "%FF%FE%C0%AF"},
        {"SQL", "1'%20OR%20'1'%3D'1"},
        {"unicode", "%E2%80%AE%F0%9F%92%A3"},
        {"long", longId},
    };

    // GET /health_check: public and without input; only wrong methods and paths.
    add("GET /health_check", "POST", "POST", "/health_check", "{}", 405, "");
    add("GET /health_check", "DELETE", "DELETE", "/health_check", "", 405, "");
    add("GET /health_check", "extra segment", "GET", "/health_check/..%2Fworkflow", "", 404, "");

    // GET /workflow: the query.
    for (const Named &bad : QList<Named>{{"-1", "-1"},
                                         {"abc", "abc"},
                                         {"0", "0"},
                                         {"1001", "1001"},
                                         {"1e3", "1e3"},
                                         {"1.5", "1.5"},
                                         {"2^31", "2147483648"},
                                         {"2^63", "9223372036854775808"},
                                         {"1e308", "1e308"},
                                         {"NUL", "1%00"},
                                         {"invalid UTF-8", "%FF"},
                                         {"hex", "0x10"}})
        add("GET /workflow", "?limit=" + QByteArray(bad.name), "GET",
            "/workflow?limit=" + bad.value, "", 400, "limit");
    for (const Named &bad :
         QList<Named>{{"-1", "-1"}, {"abc", "abc"}, {"2^31", "2147483648"}, {"1e308", "1e308"}})
        add("GET /workflow", "?offset=" + QByteArray(bad.name), "GET",
            "/workflow?offset=" + bad.value, "", 400, "offset");
    for (const Named &bad : QList<Named>{{"DROP TABLE", "DROP%20TABLE%20tasks"},
                                         {"DROP+TABLE", "DROP+TABLE+tasks"},
                                         {"SQL quote", "done'%3B--"},
                                         {"SQL or", "%27%20OR%201%3D1%20--"},
                                         {"upper case", "DONE"},
                                         {"NUL", "done%00"},
                                         {"invalid UTF-8", "%C0%AF"},
                                         {"path", "..%2F..%2Fetc%2Fpasswd"}})
        add("GET /workflow", "?status=" + QByteArray(bad.name), "GET",
            "/workflow?status=" + bad.value, "", 400, "status");
    add("GET /workflow", "limit after a good status", "GET", "/workflow?status=done&limit=-1", "",
        400, "limit");
    add("GET /workflow", "PUT", "PUT", "/workflow", "{}", 405, "");
    add("GET /workflow", "no auth", "GET", "/workflow", "", 401, "", Auth::None);

    // GET /workflow/{id}
    for (const Named &bad : badIds)
        add("GET /workflow/{id}", bad.name, "GET", "/workflow/" + bad.value, "", 404, "");
    add("GET /workflow/{id}", "huge id", "GET", "/workflow/" + hugeId, "", 414, "");
    add("GET /workflow/{id}", "deeper path", "GET", "/workflow/{done}/x", "", 404, "");
    add("GET /workflow/{id}", "DELETE", "DELETE", "/workflow/{done}", "", 405, "");
    add("GET /workflow/{id}", "not Basic", "GET", "/workflow/{done}", "", 401, "", Auth::NotBasic);

    // GET /workflow/{id}/images/{n}
    for (const Named &bad : badIds)
        add("GET /workflow/{id}/images/{n}", "id " + QByteArray(bad.name), "GET",
            "/workflow/" + bad.value + "/images/0", "", 404, "");
    for (const Named &bad : QList<Named>{{"abc", "abc"},
                                         {"-1", "-1"},
                                         {"beyond", "1"},
                                         {"2^31", "2147483648"},
                                         {"2^63", "9223372036854775808"},
                                         {"1e308", "1e308"},
                                         {"1e0", "1e0"},
                                         {"hex", "0x0"},
                                         {"NUL", "0%00"},
                                         {"encoded dotdot", "..%2F..%2Fetc%2Fpasswd"},
                                         {"long", longId}})
        add("GET /workflow/{id}/images/{n}", "n " + QByteArray(bad.name), "GET",
            "/workflow/{done}/images/" + bad.value, "", 404, "");
    add("GET /workflow/{id}/images/{n}", "huge n", "GET", "/workflow/{done}/images/" + hugeId, "",
        414, "");
    add("GET /workflow/{id}/images/{n}", "POST", "POST", "/workflow/{done}/images/0", "{}", 405,
        "");

    // POST /workflow/{id}/cancel
    for (const Named &bad : badIds)
        add("POST /workflow/{id}/cancel", bad.name, "POST", "/workflow/" + bad.value + "/cancel",
            "", 404, "");
    add("POST /workflow/{id}/cancel", "malformed body", "POST", "/workflow/unknown/cancel",
        QByteArray(100000, '['), 404, "");
    add("POST /workflow/{id}/cancel", "finished task", "POST", "/workflow/{done}/cancel", "", 409,
        "");
    add("POST /workflow/{id}/cancel", "GET", "GET", "/workflow/{done}/cancel", "", 405, "");

    // GET /preview/{id}, OPTIONS /preview/{id}: public.
    for (const Named &bad : badIds)
        add("GET /preview/{id}", bad.name, "GET", "/preview/" + bad.value, "", 404, "", Auth::None);
    add("GET /preview/{id}", "huge id", "GET", "/preview/" + hugeId, "", 414, "", Auth::None);
    add("GET /preview/{id}", "POST", "POST", "/preview/{done}", "{}", 405, "", Auth::None);
    add("OPTIONS /preview/{id}", "no id", "OPTIONS", "/preview", "", 404, "", Auth::None);
    add("OPTIONS /preview/{id}", "deeper path", "OPTIONS", "/preview/{done}/..%2F..", "", 404, "",
        Auth::None);
    add("OPTIONS /preview/{id}", "huge id", "OPTIONS", "/preview/" + hugeId, "", 414, "",
        Auth::None);
    add("OPTIONS /preview/{id}", "PUT", "PUT", "/preview/{done}", "{}", 405, "", Auth::None);

    // GET /cluster/nodes
    add("GET /cluster/nodes", "PUT", "PUT", "/cluster/nodes", "{\"url\": 1}", 405, "");
    add("GET /cluster/nodes", "no auth", "GET", "/cluster/nodes", "", 401, "", Auth::None);
    add("GET /cluster/nodes", "bad base64", "GET", "/cluster/nodes", "", 401, "", Auth::BadBase64);

    // POST /cluster/nodes and POST /cluster/nodes/delete: the body.
    for (const char *route : {"POST /cluster/nodes", "POST /cluster/nodes/delete"}) {
        const QByteArray target = QByteArray(route).split(' ').last();
        const auto body = [&](const char *name, const QByteArray &text, const QString &field,
                              int status = 400) {
            add(route, name, "POST", target, text, status, field);
        };
        body("empty body", "", "body");
        body("malformed", "{\"url\": ", "body");
        body("list", "[\"http://127.0.0.1:9\"]", "body");
        body("string", "\"http://127.0.0.1:9\"", "body");
        body("deep lists", QByteArray(100000, '['), "body");
        body("deep objects", QByteArray("{\"url\":").repeated(100000), "body");
        body("invalid UTF-8", "{\"url\": \"http://127.0.0.1:9/\xff\"}", "body");
        body("overlong UTF-8", "{\"url\": \"http://127.0.0.1:9/\xc0\xae\xc0\xae/\"}", "body");
        body("beyond double", "{\"url\": 1e309}", "body");
        body("no url", "{\"labels\": [\"gpu\"]}", "url");
        body("url int", "{\"url\": 8188}", "url");
        body("url 1e308", "{\"url\": 1e308}", "url");
        body("url null", "{\"url\": null}", "url");
        body("url list", "{\"url\": [\"http://127.0.0.1:9\"]}", "url");
    }
    // A URL that is not a node's: 400 when adding, 404 (no such node) when removing.
    QList<Named> badNodeUrls = badUrls();
    badNodeUrls << Named{"empty", ""} << Named{"blank", "   "} << Named{"no scheme", "127.0.0.1:9"}
                << Named{"user info", "http://admin:admin@127.0.0.1:9"}
                << Named{"query", "http://127.0.0.1:9/?x=1"}
                << Named{"fragment", "http://127.0.0.1:9/#x"}
                << Named{"NUL", QByteArray("http://127.0.0.1:9/\0", 20)}
                << Named{"very long", "http://127.0.0.1:9/" + QByteArray(100000, 'a')};
    for (const Named &bad : badNodeUrls) {
        const QByteArray text = "{\"url\": " + jsonString(bad.value) + '}';
        if (qstrcmp(bad.name, "very long") != 0)
            add("POST /cluster/nodes", "url " + QByteArray(bad.name), "POST", "/cluster/nodes",
                text, 400, "url");
        add("POST /cluster/nodes/delete", "url " + QByteArray(bad.name), "POST",
            "/cluster/nodes/delete", text, 404, "");
    }
    // The node controls: {"url"} of a registered node ("{node}"), and labels.
    for (const char *route : {"POST /cluster/nodes/drain", "POST /cluster/nodes/disable",
                              "POST /cluster/nodes/enable", "POST /cluster/nodes/labels"}) {
        const QByteArray target = QByteArray(route).split(' ').last();
        const auto body = [&](const QByteArray &name, const QByteArray &text, const QString &field,
                              int status = 400) {
            add(route, name, "POST", target, text, status, field);
        };
        body("empty body", "", "body");
        body("malformed", "{\"url\": ", "body");
        body("deep lists", QByteArray(100000, '['), "body");
        body("invalid UTF-8", "{\"url\": \"{node}\xff\"}", "body");
        body("no url", "{\"labels\": [\"gpu\"]}", "url");
        body("url int", "{\"url\": 8188}", "url");
        body("url 1e308", "{\"url\": 1e308}", "url");
        for (const Named &bad : badNodeUrls)
            body("url " + QByteArray(bad.name),
                 "{\"url\": " + jsonString(bad.value) + ", \"labels\": [\"gpu\"]}", "", 404);
        add(route, "no auth", "POST", target, "{\"url\": \"{node}\"}", 401, "", Auth::None);
        add(route, "GET", "GET", target, "", 405, "");
    }
    for (const Named &bad : QList<Named>{{"missing", "{\"url\": \"{node}\"}"},
                                         {"string", "{\"url\": \"{node}\", \"labels\": \"gpu\"}"},
                                         {"ints", "{\"url\": \"{node}\", \"labels\": [1e308]}"},
                                         {"empty", "{\"url\": \"{node}\", \"labels\": [\"\"]}"},
                                         {"object", "{\"url\": \"{node}\", \"labels\": {}}"}})
        add("POST /cluster/nodes/labels", "labels " + QByteArray(bad.name), "POST",
            "/cluster/nodes/labels", bad.value, 400, "labels");

    add("POST /cluster/nodes", "labels string", "POST", "/cluster/nodes",
        "{\"url\": \"http://127.0.0.1:9\", \"labels\": \"gpu\"}", 400, "labels");
    add("POST /cluster/nodes", "labels ints", "POST", "/cluster/nodes",
        "{\"url\": \"http://127.0.0.1:9\", \"labels\": [1e308]}", 400, "labels");
    add("POST /cluster/nodes", "labels empty", "POST", "/cluster/nodes",
        "{\"url\": \"http://127.0.0.1:9\", \"labels\": [\"\"]}", 400, "labels");
    add("POST /cluster/nodes", "wrong password", "POST", "/cluster/nodes",
        "{\"url\": \"http://127.0.0.1:9\"}", 401, "", Auth::Wrong);
    add("POST /cluster/nodes/delete", "no auth", "POST", "/cluster/nodes/delete",
        "{\"url\": \"http://127.0.0.1:9\"}", 401, "", Auth::None);

    // GET /cache, DELETE /cache?url=
    add("GET /cache", "POST", "POST", "/cache", "{}", 405, "");
    add("GET /cache", "no auth", "GET", "/cache?url=file:///etc/passwd", "", 401, "", Auth::None);
    add("DELETE /cache", "no url", "DELETE", "/cache", "", 400, "url");
    add("DELETE /cache", "empty url", "DELETE", "/cache?url=", "", 400, "url");
    add("DELETE /cache", "url in the body", "DELETE", "/cache", "{\"url\": \"http://127.0.0.1:9\"}",
        400, "url");
    for (const Named &bad : QList<Named>{{"file", "file:///etc/passwd"},
                                         {"encoded file", "file%3A%2F%2F%2Fetc%2Fpasswd"},
                                         {"path", "..%2F..%2Fetc%2Fpasswd"},
                                         {"cache file name", "record.json"},
                                         {"NUL", "http://127.0.0.1:9/a%00b"},
                                         {"invalid UTF-8", "%FF%FE"},
                                         {"long", "http://127.0.0.1:9/" + longId}})
        add("DELETE /cache", "url " + QByteArray(bad.name), "DELETE", "/cache?url=" + bad.value, "",
            404, "");
    add("DELETE /cache", "huge url", "DELETE", "/cache?url=" + hugeId, "", 414, "");
    add("DELETE /cache", "no auth", "DELETE", "/cache?url=file:///etc/passwd", "", 401, "",
        Auth::None);

    // The API documents.
    add("GET /api-docs/openapi.json", "encoded dotdot", "GET",
        "/api-docs/..%2F..%2F..%2Fetc%2Fpasswd", "", 404, "");
    add("GET /api-docs/openapi.json", "NUL", "GET", "/api-docs/openapi.json%00", "", 404, "");
    add("GET /api-docs/openapi.json", "POST", "POST", "/api-docs/openapi.json", "{}", 405, "");
    add("GET /api-docs/openapi.json", "no auth", "GET", "/api-docs/openapi.json", "", 401, "",
        Auth::None);
    add("GET /doc", "encoded dotdot", "GET", "/doc/..%2F..%2Fetc%2Fpasswd", "", 404, "");
    add("GET /doc", "DELETE", "DELETE", "/doc", "", 405, "");
    add("GET /doc", "not Basic", "GET", "/doc", "", 401, "", Auth::NotBasic);
    return rows;
}

// The rows of the routes the server has (rows of a route it does not have are left out; a
// route without rows fails everyRouteHasRows).
QList<Row> allRows(const QStringList &routes)
{
    QList<Row> rows;
    for (const Row &row : workflowRows() + otherRows()) {
        if (routes.contains(row.route))
            rows.append(row);
    }
    return rows;
}

QByteArray authorizationFor(Auth auth)
{
    switch (auth) {
    case Auth::Good:
        return "Basic " + QByteArray("admin:admin").toBase64();
    case Auth::None:
        return {};
    case Auth::Wrong:
        return "Basic " + QByteArray("admin:wrong").toBase64();
    case Auth::NotBasic:
        return "Bearer admin:admin";
    case Auth::BadBase64:
        return "Basic !!!not*base64%%%";
    }
    return {};
}

// Every file, folder and link under `dir`, with sizes: what a row must leave as it was.
QStringList listing(const QString &dir)
{
    QStringList entries;
    QDirIterator it(dir, QDir::AllEntries | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot,
                    QDirIterator::Subdirectories);
    while (it.hasNext()) {
        it.next();
        entries.append(it.filePath() + QLatin1Char(' ') + QString::number(it.fileInfo().size()));
    }
    entries.sort();
    return entries;
}

} // namespace

class TestBadInput : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void validBodiesAreAccepted();
    void everyRouteHasRows();
    void badInput_data();
    void badInput();

private:
    QStringList folders() const;
    QStringList nodeSummary() const;

    std::unique_ptr<SimCluster> m_cluster;
    std::unique_ptr<IsolatedSettings> m_dirs;
    std::unique_ptr<Router> m_router;
    std::unique_ptr<server::ApiServer> m_api;
    quint16 m_port = 0;
    QString m_doneId; // a finished task with one image
};

void TestBadInput::initTestCase()
{
    m_cluster = std::make_unique<SimCluster>(1);
    m_dirs = std::make_unique<IsolatedSettings>();
    Settings settings;
    settings.healthIntervalMs = 50;
    settings.healthTimeoutMs = 1000;
    settings.nodes = m_cluster->urls();
    // Nothing a row does may be hidden by a full queue or a forgotten task.
    settings.pendingLimit = 100000;
    settings.historyLimit = 100000;
    m_router = std::make_unique<Router>(m_dirs->apply(settings));
    QVERIFY2(m_router->storageError().isEmpty(), qPrintable(m_router->storageError()));
    m_api = std::make_unique<server::ApiServer>(*m_router);
    m_port = m_api->listen(QHostAddress::LocalHost, 0);
    QVERIFY(m_port != 0);

    // A finished task, for the rows on the images and cancel routes.
    const Result<QString> id = m_router->submit(
        {{QStringLiteral("type"), QStringLiteral("Raw")},
         {QStringLiteral("params"), QJsonObject{{QStringLiteral("prompt"), saveImageGraph()}}}});
    QVERIFY(id.ok());
    m_doneId = id.value();
    QTRY_VERIFY_WITH_TIMEOUT(m_router->tasks().task(m_doneId) &&
                                 m_router->tasks().task(m_doneId)->status == TaskStatus::Done,
                             15000);
    QCOMPARE(m_router->tasks().task(m_doneId)->images.size(), 1);
}

void TestBadInput::cleanupTestCase()
{
    m_api.reset();
    m_router.reset();
    m_dirs.reset();
    m_cluster.reset();
}

QStringList TestBadInput::folders() const
{
    return {m_router->settings().downloadRootDir, m_router->settings().downloadCacheDir};
}

// The nodes, with what a request may change: url and labels.
QStringList TestBadInput::nodeSummary() const
{
    QStringList nodes;
    for (const NodeInfo &info : m_router->nodes().nodes())
        nodes.append(info.url.toString() + QLatin1Char(' ') + info.labels.join(QLatin1Char(',')));
    return nodes;
}

// The bodies the rows spoil are valid as they are: a row fails because of its one change.
void TestBadInput::validBodiesAreAccepted()
{
    IsolatedSettings dirs;
    Settings settings;
    settings.historyLimit = 1000;
    Router router(dirs.apply(settings));
    server::ApiServer api(router);
    const quint16 port = api.listen(QHostAddress::LocalHost, 0);
    QVERIFY(port != 0);
    for (const QJsonObject &body : {sd15Body(), sdxlBody(), fluxBody(), rawBody()}) {
        const Reply reply =
            rawRequest(port, "POST", "/workflow", compact(body), authorizationFor(Auth::Good));
        QVERIFY2(reply.status == 200,
                 qPrintable(body.value(QLatin1String("type")).toString() + QStringLiteral(": ") +
                            QString::fromUtf8(reply.body)));
        QVERIFY(!reply.json.object().value(QLatin1String("id")).toString().isEmpty());
    }
    QCOMPARE(router.tasks().count(std::nullopt), 4);
}

// Every route of the API has rows (a new route must get its own).
void TestBadInput::everyRouteHasRows()
{
    QSet<QString> covered;
    const QStringList routes = m_api->routeList();
    for (const Row &row : allRows(routes))
        covered.insert(row.route);
    QVERIFY(routes.size() >= 15);
    for (const QString &route : routes)
        QVERIFY2(covered.contains(route), qPrintable(QStringLiteral("no rows for ") + route));
}

void TestBadInput::badInput_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("target");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<int>("auth");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("field");
    QSet<QByteArray> names;
    for (const Row &row : allRows(m_api->routeList())) {
        if (names.contains(row.name))
            qFatal("duplicate row name: %s", row.name.constData());
        names.insert(row.name);
        QTest::newRow(row.name.constData())
            << row.method << row.target << row.body << int(row.auth) << row.status << row.field;
    }
}

void TestBadInput::badInput()
{
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, target);
    QFETCH(QByteArray, body);
    QFETCH(int, auth);
    QFETCH(int, status);
    QFETCH(QString, field);
    const QByteArray node = m_cluster->urls().first().toUtf8();
    target.replace("{done}", m_doneId.toUtf8());
    body.replace("{node}", node);

    const int tasksBefore = m_router->tasks().count(std::nullopt);
    const QStringList nodesBefore = nodeSummary();
    const qsizetype cachedBefore = m_router->cache().entries().size();
    QList<QStringList> filesBefore;
    for (const QString &folder : folders())
        filesBefore.append(listing(folder));

    const Reply reply = rawRequest(m_port, method, target, body, authorizationFor(Auth(auth)));

    // Undo what a request accepted by mistake did, so that the next rows start from the same
    // state; the checks below still fail this row.
    const int tasksAfter = m_router->tasks().count(std::nullopt);
    const QStringList nodesAfter = nodeSummary();
    if (tasksAfter > tasksBefore) {
        for (const Task &task : m_router->tasks().list(std::nullopt, 0, tasksAfter - tasksBefore))
            m_router->dispatcher().cancel(task.id);
    }
    for (const NodeInfo &info : m_router->nodes().nodes()) {
        if (info.url.toString() != QString::fromUtf8(node))
            m_router->nodes().removeNode(info.url.toString());
    }

    const QString what = QStringLiteral("%1 %2 -> %3 %4")
                             .arg(QString::fromUtf8(method), QString::fromUtf8(target.left(120)))
                             .arg(reply.status)
                             .arg(QString::fromUtf8(reply.body.left(300)));
    QVERIFY2(reply.status == status, qPrintable(what));
    QVERIFY2(reply.headers.value("content-type").startsWith("application/json"), qPrintable(what));
    QVERIFY2(reply.json.isObject(), qPrintable(what));
    QVERIFY2(!reply.message().trimmed().isEmpty(), qPrintable(what));
    if (!field.isEmpty())
        QVERIFY2(reply.message().startsWith(field + QLatin1Char(':')) ||
                     reply.message().startsWith(field + QLatin1Char(' ')),
                 qPrintable(QStringLiteral("message should name %1: %2").arg(field, what)));

    QCOMPARE(tasksAfter, tasksBefore);
    QCOMPARE(nodesAfter, nodesBefore);
    QCOMPARE(m_router->cache().entries().size(), cachedBefore);
    for (qsizetype i = 0; i < folders().size(); ++i)
        QCOMPARE(listing(folders().at(i)), filesBefore.at(i));

    const Reply health = rawRequest(m_port, "GET", "/health_check", {}, {});
    QCOMPARE(health.status, 200);
    QCOMPARE(health.body, QByteArray("ok"));
}

QTEST_GUILESS_MAIN(TestBadInput)
#include "tst_badinput.moc"
