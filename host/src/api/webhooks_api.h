// Webhook endpoints: /v1/webhooks and its sub-resources.
#pragma once

#include "api/app.h"
#include "http/router.h"

namespace fiscal::api {

// Adds POST and GET /v1/webhooks, GET, PATCH and DELETE /v1/webhooks/:id,
// POST /v1/webhooks/:id/rotate-secret and GET /v1/webhooks/:id/deliveries. They return 503 while
// app.webhooks is null.
void AddWebhookRoutes(App& app, http::Router& router);

}  // namespace fiscal::api
