#include "validation.h"

#include "catalog.h"
#include "pyformat.h"

#include <QFileInfo>
#include <QHash>
#include <QJsonArray>
#include <QLocale>
#include <QRegularExpression>
#include <QScopeGuard>
#include <QSet>

#include <cmath>
#include <optional>

namespace simnode {

namespace {

// A Python exception raised while validating (KeyError of a dangling link, ...).
struct PyError {
    QString type;
    QString message;
    QStringList traceback;
};

const QString kValidatePromptFrame =
    QStringLiteral("  File \"/opt/ComfyUI/execution.py\", line 804, in validate_prompt\n"
                   "    m = validate_inputs(prompt, o, validated)\n"
                   "        ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n");
const QString kInnerValidateFrame =
    QStringLiteral("  File \"/opt/ComfyUI/execution.py\", line 628, in validate_inputs\n"
                   "    r = validate_inputs(prompt, o_id, validated)\n"
                   "        ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n");
const QString kLinkKeyErrorFrame =
    QStringLiteral("  File \"/opt/ComfyUI/execution.py\", line 591, in validate_inputs\n"
                   "    o_class_type = prompt[o_id]['class_type']\n"
                   "                   ~~~~~~^^^^^^\n");
const QString kInputsKeyErrorFrame =
    QStringLiteral("  File \"/opt/ComfyUI/execution.py\", line 553, in validate_inputs\n"
                   "    inputs = prompt[unique_id]['inputs']\n"
                   "             ~~~~~~~~~~~~~~~~~^^^^^^^^^^\n");
const QString kReturnTypeFrame =
    QStringLiteral("  File \"/opt/ComfyUI/execution.py\", line 593, in validate_inputs\n"
                   "    received_type = r[val[1]]\n"
                   "                    ~^^^^^^^^\n");

QJsonObject makeError(const QString &type, const QString &message, const QString &details,
                      const QJsonObject &extraInfo)
{
    return QJsonObject{{QStringLiteral("type"), type},
                       {QStringLiteral("message"), message},
                       {QStringLiteral("details"), details},
                       {QStringLiteral("extra_info"), extraInfo}};
}

QString typeName(const QJsonValue &value)
{
    switch (value.type()) {
    case QJsonValue::Null:
    case QJsonValue::Undefined:
        return QStringLiteral("NoneType");
    case QJsonValue::Bool:
        return QStringLiteral("bool");
    case QJsonValue::Double:
        return value.toVariant().typeId() == QMetaType::LongLong ? QStringLiteral("int")
                                                                 : QStringLiteral("float");
    case QJsonValue::String:
        return QStringLiteral("str");
    case QJsonValue::Array:
        return QStringLiteral("list");
    case QJsonValue::Object:
        return QStringLiteral("dict");
    }
    return QStringLiteral("object");
}

bool isIntegral(const QJsonValue &value)
{
    return value.isDouble() && value.toVariant().typeId() == QMetaType::LongLong;
}

QJsonValue intValue(double d)
{
    if (std::fabs(d) < 9.2e18)
        return QJsonValue(qint64(d));
    return QJsonValue(d);
}

// Python's int(value); nullopt and *error set when it raises.
std::optional<QJsonValue> pyInt(const QJsonValue &value, QString *error)
{
    switch (value.type()) {
    case QJsonValue::Bool:
        return QJsonValue(qint64(value.toBool() ? 1 : 0));
    case QJsonValue::Double: {
        if (isIntegral(value))
            return value;
        const double d = value.toDouble();
        if (std::isnan(d)) {
            *error = QStringLiteral("cannot convert float NaN to integer");
            return std::nullopt;
        }
        if (std::isinf(d)) {
            *error = QStringLiteral("cannot convert float infinity to integer");
            return std::nullopt;
        }
        return intValue(std::trunc(d));
    }
    case QJsonValue::String: {
        static const QRegularExpression pattern(QStringLiteral("^[+-]?\\d+(_\\d+)*$"));
        const QString text = value.toString().trimmed();
        if (pattern.match(text).hasMatch()) {
            QString digits = text;
            digits.remove(QLatin1Char('_'));
            bool ok = false;
            const qint64 number = digits.toLongLong(&ok);
            if (ok)
                return QJsonValue(number);
            return QJsonValue(digits.toDouble());
        }
        *error = QStringLiteral("invalid literal for int() with base 10: ") +
                 py::stringRepr(value.toString());
        return std::nullopt;
    }
    default:
        *error = QStringLiteral("int() argument must be a string, a bytes-like object or a real "
                                "number, not '%1'")
                     .arg(typeName(value));
        return std::nullopt;
    }
}

// Python's float(value).
std::optional<QJsonValue> pyFloat(const QJsonValue &value, QString *error)
{
    switch (value.type()) {
    case QJsonValue::Bool:
        return QJsonValue(value.toBool() ? 1.0 : 0.0);
    case QJsonValue::Double:
        return QJsonValue(value.toDouble());
    case QJsonValue::String: {
        QString text = value.toString().trimmed().toLower();
        static const QRegularExpression underscores(QStringLiteral("(?<=\\d)_(?=\\d)"));
        text.replace(underscores, QString());
        QString unsigned_ = text;
        double sign = 1.0;
        if (unsigned_.startsWith(QLatin1Char('+')) || unsigned_.startsWith(QLatin1Char('-'))) {
            sign = unsigned_.startsWith(QLatin1Char('-')) ? -1.0 : 1.0;
            unsigned_ = unsigned_.mid(1);
        }
        if (unsigned_ == QLatin1String("inf") || unsigned_ == QLatin1String("infinity"))
            return QJsonValue(sign * HUGE_VAL);
        if (unsigned_ == QLatin1String("nan"))
            return QJsonValue(std::nan(""));
        bool ok = false;
        const double d = QLocale::c().toDouble(text, &ok);
        if (ok && !text.isEmpty())
            return QJsonValue(d);
        *error = QStringLiteral("could not convert string to float: ") +
                 py::stringRepr(value.toString());
        return std::nullopt;
    }
    default:
        *error = QStringLiteral("float() argument must be a string or a real number, not '%1'")
                     .arg(typeName(value));
        return std::nullopt;
    }
}

bool pyTruth(const QJsonValue &value)
{
    switch (value.type()) {
    case QJsonValue::Bool:
        return value.toBool();
    case QJsonValue::Double:
        return value.toDouble() != 0.0;
    case QJsonValue::String:
        return !value.toString().isEmpty();
    case QJsonValue::Array:
        return !value.toArray().isEmpty();
    case QJsonValue::Object:
        return !value.toObject().isEmpty();
    default:
        return false;
    }
}

// Python's == between JSON-decoded values (1 == 1.0 == True).
bool pyEqual(const QJsonValue &a, const QJsonValue &b)
{
    const bool aNum = a.isDouble() || a.isBool();
    const bool bNum = b.isDouble() || b.isBool();
    if (aNum && bNum)
        return a.toDouble(a.toBool() ? 1.0 : 0.0) == b.toDouble(b.toBool() ? 1.0 : 0.0);
    return a == b;
}

// Python's formatting of a number that went through int() or float().
QString numberText(const QJsonValue &value, bool isFloat)
{
    if (isFloat)
        return py::floatRepr(value.toDouble());
    return py::repr(value);
}

// A bound from object_info ("min"/"max"), formatted like the Python value it was.
QString boundText(const QJsonValue &bound, bool isFloatInput)
{
    if (isFloatInput)
        return py::floatRepr(bound.toDouble());
    if (isIntegral(bound))
        return py::repr(bound);
    const double d = bound.toDouble();
    if (d == std::trunc(d) && std::fabs(d) >= 9.2e18)
        return py::intRepr(d);
    return py::floatRepr(d);
}

// validate_node_input() of the recorded version.
bool typesMatch(const QString &received, const QJsonValue &inputType)
{
    if (!inputType.isString())
        return false;
    const QString expected = inputType.toString();
    if (received == expected || received == QLatin1String("*") || expected == QLatin1String("*"))
        return true;
    QSet<QString> receivedTypes;
    for (const QString &t : received.split(QLatin1Char(',')))
        receivedTypes.insert(t.trimmed());
    for (const QString &t : expected.split(QLatin1Char(','))) {
        if (receivedTypes.contains(t.trimmed()))
            return true;
    }
    return false;
}

struct NodeResult {
    bool valid = false;
    QJsonArray errors;
};

class Validator {
public:
    Validator(QJsonObject prompt, const Catalog &catalog)
        : m_prompt(std::move(prompt))
        , m_catalog(catalog)
    {
    }

