#include "webhooks/webhook_store.h"

#include <soci/soci.h>

#include "common/json_tree.h"
#include "store/accounts_store.h"
#include "webhooks/signing.h"

namespace fiscal::webhooks {
namespace {

const char* kWebhookColumns =
    "id::text, account_id::text, url, array_to_json(events)::text, description, "
    "CASE WHEN enabled THEN 1 ELSE 0 END, " FISCAL_SQL_TIME("created_at") ", " FISCAL_SQL_TIME("updated_at");

const char* kDeliveryColumns =
    "id, webhook_id::text, account_id::text, event, event_id::text, payload::text, status, attempt, max_attempts, "
    "last_status_code, last_error, " FISCAL_SQL_TIME("next_attempt_at") ", " FISCAL_SQL_TIME("delivered_at") ", "
    FISCAL_SQL_TIME("created_at") ", " FISCAL_SQL_TIME("updated_at");

std::optional<std::string> OptionalText(const soci::row& row, size_t index) {
  if (row.get_indicator(index) == soci::i_null) return std::nullopt;
  return row.get<std::string>(index);
}

// Reads the JSON array that array_to_json(events) renders.
std::vector<std::string> ParseEvents(const std::string& json_array) {
  std::vector<std::string> events;
  Result<json::Node> parsed = json::Parse(json_array, "stored webhook events");
  if (!parsed.ok() || !parsed->IsArray()) return events;
  for (const json::Node& item : parsed->items()) events.push_back(item.text());
  return events;
}

// Renders a PostgreSQL array literal, every element quoted, for a :param::text[] placeholder.
std::string ArrayLiteral(const std::vector<std::string>& values) {
  std::string literal = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) literal += ",";
    literal += "\"";
    for (char c : values[i]) {
      if (c == '"' || c == '\\') literal += '\\';
      literal += c;
    }
    literal += "\"";
  }
  return literal + "}";
}

WebhookRow ReadWebhook(const soci::row& row) {
  WebhookRow webhook;
  webhook.id = row.get<std::string>(0);
  webhook.account_id = row.get<std::string>(1);
  webhook.url = row.get<std::string>(2);
  webhook.events = ParseEvents(row.get<std::string>(3));
  webhook.description = OptionalText(row, 4);
  webhook.enabled = row.get<int>(5) == 1;
  webhook.created_at = row.get<std::string>(6);
  webhook.updated_at = row.get<std::string>(7);
  return webhook;
}

DeliveryRow ReadDelivery(const soci::row& row) {
  DeliveryRow delivery;
  delivery.id = row.get<long long>(0);
  delivery.webhook_id = row.get<std::string>(1);
  delivery.account_id = row.get<std::string>(2);
  delivery.event = row.get<std::string>(3);
  delivery.event_id = row.get<std::string>(4);
  delivery.payload = row.get<std::string>(5);
  delivery.status = row.get<std::string>(6);
  delivery.attempt = row.get<int>(7);
  delivery.max_attempts = row.get<int>(8);
  if (row.get_indicator(9) != soci::i_null) delivery.last_status_code = row.get<int>(9);
  delivery.last_error = OptionalText(row, 10);
  delivery.next_attempt_at = OptionalText(row, 11);
  delivery.delivered_at = OptionalText(row, 12);
  delivery.created_at = row.get<std::string>(13);
  delivery.updated_at = row.get<std::string>(14);
  return delivery;
}

Status WebhookNotFound(const std::string& webhook_id) { return Status::NotFound("webhook " + webhook_id + " not found"); }

// Reads a live webhook of the account, locking it for the rest of the transaction when `lock`.
// Returns false when there is none.
bool SelectWebhook(soci::session& session, const std::string& account_id, const std::string& webhook_id, bool lock,
                   WebhookRow& webhook) {
  soci::row row;
  session << std::string("SELECT ") + kWebhookColumns +
                 " FROM webhooks WHERE id = :id::uuid AND account_id = :a::uuid AND deleted_at IS NULL" +
                 (lock ? " FOR UPDATE" : ""),
      soci::use(webhook_id), soci::use(account_id), soci::into(row);
  if (!session.got_data()) return false;
  webhook = ReadWebhook(row);
  return true;
}

}  // namespace

bool IsKnownEvent(const std::string& event) {
  return event == kEventFiscalizationCompleted || event == kEventFiscalizationDeadLetter;
}

