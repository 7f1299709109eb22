// PostgreSQL access through a SOCI connection pool.
//
// SOCI reports errors with exceptions; Database::Run is the one place that catches them and turns
// them into a Status, so the rest of the host sees only Status values. A lost connection becomes
// kUnavailable (HTTP 503) and the session reconnects on its next use.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/status.h"

namespace soci {
class session;
class connection_pool;
}  // namespace soci

namespace fiscal::store {

class Database {
 public:
  // Opens `pool_size` connections. Fails with kUnavailable when the server cannot be reached.
  static Result<std::unique_ptr<Database>> Open(const std::string& connection, int pool_size);
  ~Database();

  // Runs `work` with a pooled session. Database errors thrown inside `work` are caught and mapped:
  // connection loss -> kUnavailable, unique violation -> kConflict, others -> kInternal. A
  // non-OK Status returned by `work` is passed through. `work` must roll back its own transaction
  // on failure (soci::transaction does so in its destructor).
  Status Run(const std::function<Status(soci::session&)>& work);

  // Returns OK when a trivial query succeeds.
  Status Ping();

  // Applies the numbered *.sql files of `sql_dir` that are not applied yet, in file name order,
  // each in its own transaction, under an advisory lock so that concurrent hosts do not race.
  Status Migrate(const std::string& sql_dir);

 private:
  Database(std::string connection, int pool_size);

  std::string connection_;
  int pool_size_;
  std::unique_ptr<soci::connection_pool> pool_;
};

}  // namespace fiscal::store
