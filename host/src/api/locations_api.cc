// POST and GET /v1/locations, GET /v1/locations/{id}.
#include "api/app.h"
#include "keys/key_store.h"
#include "api/auth.h"
#include "api/input.h"
#include "api/views.h"
#include "common/json.h"
#include "common/json_tree.h"

namespace fiscal::api {
namespace {

http::Response CreateLocation(App& app, http::Request& request) {
  auto principal = Authenticate(app, request);
  if (!principal.ok()) return http::ErrorResponse(principal.status());

  Result<json::Node> body = json::Parse(request.body);
  if (!body.ok()) return http::ErrorResponse(body.status());
  if (!body->IsObject()) return http::ErrorResponse(Status::InvalidArgument("", "the request body must be a JSON object"));

  auto name = ReadString(*body, "name", "", 255, true);
  if (!name.ok()) return http::ErrorResponse(name.status());
  auto country = ReadString(*body, "country", "", 2, true);
  if (!country.ok()) return http::ErrorResponse(country.status());
  auto address = ReadString(*body, "address", "", 500, false);
  if (!address.ok()) return http::ErrorResponse(address.status());
  auto tax_id = ReadString(*body, "tax_id", "", 50, false);
  if (!tax_id.ok()) return http::ErrorResponse(tax_id.status());

  const json::Node* country_config = body->Find("country_config");
  if (country_config != nullptr && !country_config->IsNull() && !country_config->IsObject()) {
    return http::ErrorResponse(Status::InvalidArgument("country_config", "country_config must be an object"));
  }
  std::string system;
  if (country_config != nullptr && country_config->IsObject()) {
    auto configured = ReadString(*country_config, "system", "country_config", 32, false);
    if (!configured.ok()) return http::ErrorResponse(configured.status());
    system = configured->value_or("");
  }
  if (system.empty()) {
    return http::ErrorResponse(Status::InvalidArgument(
        "country_config.system", "country_config.system is required: it names the fiscal system of the location, "
                                 "e.g. {\"system\": \"verifactu\"} for Spain"));
  }

  // The plugin serving (country, system) checks and normalises the configuration.
  std::shared_ptr<const plugins::LoadedPlugin> plugin = app.plugins->FindFor(**country, system);
  if (!plugin) {
    return http::ErrorResponse(Status::InvalidArgument(
        "country_config.system", "no plugin for country " + **country + " and system \"" + system +
                                     "\" is loaded on this server; see GET /health for the loaded plugins"));
  }
  plugins::CallContext context;
  context.request_id = request.request_id;
  context.account_id = principal->account_id;
  context.environment = principal->environment;
  plugins::CallOutcome outcome = plugin->ValidateLocation(country_config->ToJson(), context);
  if (!outcome.ok()) {
    Status status = outcome.ToStatus("validate_location");
    if (status.code() == StatusCode::kInvalidArgument && status.field().rfind("country_config", 0) != 0) {
      status = Status::InvalidArgument(JoinPath("country_config", status.field()), status.message());
    }
    return http::ErrorResponse(status);
  }

  Result<json::Node> validated = json::Parse(outcome.result, "validate_location result");
  const json::Node* config = validated.ok() ? validated->Find("config") : nullptr;
  const json::Node* chain_key = validated.ok() ? validated->Find("chain_key") : nullptr;
  if (config == nullptr || !config->IsObject() || chain_key == nullptr || !chain_key->IsString() ||
      chain_key->text().empty()) {
    return http::ErrorResponse(Status::Internal("plugin " + plugin->descriptor().name +
                                                " returned a malformed validate_location result"));
  }

  store::LocationRow row;
  row.account_id = principal->account_id;
  row.name = **name;
  row.country = **country;
  row.address = address->value_or("");
  row.tax_id = tax_id->value_or("");
  row.country_config = config->ToJson();
  row.plugin_name = plugin->descriptor().name;
  row.chain_key = chain_key->text();
  const json::Node* issuer_key = validated->Find("issuer_key");
  row.issuer_key = issuer_key != nullptr && issuer_key->IsString() && !issuer_key->text().empty() ? issuer_key->text()
                                                                                                 : row.chain_key;
  // The location's profile: what the plugin declares about its records, kept for later operations.
  std::string profile;
  for (const char* member : {"signing_key", "features", "submission", "time_zone"}) {
    const json::Node* node = validated->Find(member);
    if (node == nullptr) continue;
    profile += std::string(profile.empty() ? "" : ",") + json::Quote(member) + ":" + node->ToJson();
  }
  row.profile = "{" + profile + "}";

  // A register that signs its own records gets its key before its first record.
  const json::Node* signing_key = validated->Find("signing_key");
  if (signing_key != nullptr && signing_key->IsString()) {
    if (app.keys == nullptr) {
      return http::ErrorResponse(Status::Unavailable("this server has no signing key store configured; the "
                                                     "operator must set signing_keys.directory"));
    }
    Status key = app.keys->EnsureKey(principal->account_id, signing_key->text());
    if (!key.ok()) return http::ErrorResponse(key);
    // The location keeps the key's id, so that a key file replaced later is caught before it signs.
    auto key_id = app.keys->KeyIdOf(principal->account_id, signing_key->text());
    if (!key_id.ok()) return http::ErrorResponse(key_id.status());
    row.profile.pop_back();
    row.profile += std::string(row.profile.size() > 1 ? "," : "") + "\"signing_key_id\":" + json::Quote(*key_id) + "}";
  }

  auto created = app.accounts->CreateLocation(row);
  if (!created.ok()) return http::ErrorResponse(created.status());
  return http::Response::Json(201, LocationJson(*created));
}

http::Response GetLocation(App& app, http::Request& request) {
  auto principal = Authenticate(app, request);
  if (!principal.ok()) return http::ErrorResponse(principal.status());
  std::string id = request.Param("id");
  if (!IsUuid(id)) return http::ErrorResponse(Status::NotFound("location " + id + " not found"));
  auto location = app.accounts->GetLocation(principal->account_id, id);
  if (!location.ok()) return http::ErrorResponse(location.status());
  return http::Response::Json(200, LocationJson(*location));
}

http::Response ListLocations(App& app, http::Request& request) {
  auto principal = Authenticate(app, request);
  if (!principal.ok()) return http::ErrorResponse(principal.status());
  auto limit = ReadIntParam(request.Query("limit"), "limit", 20, 1, 100);
  if (!limit.ok()) return http::ErrorResponse(limit.status());
  auto offset = ReadIntParam(request.Query("offset"), "offset", 0, 0, 10000);
  if (!offset.ok()) return http::ErrorResponse(offset.status());

  long total = 0;
  auto locations = app.accounts->ListLocations(principal->account_id, *limit, *offset, total);
  if (!locations.ok()) return http::ErrorResponse(locations.status());
  std::string items;
  for (size_t i = 0; i < locations->size(); ++i) items += (i > 0 ? "," : "") + LocationJson((*locations)[i]);
  return http::Response::Json(200, PageJson(items, total, *limit, *offset));
}

}  // namespace

void AddLocationRoutes(App& app, http::Router& router) {
  router.Add("POST", "/v1/locations", [&app](http::Request& r) { return CreateLocation(app, r); });
  router.Add("GET", "/v1/locations", [&app](http::Request& r) { return ListLocations(app, r); });
  router.Add("GET", "/v1/locations/:id", [&app](http::Request& r) { return GetLocation(app, r); });
}

}  // namespace fiscal::api
