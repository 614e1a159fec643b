#pragma once

#include <QByteArray>
#include <QJsonValue>
#include <QString>
#include <QStringList>

#include <vector>

// Helpers to word messages the way the recorded (Python) ComfyUI does, and to recover the key
// order of a JSON document (QJsonObject sorts its keys, Python keeps them as sent; ComfyUI's
// execution order depends on it).
namespace simnode::py {

// Python's repr() of a JSON-decoded value: 'text', 5, 1.5, True, None, ['a', 1], {'k': 'v'}.
QString repr(const QJsonValue &value);
// Python's str(): a string as is, anything else as repr().
QString str(const QJsonValue &value);
// repr() of a float: 1.0, 0.5, 1e-05, 1e+16.
QString floatRepr(double value);
// repr() of an integral value held in a double (big values too: 18446744073709551615).
QString intRepr(double value);
QString stringRepr(const QString &text);

// The key order of every object of a JSON document, as written (arrays: keys "0", "1"...).
struct KeyTree {
    QStringList keys;
    std::vector<KeyTree> children; // children[i] belongs to keys[i] (empty unless an object)
    const KeyTree *child(const QString &key) const;
};

// False when the text is not valid JSON (the caller reports the error with QJsonDocument).
bool scanKeyOrder(const QByteArray &json, KeyTree *tree);

} // namespace simnode::py
