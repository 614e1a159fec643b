#pragma once

#include "config/settings.h"

#include <QProcessEnvironment>
#include <QStringList>

#include <functional>
#include <vector>

namespace comfy {

// One row per setting: its environment variable, its flag, and how to parse it. The same
// table drives parsing, --help and the README's configuration table.
struct SettingSpec {
    QString env;       // COMFY_ROUTER__... (empty for command-line-only switches)
    QString flag;      // long option without the dashes
    QString valueName; // empty for a switch without value
    QString description;
    std::function<QString(Settings &, const QString &)> apply; // returns an error or ""
    std::function<QString(const Settings &)> show;             // the value, for docs and logs
};

struct LoadResult {
    enum class Action { Run, ShowHelp, ShowVersion, Fail };
    Action action = Action::Run;
    Settings settings;
    QString text; // the help/version text, or the error naming the variable or flag
};

class SettingsLoader {
public:
    static const std::vector<SettingSpec> &specs();
    // Environment first, then flags (a flag wins over its variable).
    static LoadResult load(const QStringList &arguments, const QProcessEnvironment &environment);
    static QString helpText();
    static QString markdownTable(); // for the README
};

} // namespace comfy