    QJsonObject &prompt() { return m_prompt; }
    QStringList validatedOrder() const { return m_order; }
    NodeResult validated(const QString &id) const { return m_validated.value(id); }
    bool isValidated(const QString &id) const { return m_validated.contains(id); }
    void setValidated(const QString &id, NodeResult result)
    {
        if (!m_validated.contains(id))
            m_order << id;
        m_validated.insert(id, std::move(result));
    }

    NodeResult validateInputs(const QString &id, int depth)
    {
        if (m_validated.contains(id))
            return m_validated.value(id);
        // A cycle, or a chain deeper than Python's recursion limit: the recorded version dies of
        // a RecursionError there, and so do we (instead of the stack).
        if (m_visiting.contains(id) || depth > 900) {
            throw PyError{QStringLiteral("RecursionError"),
                          QStringLiteral("maximum recursion depth exceeded"),
                          {kInnerValidateFrame}};
        }
        m_visiting.insert(id);
        const auto leave = qScopeGuard([this, id]() { m_visiting.remove(id); });

        QJsonObject node = m_prompt.value(id).toObject();
        if (!node.value(QLatin1String("inputs")).isObject()) {
            throw PyError{
                QStringLiteral("KeyError"), QStringLiteral("'inputs'"), {kInputsKeyErrorFrame}};
        }
        QJsonObject inputs = node.value(QLatin1String("inputs")).toObject();
        const QString classType = node.value(QLatin1String("class_type")).toString();
        const NodeClass *cls = m_catalog.nodeClass(classType);
        Q_ASSERT(cls);

        QJsonArray errors;
        bool valid = true;
        bool converted = false;

        for (const InputSpec &spec : cls->inputs) {
            if (spec.category == QLatin1String("hidden"))
                continue;
            const QString &x = spec.name;
            const QJsonArray info = spec.config();
            if (!inputs.contains(x)) {
                if (spec.category == QLatin1String("required")) {
                    errors.append(makeError(QStringLiteral("required_input_missing"),
                                            QStringLiteral("Required input is missing"), x,
                                            {{QStringLiteral("input_name"), x}}));
                }
                continue;
            }

            QJsonValue val = inputs.value(x);
            if (val.isArray()) {
                const QJsonArray link = val.toArray();
                if (link.size() != 2) {
                    errors.append(makeError(
                        QStringLiteral("bad_linked_input"),
                        QStringLiteral(
                            "Bad linked input, must be a length-2 list of [node_id, slot_index]"),
                        x,
                        {{QStringLiteral("input_name"), x},
                         {QStringLiteral("input_config"), info},
                         {QStringLiteral("received_value"), val}}));
                    continue;
                }
                const QJsonValue sourceId = link.at(0);
                if (!sourceId.isString() || !m_prompt.contains(sourceId.toString()))
                    throw PyError{
                        QStringLiteral("KeyError"), py::repr(sourceId), {kLinkKeyErrorFrame}};
                const QString source = sourceId.toString();
                const QString sourceClass =
                    m_prompt.value(source).toObject().value(QLatin1String("class_type")).toString();
                const NodeClass *sourceCls = m_catalog.nodeClass(sourceClass);
                const QStringList returnTypes = sourceCls ? sourceCls->outputTypes : QStringList();
                const QJsonValue slot = link.at(1);
                if (!isIntegral(slot)) {
                    throw PyError{QStringLiteral("TypeError"),
                                  QStringLiteral("tuple indices must be integers or slices, not ") +
                                      typeName(slot),
                                  {kReturnTypeFrame}};
                }
                qint64 index = slot.toInteger();
                if (index < 0)
                    index += returnTypes.size();
                if (index < 0 || index >= returnTypes.size()) {
                    throw PyError{QStringLiteral("IndexError"),
                                  QStringLiteral("tuple index out of range"),
                                  {kReturnTypeFrame}};
                }
                const QString receivedType = returnTypes.at(index);
                if (!typesMatch(receivedType, spec.type)) {
                    const QString expected =
                        spec.type.isString() ? spec.type.toString() : py::repr(spec.type);
                    errors.append(
                        makeError(QStringLiteral("return_type_mismatch"),
                                  QStringLiteral("Return type mismatch between linked nodes"),
                                  QStringLiteral("%1, received_type(%2) mismatch input_type(%3)")
                                      .arg(x, receivedType, expected),
                                  {{QStringLiteral("input_name"), x},
                                   {QStringLiteral("input_config"), info},
                                   {QStringLiteral("received_type"), receivedType},
                                   {QStringLiteral("linked_node"), val}}));
                    continue;
                }
                try {
                    const NodeResult r = validateInputs(source, depth + 1);
                    if (!r.valid) {
                        valid = false;
                        continue;
                    }
                } catch (const PyError &ex) {
                    valid = false;
                    QStringList traceback{kInnerValidateFrame};
                    traceback << ex.traceback;
                    QJsonObject extra{
                        {QStringLiteral("input_name"), x},
                        {QStringLiteral("input_config"), info},
                        {QStringLiteral("exception_message"), ex.message},
                        {QStringLiteral("exception_type"), ex.type},
                        {QStringLiteral("traceback"), QJsonArray::fromStringList(traceback)},
                        {QStringLiteral("linked_node"), val}};
                    setValidated(
                        source,
                        NodeResult{false,
                                   QJsonArray{makeError(
                                       QStringLiteral("exception_during_inner_validation"),
                                       QStringLiteral("Exception when validating inner node"),
                                       ex.message, extra)}});
                    continue;
                }
                continue;
            }

            // A widget value: convert it like the recorded version does.
            const QString type = spec.type.isString() ? spec.type.toString() : QString();
            const QJsonValue original = val;
            QString conversionError;
            std::optional<QJsonValue> result = val;
            if (type == QLatin1String("INT"))
                result = pyInt(val, &conversionError);
            else if (type == QLatin1String("FLOAT"))
                result = pyFloat(val, &conversionError);
            else if (type == QLatin1String("STRING"))
                result = QJsonValue(py::str(val));
            else if (type == QLatin1String("BOOLEAN"))
                result = QJsonValue(pyTruth(val));
            if (!result) {
                errors.append(makeError(
                    QStringLiteral("invalid_input_type"),
                    QStringLiteral("Failed to convert an input value to a %1 value").arg(type),
                    QStringLiteral("%1, %2, %3").arg(x, py::str(original), conversionError),
                    {{QStringLiteral("input_name"), x},
                     {QStringLiteral("input_config"), info},
                     {QStringLiteral("received_value"), original},
                     {QStringLiteral("exception_message"), conversionError}}));
                continue;
            }
            val = *result;
            if (val != original) {
                inputs.insert(x, val);
                converted = true;
            }

            if (cls->customValidation && x == QLatin1String("image"))
                continue; // VALIDATE_INPUTS(image) replaces the generic checks

            const bool isFloat = type == QLatin1String("FLOAT");
            const bool numeric = val.isDouble();
            if (numeric && spec.options.contains(QLatin1String("min")) &&
                val.toDouble() < spec.options.value(QLatin1String("min")).toDouble()) {
                errors.append(makeError(
                    QStringLiteral("value_smaller_than_min"),
                    QStringLiteral("Value %1 smaller than min of %2")
                        .arg(numberText(val, isFloat),
                             boundText(spec.options.value(QLatin1String("min")), isFloat)),
                    x,
                    {{QStringLiteral("input_name"), x},
                     {QStringLiteral("input_config"), info},
                     {QStringLiteral("received_value"), val}}));
                continue;
            }
            if (numeric && spec.options.contains(QLatin1String("max")) &&
                val.toDouble() > spec.options.value(QLatin1String("max")).toDouble()) {
                errors.append(makeError(
                    QStringLiteral("value_bigger_than_max"),
                    QStringLiteral("Value %1 bigger than max of %2")
                        .arg(numberText(val, isFloat),
                             boundText(spec.options.value(QLatin1String("max")), isFloat)),
                    x,
                    {{QStringLiteral("input_name"), x},
                     {QStringLiteral("input_config"), info},
                     {QStringLiteral("received_value"), val}}));
                continue;
            }
            if (spec.type.isArray()) {
                const QJsonArray allowed = m_catalog.allowedValues(spec);
                bool found = false;
                for (const QJsonValue &candidate : allowed) {
                    if (pyEqual(candidate, val)) {
                        found = true;
                        break;
                    }
                }
                if (!found) {
                    QString listInfo;
                    QJsonValue config = QJsonArray{allowed, spec.options};
                    if (allowed.size() > 20) {
                        listInfo = QStringLiteral("(list of length %1)").arg(allowed.size());
                        config = QJsonValue::Null;
                    } else {
                        listInfo = py::repr(allowed);
                    }
                    errors.append(makeError(
                        QStringLiteral("value_not_in_list"), QStringLiteral("Value not in list"),
                        QStringLiteral("%1: '%2' not in %3").arg(x, py::str(val), listInfo),
                        {{QStringLiteral("input_name"), x},
                         {QStringLiteral("input_config"), config},
                         {QStringLiteral("received_value"), val}}));
                    continue;
                }
            }
        }

        if (cls->customValidation) {
            // LoadImage.VALIDATE_INPUTS(image): the file must exist (input/, or annotated).
            const QJsonValue image = inputs.value(QLatin1String("image"));
            if (image.isUndefined()) {
                throw PyError{
                    QStringLiteral("TypeError"),
                    QStringLiteral(
                        "%1.VALIDATE_INPUTS() missing 1 required positional argument: 'image'")
                        .arg(classType),
                    {}};
            }
            if (!image.isArray()) {
                const QString name = py::str(image);
                const QString path = m_catalog.annotatedPath(name, QStringLiteral("input"));
                if (path.isEmpty() || !QFileInfo::exists(path)) {
                    errors.append(
                        makeError(QStringLiteral("custom_validation_failed"),
                                  QStringLiteral("Custom validation failed for node"),
                                  QStringLiteral("image - Invalid image file: %1").arg(name),
                                  {{QStringLiteral("input_name"), QStringLiteral("image")}}));
                }
            }
        }

        if (converted) {
            node.insert(QStringLiteral("inputs"), inputs);
            m_prompt.insert(id, node);
        }
        NodeResult result{errors.isEmpty() && valid, errors};
        setValidated(id, result);
        return result;
    }

private:
    QJsonObject m_prompt;
    const Catalog &m_catalog;
    QHash<QString, NodeResult> m_validated;
    QStringList m_order;
    QSet<QString> m_visiting;
};

QJsonObject promptError(const QString &type, const QString &message, const QString &details)
{
    return makeError(type, message, details, {});
}

} // namespace

ValidationResult validatePrompt(const QJsonObject &prompt, const QStringList &nodeOrder,
                                const Catalog &catalog)
{
    ValidationResult result;
    result.prompt = prompt;

    QStringList outputs;
    for (const QString &id : nodeOrder) {
        const QJsonObject node = prompt.value(id).toObject();
        if (!node.contains(QLatin1String("class_type"))) {
            result.error = promptError(
                QStringLiteral("invalid_prompt"),
                QStringLiteral("Cannot execute because a node is missing the class_type property."),
                QStringLiteral("Node ID '#%1'").arg(id));
            result.nodeErrors = QJsonArray();
            return result;
        }
        const QString classType = py::str(node.value(QLatin1String("class_type")));
        const NodeClass *cls = catalog.nodeClass(classType);
        if (!cls) {
            result.error = promptError(
                QStringLiteral("invalid_prompt"),
                QStringLiteral("Cannot execute because node %1 does not exist.").arg(classType),
                QStringLiteral("Node ID '#%1'").arg(id));
            result.nodeErrors = QJsonArray();
            return result;
        }
        if (cls->outputNode)
            outputs << id;
    }
    if (outputs.isEmpty()) {
        result.error = promptError(QStringLiteral("prompt_no_outputs"),
                                   QStringLiteral("Prompt has no outputs"), QString());
        result.nodeErrors = QJsonArray();
        return result;
    }

    Validator validator(prompt, catalog);
    QStringList good;
    QList<QPair<QString, QJsonArray>> failures;
    QJsonObject nodeErrors;
    QStringList nodeErrorOrder;
    for (const QString &output : std::as_const(outputs)) {
        bool valid = false;
        QJsonArray reasons;
        try {
            const NodeResult r = validator.validateInputs(output, 0);
            valid = r.valid;
            reasons = r.errors;
        } catch (const PyError &ex) {
            valid = false;
            QStringList traceback{kValidatePromptFrame};
            traceback << ex.traceback;
            reasons = QJsonArray{
                makeError(QStringLiteral("exception_during_validation"),
                          QStringLiteral("Exception when validating node"), ex.message,
                          {{QStringLiteral("exception_type"), ex.type},
                           {QStringLiteral("traceback"), QJsonArray::fromStringList(traceback)}})};
            validator.setValidated(output, NodeResult{false, reasons});
        }
        if (valid) {
            good << output;
            continue;
        }
        failures.append({output, reasons});
        // As in the recorded version: every invalid node validated so far gets this output in
        // its dependent_outputs.
        for (const QString &id : validator.validatedOrder()) {
            const NodeResult r = validator.validated(id);
            if (r.valid || r.errors.isEmpty())
                continue;
            QJsonObject entry = nodeErrors.value(id).toObject();
            if (entry.isEmpty()) {
                entry.insert(QStringLiteral("errors"), r.errors);
                entry.insert(QStringLiteral("dependent_outputs"), QJsonArray());
                entry.insert(QStringLiteral("class_type"),
                             prompt.value(id).toObject().value(QLatin1String("class_type")));
                nodeErrorOrder << id;
            }
            QJsonArray dependent = entry.value(QLatin1String("dependent_outputs")).toArray();
            dependent.append(output);
            entry.insert(QStringLiteral("dependent_outputs"), dependent);
            nodeErrors.insert(id, entry);
        }
    }

    result.prompt = validator.prompt();
    result.nodeErrors = nodeErrors;
    result.goodOutputs = good;
    if (good.isEmpty()) {
        QStringList lines;
        for (const auto &failure : std::as_const(failures)) {
            for (const QJsonValue &error : failure.second) {
                const QJsonObject e = error.toObject();
                lines << e.value(QLatin1String("message")).toString() + QStringLiteral(": ") +
                             e.value(QLatin1String("details")).toString();
            }
        }
        result.error = promptError(QStringLiteral("prompt_outputs_failed_validation"),
                                   QStringLiteral("Prompt outputs failed validation"),
                                   lines.join(QLatin1Char('\n')));
        return result;
    }
    result.ok = true;
    return result;
}

} // namespace simnode