Result<WebhookRow> WebhookStore::Create(const std::string& account_id, const std::string& url,
                                        const std::vector<std::string>& events,
                                        const std::optional<std::string>& description, bool enabled) {
  std::string secret = GenerateWebhookSecret();
  WebhookRow webhook;
  Status status = database_.Run([&](soci::session& session) {
    soci::transaction transaction(session);

    // Serialises webhook creation per account so that concurrent requests cannot exceed the limit.
    // NO KEY UPDATE does not block inserts that reference the account (sales, keys).
    session << "SELECT 1 FROM accounts WHERE id = :a::uuid FOR NO KEY UPDATE", soci::use(account_id);
    long long live = 0;
    session << "SELECT count(*) FROM webhooks WHERE account_id = :a::uuid AND deleted_at IS NULL", soci::use(account_id),
        soci::into(live);
    if (live >= options_.max_webhooks_per_account) {
      return Status::Conflict("too_many_webhooks", "an account can have at most " +
                                                       std::to_string(options_.max_webhooks_per_account) +
                                                       " webhooks; delete one before creating another");
    }

    std::string events_literal = ArrayLiteral(events);
    std::string description_text = description.value_or("");
    soci::indicator description_indicator = description ? soci::i_ok : soci::i_null;
    int enabled_flag = enabled ? 1 : 0;
    soci::row row;
    session << std::string("INSERT INTO webhooks (account_id, url, secret, events, description, enabled) "
                           "VALUES (:a::uuid, :u, :s, :e::text[], :d, (:en = 1)) RETURNING ") +
                   kWebhookColumns,
        soci::use(account_id), soci::use(url), soci::use(secret), soci::use(events_literal),
        soci::use(description_text, description_indicator), soci::use(enabled_flag), soci::into(row);
    webhook = ReadWebhook(row);
    transaction.commit();
    return Status::Ok();
  });
  if (!status.ok()) return status;

  webhook.secret = secret;
  return webhook;
}

