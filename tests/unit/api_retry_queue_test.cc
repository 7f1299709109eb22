// Tests of GET /v1/retry-queue and /v1/retry-queue/stats against a real PostgreSQL database
// (FISCAL_TEST_PG), with outbox rows inserted directly. Without FISCAL_TEST_PG the tests skip.
#include <gtest/gtest.h>

#include "scratch_database.h"
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <random>

#include "api/app.h"
#include "api/auth.h"
#include "api/retry_queue_api.h"
#include "common/json_tree.h"

namespace fiscal::api {
namespace {

constexpr const char* kNextSendAt = "2030-01-02T03:04:05.000Z";


json::Node ParseBody(const http::Response& response) {
  Result<json::Node> body = json::Parse(response.body);
  EXPECT_TRUE(body.ok()) << "not JSON: " << response.body;
  return body.ok() ? *body : json::Node();
}

std::string Text(const json::Node& node, const char* name) {
  const json::Node* member = node.Find(name);
  return member == nullptr ? "<missing>" : member->text();
}

bool IsNullMember(const json::Node& node, const char* name) {
  const json::Node* member = node.Find(name);
  return member != nullptr && member->IsNull();
}

struct TestAccount {
  std::string id;
  std::string api_key;
  std::string location_id;
  long long chain_id = 0;
};

// One inserted outbox entry.
struct TestEntry {
  std::string outbox_id, transaction_id, record_id;
};

class RetryQueueTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    scratch_ = testing::ScratchDatabase::Create("retry_queue_test", 4).release();
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
    router_ = std::make_shared<http::Router>();
    AddRetryQueueRoutes(app_, *router_);

    // Account A: entries in every status on one chain, plus two created two days ago. Account B: one
    // pending entry. Newer entries have higher sequence numbers.
    account_a_ = CreateAccount();
    account_b_ = CreateAccount();
    completed_ = InsertEntry(account_a_, 1, "completed", "", "9 minutes", "9 minutes");
    pending_ = InsertEntry(account_a_, 2, "pending", "", "8 minutes", "8 minutes");
    failed_ = InsertEntry(account_a_, 3, "failed", "timeout after 30 s", "7 minutes", "7 minutes");
    dead_ = InsertEntry(account_a_, 4, "dead", "gave up after 50 attempts", "6 minutes", "6 minutes");
    processing_ = InsertEntry(account_a_, 5, "processing", "", "5 minutes", "5 minutes");
    old_completed_ = InsertEntry(account_a_, 6, "completed", "", "2 days", "2 days");
    old_failed_recently_ = InsertEntry(account_a_, 7, "failed", "server fault", "2 days 1 minute", "1 hour");
    other_pending_ = InsertEntry(account_b_, 1, "pending", "", "1 minute", "1 minute");
  }

  TestAccount CreateAccount() {
    TestAccount account;
    NewApiKey key = GenerateApiKey("test");
    account.api_key = key.key;
    auto created = app_.accounts->CreateAccount("Retry queue test", "queue-" + key.prefix + "@example.com", key.hash,
                                                key.prefix);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    if (!created.ok()) return account;
    account.id = created->first.id;

    std::string chain_key = "chain-" + account.id;
    Status status = database_->Run([&](soci::session& session) {
      // issuer_key is NOT NULL since sql/0004_issuers.sql.
      session << "INSERT INTO locations (account_id, name, country, plugin_name, chain_key, issuer_key) "
                 "VALUES (:a::uuid, 'Tienda', 'ES', 'spain-verifactu', :k, :i) RETURNING id::text",
          soci::use(account.id), soci::use(chain_key), soci::use(chain_key), soci::into(account.location_id);
      session << "INSERT INTO chains (plugin_name, environment, chain_key) VALUES ('spain-verifactu', 'test', :k) "
                 "RETURNING id",
          soci::use(chain_key), soci::into(account.chain_id);
      std::string next_send_at = kNextSendAt;
      session << "INSERT INTO submission_streams (chain_id, next_send_at) VALUES (:c, :n::timestamptz)",
          soci::use(account.chain_id), soci::use(next_send_at);
      return Status::Ok();
    });
    EXPECT_TRUE(status.ok()) << status.ToString();
    return account;
  }

