// Admin API for plugins: GET /v1/admin/plugins and POST /v1/admin/plugins/{name}/reload.
#pragma once

#include "api/app.h"
#include "http/router.h"

namespace fiscal::api {

void AddPluginAdminRoutes(App& app, http::Router& router);

}  // namespace fiscal::api
