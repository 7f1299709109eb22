// Host configuration, read once at start-up from a JSON file. Errors here are exceptions: the host
// refuses to start with a message naming the file and the setting.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "plugins/plugin_registry.h"

namespace fiscal::config {

struct HttpConfig {
  std::string address = "127.0.0.1";
  int port = 8080;
  int threads = 8;                     // Pistache reactor threads; handlers run on them
  size_t max_body_bytes = 1024 * 1024;  // larger request bodies get 413
};

struct DatabaseConfig {
  std::string connection;  // libpq connection string
  int pool_size = 8;
};

struct RedisConfig {
  std::string host = "127.0.0.1";
  int port = 6379;
};

struct SubmissionConfig {
  int workers = 1;                 // sender threads in this instance
  int poll_interval_ms = 500;      // how often an idle sender looks for queued records
  int batch_size = 1000;           // records per message, at most the authority's limit
  // A sender's claim on a chain. A crashed sender's chains wait this long before another sender
  // takes them over, so it should exceed the longest authority exchange only by a margin.
  int lease_seconds = 60;
  int late_after_seconds = 240;    // records older than this are sent as late (incident)
  int max_attempts = 50;           // then the outbox entry is dead
};

struct RateLimitTier {
  int requests_per_minute = 0;
  int burst = 0;
};

struct RateLimitSettings {
  bool enabled = true;
  std::map<std::string, RateLimitTier> tiers;  // empty: the built-in Zyntem tiers
  std::string test_tier = "sandbox";   // tier of test API keys
  std::string live_tier = "starter";   // tier of live API keys
};

struct CircuitBreakerSettings {
  int failure_threshold = 5;  // consecutive failed exchanges that open a breaker
  int open_seconds = 30;      // how long an open breaker waits before one probe
};

struct MaintenanceSettings {
  bool enabled = false;
  std::string message;
  int retry_after_seconds = 60;
};

struct WebhookSettings {
  bool enabled = true;
  int workers = 1;
  int max_attempts = 10;
  // Lets webhooks call receivers on loopback addresses (development and tests); off in production.
  bool allow_loopback = false;
};

struct SigningKeySettings {
  // Root of the tenants' signing keys (<directory>/<account_id>/<key_ref>.pem, see keys/key_store.h).
  // Default: "keys" next to plugin_cache_dir, i.e. var/keys with the default plugin_cache_dir.
  std::string directory;
};

// The schedule that closes the day, month and year of registers with closures (docs/france.md).
struct ClosureSettings {
  bool schedule = true;
  int check_interval_seconds = 60;
};

struct HostConfig {
  std::string instance_id;  // unique per running host; defaults to hostname:pid
  HttpConfig http;
  DatabaseConfig database;
  RedisConfig redis;
  bool live_mode_enabled = false;  // live API keys get 403 unless this is true
  std::string sql_dir = "sql";
  std::string plugin_dir = "build/plugins";        // installed plugin versions
  std::string plugin_cache_dir = "var/plugin-cache";  // content-addressed copies the host loads
  // "strict", "permissive" or "auto" (strict when live mode is enabled).
  std::string plugin_trust_mode = "auto";
  std::vector<std::string> trusted_plugin_keys;
  std::vector<plugins::PluginConfig> plugins;
  SubmissionConfig submission;
  // Bearer token of the admin API (/v1/admin/...). Empty turns the admin API off.
  std::string admin_token;
  RateLimitSettings rate_limits;
  CircuitBreakerSettings circuit_breaker;
  MaintenanceSettings maintenance;
  WebhookSettings webhooks;
  SigningKeySettings signing_keys;
  ClosureSettings closures;
};

// Reads and checks the configuration file. Throws std::runtime_error naming the file and the
// setting when something is missing or has the wrong type.
HostConfig LoadFromFile(const std::string& path);

// Same as LoadFromFile, from JSON text; `origin` names the source in error messages.
HostConfig LoadFromJson(const std::string& json_text, const std::string& origin);

}  // namespace fiscal::config
