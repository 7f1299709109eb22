// Background webhook senders: claim due deliveries, POST them, and record every attempt.
//
// Each attempt POSTs the stored payload with the headers
//   Content-Type: application/json
//   User-Agent: fiscal-server-webhooks/<version>
//   X-Webhook-Id: <delivery id>
//   X-Webhook-Event: <event type>
//   X-Webhook-Timestamp: <Unix seconds>
//   X-Webhook-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>   (see signing.h)
// A 2xx status delivers it. Any other status (redirects are not followed), a timeout or a
// connection failure counts as failed, and the delivery is retried after BackoffSeconds, until
// max_attempts attempts make it dead. Delivery is at least once, so receivers deduplicate by the
// event id in the body.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/database.h"
#include "webhooks/url_policy.h"
#include "webhooks/webhook_store.h"

namespace fiscal::webhooks {

struct SenderOptions {
  int workers = 1;                  // sender threads in this instance
  int poll_interval_ms = 1000;      // how often an idle sender looks for due deliveries
  int timeout_ms = 10000;           // upper bound for one attempt, connection included
  // How long a claimed delivery stays reserved for its sender. The constructor raises it to at
  // least timeout_ms + 30 s, so that a working sender does not lose its claim to another one.
  int lease_seconds = 60;
  double initial_backoff_seconds = 10;  // wait after the first failed attempt
  double max_backoff_seconds = 3600;    // cap of the doubling wait, before jitter
  AddressPolicy address_policy;         // which resolved addresses the sender may connect to
  std::string ca_file;                  // PEM bundle for https receivers; empty: the system's
};

class WebhookSender {
 public:
  WebhookSender(WebhookStore& store, SenderOptions options);
  ~WebhookSender();

  // Starts options.workers sender threads.
  void Start();
  // Stops the threads after their current attempt.
  void Stop();
  // Wakes an idle sender now instead of at its next poll (after deliveries were queued).
  void Notify();

  // Claims one due delivery, sends it and records the outcome. Returns true when a due delivery
  // was handled (sent, held back or marked dead), false when none was due or the database failed.
  // Public so that tests can drive the queue step by step.
  bool RunOnce();

  // Waiting time after failed attempt number `attempt` (from 1): `initial` doubling per attempt,
  // capped at `maximum`, then multiplied by a random factor in [0.8, 1.2] so that deliveries
  // failing together do not retry in step.
  static double BackoffSeconds(int attempt, double initial, double maximum);

 private:
  void WorkerLoop();
  AttemptOutcome Send(const ClaimedDelivery& delivery);

  WebhookStore& store_;
  SenderOptions options_;

  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  bool notified_ = false;
};

}  // namespace fiscal::webhooks
