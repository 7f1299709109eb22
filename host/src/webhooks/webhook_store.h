// Webhooks and their delivery queue (tables webhooks and webhook_deliveries).
//
// Every API method is scoped by account: another account's webhook gives kNotFound, exactly like
// an id that does not exist. Secrets are returned only by Create and RotateSecret.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/database.h"

namespace soci {
class session;
}  // namespace soci

namespace fiscal::webhooks {

// Event types a webhook can subscribe to.
inline constexpr const char* kEventFiscalizationCompleted = "fiscalization.completed";
inline constexpr const char* kEventFiscalizationDeadLetter = "fiscalization.dead_letter";

// True for one of the event types above.
bool IsKnownEvent(const std::string& event);

struct WebhookRow {
  std::string id, account_id, url;
  std::string secret;  // empty except in the results of Create and RotateSecret
  std::vector<std::string> events;
  std::optional<std::string> description;
  bool enabled = true;
  std::string created_at, updated_at;
};

// Fields of a PATCH; an absent field stays unchanged.
struct WebhookUpdate {
  std::optional<std::string> url;
  std::optional<std::vector<std::string>> events;
  bool set_description = false;            // true: description below replaces the stored one
  std::optional<std::string> description;  // nullopt with set_description clears it
  std::optional<bool> enabled;
};

struct DeliveryRow {
  long long id = 0;
  std::string webhook_id, account_id, event, event_id, payload, status;
  int attempt = 0;
  int max_attempts = 0;
  std::optional<int> last_status_code;
  std::optional<std::string> last_error;
  std::optional<std::string> next_attempt_at, delivered_at;
  std::string created_at, updated_at;
};

// A delivery a sender has claimed, with what it needs to send it.
struct ClaimedDelivery {
  long long id = 0;
  std::string webhook_id, account_id, event, url, secret, payload;
  int attempt = 0;  // this attempt, counted from 1
  int max_attempts = 0;
};

// Result of ClaimDue.
struct Claim {
  enum class Kind {
    kNothingDue,
    kClaimed,   // `delivery` is to be sent now
    kSkipped,   // a due delivery was held back or marked dead without an attempt
  };
  Kind kind = Kind::kNothingDue;
  ClaimedDelivery delivery;
};

// The result of one attempt.
struct AttemptOutcome {
  int status_code = 0;  // 0 when no HTTP response arrived
  std::string error;    // empty when delivered
  bool delivered = false;
};

class WebhookStore {
 public:
  struct Options {
    int max_attempts = 10;           // written into each new delivery
    int max_webhooks_per_account = 16;  // limits the deliveries one event can fan out to
  };

  explicit WebhookStore(store::Database& database) : WebhookStore(database, Options()) {}
  WebhookStore(store::Database& database, Options options) : database_(database), options_(options) {}

  // Creates a webhook with a new secret, returned in the row. More than max_webhooks_per_account
  // live webhooks give kConflict. `url` and `events` must already be valid (see url_policy.h and
  // IsKnownEvent).
  Result<WebhookRow> Create(const std::string& account_id, const std::string& url,
                            const std::vector<std::string>& events, const std::optional<std::string>& description,
                            bool enabled);
  Result<WebhookRow> Get(const std::string& account_id, const std::string& webhook_id);
  // Returns a page of live webhooks, oldest first, and the number of all of them in `total`.
  Result<std::vector<WebhookRow>> List(const std::string& account_id, int limit, int offset, long& total);
  Result<WebhookRow> Update(const std::string& account_id, const std::string& webhook_id, const WebhookUpdate& update);
  // Deletes the webhook and marks its queued deliveries dead.
  Status Delete(const std::string& account_id, const std::string& webhook_id);
  // Replaces the secret at once; deliveries sent from now on are signed with the new one.
  Result<WebhookRow> RotateSecret(const std::string& account_id, const std::string& webhook_id);
  // Returns a page of the webhook's deliveries, newest first.
  Result<std::vector<DeliveryRow>> ListDeliveries(const std::string& account_id, const std::string& webhook_id,
                                                  int limit, int offset, long& total);

  // Queues one delivery of `event` for every enabled webhook of the account subscribed to it. Runs
  // on the caller's `session`, inside the caller's transaction, so the deliveries commit or roll
  // back with the change they report. `payload_json` (a JSON object) becomes the "data" member of
  // the body {"id", "object": "event", "type", "account_id", "created_at", "data"}.
  // An unknown event or a payload that is not a JSON object gives kInternal and writes nothing.
  // Database errors are thrown as soci::soci_error, like any statement on `session`, so the
  // caller's Database::Run maps them and the caller's transaction rolls back.
  Status EnqueueEvent(soci::session& session, const std::string& account_id, const std::string& event,
                      const std::string& payload_json);

  // Claims the delivery that has been due longest: counts the attempt and moves next_attempt_at
  // `lease_seconds` ahead, so no other sender (in any host instance) takes it meanwhile. A due
  // delivery of a disabled webhook is held back a minute without an attempt. One of a deleted
  // webhook, or one whose last attempt never recorded a result, is marked dead. Both give kSkipped.
  Result<Claim> ClaimDue(int lease_seconds);

  // Stores the outcome of a claimed attempt: delivered, or failed and due again after
  // `backoff_seconds`, or dead when it was the last attempt. A claim whose lease another sender
  // has taken over in the meantime is left unchanged (returns kConflict).
  Status RecordAttempt(const ClaimedDelivery& delivery, const AttemptOutcome& outcome, double backoff_seconds);

 private:
  store::Database& database_;
  Options options_;
};

}  // namespace fiscal::webhooks
