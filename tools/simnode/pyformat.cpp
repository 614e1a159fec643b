#include "pyformat.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <charconv>
#include <cmath>
#include <limits>

namespace simnode::py {

QString stringRepr(const QString &text)
{
    // Python prefers single quotes, and uses double quotes when the text has a single quote
    // and no double quote.
    const bool useDouble = text.contains(QLatin1Char('\'')) && !text.contains(QLatin1Char('"'));
    const QChar quote = useDouble ? QLatin1Char('"') : QLatin1Char('\'');
    QString out;
    out.reserve(text.size() + 2);
    out += quote;
    for (const QChar c : text) {
        if (c == quote || c == QLatin1Char('\\')) {
            out += QLatin1Char('\\');
            out += c;
        } else if (c == QLatin1Char('\n')) {
            out += QStringLiteral("\\n");
        } else if (c == QLatin1Char('\r')) {
            out += QStringLiteral("\\r");
        } else if (c == QLatin1Char('\t')) {
            out += QStringLiteral("\\t");
        } else if (c.unicode() < 0x20 || c.unicode() == 0x7f) {
            out += QStringLiteral("\\x%1").arg(c.unicode(), 2, 16, QLatin1Char('0'));
        } else {
            out += c;
        }
    }
    out += quote;
    return out;
}

QString floatRepr(double value)
{
    if (std::isnan(value))
        return QStringLiteral("nan");
    if (std::isinf(value))
        return value > 0 ? QStringLiteral("inf") : QStringLiteral("-inf");
    char buf[64];
    const double magnitude = std::fabs(value);
    const bool scientific = magnitude != 0.0 && (magnitude < 1e-4 || magnitude >= 1e16);
    const auto result =
        std::to_chars(buf, buf + sizeof buf, value,
                      scientific ? std::chars_format::scientific : std::chars_format::fixed);
    QString text = QString::fromLatin1(buf, int(result.ptr - buf));
    if (scientific) {
        // to_chars writes 1e-05 like Python, but 1e+16 without a sign for positive exponents
        // on some libraries: normalize to Python's two-digit signed exponent.
        const qsizetype e = text.indexOf(QLatin1Char('e'));
        if (e >= 0) {
            QString mantissa = text.left(e);
            QString exponent = text.mid(e + 1);
            QChar sign = QLatin1Char('+');
            if (exponent.startsWith(QLatin1Char('-')) || exponent.startsWith(QLatin1Char('+'))) {
                sign = exponent.at(0);
                exponent = exponent.mid(1);
            }
            while (exponent.size() < 2)
                exponent.prepend(QLatin1Char('0'));
            text = mantissa + QLatin1Char('e') + sign + exponent;
        }
        return text;
    }
    if (!text.contains(QLatin1Char('.')))
        text += QStringLiteral(".0");
    return text;
}

QString intRepr(double value)
{
    if (std::isnan(value) || std::isinf(value))
        return floatRepr(value);
    // 2^64 is what 18446744073709551615 (ComfyUI's seed maximum) becomes as a double.
    if (value >= 18446744073709551615.0)
        return QStringLiteral("18446744073709551615");
    if (value >= 0 && value >= double(std::numeric_limits<qint64>::max()))
        return QString::number(quint64(value));
    return QString::number(qint64(value));
}

QString repr(const QJsonValue &value)
{
    switch (value.type()) {
    case QJsonValue::Null:
    case QJsonValue::Undefined:
        return QStringLiteral("None");
    case QJsonValue::Bool:
        return value.toBool() ? QStringLiteral("True") : QStringLiteral("False");
    case QJsonValue::Double: {
        const QVariant v = value.toVariant();
        if (v.typeId() == QMetaType::LongLong)
            return QString::number(v.toLongLong());
        const double d = value.toDouble();
        return floatRepr(d);
    }
    case QJsonValue::String:
        return stringRepr(value.toString());
    case QJsonValue::Array: {
        QStringList parts;
        const QJsonArray array = value.toArray();
        for (const QJsonValue &item : array)
            parts << repr(item);
        return QLatin1Char('[') + parts.join(QStringLiteral(", ")) + QLatin1Char(']');
    }
    case QJsonValue::Object: {
        QStringList parts;
        const QJsonObject object = value.toObject();
        for (auto it = object.begin(); it != object.end(); ++it)
            parts << stringRepr(it.key()) + QStringLiteral(": ") + repr(it.value());
        return QLatin1Char('{') + parts.join(QStringLiteral(", ")) + QLatin1Char('}');
    }
    }
    return QString();
}

QString str(const QJsonValue &value)
{
    if (value.isString())
        return value.toString();
    return repr(value);
}

const KeyTree *KeyTree::child(const QString &key) const
{
    // The last occurrence wins for duplicate keys (the value QJsonDocument keeps), the
    // position is the first one (Python's dict keeps the first position).
    const qsizetype index = keys.indexOf(key);
    if (index < 0 || size_t(index) >= children.size())
        return nullptr;
    return &children[size_t(index)];
}

namespace {

class Scanner {
public:
    explicit Scanner(const QByteArray &text)
        : m_text(text)
    {
    }

