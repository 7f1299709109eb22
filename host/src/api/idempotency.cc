#include "api/idempotency.h"

#include <openssl/rand.h>
#include <soci/soci.h>

#include <atomic>
#include <cctype>
#include <memory>
#include <thread>

#include "api/auth.h"
#include "common/json.h"
#include "common/json_tree.h"
#include "common/log.h"

namespace fiscal::api {
namespace {

// POST routes that create something. Patterns use the router's ":name" syntax.
constexpr const char* kCoveredRoutes[] = {
    "/v1/accounts",
    "/v1/api-keys",
    "/v1/locations",
    "/v1/transactions",
    "/v1/transactions/:id/cancel",
    "/v1/transactions/:id/duplicates",
    "/v1/locations/:id/closures",
    "/v1/locations/:id/events",
    "/v1/locations/:id/archives",
    "/v1/webhooks",
};

// The only route without an API key; its keys share one scope.
constexpr const char* kPublicRoute = "/v1/accounts";
constexpr const char* kPublicScope = "public";

// Deleted per cleanup run, so one request never pays for a large backlog.
constexpr int kCleanupBatch = 1000;

std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> segments;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    if (end > start) segments.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return segments;
}

// Joins segments back into a path, so "/v1/transactions/" and "/v1/transactions" share keys, as
// they share a route.
std::string JoinSegments(const std::vector<std::string>& segments) {
  std::string path;
  for (const std::string& segment : segments) path += "/" + segment;
  return path.empty() ? "/" : path;
}

bool MatchesPattern(const std::vector<std::string>& segments, const std::string& pattern) {
  std::vector<std::string> expected = SplitPath(pattern);
  if (expected.size() != segments.size()) return false;
  for (size_t i = 0; i < segments.size(); ++i) {
    if (expected[i][0] == ':') continue;
    if (expected[i] != segments[i]) return false;
  }
  return true;
}

bool IsCovered(const std::vector<std::string>& segments) {
  for (const char* pattern : kCoveredRoutes) {
    if (MatchesPattern(segments, pattern)) return true;
  }
  return false;
}

std::string ToHex(const std::string& bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char byte : bytes) {
    out.push_back(kDigits[byte >> 4]);
    out.push_back(kDigits[byte & 0xF]);
  }
  return out;
}

int HexValue(char digit) {
  if (digit >= '0' && digit <= '9') return digit - '0';
  if (digit >= 'a' && digit <= 'f') return digit - 'a' + 10;
  if (digit >= 'A' && digit <= 'F') return digit - 'A' + 10;
  return -1;
}

Result<std::string> FromHex(const std::string& hex) {
  if (hex.size() % 2 != 0) return Status::Internal("stored idempotent response body has an odd hex length");
  std::string bytes;
  bytes.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int high = HexValue(hex[i]);
    int low = HexValue(hex[i + 1]);
    if (high < 0 || low < 0) return Status::Internal("stored idempotent response body is not valid hex");
    bytes.push_back(static_cast<char>(high * 16 + low));
  }
  return bytes;
}

Result<std::string> NewOwnerToken() {
  unsigned char random[16];
  if (RAND_bytes(random, sizeof(random)) != 1) return Status::Internal("the system random generator failed");
  return ToHex(std::string(reinterpret_cast<const char*>(random), sizeof(random)));
}

std::string HeadersToJson(const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string out = "[";
  for (size_t i = 0; i < headers.size(); ++i) {
    if (i > 0) out += ",";
    out += "[" + json::Quote(headers[i].first) + "," + json::Quote(headers[i].second) + "]";
  }
  return out + "]";
}

Result<std::vector<std::pair<std::string, std::string>>> HeadersFromJson(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> headers;
  if (text.empty()) return headers;
  Result<json::Node> parsed = json::Parse(text, "stored response headers");
  if (!parsed.ok()) return Status::Internal("stored idempotent response headers are malformed");
  if (!parsed->IsArray()) return Status::Internal("stored idempotent response headers are not an array");
  for (const json::Node& pair : parsed->items()) {
    if (!pair.IsArray() || pair.items().size() != 2 || !pair.items()[0].IsString() || !pair.items()[1].IsString()) {
      return Status::Internal("stored idempotent response headers are malformed");
    }
    headers.emplace_back(pair.items()[0].text(), pair.items()[1].text());
  }
  return headers;
}

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// Headers that describe this exchange rather than its result (request id, rate limits, retry hints)
// are not replayed.
bool IsStoredHeader(const std::string& name) {
  std::string lower = Lower(name);
  if (lower == "x-request-id" || lower == "retry-after" || lower == "date" || lower == "idempotent-replayed") {
    return false;
  }
  return lower.rfind("x-ratelimit-", 0) != 0 && lower.rfind("ratelimit", 0) != 0;
}

