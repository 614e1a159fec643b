#pragma once

#include <QByteArray>

#include <memory>

namespace comfy {

// Incremental SHA-256 over OpenSSL's digest API. Qt 6.4's QCryptographicHash runs at about a
// tenth of OpenSSL's speed here, which made hashing, not the network, the bottleneck of a
// multi-gigabyte model download (see bench/download.sh).
class Sha256 {
public:
    Sha256();
    ~Sha256();
    Sha256(const Sha256 &) = delete;
    Sha256 &operator=(const Sha256 &) = delete;

    void reset();
    void addData(const QByteArray &bytes);
    QByteArray hexResult(); // lower-case hex; ends this round (reset() for another)

private:
    struct Context;
    std::unique_ptr<Context> m_context;
};

} // namespace comfy
