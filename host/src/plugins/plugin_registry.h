// The plugin layer seen from the rest of the host: loading country plugins through the C ABI of
// fiscal/plugin_abi.h, and calling them with C++ types.
//
// A LoadedPlugin is one generation of one plugin file. Code that calls a plugin first takes a
// std::shared_ptr<const LoadedPlugin> from the registry and keeps it for the whole operation, so a
// later reload can publish a new generation without pulling the code from under a running call.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "net/http_exchange.h"

namespace fiscal::keys {
class KeyStore;
}  // namespace fiscal::keys

namespace fiscal::plugins {

// One entry of the "plugins" list in the host configuration.
struct PluginConfig {
  std::string name;     // expected plugin name, must equal the name in the compatibility block
  std::string country;  // ISO alpha-2 the plugin serves, e.g. "ES"
  std::string system;   // fiscal system within the country, e.g. "verifactu"
  // Library file. With `version` set and `path` empty, the file is the one shared library in
  // <plugin_dir>/<name>/<version>/.
  std::string path;
  std::string version;     // version to serve by default; empty: whatever `path` contains
  std::string plugin_dir;  // root of the installed versions, <plugin_dir>/<name>/<version>/
  // Location id -> version, for locations that run another version than the default (for
  // example one shop trying a new release first).
  std::map<std::string, std::string> location_versions;
  // Folder of content-addressed copies (<sha256>.so) that the host loads, so that a file being
  // replaced on disk is never the one mapped into the process.
  std::string cache_dir;
  // Certification (see docs/certification.md): "strict" refuses a library without a valid signed
  // manifest; "permissive" loads an unsigned library but still refuses a bad signature.
  std::string trust_mode = "permissive";
  std::vector<std::string> trusted_keys;  // PEM public key files of trusted certifiers
  std::string config_json = "{}";  // passed to the plugin's create()
  // Names of the circuit breaker guarding the plugin's authority: Redis key
  // circuit_breaker:<breaker_country>:<breaker_authority>, e.g. circuit_breaker:spain:aeat.
  std::string breaker_country;
  std::string breaker_authority;
  // Logical endpoint name -> environment ("test" | "live") -> endpoint.
  std::map<std::string, std::map<std::string, net::EndpointConfig>> endpoints;
};

// Facts read from the library's compatibility block.
struct PluginDescriptor {
  std::string name;
  std::string country;
  std::string version;
  std::string path;
  std::string sha256;  // of the library file, lower-case hex
  uint32_t abi_major = 0;
  uint32_t abi_minor = 0;
  bool certified = false;          // a signed manifest verified (plugins/manifest.h)
  std::string signer_key_id;       // id of the trusted key that signed it, empty when not certified
  std::string certification_json;  // the manifest's "certification" object, empty when not certified
};

// Identifies who a plugin call works for; attached to log lines and used to pick the endpoint.
struct CallContext {
  std::string request_id;
  std::string account_id;
  std::string location_id;
  std::string environment = "test";  // "test" | "live"
  // Only submit_batch may send requests; the host sets this for that call alone.
  bool allow_network = false;
  // Keys that fiscal_host_api.sign uses, looked up within account_id. Not owned; must outlive the
  // call. Null in a host without signing keys: sign then returns FISCAL_ERR_UNAVAILABLE.
  const keys::KeyStore* key_store = nullptr;
  // The key the location registered: sign with `pinned_key_ref` succeeds only with the key whose
  // id is `pinned_key_id`. Empty: not pinned.
  std::string pinned_key_ref;
  std::string pinned_key_id;
};

// The outcome of one plugin call: the plugin's status code and either its result document or its
// error (field and message).
struct CallOutcome {
  int32_t status = 0;  // a FISCAL_* status code
  std::string result;
  std::string error_field;
  std::string error_message;
  std::string plugin;  // name of the plugin that produced the outcome, for error messages

  bool ok() const { return status == 0; }
  // Maps the plugin's failure to a host Status: 400 for invalid input, 503 for transport and for an
  // unavailable resource (error code "signing_key_unavailable"), 500 else.
  Status ToStatus(std::string_view operation) const;
};

class LoadedPlugin {
 public:
  virtual ~LoadedPlugin() = default;
  virtual const PluginDescriptor& descriptor() const = 0;
  virtual const PluginConfig& config() const = 0;

