// WebhookStore against a real PostgreSQL database: CRUD, tenant isolation, EnqueueEvent inside
// the caller's transaction, and the senders' claim. Needs FISCAL_TEST_PG (set by scripts/test.sh,
// e.g. "host=127.0.0.1 port=15433 user=fiscal"); without it the tests skip.
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <random>
#include <string>

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include "api/auth.h"
#include "common/json_tree.h"
#include "store/accounts_store.h"
#include "scratch_database.h"
#include "store/database.h"
#include "webhooks/webhook_store.h"

namespace fiscal::webhooks {
namespace {

std::string TestServer() {
  const char* value = std::getenv("FISCAL_TEST_PG");
  return value == nullptr ? "" : value;
}

std::string RandomSuffix() {
  std::mt19937_64 generator(std::random_device{}());
  return std::to_string(generator() % 1000000000ULL);
}

// One fresh, migrated database for the whole suite, dropped at the end.
class WebhookStoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    scratch_ = testing::ScratchDatabase::Create("webhooks_store", 4).release();
    database_ = scratch_ == nullptr ? nullptr : &scratch_->database();
    connection_ = scratch_ == nullptr ? "" : scratch_->connection();
  }

  static void TearDownTestSuite() {
    delete scratch_;
    scratch_ = nullptr;
    database_ = nullptr;
  }

  void SetUp() override {
    if (TestServer().empty()) GTEST_SKIP() << "FISCAL_TEST_PG is not set; run ./scripts/test.sh or export it";
    ASSERT_NE(database_, nullptr) << "the test database could not be set up";
    accounts_ = std::make_unique<store::AccountsStore>(*database_);
    store_ = std::make_unique<WebhookStore>(*database_);
  }

  // Creates an account and returns its id.
  std::string NewAccount() {
    api::NewApiKey key = api::GenerateApiKey("test");
    auto created = accounts_->CreateAccount("Webhook test", "owner-" + RandomSuffix() + "@example.com", key.hash,
                                            key.prefix);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? created->first.id : "";
  }

  WebhookRow NewWebhook(const std::string& account_id, std::vector<std::string> events = {kEventFiscalizationCompleted},
                        bool enabled = true) {
    auto created = store_->Create(account_id, "https://example.com/hook", events, std::nullopt, enabled);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? created.value() : WebhookRow();
  }

  std::string Query(const std::string& sql) {
    soci::session session(soci::postgresql, connection_);
    std::string value;
    soci::indicator indicator = soci::i_null;
    session << "SELECT (" + sql + ")::text", soci::into(value, indicator);
    return indicator == soci::i_ok ? value : "";
  }

  // Runs EnqueueEvent in a transaction that commits when `commit`, else rolls back.
  Status Enqueue(const std::string& account_id, const std::string& event, const std::string& payload, bool commit) {
    return database_->Run([&](soci::session& session) {
      soci::transaction transaction(session);
      Status status = store_->EnqueueEvent(session, account_id, event, payload);
      if (!status.ok()) return status;
      if (commit) transaction.commit();
      return Status::Ok();
    });
  }

  long CountDeliveries(const std::string& account_id) {
    return std::stol(Query("SELECT count(*) FROM webhook_deliveries WHERE account_id = '" + account_id + "'"));
  }

  static inline testing::ScratchDatabase* scratch_ = nullptr;
  static inline std::string connection_;
  static inline store::Database* database_ = nullptr;
  std::unique_ptr<store::AccountsStore> accounts_;
  std::unique_ptr<WebhookStore> store_;
};

