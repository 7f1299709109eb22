// The authority misbehaves: rejections, lost responses and timeouts. Each test checks that the sale
// was acknowledged at once, reached the authority exactly once as one record, and ended in the
// right state.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "harness.h"

namespace fiscal::testing {
namespace {

class AuthorityFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string missing = MissingEnvironment();
    if (!missing.empty()) GTEST_SKIP() << missing;
    ResetEmulator();
    database_ = std::make_unique<TestDatabase>();
    host_ = std::make_unique<HostProcess>(*database_);
    base_ = host_->base_url();
    key_ = CreateAccount(base_);
    location_ = CreateSpainLocation(base_, key_);
  }

  std::string PostSale() {
    HttpResult created = HttpCall("POST", base_ + "/v1/transactions", SaleBody(location_), Auth(key_));
    EXPECT_EQ(created.status, 201) << created.body;
    json::Node sale = ParseJson(created.body);
    EXPECT_EQ(Text(sale, "status"), "pending");
    return Text(sale, "id");
  }

  json::Node WaitResolved(const std::string& id, int seconds) {
    json::Node transaction;
    for (int i = 0; i < seconds * 10; ++i) {
      transaction = ParseJson(HttpCall("GET", base_ + "/v1/transactions/" + id, "", Auth(key_)).body);
      if (Text(transaction, "status") != "pending") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return transaction;
  }

  // The emulator's stored records.
  json::Node EmulatorRecords() {
    HttpResult records = HttpCall("GET", std::string(std::getenv("FISCAL_TEST_EMULATOR_CONTROL")) + "/control/records");
    EXPECT_EQ(records.status, 200);
    return ParseJson(records.body);
  }

  std::unique_ptr<TestDatabase> database_;
  std::unique_ptr<HostProcess> host_;
  std::string base_, key_, location_;
};

TEST_F(AuthorityFaultTest, RejectionIsStoredWithCode) {
  SetEmulatorFault("{\"mode\":\"reject_all\",\"count\":1}");
  std::string id = PostSale();
  json::Node resolved = WaitResolved(id, 30);
  EXPECT_EQ(Text(resolved, "status"), "rejected") << resolved.ToJson();
  const json::Node* record = resolved.Find("fiscal_record");
  ASSERT_NE(record, nullptr);
  EXPECT_EQ(Text(*record, "authority_code"), "1100");
  EXPECT_FALSE(Text(*record, "authority_message").empty());
  // A rejected record is not sent again.
  EXPECT_EQ(database_->Query("SELECT status FROM outbox"), "completed");
}

TEST_F(AuthorityFaultTest, LostResponseResolvedAsDuplicate) {
  // The emulator stores the record and drops the connection; the authority reports the resend as duplicate 3000.
  SetEmulatorFault("{\"mode\":\"lose_response\",\"count\":1}");
  std::string id = PostSale();
  json::Node resolved = WaitResolved(id, 60);
  EXPECT_EQ(Text(resolved, "status"), "registered") << resolved.ToJson();

  json::Node records = EmulatorRecords();
  const json::Node* list = records.Find("records");
  ASSERT_NE(list, nullptr);
  ASSERT_EQ(list->items().size(), 1u) << "one record at the authority, never two";
  EXPECT_EQ(Text(list->items()[0], "times_received"), "2");
  EXPECT_EQ(database_->Query("SELECT count(*) FROM fiscal_records"), "1");
}

TEST_F(AuthorityFaultTest, TimeoutRetriedWithSameRecord) {
  // The response comes after the host's 3 s endpoint timeout; the outcome is unknown, so the same
  // record is sent again and the authority recognises it.
  SetEmulatorFault("{\"mode\":\"timeout\",\"count\":1,\"delay_ms\":5000}");
  std::string id = PostSale();
  std::string hash_before = database_->Query("SELECT hash FROM fiscal_records");
  json::Node resolved = WaitResolved(id, 60);
  EXPECT_EQ(Text(resolved, "status"), "registered") << resolved.ToJson();
  EXPECT_EQ(database_->Query("SELECT hash FROM fiscal_records"), hash_before);
  EXPECT_EQ(database_->Query("SELECT count(*) FROM submissions WHERE outcome = 'unknown'"), "1");

  json::Node emulator_state = EmulatorRecords();
  const json::Node* list = emulator_state.Find("records");
  ASSERT_NE(list, nullptr);
  EXPECT_EQ(list->items().size(), 1u);
}

TEST_F(AuthorityFaultTest, SoapServerFaultRetried) {
  SetEmulatorFault("{\"mode\":\"soap_server_fault\",\"count\":1}");
  std::string id = PostSale();
  EXPECT_EQ(Text(WaitResolved(id, 60), "status"), "registered");
  EXPECT_EQ(database_->Query("SELECT attempt FROM outbox"), "2");
}

}  // namespace
}  // namespace fiscal::testing
