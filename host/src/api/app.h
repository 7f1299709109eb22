// The REST API: wires the handlers of every resource into one router.
#pragma once

#include <functional>
#include <memory>

#include "config/config.h"
#include "http/router.h"
#include "plugins/plugin_registry.h"
#include "queue/submitter.h"
#include "store/accounts_store.h"
#include "store/database.h"
#include "store/transactions_store.h"

namespace fiscal::redis {
class RateLimiter;
class CircuitBreaker;
}  // namespace fiscal::redis
namespace fiscal::webhooks {
class WebhookStore;
}  // namespace fiscal::webhooks
namespace fiscal::keys {
class KeyStore;
}  // namespace fiscal::keys
namespace fiscal::journal {
class RegisterService;
class ClosureScheduler;
}  // namespace fiscal::journal
namespace fiscal::store {
class ChainRecordsStore;
}  // namespace fiscal::store

namespace fiscal::api {

class MaintenanceMode;

// Everything the handlers use. Owned by main(); outlives the router.
struct App {
  const config::HostConfig* config = nullptr;
  store::Database* database = nullptr;
  plugins::PluginRegistry* plugins = nullptr;
  queue::Submitter* submitter = nullptr;  // may be null (no background sending)
  std::unique_ptr<store::AccountsStore> accounts;
  std::unique_ptr<store::TransactionsStore> transactions;
  // Optional components; a null pointer turns the feature off.
  webhooks::WebhookStore* webhooks = nullptr;
  redis::RateLimiter* rate_limiter = nullptr;
  redis::CircuitBreaker* circuit_breaker = nullptr;
  MaintenanceMode* maintenance = nullptr;
  // Signing keys of registers that sign their records (France). Null: such plugins cannot sign.
  keys::KeyStore* keys = nullptr;
  // Duplicates, closures, journal events and archives of registers.
  store::ChainRecordsStore* chain_records = nullptr;
  journal::RegisterService* registers = nullptr;
  journal::ClosureScheduler* closure_scheduler = nullptr;
  // Re-reads the configuration file and reloads one plugin (name) or all (empty name). Empty when
  // the host has no configuration file to re-read.
  std::function<Status(const std::string& plugin_name)> reload_plugins;
};

std::shared_ptr<http::Router> BuildRouter(App& app);

// Route groups, one per file.
void AddSystemRoutes(App& app, http::Router& router);
void AddAccountRoutes(App& app, http::Router& router);
void AddLocationRoutes(App& app, http::Router& router);
void AddTransactionRoutes(App& app, http::Router& router);
void AddRegisterRoutes(App& app, http::Router& router);

}  // namespace fiscal::api
