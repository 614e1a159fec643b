#pragma once

#include "apiserver.h"

namespace comfy::server {

// GET /cluster/nodes, POST /cluster/nodes, POST /cluster/nodes/delete.
class ClusterController : public Controller {
public:
    ClusterController(ApiServer &server, Router &router);

private:
    ApiReply list(const ApiRequest &request);
    ApiReply add(const ApiRequest &request);
    ApiReply remove(const ApiRequest &request);

    Router &m_router;
};

} // namespace comfy::server
