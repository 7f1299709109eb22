#include "queue/submitter.h"

#include <algorithm>
#include <random>

#include "common/json.h"
#include "common/json_tree.h"
#include "common/log.h"
#include "redis/circuit_breaker.h"

namespace fiscal::queue {
namespace {

std::string BuildSubmitInput(const ClaimedBatch& batch) {
  bool late = std::any_of(batch.items.begin(), batch.items.end(), [](const OutboxItem& item) { return item.late; });
  std::string input = "{\"environment\":" + json::Quote(batch.environment) + ",\"location\":" +
                      (batch.location_config.empty() ? std::string("{}") : batch.location_config) +
                      ",\"late\":" + (late ? "true" : "false") + ",\"records\":[";
  for (size_t i = 0; i < batch.items.size(); ++i) {
    const OutboxItem& item = batch.items[i];
    if (i > 0) input += ",";
    input += "{\"id\":" + json::Quote(item.record_id) + ",\"record_type\":" + json::Quote(item.record_type) +
             ",\"document\":" + json::Quote(item.document) + ",\"hash\":" + json::Quote(item.hash) +
             ",\"record_data\":" + item.record_data + ",\"attempt\":" + std::to_string(item.attempt) + "}";
  }
  return input + "]}";
}

std::string TextOf(const json::Node& object, const char* name) {
  const json::Node* node = object.Find(name);
  return node != nullptr && (node->IsString() || node->IsNumber()) ? node->text() : std::string();
}

// Reads the plugin's submit_batch result; a malformed result counts as an unknown outcome.
Status ParseSubmitResult(const std::string& text, std::vector<ItemResult>& results, int& retry_after,
                         std::string& authority_response) {
  Result<json::Node> parsed = json::Parse(text, "submit_batch result");
  if (!parsed.ok()) return parsed.status();
  const json::Node* list = parsed->Find("results");
  if (list == nullptr || !list->IsArray()) return Status::Internal("submit_batch result has no \"results\" array");

  for (const json::Node& entry : list->items()) {
    ItemResult result;
    result.record_id = TextOf(entry, "id");
    result.outcome = TextOf(entry, "outcome");
    result.code = TextOf(entry, "code");
    result.message = TextOf(entry, "message");
    result.authority_reference = TextOf(entry, "authority_reference");
    if (result.outcome != "registered" && result.outcome != "registered_with_errors" && result.outcome != "rejected" &&
        result.outcome != "retry") {
      return Status::Internal("submit_batch result has an unknown outcome \"" + result.outcome + "\"");
    }
    results.push_back(std::move(result));
  }

  std::string wait = TextOf(*parsed, "retry_after_seconds");
  retry_after = 0;
  for (char c : wait) {
    if (c < '0' || c > '9') break;
    retry_after = std::min(retry_after * 10 + (c - '0'), 7200);
  }
  authority_response = TextOf(*parsed, "authority_response");
  return Status::Ok();
}

}  // namespace

Submitter::Submitter(store::Database& database, plugins::PluginRegistry& registry, config::SubmissionConfig config,
                     std::string instance_id, redis::CircuitBreaker* breaker, webhooks::WebhookStore* webhooks,
                     std::function<void()> on_events)
    : database_(database), registry_(registry), config_(config), instance_id_(std::move(instance_id)),
      breaker_(breaker), on_events_(std::move(on_events)), outbox_(database, webhooks) {}

Submitter::~Submitter() { Stop(); }

int Submitter::BackoffSeconds(int attempt) {
  int exponent = std::clamp(attempt - 1, 0, 16);
  double base = std::min(2.0 * (1 << exponent), 300.0);
  thread_local std::mt19937 generator(std::random_device{}());
  std::uniform_real_distribution<double> jitter(0.8, 1.2);
  return std::max(1, static_cast<int>(base * jitter(generator)));
}

void Submitter::Start() {
  stopping_ = false;
  for (int i = 0; i < config_.workers; ++i) threads_.emplace_back([this, i] { WorkerLoop(i); });
}

void Submitter::Stop() {
  stopping_ = true;
  wake_.notify_all();
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  threads_.clear();
}

void Submitter::Notify() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    notified_ = true;
  }
  wake_.notify_one();
}

