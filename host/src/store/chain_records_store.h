// Records that are not a sale, refund or cancellation of their own: reprints (duplicates),
// closures, journal events and archives, each in its own signed chain of a location (see
// docs/france.md).
//
// Write() keeps the guarantee of TransactionsStore::Issue for several chains at once. It locks
// every chain head the operation touches, in the order given, builds each record through the
// plugin and stores them all in ONE database transaction. So a closure never exists without its
// journal event, nor an archive without its record.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/database.h"
#include "store/transactions_store.h"

namespace fiscal::store {

// One record to append to one chain.
struct ChainStep {
  std::string chain_key;
  std::string operation;       // "duplicate" | "closure" | "event" | "archive"
  std::string transaction_id;  // duplicates: the reprinted transaction; empty otherwise
  RecordBuilder build;
};

// The zip of an archive, stored with the archive's record.
struct ArchiveBlob {
  std::string id;  // uuid chosen by the caller (it is inside the signed manifest)
  std::string period_from, period_to;  // YYYY-MM-DD
  std::string sha256;                  // hex of the zip
  std::string content;                 // the zip bytes
};

struct ChainWriteRequest {
  std::string account_id, location_id, environment, plugin_name, plugin_version;
  // Closures: the tickets chain the closure covers. It is locked first, so no ticket commits
  // while the closure reads it. The covered tickets are those generated before
  // `subject_boundary` (RFC 3339), or all of them when it is empty.
  std::string subject_chain_key;
  std::string subject_boundary;
  // Closures: the level ("day", "month", "year"). With `skip_when_covered`, nothing is written
  // (and an empty list returned) when the last closure of this level already covers the last
  // ticket before the boundary.
  std::string closure_period;
  bool skip_when_covered = false;
  // Locked and written in this order. Callers list chains in the order of docs/france.md
  // (tickets, training, duplicates, closures, archives, journal): RegisterService builds every
  // request that way, and a different order could deadlock two writers.
  std::vector<ChainStep> steps;
  // Stored with the record of the first step whose operation is "archive".
  std::optional<ArchiveBlob> archive;
  // A signing incident to mark as journaled in the same transaction (0: none).
  long long incident_id = 0;
};

struct WrittenRecord {
  std::string id;
  std::string chain_key;
  long long sequence = 0;
};

// A stored record of a chain, with what an archive needs.
struct ChainRecordRow {
  std::string id, operation, record_type, fiscal_id, generated_at, plugin_name, plugin_version, hash, document,
      record_data, chain_state, transaction_id;
  long long sequence = 0;
};

// Requests refused because the location's signing key was unavailable, not yet journaled.
struct SigningIncident {
  long long id = 0;
  std::string first_at, last_at;  // RFC 3339 UTC
  int refused = 0;
};

class ChainRecordsStore {
 public:
  explicit ChainRecordsStore(Database& database) : database_(database) {}

  // Writes the steps atomically. Returns the records written, in step order; empty when
  // `skip_when_covered` found nothing new to close.
  Result<std::vector<WrittenRecord>> Write(const ChainWriteRequest& request);

  // Records of one chain generated in [from, to) (RFC 3339 instants), in sequence order, and the
  // last record before `from` (the anchor), if any.
  Result<std::vector<ChainRecordRow>> ListRecords(const std::string& plugin_name, const std::string& environment,
                                                  const std::string& chain_key, const std::string& from,
                                                  const std::string& to, std::optional<ChainRecordRow>* anchor);

  // Records of one chain, newest first, for listings.
  Result<std::vector<ChainRecordRow>> ListLatest(const std::string& plugin_name, const std::string& environment,
                                                 const std::string& chain_key, const std::string& operation, int limit,
                                                 int offset, long& total);

  // One record by id, or kNotFound.
  Result<ChainRecordRow> GetRecord(const std::string& record_id);

  // The state the newest record of a chain left (JSON text), or "" when the chain has no record.
  Result<std::string> HeadState(const std::string& plugin_name, const std::string& environment,
                                const std::string& chain_key);

  // The plugin version that wrote the location's newest record in `environment`, or "" when none.
  Result<std::string> LatestPluginVersion(const std::string& location_id, const std::string& environment);

  // Returns the stored zip of an archive of the location, or kNotFound.
  Result<ArchiveBlob> GetArchive(const std::string& account_id, const std::string& location_id,
                                 const std::string& archive_id);

  // Counts one request refused for want of the signing key, opening an incident when none is open.
  Status RecordSigningRefusal(const std::string& account_id, const std::string& location_id,
                              const std::string& environment);
  // The open incident of a location, if any.
  Result<std::optional<SigningIncident>> OpenIncident(const std::string& location_id, const std::string& environment);

  // Instant (RFC 3339 UTC) at which the local day, month or year containing `as_of` (RFC 3339;
  // empty for now) began in `time_zone` ("Europe/Paris"), per PostgreSQL's time zone database,
  // and the last local date before it (YYYY-MM-DD).
  Result<std::pair<std::string, std::string>> PeriodBoundary(const std::string& period, const std::string& time_zone,
                                                             const std::string& as_of);

  // Today's local date (YYYY-MM-DD) in `time_zone`.
  Result<std::string> LocalDate(const std::string& time_zone);

  // Instants (RFC 3339 UTC) at which the local dates `from` and the day after `to` begin.
  Result<std::pair<std::string, std::string>> LocalDateRange(const std::string& from, const std::string& to,
                                                             const std::string& time_zone);

 private:
  Database& database_;
};

}  // namespace fiscal::store
