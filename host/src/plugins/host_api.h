// The host side of one plugin call: the fiscal_host_api table that plugins call back into, and the
// per-call state (result, error, HTTP exchanges) behind each fiscal_call handle.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include <fiscal/plugin_abi.h>

#include "net/http_exchange.h"
#include "plugins/plugin_registry.h"

namespace fiscal::plugins {

// Upper bound for the timeout a plugin may request for one http_send. A request for more, or for 0,
// gets this value and the HttpRequest default respectively.
inline constexpr uint32_t kMaxHttpTimeoutMs = 60000;

// Endpoints of one plugin: logical name -> environment -> endpoint.
using EndpointMap = std::map<std::string, std::map<std::string, net::EndpointConfig>>;

// The plugin a call goes to, as the host API callbacks need it.
struct CallTarget {
  std::string plugin_name;
  const EndpointMap* endpoints = nullptr;  // not owned, may be null when none are configured
  net::HttpSender* http_sender = nullptr;  // not owned, may be null in a host without network
};

struct CallOptions {
  // Set for submit_batch alone. http_send succeeds only when this and CallContext.allow_network
  // are both set.
  bool network_operation = false;
  // When set, a plugin that returns FISCAL_OK without calling set_result gets FISCAL_ERR_INTERNAL.
  bool result_required = true;
};

// Calls the plugin through `invoke` with a fresh fiscal_call and returns the outcome. Fills a
// generic error message when the plugin fails without calling set_error, and turns an exception
// that escapes the plugin into FISCAL_ERR_INTERNAL.
CallOutcome RunPluginCall(const CallTarget& target, const CallContext& context,
                          std::string_view operation, CallOptions options,
                          const std::function<fiscal_status(fiscal_call*)>& invoke);

// Returns this host's API table when it implements `major` with a minor >= `min_minor`, else
// nullptr. The table is static and lives as long as the process.
const fiscal_host_api* FindHostApi(uint32_t major, uint32_t min_minor);

// Returns the macro name of a FISCAL_* status code ("FISCAL_ERR_INTERNAL"), or "status N" for an
// unknown code.
std::string StatusCodeName(int32_t status);

}  // namespace fiscal::plugins
