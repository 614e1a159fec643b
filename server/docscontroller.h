#pragma once

#include "apiserver.h"

#include <QByteArray>

namespace comfy::server {

// GET /api-docs/openapi.json (the OpenAPI document) and GET /doc (the page that renders it),
// both from the binary's resources and behind Basic auth.
class DocsController : public Controller {
public:
    explicit DocsController(ApiServer &server);

private:
    QByteArray m_openApi;
    QByteArray m_page;
};

} // namespace comfy::server
