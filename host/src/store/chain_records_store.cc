#include "store/chain_records_store.h"

#include <soci/soci.h>

#include "store/accounts_store.h"
#include "store/chains.h"

namespace fiscal::store {
namespace {

const char* kChainRecordColumns =
    "id::text, operation, record_type, fiscal_id, " FISCAL_SQL_TIME("generated_at") ", plugin_name, plugin_version, "
    "hash, document, record_data::text, chain_state::text, coalesce(transaction_id::text, ''), sequence";

ChainRecordRow ReadChainRecord(const soci::row& row) {
  ChainRecordRow record;
  int i = 0;
  record.id = row.get<std::string>(i++);
  record.operation = row.get<std::string>(i++);
  record.record_type = row.get<std::string>(i++);
  record.fiscal_id = row.get<std::string>(i++);
  record.generated_at = row.get<std::string>(i++);
  record.plugin_name = row.get<std::string>(i++);
  record.plugin_version = row.get<std::string>(i++);
  record.hash = row.get<std::string>(i++);
  record.document = row.get<std::string>(i++);
  record.record_data = row.get<std::string>(i++);
  record.chain_state = row.get<std::string>(i++);
  record.transaction_id = row.get<std::string>(i++);
  record.sequence = row.get<long long>(i++);
  return record;
}

// The last ticket a closure covers: the newest record of the tickets chain generated before the
// boundary, or the head when there is no boundary.
void FindSubject(soci::session& session, const ChainHead& tickets, const std::string& boundary,
                 ChainPosition& position) {
  if (boundary.empty()) {
    position.subject_sequence = tickets.last_sequence;
    position.subject_state = tickets.last_state;
    return;
  }
  long long sequence = 0;
  std::string state;
  session << "SELECT sequence, chain_state::text FROM fiscal_records WHERE chain_id = :c "
             "AND generated_at < :b::timestamptz ORDER BY sequence DESC LIMIT 1",
      soci::use(tickets.id), soci::use(boundary), soci::into(sequence), soci::into(state);
  if (!session.got_data()) return;
  position.subject_sequence = sequence;
  position.subject_state = state;
}

std::string ToHex(const std::string& bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (unsigned char byte : bytes) {
    hex.push_back(kDigits[byte >> 4]);
    hex.push_back(kDigits[byte & 0x0f]);
  }
  return hex;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool FromHex(const std::string& hex, std::string& bytes) {
  if (hex.size() % 2 != 0) return false;
  bytes.clear();
  bytes.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int high = HexValue(hex[i]);
    int low = HexValue(hex[i + 1]);
    if (high < 0 || low < 0) return false;
    bytes.push_back(static_cast<char>(high * 16 + low));
  }
  return true;
}

}  // namespace

Result<std::vector<WrittenRecord>> ChainRecordsStore::Write(const ChainWriteRequest& request) {
  std::vector<WrittenRecord> written;
  Status status = database_.Run([&](soci::session& session) {
    written.clear();
    soci::transaction transaction(session);

    // A closure reads the tickets chain: its lock keeps every ticket either fully before the
    // closure or fully after it.
    ChainPosition subject;
    if (!request.subject_chain_key.empty()) {
      ChainHead tickets = LockChain(session, request.plugin_name, request.environment, request.subject_chain_key);
      FindSubject(session, tickets, request.subject_boundary, subject);
    }

    for (const ChainStep& step : request.steps) {
      ChainHead head = LockChain(session, request.plugin_name, request.environment, step.chain_key);

      // Scheduled closures skip a period that an earlier closure of the same level already covers,
      // so two hosts running the schedule never close the same tickets twice.
      if (step.operation == "closure" && request.skip_when_covered) {
        long long covered = 0;
        session << "SELECT coalesce(max((record_data->>'to_sequence')::bigint), 0) FROM fiscal_records "
                   "WHERE chain_id = :c AND operation = 'closure' AND record_data->>'period' = :p",
            soci::use(head.id), soci::use(request.closure_period), soci::into(covered);
        if (covered >= subject.subject_sequence) {
          written.clear();
          return Status::Ok();  // the transaction rolls back: nothing was written
        }
      }

      ChainPosition position = subject;
      position.chain_id = head.id;
      position.sequence = head.last_sequence + 1;
      position.previous_state = head.last_state;
      position.transaction_id = step.transaction_id;
      // clock_timestamp(): the time the record is generated, after the wait for the lock.
      session << "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')",
          soci::into(position.generated_at);
      if (step.operation == "duplicate") {
        // The duplicates chain is locked, so two reprints of one ticket never share a number.
        int copies = 0;
        session << "SELECT count(*) FROM fiscal_records WHERE transaction_id = :t::uuid AND operation = 'duplicate'",
            soci::use(step.transaction_id), soci::into(copies);
        position.copy_number = copies + 1;
      }

      Result<IssuedRecord> record = step.build(position);
      if (!record.ok()) return record.status();

      std::string record_id;
      session << "INSERT INTO fiscal_records (transaction_id, location_id, account_id, chain_id, sequence, operation, "
                 "record_type, plugin_name, plugin_version, fiscal_id, hash, document, document_type, qr_payload, "
                 "record_data, chain_state, receipt, generated_at, status) VALUES (nullif(:t, '')::uuid, :l::uuid, "
                 ":a::uuid, :c, :s, :op, :rt, :pn, :pv, :f, :h, :d, :dt, :q, :rd::jsonb, :cs::jsonb, :rc::jsonb, "
                 ":g::timestamptz, 'signed') RETURNING id::text",
          soci::use(step.transaction_id), soci::use(request.location_id), soci::use(request.account_id),
          soci::use(head.id), soci::use(position.sequence), soci::use(step.operation), soci::use(record->record_type),
          soci::use(request.plugin_name), soci::use(request.plugin_version), soci::use(record->fiscal_id),
          soci::use(record->hash), soci::use(record->document), soci::use(record->document_type),
          soci::use(record->qr_payload), soci::use(record->record_data), soci::use(record->chain_state),
          soci::use(record->receipt), soci::use(position.generated_at), soci::into(record_id);
      session << "UPDATE chains SET last_sequence = :s, last_state = :st::jsonb, last_record_id = :r::uuid, "
                 "updated_at = now() WHERE id = :c",
          soci::use(position.sequence), soci::use(record->chain_state), soci::use(record_id), soci::use(head.id);

      if (step.operation == "archive" && request.archive) {
        const ArchiveBlob& blob = *request.archive;
        // bytea travels as hex: SOCI's blob type maps to large objects on PostgreSQL, not bytea.
        std::string content = ToHex(blob.content);
        session << "INSERT INTO archives (id, account_id, location_id, environment, record_id, period_from, "
                   "period_to, sha256, content) VALUES (:id::uuid, :a::uuid, :l::uuid, :e, :r::uuid, :f::date, "
                   ":t::date, :h, decode(:c, 'hex'))",
            soci::use(blob.id), soci::use(request.account_id), soci::use(request.location_id),
            soci::use(request.environment), soci::use(record_id), soci::use(blob.period_from),
            soci::use(blob.period_to), soci::use(blob.sha256), soci::use(content);
      }
      written.push_back({record_id, step.chain_key, position.sequence});
    }

    if (request.incident_id != 0) {
      session << "UPDATE signing_incidents SET journaled_at = now() WHERE id = :i AND journaled_at IS NULL",
          soci::use(request.incident_id);
    }
    transaction.commit();
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return written;
}

Result<std::vector<ChainRecordRow>> ChainRecordsStore::ListRecords(const std::string& plugin_name,
                                                                   const std::string& environment,
                                                                   const std::string& chain_key,
                                                                   const std::string& from, const std::string& to,
                                                                   std::optional<ChainRecordRow>* anchor) {
  std::vector<ChainRecordRow> records;
  Status status = database_.Run([&](soci::session& session) {
    records.clear();
    long long chain_id = 0;
    session << "SELECT id FROM chains WHERE plugin_name = :p AND environment = :e AND chain_key = :k",
        soci::use(plugin_name), soci::use(environment), soci::use(chain_key), soci::into(chain_id);
    if (!session.got_data()) return Status::Ok();

    // One snapshot for the anchor and the records, so a record committed meanwhile cannot fall
    // between them.
    soci::transaction transaction(session);
    session << "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY";
    if (anchor != nullptr) {
      soci::row row;
      session << std::string("SELECT ") + kChainRecordColumns +
                     " FROM fiscal_records WHERE chain_id = :c AND generated_at < :f::timestamptz "
                     "ORDER BY sequence DESC LIMIT 1",
          soci::use(chain_id), soci::use(from), soci::into(row);
      if (session.got_data()) *anchor = ReadChainRecord(row);
    }
    soci::rowset<soci::row> rows =
        (session.prepare << std::string("SELECT ") + kChainRecordColumns +
                                " FROM fiscal_records WHERE chain_id = :c AND generated_at >= :f::timestamptz "
                                "AND generated_at < :t::timestamptz ORDER BY sequence",
         soci::use(chain_id), soci::use(from), soci::use(to));
    for (const soci::row& row : rows) records.push_back(ReadChainRecord(row));
    transaction.commit();
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return records;
}

Result<std::vector<ChainRecordRow>> ChainRecordsStore::ListLatest(const std::string& plugin_name,
                                                                  const std::string& environment,
                                                                  const std::string& chain_key,
                                                                  const std::string& operation, int limit, int offset,
                                                                  long& total) {
  std::vector<ChainRecordRow> records;
  Status status = database_.Run([&](soci::session& session) {
    records.clear();
    long long chain_id = 0;
    total = 0;
    session << "SELECT id FROM chains WHERE plugin_name = :p AND environment = :e AND chain_key = :k",
        soci::use(plugin_name), soci::use(environment), soci::use(chain_key), soci::into(chain_id);
    if (!session.got_data()) return Status::Ok();
    long long count = 0;
    session << "SELECT count(*) FROM fiscal_records WHERE chain_id = :c AND (:o = '' OR operation = :o2)",
        soci::use(chain_id, "c"), soci::use(operation, "o"), soci::use(operation, "o2"), soci::into(count);
    total = static_cast<long>(count);
    soci::rowset<soci::row> rows =
        (session.prepare << std::string("SELECT ") + kChainRecordColumns +
                                " FROM fiscal_records WHERE chain_id = :c AND (:o = '' OR operation = :o2) "
                                "ORDER BY sequence DESC LIMIT :l OFFSET :f",
         soci::use(chain_id, "c"), soci::use(operation, "o"), soci::use(operation, "o2"), soci::use(limit, "l"),
         soci::use(offset, "f"));
    for (const soci::row& row : rows) records.push_back(ReadChainRecord(row));
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return records;
}

Result<ChainRecordRow> ChainRecordsStore::GetRecord(const std::string& record_id) {
  ChainRecordRow record;
  Status status = database_.Run([&](soci::session& session) {
    soci::row row;
    session << std::string("SELECT ") + kChainRecordColumns + " FROM fiscal_records WHERE id = :id::uuid",
        soci::use(record_id), soci::into(row);
    if (!session.got_data()) return Status::NotFound("record " + record_id + " not found");
    record = ReadChainRecord(row);
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return record;
}

Result<std::string> ChainRecordsStore::HeadState(const std::string& plugin_name, const std::string& environment,
                                                 const std::string& chain_key) {
  std::string state;
  Status status = database_.Run([&](soci::session& session) {
    soci::indicator indicator = soci::i_null;
    session << "SELECT last_state::text FROM chains WHERE plugin_name = :p AND environment = :e AND chain_key = :k",
        soci::use(plugin_name), soci::use(environment), soci::use(chain_key), soci::into(state, indicator);
    if (!session.got_data() || indicator != soci::i_ok) state.clear();
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return state;
}

Result<std::string> ChainRecordsStore::LatestPluginVersion(const std::string& location_id,
                                                          const std::string& environment) {
  std::string version;
  Status status = database_.Run([&](soci::session& session) {
    session << "SELECT r.plugin_version FROM fiscal_records r JOIN chains c ON c.id = r.chain_id "
               "WHERE r.location_id = :l::uuid AND c.environment = :e ORDER BY r.created_at DESC LIMIT 1",
        soci::use(location_id), soci::use(environment), soci::into(version);
    if (!session.got_data()) version.clear();
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return version;
}

Result<ArchiveBlob> ChainRecordsStore::GetArchive(const std::string& account_id, const std::string& location_id,
                                                  const std::string& archive_id) {
  ArchiveBlob blob;
  Status status = database_.Run([&](soci::session& session) {
    std::string hex;
    session << "SELECT id::text, period_from::text, period_to::text, sha256, encode(content, 'hex') FROM archives "
               "WHERE id = :id::uuid AND account_id = :a::uuid AND location_id = :l::uuid",
        soci::use(archive_id), soci::use(account_id), soci::use(location_id), soci::into(blob.id),
        soci::into(blob.period_from), soci::into(blob.period_to), soci::into(blob.sha256), soci::into(hex);
    if (!session.got_data()) return Status::NotFound("archive " + archive_id + " not found");
    if (!FromHex(hex, blob.content)) return Status::Internal("archive " + archive_id + " is stored malformed");
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return blob;
}

Status ChainRecordsStore::RecordSigningRefusal(const std::string& account_id, const std::string& location_id,
                                               const std::string& environment) {
  return database_.Run([&](soci::session& session) {
    session << "INSERT INTO signing_incidents (account_id, location_id, environment) VALUES (:a::uuid, :l::uuid, :e) "
               "ON CONFLICT (location_id, environment) WHERE journaled_at IS NULL "
               "DO UPDATE SET refused = signing_incidents.refused + 1, last_at = now()",
        soci::use(account_id), soci::use(location_id), soci::use(environment);
    return Status::Ok();
  });
}

Result<std::optional<SigningIncident>> ChainRecordsStore::OpenIncident(const std::string& location_id,
                                                                       const std::string& environment) {
  std::optional<SigningIncident> incident;
  Status status = database_.Run([&](soci::session& session) {
    SigningIncident found;
    session << "SELECT id, " FISCAL_SQL_TIME("first_at") ", " FISCAL_SQL_TIME("last_at") ", refused "
               "FROM signing_incidents WHERE location_id = :l::uuid AND environment = :e AND journaled_at IS NULL",
        soci::use(location_id), soci::use(environment), soci::into(found.id), soci::into(found.first_at),
        soci::into(found.last_at), soci::into(found.refused);
    if (session.got_data()) incident = found;
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return incident;
}

Result<std::pair<std::string, std::string>> ChainRecordsStore::PeriodBoundary(const std::string& period,
                                                                              const std::string& time_zone,
                                                                              const std::string& as_of) {
  std::pair<std::string, std::string> boundary;
  Status status = database_.Run([&](soci::session& session) {
    session << "WITH b AS (SELECT date_trunc(:p, coalesce(nullif(:n, '')::timestamptz, now()) AT TIME ZONE :z) "
               "AS local_start) "
               "SELECT to_char((local_start AT TIME ZONE :z2) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
               "to_char(local_start - interval '1 day', 'YYYY-MM-DD') FROM b",
        soci::use(period, "p"), soci::use(as_of, "n"), soci::use(time_zone, "z"), soci::use(time_zone, "z2"),
        soci::into(boundary.first), soci::into(boundary.second);
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return boundary;
}

Result<std::string> ChainRecordsStore::LocalDate(const std::string& time_zone) {
  std::string date;
  Status status = database_.Run([&](soci::session& session) {
    session << "SELECT to_char(now() AT TIME ZONE :z, 'YYYY-MM-DD')", soci::use(time_zone), soci::into(date);
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return date;
}

Result<std::pair<std::string, std::string>> ChainRecordsStore::LocalDateRange(const std::string& from,
                                                                              const std::string& to,
                                                                              const std::string& time_zone) {
  std::pair<std::string, std::string> range;
  Status status = database_.Run([&](soci::session& session) {
    session << "SELECT to_char((:f::date::timestamp AT TIME ZONE :z) AT TIME ZONE 'UTC', "
               "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), to_char(((:t::date + 1)::timestamp AT TIME ZONE :z2) "
               "AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')",
        soci::use(from, "f"), soci::use(time_zone, "z"), soci::use(to, "t"), soci::use(time_zone, "z2"),
        soci::into(range.first), soci::into(range.second);
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return range;
}

}  // namespace fiscal::store