Result<WebhookRow> WebhookStore::Get(const std::string& account_id, const std::string& webhook_id) {
  WebhookRow webhook;
  Status status = database_.Run([&](soci::session& session) {
    if (!SelectWebhook(session, account_id, webhook_id, false, webhook)) return WebhookNotFound(webhook_id);
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return webhook;
}

Result<std::vector<WebhookRow>> WebhookStore::List(const std::string& account_id, int limit, int offset, long& total) {
  std::vector<WebhookRow> webhooks;
  Status status = database_.Run([&](soci::session& session) {
    long long count = 0;
    session << "SELECT count(*) FROM webhooks WHERE account_id = :a::uuid AND deleted_at IS NULL", soci::use(account_id),
        soci::into(count);
    total = static_cast<long>(count);

    soci::rowset<soci::row> rows = (session.prepare << std::string("SELECT ") + kWebhookColumns +
                                                           " FROM webhooks WHERE account_id = :a::uuid AND deleted_at IS NULL "
                                                           "ORDER BY created_at, id LIMIT :l OFFSET :o",
                                    soci::use(account_id), soci::use(limit), soci::use(offset));
    for (const soci::row& row : rows) webhooks.push_back(ReadWebhook(row));
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return webhooks;
}

Result<WebhookRow> WebhookStore::Update(const std::string& account_id, const std::string& webhook_id,
                                        const WebhookUpdate& update) {
  WebhookRow webhook;
  Status status = database_.Run([&](soci::session& session) {
    soci::transaction transaction(session);
    if (!SelectWebhook(session, account_id, webhook_id, true, webhook)) return WebhookNotFound(webhook_id);

    if (update.url) webhook.url = *update.url;
    if (update.events) webhook.events = *update.events;
    if (update.set_description) webhook.description = update.description;
    if (update.enabled) webhook.enabled = *update.enabled;

    std::string events_literal = ArrayLiteral(webhook.events);
    std::string description_text = webhook.description.value_or("");
    soci::indicator description_indicator = webhook.description ? soci::i_ok : soci::i_null;
    int enabled_flag = webhook.enabled ? 1 : 0;
    soci::row row;
    session << std::string("UPDATE webhooks SET url = :u, events = :e::text[], description = :d, enabled = (:en = 1), "
                           "updated_at = now() WHERE id = :id::uuid RETURNING ") +
                   kWebhookColumns,
        soci::use(webhook.url), soci::use(events_literal), soci::use(description_text, description_indicator),
        soci::use(enabled_flag), soci::use(webhook_id), soci::into(row);
    webhook = ReadWebhook(row);
    transaction.commit();
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return webhook;
}

Status WebhookStore::Delete(const std::string& account_id, const std::string& webhook_id) {
  return database_.Run([&](soci::session& session) {
    soci::transaction transaction(session);
    soci::statement deletion = (session.prepare << "UPDATE webhooks SET deleted_at = now(), updated_at = now() "
                                                   "WHERE id = :id::uuid AND account_id = :a::uuid AND deleted_at IS NULL",
                                soci::use(webhook_id), soci::use(account_id));
    deletion.execute(true);
    if (deletion.get_affected_rows() == 0) return WebhookNotFound(webhook_id);

    // A delivery already in flight finishes its attempt, but its result is then not recorded.
    session << "UPDATE webhook_deliveries SET status = 'dead', next_attempt_at = NULL, "
               "last_error = 'the webhook was deleted before this delivery succeeded', updated_at = now() "
               "WHERE webhook_id = :id::uuid AND status IN ('pending', 'failed')",
        soci::use(webhook_id);
    transaction.commit();
    return Status::Ok();
  });
}

Result<WebhookRow> WebhookStore::RotateSecret(const std::string& account_id, const std::string& webhook_id) {
  std::string secret = GenerateWebhookSecret();
  WebhookRow webhook;
  Status status = database_.Run([&](soci::session& session) {
    soci::row row;
    session << std::string("UPDATE webhooks SET secret = :s, updated_at = now() "
                           "WHERE id = :id::uuid AND account_id = :a::uuid AND deleted_at IS NULL RETURNING ") +
                   kWebhookColumns,
        soci::use(secret), soci::use(webhook_id), soci::use(account_id), soci::into(row);
    if (!session.got_data()) return WebhookNotFound(webhook_id);
    webhook = ReadWebhook(row);
    return Status::Ok();
  });
  if (!status.ok()) return status;

  webhook.secret = secret;
  return webhook;
}

Result<std::vector<DeliveryRow>> WebhookStore::ListDeliveries(const std::string& account_id,
                                                              const std::string& webhook_id, int limit, int offset,
                                                              long& total) {
  std::vector<DeliveryRow> deliveries;
  Status status = database_.Run([&](soci::session& session) {
    WebhookRow webhook;
    if (!SelectWebhook(session, account_id, webhook_id, false, webhook)) return WebhookNotFound(webhook_id);

    long long count = 0;
    session << "SELECT count(*) FROM webhook_deliveries WHERE webhook_id = :w::uuid", soci::use(webhook_id),
        soci::into(count);
    total = static_cast<long>(count);

    soci::rowset<soci::row> rows = (session.prepare << std::string("SELECT ") + kDeliveryColumns +
                                                           " FROM webhook_deliveries WHERE webhook_id = :w::uuid "
                                                           "ORDER BY created_at DESC, id DESC LIMIT :l OFFSET :o",
                                    soci::use(webhook_id), soci::use(limit), soci::use(offset));
    for (const soci::row& row : rows) deliveries.push_back(ReadDelivery(row));
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return deliveries;
}

Status WebhookStore::EnqueueEvent(soci::session& session, const std::string& account_id, const std::string& event,
                                  const std::string& payload_json) {
  if (!IsKnownEvent(event)) return Status::Internal("unknown webhook event type \"" + event + "\"");
  Result<json::Node> payload = json::Parse(payload_json, "webhook event payload");
  if (!payload.ok() || !payload->IsObject()) {
    return Status::Internal("the payload of webhook event " + event + " is not a JSON object");
  }

  // The CTE runs once, so every delivery of this event shares one event id and creation time.
  int max_attempts = options_.max_attempts;
  session << "WITH event AS (SELECT gen_random_uuid() AS id, now() AS at) "
             "INSERT INTO webhook_deliveries (webhook_id, account_id, event, event_id, payload, max_attempts) "
             "SELECT w.id, w.account_id, :event_column::text, e.id, "
             "  jsonb_build_object('id', e.id::text, 'object', 'event', 'type', :event_type::text, "
             "    'account_id', w.account_id::text, 'created_at', " FISCAL_SQL_TIME("e.at") ", "
             "    'data', :payload::jsonb), "
             "  :max_attempts "
             "FROM webhooks w, event e "
             "WHERE w.account_id = :a::uuid AND w.enabled AND w.deleted_at IS NULL AND :event_filter::text = ANY (w.events)",
      soci::use(event), soci::use(event), soci::use(payload_json), soci::use(max_attempts), soci::use(account_id),
      soci::use(event);
  return Status::Ok();
}

Result<Claim> WebhookStore::ClaimDue(int lease_seconds) {
  Claim claim;
  Status status = database_.Run([&](soci::session& session) {
    soci::transaction transaction(session);

    // SKIP LOCKED: concurrent senders each take a different delivery instead of waiting.
    long long id = 0;
    int attempt = 0, max_attempts = 0, enabled = 0, deleted = 0;
    session << "SELECT d.id, d.attempt, d.max_attempts, CASE WHEN w.enabled THEN 1 ELSE 0 END, "
               "CASE WHEN w.deleted_at IS NULL THEN 0 ELSE 1 END "
               "FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id "
               "WHERE d.status IN ('pending', 'failed') AND d.next_attempt_at <= now() "
               "ORDER BY d.next_attempt_at LIMIT 1 FOR UPDATE OF d SKIP LOCKED",
        soci::into(id), soci::into(attempt), soci::into(max_attempts), soci::into(enabled), soci::into(deleted);
    if (!session.got_data()) return Status::Ok();

    // A webhook deleted while this delivery was being queued; Delete could not see it.
    if (deleted == 1) {
      session << "UPDATE webhook_deliveries SET status = 'dead', next_attempt_at = NULL, "
                 "last_error = 'the webhook was deleted before this delivery succeeded', updated_at = now() "
                 "WHERE id = :id",
          soci::use(id);
      transaction.commit();
      claim.kind = Claim::Kind::kSkipped;
      return Status::Ok();
    }
    if (enabled == 0) {
      session << "UPDATE webhook_deliveries SET next_attempt_at = now() + interval '1 minute', updated_at = now() "
                 "WHERE id = :id",
          soci::use(id);
      transaction.commit();
      claim.kind = Claim::Kind::kSkipped;
      return Status::Ok();
    }
    // The lease of the last attempt expired without a result: its sender stopped mid-send.
    if (attempt >= max_attempts) {
      session << "UPDATE webhook_deliveries SET status = 'dead', next_attempt_at = NULL, "
                 "last_error = coalesce(last_error || '; ', '') || 'no result was recorded for the last attempt', "
                 "updated_at = now() WHERE id = :id",
          soci::use(id);
      transaction.commit();
      claim.kind = Claim::Kind::kSkipped;
      return Status::Ok();
    }

    ClaimedDelivery& delivery = claim.delivery;
    session << "UPDATE webhook_deliveries SET attempt = attempt + 1, "
               "next_attempt_at = now() + make_interval(secs => :l), updated_at = now() WHERE id = :id "
               "RETURNING id, webhook_id::text, account_id::text, event, payload::text, attempt, max_attempts",
        soci::use(lease_seconds), soci::use(id), soci::into(delivery.id), soci::into(delivery.webhook_id),
        soci::into(delivery.account_id), soci::into(delivery.event), soci::into(delivery.payload),
        soci::into(delivery.attempt), soci::into(delivery.max_attempts);
    session << "SELECT url, secret FROM webhooks WHERE id = :w::uuid", soci::use(delivery.webhook_id),
        soci::into(delivery.url), soci::into(delivery.secret);
    transaction.commit();
    claim.kind = Claim::Kind::kClaimed;
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return claim;
}

Status WebhookStore::RecordAttempt(const ClaimedDelivery& delivery, const AttemptOutcome& outcome,
                                   double backoff_seconds) {
  std::string next_status = outcome.delivered                         ? "delivered"
                            : delivery.attempt >= delivery.max_attempts ? "dead"
                                                                        : "failed";
  int retry = next_status == "failed" ? 1 : 0;
  int delivered = outcome.delivered ? 1 : 0;
  int status_code = outcome.status_code;
  std::string error = outcome.error;

  return database_.Run([&](soci::session& session) {
    // The attempt number identifies the claim: after a lease expired and another sender claimed
    // the delivery, the attempt differs and this stale result is dropped.
    soci::statement update =
        (session.prepare << "UPDATE webhook_deliveries SET status = :s, last_status_code = nullif(:c, 0), "
                            "last_error = nullif(:e, ''), "
                            "next_attempt_at = CASE WHEN :r = 1 THEN now() + make_interval(secs => :b) END, "
                            "delivered_at = CASE WHEN :d = 1 THEN now() END, updated_at = now() "
                            "WHERE id = :id AND attempt = :a AND status IN ('pending', 'failed')",
         soci::use(next_status), soci::use(status_code), soci::use(error), soci::use(retry), soci::use(backoff_seconds),
         soci::use(delivered), soci::use(delivery.id), soci::use(delivery.attempt));
    update.execute(true);
    if (update.get_affected_rows() == 0) {
      return Status::Conflict("stale_claim", "delivery " + std::to_string(delivery.id) +
                                                 " was claimed again or deleted before attempt " +
                                                 std::to_string(delivery.attempt) + " was recorded");
    }
    return Status::Ok();
  });
}

}  // namespace fiscal::webhooks