  virtual CallOutcome SelfTest(const CallContext& context) const = 0;
  virtual CallOutcome ValidateLocation(std::string_view config_json, const CallContext& context) const = 0;
  virtual CallOutcome IssueRecord(std::string_view input_json, const CallContext& context) const = 0;
  virtual CallOutcome SubmitBatch(std::string_view input_json, const CallContext& context) const = 0;
  virtual CallOutcome RenderReceipt(std::string_view input_json, const CallContext& context) const = 0;
};

// One loaded generation of a plugin, for the admin API.
struct GenerationState {
  std::string version;
  std::string sha256;
  std::string loaded_path;  // the content-addressed copy the host mapped
  std::string role;         // "default", "pinned" (per location only) or "retired"
  long in_flight = 0;       // operations holding this generation right now
  bool certified = false;   // a trusted certifier's signed manifest verified
  std::string signer_key_id;
  std::string certification_json;  // the manifest's "certification" object, or empty
};

// State of one configured plugin, for /health and the admin API.
struct PluginState {
  std::string name;
  std::string country;
  std::string system;
  std::string path;
  bool loaded = false;
  std::string version;  // default version, empty when not loaded
  std::string error;    // why the latest load failed, empty when it succeeded
  std::map<std::string, std::string> location_versions;
  std::vector<std::string> installed_versions;  // folders under <plugin_dir>/<name>/
  std::vector<GenerationState> generations;     // active ones first, then retired ones still in use
};

// Checks a library file and loads it: compatibility block read from the file before dlopen, then
// dlopen, handshake, create and self-test. Never throws; a failure names the check that failed.
Result<std::shared_ptr<const LoadedPlugin>> LoadPlugin(const PluginConfig& config,
                                                       std::shared_ptr<net::HttpSender> http_sender);

// Holds the loaded generations of every configured plugin. Thread-safe.
//
// Hot swap: a reload copies each needed version's file to a content-addressed path
// (<cache_dir>/<sha256>.so), loads and self-tests it next to the running generation, and only then
// publishes it. Operations that already hold the old generation finish on it; the old generation
// is destroyed when the last of them drops it. A version that fails to load is not published and
// the old one keeps serving. A file whose SHA-256 is already loaded is not loaded again.
class PluginRegistry {
 public:
  explicit PluginRegistry(std::shared_ptr<net::HttpSender> http_sender);

  // Loads every configured plugin and version. A plugin that fails to load is logged and recorded
  // in its PluginState; the others still load. Plugins no longer configured are retired.
  void LoadAll(const std::vector<PluginConfig>& configs);

  // Loads (or reloads) one plugin entry. Returns the load error of any of its versions; versions
  // that failed keep their earlier generation.
  Status Reload(const PluginConfig& config);

  // Returns the default generation of the plugin serving (country, system), or nullptr.
  std::shared_ptr<const LoadedPlugin> FindFor(std::string_view country, std::string_view system) const;
  // Returns the default generation of the plugin named `name`, or nullptr.
  std::shared_ptr<const LoadedPlugin> Find(std::string_view name) const;
  // Returns the generation serving `location_id`: its pinned version, else the default.
  std::shared_ptr<const LoadedPlugin> FindForLocation(std::string_view name, const std::string& location_id) const;

  std::vector<PluginState> States() const;

  // Loads and self-tests every plugin in a child process started from `executable` before loading
  // it here (see plugins/plugin_probe.h). Empty: no probe. Call before the first load.
  void SetProbeExecutable(std::string executable) { probe_executable_ = std::move(executable); }

 private:
  struct Entry {
    PluginConfig config;
    std::string default_version;
    std::map<std::string, std::shared_ptr<const LoadedPlugin>> by_version;
    std::vector<std::weak_ptr<const LoadedPlugin>> retired;
    std::string error;
  };

  // Loads the versions `config` needs into `entry` (called with load_mutex_ held, not mutex_).
  Status LoadEntry(const PluginConfig& config, Entry& entry);

  std::shared_ptr<net::HttpSender> http_sender_;
  std::string probe_executable_;
  std::mutex load_mutex_;     // serializes loads and reloads
  mutable std::mutex mutex_;  // guards entries_
  std::map<std::string, Entry, std::less<>> entries_;  // by plugin name, in configuration order of names
  std::vector<std::string> order_;                     // plugin names in configuration order
};

}  // namespace fiscal::plugins
