#include "config/config.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace fiscal::config {
namespace {

using rapidjson::Value;

class Reader {
 public:
  explicit Reader(std::string origin) : origin_(std::move(origin)) {}

  [[noreturn]] void Fail(const std::string& setting, const std::string& problem) const {
    throw std::runtime_error("configuration " + origin_ + ": setting \"" + setting + "\" " + problem);
  }

  const Value* Member(const Value& object, const char* name) const {
    auto it = object.FindMember(name);
    return it == object.MemberEnd() ? nullptr : &it->value;
  }

  std::string String(const Value& object, const char* name, const std::string& path,
                     const std::string& fallback, bool required = false) const {
    const Value* value = Member(object, name);
    if (value == nullptr) {
      if (required) Fail(path, "is required");
      return fallback;
    }
    if (!value->IsString()) Fail(path, "must be a string");
    return value->GetString();
  }

  int Int(const Value& object, const char* name, const std::string& path, int fallback, int minimum,
          int maximum) const {
    const Value* value = Member(object, name);
    if (value == nullptr) return fallback;
    if (!value->IsInt()) Fail(path, "must be an integer");
    int number = value->GetInt();
    if (number < minimum || number > maximum) {
      Fail(path, "must be between " + std::to_string(minimum) + " and " + std::to_string(maximum));
    }
    return number;
  }

  bool Bool(const Value& object, const char* name, const std::string& path, bool fallback) const {
    const Value* value = Member(object, name);
    if (value == nullptr) return fallback;
    if (!value->IsBool()) Fail(path, "must be true or false");
    return value->GetBool();
  }

  const Value* Object(const Value& object, const char* name, const std::string& path) const {
    const Value* value = Member(object, name);
    if (value != nullptr && !value->IsObject()) Fail(path, "must be an object");
    return value;
  }

