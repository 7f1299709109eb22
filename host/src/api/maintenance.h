// Maintenance mode: while enabled, every request but GET /health, GET /version and the admin
// endpoint below gets 503 {"status":"maintenance","message":...,"retry_after":N} with
// "Retry-After: N".
//
// Admin endpoint, authenticated with "Authorization: Bearer <admin token>":
//   GET  /v1/admin/maintenance  -> {"enabled":..., "message":..., "retry_after":N}
//   POST /v1/admin/maintenance  {"enabled": bool, "message"?: string, "retry_after"?: 1..86400}
// With an empty admin token both return 403 because the admin API is disabled.
//
// NOTE: the state lives in this process only. With several host instances behind one address,
// each instance must be switched on its own.
#pragma once

#include <mutex>
#include <string>
#include <utility>

#include "api/app.h"
#include "http/router.h"

namespace fiscal::api {

class MaintenanceMode {
 public:
  struct State {
    bool enabled = false;
    std::string message;  // empty: the 503 body uses a default message
    int retry_after_seconds = kDefaultRetryAfterSeconds;
  };

  static constexpr int kDefaultRetryAfterSeconds = 60;
  static constexpr int kMaxRetryAfterSeconds = 86400;
  static constexpr size_t kMaxMessageBytes = 500;

  // `admin_token` authenticates the admin endpoint. An empty token turns the admin endpoint off.
  explicit MaintenanceMode(std::string admin_token = "") : admin_token_(std::move(admin_token)) {}

  State Get() const;
  void Set(State state);

  // Returns true when `presented` equals the admin token, comparing in constant time. Always false
  // while the admin token is empty.
  bool CheckAdminToken(const std::string& presented) const;
  bool admin_enabled() const { return !admin_token_.empty(); }

 private:
  const std::string admin_token_;
  mutable std::mutex mutex_;
  State state_;
};

// Builds the middleware that returns 503 while `mode` is enabled. `mode` must outlive the router.
// Register it outermost, so that maintenance responses cost no database or Redis work.
http::Middleware MakeMaintenanceMiddleware(MaintenanceMode& mode);

// Adds GET and POST /v1/admin/maintenance. Uses app.maintenance. While it is null, both return 403.
void AddMaintenanceRoutes(App& app, http::Router& router);

// Checks "Authorization: Bearer <admin token>" for the admin API: 403 while the admin API is off
// (no admin_token configured), 401 for a missing or wrong token.
Status AuthenticateAdmin(const App& app, const http::Request& request);

}  // namespace fiscal::api
