// fiscal/plugin_sdk.hpp: header-only C++17 helper for plugin authors.
//
// It wraps the C contract of fiscal/plugin_abi.h so that a plugin is written as one ordinary C++
// class. The adapter below turns the class into the C function table, performs the runtime
// handshake, and catches every exception at the boundary: an exception never reaches the host, it
// becomes FISCAL_ERR_INTERNAL with the exception's text as the error message.
//
// A plugin class provides these members (see plugins/template for a complete example):
//
//   static fiscal_status Create(std::string_view config_json, fiscal::sdk::Call& call,
//                               std::unique_ptr<MyPlugin>& out);
//   fiscal_status SelfTest(fiscal::sdk::Call& call);
//   fiscal_status ValidateLocation(std::string_view config_json, fiscal::sdk::Call& call);
//   fiscal_status IssueRecord(std::string_view input_json, fiscal::sdk::Call& call);
//   fiscal_status SubmitBatch(std::string_view input_json, fiscal::sdk::Call& call);
//   fiscal_status RenderReceipt(std::string_view input_json, fiscal::sdk::Call& call);
//
// and is registered once, at file scope, with
//
//   FISCAL_SDK_DEFINE_PLUGIN(MyPlugin, "my-plugin", "XX", "1.0.0")
//
// A plugin that calls a host function of a later ABI minor (Call::Sign needs 1.1) registers with
// FISCAL_SDK_DEFINE_PLUGIN_WITH_MINOR(MyPlugin, "my-plugin", "XX", "1.0.0", 1) instead, so that a
// host too old for it refuses the library before loading it.
//
// The member functions are called concurrently from several host threads, so they must not
// modify shared state without their own locking.
#ifndef FISCAL_PLUGIN_SDK_HPP
#define FISCAL_PLUGIN_SDK_HPP

#include <fiscal/plugin_abi.h>

#include <cstddef>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <string_view>

namespace fiscal::sdk {

// Host API table of this loaded library, stored by the entry point. Each load of a plugin file is
// a separate mapping with its own copy of this variable.
inline const fiscal_host_api*& HostApi() {
  static const fiscal_host_api* host = nullptr;
  return host;
}

// A response from the authority, as delivered by the host. The views point into host-owned memory
// that stays valid until the plugin function that received the Call returns.
struct HttpResponse {
  int status_code = 0;
  std::string_view body;
  std::string_view content_type;
  std::string_view transport_error;
  bool timed_out = false;
};

// A signature made by the host (Call::Sign). The views point into host-owned memory that stays
// valid until the plugin function that received the Call returns.
struct SignResult {
  std::string_view signature;              // ES256: 64 bytes, r then s, big-endian
  std::string_view key_id;                 // lowercase hex SHA-256 of the DER SubjectPublicKeyInfo
  std::string_view public_key_pem;         // PEM "PUBLIC KEY" block
  std::string_view certificate_chain_pem;  // PEM certificates, leaf first; empty without certificate
};

// One host call, seen from the plugin: the way to return a result, report an error, log, send
// requests to the authority and have bytes signed.
class Call {
 public:
  explicit Call(fiscal_call* call) : call_(call) {}

  // Copies `json` into the host as the call's result.
  fiscal_status Result(std::string_view json) {
    return HostApi()->set_result(call_, json.data(), json.size());
  }

  // Reports a failure and returns `status`, so that a member function can end with
  // `return call.Fail(FISCAL_ERR_INVALID_INPUT, "items[0].tax_rate", "...")`.
  fiscal_status Fail(fiscal_status status, std::string_view field, std::string_view message) {
    HostApi()->set_error(call_, field.empty() ? nullptr : field.data(), field.size(), message.data(),
                         message.size());
    return status;
  }

  void Log(int32_t level, std::string_view message) {
    HostApi()->log(call_, level, message.data(), message.size());
  }