// 5xx means the server failed and 429 that the client was throttled: in both cases a retry should
// run the handler again, so the response is not kept.
bool IsStoredStatus(int status) { return status < 500 && status != 429; }

StoredResponse ToStored(const http::Response& response) {
  StoredResponse stored;
  stored.status = response.status;
  stored.content_type = response.content_type;
  stored.body = response.body;
  for (const auto& header : response.headers) {
    if (IsStoredHeader(header.first)) stored.headers.push_back(header);
  }
  return stored;
}

http::Response Replay(const StoredResponse& stored) {
  http::Response response;
  response.status = stored.status;
  response.content_type = stored.content_type;
  response.body = stored.body;
  response.headers = stored.headers;
  response.headers.emplace_back("Idempotent-Replayed", "true");
  return response;
}

http::Response ConflictResponse(const std::string& code, const std::string& message) {
  http::Response response = http::ErrorResponse(Status::Conflict(code, message));
  if (code == "idempotency_in_flight") response.headers.emplace_back("Retry-After", "1");
  return response;
}

// The idempotency_keys row that an INSERT found in its way.
struct ExistingRow {
  std::string fingerprint, state, owner_token;
  bool expired = false;
  bool stale = false;
  std::string body_hex, headers_json;
};

}  // namespace

bool IsValidIdempotencyKey(const std::string& key) {
  if (key.empty() || key.size() > 255) return false;
  for (unsigned char c : key) {
    if (c < 0x20 || c > 0x7E) return false;
  }
  return true;
}

