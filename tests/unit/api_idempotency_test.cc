// Tests of the Idempotency-Key middleware against a real PostgreSQL database (FISCAL_TEST_PG), with
// fake handlers behind http::Router, so no socket or plugin is involved. Without FISCAL_TEST_PG the
// tests skip.
#include <gtest/gtest.h>

#include "scratch_database.h"
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <memory>
#include <random>
#include <thread>

#include "api/app.h"
#include "api/auth.h"
#include "api/idempotency.h"
#include "common/json_tree.h"

namespace fiscal::api {
namespace {

using namespace std::chrono_literals;


std::string HeaderValue(const http::Response& response, const std::string& name) {
  for (const auto& header : response.headers) {
    if (header.first == name) return header.second;
  }
  return "";
}

std::string ErrorCode(const http::Response& response) {
  Result<json::Node> body = json::Parse(response.body);
  if (!body.ok()) return "<not JSON: " + response.body + ">";
  const json::Node* code = body->Find("code");
  return code == nullptr ? "" : code->text();
}

std::string ErrorField(const http::Response& response) {
  Result<json::Node> body = json::Parse(response.body);
  if (!body.ok()) return "<not JSON: " + response.body + ">";
  const json::Node* field = body->Find("field");
  return field == nullptr ? "" : field->text();
}

class IdempotencyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    scratch_ = testing::ScratchDatabase::Create("idempotency_test", 8).release();
    database_ = scratch_ == nullptr ? nullptr : &scratch_->database();
  }

  static void TearDownTestSuite() {
    delete scratch_;
    scratch_ = nullptr;
    database_ = nullptr;
  }

  void SetUp() override {
    if (database_ == nullptr) {
      GTEST_SKIP() << "needs PostgreSQL: set FISCAL_TEST_PG (for example \"host=127.0.0.1 port=15433 user=fiscal\"), "
                      "as scripts/test.sh does";
    }
    app_.config = &config_;
    app_.database = database_;
    app_.accounts = std::make_unique<store::AccountsStore>(*database_);
    account_key_ = CreateAccount();

    options_.wait_timeout = 5s;
    options_.poll_interval = 20ms;
    handler_ = [this](http::Request& request) {
      int call = ++calls_;
      http::Response response = http::Response::Json(201, "{\"call\":" + std::to_string(call) + ",\"body\":" +
                                                              std::to_string(request.body.size()) + "}");
      response.headers.emplace_back("Location", "/v1/transactions/" + std::to_string(call));
      return response;
    };
  }

  // Creates an account and returns its API key.
  std::string CreateAccount() {
    NewApiKey key = GenerateApiKey("test");
    std::string email = "idempotency-" + key.prefix + std::to_string(++accounts_created_) + "@example.com";
    auto created = app_.accounts->CreateAccount("Idempotency test", email, key.hash, key.prefix);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return key.key;
  }

  // A router with the middleware and the fake handler on the covered routes and one GET route.
  std::shared_ptr<http::Router> MakeRouter() {
    auto router = std::make_shared<http::Router>();
    router->Use(MakeIdempotencyMiddleware(app_, options_));
    auto call = [this](http::Request& request) { return handler_(request); };
    router->Add("POST", "/v1/transactions", call);
    router->Add("POST", "/v1/transactions/:id/cancel", call);
    router->Add("POST", "/v1/locations", call);
    router->Add("POST", "/v1/accounts", call);
    router->Add("POST", "/v1/other", call);
    router->Add("GET", "/v1/transactions", call);
    return router;
  }

  http::Request Post(const std::string& path, const std::string& key, const std::string& body,
                     const std::string& api_key) {
    http::Request request;
    request.method = "POST";
    request.path = path;
    request.body = body;
    request.request_id = "test";
    if (!key.empty()) request.headers["idempotency-key"] = key;
    if (!api_key.empty()) request.headers["authorization"] = "Bearer " + api_key;
    return request;
  }

  http::Response Send(http::Router& router, const std::string& path, const std::string& key,
                      const std::string& body, const std::string& api_key) {
    http::Request request = Post(path, key, body, api_key);
    return router.Dispatch(request);
  }

  long long CountRows(const std::string& condition) {
    long long count = -1;
    Status status = database_->Run([&](soci::session& session) {
      session << "SELECT count(*) FROM idempotency_keys WHERE " + condition, soci::into(count);
      return Status::Ok();
    });
    EXPECT_TRUE(status.ok()) << status.ToString();
    return count;
  }

  void Execute(const std::string& sql) {
    Status status = database_->Run([&](soci::session& session) {
      session << sql;
      return Status::Ok();
    });
    ASSERT_TRUE(status.ok()) << status.ToString();
  }

