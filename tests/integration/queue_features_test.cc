// The queue's operator-facing features on a real host: circuit breaker, rate limits, idempotency,
// maintenance mode, the retry-queue API and dead letters.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "api/auth.h"
#include "harness.h"

namespace fiscal::testing {
namespace {

class QueueFeatureTest : public ::testing::Test {
 protected:
  void StartHost(const HostOptions& options = {}) {
    std::string missing = MissingEnvironment();
    if (!missing.empty()) GTEST_SKIP() << missing;
    ResetEmulator();
    database_ = std::make_unique<TestDatabase>();
    host_ = std::make_unique<HostProcess>(*database_, options);
    base_ = host_->base_url();
    key_ = CreateAccount(base_);
    location_ = CreateSpainLocation(base_, key_);
  }

  void TearDown() override { RedisCli("DEL circuit_breaker:spain:aeat circuit_breaker:spain:aeat:auto"); }

  HttpResult Sale(const std::vector<std::string>& extra_headers = {}) {
    std::vector<std::string> headers = Auth(key_);
    headers.insert(headers.end(), extra_headers.begin(), extra_headers.end());
    return HttpCall("POST", base_ + "/v1/transactions", SaleBody(location_), headers);
  }

  const json::Node* Breaker(const json::Node& health) {
    const json::Node* breakers = health.Find("circuit_breakers");
    if (breakers == nullptr || breakers->items().empty()) return nullptr;
    return &breakers->items()[0];
  }