TEST_F(WebhookStoreTest, CreateReturnsSecretOnce) {
  std::string account = NewAccount();
  auto created = store_->Create(account, "https://example.com/a", {kEventFiscalizationCompleted, kEventFiscalizationDeadLetter},
                                std::string("till receipts"), true);
  ASSERT_TRUE(created.ok()) << created.status().ToString();

  EXPECT_EQ(created->account_id, account);
  EXPECT_EQ(created->url, "https://example.com/a");
  EXPECT_EQ(created->secret.rfind("whsec_", 0), 0u);
  EXPECT_EQ(created->secret.size(), 70u);
  ASSERT_EQ(created->events.size(), 2u);
  EXPECT_EQ(created->events[0], kEventFiscalizationCompleted);
  EXPECT_EQ(created->events[1], kEventFiscalizationDeadLetter);
  EXPECT_EQ(created->description.value_or(""), "till receipts");
  EXPECT_TRUE(created->enabled);
  EXPECT_FALSE(created->created_at.empty());

  auto fetched = store_->Get(account, created->id);
  ASSERT_TRUE(fetched.ok()) << fetched.status().ToString();
  EXPECT_TRUE(fetched->secret.empty());
  EXPECT_EQ(fetched->url, created->url);
  EXPECT_EQ(fetched->events, created->events);
  EXPECT_EQ(Query("SELECT secret FROM webhooks WHERE id = '" + created->id + "'"), created->secret);
}

TEST_F(WebhookStoreTest, ListPagesLiveWebhooks) {
  std::string account = NewAccount();
  WebhookRow first = NewWebhook(account);
  WebhookRow second = NewWebhook(account);
  WebhookRow third = NewWebhook(account);
  ASSERT_TRUE(store_->Delete(account, second.id).ok());

  long total = 0;
  auto page = store_->List(account, 1, 0, total);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(total, 2);
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0].id, first.id);
  EXPECT_TRUE((*page)[0].secret.empty());

  auto rest = store_->List(account, 10, 1, total);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->size(), 1u);
  EXPECT_EQ((*rest)[0].id, third.id);
}

TEST_F(WebhookStoreTest, UpdateChangesOnlyGivenFields) {
  std::string account = NewAccount();
  auto created = store_->Create(account, "https://example.com/a", {kEventFiscalizationCompleted},
                                std::string("first"), true);
  ASSERT_TRUE(created.ok());

  WebhookUpdate update;
  update.enabled = false;
  auto disabled = store_->Update(account, created->id, update);
  ASSERT_TRUE(disabled.ok()) << disabled.status().ToString();
  EXPECT_FALSE(disabled->enabled);
  EXPECT_EQ(disabled->url, "https://example.com/a");
  EXPECT_EQ(disabled->description.value_or(""), "first");
  EXPECT_TRUE(disabled->secret.empty());

  WebhookUpdate second;
  second.url = "https://example.org/b";
  second.events = std::vector<std::string>{kEventFiscalizationDeadLetter};
  second.set_description = true;  // clears it
  auto changed = store_->Update(account, created->id, second);
  ASSERT_TRUE(changed.ok());
  EXPECT_EQ(changed->url, "https://example.org/b");
  ASSERT_EQ(changed->events.size(), 1u);
  EXPECT_EQ(changed->events[0], kEventFiscalizationDeadLetter);
  EXPECT_FALSE(changed->description.has_value());
  EXPECT_FALSE(changed->enabled);
  EXPECT_EQ(Query("SELECT secret FROM webhooks WHERE id = '" + created->id + "'"), created->secret);
}

TEST_F(WebhookStoreTest, RotateSecretReplacesIt) {
  std::string account = NewAccount();
  WebhookRow webhook = NewWebhook(account);

  auto rotated = store_->RotateSecret(account, webhook.id);
  ASSERT_TRUE(rotated.ok()) << rotated.status().ToString();
  EXPECT_EQ(rotated->secret.rfind("whsec_", 0), 0u);
  EXPECT_NE(rotated->secret, webhook.secret);
  EXPECT_EQ(Query("SELECT secret FROM webhooks WHERE id = '" + webhook.id + "'"), rotated->secret);
}