  // Inserts a transaction, its record and its outbox entry. `created_ago` and `updated_ago` are
  // PostgreSQL intervals before now.
  TestEntry InsertEntry(const TestAccount& account, long long sequence, const std::string& status,
                        const std::string& last_error, const std::string& created_ago, const std::string& updated_ago) {
    TestEntry entry;
    std::string invoice = "F-" + std::to_string(sequence);
    Status result = database_->Run([&](soci::session& session) {
      session << "INSERT INTO transactions (account_id, location_id, chain_id, environment, type, invoice_number, "
                 "client_timestamp, currency, payment_method, pretax_amount, tax_amount, total_amount, body) "
                 "VALUES (:a::uuid, :l::uuid, :c, 'test', 'sale', :i, now(), 'EUR', 'cash', 1.00, 0.10, 1.10, '{}') "
                 "RETURNING id::text",
          soci::use(account.id), soci::use(account.location_id), soci::use(account.chain_id), soci::use(invoice),
          soci::into(entry.transaction_id);
      session << "INSERT INTO fiscal_records (transaction_id, account_id, chain_id, sequence, operation, record_type, "
                 "plugin_name, plugin_version, fiscal_id, hash, document, document_type, generated_at) "
                 "VALUES (:t::uuid, :a::uuid, :c, :s, 'sale', 'RegistroAlta', 'spain-verifactu', '1.0.0', :i, 'HASH', "
                 "'<xml/>', 'application/xml', now()) RETURNING id::text",
          soci::use(entry.transaction_id), soci::use(account.id), soci::use(account.chain_id), soci::use(sequence),
          soci::use(invoice), soci::into(entry.record_id);
      long long outbox_id = 0;
      int attempt = status == "pending" ? 0 : 3;
      session << "INSERT INTO outbox (record_id, account_id, chain_id, sequence, status, attempt, last_error, "
                 "created_at, updated_at) VALUES (:r::uuid, :a::uuid, :c, :s, :st, :at, nullif(:e, ''), "
                 "now() - :ca::interval, now() - :ua::interval) RETURNING id",
          soci::use(entry.record_id), soci::use(account.id), soci::use(account.chain_id), soci::use(sequence),
          soci::use(status), soci::use(attempt), soci::use(last_error), soci::use(created_ago),
          soci::use(updated_ago), soci::into(outbox_id);
      entry.outbox_id = std::to_string(outbox_id);
      return Status::Ok();
    });
    EXPECT_TRUE(result.ok()) << result.ToString();
    return entry;
  }

  http::Response Get(const std::string& path, const TestAccount& account,
                     const std::map<std::string, std::string>& query = {}) {
    http::Request request;
    request.method = "GET";
    request.path = path;
    request.query = query;
    if (!account.api_key.empty()) request.headers["authorization"] = "Bearer " + account.api_key;
    return router_->Dispatch(request);
  }

  // Returns the outbox ids of a list response, in order.
  std::vector<std::string> Ids(const http::Response& response) {
    std::vector<std::string> ids;
    json::Node body = ParseBody(response);
    const json::Node* data = body.Find("data");
    if (data == nullptr) return ids;
    for (const json::Node& item : data->items()) ids.push_back(Text(item, "id"));
    return ids;
  }

  static inline testing::ScratchDatabase* scratch_ = nullptr;
  static inline store::Database* database_ = nullptr;

  config::HostConfig config_;
  App app_;
  std::shared_ptr<http::Router> router_;
  TestAccount account_a_, account_b_;
  TestEntry completed_, pending_, failed_, dead_, processing_, old_completed_, old_failed_recently_, other_pending_;
};

