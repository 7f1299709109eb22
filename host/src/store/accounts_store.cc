#include "store/accounts_store.h"

#include <soci/soci.h>

namespace fiscal::store {
namespace {

const char* kLocationColumns =
    "id::text, account_id::text, name, country, coalesce(address, ''), coalesce(tax_id, ''), country_config::text, "
    "plugin_name, chain_key, status, " FISCAL_SQL_TIME("created_at") ", " FISCAL_SQL_TIME("updated_at") ", issuer_key, "
    "profile::text";

LocationRow ReadLocation(const soci::row& row) {
  LocationRow location;
  location.id = row.get<std::string>(0);
  location.account_id = row.get<std::string>(1);
  location.name = row.get<std::string>(2);
  location.country = row.get<std::string>(3);
  location.address = row.get<std::string>(4);
  location.tax_id = row.get<std::string>(5);
  location.country_config = row.get<std::string>(6);
  location.plugin_name = row.get<std::string>(7);
  location.chain_key = row.get<std::string>(8);
  location.status = row.get<std::string>(9);
  location.created_at = row.get<std::string>(10);
  location.updated_at = row.get<std::string>(11);
  location.issuer_key = row.get<std::string>(12);
  location.profile = row.get<std::string>(13);
  return location;
}

ApiKeyRow InsertKey(soci::session& session, const std::string& account_id, const std::string& environment,
                    const std::string& name, const std::string& key_hash, const std::string& key_prefix) {
  ApiKeyRow key;
  key.account_id = account_id;
  key.environment = environment;
  key.name = name;
  key.key_prefix = key_prefix;
  key.key_type = "root";
  session << "INSERT INTO api_keys (account_id, name, key_prefix, key_hash, environment) "
             "VALUES (:a::uuid, :n, :p, :h, :e) RETURNING id::text, " FISCAL_SQL_TIME("created_at"),
      soci::use(account_id), soci::use(name), soci::use(key_prefix), soci::use(key_hash), soci::use(environment),
      soci::into(key.id), soci::into(key.created_at);
  return key;
}

}  // namespace

Result<std::pair<AccountRow, ApiKeyRow>> AccountsStore::CreateAccount(const std::string& name,
                                                                      const std::string& billing_email,
                                                                      const std::string& key_hash,
                                                                      const std::string& key_prefix) {
  std::pair<AccountRow, ApiKeyRow> created;
  Status status = database_.Run([&](soci::session& session) {
    soci::transaction transaction(session);
    AccountRow& account = created.first;
    account.name = name;
    account.billing_email = billing_email;

    // The unique index decides; checking first gives a clear message in the common case.
    int existing = 0;
    session << "SELECT count(*) FROM accounts WHERE billing_email = :e", soci::use(billing_email), soci::into(existing);
    if (existing > 0) return Status::Conflict("duplicate", "an account with this billing email already exists");

    session << "INSERT INTO accounts (name, billing_email) VALUES (:n, :e) RETURNING id::text, status, " FISCAL_SQL_TIME("created_at"),
        soci::use(name), soci::use(billing_email), soci::into(account.id), soci::into(account.status),
        soci::into(account.created_at);
    created.second = InsertKey(session, account.id, "test", "default", key_hash, key_prefix);
    transaction.commit();
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return created;
}

Result<ApiKeyRow> AccountsStore::CreateApiKey(const std::string& account_id, const std::string& environment,
                                              const std::string& name, const std::string& key_hash,
                                              const std::string& key_prefix) {
  ApiKeyRow key;
  Status status = database_.Run([&](soci::session& session) {
    key = InsertKey(session, account_id, environment, name, key_hash, key_prefix);
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return key;
}

Result<std::vector<ApiKeyRow>> AccountsStore::ListApiKeys(const std::string& account_id) {
  std::vector<ApiKeyRow> keys;
  Status status = database_.Run([&](soci::session& session) {
    soci::rowset<soci::row> rows = (session.prepare << "SELECT id::text, coalesce(name, ''), key_prefix, environment, key_type, "
                                                       FISCAL_SQL_TIME("created_at") " FROM api_keys "
                                                       "WHERE account_id = :a::uuid AND revoked_at IS NULL ORDER BY created_at",
                                    soci::use(account_id));
    for (const soci::row& row : rows) {
      ApiKeyRow key;
      key.id = row.get<std::string>(0);
      key.account_id = account_id;
      key.name = row.get<std::string>(1);
      key.key_prefix = row.get<std::string>(2);
      key.environment = row.get<std::string>(3);
      key.key_type = row.get<std::string>(4);
      key.created_at = row.get<std::string>(5);
      keys.push_back(std::move(key));
    }
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return keys;
}

Result<std::optional<Principal>> AccountsStore::FindPrincipal(const std::string& key_hash) {
  std::optional<Principal> principal;
  Status status = database_.Run([&](soci::session& session) {
    Principal found;
    soci::indicator indicator = soci::i_null;
    session << "SELECT k.account_id::text, a.status, k.id::text, k.environment, k.key_type FROM api_keys k "
               "JOIN accounts a ON a.id = k.account_id WHERE k.key_hash = :h AND k.revoked_at IS NULL",
        soci::use(key_hash), soci::into(found.account_id, indicator), soci::into(found.account_status),
        soci::into(found.key_id), soci::into(found.environment), soci::into(found.key_type);
    if (session.got_data() && indicator == soci::i_ok) principal = found;
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return principal;
}

Result<LocationRow> AccountsStore::CreateLocation(const LocationRow& input) {
  LocationRow location;
  Status status = database_.Run([&](soci::session& session) {
    soci::transaction transaction(session);

    // Claim the issuer for this account, or find who holds it.
    std::string owner;
    session << "INSERT INTO issuer_claims (plugin_name, issuer_key, account_id) VALUES (:p, :i, :a::uuid) "
               "ON CONFLICT (plugin_name, issuer_key) DO NOTHING",
        soci::use(input.plugin_name), soci::use(input.issuer_key), soci::use(input.account_id);
    session << "SELECT account_id::text FROM issuer_claims WHERE plugin_name = :p AND issuer_key = :i",
        soci::use(input.plugin_name), soci::use(input.issuer_key), soci::into(owner);
    if (owner != input.account_id) {
      return Status::Conflict("issuer_claimed", "the issuer " + input.issuer_key +
                                                    " belongs to another account; an issuer's records can only "
                                                    "be issued from one account");
    }

    // A register that signs its own records is one till: two locations on its chain would write
    // every journal event twice and split its archives.
    if (input.profile.find("\"signing_key\"") != std::string::npos) {
      std::string existing;
      session << "SELECT id::text FROM locations WHERE plugin_name = :p AND chain_key = :k LIMIT 1",
          soci::use(input.plugin_name), soci::use(input.chain_key), soci::into(existing);
      if (session.got_data()) {
        return Status::Conflict("register_in_use", "the register " + input.chain_key + " already has location " +
                                                       existing + "; use that location, or another register_id");
      }
    }

    soci::row row;
    session << std::string("INSERT INTO locations (account_id, name, country, address, tax_id, country_config, plugin_name, "
                           "chain_key, issuer_key, profile) VALUES (:a::uuid, :n, :c, nullif(:ad, ''), nullif(:t, ''), :cc::jsonb, "
                           ":p, :k, :i, :pr::jsonb) RETURNING ") +
                   kLocationColumns,
        soci::use(input.account_id), soci::use(input.name), soci::use(input.country), soci::use(input.address),
        soci::use(input.tax_id), soci::use(input.country_config), soci::use(input.plugin_name),
        soci::use(input.chain_key), soci::use(input.issuer_key), soci::use(input.profile), soci::into(row);
    location = ReadLocation(row);
    transaction.commit();
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return location;
}

Result<LocationRow> AccountsStore::GetLocation(const std::string& account_id, const std::string& location_id) {
  LocationRow location;
  Status status = database_.Run([&](soci::session& session) {
    soci::row row;
    session << std::string("SELECT ") + kLocationColumns + " FROM locations WHERE id = :id::uuid AND account_id = :a::uuid",
        soci::use(location_id), soci::use(account_id), soci::into(row);
    if (!session.got_data()) return Status::NotFound("location " + location_id + " not found");
    location = ReadLocation(row);
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return location;
}

Result<std::vector<LocationRow>> AccountsStore::ListLocations(const std::string& account_id, int limit, int offset,
                                                              long& total) {
  std::vector<LocationRow> locations;
  Status status = database_.Run([&](soci::session& session) {
    long long count = 0;
    session << "SELECT count(*) FROM locations WHERE account_id = :a::uuid", soci::use(account_id), soci::into(count);
    total = static_cast<long>(count);
    soci::rowset<soci::row> rows = (session.prepare << std::string("SELECT ") + kLocationColumns +
                                                           " FROM locations WHERE account_id = :a::uuid "
                                                           "ORDER BY created_at, id LIMIT :l OFFSET :o",
                                    soci::use(account_id), soci::use(limit), soci::use(offset));
    for (const soci::row& row : rows) locations.push_back(ReadLocation(row));
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return locations;
}

Result<std::vector<RegisterRow>> AccountsStore::ListRegisters(const std::string& feature) {
  std::vector<RegisterRow> registers;
  Status status = database_.Run([&](soci::session& session) {
    // A register exists in an environment once its main chain has a head there.
    soci::rowset<soci::row> rows =
        (session.prepare << std::string("SELECT ") + kLocationColumns +
                                ", environment FROM (SELECT l.*, c.environment FROM locations l JOIN chains c "
                                "ON c.plugin_name = l.plugin_name AND c.chain_key = l.chain_key "
                                "WHERE l.status = 'active' AND l.profile->'features' @> jsonb_build_array(:f::text)) r "
                                "ORDER BY created_at, id, environment",
         soci::use(feature));
    for (const soci::row& row : rows) {
      RegisterRow entry;
      entry.location = ReadLocation(row);
      entry.environment = row.get<std::string>(14);
      registers.push_back(std::move(entry));
    }
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return registers;
}

}  // namespace fiscal::store
