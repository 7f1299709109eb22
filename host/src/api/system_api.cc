// GET /health and GET /version: public, no API key.
#include "api/app.h"
#include "api/maintenance.h"
#include "common/json.h"
#include "fiscal/plugin_abi.h"
#include "redis/circuit_breaker.h"
#include "redis/rate_limiter.h"
#include "store/redis_probe.h"

namespace fiscal::api {
namespace {

using json::Quote;

std::string PluginsJson(const std::vector<plugins::PluginState>& states) {
  std::string out = "[";
  for (size_t i = 0; i < states.size(); ++i) {
    const plugins::PluginState& state = states[i];
    if (i > 0) out += ",";
    out += "{\"name\":" + Quote(state.name) + ",\"country\":" + Quote(state.country) + ",\"system\":" +
           Quote(state.system) + ",\"loaded\":" + (state.loaded ? "true" : "false") + ",\"version\":" +
           (state.version.empty() ? "null" : Quote(state.version)) + ",\"error\":" +
           (state.error.empty() ? "null" : Quote(state.error)) + "}";
  }
  return out + "]";
}

// Circuit breakers of the configured plugins; sets `any_open` when one is not closed.
std::string BreakersJson(App& app, bool& any_open) {
  std::string out = "[";
  if (app.circuit_breaker == nullptr) return out + "]";
  bool first = true;
  for (const plugins::PluginConfig& plugin : app.config->plugins) {
    redis::BreakerSnapshot snapshot = app.circuit_breaker->Snapshot(plugin.breaker_country, plugin.breaker_authority);
    any_open = any_open || snapshot.state != redis::BreakerState::kClosed;
    if (!first) out += ",";
    first = false;
    out += "{\"country\":" + Quote(plugin.breaker_country) + ",\"authority\":" + Quote(plugin.breaker_authority) +
           ",\"state\":" + Quote(redis::BreakerStateName(snapshot.state)) + ",\"source\":" +
           Quote(redis::BreakerSourceName(snapshot.source)) + ",\"consecutive_failures\":" +
           std::to_string(snapshot.consecutive_failures) + "}";
  }
  return out + "]";
}

http::Response Health(App& app) {
  Status database = app.database->Ping();
  Status redis = store::PingRedis(app.config->redis.host, app.config->redis.port);
  std::vector<plugins::PluginState> states = app.plugins->States();
  bool all_plugins = true;
  for (const auto& state : states) all_plugins = all_plugins && state.loaded;
  bool breaker_open = false;
  std::string breakers = BreakersJson(app, breaker_open);
  bool local_limits = app.rate_limiter != nullptr && (app.rate_limiter->degraded() || !redis.ok());

  // Without the database nothing can be issued: unhealthy. Redis, a plugin or an authority
  // missing: degraded, while receipts are still issued.
  std::string status =
      !database.ok() ? "unavailable" : (redis.ok() && all_plugins && !breaker_open ? "ok" : "degraded");
  std::string body = "{\"status\":" + Quote(status) + ",\"database\":" + Quote(database.ok() ? "ok" : "unavailable") +
                     ",\"redis\":" + Quote(redis.ok() ? "ok" : "unavailable") + ",\"rate_limiter\":" +
                     Quote(app.rate_limiter == nullptr ? "off" : (local_limits ? "local" : "redis")) +
                     ",\"maintenance\":" + (app.maintenance != nullptr && app.maintenance->Get().enabled ? "true" : "false") +
                     ",\"circuit_breakers\":" + breakers + ",\"plugins\":" + PluginsJson(states) + "}";
  return http::Response::Json(database.ok() ? 200 : 503, body);
}

http::Response Version(App& app) {
  std::string plugins = "[";
  bool first = true;
  for (const auto& state : app.plugins->States()) {
    if (!state.loaded) continue;
    auto plugin = app.plugins->Find(state.name);
    if (!plugin) continue;
    if (!first) plugins += ",";
    first = false;
    plugins += "{\"name\":" + Quote(state.name) + ",\"version\":" + Quote(plugin->descriptor().version) +
               ",\"sha256\":" + Quote(plugin->descriptor().sha256) + "}";
  }
  plugins += "]";
  std::string body = "{\"name\":\"fiscal-host\",\"version\":" + Quote(FISCAL_VERSION) + ",\"plugin_abi\":" +
                     Quote(std::to_string(FISCAL_ABI_MAJOR) + "." + std::to_string(FISCAL_ABI_MINOR)) +
                     ",\"plugins\":" + plugins + "}";
  return http::Response::Json(200, body);
}

}  // namespace

void AddSystemRoutes(App& app, http::Router& router) {
  router.Add("GET", "/health", [&app](http::Request&) { return Health(app); });
  router.Add("GET", "/version", [&app](http::Request&) { return Version(app); });
}

}  // namespace fiscal::api
