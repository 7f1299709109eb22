#include "store/database.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include <soci/connection-pool.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include "common/log.h"

namespace fiscal::store {
namespace {

// SQLSTATE classes and codes (PostgreSQL appendix A).
bool IsConnectionState(const std::string& sqlstate) {
  return sqlstate.rfind("08", 0) == 0 || sqlstate.rfind("57P", 0) == 0 || sqlstate == "53300";
}

Status MapError(const soci::soci_error& error) {
  std::string sqlstate;
  if (auto* pg = dynamic_cast<const soci::postgresql_soci_error*>(&error)) sqlstate = pg->sqlstate();
  std::string message = error.get_error_message();

  if (error.get_error_category() == soci::soci_error::connection_error || IsConnectionState(sqlstate) ||
      message.find("connection") != std::string::npos || message.find("server closed") != std::string::npos) {
    log::Warning("database unavailable", {{"error", message}, {"sqlstate", sqlstate}});
    return Status::Unavailable("the database is unavailable; retry the request shortly");
  }
  if (sqlstate == "23505") return Status::Conflict("duplicate", "a resource with the same unique value already exists");
  // Class 22 (data exception): a value the input checks let through but PostgreSQL cannot store.
  if (sqlstate.rfind("22", 0) == 0) {
    log::Warning("database rejected a value", {{"error", message}, {"sqlstate", sqlstate}});
    return Status::InvalidArgument("", "a value in the request is out of range or malformed: " + message.substr(0, 200));
  }
  log::Error("database error", {{"error", message}, {"sqlstate", sqlstate}});
  return Status::Internal("a database error occurred");
}

}  // namespace

Database::Database(std::string connection, int pool_size)
    : connection_(std::move(connection)), pool_size_(pool_size) {}

Database::~Database() = default;

Result<std::unique_ptr<Database>> Database::Open(const std::string& connection, int pool_size) {
  std::unique_ptr<Database> database(new Database(connection, pool_size));
  try {
    database->pool_ = std::make_unique<soci::connection_pool>(pool_size);
    for (int i = 0; i < pool_size; ++i) database->pool_->at(i).open(soci::postgresql, connection);
  } catch (const soci::soci_error& error) {
    return Status::Unavailable(std::string("cannot connect to PostgreSQL: ") + error.get_error_message());
  }
  return database;
}

Status Database::Run(const std::function<Status(soci::session&)>& work) {
  soci::session session(*pool_);
  try {
    // A session whose connection broke earlier (server restart) reconnects here.
    if (!session.is_connected()) session.reconnect();
    return work(session);
  } catch (const soci::soci_error& error) {
    Status status = MapError(error);
    if (status.code() == StatusCode::kUnavailable) {
      try {
        session.reconnect();
      } catch (const soci::soci_error&) {
        // Still down; the next use tries again.
      }
    }
    return status;
  } catch (const std::exception& error) {
    log::Error("unexpected error in database work", {{"error", error.what()}});
    return Status::Internal("an unexpected error occurred");
  }
}

Status Database::Ping() {
  return Run([](soci::session& session) {
    int one = 0;
    session << "SELECT 1", soci::into(one);
    return one == 1 ? Status::Ok() : Status::Internal("SELECT 1 returned an unexpected value");
  });
}

Status Database::Migrate(const std::string& sql_dir) {
  std::vector<std::filesystem::path> files;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(sql_dir, error)) {
    if (entry.path().extension() == ".sql") files.push_back(entry.path());
  }
  if (error) return Status::Internal("cannot read migration folder " + sql_dir + ": " + error.message());
  std::sort(files.begin(), files.end());

  return Run([&](soci::session& session) {
    // One migrating host at a time; the lock is released at the end of the session's transaction.
    soci::transaction guard(session);
    session << "SELECT pg_advisory_xact_lock(7461626)";
    session << "CREATE TABLE IF NOT EXISTS schema_migrations ("
               "version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())";

    for (const auto& file : files) {
      std::string version = file.filename().string();
      int applied = 0;
      session << "SELECT count(*) FROM schema_migrations WHERE version = :v", soci::use(version),
          soci::into(applied);
      if (applied > 0) continue;

      std::ifstream input(file);
      std::stringstream text;
      text << input.rdbuf();
      if (!input) return Status::Internal("cannot read migration " + file.string());

      session << text.str();
      session << "INSERT INTO schema_migrations (version) VALUES (:v)", soci::use(version);
      log::Info("migration applied", {{"version", version}});
    }
    guard.commit();
    return Status::Ok();
  });
}

}  // namespace fiscal::store
