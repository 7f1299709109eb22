// fiscal-host: the fiscalization server.
//
//   fiscal-host --config FILE [--migrate]   serve the API (after applying migrations with --migrate)
//   fiscal-host --config FILE migrate       apply the database migrations and exit
#include <csignal>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <thread>

#include "api/app.h"
#include "journal/closure_scheduler.h"
#include "journal/register_service.h"
#include "keys/key_store.h"
#include "store/chain_records_store.h"
#include "api/maintenance.h"
#include "common/log.h"
#include "http/server.h"
#include "net/https_client.h"
#include "plugins/plugin_probe.h"
#include "redis/circuit_breaker.h"
#include "redis/rate_limiter.h"
#include "redis/redis_client.h"
#include "webhooks/webhook_sender.h"
#include "webhooks/webhook_store.h"

namespace {

volatile std::sig_atomic_t g_stop = 0;
volatile std::sig_atomic_t g_reload = 0;

void OnSignal(int) { g_stop = 1; }
void OnHangup(int) { g_reload = 1; }

// Re-reads the configuration file and reloads one plugin (or all for an empty name). The rest of
// the configuration (ports, database) needs a restart.
fiscal::Status ReloadPlugins(const std::string& config_path, fiscal::plugins::PluginRegistry& registry,
                             const std::string& name) {
  fiscal::config::HostConfig fresh;
  try {
    fresh = fiscal::config::LoadFromFile(config_path);
  } catch (const std::exception& error) {
    return fiscal::Status::InvalidArgument("", std::string("the configuration cannot be reloaded: ") + error.what());
  }
  if (name.empty()) {
    registry.LoadAll(fresh.plugins);
    return fiscal::Status::Ok();
  }
  for (const auto& plugin : fresh.plugins) {
    if (plugin.name == name) return registry.Reload(plugin);
  }
  return fiscal::Status::NotFound("plugin " + name + " is not in the configuration file " + config_path);
}

void PrintUsage() {
  std::cerr << "usage: fiscal-host --config FILE [--migrate]\n"
               "       fiscal-host --config FILE migrate\n";
}

// Connects to PostgreSQL, retrying for up to `seconds` because the database may still be starting.
std::unique_ptr<fiscal::store::Database> OpenDatabase(const fiscal::config::HostConfig& config, int seconds) {
  for (int attempt = 0;; ++attempt) {
    auto database = fiscal::store::Database::Open(config.database.connection, config.database.pool_size);
    if (database.ok()) return std::move(database.value());
    if (attempt >= seconds) throw std::runtime_error(database.status().message());
    if (attempt == 0) fiscal::log::Warning("database not reachable yet, retrying", {{"error", database.status().message()}});
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

// After a successful reload: the registers journal the new configuration and, where the plugin
// serving them changed version, the change.
void JournalReload(fiscal::journal::RegisterService& registers) {
  // Version changes first: they compare with the newest record, which the next event would be.
  registers.JournalVersionChanges();
  registers.JournalEverywhere(fiscal::journal::HostEvent("config_change", "host configuration reloaded"));
}

int Run(int argc, char** argv) {
  // The load probe: a child process that loads one plugin and exits (see plugins/plugin_probe.h).
  if (argc == 3 && std::strcmp(argv[1], "--probe-plugin") == 0) return fiscal::plugins::RunPluginProbe(argv[2]);

  std::string config_path;
  bool migrate = false;
  bool migrate_only = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
      config_path = argv[++i];
    } else if (std::strcmp(argv[i], "--migrate") == 0) {
      migrate = true;
    } else if (std::strcmp(argv[i], "migrate") == 0) {
      migrate_only = true;
    } else {
      PrintUsage();
      return 2;
    }
  }
  if (config_path.empty()) {
    PrintUsage();
    return 2;
  }

  fiscal::config::HostConfig config = fiscal::config::LoadFromFile(config_path);
  auto database = OpenDatabase(config, 30);
  if (migrate || migrate_only) {
    fiscal::Status status = database->Migrate(config.sql_dir);
    if (!status.ok()) throw std::runtime_error("migration failed: " + status.ToString());
    if (migrate_only) return 0;
  }

  auto https = std::make_shared<fiscal::net::HttpsClient>();
  fiscal::plugins::PluginRegistry registry(https);
  std::error_code self_error;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", self_error);
  if (!self_error) registry.SetProbeExecutable(self.string());
  registry.LoadAll(config.plugins);

  // Redis keeps the state that host instances share: rate-limit buckets and circuit breakers. Both fall
  // back to local state while Redis is unreachable.
  fiscal::redis::RedisClientOptions redis_options;
  redis_options.host = config.redis.host;
  redis_options.port = config.redis.port;
  auto redis_client = std::make_shared<fiscal::redis::RedisClient>(redis_options);

  fiscal::redis::RateLimitConfig limit_config;
  for (const auto& [name, tier] : config.rate_limits.tiers) {
    limit_config.tiers[name] = {tier.requests_per_minute, tier.burst};
  }
  fiscal::Status limits_valid = limit_config.Validate();
  if (!limits_valid.ok()) throw std::runtime_error("configuration: rate_limits: " + limits_valid.message());
  fiscal::redis::RateLimiter rate_limiter(redis_client, limit_config);

  fiscal::redis::CircuitBreakerConfig breaker_config;
  breaker_config.failure_threshold = config.circuit_breaker.failure_threshold;
  breaker_config.open_duration = std::chrono::seconds(config.circuit_breaker.open_seconds);
  fiscal::redis::CircuitBreaker breaker(redis_client, breaker_config);

  fiscal::webhooks::WebhookStore::Options webhook_options;
  webhook_options.max_attempts = config.webhooks.max_attempts;
  fiscal::webhooks::WebhookStore webhook_store(*database, webhook_options);
  fiscal::webhooks::SenderOptions sender_options;
  sender_options.workers = config.webhooks.workers;
  sender_options.address_policy.allow_loopback = config.webhooks.allow_loopback;
  fiscal::webhooks::WebhookSender webhook_sender(webhook_store, sender_options);
  fiscal::webhooks::WebhookStore* webhooks = config.webhooks.enabled ? &webhook_store : nullptr;

  fiscal::queue::Submitter submitter(*database, registry, config.submission, config.instance_id, &breaker, webhooks,
                                     [&webhook_sender] { webhook_sender.Notify(); });

  fiscal::api::MaintenanceMode maintenance(config.admin_token);
  maintenance.Set({config.maintenance.enabled, config.maintenance.message, config.maintenance.retry_after_seconds});

  fiscal::api::App app;
  app.config = &config;
  app.database = database.get();
  app.plugins = &registry;
  app.submitter = &submitter;
  app.accounts = std::make_unique<fiscal::store::AccountsStore>(*database);
  app.transactions = std::make_unique<fiscal::store::TransactionsStore>(*database);
  app.webhooks = webhooks;
  app.rate_limiter = &rate_limiter;
  app.circuit_breaker = &breaker;
  app.maintenance = &maintenance;
  // Registers that sign their own records (France): keys, their other chains and the schedule.
  fiscal::keys::KeyStore key_store(config.signing_keys.directory);
  fiscal::store::ChainRecordsStore chain_records(*database);
  fiscal::journal::RegisterService registers(registry, chain_records, *app.accounts, &key_store);
  fiscal::journal::ClosureScheduler closure_scheduler(registers, *app.accounts, chain_records,
                                                      std::chrono::seconds(config.closures.check_interval_seconds));
  app.keys = &key_store;
  app.chain_records = &chain_records;
  app.registers = &registers;
  app.closure_scheduler = &closure_scheduler;
  app.reload_plugins = [&config_path, &registry, &registers](const std::string& name) {
    fiscal::Status status = ReloadPlugins(config_path, registry, name);
    if (status.ok()) JournalReload(registers);
    return status;
  };

  fiscal::http::ServerOptions options;
  options.address = config.http.address;
  options.port = config.http.port;
  options.threads = config.http.threads;
  options.max_body_bytes = config.http.max_body_bytes;
  fiscal::http::Server server(options, fiscal::api::BuildRouter(app));

  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGHUP, OnHangup);
  // Registers journal the start before the first request can reach them.
  registers.JournalVersionChanges();
  registers.JournalEverywhere(fiscal::journal::HostEvent("start", std::string("fiscal-host ") + FISCAL_VERSION));
  server.Start();
  submitter.Start();
  if (config.closures.schedule) closure_scheduler.Start();
  if (webhooks != nullptr) webhook_sender.Start();
  fiscal::log::Info("fiscal-host started", {{"address", config.http.address},
                                            {"port", std::to_string(server.port())},
                                            {"instance_id", config.instance_id}});

  while (!g_stop) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (!g_reload) continue;
    g_reload = 0;
    fiscal::log::Info("SIGHUP: reloading plugins from the configuration file", {{"config", config_path}});
    fiscal::Status status = ReloadPlugins(config_path, registry, "");
    if (!status.ok()) fiscal::log::Error("plugin reload failed", {{"error", status.message()}});
    if (status.ok()) JournalReload(registers);
  }

  // Stop taking requests first, then let the senders finish their current batch.
  fiscal::log::Info("fiscal-host stopping", {{"instance_id", config.instance_id}});
  server.Stop();
  closure_scheduler.Stop();
  registers.JournalEverywhere(fiscal::journal::HostEvent("stop", std::string("fiscal-host ") + FISCAL_VERSION));
  submitter.Stop();
  webhook_sender.Stop();
  fiscal::log::Info("fiscal-host stopped", {{"instance_id", config.instance_id}});
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Run(argc, argv);
  } catch (const std::exception& error) {
    fiscal::log::Error("fiscal-host cannot start", {{"error", error.what()}});
    return 1;
  }
}
