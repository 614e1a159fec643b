#pragma once

#include "apiserver.h"

namespace comfy::server {

// GET /cache and DELETE /cache?url=.
class CacheController : public Controller {
public:
    CacheController(ApiServer &server, Router &router);

private:
    ApiReply list(const ApiRequest &request);
    ApiReply evict(const ApiRequest &request);

    Router &m_router;
};

} // namespace comfy::server