  // A key no other test uses, since the database is shared by the suite.
  std::string UniqueKey(const std::string& name) {
    return name + "-" + std::to_string(std::mt19937_64(std::random_device{}())());
  }

  static inline testing::ScratchDatabase* scratch_ = nullptr;
  static inline store::Database* database_ = nullptr;

  config::HostConfig config_;
  App app_;
  IdempotencyOptions options_;
  std::string account_key_;
  int accounts_created_ = 0;
  std::atomic<int> calls_{0};
  std::function<http::Response(http::Request&)> handler_;
};

TEST_F(IdempotencyTest, ReplayReturnsStoredResponse) {
  auto router = MakeRouter();
  std::string key = UniqueKey("replay");
  handler_ = [this](http::Request&) {
    ++calls_;
    http::Response response = http::Response::Json(201, "{\"id\":\"first\",\"amount\":8.00}");
    response.headers.emplace_back("Location", "/v1/transactions/first");
    response.headers.emplace_back("X-RateLimit-Remaining", "99");
    return response;
  };

  http::Response first = Send(*router, "/v1/transactions", key, "{\"a\":1}", account_key_);
  http::Response second = Send(*router, "/v1/transactions", key, "{\"a\":1}", account_key_);

  EXPECT_EQ(calls_, 1);
  EXPECT_EQ(first.status, 201);
  EXPECT_EQ(HeaderValue(first, "Idempotent-Replayed"), "");
  EXPECT_EQ(second.status, 201);
  EXPECT_EQ(second.body, first.body);
  EXPECT_EQ(second.content_type, first.content_type);
  EXPECT_EQ(HeaderValue(second, "Idempotent-Replayed"), "true");
  EXPECT_EQ(HeaderValue(second, "Location"), "/v1/transactions/first");
  EXPECT_EQ(HeaderValue(second, "X-RateLimit-Remaining"), "") << "rate-limit headers describe one exchange";
}

TEST_F(IdempotencyTest, ReplayKeepsBodyBytes) {
  auto router = MakeRouter();
  std::string key = UniqueKey("bytes");
  std::string body("caf\xC3\xA9 \x00 \xFF\xFE end", 16);
  handler_ = [&](http::Request&) {
    ++calls_;
    http::Response response;
    response.status = 200;
    response.content_type = "application/octet-stream";
    response.body = body;
    return response;
  };

  Send(*router, "/v1/transactions", key, "{}", account_key_);
  http::Response replayed = Send(*router, "/v1/transactions", key, "{}", account_key_);

  EXPECT_EQ(calls_, 1);
  EXPECT_EQ(replayed.body, body);
  EXPECT_EQ(replayed.body.size(), 16u);
  EXPECT_EQ(replayed.content_type, "application/octet-stream");
}

TEST_F(IdempotencyTest, DifferentBodyConflicts) {
  auto router = MakeRouter();
  std::string key = UniqueKey("reused");

  http::Response first = Send(*router, "/v1/transactions", key, "{\"total\":1}", account_key_);
  http::Response second = Send(*router, "/v1/transactions", key, "{\"total\":2}", account_key_);

  EXPECT_EQ(first.status, 201);
  EXPECT_EQ(second.status, 409);
  EXPECT_EQ(ErrorCode(second), "idempotency_key_reused");
  EXPECT_EQ(calls_, 1);
}

TEST_F(IdempotencyTest, ClientErrorIsStored) {
  auto router = MakeRouter();
  std::string key = UniqueKey("client-error");
  handler_ = [this](http::Request&) {
    ++calls_;
    return http::ErrorResponse(Status::Conflict("duplicate_invoice_number", "invoice number F-1 is already used"));
  };

  http::Response first = Send(*router, "/v1/transactions", key, "{}", account_key_);
  http::Response second = Send(*router, "/v1/transactions", key, "{}", account_key_);

  EXPECT_EQ(calls_, 1);
  EXPECT_EQ(first.status, 409);
  EXPECT_EQ(second.status, 409);
  EXPECT_EQ(second.body, first.body);
  EXPECT_EQ(HeaderValue(second, "Idempotent-Replayed"), "true");
}

