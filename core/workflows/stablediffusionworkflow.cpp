#include "workflows/stablediffusionworkflow.h"

namespace comfy {

Result<BuiltWorkflow> StableDiffusionWorkflow::build(const QJsonObject &, Variant,
                                                     const ObjectInfo &)
{
    return Error{Error::Kind::Unavailable,
                 QStringLiteral("type: SD15 and SDXL workflows are not available yet; use Raw"),
                 QStringLiteral("type")};
}

} // namespace comfy
