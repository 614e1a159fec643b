#pragma once

#include <QJsonObject>
#include <QJsonValue>
#include <QStringList>

namespace simnode {

class Catalog;

struct ValidationResult {
    bool ok = false;
    QJsonValue error;        // the "error" object of a 400 answer
    QStringList goodOutputs; // output nodes that will run
    QJsonValue nodeErrors;   // {} / {id: {...}}, or [] when the prompt was rejected as a whole
    QJsonObject prompt;      // the prompt with its values converted (INT, FLOAT, ...)
};

// Mirrors ComfyUI's validate_prompt() of the recorded version (execution.py): the same checks,
// error types, messages and details. nodeOrder is the order of the prompt's keys as sent.
ValidationResult validatePrompt(const QJsonObject &prompt, const QStringList &nodeOrder,
                                const Catalog &catalog);

} // namespace simnode