TEST_F(IdempotencyTest, ServerErrorNotStored) {
  auto router = MakeRouter();
  std::string key = UniqueKey("server-error");
  handler_ = [this](http::Request&) {
    int call = ++calls_;
    if (call == 1) return http::ErrorResponse(Status::Unavailable("the database is unavailable"));
    if (call == 2) return http::ErrorResponse(Status::Internal("a bug"));
    if (call == 3) {
      http::Response throttled = http::Response::Json(429, "{\"error\":\"slow down\",\"code\":\"rate_limited\"}");
      return throttled;
    }
    return http::Response::Json(201, "{\"call\":" + std::to_string(call) + "}");
  };

  http::Response unavailable = Send(*router, "/v1/transactions", key, "{}", account_key_);
  EXPECT_EQ(unavailable.status, 503);
  EXPECT_EQ(CountRows("idempotency_key = '" + key + "'"), 0) << "a 503 must release the key";

  http::Response internal = Send(*router, "/v1/transactions", key, "{}", account_key_);
  EXPECT_EQ(internal.status, 500);
  EXPECT_EQ(HeaderValue(internal, "Idempotent-Replayed"), "");

  http::Response throttled = Send(*router, "/v1/transactions", key, "{}", account_key_);
  EXPECT_EQ(throttled.status, 429);

  http::Response created = Send(*router, "/v1/transactions", key, "{}", account_key_);
  EXPECT_EQ(created.status, 201);
  EXPECT_EQ(created.body, "{\"call\":4}");
  EXPECT_EQ(HeaderValue(created, "Idempotent-Replayed"), "");
  EXPECT_EQ(calls_, 4);
}

TEST_F(IdempotencyTest, HandlerExceptionReleasesKey) {
  auto router = MakeRouter();
  std::string key = UniqueKey("throws");
  handler_ = [this](http::Request&) -> http::Response {
    if (++calls_ == 1) throw std::runtime_error("handler bug");
    return http::Response::Json(201, "{}");
  };

  http::Request request = Post("/v1/transactions", key, "{}", account_key_);
  EXPECT_THROW(router->Dispatch(request), std::runtime_error);
  http::Response retried = Send(*router, "/v1/transactions", key, "{}", account_key_);

  EXPECT_EQ(retried.status, 201);
  EXPECT_EQ(calls_, 2);
}

TEST_F(IdempotencyTest, ConcurrentDuplicateWaitsAndReplays) {
  auto router = MakeRouter();
  std::string key = UniqueKey("concurrent");
  std::atomic<bool> started{false};
  handler_ = [&](http::Request&) {
    int call = ++calls_;
    started = true;
    std::this_thread::sleep_for(500ms);
    return http::Response::Json(201, "{\"call\":" + std::to_string(call) + "}");
  };

  http::Response first;
  std::thread worker([&] { first = Send(*router, "/v1/transactions", key, "{\"x\":1}", account_key_); });
  for (int i = 0; i < 200 && !started; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(started) << "the first request did not reach the handler within 2 s";
  http::Response second = Send(*router, "/v1/transactions", key, "{\"x\":1}", account_key_);
  worker.join();

  EXPECT_EQ(calls_, 1);
  EXPECT_EQ(first.status, 201);
  EXPECT_EQ(second.status, 201);
  EXPECT_EQ(second.body, first.body);
  EXPECT_EQ(HeaderValue(second, "Idempotent-Replayed"), "true");
}

TEST_F(IdempotencyTest, SimultaneousDuplicatesRunOnce) {
  auto router = MakeRouter();
  std::string key = UniqueKey("burst");
  handler_ = [this](http::Request&) {
    int call = ++calls_;
    std::this_thread::sleep_for(200ms);
    return http::Response::Json(201, "{\"call\":" + std::to_string(call) + "}");
  };

  // Eight requests released together race for the INSERT; exactly one may run the handler.
  constexpr int kThreads = 8;
  std::atomic<bool> go{false};
  std::vector<http::Response> responses(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      while (!go) std::this_thread::yield();
      responses[i] = Send(*router, "/v1/transactions", key, "{\"same\":true}", account_key_);
    });
  }
  go = true;
  for (std::thread& thread : threads) thread.join();

  EXPECT_EQ(calls_, 1);
  int replayed = 0;
  for (const http::Response& response : responses) {
    EXPECT_EQ(response.status, 201);
    EXPECT_EQ(response.body, "{\"call\":1}");
    if (HeaderValue(response, "Idempotent-Replayed") == "true") ++replayed;
  }
  EXPECT_EQ(replayed, kThreads - 1);
}

