// A fresh, migrated PostgreSQL database for one unit-test suite, on the server that
// scripts/test.sh starts (FISCAL_TEST_PG). Dropped when destroyed.
#pragma once

#include <cstdlib>
#include <memory>
#include <random>
#include <string>

#include <gtest/gtest.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include "store/database.h"

namespace fiscal::testing {

// Why a suite that needs PostgreSQL skips.
inline constexpr const char* kNeedsPostgres =
    "needs PostgreSQL: set FISCAL_TEST_PG (for example \"host=127.0.0.1 port=15433 user=fiscal\"), as "
    "scripts/test.sh does";

class ScratchDatabase {
 public:
  // Creates and migrates a database named <prefix>_<random>. Returns nullptr when FISCAL_TEST_PG is
  // unset, and records a test failure when the server is set but the set-up fails.
  static std::unique_ptr<ScratchDatabase> Create(const std::string& prefix, int pool_size = 4) {
    const char* server = std::getenv("FISCAL_TEST_PG");
    if (server == nullptr || *server == '\0') return nullptr;

    std::unique_ptr<ScratchDatabase> scratch(new ScratchDatabase());
    scratch->server_ = server;
    scratch->name_ = prefix + "_" + std::to_string(std::mt19937_64(std::random_device{}())() % 1000000000ULL);
    soci::session admin(soci::postgresql, scratch->server_ + " dbname=postgres");
    admin << "CREATE DATABASE " + scratch->name_;
    scratch->connection_ = scratch->server_ + " dbname=" + scratch->name_;

    auto database = store::Database::Open(scratch->connection_, pool_size);
    if (!database.ok()) {
      ADD_FAILURE() << "cannot open the test database: " << database.status().ToString();
      return nullptr;
    }
    scratch->database_ = std::move(database.value());
    Status migrated = scratch->database_->Migrate(std::string(FISCAL_SOURCE_DIR) + "/sql");
    if (!migrated.ok()) {
      ADD_FAILURE() << "cannot migrate the test database: " << migrated.ToString();
      return nullptr;
    }
    return scratch;
  }

  ~ScratchDatabase() {
    database_.reset();
    if (name_.empty()) return;
    try {
      soci::session admin(soci::postgresql, server_ + " dbname=postgres");
      admin << "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)";
    } catch (const std::exception& error) {
      ADD_FAILURE() << "cannot drop test database " << name_ << ": " << error.what();
    }
  }

  store::Database& database() { return *database_; }
  const std::string& connection() const { return connection_; }

 private:
  ScratchDatabase() = default;

  std::string server_;
  std::string name_;
  std::string connection_;
  std::unique_ptr<store::Database> database_;
};

}  // namespace fiscal::testing
