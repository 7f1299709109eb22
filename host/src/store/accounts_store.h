// Accounts, API keys and locations: the tenant side of the schema.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/database.h"

namespace fiscal::store {

struct AccountRow {
  std::string id, name, billing_email, status, created_at;
};

struct ApiKeyRow {
  std::string id, account_id, name, key_prefix, environment, key_type, created_at;
};

// The account and key behind an authenticated request.
struct Principal {
  std::string account_id;
  std::string account_status;
  std::string key_id;
  std::string environment;  // "test" | "live"
  std::string key_type;     // "root" | "restricted" | "admin"
};

struct LocationRow {
  std::string id, account_id, name, country, address, tax_id, country_config, plugin_name, chain_key, status,
      created_at, updated_at;
  std::string issuer_key;  // the taxpayer the location reports for (for Spain, the NIF)
  // What the plugin declared for the location (JSON object text): "signing_key", "features",
  // "submission", "time_zone". "{}" for plugins that declare nothing.
  std::string profile = "{}";
};

// A location and one environment in which its records exist.
struct RegisterRow {
  LocationRow location;
  std::string environment;
};

class AccountsStore {
 public:
  explicit AccountsStore(Database& database) : database_(database) {}

  // Creates an account and its first (root, test) API key in one transaction. A duplicate billing
  // email gives kConflict.
  Result<std::pair<AccountRow, ApiKeyRow>> CreateAccount(const std::string& name, const std::string& billing_email,
                                                         const std::string& key_hash, const std::string& key_prefix);
  Result<ApiKeyRow> CreateApiKey(const std::string& account_id, const std::string& environment,
                                 const std::string& name, const std::string& key_hash, const std::string& key_prefix);
  Result<std::vector<ApiKeyRow>> ListApiKeys(const std::string& account_id);
  // Returns the principal of a non-revoked key, or nullopt.
  Result<std::optional<Principal>> FindPrincipal(const std::string& key_hash);

  // Creates a location. The first account to create a location for an issuer owns that issuer; a
  // location of another account for the same issuer gives kConflict.
  Result<LocationRow> CreateLocation(const LocationRow& location);
  // Returns the location when it belongs to `account_id`, else kNotFound.
  Result<LocationRow> GetLocation(const std::string& account_id, const std::string& location_id);
  Result<std::vector<LocationRow>> ListLocations(const std::string& account_id, int limit, int offset, long& total);
  // Every active location, of every account, whose profile lists `feature`, once per environment
  // in which it has records.
  Result<std::vector<RegisterRow>> ListRegisters(const std::string& feature);

 private:
  Database& database_;
};

// SQL expression that renders a timestamptz column as RFC 3339 UTC with milliseconds.
#define FISCAL_SQL_TIME(column) "to_char(" column " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

}  // namespace fiscal::store