Result<IdempotencyClaim> IdempotencyStore::Claim(const IdempotencyScope& id, const std::string& fingerprint,
                                                 const IdempotencyOptions& options) {
  Result<std::string> token = NewOwnerToken();
  if (!token.ok()) return token.status();
  const int retention = static_cast<int>(options.retention.count());
  const int stale_after = static_cast<int>(options.stale_after.count());

  IdempotencyClaim claim;
  Status status = database_.Run([&](soci::session& session) -> Status {
    // Each statement commits on its own, so the in-flight row is visible to other requests at once.
    // A row can vanish between the INSERT and the SELECT because its request failed and released it.
    // A takeover can lose to another request. In both cases the loop starts over.
    for (int round = 0; round < 5; ++round) {
      int inserted = 0;
      session << "INSERT INTO idempotency_keys (scope, method, path, idempotency_key, fingerprint, owner_token, "
                 "expires_at) VALUES (:s, :m, :p, :k, :f, :t, now() + make_interval(secs => :r)) "
                 "ON CONFLICT DO NOTHING RETURNING 1",
          soci::use(id.scope), soci::use(id.method), soci::use(id.path), soci::use(id.key), soci::use(fingerprint),
          soci::use(*token), soci::use(retention), soci::into(inserted);
      if (session.got_data()) {
        claim.kind = IdempotencyClaim::Kind::kAcquired;
        claim.owner_token = *token;
        return Status::Ok();
      }

      soci::row row;
      session << "SELECT fingerprint, state, owner_token, CASE WHEN expires_at <= now() THEN 1 ELSE 0 END, "
                 "CASE WHEN locked_at < now() - make_interval(secs => :st) THEN 1 ELSE 0 END, "
                 "response_status, response_content_type, response_headers, encode(response_body, 'hex'), "
                 "coalesce(resource_id, '') "
                 "FROM idempotency_keys WHERE scope = :s AND method = :m AND path = :p AND idempotency_key = :k",
          soci::use(stale_after), soci::use(id.scope), soci::use(id.method), soci::use(id.path), soci::use(id.key),
          soci::into(row);
      if (!session.got_data()) continue;

      ExistingRow existing;
      existing.fingerprint = row.get<std::string>(0);
      existing.state = row.get<std::string>(1);
      existing.owner_token = row.get<std::string>(2);
      existing.expired = row.get<int>(3) == 1;
      // A row whose request already committed its resource can be served at once: the takeover
      // replays that resource instead of running the handler's work again.
      existing.stale = row.get<int>(4) == 1 || !row.get<std::string>(9).empty();

      // An expired row no longer exists as far as clients are concerned, whatever it contains.
      if (existing.expired) {
        int claimed_row = 0;
        session << "UPDATE idempotency_keys SET fingerprint = :f, state = 'in_flight', owner_token = :t, "
                   "locked_at = now(), response_status = NULL, response_content_type = NULL, "
                   "response_headers = NULL, response_body = NULL, created_at = now(), completed_at = NULL, "
                   "expires_at = now() + make_interval(secs => :r) "
                   "WHERE scope = :s AND method = :m AND path = :p AND idempotency_key = :k AND owner_token = :old "
                   "RETURNING 1",
            soci::use(fingerprint), soci::use(*token), soci::use(retention), soci::use(id.scope), soci::use(id.method),
            soci::use(id.path), soci::use(id.key), soci::use(existing.owner_token), soci::into(claimed_row);
        if (!session.got_data()) continue;
        claim.kind = IdempotencyClaim::Kind::kAcquired;
        claim.owner_token = *token;
        return Status::Ok();
      }

      if (existing.fingerprint != fingerprint) {
        claim.kind = IdempotencyClaim::Kind::kMismatch;
        return Status::Ok();
      }

      if (existing.state == "completed") {
        claim.kind = IdempotencyClaim::Kind::kReplay;
        claim.response.status = row.get<int>(5);
        claim.response.content_type = row.get_indicator(6) == soci::i_ok ? row.get<std::string>(6) : "";
        existing.headers_json = row.get_indicator(7) == soci::i_ok ? row.get<std::string>(7) : "";
        existing.body_hex = row.get_indicator(8) == soci::i_ok ? row.get<std::string>(8) : "";

        Result<std::string> body = FromHex(existing.body_hex);
        if (!body.ok()) return body.status();
        claim.response.body = std::move(*body);
        auto headers = HeadersFromJson(existing.headers_json);
        if (!headers.ok()) return headers.status();
        claim.response.headers = std::move(*headers);
        return Status::Ok();
      }

      if (!existing.stale) {
        claim.kind = IdempotencyClaim::Kind::kInFlight;
        return Status::Ok();
      }

      // The request that inserted this row has not finished within stale_after: its host most likely
      // died. The owner token check lets exactly one retry take the row over.
      int claimed_row = 0;
      session << "UPDATE idempotency_keys SET owner_token = :t, locked_at = now() "
                 "WHERE scope = :s AND method = :m AND path = :p AND idempotency_key = :k "
                 "AND state = 'in_flight' AND owner_token = :old RETURNING 1",
          soci::use(*token), soci::use(id.scope), soci::use(id.method), soci::use(id.path), soci::use(id.key),
          soci::use(existing.owner_token), soci::into(claimed_row);
      if (!session.got_data()) continue;
      claim.committed_resource = row.get<std::string>(9);
      log::Warning("idempotency key taken over from a stale in-flight request",
                   {{"scope", id.scope}, {"path", id.path}, {"idempotency_key", id.key},
                    {"committed_resource", claim.committed_resource}});
      claim.kind = IdempotencyClaim::Kind::kAcquired;
      claim.owner_token = *token;
      return Status::Ok();
    }

    // Only reachable when other requests keep changing the row under this one.
    claim.kind = IdempotencyClaim::Kind::kInFlight;
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return claim;
}

Result<bool> IdempotencyStore::Complete(const IdempotencyScope& id, const std::string& owner_token,
                                        const StoredResponse& response) {
  bool written = false;
  std::string headers = HeadersToJson(response.headers);
  std::string body_hex = ToHex(response.body);
  Status status = database_.Run([&](soci::session& session) {
    int updated = 0;
    session << "UPDATE idempotency_keys SET state = 'completed', response_status = :st, response_content_type = :ct, "
               "response_headers = :h, response_body = decode(:b, 'hex'), completed_at = now() "
               "WHERE scope = :s AND method = :m AND path = :p AND idempotency_key = :k "
               "AND state = 'in_flight' AND owner_token = :t RETURNING 1",
        soci::use(response.status), soci::use(response.content_type), soci::use(headers), soci::use(body_hex),
        soci::use(id.scope), soci::use(id.method), soci::use(id.path), soci::use(id.key), soci::use(owner_token),
        soci::into(updated);
    written = session.got_data();
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return written;
}

Status IdempotencyStore::Release(const IdempotencyScope& id, const std::string& owner_token) {
  return database_.Run([&](soci::session& session) {
    session << "DELETE FROM idempotency_keys WHERE scope = :s AND method = :m AND path = :p AND idempotency_key = :k "
               "AND state = 'in_flight' AND owner_token = :t",
        soci::use(id.scope), soci::use(id.method), soci::use(id.path), soci::use(id.key), soci::use(owner_token);
    return Status::Ok();
  });
}

Result<long> IdempotencyStore::DeleteExpired(int max_rows) {
  long long deleted = 0;
  Status status = database_.Run([&](soci::session& session) {
    // The outer expires_at check skips a row that a request took over after the inner SELECT.
    session << "WITH gone AS (DELETE FROM idempotency_keys WHERE ctid IN "
               "(SELECT ctid FROM idempotency_keys WHERE expires_at <= now() LIMIT :n) AND expires_at <= now() "
               "RETURNING 1) SELECT count(*) FROM gone",
        soci::use(max_rows), soci::into(deleted);
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return static_cast<long>(deleted);
}

namespace {

class IdempotencyMiddleware {
 public:
  IdempotencyMiddleware(App& app, IdempotencyOptions options)
      : app_(app), options_(options), store_(*app.database), next_cleanup_ms_(0) {}

  http::Response Handle(http::Request& request, const http::Handler& next) {
    if (request.method != "POST") return next(request);
    std::vector<std::string> segments = SplitPath(request.path);
    if (!IsCovered(segments)) return next(request);
    auto header = request.headers.find("idempotency-key");
    if (header == request.headers.end()) return next(request);

    const std::string& key = header->second;
    if (!IsValidIdempotencyKey(key)) {
      return http::ErrorResponse(Status::InvalidArgument(
          "Idempotency-Key", "the Idempotency-Key header must be 1 to 255 printable ASCII characters; a UUID is a good key"));
    }

    // Scope the key. A request without a valid API key runs without idempotency, so the handler
    // returns its usual 401 or 403 and nothing is stored.
    IdempotencyScope id;
    id.method = request.method;
    id.path = JoinSegments(segments);
    id.key = key;
    if (id.path == kPublicRoute) {
      // NOTE: every client shares this scope, so a replay returns the first client's response
      // (which contains a new API key) to anyone who sends the same key and body. Keys must be
      // unguessable, such as random UUIDs.
      id.scope = kPublicScope;
    } else {
      Result<store::Principal> principal = Authenticate(app_, request);
      if (!principal.ok()) {
        StatusCode code = principal.status().code();
        if (code == StatusCode::kUnavailable || code == StatusCode::kInternal) {
          return http::ErrorResponse(principal.status());
        }
        return next(request);
      }
      id.scope = principal->account_id;
    }

    MaybeDeleteExpired();
    std::string fingerprint = Sha256Hex(request.method + "\n" + id.path + "\n" + request.body);
    return Run(request, next, id, fingerprint);
  }

 private:
  http::Response Run(http::Request& request, const http::Handler& next, const IdempotencyScope& id,
                     const std::string& fingerprint) {
    // A duplicate of a running request polls until that request finishes or the wait runs out.
    auto deadline = std::chrono::steady_clock::now() + options_.wait_timeout;
    for (;;) {
      Result<IdempotencyClaim> claim = store_.Claim(id, fingerprint, options_);
      if (!claim.ok()) return http::ErrorResponse(claim.status());

      switch (claim->kind) {
        case IdempotencyClaim::Kind::kAcquired:
          if (!claim->committed_resource.empty()) {
            request.headers[kCommittedResourceHeader] = claim->committed_resource;
          }
          return RunHandler(request, next, id, claim->owner_token);
        case IdempotencyClaim::Kind::kReplay:
          log::Info("idempotent response replayed", {{"request_id", request.request_id}, {"scope", id.scope},
                                                     {"path", id.path}});
          return Replay(claim->response);
        case IdempotencyClaim::Kind::kMismatch:
          return ConflictResponse("idempotency_key_reused",
                                  "this Idempotency-Key was already used with a different request body on " +
                                      id.method + " " + id.path + "; use a new key for a new request");
        case IdempotencyClaim::Kind::kInFlight:
          break;
      }

      if (std::chrono::steady_clock::now() + options_.poll_interval > deadline) {
        return ConflictResponse("idempotency_in_flight",
                                "a request with this Idempotency-Key is still being processed; retry after a "
                                "moment with the same key and body to get its response");
      }
      std::this_thread::sleep_for(options_.poll_interval);
    }
  }

  http::Response RunHandler(http::Request& request, const http::Handler& next, const IdempotencyScope& id,
                            const std::string& owner_token) {
    request.headers[kIdempotencyScopeHeader] = id.scope;
    request.headers[kIdempotencyMethodHeader] = id.method;
    request.headers[kIdempotencyPathHeader] = id.path;
    request.headers[kIdempotencyKeyHeader] = id.key;

    http::Response response;
    try {
      response = next(request);
    } catch (...) {
      // The adapter turns the exception into a 500; release the key so that a retry runs again.
      Release(request, id, owner_token);
      throw;
    }

    if (!IsStoredStatus(response.status)) {
      Release(request, id, owner_token);
      return response;
    }

    // The handler has committed by now. If this host dies before the UPDATE below, the row stays
    // in flight: retries within stale_after wait and get 409 idempotency_in_flight, and the first
    // retry after it takes the row over. Handlers that create fiscal records (transactions and
    // cancellations) write resource_id in their own transaction, so that retry returns the
    // committed resource instead of creating a second one.
    Result<bool> written = store_.Complete(id, owner_token, ToStored(response));
    if (!written.ok()) {
      log::Error("storing the idempotent response failed", {{"request_id", request.request_id},
                                                            {"scope", id.scope}, {"path", id.path},
                                                            {"error", written.status().ToString()}});
    } else if (!*written) {
      log::Warning("idempotent response not stored: another request took the key over after stale_after",
                   {{"request_id", request.request_id}, {"scope", id.scope}, {"path", id.path}});
    }
    return response;
  }

  void Release(const http::Request& request, const IdempotencyScope& id, const std::string& owner_token) {
    Status released = store_.Release(id, owner_token);
    if (!released.ok()) {
      // The row stays in flight until stale_after; then a retry takes it over.
      log::Error("releasing an idempotency key failed", {{"request_id", request.request_id}, {"scope", id.scope},
                                                        {"path", id.path}, {"error", released.ToString()}});
    }
  }

  // Deletes a batch of expired rows when cleanup_interval has passed since the last run. The
  // compare-exchange lets one request per interval do it.
  void MaybeDeleteExpired() {
    if (options_.cleanup_interval.count() <= 0) return;
    long long now = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now().time_since_epoch())
                        .count();
    long long due = next_cleanup_ms_.load();
    if (now < due) return;
    long long next_due = now + std::chrono::duration_cast<std::chrono::milliseconds>(options_.cleanup_interval).count();
    if (!next_cleanup_ms_.compare_exchange_strong(due, next_due)) return;

    Result<long> deleted = store_.DeleteExpired(kCleanupBatch);
    if (!deleted.ok()) {
      log::Warning("deleting expired idempotency keys failed", {{"error", deleted.status().ToString()}});
    } else if (*deleted > 0) {
      log::Info("expired idempotency keys deleted", {{"count", std::to_string(*deleted)}});
    }
  }

  App& app_;
  IdempotencyOptions options_;
  IdempotencyStore store_;
  std::atomic<long long> next_cleanup_ms_;
};

}  // namespace

http::Middleware MakeIdempotencyMiddleware(App& app, IdempotencyOptions options) {
  // std::function needs a copyable target; the shared state lives behind a shared_ptr.
  auto middleware = std::make_shared<IdempotencyMiddleware>(app, options);
  return [middleware](http::Request& request, const http::Handler& next) { return middleware->Handle(request, next); };
}

}  // namespace fiscal::api
