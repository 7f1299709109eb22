// Test harness for integration tests: a fresh database per test fixture, a real fiscal-host process
// started against it, and an HTTP client. Needs the servers that scripts/test.sh starts; without
// them (no FISCAL_TEST_PG in the environment) the tests skip with a message saying so.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "common/json_tree.h"

namespace fiscal::testing {

struct HttpResult {
  long status = 0;
  std::string body;
  std::string content_type;
  long new_connections = 0;  // connections libcurl opened for this request
  std::string error;         // libcurl error, empty when a response arrived
  std::map<std::string, std::string> headers;  // response headers, names in lower case
};

// Sends one request; `headers` are "Name: value" lines.
HttpResult HttpCall(const std::string& method, const std::string& url, const std::string& body = "",
                    const std::vector<std::string>& headers = {});

// Parses a JSON body, failing the current test when it is not JSON.
json::Node ParseJson(const std::string& text);
std::string Text(const json::Node& node, const char* name);

// Returns "" when the servers of scripts/test.sh are available, else the reason to skip.
std::string MissingEnvironment();

// A database created for one test suite and dropped at the end.
class TestDatabase {
 public:
  TestDatabase();
  ~TestDatabase();
  const std::string& connection() const { return connection_; }
  // Runs SQL and returns the first column of the first row as text ("" when no row).
  std::string Query(const std::string& sql) const;
  // Runs a statement; returns "" on success, else the database's error message.
  std::string Execute(const std::string& sql) const;

 private:
  std::string name_;
  std::string connection_;
};

struct HostOptions {
  std::vector<std::string> extra_plugins_json;  // more entries for the "plugins" list
  bool with_spain = true;
  int submission_workers = 2;
  int max_attempts = 50;
  int late_after_seconds = 240;
  // Spain plugin entry: "path" (the built file) when `spain_version` is empty, else this version
  // from `plugin_dir`, with `spain_location_versions` (a JSON object) as per-location pins.
  std::string spain_version;
  std::string plugin_dir;
  std::string spain_location_versions = "{}";
  // "plugin_trust" object, e.g. {"mode": "strict", "trusted_keys": [...]}; empty: the default.
  std::string plugin_trust_json;
  // Adds the France NF525 plugin (built file), country FR, system "nf525".
  bool with_france = false;
  std::string france_version = "1.0.0";  // "1.0.1": the test-only second build
  // signing_keys.directory; empty: the host's default (next to plugin_cache_dir).
  std::string signing_keys_dir;
  // "closures" object, e.g. {"schedule": false}; empty: the default.
  std::string closures_json;
  // Rate limit tier of test keys; the default is high enough that no other test is throttled.
  std::string sandbox_tier_json = "{\"requests_per_minute\":1000000,\"burst\":1000000}";
};

// Bearer token of the admin API in hosts started by HostProcess.
constexpr const char* kAdminToken = "test-admin-token-0123456789";

// A fiscal-host process on a free loopback port.
class HostProcess {
 public:
  HostProcess(const TestDatabase& database, const HostOptions& options = {});
  ~HostProcess();

  const std::string& base_url() const { return base_url_; }
  pid_t pid() const { return pid_; }
  // Rewrites the configuration file (same port and database) for a later reload.
  void RewriteConfig(const HostOptions& options);
  // Sends SIGTERM (or SIGKILL when `hard`) and waits for the process.
  void Stop(bool hard = false);

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::string base_url_;
  std::string log_path_;
  std::string config_path_;
  std::string database_connection_;
};

// Creates an account and returns its test API key.
std::string CreateAccount(const std::string& base_url);
// Creates a Spanish VERI*FACTU location and returns its id.
std::string CreateSpainLocation(const std::string& base_url, const std::string& key, const std::string& nif = "89890001K",
                                const std::string& installation = "1");
// Creates a French NF525 register (location) and returns its id.
std::string CreateFranceLocation(const std::string& base_url, const std::string& key,
                                 const std::string& siret = "73282932000074", const std::string& register_id = "CAISSE-01");
// A valid sale body for `location_id`: 2 x 2.50 + 1 x 3.00 at 10 %, total 8.00.
std::string SaleBody(const std::string& location_id);

std::vector<std::string> Auth(const std::string& key);

// Checks every chain in the database: gap-free sequences, exactly one first record per chain, and
// every other record naming its predecessor's hash.
void ExpectChainsIntact(const TestDatabase& database);
// Waits until no fiscal record is pending (up to `seconds`); returns the number still pending.
int WaitAllResolved(const TestDatabase& database, int seconds);
// Returns the emulator's stored records (GET /control/records).
json::Node EmulatorRecords();
// Runs redis-cli against the test Redis with `arguments`; returns its output.
std::string RedisCli(const std::string& arguments);
// Runs scripts/service.sh ACTION (stop-postgres, start-postgres, stop-redis, start-redis).
void Service(const std::string& action);

// Resets the emulator's state and fault mode, and the Spain circuit breaker in Redis.
void ResetEmulator();
// Sets the emulator's fault mode (see sandbox/aeat-emulator).
void SetEmulatorFault(const std::string& json);

}  // namespace fiscal::testing