TEST_F(RetryQueueTest, ListReturnsEntriesNewestFirst) {
  http::Response response = Get("/v1/retry-queue", account_a_);

  ASSERT_EQ(response.status, 200) << response.body;
  json::Node body = ParseBody(response);
  EXPECT_EQ(Text(body, "total"), "7");
  EXPECT_EQ(Text(body, "limit"), "20");
  EXPECT_EQ(Text(body, "offset"), "0");
  std::vector<std::string> expected = {processing_.outbox_id, dead_.outbox_id,      failed_.outbox_id,
                                       pending_.outbox_id,    completed_.outbox_id, old_completed_.outbox_id,
                                       old_failed_recently_.outbox_id};
  EXPECT_EQ(Ids(response), expected);
}

TEST_F(RetryQueueTest, ListEntryFields) {
  http::Response response = Get("/v1/retry-queue", account_a_, {{"status", "failed"}, {"limit", "1"}});

  ASSERT_EQ(response.status, 200) << response.body;
  json::Node body = ParseBody(response);
  ASSERT_EQ(body.Find("data")->items().size(), 1u);
  const json::Node& entry = body.Find("data")->items()[0];
  EXPECT_TRUE(entry.Find("id")->IsNumber());
  EXPECT_EQ(Text(entry, "id"), failed_.outbox_id);
  EXPECT_EQ(Text(entry, "transaction_id"), failed_.transaction_id);
  EXPECT_EQ(Text(entry, "record_id"), failed_.record_id);
  EXPECT_EQ(Text(entry, "account_id"), account_a_.id);
  EXPECT_EQ(Text(entry, "status"), "failed");
  EXPECT_EQ(Text(entry, "attempt"), "3");
  EXPECT_EQ(Text(entry, "max_attempts"), "50");
  EXPECT_EQ(Text(entry, "next_retry_at"), kNextSendAt);
  EXPECT_EQ(Text(entry, "last_error"), "timeout after 30 s");
  EXPECT_EQ(Text(entry, "created_at").size(), 24u) << Text(entry, "created_at");
  EXPECT_EQ(Text(entry, "updated_at").back(), 'Z');
}

TEST_F(RetryQueueTest, FinishedEntriesHaveNoNextRetry) {
  http::Response completed = Get("/v1/retry-queue", account_a_, {{"transaction_id", completed_.transaction_id}});
  http::Response dead = Get("/v1/retry-queue", account_a_, {{"status", "dead"}});
  http::Response pending = Get("/v1/retry-queue", account_a_, {{"status", "pending"}});

  const json::Node completed_entry = ParseBody(completed).Find("data")->items().at(0);
  EXPECT_TRUE(IsNullMember(completed_entry, "next_retry_at"));
  EXPECT_TRUE(IsNullMember(completed_entry, "last_error"));
  const json::Node dead_entry = ParseBody(dead).Find("data")->items().at(0);
  EXPECT_TRUE(IsNullMember(dead_entry, "next_retry_at"));
  EXPECT_EQ(Text(dead_entry, "last_error"), "gave up after 50 attempts");
  const json::Node pending_entry = ParseBody(pending).Find("data")->items().at(0);
  EXPECT_EQ(Text(pending_entry, "next_retry_at"), kNextSendAt);
  EXPECT_TRUE(IsNullMember(pending_entry, "last_error"));
}

TEST_F(RetryQueueTest, FiltersApply) {
  http::Response failed = Get("/v1/retry-queue", account_a_, {{"status", "failed"}});
  http::Response by_transaction = Get("/v1/retry-queue", account_a_, {{"transaction_id", pending_.transaction_id}});
  http::Response both = Get("/v1/retry-queue", account_a_,
                            {{"transaction_id", pending_.transaction_id}, {"status", "completed"}});
  http::Response page = Get("/v1/retry-queue", account_a_, {{"limit", "2"}, {"offset", "1"}});
  http::Response past_end = Get("/v1/retry-queue", account_a_, {{"offset", "50"}});

  EXPECT_EQ(Ids(failed), (std::vector<std::string>{failed_.outbox_id, old_failed_recently_.outbox_id}));
  EXPECT_EQ(Text(ParseBody(failed), "total"), "2");
  EXPECT_EQ(Ids(by_transaction), std::vector<std::string>{pending_.outbox_id});
  EXPECT_EQ(Text(ParseBody(both), "total"), "0");
  EXPECT_EQ(Ids(page), (std::vector<std::string>{dead_.outbox_id, failed_.outbox_id}));
  EXPECT_EQ(Text(ParseBody(page), "total"), "7");
  EXPECT_EQ(Text(ParseBody(page), "limit"), "2");
  EXPECT_EQ(Text(ParseBody(page), "offset"), "1");
  EXPECT_TRUE(Ids(past_end).empty());
  EXPECT_EQ(Text(ParseBody(past_end), "total"), "7");
}

