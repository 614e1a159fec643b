#pragma once

#include "apiserver.h"
#include "cluster/node.h"

#include <functional>

namespace comfy::server {

// GET /cluster/nodes, POST /cluster/nodes, and POST
// /cluster/nodes/{delete,drain,disable,enable,labels}.
class ClusterController : public Controller {
public:
    ClusterController(ApiServer &server, Router &router);

private:
    ApiReply list(const ApiRequest &request);
    ApiReply add(const ApiRequest &request);
    ApiReply remove(const ApiRequest &request);
    ApiReply drain(const ApiRequest &request);
    ApiReply disable(const ApiRequest &request);
    ApiReply enable(const ApiRequest &request);
    ApiReply labels(const ApiRequest &request);
    // {"url", ...} -> the action on that node -> the node, or its error.
    ApiReply
    control(const ApiRequest &request,
            const std::function<Result<NodeInfo>(const QString &, const QJsonObject &)> &action);

    Router &m_router;
};

} // namespace comfy::server
