// Fault tests: the host is killed, PostgreSQL restarts, Redis stops, the authority is down, and two
// hosts share one database. Each test checks that every acknowledged sale is stored, reaches the
// authority exactly once as one record, and that every chain verifies.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include "harness.h"

namespace fiscal::testing {
namespace {

using Clock = std::chrono::steady_clock;

// Posts sales from `clients` threads to the given hosts in turn until `stop` is set or each client
// has posted `max_per_client`; collects the ids of acknowledged sales and every status seen.
class SaleStream {
 public:
  SaleStream(std::vector<std::string> bases, std::string key, std::string location, int clients, int max_per_client)
      : bases_(std::move(bases)), key_(std::move(key)), location_(std::move(location)) {
    for (int c = 0; c < clients; ++c) {
      threads_.emplace_back([this, c, max_per_client] {
        for (int i = 0; i < max_per_client && !stop_; ++i) {
          const std::string& base = bases_[(c + i) % bases_.size()];
          HttpResult result = HttpCall("POST", base + "/v1/transactions", SaleBody(location_), Auth(key_));
          std::lock_guard<std::mutex> lock(mutex_);
          statuses_.insert(result.status);
          if (result.status == 201) acknowledged_.insert(Text(ParseJson(result.body), "id"));
          if (result.status == 500) bodies_of_500_.push_back(result.body);
        }
      });
    }
  }
  ~SaleStream() {
    Stop();
    Join();
  }

  // Waits until every client has finished.
  void Join() {
    for (std::thread& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }
  void Stop() { stop_ = true; }

  std::set<std::string> acknowledged() {
    std::lock_guard<std::mutex> lock(mutex_);
    return acknowledged_;
  }
  std::set<long> statuses() {
    std::lock_guard<std::mutex> lock(mutex_);
    return statuses_;
  }
  std::vector<std::string> bodies_of_500() {
    std::lock_guard<std::mutex> lock(mutex_);
    return bodies_of_500_;
  }

 private:
  std::vector<std::string> bases_;
  std::string key_, location_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::set<std::string> acknowledged_;
  std::set<long> statuses_;
  std::vector<std::string> bodies_of_500_;
};

class ResilienceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string missing = MissingEnvironment();
    if (!missing.empty()) GTEST_SKIP() << missing;
    ResetEmulator();
    database_ = std::make_unique<TestDatabase>();
  }

  // Every acknowledged sale is stored, each record reached the authority as exactly one record, and
  // every chain verifies.
  void ExpectNothingLost(const std::set<std::string>& acknowledged) {
    for (const std::string& id : acknowledged) {
      EXPECT_EQ(database_->Query("SELECT count(*) FROM fiscal_records WHERE transaction_id = '" + id + "'"), "1")
          << "acknowledged sale " << id << " has no record";
    }
    EXPECT_EQ(WaitAllResolved(*database_, 90), 0) << "records still pending";
    EXPECT_EQ(database_->Query("SELECT count(*) FROM fiscal_records WHERE status <> 'registered'"), "0")
        << database_->Query("SELECT string_agg(DISTINCT coalesce(authority_code, '') || ' ' || "
                            "coalesce(authority_message, ''), '; ') FROM fiscal_records WHERE status <> 'registered'");
    ExpectChainsIntact(*database_);

    json::Node emulator_state = EmulatorRecords();
    const json::Node* records = emulator_state.Find("records");
    ASSERT_NE(records, nullptr);
    EXPECT_EQ(std::to_string(records->items().size()), database_->Query("SELECT count(*) FROM fiscal_records"))
        << "the authority must hold each record exactly once";
  }