    bool document(KeyTree *tree)
    {
        skipSpace();
        if (!value(tree))
            return false;
        skipSpace();
        return m_pos == m_text.size();
    }

private:
    bool value(KeyTree *tree)
    {
        skipSpace();
        if (m_pos >= m_text.size())
            return false;
        const char c = m_text.at(m_pos);
        if (c == '{')
            return object(tree);
        if (c == '[')
            return array(tree);
        if (c == '"') {
            QString ignored;
            return string(&ignored);
        }
        return scalar();
    }

    bool object(KeyTree *tree)
    {
        ++m_pos; // {
        skipSpace();
        if (peek() == '}') {
            ++m_pos;
            return true;
        }
        while (true) {
            skipSpace();
            QString key;
            if (!string(&key))
                return false;
            skipSpace();
            if (peek() != ':')
                return false;
            ++m_pos;
            KeyTree child;
            if (!value(&child))
                return false;
            if (tree) {
                const qsizetype existing = tree->keys.indexOf(key);
                if (existing >= 0) {
                    tree->children[size_t(existing)] = std::move(child);
                } else {
                    tree->keys << key;
                    tree->children.push_back(std::move(child));
                }
            }
            skipSpace();
            const char c = peek();
            ++m_pos;
            if (c == '}')
                return true;
            if (c != ',')
                return false;
        }
    }

    bool array(KeyTree *tree)
    {
        ++m_pos; // [
        skipSpace();
        if (peek() == ']') {
            ++m_pos;
            return true;
        }
        while (true) {
            KeyTree child;
            if (!value(tree ? &child : nullptr))
                return false;
            if (tree) {
                tree->keys << QString::number(tree->keys.size());
                tree->children.push_back(std::move(child));
            }
            skipSpace();
            const char c = peek();
            ++m_pos;
            if (c == ']')
                return true;
            if (c != ',')
                return false;
        }
    }

    bool string(QString *out)
    {
        if (peek() != '"')
            return false;
        ++m_pos;
        QByteArray raw;
        while (m_pos < m_text.size()) {
            const char c = m_text.at(m_pos++);
            if (c == '"') {
                *out = decode(raw);
                return true;
            }
            raw += c;
            if (c == '\\') {
                if (m_pos >= m_text.size())
                    return false;
                raw += m_text.at(m_pos++);
            }
        }
        return false;
    }

    static QString decode(const QByteArray &raw)
    {
        if (!raw.contains('\\'))
            return QString::fromUtf8(raw);
        // Let the real parser decode escapes: wrap the string in an array.
        const QJsonDocument doc = QJsonDocument::fromJson("[\"" + raw + "\"]");
        return doc.array().at(0).toString();
    }

    bool scalar()
    {
        const qsizetype start = m_pos;
        while (m_pos < m_text.size()) {
            const char c = m_text.at(m_pos);
            if (c == ',' || c == '}' || c == ']' || c == ' ' || c == '\n' || c == '\r' || c == '\t')
                break;
            ++m_pos;
        }
        return m_pos > start;
    }

    void skipSpace()
    {
        while (m_pos < m_text.size()) {
            const char c = m_text.at(m_pos);
            if (c != ' ' && c != '\n' && c != '\r' && c != '\t')
                break;
            ++m_pos;
        }
    }

    char peek() const { return m_pos < m_text.size() ? m_text.at(m_pos) : '\0'; }

    const QByteArray &m_text;
    qsizetype m_pos = 0;
};

} // namespace

bool scanKeyOrder(const QByteArray &json, KeyTree *tree)
{
    Scanner scanner(json);
    return scanner.document(tree);
}

} // namespace simnode::py