 private:
  std::string origin_;
};

std::string ToJsonText(const Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

net::EndpointConfig ReadEndpoint(const Reader& reader, const Value& object, const std::string& path) {
  net::EndpointConfig endpoint;
  endpoint.url = reader.String(object, "url", path + ".url", "", true);
  endpoint.ca_file = reader.String(object, "ca_file", path + ".ca_file", "");
  endpoint.client_cert = reader.String(object, "client_cert", path + ".client_cert", "");
  endpoint.client_key = reader.String(object, "client_key", path + ".client_key", "");
  endpoint.timeout_ms = static_cast<uint32_t>(reader.Int(object, "timeout_ms", path + ".timeout_ms", 0, 0, 600000));
  if (endpoint.client_cert.empty() != endpoint.client_key.empty()) {
    reader.Fail(path, "needs both client_cert and client_key, or neither");
  }
  return endpoint;
}

plugins::PluginConfig ReadPlugin(const Reader& reader, const Value& entry, const std::string& path) {
  if (!entry.IsObject()) reader.Fail(path, "must be an object");
  plugins::PluginConfig plugin;
  plugin.name = reader.String(entry, "name", path + ".name", "", true);
  plugin.country = reader.String(entry, "country", path + ".country", "", true);
  plugin.system = reader.String(entry, "system", path + ".system", "", true);
  plugin.path = reader.String(entry, "path", path + ".path", "");
  plugin.version = reader.String(entry, "version", path + ".version", "");
  if (plugin.path.empty() && plugin.version.empty()) reader.Fail(path, "needs \"version\" or \"path\"");
  if (const Value* pins = reader.Object(entry, "location_versions", path + ".location_versions")) {
    for (auto it = pins->MemberBegin(); it != pins->MemberEnd(); ++it) {
      if (!it->value.IsString()) reader.Fail(path + ".location_versions." + it->name.GetString(), "must be a version string");
      plugin.location_versions[it->name.GetString()] = it->value.GetString();
    }
  }

  // Breaker names default to the plugin name's first part ("spain") and the system.
  plugin.breaker_country = plugin.name.substr(0, plugin.name.find('-'));
  plugin.breaker_authority = plugin.system;
  if (const Value* breaker = reader.Object(entry, "circuit_breaker", path + ".circuit_breaker")) {
    plugin.breaker_country = reader.String(*breaker, "country", path + ".circuit_breaker.country", plugin.breaker_country);
    plugin.breaker_authority =
        reader.String(*breaker, "authority", path + ".circuit_breaker.authority", plugin.breaker_authority);
  }

  if (const Value* settings = reader.Object(entry, "config", path + ".config")) {
    plugin.config_json = ToJsonText(*settings);
  }

  // "endpoints": {"verifactu": {"test": {...}, "live": {...}}}
  if (const Value* endpoints = reader.Object(entry, "endpoints", path + ".endpoints")) {
    for (auto it = endpoints->MemberBegin(); it != endpoints->MemberEnd(); ++it) {
      std::string endpoint_path = path + ".endpoints." + it->name.GetString();
      if (!it->value.IsObject()) reader.Fail(endpoint_path, "must be an object");
      for (auto env = it->value.MemberBegin(); env != it->value.MemberEnd(); ++env) {
        std::string environment = env->name.GetString();
        std::string env_path = endpoint_path + "." + environment;
        if (environment != "test" && environment != "live") reader.Fail(env_path, "must be \"test\" or \"live\"");
        if (!env->value.IsObject()) reader.Fail(env_path, "must be an object");
        plugin.endpoints[it->name.GetString()][environment] = ReadEndpoint(reader, env->value, env_path);
      }
    }
  }
  return plugin;
}

// Returns the "keys" folder next to `plugin_cache_dir` ("var/plugin-cache" -> "var/keys").
std::string DefaultSigningKeyDirectory(const std::string& plugin_cache_dir) {
  std::filesystem::path cache = std::filesystem::path(plugin_cache_dir).lexically_normal();
  if (!cache.has_filename()) cache = cache.parent_path();  // "var/plugin-cache/" ends in a separator
  return (cache.parent_path() / "keys").string();
}

// Reads "signing_keys": {"directory": "..."}. The directory may not exist yet (the key store creates
// it with mode 0700), but an existing one must be a directory closed to group and others.
SigningKeySettings ReadSigningKeys(const Reader& reader, const Value& document, const std::string& plugin_cache_dir) {
  SigningKeySettings settings;
  settings.directory = DefaultSigningKeyDirectory(plugin_cache_dir);
  if (const Value* keys = reader.Object(document, "signing_keys", "signing_keys")) {
    settings.directory = reader.String(*keys, "directory", "signing_keys.directory", settings.directory);
  }
  if (settings.directory.empty()) reader.Fail("signing_keys.directory", "must not be empty");

  struct stat info {};
  if (::stat(settings.directory.c_str(), &info) == 0) {
    if (!S_ISDIR(info.st_mode)) {
      reader.Fail("signing_keys.directory", "is \"" + settings.directory + "\", which exists but is not a directory");
    }
    if ((info.st_mode & 077) != 0) {
      reader.Fail("signing_keys.directory",
                  "is \"" + settings.directory +
                      "\", which group or others may access; private keys need \"chmod 700 " + settings.directory + "\"");
    }
  }
  return settings;
}

}  // namespace

HostConfig LoadFromJson(const std::string& json_text, const std::string& origin) {
  Reader reader(origin);
  rapidjson::Document document;
  document.Parse(json_text.c_str(), json_text.size());
  if (document.HasParseError()) {
    throw std::runtime_error("configuration " + origin + ": invalid JSON at offset " +
                             std::to_string(document.GetErrorOffset()) + ": " +
                             rapidjson::GetParseError_En(document.GetParseError()));
  }
  if (!document.IsObject()) throw std::runtime_error("configuration " + origin + ": must be a JSON object");

  HostConfig config;
  char hostname[256] = "host";
  gethostname(hostname, sizeof(hostname) - 1);
  config.instance_id = reader.String(document, "instance_id", "instance_id",
                                     std::string(hostname) + ":" + std::to_string(getpid()));
  config.live_mode_enabled = reader.Bool(document, "live_mode_enabled", "live_mode_enabled", false);
  config.sql_dir = reader.String(document, "sql_dir", "sql_dir", "sql");

  if (const Value* http = reader.Object(document, "http", "http")) {
    config.http.address = reader.String(*http, "address", "http.address", config.http.address);
    config.http.port = reader.Int(*http, "port", "http.port", config.http.port, 0, 65535);
    config.http.threads = reader.Int(*http, "threads", "http.threads", config.http.threads, 1, 256);
    config.http.max_body_bytes = static_cast<size_t>(
        reader.Int(*http, "max_body_bytes", "http.max_body_bytes", 1024 * 1024, 1024, 64 * 1024 * 1024));
  }

  const Value* database = reader.Object(document, "database", "database");
  if (database == nullptr) reader.Fail("database", "is required");
  config.database.connection = reader.String(*database, "connection", "database.connection", "", true);
  config.database.pool_size = reader.Int(*database, "pool_size", "database.pool_size", 8, 1, 512);

  if (const Value* redis = reader.Object(document, "redis", "redis")) {
    config.redis.host = reader.String(*redis, "host", "redis.host", config.redis.host);
    config.redis.port = reader.Int(*redis, "port", "redis.port", config.redis.port, 1, 65535);
  }

  if (const Value* submission = reader.Object(document, "submission", "submission")) {
    SubmissionConfig& s = config.submission;
    s.workers = reader.Int(*submission, "workers", "submission.workers", s.workers, 0, 64);
    s.poll_interval_ms = reader.Int(*submission, "poll_interval_ms", "submission.poll_interval_ms",
                                    s.poll_interval_ms, 10, 600000);
    s.batch_size = reader.Int(*submission, "batch_size", "submission.batch_size", s.batch_size, 1, 1000);
    s.lease_seconds = reader.Int(*submission, "lease_seconds", "submission.lease_seconds", s.lease_seconds, 5,
                                 3600);
    s.late_after_seconds = reader.Int(*submission, "late_after_seconds", "submission.late_after_seconds",
                                      s.late_after_seconds, 1, 86400);
    s.max_attempts = reader.Int(*submission, "max_attempts", "submission.max_attempts", s.max_attempts, 1,
                                100000);
  }

  config.admin_token = reader.String(document, "admin_token", "admin_token", "");
  if (!config.admin_token.empty() && config.admin_token.size() < 16) {
    reader.Fail("admin_token", "must have at least 16 characters");
  }

  if (const Value* limits = reader.Object(document, "rate_limits", "rate_limits")) {
    RateLimitSettings& r = config.rate_limits;
    r.enabled = reader.Bool(*limits, "enabled", "rate_limits.enabled", r.enabled);
    r.test_tier = reader.String(*limits, "test_tier", "rate_limits.test_tier", r.test_tier);
    r.live_tier = reader.String(*limits, "live_tier", "rate_limits.live_tier", r.live_tier);
    if (const Value* tiers = reader.Object(*limits, "tiers", "rate_limits.tiers")) {
      for (auto it = tiers->MemberBegin(); it != tiers->MemberEnd(); ++it) {
        std::string tier_path = std::string("rate_limits.tiers.") + it->name.GetString();
        if (!it->value.IsObject()) reader.Fail(tier_path, "must be an object");
        RateLimitTier tier;
        tier.requests_per_minute =
            reader.Int(it->value, "requests_per_minute", tier_path + ".requests_per_minute", 0, 1, 10000000);
        tier.burst = reader.Int(it->value, "burst", tier_path + ".burst", 0, 1, 10000000);
        if (tier.requests_per_minute == 0 || tier.burst == 0) reader.Fail(tier_path, "needs requests_per_minute and burst");
        r.tiers[it->name.GetString()] = tier;
      }
    }
  }

  if (const Value* breaker = reader.Object(document, "circuit_breaker", "circuit_breaker")) {
    CircuitBreakerSettings& b = config.circuit_breaker;
    b.failure_threshold = reader.Int(*breaker, "failure_threshold", "circuit_breaker.failure_threshold",
                                     b.failure_threshold, 1, 1000);
    b.open_seconds = reader.Int(*breaker, "open_seconds", "circuit_breaker.open_seconds", b.open_seconds, 1, 86400);
  }

  if (const Value* maintenance = reader.Object(document, "maintenance", "maintenance")) {
    MaintenanceSettings& m = config.maintenance;
    m.enabled = reader.Bool(*maintenance, "enabled", "maintenance.enabled", m.enabled);
    m.message = reader.String(*maintenance, "message", "maintenance.message", m.message);
    m.retry_after_seconds = reader.Int(*maintenance, "retry_after", "maintenance.retry_after",
                                       m.retry_after_seconds, 1, 86400);
  }

  if (const Value* webhooks = reader.Object(document, "webhooks", "webhooks")) {
    WebhookSettings& w = config.webhooks;
    w.enabled = reader.Bool(*webhooks, "enabled", "webhooks.enabled", w.enabled);
    w.workers = reader.Int(*webhooks, "workers", "webhooks.workers", w.workers, 0, 64);
    w.max_attempts = reader.Int(*webhooks, "max_attempts", "webhooks.max_attempts", w.max_attempts, 1, 1000);
    w.allow_loopback = reader.Bool(*webhooks, "allow_loopback", "webhooks.allow_loopback", w.allow_loopback);
  }
  if (const Value* closures = reader.Object(document, "closures", "closures")) {
    ClosureSettings& c = config.closures;
    c.schedule = reader.Bool(*closures, "schedule", "closures.schedule", c.schedule);
    c.check_interval_seconds = reader.Int(*closures, "check_interval_seconds", "closures.check_interval_seconds",
                                          c.check_interval_seconds, 1, 3600);
  }

  config.plugin_dir = reader.String(document, "plugin_dir", "plugin_dir", config.plugin_dir);
  config.plugin_cache_dir = reader.String(document, "plugin_cache_dir", "plugin_cache_dir", config.plugin_cache_dir);
  if (const Value* trust = reader.Object(document, "plugin_trust", "plugin_trust")) {
    config.plugin_trust_mode = reader.String(*trust, "mode", "plugin_trust.mode", config.plugin_trust_mode);
    if (config.plugin_trust_mode != "strict" && config.plugin_trust_mode != "permissive" &&
        config.plugin_trust_mode != "auto") {
      reader.Fail("plugin_trust.mode", "must be \"strict\", \"permissive\" or \"auto\"");
    }
    if (const Value* keys = reader.Member(*trust, "trusted_keys")) {
      if (!keys->IsArray()) reader.Fail("plugin_trust.trusted_keys", "must be an array of PEM file paths");
      for (rapidjson::SizeType i = 0; i < keys->Size(); ++i) {
        if (!(*keys)[i].IsString()) reader.Fail("plugin_trust.trusted_keys", "must be an array of PEM file paths");
        config.trusted_plugin_keys.push_back((*keys)[i].GetString());
      }
    }
  }
  config.signing_keys = ReadSigningKeys(reader, document, config.plugin_cache_dir);

  // Live keys report to real authorities, so "auto" demands certified plugins exactly then.
  std::string trust_mode = config.plugin_trust_mode == "auto" ? (config.live_mode_enabled ? "strict" : "permissive")
                                                              : config.plugin_trust_mode;

  if (const Value* plugins = reader.Member(document, "plugins")) {
    if (!plugins->IsArray()) reader.Fail("plugins", "must be an array");
    for (rapidjson::SizeType i = 0; i < plugins->Size(); ++i) {
      plugins::PluginConfig plugin = ReadPlugin(reader, (*plugins)[i], "plugins[" + std::to_string(i) + "]");
      plugin.plugin_dir = config.plugin_dir;
      plugin.cache_dir = config.plugin_cache_dir;
      plugin.trust_mode = trust_mode;
      plugin.trusted_keys = config.trusted_plugin_keys;
      config.plugins.push_back(std::move(plugin));
    }
  }
  return config;
}

HostConfig LoadFromFile(const std::string& path) {
  std::ifstream file(path);
  if (!file) throw std::runtime_error("configuration " + path + ": cannot be read");
  std::stringstream text;
  text << file.rdbuf();
  return LoadFromJson(text.str(), path);
}

}  // namespace fiscal::config