  std::unique_ptr<TestDatabase> database_;
};

TEST_F(ResilienceTest, HostKilledMidStream) {
  auto host = std::make_unique<HostProcess>(*database_);
  std::string key = CreateAccount(host->base_url());
  std::string location = CreateSpainLocation(host->base_url(), key);

  SaleStream stream({host->base_url()}, key, location, 4, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  host->Stop(/*hard=*/true);
  stream.Stop();
  stream.Join();
  std::set<std::string> acknowledged = stream.acknowledged();
  ASSERT_FALSE(acknowledged.empty());

  // A new host on the same database takes over the queue left by the killed one.
  HostProcess replacement(*database_);
  ExpectNothingLost(acknowledged);
}

TEST_F(ResilienceTest, PostgresRestartAnswers503) {
  HostProcess host(*database_);
  std::string key = CreateAccount(host.base_url());
  std::string location = CreateSpainLocation(host.base_url(), key);

  SaleStream stream({host.base_url()}, key, location, 2, 100000);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  Service("stop-postgres");
  std::this_thread::sleep_for(std::chrono::seconds(2));
  Service("start-postgres");

  // Requests succeed again once the database is back.
  bool recovered = false;
  for (int i = 0; i < 100 && !recovered; ++i) {
    recovered = HttpCall("POST", host.base_url() + "/v1/transactions", SaleBody(location), Auth(key)).status == 201;
    if (!recovered) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  stream.Stop();
  stream.Join();
  EXPECT_TRUE(recovered) << "the host did not recover after PostgreSQL came back";

  std::set<long> statuses = stream.statuses();
  EXPECT_TRUE(statuses.count(503)) << "PostgreSQL was down, so some requests should have been 503";
  EXPECT_FALSE(statuses.count(500)) << (stream.bodies_of_500().empty() ? "" : stream.bodies_of_500().front());
  for (long status : statuses) EXPECT_TRUE(status == 201 || status == 503) << "unexpected status " << status;
  ExpectNothingLost(stream.acknowledged());
}

TEST_F(ResilienceTest, RedisStoppedAndStarted) {
  HostProcess host(*database_);
  std::string key = CreateAccount(host.base_url());
  std::string location = CreateSpainLocation(host.base_url(), key);

  Service("stop-redis");
  HttpResult health = HttpCall("GET", host.base_url() + "/health");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(Text(ParseJson(health.body), "redis"), "unavailable");
  EXPECT_EQ(Text(ParseJson(health.body), "status"), "degraded");

  std::set<std::string> acknowledged;
  for (int i = 0; i < 10; ++i) {
    HttpResult sale = HttpCall("POST", host.base_url() + "/v1/transactions", SaleBody(location), Auth(key));
    EXPECT_EQ(sale.status, 201) << sale.body;
    acknowledged.insert(Text(ParseJson(sale.body), "id"));
  }

  Service("start-redis");
  health = HttpCall("GET", host.base_url() + "/health");
  EXPECT_EQ(Text(ParseJson(health.body), "redis"), "ok");
  ExpectNothingLost(acknowledged);
}

TEST_F(ResilienceTest, AuthorityDownThenBack) {
  HostProcess host(*database_);
  std::string key = CreateAccount(host.base_url());
  std::string location = CreateSpainLocation(host.base_url(), key);

  SetEmulatorFault("{\"mode\":\"http500\"}");
  std::set<std::string> acknowledged;
  for (int i = 0; i < 20; ++i) {
    HttpResult sale = HttpCall("POST", host.base_url() + "/v1/transactions", SaleBody(location), Auth(key));
    ASSERT_EQ(sale.status, 201) << sale.body;
    acknowledged.insert(Text(ParseJson(sale.body), "id"));
  }
  std::this_thread::sleep_for(std::chrono::seconds(3));
  EXPECT_EQ(database_->Query("SELECT count(*) FROM fiscal_records WHERE status = 'pending'"), "20");

  SetEmulatorFault("{\"mode\":\"none\"}");
  ExpectNothingLost(acknowledged);
}

TEST_F(ResilienceTest, TwoHostsShareOneDatabase) {
  HostProcess first(*database_);
  HostProcess second(*database_);
  std::string key = CreateAccount(first.base_url());
  std::string location = CreateSpainLocation(first.base_url(), key);

  SaleStream stream({first.base_url(), second.base_url()}, key, location, 6, 20);
  stream.Join();
  std::set<std::string> acknowledged = stream.acknowledged();
  EXPECT_EQ(acknowledged.size(), 120u);
  ExpectNothingLost(acknowledged);

  // Neither host sent a record the other had already sent.
  json::Node emulator_state = EmulatorRecords();
  const json::Node* records = emulator_state.Find("records");
  ASSERT_NE(records, nullptr);
  for (const json::Node& record : records->items()) EXPECT_EQ(Text(record, "times_received"), "1");
}

}  // namespace
}  // namespace fiscal::testing
