#pragma once

#include "apiserver.h"
#include "bodycache.h"

namespace comfy::server {

// POST /workflow, GET /workflow[/{id}[/images/{n}]], POST /workflow/{id}/cancel and the
// public GET /preview/{id}.
class WorkflowController : public Controller {
public:
    WorkflowController(ApiServer &server, Router &router);

private:
    ApiReply submit(const ApiRequest &request);
    ApiReply list(const ApiRequest &request);
    ApiReply status(const ApiRequest &request);
    ApiReply image(const ApiRequest &request);
    ApiReply cancel(const ApiRequest &request);
    ApiReply preview(const ApiRequest &request);

    Router &m_router;
    BodyCache m_finishedTasks; // GET /workflow/{id} answers of finished tasks (immutable)
};

} // namespace comfy::server
