#include "webhooks/webhook_sender.h"

#include <curl/curl.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <random>

#include "common/log.h"
#include "webhooks/signing.h"

#ifndef FISCAL_VERSION
#define FISCAL_VERSION "dev"
#endif

namespace fiscal::webhooks {
namespace {

// Part of the receiver's response body kept for last_error.
constexpr size_t kMaxResponseExcerpt = 200;

// curl_global_init is not thread-safe in every libcurl build, so it runs once, before any handle.
CURLcode InitCurlOnce() {
  static std::once_flag once;
  static CURLcode result = CURLE_OK;
  std::call_once(once, [] { result = curl_global_init(CURL_GLOBAL_DEFAULT); });
  return result;
}

struct CurlDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
struct HeaderListDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

// Keeps the start of the response body and discards the rest.
size_t KeepExcerpt(char* data, size_t size, size_t count, void* user) {
  auto* excerpt = static_cast<std::string*>(user);
  size_t bytes = size * count;
  if (excerpt->size() < kMaxResponseExcerpt) excerpt->append(data, std::min(bytes, kMaxResponseExcerpt - excerpt->size()));
  return bytes;
}

struct ConnectionGuard {
  const AddressPolicy* policy;
  bool rejected = false;
};

// Opens the socket only for addresses the policy allows. Checking here, after DNS resolution,
// covers names that resolve to internal addresses, which a check of the URL text cannot see.
curl_socket_t OpenAllowedSocket(void* user, curlsocktype purpose, curl_sockaddr* address) {
  auto* guard = static_cast<ConnectionGuard*>(user);
  if (purpose != CURLSOCKTYPE_IPCXN || !IsAllowedAddress(&address->addr, *guard->policy)) {
    guard->rejected = true;
    return CURL_SOCKET_BAD;
  }
  return socket(address->family, address->socktype, address->protocol);
}

// Makes text safe for a text column and a log line: bytes outside printable ASCII become '?'.
std::string Printable(const std::string& text) {
  std::string out = text;
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7F) c = '?';
  }
  return out;
}

AttemptOutcome Failure(std::string error, int status_code = 0) {
  AttemptOutcome outcome;
  outcome.error = std::move(error);
  outcome.status_code = status_code;
  return outcome;
}

}  // namespace

WebhookSender::WebhookSender(WebhookStore& store, SenderOptions options) : store_(store), options_(std::move(options)) {
  options_.lease_seconds = std::max(options_.lease_seconds, options_.timeout_ms / 1000 + 30);
}

WebhookSender::~WebhookSender() { Stop(); }

double WebhookSender::BackoffSeconds(int attempt, double initial, double maximum) {
  int exponent = std::clamp(attempt - 1, 0, 30);
  double base = std::min(initial * std::ldexp(1.0, exponent), maximum);
  thread_local std::mt19937 generator(std::random_device{}());
  std::uniform_real_distribution<double> jitter(0.8, 1.2);
  return std::max(0.0, base * jitter(generator));
}

void WebhookSender::Start() {
  stopping_ = false;
  for (int i = 0; i < options_.workers; ++i) threads_.emplace_back([this] { WorkerLoop(); });
  log::Info("webhook senders started", {{"workers", std::to_string(options_.workers)}});
}

void WebhookSender::Stop() {
  if (threads_.empty()) return;
  stopping_ = true;
  wake_.notify_all();
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  threads_.clear();
  log::Info("webhook senders stopped");
}

void WebhookSender::Notify() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    notified_ = true;
  }
  wake_.notify_one();
}

void WebhookSender::WorkerLoop() {
  while (!stopping_) {
    if (RunOnce()) continue;

    std::unique_lock<std::mutex> lock(mutex_);
    wake_.wait_for(lock, std::chrono::milliseconds(options_.poll_interval_ms),
                   [this] { return notified_ || stopping_.load(); });
    notified_ = false;
  }
}

