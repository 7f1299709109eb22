// Read-only view of the outbox for API clients: each entry with its transaction and the time its
// chain may next be sent, and per-status counts.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/database.h"

namespace fiscal::queue {

struct RetryQueueEntry {
  long long id = 0;
  std::string transaction_id, record_id, account_id, status;
  int attempt = 0;
  int max_attempts = 0;
  // The chain's next allowed send time; empty for completed and dead entries, which are not sent again.
  std::optional<std::string> next_retry_at;
  std::optional<std::string> last_error;
  std::string created_at, updated_at;  // RFC 3339 UTC
};

struct RetryQueueFilter {
  std::string status;          // empty: any
  std::string transaction_id;  // empty: any; otherwise a UUID
  int limit = 20;
  int offset = 0;
};

struct RetryQueueStats {
  long long pending = 0, processing = 0, completed = 0, failed = 0, dead = 0, total = 0;
};

class RetryQueueStore {
 public:
  explicit RetryQueueStore(store::Database& database) : database_(database) {}

  // Lists the account's outbox entries, newest first, and sets `total` to the number matching the filter.
  Result<std::vector<RetryQueueEntry>> List(const std::string& account_id, const RetryQueueFilter& filter,
                                            long& total);

  // Counts the account's entries by status, over entries created or updated in the last 24 hours.
  Result<RetryQueueStats> Stats(const std::string& account_id);

 private:
  store::Database& database_;
};

}  // namespace fiscal::queue