  // Asks the host to send a request to the named logical endpoint. Returns FISCAL_OK when a
  // response arrived, whatever its HTTP status.
  fiscal_status Send(const char* endpoint, std::string_view content_type, std::string_view body,
                     uint32_t timeout_ms, HttpResponse& out, const char* extra_headers = nullptr) {
    std::string content_type_text(content_type);
    fiscal_http_request request{};
    request.struct_size = sizeof(request);
    request.endpoint = endpoint;
    request.method = "POST";
    request.content_type = content_type_text.c_str();
    request.extra_headers = extra_headers;
    request.body = reinterpret_cast<const uint8_t*>(body.data());
    request.body_size = body.size();
    request.timeout_ms = timeout_ms;

    fiscal_http_response response{};
    response.struct_size = sizeof(response);
    fiscal_status status = HostApi()->http_send(call_, &request, &response);

    out.status_code = response.status_code;
    out.body = std::string_view(reinterpret_cast<const char*>(response.body), response.body_size);
    out.content_type = response.content_type ? response.content_type : "";
    out.transport_error = response.transport_error ? response.transport_error : "";
    out.timed_out = response.timed_out != 0;
    return status;
  }

  // Asks the host to sign `data` with ES256 (ECDSA P-256 over SHA-256) using the key named
  // `key_ref` in the current call's account. Needs host ABI 1.1, so the plugin must be registered
  // with needed minor 1, and is allowed in IssueRecord only. Returns FISCAL_OK with *out filled.
  // Otherwise *out is cleared and the host's status is returned: FISCAL_ERR_UNAVAILABLE when the
  // key is missing or unreadable, FISCAL_ERR_INVALID_INPUT for a bad key_ref. Returns
  // FISCAL_ERR_INCOMPATIBLE, after reporting the error, when the host's table has no `sign`.
  fiscal_status Sign(std::string_view key_ref, std::string_view data, SignResult* out) {
    if (out == nullptr) return Fail(FISCAL_ERR_INTERNAL, {}, "Call::Sign was given a null SignResult");
    *out = SignResult{};

    const fiscal_host_api* host = HostApi();
    constexpr size_t kSignEnd = offsetof(fiscal_host_api, sign) + sizeof(fiscal_host_api::sign);
    if (host->struct_size < kSignEnd || host->sign == nullptr) {
      return Fail(FISCAL_ERR_INCOMPATIBLE, {},
                  "the host does not provide sign (host API 1.1); register the plugin with needed minor 1 "
                  "(FISCAL_SDK_DEFINE_PLUGIN_WITH_MINOR) so that an older host refuses to load it");
    }

    // key_ref crosses the boundary as a NUL-terminated string.
    std::string key_ref_text(key_ref);
    fiscal_sign_request request{};
    request.struct_size = sizeof(request);
    request.key_ref = key_ref_text.c_str();
    request.algorithm = "ES256";
    request.data = reinterpret_cast<const uint8_t*>(data.data());
    request.data_size = data.size();

    fiscal_sign_result result{};
    result.struct_size = sizeof(result);
    fiscal_status status = host->sign(call_, &request, &result);
    if (status != FISCAL_OK) return status;

    out->signature = std::string_view(reinterpret_cast<const char*>(result.signature), result.signature_size);
    out->key_id = result.key_id ? result.key_id : "";
    out->public_key_pem = result.public_key_pem ? result.public_key_pem : "";
    out->certificate_chain_pem = result.certificate_chain_pem ? result.certificate_chain_pem : "";
    return FISCAL_OK;
  }

 private:
  fiscal_call* call_;
};

namespace detail {

// Runs `body` and converts any exception into FISCAL_ERR_INTERNAL reported through `call`.
template <typename Body>
fiscal_status Guard(fiscal_call* raw_call, Body&& body) noexcept {
  Call call(raw_call);
  try {
    return body(call);
  } catch (const std::bad_alloc&) {
    return call.Fail(FISCAL_ERR_NO_MEMORY, {}, "the plugin ran out of memory");
  } catch (const std::exception& error) {
    return call.Fail(FISCAL_ERR_INTERNAL, {}, std::string("plugin exception: ") + error.what());
  } catch (...) {
    return call.Fail(FISCAL_ERR_INTERNAL, {}, "plugin exception of unknown type");
  }
}

template <typename Plugin>
struct Adapter {
  static Plugin* Self(fiscal_instance* instance) { return reinterpret_cast<Plugin*>(instance); }