TEST_F(RetryQueueTest, ListScopedToAccount) {
  http::Response other = Get("/v1/retry-queue", account_b_);
  http::Response foreign_transaction =
      Get("/v1/retry-queue", account_a_, {{"transaction_id", other_pending_.transaction_id}});

  EXPECT_EQ(Ids(other), std::vector<std::string>{other_pending_.outbox_id});
  EXPECT_EQ(Text(ParseBody(other).Find("data")->items().at(0), "account_id"), account_b_.id);
  EXPECT_EQ(foreign_transaction.status, 200);
  EXPECT_EQ(Text(ParseBody(foreign_transaction), "total"), "0");
}

TEST_F(RetryQueueTest, InvalidParamsRejected) {
  struct Case {
    const char* name;
    const char* value;
  } cases[] = {
      {"status", "retrying"}, {"status", "PENDING"},   {"transaction_id", "123"}, {"transaction_id", "not-a-uuid"},
      {"limit", "0"},         {"limit", "101"},        {"limit", "ten"},          {"limit", "-1"},
      {"offset", "10001"},    {"offset", "1.5"},
  };
  for (const Case& test : cases) {
    http::Response response = Get("/v1/retry-queue", account_a_, {{test.name, test.value}});
    EXPECT_EQ(response.status, 400) << test.name << "=" << test.value;
    EXPECT_EQ(Text(ParseBody(response), "field"), test.name) << test.name << "=" << test.value;
  }

  EXPECT_EQ(Get("/v1/retry-queue", account_a_, {{"limit", "100"}, {"offset", "10000"}}).status, 200);
}

TEST_F(RetryQueueTest, RequiresApiKey) {
  TestAccount anonymous;
  TestAccount unknown;
  unknown.api_key = "fsk_test_" + std::string(64, '0');

  EXPECT_EQ(Get("/v1/retry-queue", anonymous).status, 401);
  EXPECT_EQ(Get("/v1/retry-queue/stats", anonymous).status, 401);
  EXPECT_EQ(Get("/v1/retry-queue", unknown).status, 401);
}

TEST_F(RetryQueueTest, StatsCountLastDay) {
  http::Response response = Get("/v1/retry-queue/stats", account_a_);

  ASSERT_EQ(response.status, 200) << response.body;
  // old_completed_ was created and last updated two days ago, so it is left out; old_failed_recently_
  // was updated an hour ago, so it counts.
  EXPECT_EQ(response.body,
            "{\"pending\":1,\"processing\":1,\"completed\":1,\"failed\":2,\"dead\":1,\"total\":6}");
}

TEST_F(RetryQueueTest, StatsScopedToAccount) {
  http::Response other = Get("/v1/retry-queue/stats", account_b_);
  TestAccount empty = CreateAccount();
  http::Response none = Get("/v1/retry-queue/stats", empty);

  EXPECT_EQ(other.body, "{\"pending\":1,\"processing\":0,\"completed\":0,\"failed\":0,\"dead\":0,\"total\":1}");
  EXPECT_EQ(none.body, "{\"pending\":0,\"processing\":0,\"completed\":0,\"failed\":0,\"dead\":0,\"total\":0}");
}

}  // namespace
}  // namespace fiscal::api
