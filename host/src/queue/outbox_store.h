// The outbox: records waiting to be sent to their authority, one ordered stream per chain.
//
// A sender claims a whole chain with a lease in submission_streams, never single entries, so the
// records of a chain always leave in sequence order and only one sender (in any host instance)
// works on a chain at a time. A lease that is not renewed expires, and another sender takes the
// chain over, resending whatever the crashed sender had in flight. A dead entry (attempts used up)
// holds back every later entry of its chain until an operator requeues it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/database.h"

namespace fiscal::webhooks {
class WebhookStore;
}

namespace fiscal::queue {

struct OutboxItem {
  long long outbox_id = 0;
  std::string record_id, record_type, document, hash, record_data, transaction_id;
  int attempt = 0;  // including the attempt about to be made
  int max_attempts = 0;
  bool late = false;  // generated longer ago than the configured late threshold
};

struct ClaimedBatch {
  long long chain_id = 0;
  std::string plugin_name, environment, account_id, location_id, location_config;
  std::vector<OutboxItem> items;  // in chain order
};

// The authority's verdict on one record.
struct ItemResult {
  std::string record_id;
  std::string outcome;  // "registered" | "registered_with_errors" | "rejected" | "retry"
  std::string code, message, authority_reference;
};

class OutboxStore {
 public:
  // `webhooks` may be null; otherwise each resolved or dead entry queues a webhook event in the
  // same transaction that changes the entry.
  explicit OutboxStore(store::Database& database, webhooks::WebhookStore* webhooks = nullptr)
      : database_(database), webhooks_(webhooks) {}

  // Claims the chain that has waited longest among those with queued records, no live lease and
  // no authority-imposed wait, and marks up to `batch_size` of its entries as processing.
  Result<std::optional<ClaimedBatch>> ClaimNext(const std::string& owner, int lease_seconds, int batch_size,
                                                int late_after_seconds);

  // Stores the authority's verdicts, releases the chain, and holds its next batch back for
  // `retry_after_seconds`.
  Status Complete(const ClaimedBatch& batch, const std::string& owner, const std::vector<ItemResult>& results,
                  int retry_after_seconds, const std::string& plugin_version, const std::string& authority_response);

  // Records a failed attempt whose outcome is unknown (no response, timeout, server fault): entries go
  // back to the queue unchanged, or to "dead" after max_attempts, and the chain waits
  // `backoff_seconds`.
  Status Fail(const ClaimedBatch& batch, const std::string& owner, const std::string& error, int backoff_seconds,
              const std::string& plugin_version);

  // Gives a claimed batch back untouched, without counting an attempt (the circuit breaker is
  // open), and holds the chain back for `wait_seconds`.
  Status Postpone(const ClaimedBatch& batch, const std::string& owner, int wait_seconds);

 private:
  store::Database& database_;
  webhooks::WebhookStore* webhooks_;
};

}  // namespace fiscal::queue
