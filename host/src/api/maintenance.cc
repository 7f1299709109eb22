#include "api/maintenance.h"

#include <openssl/crypto.h>

#include <cctype>

#include "api/auth.h"
#include "api/input.h"
#include "common/json.h"
#include "common/json_tree.h"
#include "common/log.h"

namespace fiscal::api {
namespace {

using json::Quote;

constexpr const char* kAdminPath = "/v1/admin/maintenance";
constexpr const char* kDefaultMessage = "the server is under maintenance; retry later";

// Drops trailing slashes, as the router ignores empty segments.
std::string TrimTrailingSlashes(const std::string& path) {
  size_t end = path.find_last_not_of('/');
  return end == std::string::npos ? "/" : path.substr(0, end + 1);
}

bool IsExempt(const http::Request& request) {
  std::string path = TrimTrailingSlashes(request.path);
  // Operators must reach every admin endpoint (plugins, maintenance) during maintenance.
  if (path.rfind("/v1/admin/", 0) == 0) return true;
  return request.method == "GET" && (path == "/health" || path == "/version");
}

std::string StateJson(const MaintenanceMode::State& state) {
  return "{\"enabled\":" + std::string(state.enabled ? "true" : "false") + ",\"message\":" + Quote(state.message) +
         ",\"retry_after\":" + std::to_string(state.retry_after_seconds) + "}";
}

Result<MaintenanceMode::State> ParseState(const std::string& text) {
  Result<json::Node> body = json::Parse(text);
  if (!body.ok()) return body.status();
  if (!body->IsObject()) return Status::InvalidArgument("", "the request body must be a JSON object");

  // An admin typo such as "retry-after" must not be ignored silently.
  for (const auto& member : body->members()) {
    if (member.first != "enabled" && member.first != "message" && member.first != "retry_after") {
      return Status::InvalidArgument(member.first, "unknown field " + member.first +
                                                       "; the fields are enabled, message and retry_after");
    }
  }

  MaintenanceMode::State state;
  const json::Node* enabled = body->Find("enabled");
  if (enabled == nullptr || enabled->IsNull()) return Status::InvalidArgument("enabled", "enabled is required");
  if (!enabled->IsBool()) {
    return Status::InvalidArgument("enabled",
                                   std::string("enabled must be true or false, not ") + json::Node::TypeName(enabled->type()));
  }
  state.enabled = enabled->boolean();

  auto message = ReadString(*body, "message", "", MaintenanceMode::kMaxMessageBytes, false);
  if (!message.ok()) return message.status();
  state.message = message->value_or("");

  const json::Node* retry_after = body->Find("retry_after");
  if (retry_after != nullptr && !retry_after->IsNull()) {
    if (!retry_after->IsNumber()) {
      return Status::InvalidArgument("retry_after", std::string("retry_after must be a whole number of seconds, not ") +
                                                        json::Node::TypeName(retry_after->type()));
    }
    Result<int> seconds = ReadIntParam(retry_after->text(), "retry_after", MaintenanceMode::kDefaultRetryAfterSeconds,
                                       1, MaintenanceMode::kMaxRetryAfterSeconds);
    if (!seconds.ok()) return seconds.status();
    state.retry_after_seconds = *seconds;
  }
  return state;
}

http::Response GetMaintenance(App& app, http::Request& request) {
  Status admin = AuthenticateAdmin(app, request);
  if (!admin.ok()) return http::ErrorResponse(admin);
  return http::Response::Json(200, StateJson(app.maintenance->Get()));
}

http::Response SetMaintenance(App& app, http::Request& request) {
  Status admin = AuthenticateAdmin(app, request);
  if (!admin.ok()) return http::ErrorResponse(admin);

  Result<MaintenanceMode::State> state = ParseState(request.body);
  if (!state.ok()) return http::ErrorResponse(state.status());

  app.maintenance->Set(*state);
  if (state->enabled) {
    log::Warning("maintenance mode enabled", {{"request_id", request.request_id},
                                              {"retry_after", std::to_string(state->retry_after_seconds)}});
  } else {
    log::Info("maintenance mode disabled", {{"request_id", request.request_id}});
  }
  return http::Response::Json(200, StateJson(*state));
}

}  // namespace

// Checks "Authorization: Bearer <admin token>". 403 while the admin API is off, 401 for a missing or
// wrong token.
Status AuthenticateAdmin(const App& app, const http::Request& request) {
  if (app.maintenance == nullptr || !app.maintenance->admin_enabled()) {
    return Status::PermissionDenied("admin API disabled; set admin_token in the host configuration to enable it");
  }
  // The scheme name is case-insensitive (RFC 9110, section 11.1), as in Authenticate.
  std::string header = request.Header("authorization");
  const std::string bearer = "bearer ";
  std::string scheme = header.substr(0, bearer.size());
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (header.size() <= bearer.size() || scheme != bearer) {
    return Status::Unauthenticated("missing or invalid Authorization header; send \"Authorization: Bearer <admin token>\"");
  }
  if (!app.maintenance->CheckAdminToken(header.substr(bearer.size()))) {
    return Status::Unauthenticated("invalid admin token");
  }
  return Status::Ok();
}


MaintenanceMode::State MaintenanceMode::Get() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return state_;
}

void MaintenanceMode::Set(State state) {
  std::lock_guard<std::mutex> lock(mutex_);
  state_ = std::move(state);
}

bool MaintenanceMode::CheckAdminToken(const std::string& presented) const {
  if (admin_token_.empty()) return false;

  // Comparing digests keeps the time independent of where the strings differ and of their lengths.
  std::string expected = Sha256Hex(admin_token_);
  std::string actual = Sha256Hex(presented);
  return CRYPTO_memcmp(expected.data(), actual.data(), expected.size()) == 0;
}

http::Middleware MakeMaintenanceMiddleware(MaintenanceMode& mode) {
  return [&mode](http::Request& request, const http::Handler& next) {
    if (IsExempt(request)) return next(request);
    MaintenanceMode::State state = mode.Get();
    if (!state.enabled) return next(request);

    std::string message = state.message.empty() ? kDefaultMessage : state.message;
    std::string retry_after = std::to_string(state.retry_after_seconds);
    http::Response response = http::Response::Json(
        503, "{\"status\":\"maintenance\",\"message\":" + Quote(message) + ",\"retry_after\":" + retry_after + "}");
    response.headers.emplace_back("Retry-After", retry_after);
    return response;
  };
}

void AddMaintenanceRoutes(App& app, http::Router& router) {
  router.Add("GET", kAdminPath, [&app](http::Request& r) { return GetMaintenance(app, r); });
  router.Add("POST", kAdminPath, [&app](http::Request& r) { return SetMaintenance(app, r); });
}

}  // namespace fiscal::api
