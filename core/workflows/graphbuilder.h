#pragma once

#include "workflows/paramreader.h"

#include <QHash>
#include <QJsonArray>
#include <QJsonObject>
#include <QList>
#include <QUrl>

#include <optional>

namespace comfy {

struct ImageFacts;

// A file the task needs in a ComfyUI folder before it can run: downloaded from `url` into
// ROOT_DIR/<folder>/<fileName>.
struct FileToFetch {
    QUrl url;
    QString folder;    // "models/checkpoints", "models/loras", ..., or "input"
    QString fileName;  // the name the graph uses
    QString field;     // the request field that named it, for error messages
    QByteArray sha256; // expected content hash (hex, lower case); empty: not checked
    bool operator==(const FileToFetch &other) const = default;
};

// A file given inline (a base64 image), written into ROOT_DIR/<folder>/<fileName> at submit.
struct FileToWrite {
    QString folder;
    QString fileName;
    QByteArray data;
};

// What a workflow builder produces: the ComfyUI API-format graph and what it needs.
struct BuiltWorkflow {
    QJsonObject graph;
    QList<FileToFetch> downloads;
    QList<FileToWrite> inlineFiles;
    std::optional<qint64> seed;       // the seed used (drawn at random when not given)
    QHash<QString, int> samplerSteps; // sampler node id -> steps it runs, for progress
};

// Builds a graph node by node with ids "1", "2", ... in order, and records the files the
// graph names.
class GraphBuilder {
public:
    // Adds a node and returns its id.
    QString add(const QString &classType, const QJsonObject &inputs);
    static QJsonArray link(const QString &id, int output) { return QJsonArray{id, output}; }

    // The file name the graph uses for a model: a build_in name as it is, a custom URL's
    // download name (recorded for download into `folder`).
    QString modelFile(const ModelRef &model, const QString &folder, const QString &field);
    // The input/ file name of an image: decoded and checked when base64 (recorded for writing),
    // recorded for download when a URL. Fails the reader when the bytes are no image.
    // `facts`, when given, receives what the header says of a base64 image (format, size);
    // it stays as it was for a URL, whose bytes are not known at submit.
    QString imageFile(const ImageInput &image, const QString &field, ParamReader &reader,
                      ImageFacts *facts = nullptr);

    void setSeed(qint64 seed) { m_result.seed = seed; }
    void setSamplerSteps(const QString &id, int steps) { m_result.samplerSteps.insert(id, steps); }
    BuiltWorkflow result() const { return m_result; }

private:
    int m_nextId = 1;
    BuiltWorkflow m_result;
};

// A seed for a request without one: random, within what JSON numbers carry exactly.
qint64 randomSeed();
constexpr qint64 MaxSeed = (qint64(1) << 53) - 1;

} // namespace comfy
