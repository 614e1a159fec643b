#pragma once

#include "apiserver.h"

namespace comfy::server {

// GET /health_check: the router process answers (no auth).
class HealthController : public Controller {
public:
    explicit HealthController(ApiServer &server);
};

} // namespace comfy::server