  static fiscal_status Create(const char* config, size_t size, fiscal_call* call,
                              fiscal_instance** out) {
    return Guard(call, [&](Call& c) {
      std::unique_ptr<Plugin> plugin;
      fiscal_status status = Plugin::Create(std::string_view(config, size), c, plugin);
      if (status != FISCAL_OK) return status;
      if (!plugin) return c.Fail(FISCAL_ERR_INTERNAL, {}, "Create returned no instance");
      *out = reinterpret_cast<fiscal_instance*>(plugin.release());
      return FISCAL_OK;
    });
  }

  static void Destroy(fiscal_instance* instance) noexcept {
    try {
      delete Self(instance);
    } catch (...) {
      // A destructor that throws has nowhere to report to; the instance is gone either way.
    }
  }

  static fiscal_status SelfTest(fiscal_instance* instance, fiscal_call* call) {
    return Guard(call, [&](Call& c) { return Self(instance)->SelfTest(c); });
  }

  static fiscal_status ValidateLocation(fiscal_instance* instance, const char* json, size_t size,
                                        fiscal_call* call) {
    return Guard(call, [&](Call& c) {
      return Self(instance)->ValidateLocation(std::string_view(json, size), c);
    });
  }

  static fiscal_status IssueRecord(fiscal_instance* instance, const char* json, size_t size,
                                   fiscal_call* call) {
    return Guard(call,
                 [&](Call& c) { return Self(instance)->IssueRecord(std::string_view(json, size), c); });
  }

  static fiscal_status SubmitBatch(fiscal_instance* instance, const char* json, size_t size,
                                   fiscal_call* call) {
    return Guard(call,
                 [&](Call& c) { return Self(instance)->SubmitBatch(std::string_view(json, size), c); });
  }

  static fiscal_status RenderReceipt(fiscal_instance* instance, const char* json, size_t size,
                                     fiscal_call* call) {
    return Guard(call, [&](Call& c) {
      return Self(instance)->RenderReceipt(std::string_view(json, size), c);
    });
  }

  static const fiscal_plugin_api* Table() {
    static const fiscal_plugin_api table = {
        sizeof(fiscal_plugin_api), FISCAL_ABI_MINOR, &Create,      &Destroy,
        &SelfTest,                 &ValidateLocation, &IssueRecord, &SubmitBatch,
        &RenderReceipt,
    };
    return &table;
  }

  // Performs the handshake. `needed_minor` is the minor the plugin declared in its compatibility
  // block, not FISCAL_ABI_MINOR, so that a plugin built against a newer header that uses only older
  // host functions still loads in an older host.
  static fiscal_status Entry(const fiscal_host_access* access, const fiscal_plugin_api** out_api,
                             uint32_t needed_minor) noexcept {
    if (access == nullptr || out_api == nullptr) return FISCAL_ERR_INCOMPATIBLE;
    const fiscal_host_api* host = access->get_host_api(access, FISCAL_ABI_MAJOR, needed_minor);
    if (host == nullptr) {
      static const char kMessage[] = "the host does not provide the plugin API version this plugin needs";
      access->set_error(access, kMessage, sizeof(kMessage) - 1);
      return FISCAL_ERR_INCOMPATIBLE;
    }
    HostApi() = host;
    *out_api = Table();
    return FISCAL_OK;
  }
};

}  // namespace detail
}  // namespace fiscal::sdk

// Defines the compatibility block and the entry point for `PluginClass`, which needs host API minor
// `needed_minor` (1 to call Call::Sign). The same minor goes into the block, which the host checks
// before loading, and into the handshake request.
#define FISCAL_SDK_DEFINE_PLUGIN_WITH_MINOR(PluginClass, plugin_name, country_code, plugin_version,  \
                                            needed_minor)                                          \
  FISCAL_PLUGIN_DECLARE(plugin_name, country_code, plugin_version, needed_minor);                  \
  FISCAL_PLUGIN_ENTRY {                                                                            \
    return ::fiscal::sdk::detail::Adapter<PluginClass>::Entry(access, out_api, (needed_minor));    \
  }

// Defines the compatibility block and the entry point for `PluginClass`, which needs host API
// minor 0 and so loads in every 1.x host.
#define FISCAL_SDK_DEFINE_PLUGIN(PluginClass, plugin_name, country_code, plugin_version) \
  FISCAL_SDK_DEFINE_PLUGIN_WITH_MINOR(PluginClass, plugin_name, country_code, plugin_version, 0)

#endif  // FISCAL_PLUGIN_SDK_HPP