bool WebhookSender::RunOnce() {
  Result<Claim> claim = store_.ClaimDue(options_.lease_seconds);
  if (!claim.ok()) {
    log::Warning("could not claim webhook deliveries", {{"error", claim.status().ToString()}});
    return false;
  }
  if (claim->kind == Claim::Kind::kNothingDue) return false;
  if (claim->kind == Claim::Kind::kSkipped) return true;
  const ClaimedDelivery& delivery = claim->delivery;

  AttemptOutcome outcome = Send(delivery);

  double backoff = BackoffSeconds(delivery.attempt, options_.initial_backoff_seconds, options_.max_backoff_seconds);
  std::string delivery_id = std::to_string(delivery.id);
  std::string attempt = std::to_string(delivery.attempt);
  if (outcome.delivered) {
    log::Info("webhook delivered", {{"delivery_id", delivery_id}, {"webhook_id", delivery.webhook_id},
                                    {"status_code", std::to_string(outcome.status_code)}, {"attempt", attempt}});
  } else if (delivery.attempt >= delivery.max_attempts) {
    log::Error("webhook delivery is dead after its last attempt", {{"delivery_id", delivery_id},
                                                                   {"webhook_id", delivery.webhook_id},
                                                                   {"attempt", attempt},
                                                                   {"error", outcome.error}});
  } else {
    log::Warning("webhook delivery failed, will retry", {{"delivery_id", delivery_id},
                                                         {"webhook_id", delivery.webhook_id},
                                                         {"attempt", attempt},
                                                         {"backoff_seconds", std::to_string(backoff)},
                                                         {"error", outcome.error}});
  }

  Status recorded = store_.RecordAttempt(delivery, outcome, backoff);
  if (!recorded.ok()) {
    log::Warning("could not record webhook attempt", {{"delivery_id", delivery_id}, {"error", recorded.ToString()}});
  }
  return true;
}

AttemptOutcome WebhookSender::Send(const ClaimedDelivery& delivery) {
  // The URL was checked when it was saved; checking again applies today's rules to old rows.
  Status valid = ValidateWebhookUrl(delivery.url);
  if (!valid.ok()) return Failure("not sent: " + valid.message());

  if (CURLcode init = InitCurlOnce(); init != CURLE_OK) {
    return Failure(std::string("libcurl initialization failed: ") + curl_easy_strerror(init));
  }
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return Failure("libcurl could not create a handle");
  CURL* handle = curl.get();

  // Signed over the exact bytes sent, with the secret as it is now.
  int64_t timestamp = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  std::string signature = SignWebhookPayload(delivery.secret, timestamp, delivery.payload);

  std::unique_ptr<curl_slist, HeaderListDeleter> headers;
  for (const std::string& line :
       {std::string("Content-Type: application/json"), std::string("User-Agent: fiscal-server-webhooks/") + FISCAL_VERSION,
        "X-Webhook-Id: " + std::to_string(delivery.id), "X-Webhook-Event: " + delivery.event,
        "X-Webhook-Timestamp: " + std::to_string(timestamp), "X-Webhook-Signature: " + signature,
        // An empty Expect stops libcurl from waiting for "100 Continue" before larger bodies.
        std::string("Expect:")}) {
    curl_slist* grown = curl_slist_append(headers.get(), line.c_str());
    if (grown == nullptr) return Failure("libcurl could not build the request headers");
    headers.release();
    headers.reset(grown);
  }

  std::string excerpt;
  char error_buffer[CURL_ERROR_SIZE] = {};
  ConnectionGuard guard{&options_.address_policy};
  curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_URL, delivery.url.c_str());
  curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 0L);
  // No proxy from the environment: the address check must see the receiver's own address.
  // NOTE: deployments that need an egress proxy cannot configure one yet.
  curl_easy_setopt(handle, CURLOPT_PROXY, "");
  curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout_ms));
  curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::min(options_.timeout_ms, 5000)));
  curl_easy_setopt(handle, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(handle, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!options_.ca_file.empty()) curl_easy_setopt(handle, CURLOPT_CAINFO, options_.ca_file.c_str());
  curl_easy_setopt(handle, CURLOPT_OPENSOCKETFUNCTION, &OpenAllowedSocket);
  curl_easy_setopt(handle, CURLOPT_OPENSOCKETDATA, &guard);
  curl_easy_setopt(handle, CURLOPT_POST, 1L);
  curl_easy_setopt(handle, CURLOPT_POSTFIELDS, delivery.payload.data());
  curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(delivery.payload.size()));
  curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, &KeepExcerpt);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &excerpt);

  CURLcode code = curl_easy_perform(handle);

  if (guard.rejected) {
    return Failure("not sent: " + delivery.url + " resolves to an address in a private, link-local or reserved range");
  }
  if (code != CURLE_OK) {
    std::string message = curl_easy_strerror(code);
    if (error_buffer[0] != '\0') message += ": " + std::string(error_buffer);
    return Failure(Printable(message));
  }

  long status_code = 0;
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status_code);
  if (status_code >= 200 && status_code < 300) {
    AttemptOutcome outcome;
    outcome.delivered = true;
    outcome.status_code = static_cast<int>(status_code);
    return outcome;
  }
  std::string error = "the receiver answered HTTP " + std::to_string(status_code);
  if (!excerpt.empty()) error += ": " + Printable(excerpt);
  return Failure(error, static_cast<int>(status_code));
}

}  // namespace fiscal::webhooks
