#pragma once

#include <QObject>
#include <QSocketNotifier>

#include <memory>

namespace comfy {

// Turns SIGTERM and SIGINT into a Qt signal, delivered from the event loop (a signal handler
// may only write to a pipe): the app then stops accepting work and exits; every accepted task
// is already on disk, and the next start continues.
class SignalWatcher : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SignalWatcher)
public:
    explicit SignalWatcher(QObject *parent = nullptr);
    ~SignalWatcher() override;

Q_SIGNALS:
    void stopRequested(int signal);

private:
    std::unique_ptr<QSocketNotifier> m_notifier;
};

} // namespace comfy
