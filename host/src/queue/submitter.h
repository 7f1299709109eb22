// Background senders: take a chain's queued records from the outbox, hand them to the chain's
// plugin to send, and store the authority's response. Sending never happens on the request path, so a
// slow or absent authority never delays a receipt.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "config/config.h"
#include "plugins/plugin_registry.h"
#include "queue/outbox_store.h"

namespace fiscal::redis {
class CircuitBreaker;
}

namespace fiscal::queue {

class Submitter {
 public:
  // `breaker` and `webhooks` may be null. With a breaker, a chain whose authority's breaker is open
  // waits in the queue without using an attempt. `on_events` (may be empty) is called after webhook
  // events were queued, to wake the webhook sender.
  Submitter(store::Database& database, plugins::PluginRegistry& registry, config::SubmissionConfig config,
            std::string instance_id, redis::CircuitBreaker* breaker = nullptr,
            webhooks::WebhookStore* webhooks = nullptr, std::function<void()> on_events = {});
  ~Submitter();

  // Starts config.workers sender threads.
  void Start();
  // Stops the threads after their current batch.
  void Stop();
  // Wakes an idle sender now instead of at its next poll (called after a record is queued).
  void Notify();

  // Claims one chain and sends one batch. Returns true when a batch was processed. Public so tests
  // can drive the queue step by step.
  bool RunOnce(const std::string& owner);

  // Waiting time after an attempt with unknown outcome: exponential from 2 s, capped at 5 minutes,
  // with +-20 % jitter so that many chains do not retry in step.
  static int BackoffSeconds(int attempt);

 private:
  void WorkerLoop(int index);

  store::Database& database_;
  plugins::PluginRegistry& registry_;
  config::SubmissionConfig config_;
  std::string instance_id_;
  redis::CircuitBreaker* breaker_;
  std::function<void()> on_events_;
  OutboxStore outbox_;

  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  bool notified_ = false;
};

}  // namespace fiscal::queue