TEST_F(IdempotencyTest, ConcurrentDuplicateTimesOut) {
  options_.wait_timeout = 300ms;
  auto router = MakeRouter();
  std::string key = UniqueKey("in-flight");
  std::atomic<bool> started{false};
  handler_ = [&](http::Request&) {
    ++calls_;
    started = true;
    std::this_thread::sleep_for(1500ms);
    return http::Response::Json(201, "{}");
  };

  std::thread worker([&] { Send(*router, "/v1/transactions", key, "{}", account_key_); });
  for (int i = 0; i < 200 && !started; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(started) << "the first request did not reach the handler within 2 s";
  auto before = std::chrono::steady_clock::now();
  http::Response second = Send(*router, "/v1/transactions", key, "{}", account_key_);
  auto waited = std::chrono::steady_clock::now() - before;
  worker.join();

  EXPECT_EQ(second.status, 409);
  EXPECT_EQ(ErrorCode(second), "idempotency_in_flight");
  EXPECT_EQ(HeaderValue(second, "Retry-After"), "1");
  EXPECT_GE(waited, 250ms);
  EXPECT_LT(waited, 1200ms);
  EXPECT_EQ(calls_, 1);
}

TEST_F(IdempotencyTest, InvalidKeyRejected) {
  auto router = MakeRouter();
  const std::string invalid[] = {"", std::string(256, 'k'), "tab\tkey", "caf\xC3\xA9", std::string("nul\0key", 7)};
  for (const std::string& key : invalid) {
    http::Request request = Post("/v1/transactions", "", "{}", account_key_);
    request.headers["idempotency-key"] = key;
    http::Response response = router->Dispatch(request);
    EXPECT_EQ(response.status, 400) << "key of " << key.size() << " bytes";
    EXPECT_EQ(ErrorField(response), "Idempotency-Key");
  }
  EXPECT_EQ(calls_, 0);

  http::Response longest = Send(*router, "/v1/transactions", std::string(255, 'k'), "{}", account_key_);
  EXPECT_EQ(longest.status, 201);
  http::Response with_space = Send(*router, "/v1/transactions", UniqueKey("with space ~"), "{}", account_key_);
  EXPECT_EQ(with_space.status, 201);
}

TEST_F(IdempotencyTest, KeysScopedPerAccount) {
  auto router = MakeRouter();
  std::string other_key = CreateAccount();
  std::string key = UniqueKey("shared");

  http::Response first = Send(*router, "/v1/transactions", key, "{}", account_key_);
  http::Response other = Send(*router, "/v1/transactions", key, "{}", other_key);
  http::Response other_body = Send(*router, "/v1/transactions", UniqueKey("k2"), "{\"b\":1}", account_key_);

  EXPECT_EQ(calls_, 3);
  EXPECT_EQ(HeaderValue(other, "Idempotent-Replayed"), "");
  EXPECT_NE(other.body, first.body);
  EXPECT_EQ(other_body.status, 201);
}

TEST_F(IdempotencyTest, KeysScopedPerPath) {
  auto router = MakeRouter();
  std::string key = UniqueKey("paths");

  Send(*router, "/v1/transactions", key, "{}", account_key_);
  http::Response location = Send(*router, "/v1/locations", key, "{}", account_key_);
  http::Response cancel_a = Send(*router, "/v1/transactions/a/cancel", key, "{}", account_key_);
  http::Response cancel_b = Send(*router, "/v1/transactions/b/cancel", key, "{}", account_key_);
  http::Response cancel_a_again = Send(*router, "/v1/transactions/a/cancel/", key, "{}", account_key_);

  EXPECT_EQ(calls_, 4);
  EXPECT_EQ(HeaderValue(location, "Idempotent-Replayed"), "");
  EXPECT_EQ(HeaderValue(cancel_b, "Idempotent-Replayed"), "");
  EXPECT_EQ(HeaderValue(cancel_a_again, "Idempotent-Replayed"), "true") << "a trailing slash is the same route";
  EXPECT_EQ(cancel_a_again.body, cancel_a.body);
}

TEST_F(IdempotencyTest, PublicAccountsRouteReplays) {
  auto router = MakeRouter();
  std::string key = UniqueKey("public");

  http::Response first = Send(*router, "/v1/accounts", key, "{\"name\":\"x\"}", "");
  http::Response second = Send(*router, "/v1/accounts", key, "{\"name\":\"x\"}", "");

  EXPECT_EQ(calls_, 1);
  EXPECT_EQ(second.body, first.body);
  EXPECT_EQ(HeaderValue(second, "Idempotent-Replayed"), "true");
  EXPECT_EQ(CountRows("scope = 'public' AND idempotency_key = '" + key + "'"), 1);
}

TEST_F(IdempotencyTest, UncoveredRequestsPassThrough) {
  auto router = MakeRouter();
  std::string key = UniqueKey("pass");

  Send(*router, "/v1/other", key, "{}", account_key_);
  Send(*router, "/v1/other", key, "{}", account_key_);
  Send(*router, "/v1/transactions", "", "{}", account_key_);
  Send(*router, "/v1/transactions", "", "{}", account_key_);
  http::Request get;
  get.method = "GET";
  get.path = "/v1/transactions";
  get.headers["idempotency-key"] = key;
  get.headers["authorization"] = "Bearer " + account_key_;
  router->Dispatch(get);
  router->Dispatch(get);

  EXPECT_EQ(calls_, 6);
  EXPECT_EQ(CountRows("idempotency_key = '" + key + "'"), 0);
}

TEST_F(IdempotencyTest, UnauthenticatedRequestNotStored) {
  auto router = MakeRouter();
  std::string key = UniqueKey("no-auth");
  std::string unknown_key = "fsk_test_" + std::string(64, '0');

  Send(*router, "/v1/transactions", key, "{}", "");
  Send(*router, "/v1/transactions", key, "{}", unknown_key);
  Send(*router, "/v1/transactions", key, "{}", unknown_key);

  EXPECT_EQ(calls_, 3) << "the handler answers these requests itself (401)";
  EXPECT_EQ(CountRows("idempotency_key = '" + key + "'"), 0);
}

TEST_F(IdempotencyTest, ExpiredKeysDeleted) {
  auto router = MakeRouter();
  std::string expired = UniqueKey("expired");
  std::string fresh = UniqueKey("fresh");
  Send(*router, "/v1/transactions", expired, "{}", account_key_);
  Send(*router, "/v1/transactions", fresh, "{}", account_key_);
  EXPECT_EQ(CountRows("idempotency_key = '" + expired + "' AND expires_at > now() + interval '23 hours'"), 1)
      << "keys are kept 24 hours";
  Execute("UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE idempotency_key = '" + expired + "'");

  IdempotencyStore store(*database_);
  Result<long> deleted = store.DeleteExpired(1000);

  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_GE(*deleted, 1);
  EXPECT_EQ(CountRows("idempotency_key = '" + expired + "'"), 0);
  EXPECT_EQ(CountRows("idempotency_key = '" + fresh + "'"), 1);
}

TEST_F(IdempotencyTest, ExpiredKeyRunsAgain) {
  auto router = MakeRouter();
  std::string key = UniqueKey("reuse-after-expiry");
  Send(*router, "/v1/transactions", key, "{\"v\":1}", account_key_);
  Execute("UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE idempotency_key = '" + key + "'");

  http::Response again = Send(*router, "/v1/transactions", key, "{\"v\":2}", account_key_);

  EXPECT_EQ(again.status, 201);
  EXPECT_EQ(HeaderValue(again, "Idempotent-Replayed"), "");
  EXPECT_EQ(calls_, 2);
}

TEST_F(IdempotencyTest, StaleInFlightTakenOver) {
  options_.stale_after = 60s;
  auto router = MakeRouter();
  std::string key = UniqueKey("stale");
  IdempotencyStore store(*database_);
  IdempotencyScope id{"", "POST", "/v1/transactions", key};
  {
    // An in-flight row left by a host that died, as the middleware would have written it.
    auto principal = app_.accounts->FindPrincipal(Sha256Hex(account_key_));
    ASSERT_TRUE(principal.ok()) << principal.status().ToString();
    ASSERT_TRUE(principal->has_value());
    id.scope = (*principal)->account_id;
  }
  std::string fingerprint = Sha256Hex("POST\n/v1/transactions\n{}");
  auto claim = store.Claim(id, fingerprint, options_);
  ASSERT_TRUE(claim.ok()) << claim.status().ToString();
  ASSERT_EQ(claim->kind, IdempotencyClaim::Kind::kAcquired);

  options_.wait_timeout = 100ms;
  auto impatient = MakeRouter();
  http::Response while_fresh = Send(*impatient, "/v1/transactions", key, "{}", account_key_);
  EXPECT_EQ(while_fresh.status, 409);
  EXPECT_EQ(ErrorCode(while_fresh), "idempotency_in_flight");

  Execute("UPDATE idempotency_keys SET locked_at = now() - interval '2 minutes' WHERE idempotency_key = '" + key + "'");
  http::Response taken_over = Send(*router, "/v1/transactions", key, "{}", account_key_);
  EXPECT_EQ(taken_over.status, 201);
  EXPECT_EQ(calls_, 1);

  // The original owner finishing late must not overwrite the new response.
  StoredResponse late;
  late.status = 201;
  late.body = "late";
  auto written = store.Complete(id, claim->owner_token, late);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_FALSE(*written);
  http::Response replayed = Send(*router, "/v1/transactions", key, "{}", account_key_);
  EXPECT_EQ(replayed.body, taken_over.body);
}

}  // namespace
}  // namespace fiscal::api
