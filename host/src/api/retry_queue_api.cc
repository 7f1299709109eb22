#include "api/retry_queue_api.h"

#include <memory>

#include "api/auth.h"
#include "api/input.h"
#include "api/views.h"
#include "common/json.h"
#include "queue/retry_queue_store.h"

namespace fiscal::api {
namespace {

using json::Quote;

std::string OptionalJson(const std::optional<std::string>& value) { return value ? Quote(*value) : "null"; }

std::string EntryJson(const queue::RetryQueueEntry& entry) {
  return "{\"id\":" + std::to_string(entry.id) + ",\"transaction_id\":" + Quote(entry.transaction_id) +
         ",\"record_id\":" + Quote(entry.record_id) + ",\"account_id\":" + Quote(entry.account_id) +
         ",\"status\":" + Quote(entry.status) + ",\"attempt\":" + std::to_string(entry.attempt) +
         ",\"max_attempts\":" + std::to_string(entry.max_attempts) + ",\"next_retry_at\":" +
         OptionalJson(entry.next_retry_at) + ",\"last_error\":" + OptionalJson(entry.last_error) +
         ",\"created_at\":" + Quote(entry.created_at) + ",\"updated_at\":" + Quote(entry.updated_at) + "}";
}

bool IsOutboxStatus(const std::string& status) {
  return status == "pending" || status == "processing" || status == "completed" || status == "failed" ||
         status == "dead";
}

Result<queue::RetryQueueFilter> ReadFilter(const http::Request& request) {
  queue::RetryQueueFilter filter;
  auto limit = ReadIntParam(request.Query("limit"), "limit", 20, 1, 100);
  if (!limit.ok()) return limit.status();
  auto offset = ReadIntParam(request.Query("offset"), "offset", 0, 0, 10000);
  if (!offset.ok()) return offset.status();
  filter.limit = *limit;
  filter.offset = *offset;

  filter.status = request.Query("status");
  if (!filter.status.empty() && !IsOutboxStatus(filter.status)) {
    return Status::InvalidArgument("status", "status must be one of pending, processing, completed, failed, dead");
  }
  filter.transaction_id = request.Query("transaction_id");
  if (!filter.transaction_id.empty() && !IsUuid(filter.transaction_id)) {
    return Status::InvalidArgument("transaction_id", "transaction_id must be a transaction id (a UUID)");
  }
  return filter;
}

http::Response ListEntries(App& app, queue::RetryQueueStore& store, http::Request& request) {
  auto principal = Authenticate(app, request);
  if (!principal.ok()) return http::ErrorResponse(principal.status());
  auto filter = ReadFilter(request);
  if (!filter.ok()) return http::ErrorResponse(filter.status());

  long total = 0;
  auto entries = store.List(principal->account_id, *filter, total);
  if (!entries.ok()) return http::ErrorResponse(entries.status());
  std::string items;
  for (size_t i = 0; i < entries->size(); ++i) items += (i > 0 ? "," : "") + EntryJson((*entries)[i]);
  return http::Response::Json(200, PageJson(items, total, filter->limit, filter->offset));
}

http::Response GetStats(App& app, queue::RetryQueueStore& store, http::Request& request) {
  auto principal = Authenticate(app, request);
  if (!principal.ok()) return http::ErrorResponse(principal.status());

  auto stats = store.Stats(principal->account_id);
  if (!stats.ok()) return http::ErrorResponse(stats.status());
  return http::Response::Json(
      200, "{\"pending\":" + std::to_string(stats->pending) + ",\"processing\":" + std::to_string(stats->processing) +
               ",\"completed\":" + std::to_string(stats->completed) + ",\"failed\":" + std::to_string(stats->failed) +
               ",\"dead\":" + std::to_string(stats->dead) + ",\"total\":" + std::to_string(stats->total) + "}");
}

}  // namespace

void AddRetryQueueRoutes(App& app, http::Router& router) {
  auto store = std::make_shared<queue::RetryQueueStore>(*app.database);
  router.Add("GET", "/v1/retry-queue", [&app, store](http::Request& r) { return ListEntries(app, *store, r); });
  router.Add("GET", "/v1/retry-queue/stats", [&app, store](http::Request& r) { return GetStats(app, *store, r); });
}

}  // namespace fiscal::api