TEST_F(WebhookStoreTest, DeleteHidesWebhook) {
  std::string account = NewAccount();
  WebhookRow webhook = NewWebhook(account);

  ASSERT_TRUE(store_->Delete(account, webhook.id).ok());
  EXPECT_EQ(store_->Get(account, webhook.id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Delete(account, webhook.id).code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->RotateSecret(account, webhook.id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Update(account, webhook.id, WebhookUpdate()).status().code(), StatusCode::kNotFound);
}

TEST_F(WebhookStoreTest, OtherAccountGetsNotFound) {
  std::string owner = NewAccount();
  std::string other = NewAccount();
  WebhookRow webhook = NewWebhook(owner);
  long total = 0;

  EXPECT_EQ(store_->Get(other, webhook.id).status().code(), StatusCode::kNotFound);
  WebhookUpdate update;
  update.url = "https://attacker.example/";
  EXPECT_EQ(store_->Update(other, webhook.id, update).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->RotateSecret(other, webhook.id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->ListDeliveries(other, webhook.id, 10, 0, total).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Delete(other, webhook.id).code(), StatusCode::kNotFound);

  auto listed = store_->List(other, 10, 0, total);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(total, 0);
  EXPECT_TRUE(listed->empty());

  // Nothing changed for the owner.
  auto fetched = store_->Get(owner, webhook.id);
  ASSERT_TRUE(fetched.ok());
  EXPECT_EQ(fetched->url, "https://example.com/hook");
  EXPECT_EQ(Query("SELECT secret FROM webhooks WHERE id = '" + webhook.id + "'"), webhook.secret);
}

TEST_F(WebhookStoreTest, LimitPerAccount) {
  WebhookStore::Options options;
  options.max_webhooks_per_account = 2;
  WebhookStore limited(*database_, options);
  std::string account = NewAccount();

  ASSERT_TRUE(limited.Create(account, "https://example.com/1", {kEventFiscalizationCompleted}, std::nullopt, true).ok());
  auto second = limited.Create(account, "https://example.com/2", {kEventFiscalizationCompleted}, std::nullopt, true);
  ASSERT_TRUE(second.ok());
  auto third = limited.Create(account, "https://example.com/3", {kEventFiscalizationCompleted}, std::nullopt, true);
  EXPECT_EQ(third.status().code(), StatusCode::kConflict);
  EXPECT_EQ(third.status().error_code(), "too_many_webhooks");

  // A deleted webhook frees its place.
  ASSERT_TRUE(limited.Delete(account, second->id).ok());
  EXPECT_TRUE(limited.Create(account, "https://example.com/4", {kEventFiscalizationCompleted}, std::nullopt, true).ok());
}

TEST_F(WebhookStoreTest, EnqueueRolledBackLeavesNothing) {
  std::string account = NewAccount();
  NewWebhook(account);

  Status status = Enqueue(account, kEventFiscalizationCompleted, R"({"transaction_id":"t1"})", false);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(CountDeliveries(account), 0);
}

TEST_F(WebhookStoreTest, EnqueueCommittedFansOut) {
  std::string account = NewAccount();
  std::string other_account = NewAccount();
  WebhookRow completed = NewWebhook(account, {kEventFiscalizationCompleted});
  WebhookRow both = NewWebhook(account, {kEventFiscalizationDeadLetter, kEventFiscalizationCompleted});
  WebhookRow dead_letter_only = NewWebhook(account, {kEventFiscalizationDeadLetter});
  WebhookRow disabled = NewWebhook(account, {kEventFiscalizationCompleted}, false);
  WebhookRow deleted = NewWebhook(account, {kEventFiscalizationCompleted});
  ASSERT_TRUE(store_->Delete(account, deleted.id).ok());
  NewWebhook(other_account, {kEventFiscalizationCompleted});

  std::string payload = R"({"transaction_id":"t1","total_amount":8.00,"status":"registered"})";
  Status status = Enqueue(account, kEventFiscalizationCompleted, payload, true);
  ASSERT_TRUE(status.ok()) << status.ToString();

  EXPECT_EQ(CountDeliveries(account), 2);
  EXPECT_EQ(CountDeliveries(other_account), 0);
  std::string where = "SELECT count(*) FROM webhook_deliveries WHERE webhook_id = '";
  EXPECT_EQ(Query(where + completed.id + "'"), "1");
  EXPECT_EQ(Query(where + both.id + "'"), "1");
  EXPECT_EQ(Query(where + dead_letter_only.id + "'"), "0");
  EXPECT_EQ(Query(where + disabled.id + "'"), "0");
  // Both deliveries belong to one event.
  EXPECT_EQ(Query("SELECT count(DISTINCT event_id) FROM webhook_deliveries WHERE account_id = '" + account + "'"), "1");

  long total = 0;
  auto deliveries = store_->ListDeliveries(account, completed.id, 10, 0, total);
  ASSERT_TRUE(deliveries.ok()) << deliveries.status().ToString();
  ASSERT_EQ(total, 1);
  const DeliveryRow& delivery = (*deliveries)[0];
  EXPECT_EQ(delivery.status, "pending");
  EXPECT_EQ(delivery.attempt, 0);
  EXPECT_EQ(delivery.max_attempts, 10);
  EXPECT_EQ(delivery.event, kEventFiscalizationCompleted);
  EXPECT_FALSE(delivery.last_status_code.has_value());
  EXPECT_TRUE(delivery.next_attempt_at.has_value());

  // The body wraps the payload in the event envelope; amounts keep their digits.
  Result<json::Node> body = json::Parse(delivery.payload, "payload");
  ASSERT_TRUE(body.ok()) << delivery.payload;
  EXPECT_EQ(body->Find("id")->text(), delivery.event_id);
  EXPECT_EQ(body->Find("object")->text(), "event");
  EXPECT_EQ(body->Find("type")->text(), kEventFiscalizationCompleted);
  EXPECT_EQ(body->Find("account_id")->text(), account);
  ASSERT_NE(body->Find("created_at"), nullptr);
  const json::Node* data = body->Find("data");
  ASSERT_NE(data, nullptr);
  EXPECT_EQ(data->Find("transaction_id")->text(), "t1");
  EXPECT_EQ(data->Find("total_amount")->text(), "8.00");
}

TEST_F(WebhookStoreTest, EnqueueRejectsBadInput) {
  std::string account = NewAccount();
  NewWebhook(account);

  EXPECT_EQ(Enqueue(account, "fiscalization.unknown", "{}", true).code(), StatusCode::kInternal);
  EXPECT_EQ(Enqueue(account, kEventFiscalizationCompleted, "[1]", true).code(), StatusCode::kInternal);
  EXPECT_EQ(Enqueue(account, kEventFiscalizationCompleted, "{not json", true).code(), StatusCode::kInternal);
  EXPECT_EQ(CountDeliveries(account), 0);
}

TEST_F(WebhookStoreTest, EnqueueWithoutWebhooksWritesNothing) {
  std::string account = NewAccount();
  ASSERT_TRUE(Enqueue(account, kEventFiscalizationDeadLetter, "{}", true).ok());
  EXPECT_EQ(CountDeliveries(account), 0);
}

TEST_F(WebhookStoreTest, DeleteKillsQueuedDeliveries) {
  std::string account = NewAccount();
  WebhookRow webhook = NewWebhook(account);
  ASSERT_TRUE(Enqueue(account, kEventFiscalizationCompleted, "{}", true).ok());

  ASSERT_TRUE(store_->Delete(account, webhook.id).ok());
  EXPECT_EQ(Query("SELECT status FROM webhook_deliveries WHERE webhook_id = '" + webhook.id + "'"), "dead");
  EXPECT_EQ(Query("SELECT next_attempt_at IS NULL FROM webhook_deliveries WHERE webhook_id = '" + webhook.id + "'"),
            "true");
}

// Claims skip rows that another transaction holds, so two senders never take one delivery.
TEST_F(WebhookStoreTest, ClaimSkipsLockedDeliveries) {
  ASSERT_TRUE(database_->Run([](soci::session& session) {
    session << "UPDATE webhook_deliveries SET status = 'dead', next_attempt_at = NULL WHERE status IN ('pending', 'failed')";
    return Status::Ok();
  }).ok());
  std::string account = NewAccount();
  NewWebhook(account);
  NewWebhook(account);
  ASSERT_TRUE(Enqueue(account, kEventFiscalizationCompleted, "{}", true).ok());

  // Another sender's transaction has locked the oldest due delivery.
  soci::session other(soci::postgresql, connection_);
  soci::transaction held(other);
  long long locked_id = 0;
  other << "SELECT id FROM webhook_deliveries WHERE status = 'pending' ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE",
      soci::into(locked_id);
  ASSERT_GT(locked_id, 0);

  auto first = store_->ClaimDue(60);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(first->kind, Claim::Kind::kClaimed);
  EXPECT_NE(first->delivery.id, locked_id);
  EXPECT_EQ(first->delivery.attempt, 1);
  EXPECT_EQ(first->delivery.url, "https://example.com/hook");
  EXPECT_EQ(first->delivery.secret.rfind("whsec_", 0), 0u);

  // The claimed one is leased and the other locked: nothing is left.
  auto second = store_->ClaimDue(60);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->kind, Claim::Kind::kNothingDue);
  held.rollback();

  auto third = store_->ClaimDue(60);
  ASSERT_TRUE(third.ok());
  ASSERT_EQ(third->kind, Claim::Kind::kClaimed);
  EXPECT_EQ(third->delivery.id, locked_id);
}

TEST_F(WebhookStoreTest, StaleAttemptIsNotRecorded) {
  ASSERT_TRUE(database_->Run([](soci::session& session) {
    session << "UPDATE webhook_deliveries SET status = 'dead', next_attempt_at = NULL WHERE status IN ('pending', 'failed')";
    return Status::Ok();
  }).ok());
  std::string account = NewAccount();
  NewWebhook(account);
  ASSERT_TRUE(Enqueue(account, kEventFiscalizationCompleted, "{}", true).ok());

  // The first claim's lease ends at once, so a second sender claims the delivery again.
  auto first = store_->ClaimDue(0);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->kind, Claim::Kind::kClaimed);
  auto second = store_->ClaimDue(60);
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->kind, Claim::Kind::kClaimed);
  EXPECT_EQ(second->delivery.id, first->delivery.id);
  EXPECT_EQ(second->delivery.attempt, 2);

  AttemptOutcome delivered;
  delivered.delivered = true;
  delivered.status_code = 200;
  EXPECT_EQ(store_->RecordAttempt(first->delivery, delivered, 0).code(), StatusCode::kConflict);
  EXPECT_TRUE(store_->RecordAttempt(second->delivery, delivered, 0).ok());
  EXPECT_EQ(Query("SELECT status FROM webhook_deliveries WHERE id = " + std::to_string(first->delivery.id)), "delivered");
}

