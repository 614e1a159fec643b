#include "workflows/fluxworkflow.h"

namespace comfy {

Result<BuiltWorkflow> FluxWorkflow::build(const QJsonObject &, const ObjectInfo &)
{
    return Error{Error::Kind::Unavailable,
                 QStringLiteral("type: Flux workflows are not available yet; use Raw"),
                 QStringLiteral("type")};
}

} // namespace comfy
