#pragma once

// Requests and pictures shared by the workflow tests: one request per predefined variant
// (the golden graphs in tests/data/golden are built from them) and the files a ComfyUI
// folder needs for the graphs to pass a node's validation.

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>

namespace fixtures {

// Small real PNGs (RGB, 8 bit): a 40x30 picture, a 40x30 mask (white rectangle on black:
// the repainted area), a 48x32 ControlNet hint (a grid).
QByteArray photoPng();
QByteArray maskPng();
QByteArray hintPng();
QJsonObject base64Image(const QByteArray &bytes);
QJsonObject urlImage(const QString &url);
QJsonObject buildIn(const QString &name);
QJsonObject custom(const QString &url);

// Parses JSON text; a test bug when it does not parse.
QJsonObject object(const QByteArray &json);

struct Variant {
    QString name; // golden file base name: "sd15_txt2img"
    QString type; // "SD15", "SDXL", "Flux"
    QJsonObject params;
};
// Every golden variant, with a fixed seed.
QList<Variant> goldenVariants();

// The build_in model files the golden requests name, as "<folder>/<name>" paths
// ("models/checkpoints/sd15/v1-5-pruned-emaonly.safetensors").
QStringList buildInModelFiles();

// The input/ file name the router gives an inline image (a content hash), computed here
// independently of the router.
QString inlineName(const QByteArray &png);

} // namespace fixtures