void Submitter::WorkerLoop(int index) {
  std::string owner = instance_id_ + "/sender-" + std::to_string(index);
  while (!stopping_) {
    bool worked = RunOnce(owner);
    if (worked) continue;

    std::unique_lock<std::mutex> lock(mutex_);
    wake_.wait_for(lock, std::chrono::milliseconds(config_.poll_interval_ms),
                   [this] { return notified_ || stopping_.load(); });
    notified_ = false;
  }
}

bool Submitter::RunOnce(const std::string& owner) {
  Result<std::optional<ClaimedBatch>> claimed =
      outbox_.ClaimNext(owner, config_.lease_seconds, config_.batch_size, config_.late_after_seconds);
  if (!claimed.ok()) {
    log::Warning("could not claim queued records", {{"error", claimed.status().ToString()}});
    return false;
  }
  if (!claimed->has_value()) return false;
  const ClaimedBatch& batch = **claimed;
  std::string chain = std::to_string(batch.chain_id);

  // A chain whose plugin is not loaded waits; its records stay queued.
  std::shared_ptr<const plugins::LoadedPlugin> plugin = registry_.FindForLocation(batch.plugin_name, batch.location_id);
  if (!plugin) {
    log::Error("plugin for queued records is not loaded", {{"plugin", batch.plugin_name}, {"chain_id", chain}});
    Status status = outbox_.Fail(batch, owner, "plugin " + batch.plugin_name + " is not loaded", 60, "");
    if (!status.ok()) log::Warning("could not release chain", {{"chain_id", chain}, {"error", status.ToString()}});
    return true;
  }
  const std::string& version = plugin->descriptor().version;
  const std::string& breaker_country = plugin->config().breaker_country;
  const std::string& breaker_authority = plugin->config().breaker_authority;

  // While the authority's breaker is open, records wait in the queue; receipts are unaffected.
  if (breaker_ != nullptr) {
    redis::BreakerDecision decision = breaker_->Allow(breaker_country, breaker_authority);
    if (!decision.allowed) {
      int wait = std::max(1, static_cast<int>(breaker_->config().open_duration.count() / 1000 / 2));
      Status status = outbox_.Postpone(batch, owner, wait);
      if (!status.ok()) log::Warning("could not postpone chain", {{"chain_id", chain}, {"error", status.ToString()}});
      return false;
    }
  }

  plugins::CallContext context;
  context.account_id = batch.account_id;
  context.location_id = batch.location_id;
  context.environment = batch.environment;
  context.allow_network = true;
  context.request_id = "chain-" + chain;
  plugins::CallOutcome outcome = plugin->SubmitBatch(BuildSubmitInput(batch), context);

  std::vector<ItemResult> results;
  int retry_after = 0;
  std::string authority_response;
  Status parsed = outcome.ok() ? ParseSubmitResult(outcome.result, results, retry_after, authority_response)
                               : Status::Unavailable(outcome.error_message);
  if (breaker_ != nullptr) {
    if (parsed.ok()) {
      breaker_->RecordSuccess(breaker_country, breaker_authority);
    } else {
      breaker_->RecordFailure(breaker_country, breaker_authority);
    }
  }
  if (!parsed.ok()) {
    int backoff = BackoffSeconds(batch.items.front().attempt);
    log::Warning("submission failed, will retry", {{"chain_id", chain},
                                                    {"plugin", batch.plugin_name},
                                                    {"records", std::to_string(batch.items.size())},
                                                    {"backoff_seconds", std::to_string(backoff)},
                                                    {"error", parsed.message()}});
    Status status = outbox_.Fail(batch, owner, parsed.message(), backoff, version);
    if (!status.ok()) log::Warning("could not record failed submission", {{"chain_id", chain}, {"error", status.ToString()}});
    if (on_events_) on_events_();
    return true;
  }

  Status status = outbox_.Complete(batch, owner, results, retry_after, version, authority_response);
  if (!status.ok()) {
    // The response is lost. The lease expires and the records are sent again, and the authority
    // reports them as duplicates of records it already has.
    log::Error("could not store the authority's answer", {{"chain_id", chain}, {"error", status.ToString()}});
    return true;
  }
  if (on_events_) on_events_();
  log::Info("submission answered", {{"chain_id", chain},
                                    {"plugin", batch.plugin_name},
                                    {"records", std::to_string(batch.items.size())},
                                    {"retry_after_seconds", std::to_string(retry_after)}});
  return true;
}

}  // namespace fiscal::queue
