// POST /v1/accounts (public), POST and GET /v1/api-keys.
#include "api/app.h"
#include "api/auth.h"
#include "api/input.h"
#include "api/views.h"

namespace fiscal::api {
namespace {

bool LooksLikeEmail(const std::string& email) {
  size_t at = email.find('@');
  return at != std::string::npos && at > 0 && email.find('.', at) != std::string::npos && email.back() != '.' &&
         email.find(' ') == std::string::npos && email.find('@', at + 1) == std::string::npos;
}

http::Response CreateAccount(App& app, http::Request& request) {
  Result<json::Node> body = json::Parse(request.body);
  if (!body.ok()) return http::ErrorResponse(body.status());
  if (!body->IsObject()) return http::ErrorResponse(Status::InvalidArgument("", "the request body must be a JSON object"));

  auto name = ReadString(*body, "name", "", 100, true);
  if (!name.ok()) return http::ErrorResponse(name.status());
  auto email = ReadString(*body, "billing_email", "", 254, true);
  if (!email.ok()) return http::ErrorResponse(email.status());
  if (!LooksLikeEmail(**email)) {
    return http::ErrorResponse(Status::InvalidArgument("billing_email", "billing_email must be a valid email address"));
  }

  NewApiKey key = GenerateApiKey("test");
  auto created = app.accounts->CreateAccount(**name, **email, key.hash, key.prefix);
  if (!created.ok()) return http::ErrorResponse(created.status());
  return http::Response::Json(201, "{\"account\":" + AccountJson(created->first) + ",\"api_key\":" +
                                       ApiKeyJson(created->second, key.key) + "}");
}

http::Response CreateApiKey(App& app, http::Request& request) {
  auto principal = Authenticate(app, request);
  if (!principal.ok()) return http::ErrorResponse(principal.status());
  if (principal->key_type != "root") {
    return http::ErrorResponse(Status::PermissionDenied("only root keys can create API keys"));
  }

  Result<json::Node> body = json::Parse(request.body);
  if (!body.ok()) return http::ErrorResponse(body.status());
  if (!body->IsObject()) return http::ErrorResponse(Status::InvalidArgument("", "the request body must be a JSON object"));
  auto environment = ReadString(*body, "environment", "", 8, true);
  if (!environment.ok()) return http::ErrorResponse(environment.status());
  if (**environment != "test" && **environment != "live") {
    return http::ErrorResponse(Status::InvalidArgument("environment", "environment must be 'test' or 'live'"));
  }
  if (**environment == "live" && !app.config->live_mode_enabled) {
    return http::ErrorResponse(Status::PermissionDenied("live mode is not enabled on this server, so live keys cannot be created"));
  }
  auto name = ReadString(*body, "name", "", 100, false);
  if (!name.ok()) return http::ErrorResponse(name.status());
  if (body->Find("permissions") != nullptr) {
    // NOTE: restricted keys with per-resource permissions are not implemented; refusing is safer
    // than silently creating a root key.
    return http::ErrorResponse(Status::InvalidArgument("permissions", "restricted keys are not supported yet; omit permissions to create a root key"));
  }

  NewApiKey key = GenerateApiKey(**environment);
  auto created = app.accounts->CreateApiKey(principal->account_id, **environment, name->value_or(""), key.hash,
                                            key.prefix);
  if (!created.ok()) return http::ErrorResponse(created.status());
  return http::Response::Json(201, ApiKeyJson(*created, key.key));
}

http::Response ListApiKeys(App& app, http::Request& request) {
  auto principal = Authenticate(app, request);
  if (!principal.ok()) return http::ErrorResponse(principal.status());
  auto keys = app.accounts->ListApiKeys(principal->account_id);
  if (!keys.ok()) return http::ErrorResponse(keys.status());

  // A bare array, as in the Zyntem v1 API.
  std::string out = "[";
  for (size_t i = 0; i < keys->size(); ++i) out += (i > 0 ? "," : "") + ApiKeyJson((*keys)[i], "");
  return http::Response::Json(200, out + "]");
}

}  // namespace

void AddAccountRoutes(App& app, http::Router& router) {
  router.Add("POST", "/v1/accounts", [&app](http::Request& r) { return CreateAccount(app, r); });
  router.Add("POST", "/v1/api-keys", [&app](http::Request& r) { return CreateApiKey(app, r); });
  router.Add("GET", "/v1/api-keys", [&app](http::Request& r) { return ListApiKeys(app, r); });
}

}  // namespace fiscal::api
