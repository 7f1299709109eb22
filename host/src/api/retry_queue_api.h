// GET /v1/retry-queue and GET /v1/retry-queue/stats: the account's outbox entries, as clients see
// the queue of records waiting for (or done with) the authority.
#pragma once

#include "api/app.h"
#include "http/router.h"

namespace fiscal::api {

// Adds the retry queue routes. Uses app.database and app.accounts (for authentication).
void AddRetryQueueRoutes(App& app, http::Router& router);

}  // namespace fiscal::api
