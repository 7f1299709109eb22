// Idempotent POST requests: "Idempotency-Key: <1 to 255 printable ASCII characters>".
//
// The first request with a key runs the handler and stores its response. A retry with the same key
// and the same body gets that response again, byte for byte, with "Idempotent-Replayed: true", and
// the handler does not run. Keys are scoped per account (the account of the API key, or "public"
// for POST /v1/accounts), HTTP method and path, and are kept for 24 hours.
//
//   same key, same body, first still running  -> waits for it (up to 10 s), then replays;
//                                                 after the wait 409 idempotency_in_flight
//   same key, different body                   -> 409 idempotency_key_reused
//   first response 5xx or 429                  -> not stored; a retry runs the handler again
//   invalid header                             -> 400 with field "Idempotency-Key"
//
// Covered routes: POST /v1/accounts, /v1/api-keys, /v1/locations, /v1/transactions,
// /v1/transactions/:id/cancel and /v1/webhooks (kCoveredRoutes in idempotency.cc). It is a middleware
// rather than a wrapper around each handler, so one Router::Use call covers them whichever file
// registers the route. It resolves the account itself because the handlers authenticate inside
// their own code. Requests without the header, without a valid API key, or on other routes pass
// through unchanged.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "api/app.h"
#include "common/status.h"
#include "http/router.h"
#include "store/database.h"

namespace fiscal::api {

struct IdempotencyOptions {
  // How long a key and its response are kept.
  std::chrono::seconds retention{std::chrono::hours(24)};
  // An in-flight row older than this belongs to a request whose host died; a retry takes it over.
  std::chrono::seconds stale_after{60};
  // How long a duplicate waits for the first request before returning 409 idempotency_in_flight.
  // NOTE: the wait blocks the server thread running the duplicate (http.threads of them in all).
  std::chrono::milliseconds wait_timeout{10000};
  std::chrono::milliseconds poll_interval{100};
  // Expired rows are deleted by a request at most this often; zero turns the cleanup off, for a
  // caller that schedules IdempotencyStore::DeleteExpired itself.
  std::chrono::seconds cleanup_interval{600};
};

// A stored response, replayed as it was.
struct StoredResponse {
  int status = 0;
  std::string content_type;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// Identifies one key: its scope, method, normalised path and the key itself.
struct IdempotencyScope {
  std::string scope;
  std::string method;
  std::string path;
  std::string key;
};

// Outcome of trying to claim a key for a request.
struct IdempotencyClaim {
  enum class Kind {
    kAcquired,  // this request runs the handler; `owner_token` identifies it
    kReplay,    // a completed request with the same fingerprint; `response` contains it
    kInFlight,  // a request with the same fingerprint is still running
    kMismatch,  // the key was used with another request
  };
  Kind kind = Kind::kInFlight;
  std::string owner_token;
  StoredResponse response;
  // For a takeover of a stale row: the resource the dead request committed, or empty.
  std::string committed_resource;
};

// Internal request headers through which the middleware tells a handler which key it runs under
// (so that the handler can record its resource in its own transaction) and which resource a dead
// request already committed. Server::Handle strips them from client requests.
inline constexpr const char* kInternalHeaderPrefix = "x-fiscal-internal-";
inline constexpr const char* kIdempotencyScopeHeader = "x-fiscal-internal-idempotency-scope";
inline constexpr const char* kIdempotencyMethodHeader = "x-fiscal-internal-idempotency-method";
inline constexpr const char* kIdempotencyPathHeader = "x-fiscal-internal-idempotency-path";
inline constexpr const char* kIdempotencyKeyHeader = "x-fiscal-internal-idempotency-key";
inline constexpr const char* kCommittedResourceHeader = "x-fiscal-internal-committed-resource";

// The idempotency_keys table (sql/0003_idempotency.sql). Times come from the database clock, so
// several hosts agree on expiry and staleness.
class IdempotencyStore {
 public:
  explicit IdempotencyStore(store::Database& database) : database_(database) {}

  // Inserts an in-flight row for `id` unless one exists, takes over an expired row or a stale
  // in-flight row, and otherwise reports what the existing row contains.
  Result<IdempotencyClaim> Claim(const IdempotencyScope& id, const std::string& fingerprint,
                                 const IdempotencyOptions& options);

  // Stores the final response of the request holding `owner_token`. Returns false when the row was
  // taken over by another request in the meantime (then nothing is written).
  Result<bool> Complete(const IdempotencyScope& id, const std::string& owner_token, const StoredResponse& response);

  // Deletes the in-flight row of `owner_token`, so that a retry runs the handler again.
  Status Release(const IdempotencyScope& id, const std::string& owner_token);

  // Deletes up to `max_rows` expired rows and returns how many were deleted.
  Result<long> DeleteExpired(int max_rows);

 private:
  store::Database& database_;
};

// Returns true when `key` is a valid Idempotency-Key value: 1 to 255 printable ASCII characters
// (0x20 to 0x7E).
bool IsValidIdempotencyKey(const std::string& key);

// Builds the middleware. Uses app.database and app.accounts, which must outlive it.
http::Middleware MakeIdempotencyMiddleware(App& app, IdempotencyOptions options = {});

}  // namespace fiscal::api
