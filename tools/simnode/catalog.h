#pragma once

#include <QHash>
#include <QJsonArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

namespace simnode {

struct InputSpec {
    QString name;
    QString category;        // "required", "optional" or "hidden"
    QJsonValue type;         // "INT", "IMAGE", ... or the array of allowed values
    QJsonObject options;     // the spec's second element ({} when there is none)
    QString modelFolder;     // the allowed values are files of models/<folder> (e.g. "checkpoints")
    bool inputFiles = false; // the allowed values are files of input/
    QJsonArray config() const; // [type, options], ComfyUI's "input_config"
};

struct NodeClass {
    QString name;
    bool outputNode = false;
    QStringList outputTypes;
    QList<InputSpec> inputs; // required, optional, hidden; each in input_order
    QJsonObject info;        // the object_info entry (lists of files are filled in when served)
    bool customValidation = false; // LoadImage-like: VALIDATE_INPUTS(image) checks the file
    const InputSpec *input(const QString &name) const;
};

// The node classes the simulated node knows (the recorded object_info plus ExampleProgressNode)
// and the folders of its root directory.
class Catalog {
public:
    explicit Catalog(const QString &rootDir);

    const NodeClass *nodeClass(const QString &name) const;
    QJsonObject objectInfo() const;
    QJsonObject objectInfo(const QString &name) const; // {} for an unknown class
    // The allowed values of a list input, with lists of files read from disk now.
    QJsonArray allowedValues(const InputSpec &input) const;

    QString rootDir() const { return m_root; }
    QString inputDir() const;
    QString outputDir() const;
    QString tempDir() const;
    QString directoryByType(const QString &type) const; // input | output | temp, else empty

    // Model folders, as ComfyUI names them (GET /models).
    static QStringList modelFolderNames();
    QStringList modelFolderDirs(const QString &folder) const;
    std::optional<QStringList> modelFiles(const QString &folder) const; // nullopt: unknown folder
    // The file behind a value of a model list input; empty when it does not exist.
    QString modelPath(const QString &folder, const QString &name) const;

    // Files of input/ offered by LoadImage (images, top level).
    QStringList inputImages() const;
    // "name.png [output]" style names: the absolute path, or empty when the name is unsafe.
    QString annotatedPath(const QString &name, const QString &defaultType) const;

    void createFolders() const;

private:
    void load(const QByteArray &json);
    QStringList listInputFiles(const QStringList &suffixes, const QString &subdir) const;

    QString m_root;
    QHash<QString, NodeClass> m_classes;
    QStringList m_order;
};

} // namespace simnode