  std::unique_ptr<TestDatabase> database_;
  std::unique_ptr<HostProcess> host_;
  std::string base_, key_, location_;
};

TEST_F(QueueFeatureTest, OperatorOpensBreakerForAllInstances) {
  StartHost();
  ASSERT_EQ(RedisCli("SET circuit_breaker:spain:aeat open"), "OK");

  HttpResult sale = Sale();
  ASSERT_EQ(sale.status, 201) << "receipts are issued while the breaker is open";
  std::this_thread::sleep_for(std::chrono::seconds(2));
  EXPECT_EQ(database_->Query("SELECT status FROM fiscal_records"), "pending");
  EXPECT_EQ(database_->Query("SELECT attempt FROM outbox"), "0") << "an open breaker uses no attempt";

  json::Node health = ParseJson(HttpCall("GET", base_ + "/health").body);
  const json::Node* breaker = Breaker(health);
  ASSERT_NE(breaker, nullptr) << health.ToJson();
  EXPECT_EQ(Text(*breaker, "state"), "open");
  EXPECT_EQ(Text(*breaker, "source"), "operator");
  EXPECT_EQ(Text(health, "status"), "degraded");

  ASSERT_EQ(RedisCli("DEL circuit_breaker:spain:aeat"), "1");
  EXPECT_EQ(WaitAllResolved(*database_, 30), 0);
  EXPECT_EQ(database_->Query("SELECT status FROM fiscal_records"), "registered");
}

TEST_F(QueueFeatureTest, BreakerOpensAfterFailuresAndCloses) {
  StartHost();
  SetEmulatorFault("{\"mode\":\"http500\"}");
  ASSERT_EQ(Sale().status, 201);

  // Three failed exchanges open the breaker (threshold 3 in the test configuration).
  json::Node health;
  for (int i = 0; i < 300; ++i) {
    health = ParseJson(HttpCall("GET", base_ + "/health").body);
    const json::Node* breaker = Breaker(health);
    if (breaker != nullptr && Text(*breaker, "state") == "open") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_NE(Breaker(health), nullptr);
  EXPECT_EQ(Text(*Breaker(health), "state"), "open") << health.ToJson();
  EXPECT_EQ(Text(*Breaker(health), "source"), "automatic");

  // A successful probe closes it and the queue drains.
  SetEmulatorFault("{\"mode\":\"none\"}");
  EXPECT_EQ(WaitAllResolved(*database_, 60), 0);
  health = ParseJson(HttpCall("GET", base_ + "/health").body);
  EXPECT_EQ(Text(*Breaker(health), "state"), "closed");
}

TEST_F(QueueFeatureTest, RateLimitAnswers429) {
  HostOptions options;
  options.sandbox_tier_json = "{\"requests_per_minute\":60,\"burst\":3}";
  StartHost(options);

  HttpResult first = HttpCall("GET", base_ + "/v1/transactions", "", Auth(key_));
  EXPECT_EQ(first.headers["x-ratelimit-limit"], "60");
  EXPECT_FALSE(first.headers["x-ratelimit-remaining"].empty());
  EXPECT_FALSE(first.headers["x-ratelimit-reset"].empty());

  HttpResult limited;
  for (int i = 0; i < 5 && limited.status != 429; ++i) limited = HttpCall("GET", base_ + "/v1/transactions", "", Auth(key_));
  ASSERT_EQ(limited.status, 429) << limited.body;
  EXPECT_FALSE(limited.headers["retry-after"].empty());
  json::Node body = ParseJson(limited.body);
  EXPECT_EQ(Text(body, "code"), "rate_limit_exceeded");
  EXPECT_FALSE(Text(body, "retry_after").empty());
  EXPECT_EQ(limited.headers["x-ratelimit-remaining"], "0");
}

TEST_F(QueueFeatureTest, RateLimitFallsBackWithoutRedis) {
  StartHost();
  Service("stop-redis");
  HttpResult listed = HttpCall("GET", base_ + "/v1/transactions", "", Auth(key_));
  EXPECT_EQ(listed.status, 200);
  EXPECT_FALSE(listed.headers["x-ratelimit-limit"].empty());
  json::Node health = ParseJson(HttpCall("GET", base_ + "/health").body);
  EXPECT_EQ(Text(health, "rate_limiter"), "local");
  Service("start-redis");
}

TEST_F(QueueFeatureTest, IdempotentRetryReturnsSameSale) {
  StartHost();
  HttpResult first = Sale({"Idempotency-Key: 6f1c2b1e-0000-4000-8000-000000000001"});
  ASSERT_EQ(first.status, 201) << first.body;
  HttpResult again = Sale({"Idempotency-Key: 6f1c2b1e-0000-4000-8000-000000000001"});
  EXPECT_EQ(again.status, 201);
  EXPECT_EQ(Text(ParseJson(again.body), "id"), Text(ParseJson(first.body), "id"));
  EXPECT_EQ(again.headers["idempotent-replayed"], "true");
  EXPECT_EQ(database_->Query("SELECT count(*) FROM transactions"), "1");

  std::string other_body = SaleBody(location_);
  other_body.insert(1, "\"description\":\"different\",");
  HttpResult reused = HttpCall("POST", base_ + "/v1/transactions", other_body,
                               {"Authorization: Bearer " + key_, "Idempotency-Key: 6f1c2b1e-0000-4000-8000-000000000001"});
  EXPECT_EQ(reused.status, 409);
  EXPECT_EQ(Text(ParseJson(reused.body), "code"), "idempotency_key_reused");
  EXPECT_EQ(database_->Query("SELECT count(*) FROM transactions"), "1");
}

TEST_F(QueueFeatureTest, MaintenanceModeAnswers503) {
  StartHost();
  std::vector<std::string> admin = {std::string("Authorization: Bearer ") + kAdminToken};
  HttpResult on = HttpCall("POST", base_ + "/v1/admin/maintenance",
                           "{\"enabled\":true,\"message\":\"upgrading\",\"retry_after\":30}", admin);
  ASSERT_EQ(on.status, 200) << on.body;

  HttpResult blocked = Sale();
  EXPECT_EQ(blocked.status, 503);
  json::Node body = ParseJson(blocked.body);
  EXPECT_EQ(Text(body, "status"), "maintenance");
  EXPECT_EQ(Text(body, "message"), "upgrading");
  EXPECT_EQ(Text(body, "retry_after"), "30");
  EXPECT_EQ(blocked.headers["retry-after"], "30");
  EXPECT_EQ(HttpCall("GET", base_ + "/health").status, 200);
  EXPECT_EQ(database_->Query("SELECT count(*) FROM transactions"), "0");

  EXPECT_EQ(HttpCall("POST", base_ + "/v1/admin/maintenance", "{\"enabled\":false}", Auth(key_)).status, 401);
  ASSERT_EQ(HttpCall("POST", base_ + "/v1/admin/maintenance", "{\"enabled\":false}", admin).status, 200);
  EXPECT_EQ(Sale().status, 201);
}

TEST_F(QueueFeatureTest, RetryQueueShowsEntries) {
  StartHost();
  HttpResult sale = Sale();
  ASSERT_EQ(sale.status, 201);
  ASSERT_EQ(WaitAllResolved(*database_, 30), 0);

  json::Node list = ParseJson(HttpCall("GET", base_ + "/v1/retry-queue", "", Auth(key_)).body);
  ASSERT_NE(list.Find("data"), nullptr) << list.ToJson();
  ASSERT_EQ(list.Find("data")->items().size(), 1u);
  const json::Node& entry = list.Find("data")->items()[0];
  EXPECT_EQ(Text(entry, "transaction_id"), Text(ParseJson(sale.body), "id"));
  EXPECT_EQ(Text(entry, "status"), "completed");

  json::Node stats = ParseJson(HttpCall("GET", base_ + "/v1/retry-queue/stats", "", Auth(key_)).body);
  EXPECT_EQ(Text(stats, "completed"), "1");
  EXPECT_EQ(Text(stats, "total"), "1");
  EXPECT_EQ(HttpCall("GET", base_ + "/v1/retry-queue?status=bogus", "", Auth(key_)).status, 400);
}

TEST_F(QueueFeatureTest, ExhaustedEntryBecomesDead) {
  HostOptions options;
  options.max_attempts = 2;
  StartHost(options);
  // A subscriber to dead letters; nothing listens on port 9, so its delivery only gets queued.
  HttpResult webhook = HttpCall("POST", base_ + "/v1/webhooks",
                                "{\"url\":\"http://127.0.0.1:9/hook\",\"events\":[\"fiscalization.dead_letter\"]}",
                                Auth(key_));
  ASSERT_EQ(webhook.status, 201) << webhook.body;
  SetEmulatorFault("{\"mode\":\"http500\"}");
  ASSERT_EQ(Sale().status, 201);

  std::string status;
  for (int i = 0; i < 300 && status != "dead"; ++i) {
    status = database_->Query("SELECT status FROM outbox");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(status, "dead");
  EXPECT_EQ(database_->Query("SELECT attempt FROM outbox"), "2");
  EXPECT_EQ(database_->Query("SELECT status FROM fiscal_records"), "pending") << "the record itself stays unresolved";
  EXPECT_EQ(database_->Query("SELECT count(*) FROM webhook_deliveries WHERE event = 'fiscalization.dead_letter'"), "1");

  // The dead entry holds back the rest of its chain, so the authority never receives it out of order.
  SetEmulatorFault("{\"mode\":\"none\"}");
  ASSERT_EQ(Sale().status, 201);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  EXPECT_EQ(database_->Query("SELECT count(*) FROM fiscal_records WHERE status = 'pending'"), "2");

  // The operator requeues it; both records reach the authority in chain order, without warnings.
  ASSERT_EQ(database_->Execute("UPDATE outbox SET status = 'failed', attempt = 0 WHERE status = 'dead'"), "");
  EXPECT_EQ(WaitAllResolved(*database_, 60), 0);
  EXPECT_EQ(database_->Query("SELECT string_agg(status, ',' ORDER BY sequence) FROM fiscal_records"),
            "registered,registered");
}

}  // namespace
}  // namespace fiscal::testing

namespace fiscal::testing {
namespace {

TEST_F(QueueFeatureTest, CommittedSaleIsNotIssuedTwice) {
  StartHost();
  // Reproduces a host that died after committing a sale but before storing the idempotent
  // response: the key's row is in flight and names the committed transaction.
  HttpResult first = Sale();
  ASSERT_EQ(first.status, 201);
  std::string id = Text(ParseJson(first.body), "id");
  std::string account = database_->Query("SELECT account_id::text FROM transactions LIMIT 1");
  std::string fingerprint = api::Sha256Hex("POST\n/v1/transactions\n" + SaleBody(location_));
  ASSERT_EQ(database_->Execute("INSERT INTO idempotency_keys (scope, method, path, idempotency_key, fingerprint, "
                               "owner_token, expires_at, resource_id) VALUES ('" + account + "', 'POST', "
                               "'/v1/transactions', 'crash-key', '" + fingerprint + "', 'dead-host', "
                               "now() + interval '1 day', '" + id + "')"),
            "");

  HttpResult retry = Sale({"Idempotency-Key: crash-key"});
  EXPECT_EQ(retry.status, 201) << retry.body;
  EXPECT_EQ(Text(ParseJson(retry.body), "id"), id);
  EXPECT_EQ(database_->Query("SELECT count(*) FROM transactions"), "1");
  EXPECT_EQ(database_->Query("SELECT state FROM idempotency_keys WHERE idempotency_key = 'crash-key'"), "completed");
}

TEST_F(QueueFeatureTest, SaleRecordsItsIdempotencyKey) {
  StartHost();
  HttpResult sale = Sale({"Idempotency-Key: recorded-key"});
  ASSERT_EQ(sale.status, 201);
  EXPECT_EQ(database_->Query("SELECT resource_id FROM idempotency_keys WHERE idempotency_key = 'recorded-key'"),
            Text(ParseJson(sale.body), "id"));
  // A client cannot forge the internal headers.
  HttpResult forged = Sale({"X-Fiscal-Internal-Committed-Resource: " + Text(ParseJson(sale.body), "id")});
  EXPECT_EQ(forged.status, 201);
  EXPECT_NE(Text(ParseJson(forged.body), "id"), Text(ParseJson(sale.body), "id"));
}

}  // namespace
}  // namespace fiscal::testing

namespace fiscal::testing {
namespace {

TEST_F(QueueFeatureTest, LateRecordCarriesIncidencia) {
  HostOptions options;
  options.late_after_seconds = 1;
  StartHost(options);

  // A record held back past the late threshold (here by the operator's breaker) is sent with
  // Incidencia=S; its content and hash stay as generated.
  ASSERT_EQ(RedisCli("SET circuit_breaker:spain:aeat open"), "OK");
  ASSERT_EQ(Sale().status, 201);
  std::string hash = database_->Query("SELECT hash FROM fiscal_records");
  std::this_thread::sleep_for(std::chrono::seconds(3));
  ASSERT_EQ(RedisCli("DEL circuit_breaker:spain:aeat"), "1");
  ASSERT_EQ(WaitAllResolved(*database_, 30), 0);

  json::Node state = EmulatorRecords();
  const json::Node* records = state.Find("records");
  ASSERT_NE(records, nullptr);
  ASSERT_EQ(records->items().size(), 1u);
  const json::Node* incidencia = records->items()[0].Find("incidencia");
  ASSERT_NE(incidencia, nullptr);
  EXPECT_TRUE(incidencia->boolean());
  EXPECT_EQ(Text(records->items()[0], "huella"), hash);
}

TEST_F(QueueFeatureTest, OnTimeRecordHasNoIncidencia) {
  StartHost();
  ASSERT_EQ(Sale().status, 201);
  ASSERT_EQ(WaitAllResolved(*database_, 30), 0);
  json::Node state = EmulatorRecords();
  const json::Node* records = state.Find("records");
  ASSERT_NE(records, nullptr);
  ASSERT_EQ(records->items().size(), 1u);
  ASSERT_NE(records->items()[0].Find("incidencia"), nullptr);
  EXPECT_FALSE(records->items()[0].Find("incidencia")->boolean());
}

TEST_F(QueueFeatureTest, HonoursTiempoEsperaEnvio) {
  StartHost();
  SetEmulatorFault("{\"wait_seconds\":3}");

  // The first sale goes at once; the authority then requests 3 s between messages of the issuer,
  // and the sales posted meanwhile leave together in the next message.
  ASSERT_EQ(Sale().status, 201);
  for (int i = 0; i < 100 && database_->Query("SELECT count(*) FROM fiscal_records WHERE status = 'pending'") != "0"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (int i = 0; i < 5; ++i) ASSERT_EQ(Sale().status, 201);
  ASSERT_EQ(WaitAllResolved(*database_, 30), 0);

  json::Node state = EmulatorRecords();
  const json::Node* log = state.Find("requests_log");
  ASSERT_NE(log, nullptr);
  ASSERT_EQ(log->items().size(), 2u) << state.ToJson();
  EXPECT_EQ(Text(log->items()[0], "records"), "1");
  EXPECT_EQ(Text(log->items()[1], "records"), "5");
  long long gap = std::stoll(Text(log->items()[1], "received_at_ms")) - std::stoll(Text(log->items()[0], "received_at_ms"));
  EXPECT_GE(gap, 2900) << "the second message came " << gap << " ms after the first";
}

}  // namespace
}  // namespace fiscal::testing
