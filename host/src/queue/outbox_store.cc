#include "queue/outbox_store.h"

#include <soci/soci.h>

#include "common/json.h"
#include "webhooks/webhook_store.h"

namespace fiscal::queue {
namespace {

std::string RecordIdArray(const ClaimedBatch& batch) {
  std::string array = "{";
  for (size_t i = 0; i < batch.items.size(); ++i) {
    if (i > 0) array += ",";
    array += batch.items[i].record_id;
  }
  return array + "}";
}

void ReleaseStream(soci::session& session, const ClaimedBatch& batch, const std::string& owner, int wait_seconds) {
  session << "UPDATE submission_streams SET lease_owner = NULL, lease_expires_at = NULL, "
             "next_send_at = now() + make_interval(secs => :w), updated_at = now() "
             "WHERE chain_id = :c AND lease_owner = :o",
      soci::use(wait_seconds), soci::use(batch.chain_id), soci::use(owner);
}

// The webhook payload of an outbox entry, in the field names of the Zyntem v1 webhook events.
std::string EventPayload(const ClaimedBatch& batch, const OutboxItem& item, const std::string& status,
                         const ItemResult* result, const std::string& error) {
  std::string payload = "{\"entry_id\":" + std::to_string(item.outbox_id) + ",\"transaction_id\":" +
                        json::Quote(item.transaction_id) + ",\"record_id\":" + json::Quote(item.record_id) +
                        ",\"account_id\":" + json::Quote(batch.account_id) + ",\"status\":" + json::Quote(status) +
                        ",\"attempt\":" + std::to_string(item.attempt) + ",\"max_attempts\":" +
                        std::to_string(item.max_attempts) + ",\"last_error\":" +
                        (error.empty() ? std::string("null") : json::Quote(error));
  if (result != nullptr) {
    payload += ",\"authority_code\":" + json::Quote(result->code) + ",\"authority_message\":" +
               json::Quote(result->message) + ",\"authority_reference\":" + json::Quote(result->authority_reference);
  }
  return payload + "}";
}

}  // namespace

Result<std::optional<ClaimedBatch>> OutboxStore::ClaimNext(const std::string& owner, int lease_seconds,
                                                           int batch_size, int late_after_seconds) {
  std::optional<ClaimedBatch> claimed;
  Status status = database_.Run([&](soci::session& session) {
    soci::transaction transaction(session);

    long long chain_id = 0;
    soci::indicator indicator = soci::i_null;
    session << "WITH candidate AS ("
               "  SELECT s.chain_id FROM submission_streams s"
               "  WHERE (s.lease_owner IS NULL OR s.lease_expires_at < now()) AND s.next_send_at <= now()"
               "    AND EXISTS (SELECT 1 FROM outbox o WHERE o.chain_id = s.chain_id"
               "                AND o.status IN ('pending', 'processing', 'failed')"
               "                AND NOT EXISTS (SELECT 1 FROM outbox d WHERE d.chain_id = o.chain_id"
               "                                AND d.status = 'dead' AND d.sequence < o.sequence))"
               "  ORDER BY s.next_send_at LIMIT 1 FOR UPDATE SKIP LOCKED) "
               "UPDATE submission_streams s SET lease_owner = :o, "
               "  lease_expires_at = now() + make_interval(secs => :l), updated_at = now() "
               "FROM candidate WHERE s.chain_id = candidate.chain_id RETURNING s.chain_id",
        soci::use(owner), soci::use(lease_seconds), soci::into(chain_id, indicator);
    if (!session.got_data() || indicator != soci::i_ok) {
      transaction.commit();
      return Status::Ok();
    }

    ClaimedBatch batch;
    batch.chain_id = chain_id;
    session << "SELECT plugin_name, environment FROM chains WHERE id = :c", soci::use(chain_id),
        soci::into(batch.plugin_name), soci::into(batch.environment);

    // Entries still "processing" belong to a sender whose lease expired: they are resent as they are.
    // A dead entry holds back the later entries of its chain, so that the authority always receives
    // a chain in order; an operator requeues the dead entry to release them.
    soci::rowset<soci::row> rows =
        (session.prepare << "SELECT o.id, r.id::text, r.record_type, r.document, r.hash, r.record_data::text, "
                            "o.attempt + 1, o.max_attempts, r.transaction_id::text, "
                            "CASE WHEN r.generated_at < now() - make_interval(secs => :late) THEN 1 ELSE 0 END "
                            "FROM outbox o JOIN fiscal_records r ON r.id = o.record_id "
                            "WHERE o.chain_id = :c AND o.status IN ('pending', 'processing', 'failed') "
                            "AND NOT EXISTS (SELECT 1 FROM outbox d WHERE d.chain_id = o.chain_id "
                            "AND d.status = 'dead' AND d.sequence < o.sequence) "
                            "ORDER BY o.sequence LIMIT :n",
         soci::use(late_after_seconds), soci::use(chain_id), soci::use(batch_size));
    for (const soci::row& row : rows) {
      OutboxItem item;
      item.outbox_id = row.get<long long>(0);
      item.record_id = row.get<std::string>(1);
      item.record_type = row.get<std::string>(2);
      item.document = row.get<std::string>(3);
      item.hash = row.get<std::string>(4);
      item.record_data = row.get<std::string>(5);
      item.attempt = row.get<int>(6);
      item.max_attempts = row.get<int>(7);
      item.late = row.get<int>(9) == 1;
      item.transaction_id = row.get<std::string>(8);
      batch.items.push_back(std::move(item));
    }
    if (batch.items.empty()) {
      ReleaseStream(session, batch, owner, 0);
      transaction.commit();
      return Status::Ok();
    }

    // The location of the first record gives the issuer data for the message header. Every location
    // of a chain has the same issuer data, because the plugin derives the chain key from it.
    session << "SELECT l.country_config::text, l.id::text, l.account_id::text FROM fiscal_records r "
               "JOIN transactions t ON t.id = r.transaction_id JOIN locations l ON l.id = t.location_id "
               "WHERE r.id = :r::uuid",
        soci::use(batch.items.front().record_id), soci::into(batch.location_config), soci::into(batch.location_id),
        soci::into(batch.account_id);

    for (const OutboxItem& item : batch.items) {
      session << "UPDATE outbox SET status = 'processing', attempt = attempt + 1, updated_at = now() WHERE id = :i",
          soci::use(item.outbox_id);
    }
    transaction.commit();
    claimed = std::move(batch);
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return claimed;
}

Status OutboxStore::Complete(const ClaimedBatch& batch, const std::string& owner,
                             const std::vector<ItemResult>& results, int retry_after_seconds,
                             const std::string& plugin_version, const std::string& authority_response) {
  return database_.Run([&](soci::session& session) {
    soci::transaction transaction(session);

    for (const ItemResult& result : results) {
      const OutboxItem* item = nullptr;
      for (const OutboxItem& candidate : batch.items) {
        if (candidate.record_id == result.record_id) item = &candidate;
      }
      if (item == nullptr) continue;  // the plugin returned a result for a record it was not given

      if (result.outcome == "retry") {
        std::string next = item->attempt >= item->max_attempts ? "dead" : "failed";
        std::string error = "authority did not answer for this record: " + result.message;
        session << "UPDATE outbox SET status = :s, last_error = :e, updated_at = now() WHERE id = :i", soci::use(next),
            soci::use(error), soci::use(item->outbox_id);
        if (next == "dead" && webhooks_ != nullptr) {
          FISCAL_RETURN_IF_ERROR(webhooks_->EnqueueEvent(session, batch.account_id, "fiscalization.dead_letter",
                                                         EventPayload(batch, *item, "dead", nullptr, error)));
        }
        continue;
      }

      session << "UPDATE fiscal_records SET status = :s, authority_code = nullif(:c, ''), "
                 "authority_message = nullif(:m, ''), authority_reference = nullif(:r, ''), "
                 "submitted_at = coalesce(submitted_at, now()), resolved_at = now() WHERE id = :id::uuid",
          soci::use(result.outcome), soci::use(result.code), soci::use(result.message),
          soci::use(result.authority_reference), soci::use(result.record_id);
      session << "UPDATE transactions t SET status = :s, updated_at = now() FROM fiscal_records r "
                 "WHERE r.id = :id::uuid AND t.id = r.transaction_id AND r.operation <> 'cancel'",
          soci::use(result.outcome), soci::use(result.record_id);
      session << "UPDATE outbox SET status = 'completed', last_error = NULL, updated_at = now() WHERE id = :i",
          soci::use(item->outbox_id);
      if (webhooks_ != nullptr) {
        FISCAL_RETURN_IF_ERROR(webhooks_->EnqueueEvent(session, batch.account_id, "fiscalization.completed",
                                                       EventPayload(batch, *item, result.outcome, &result, "")));
      }
    }

    std::string record_ids = RecordIdArray(batch);
    std::string outcome = "answered";
    session << "INSERT INTO submissions (chain_id, record_ids, plugin_name, plugin_version, outcome, authority_response) "
               "VALUES (:c, :ids::uuid[], :p, :v, :o, :a)",
        soci::use(batch.chain_id), soci::use(record_ids), soci::use(batch.plugin_name), soci::use(plugin_version),
        soci::use(outcome), soci::use(authority_response);
    ReleaseStream(session, batch, owner, retry_after_seconds);
    transaction.commit();
    return Status::Ok();
  });
}

Status OutboxStore::Fail(const ClaimedBatch& batch, const std::string& owner, const std::string& error,
                         int backoff_seconds, const std::string& plugin_version) {
  return database_.Run([&](soci::session& session) {
    soci::transaction transaction(session);
    for (const OutboxItem& item : batch.items) {
      std::string next = item.attempt >= item.max_attempts ? "dead" : "failed";
      session << "UPDATE outbox SET status = :s, last_error = :e, updated_at = now() WHERE id = :i", soci::use(next),
          soci::use(error), soci::use(item.outbox_id);
      if (next == "dead" && webhooks_ != nullptr) {
        FISCAL_RETURN_IF_ERROR(webhooks_->EnqueueEvent(session, batch.account_id, "fiscalization.dead_letter",
                                                       EventPayload(batch, item, "dead", nullptr, error)));
      }
    }
    std::string record_ids = RecordIdArray(batch);
    std::string outcome = "unknown";
    session << "INSERT INTO submissions (chain_id, record_ids, plugin_name, plugin_version, outcome, error) "
               "VALUES (:c, :ids::uuid[], :p, :v, :o, :e)",
        soci::use(batch.chain_id), soci::use(record_ids), soci::use(batch.plugin_name), soci::use(plugin_version),
        soci::use(outcome), soci::use(error);
    ReleaseStream(session, batch, owner, backoff_seconds);
    transaction.commit();
    return Status::Ok();
  });
}

Status OutboxStore::Postpone(const ClaimedBatch& batch, const std::string& owner, int wait_seconds) {
  return database_.Run([&](soci::session& session) {
    soci::transaction transaction(session);
    for (const OutboxItem& item : batch.items) {
      // Undo the claim's attempt count: nothing was sent.
      session << "UPDATE outbox SET attempt = attempt - 1, status = CASE WHEN attempt - 1 = 0 THEN 'pending' "
                 "ELSE 'failed' END, updated_at = now() WHERE id = :i AND status = 'processing'",
          soci::use(item.outbox_id);
    }
    ReleaseStream(session, batch, owner, wait_seconds);
    transaction.commit();
    return Status::Ok();
  });
}

}  // namespace fiscal::queue
