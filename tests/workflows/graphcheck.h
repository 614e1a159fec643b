#pragma once

#include <QJsonObject>
#include <QString>
#include <QStringList>

namespace graphcheck {

// An independent check of a ComfyUI API-format graph against an object_info document, written
// for the tests from ComfyUI's rules (not shared with the router or the simulated node):
// every class exists; every required input is given and no undeclared one; a link names a
// node of the graph, an output index below that class's output count, and an output of the
// input's type; list values are allowed (lists of files: the file exists under `rootDir` in
// the folder ComfyUI reads for that input); INT/FLOAT values are numbers in range (INT whole),
// STRING strings, BOOLEAN booleans; no cycle; every node feeds an output node. `extraClasses`
// may be missing from object_info (a caller-named preprocessor). Returns the problems found.
QStringList check(const QJsonObject &graph, const QJsonObject &objectInfo, const QString &rootDir,
                  const QStringList &extraClasses = {});

// The object_info document shipped with the router (resources/comfyui/object_info.json),
// read from the source tree.
QJsonObject objectInfo();

} // namespace graphcheck
