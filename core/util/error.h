#pragma once

#include <QString>

#include <optional>
#include <variant>

namespace comfy {

// What went wrong, in domain terms. The HTTP face maps each kind to a status in one place
// (server/apierror.cpp); the core never speaks HTTP.
struct Error {
    enum class Kind { Invalid, NotFound, Conflict, QueueFull, Unavailable, Internal };
    Kind kind = Kind::Internal;
    QString message;
    QString field; // the offending request field, for Invalid

    static Error invalid(const QString &field, const QString &message)
    {
        return {Kind::Invalid, message, field};
    }
    static Error notFound(const QString &message) { return {Kind::NotFound, message, {}}; }
    static Error conflict(const QString &message) { return {Kind::Conflict, message, {}}; }
};

// A value or an error.
template<typename T> class Result {
public:
    Result(T value)
        : m_value(std::move(value))
    {
    }
    Result(Error error)
        : m_value(std::move(error))
    {
    }
    bool ok() const { return std::holds_alternative<T>(m_value); }
    explicit operator bool() const { return ok(); }
    const T &value() const { return std::get<T>(m_value); }
    T &value() { return std::get<T>(m_value); }
    const Error &error() const { return std::get<Error>(m_value); }

private:
    std::variant<T, Error> m_value;
};

} // namespace comfy
