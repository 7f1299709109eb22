#include "queue/retry_queue_store.h"

#include <soci/soci.h>

#include "store/accounts_store.h"

namespace fiscal::queue {
namespace {

// next_send_at belongs to the chain: every unfinished entry of a chain waits for the same time.
const char* kEntryColumns =
    "o.id, r.transaction_id::text, o.record_id::text, o.account_id::text, o.status, o.attempt, o.max_attempts, "
    "CASE WHEN o.status IN ('completed', 'dead') THEN NULL ELSE " FISCAL_SQL_TIME("s.next_send_at") " END, "
    "o.last_error, " FISCAL_SQL_TIME("o.created_at") ", " FISCAL_SQL_TIME("o.updated_at");

const char* kEntryTables =
    " FROM outbox o JOIN fiscal_records r ON r.id = o.record_id "
    "LEFT JOIN submission_streams s ON s.chain_id = o.chain_id";

std::optional<std::string> OptionalText(const soci::row& row, size_t column) {
  if (row.get_indicator(column) != soci::i_ok) return std::nullopt;
  return row.get<std::string>(column);
}

RetryQueueEntry ReadEntry(const soci::row& row) {
  RetryQueueEntry entry;
  entry.id = row.get<long long>(0);
  entry.transaction_id = row.get<std::string>(1);
  entry.record_id = row.get<std::string>(2);
  entry.account_id = row.get<std::string>(3);
  entry.status = row.get<std::string>(4);
  entry.attempt = row.get<int>(5);
  entry.max_attempts = row.get<int>(6);
  entry.next_retry_at = OptionalText(row, 7);
  entry.last_error = OptionalText(row, 8);
  entry.created_at = row.get<std::string>(9);
  entry.updated_at = row.get<std::string>(10);
  return entry;
}

}  // namespace

Result<std::vector<RetryQueueEntry>> RetryQueueStore::List(const std::string& account_id,
                                                           const RetryQueueFilter& filter, long& total) {
  std::vector<RetryQueueEntry> entries;
  Status status = database_.Run([&](soci::session& session) {
    // Every filter is bound; an empty value disables its condition.
    const std::string where =
        " WHERE o.account_id = :a::uuid AND (:s = '' OR o.status = :s2) "
        "AND (:t = '' OR r.transaction_id = nullif(:t2, '')::uuid)";

    long long count = 0;
    session << std::string("SELECT count(*)") + kEntryTables + where, soci::use(account_id, "a"),
        soci::use(filter.status, "s"), soci::use(filter.status, "s2"), soci::use(filter.transaction_id, "t"),
        soci::use(filter.transaction_id, "t2"), soci::into(count);
    total = static_cast<long>(count);

    soci::rowset<soci::row> rows =
        (session.prepare << std::string("SELECT ") + kEntryColumns + kEntryTables + where +
                                " ORDER BY o.created_at DESC, o.id DESC LIMIT :lim OFFSET :off",
         soci::use(account_id, "a"), soci::use(filter.status, "s"), soci::use(filter.status, "s2"),
         soci::use(filter.transaction_id, "t"), soci::use(filter.transaction_id, "t2"),
         soci::use(filter.limit, "lim"), soci::use(filter.offset, "off"));
    for (const soci::row& row : rows) entries.push_back(ReadEntry(row));
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return entries;
}

Result<RetryQueueStats> RetryQueueStore::Stats(const std::string& account_id) {
  RetryQueueStats stats;
  Status status = database_.Run([&](soci::session& session) {
    // NOTE: updated_at is not indexed, so this scans all of the account's outbox entries. A large
    // outbox per account would need an index on (account_id, updated_at).
    soci::rowset<soci::row> rows =
        (session.prepare << "SELECT status, count(*) FROM outbox WHERE account_id = :a::uuid "
                            "AND (created_at >= now() - interval '24 hours' OR updated_at >= now() - interval '24 hours') "
                            "GROUP BY status",
         soci::use(account_id));
    for (const soci::row& row : rows) {
      std::string name = row.get<std::string>(0);
      long long count = row.get<long long>(1);
      if (name == "pending") stats.pending = count;
      if (name == "processing") stats.processing = count;
      if (name == "completed") stats.completed = count;
      if (name == "failed") stats.failed = count;
      if (name == "dead") stats.dead = count;
      stats.total += count;
    }
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return stats;
}

}  // namespace fiscal::queue
