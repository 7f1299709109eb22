// End-to-end tests through the REST API against real PostgreSQL, the AEAT emulator and a real
// fiscal-host process.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "harness.h"

namespace fiscal::testing {
namespace {

class ApiTest : public ::testing::Test {
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

  void TearDown() override {
    host_.reset();
    database_.reset();
  }

  // Polls the transaction until its status is no longer "pending" or `seconds` pass.
  json::Node WaitResolved(const std::string& id, int seconds = 30) {
    json::Node transaction;
    for (int i = 0; i < seconds * 10; ++i) {
      HttpResult fetched = HttpCall("GET", base_ + "/v1/transactions/" + id, "", Auth(key_));
      transaction = ParseJson(fetched.body);
      if (Text(transaction, "status") != "pending") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return transaction;
  }

  std::string CountTransactions() { return database_->Query("SELECT count(*) FROM transactions"); }

  std::unique_ptr<TestDatabase> database_;
  std::unique_ptr<HostProcess> host_;
  std::string base_, key_, location_;
};

TEST_F(ApiTest, SaleIsRegisteredEndToEnd) {
  HttpResult created = HttpCall("POST", base_ + "/v1/transactions", SaleBody(location_), Auth(key_));
  ASSERT_EQ(created.status, 201) << created.body;
  json::Node sale = ParseJson(created.body);
  std::string id = Text(sale, "id");

  // The receipt data comes back at once, before the authority has responded.
  EXPECT_EQ(Text(sale, "hash").size(), 64u);
  EXPECT_EQ(Text(sale, "qr_payload").rfind("https://prewww2.aeat.es/wlpl/TIKE-CONT/ValidarQR?nif=89890001K&numserie=", 0), 0u)
      << Text(sale, "qr_payload");
  EXPECT_FALSE(Text(sale, "fiscal_id").empty());
  EXPECT_EQ(Text(sale, "total_amount"), "8.00");
  EXPECT_EQ(Text(sale, "tax_amount"), "0.73");

  json::Node resolved = WaitResolved(id);
  EXPECT_EQ(Text(resolved, "status"), "registered") << resolved.ToJson();
  EXPECT_EQ(Text(resolved, "authority_reference").size(), 16u) << "the CSV AEAT returns has 16 characters";

  HttpResult document = HttpCall("GET", base_ + "/v1/transactions/" + id + "/document", "", Auth(key_));
  EXPECT_EQ(document.status, 200);
  EXPECT_NE(document.body.find("RegistroAlta"), std::string::npos);
  EXPECT_NE(document.body.find(Text(sale, "hash")), std::string::npos);

  HttpResult receipt = HttpCall("GET", base_ + "/v1/transactions/" + id + "/receipt", "", Auth(key_));
  EXPECT_EQ(receipt.status, 200);
  EXPECT_NE(receipt.body.find("QR tributario"), std::string::npos);
  EXPECT_NE(receipt.body.find("<svg"), std::string::npos);
}

TEST_F(ApiTest, CancelChainsAnulacion) {
  HttpResult created = HttpCall("POST", base_ + "/v1/transactions", SaleBody(location_), Auth(key_));
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id = Text(ParseJson(created.body), "id");
  std::string sale_hash = Text(ParseJson(created.body), "hash");

  HttpResult cancelled = HttpCall("POST", base_ + "/v1/transactions/" + id + "/cancel", "", Auth(key_));
  ASSERT_EQ(cancelled.status, 200) << cancelled.body;
  json::Node body = ParseJson(cancelled.body);
  const json::Node* cancellation = body.Find("cancellation");
  ASSERT_NE(cancellation, nullptr);
  EXPECT_EQ(Text(*cancellation, "record_type"), "RegistroAnulacion");

  HttpResult document = HttpCall("GET", base_ + "/v1/transactions/" + id + "/document?record=cancel", "", Auth(key_));
  EXPECT_NE(document.body.find(sale_hash), std::string::npos) << "the anulación chains to the sale's huella";

  HttpResult again = HttpCall("POST", base_ + "/v1/transactions/" + id + "/cancel", "", Auth(key_));
  EXPECT_EQ(again.status, 409);

  // The emulator recomputes every huella and checks the chain: a clean "registered" proves both.
  for (int i = 0; i < 300; ++i) {
    if (database_->Query("SELECT count(*) FROM fiscal_records WHERE status = 'registered'") == "2") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(database_->Query("SELECT count(*) FROM fiscal_records WHERE status = 'registered'"), "2");
}

TEST_F(ApiTest, RefundOfSimplifiedIsR5) {
  HttpResult created = HttpCall("POST", base_ + "/v1/transactions", SaleBody(location_), Auth(key_));
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id = Text(ParseJson(created.body), "id");

  std::string refund = "{\"type\":\"refund\",\"original_transaction_id\":\"" + id + "\",\"location_id\":\"" + location_ +
                       "\",\"timestamp\":\"2026-12-04T11:00:00+01:00\",\"items\":[{\"description\":\"Cafe\","
                       "\"quantity\":1,\"unit_price\":2.50,\"tax_rate\":0.10}],\"total_amount\":2.50,"
                       "\"currency\":\"EUR\",\"payment_method\":\"cash\"}";
  HttpResult refunded = HttpCall("POST", base_ + "/v1/transactions", refund, Auth(key_));
  ASSERT_EQ(refunded.status, 201) << refunded.body;
  std::string refund_id = Text(ParseJson(refunded.body), "id");
  HttpResult document = HttpCall("GET", base_ + "/v1/transactions/" + refund_id + "/document", "", Auth(key_));
  EXPECT_NE(document.body.find(">R5<"), std::string::npos) << document.body;
  EXPECT_EQ(Text(WaitResolved(refund_id), "status"), "registered");

  std::string too_much = refund;
  too_much.replace(too_much.find("\"quantity\":1"), 12, "\"quantity\":9");
  too_much.replace(too_much.find("\"total_amount\":2.50"), 19, "\"total_amount\":22.50");
  HttpResult rejected = HttpCall("POST", base_ + "/v1/transactions", too_much, Auth(key_));
  EXPECT_EQ(rejected.status, 400) << rejected.body;
}

TEST_F(ApiTest, ConcurrentSalesFormOneChain) {
  const int kThreads = 8;
  const int kSalesPerThread = 10;
  std::atomic<int> created{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < kThreads; ++t) {
    clients.emplace_back([&] {
      for (int i = 0; i < kSalesPerThread; ++i) {
        HttpResult result = HttpCall("POST", base_ + "/v1/transactions", SaleBody(location_), Auth(key_));
        if (result.status == 201) ++created;
      }
    });
  }
  for (std::thread& client : clients) client.join();
  ASSERT_EQ(created.load(), kThreads * kSalesPerThread);

  // Sequences are gap-free and every record names its predecessor's hash.
  EXPECT_EQ(database_->Query("SELECT count(*) FROM fiscal_records"), std::to_string(kThreads * kSalesPerThread));
  EXPECT_EQ(database_->Query("SELECT max(sequence) - min(sequence) + 1 FROM fiscal_records"),
            std::to_string(kThreads * kSalesPerThread));
  EXPECT_EQ(database_->Query("SELECT count(*) FROM fiscal_records r JOIN fiscal_records p "
                             "ON p.chain_id = r.chain_id AND p.sequence = r.sequence - 1 "
                             "WHERE position('<' || 'sum1:Huella>' || p.hash in r.document) = 0 "
                             "AND position(p.hash in r.document) = 0"),
            "0");
  EXPECT_EQ(database_->Query("SELECT count(*) FROM fiscal_records WHERE document LIKE '%PrimerRegistro>S<%'"), "1");
  // Generation times never go backwards along the chain.
  EXPECT_EQ(database_->Query("SELECT count(*) FROM fiscal_records r JOIN fiscal_records p "
                             "ON p.chain_id = r.chain_id AND p.sequence = r.sequence - 1 "
                             "WHERE r.generated_at < p.generated_at"),
            "0");

  // The emulator recomputed every huella and checked every link: all registered without errors.
  for (int i = 0; i < 600; ++i) {
    if (database_->Query("SELECT count(*) FROM fiscal_records WHERE status = 'pending'") == "0") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(database_->Query("SELECT count(*) FROM fiscal_records WHERE status = 'registered'"),
            std::to_string(kThreads * kSalesPerThread))
      << database_->Query("SELECT string_agg(DISTINCT coalesce(authority_code, '') || ' ' || coalesce(authority_message, ''), '; ') FROM fiscal_records");
}

struct BadInput {
  const char* name;
  std::string body;
  long status;
  const char* field;  // expected "field" in the error, or ""
};

TEST_F(ApiTest, BadInputIsRejectedWithoutWriting) {
  std::string other_key = CreateAccount(base_);
  std::string other_location = CreateSpainLocation(base_, other_key, "89890002E");
  std::string sale = SaleBody(location_);
  auto replace = [](std::string text, const std::string& from, const std::string& to) {
    text.replace(text.find(from), from.size(), to);
    return text;
  };

  std::vector<BadInput> cases = {
      {"malformed JSON", "{\"location_id\":", 400, ""},
      {"trailing garbage", sale + "x", 400, ""},
      {"wrong type", replace(sale, "\"location_id\":\"" + location_ + "\"", "\"location_id\":123"), 400, "location_id"},
      {"amount as text", replace(sale, "\"quantity\":2", "\"quantity\":\"two\""), 400, "items[0].quantity"},
      {"totals do not add up", replace(sale, "\"total_amount\":8.00", "\"total_amount\":8.50"), 400, "total_amount"},
      {"tax split wrong", replace(sale, "\"tax_amount\":0.73", "\"tax_amount\":0.90"), 400, "tax_amount"},
      {"unknown location", replace(sale, location_, "00000000-0000-4000-8000-000000000000"), 404, ""},
      {"other tenant's location", replace(sale, location_, other_location), 404, ""},
      {"missing items", replace(sale, "\"items\"", "\"things\""), 400, "items"},
      {"huge body", std::string(2 * 1024 * 1024, ' ') + sale, 413, ""},
      {"deep nesting", std::string(100, '[') + std::string(100, ']'), 400, ""},
  };

  for (const BadInput& bad : cases) {
    SCOPED_TRACE(bad.name);
    HttpResult result = HttpCall("POST", base_ + "/v1/transactions", bad.body, Auth(key_));
    EXPECT_EQ(result.status, bad.status) << result.body;
    json::Node error = ParseJson(result.body);
    EXPECT_FALSE(Text(error, "error").empty()) << result.body;
    EXPECT_FALSE(Text(error, "code").empty()) << result.body;
    if (bad.field[0] != '\0') {
      EXPECT_EQ(Text(error, "field"), bad.field) << result.body;
    }
  }
  EXPECT_EQ(CountTransactions(), "0");
  EXPECT_EQ(database_->Query("SELECT count(*) FROM fiscal_records"), "0");
  EXPECT_EQ(database_->Query("SELECT count(*) FROM outbox"), "0");
}

TEST_F(ApiTest, TenantsCannotSeeEachOther) {
  HttpResult created = HttpCall("POST", base_ + "/v1/transactions", SaleBody(location_), Auth(key_));
  ASSERT_EQ(created.status, 201);
  std::string id = Text(ParseJson(created.body), "id");
  std::string other_key = CreateAccount(base_);

  EXPECT_EQ(HttpCall("GET", base_ + "/v1/transactions/" + id, "", Auth(other_key)).status, 404);
  EXPECT_EQ(HttpCall("POST", base_ + "/v1/transactions/" + id + "/cancel", "", Auth(other_key)).status, 404);
  EXPECT_EQ(HttpCall("GET", base_ + "/v1/locations/" + location_, "", Auth(other_key)).status, 404);
  json::Node list = ParseJson(HttpCall("GET", base_ + "/v1/transactions", "", Auth(other_key)).body);
  EXPECT_EQ(Text(list, "total"), "0");
  EXPECT_EQ(HttpCall("GET", base_ + "/v1/transactions", "", {}).status, 401);
  EXPECT_EQ(HttpCall("GET", base_ + "/v1/transactions", "", Auth("fsk_test_" + std::string(64, '0'))).status, 401);
}

TEST_F(ApiTest, ListFiltersAndPaginates) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(HttpCall("POST", base_ + "/v1/transactions", SaleBody(location_), Auth(key_)).status, 201);
  }
  json::Node page = ParseJson(HttpCall("GET", base_ + "/v1/transactions?limit=2&location_id=" + location_, "", Auth(key_)).body);
  EXPECT_EQ(Text(page, "total"), "3");
  ASSERT_NE(page.Find("data"), nullptr);
  EXPECT_EQ(page.Find("data")->items().size(), 2u);
  EXPECT_EQ(HttpCall("GET", base_ + "/v1/transactions?limit=500", "", Auth(key_)).status, 400);
  EXPECT_EQ(HttpCall("GET", base_ + "/v1/transactions?status=bogus", "", Auth(key_)).status, 400);
}

TEST_F(ApiTest, ClientInvoiceNumberMustBeUnique) {
  std::string sale = SaleBody(location_);
  sale.insert(1, "\"invoice_number\":\"F-2026-0001\",");
  EXPECT_EQ(HttpCall("POST", base_ + "/v1/transactions", sale, Auth(key_)).status, 201);
  HttpResult duplicate = HttpCall("POST", base_ + "/v1/transactions", sale, Auth(key_));
  EXPECT_EQ(duplicate.status, 409) << duplicate.body;
  EXPECT_EQ(CountTransactions(), "1");
}

TEST_F(ApiTest, RecordsCannotBeAltered) {
  ASSERT_EQ(HttpCall("POST", base_ + "/v1/transactions", SaleBody(location_), Auth(key_)).status, 201);
  std::string update = database_->Execute("UPDATE fiscal_records SET hash = 'X'");
  EXPECT_NE(update.find("cannot be altered"), std::string::npos) << update;
  std::string remove = database_->Execute("DELETE FROM fiscal_records");
  EXPECT_NE(remove.find("cannot be deleted"), std::string::npos) << remove;
  // The authority status may still change.
  EXPECT_EQ(database_->Execute("UPDATE fiscal_records SET status = 'registered'"), "");
}

TEST_F(ApiTest, AuthorityDownStillIssuesReceipts) {
  SetEmulatorFault("{\"mode\":\"http500\",\"count\":3}");
  HttpResult created = HttpCall("POST", base_ + "/v1/transactions", SaleBody(location_), Auth(key_));
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(Text(ParseJson(created.body), "status"), "pending");
  // After the faults, the backoff retry registers the record.
  EXPECT_EQ(Text(WaitResolved(Text(ParseJson(created.body), "id"), 60), "status"), "registered");
}

TEST(HostStartupTest, BadPluginDoesNotStopHost) {
  std::string missing = MissingEnvironment();
  if (!missing.empty()) GTEST_SKIP() << missing;
  TestDatabase database;
  HostOptions options;
  options.extra_plugins_json = {"{\"name\":\"corpus-abi-major-2\",\"country\":\"XX\",\"system\":\"broken\",\"path\":\"" +
                                std::string(FISCAL_PLUGIN_DIR) + "/corpus/abi_major_2.so\"}"};
  HostProcess host(database, options);
  HttpResult health = HttpCall("GET", host.base_url() + "/health");
  ASSERT_EQ(health.status, 200) << health.body;
  json::Node body = ParseJson(health.body);
  EXPECT_EQ(Text(body, "status"), "degraded");
  EXPECT_NE(health.body.find("abi_major"), std::string::npos) << health.body;
  EXPECT_NE(health.body.find("\"name\":\"spain-verifactu\",\"country\":\"ES\",\"system\":\"verifactu\",\"loaded\":true"),
            std::string::npos)
      << health.body;
}

}  // namespace
}  // namespace fiscal::testing

namespace fiscal::testing {
namespace {

TEST(HostStartupTest, CrashingPluginIsContained) {
  std::string missing = MissingEnvironment();
  if (!missing.empty()) GTEST_SKIP() << missing;
  TestDatabase database;
  HostOptions options;
  options.extra_plugins_json = {"{\"name\":\"corpus-self-test-crashes\",\"country\":\"XX\",\"system\":\"crash\",\"path\":\"" +
                                std::string(FISCAL_PLUGIN_DIR) + "/corpus/self_test_crashes.so\"}"};
  HostProcess host(database, options);

  // The host survived the plugin's segmentation fault and reports what happened.
  HttpResult health = HttpCall("GET", host.base_url() + "/health");
  ASSERT_EQ(health.status, 200) << health.body;
  EXPECT_NE(health.body.find("crashed during loading or its self-test (signal 11"), std::string::npos) << health.body;
  EXPECT_NE(health.body.find("\"name\":\"spain-verifactu\",\"country\":\"ES\",\"system\":\"verifactu\",\"loaded\":true"),
            std::string::npos)
      << health.body;
}

}  // namespace
}  // namespace fiscal::testing
