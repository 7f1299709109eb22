#include "api/plugins_admin_api.h"

#include "api/maintenance.h"
#include "common/json.h"

namespace fiscal::api {
namespace {

using json::Quote;

std::string StateJson(const plugins::PluginState& state) {
  std::string pins = "{";
  bool first = true;
  for (const auto& [location, version] : state.location_versions) {
    pins += std::string(first ? "" : ",") + Quote(location) + ":" + Quote(version);
    first = false;
  }
  pins += "}";

  std::string installed = "[";
  for (size_t i = 0; i < state.installed_versions.size(); ++i) {
    installed += (i > 0 ? "," : "") + Quote(state.installed_versions[i]);
  }
  installed += "]";

  std::string generations = "[";
  for (size_t i = 0; i < state.generations.size(); ++i) {
    const plugins::GenerationState& generation = state.generations[i];
    generations += std::string(i > 0 ? "," : "") + "{\"version\":" + Quote(generation.version) +
                   ",\"sha256\":" + Quote(generation.sha256) + ",\"path\":" + Quote(generation.loaded_path) +
                   ",\"role\":" + Quote(generation.role) + ",\"in_flight\":" + std::to_string(generation.in_flight) +
                   ",\"certified\":" + (generation.certified ? "true" : "false") + ",\"signer_key_id\":" +
                   (generation.signer_key_id.empty() ? "null" : Quote(generation.signer_key_id)) +
                   ",\"certification\":" +
                   (generation.certification_json.empty() ? "null" : generation.certification_json) + "}";
  }
  generations += "]";

  return "{\"name\":" + Quote(state.name) + ",\"country\":" + Quote(state.country) + ",\"system\":" +
         Quote(state.system) + ",\"loaded\":" + (state.loaded ? "true" : "false") + ",\"default_version\":" +
         (state.version.empty() ? "null" : Quote(state.version)) + ",\"location_versions\":" + pins +
         ",\"installed_versions\":" + installed + ",\"generations\":" + generations + ",\"error\":" +
         (state.error.empty() ? "null" : Quote(state.error)) + "}";
}

http::Response ListPlugins(App& app, http::Request& request) {
  Status admin = AuthenticateAdmin(app, request);
  if (!admin.ok()) return http::ErrorResponse(admin);
  std::string items;
  for (const plugins::PluginState& state : app.plugins->States()) items += (items.empty() ? "" : ",") + StateJson(state);
  return http::Response::Json(200, "{\"data\":[" + items + "]}");
}

http::Response ReloadPlugin(App& app, http::Request& request) {
  Status admin = AuthenticateAdmin(app, request);
  if (!admin.ok()) return http::ErrorResponse(admin);
  if (!app.reload_plugins) return http::ErrorResponse(Status::Unavailable("this host cannot reload its configuration"));

  std::string name = request.Param("name");
  bool known = false;
  for (const plugins::PluginState& state : app.plugins->States()) known = known || state.name == name;

  // The configuration file decides the versions; a plugin new to it may be loaded by name too.
  Status reloaded = app.reload_plugins(name);
  if (!reloaded.ok() && reloaded.code() == StatusCode::kNotFound && !known) return http::ErrorResponse(reloaded);

  for (const plugins::PluginState& state : app.plugins->States()) {
    if (state.name != name) continue;
    if (!reloaded.ok()) {
      // The old generation keeps serving; say so together with why the new one was refused.
      std::string body = "{\"error\":" + Quote(reloaded.message()) + ",\"code\":\"plugin_reload_failed\",\"plugin\":" +
                         StateJson(state) + "}";
      return http::Response::Json(409, body);
    }
    return http::Response::Json(200, StateJson(state));
  }
  return http::ErrorResponse(reloaded.ok() ? Status::NotFound("plugin " + name + " is not configured") : reloaded);
}

}  // namespace

void AddPluginAdminRoutes(App& app, http::Router& router) {
  router.Add("GET", "/v1/admin/plugins", [&app](http::Request& r) { return ListPlugins(app, r); });
  router.Add("POST", "/v1/admin/plugins/:name/reload", [&app](http::Request& r) { return ReloadPlugin(app, r); });
}

}  // namespace fiscal::api