TEST_F(WebhookStoreTest, DisabledWebhookHoldsDeliveryBack) {
  ASSERT_TRUE(database_->Run([](soci::session& session) {
    session << "UPDATE webhook_deliveries SET status = 'dead', next_attempt_at = NULL WHERE status IN ('pending', 'failed')";
    return Status::Ok();
  }).ok());
  std::string account = NewAccount();
  WebhookRow webhook = NewWebhook(account);
  ASSERT_TRUE(Enqueue(account, kEventFiscalizationCompleted, "{}", true).ok());
  WebhookUpdate disable;
  disable.enabled = false;
  ASSERT_TRUE(store_->Update(account, webhook.id, disable).ok());

  auto claim = store_->ClaimDue(60);
  ASSERT_TRUE(claim.ok());
  EXPECT_EQ(claim->kind, Claim::Kind::kSkipped);
  std::string where = " FROM webhook_deliveries WHERE webhook_id = '" + webhook.id + "'";
  EXPECT_EQ(Query("SELECT status" + where), "pending");
  EXPECT_EQ(Query("SELECT attempt" + where), "0");
  EXPECT_EQ(Query("SELECT next_attempt_at > now() + interval '50 seconds'" + where), "true");
}

}  // namespace
}  // namespace fiscal::webhooks
