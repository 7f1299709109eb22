// Plugin versions side by side and hot swaps under traffic, on a real host: two builds of the Spain
// plugin (1.0.0 and the test-only 1.0.1) installed under one plugin folder.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include "harness.h"

namespace fiscal::testing {
namespace {

namespace fs = std::filesystem;

class HotSwapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string missing = MissingEnvironment();
    if (!missing.empty()) GTEST_SKIP() << missing;
    ResetEmulator();
    database_ = std::make_unique<TestDatabase>();
    options_.spain_version = "1.0.0";
    options_.plugin_dir = FISCAL_PLUGIN_DIR;
    host_ = std::make_unique<HostProcess>(*database_, options_);
    base_ = host_->base_url();
    key_ = CreateAccount(base_);
    location_ = CreateSpainLocation(base_, key_);
  }

  std::vector<std::string> Admin() { return {std::string("Authorization: Bearer ") + kAdminToken}; }

  HttpResult Reload() { return HttpCall("POST", base_ + "/v1/admin/plugins/spain-verifactu/reload", "", Admin()); }

  // Posts a sale and returns the plugin version that produced its record.
  std::string SaleVersion(const std::string& location) {
    HttpResult sale = HttpCall("POST", base_ + "/v1/transactions", SaleBody(location), Auth(key_));
    EXPECT_EQ(sale.status, 201) << sale.body;
    json::Node body = ParseJson(sale.body);
    const json::Node* record = body.Find("fiscal_record");
    if (record == nullptr || record->Find("plugin") == nullptr) return "";
    return Text(*record->Find("plugin"), "version");
  }

  HostOptions options_;
  std::unique_ptr<TestDatabase> database_;
  std::unique_ptr<HostProcess> host_;
  std::string base_, key_, location_;
};

TEST_F(HotSwapTest, ReloadSwitchesVersionAndKeepsChain) {
  EXPECT_EQ(SaleVersion(location_), "1.0.0");

  options_.spain_version = "1.0.1";
  host_->RewriteConfig(options_);
  HttpResult reloaded = Reload();
  ASSERT_EQ(reloaded.status, 200) << reloaded.body;
  EXPECT_EQ(Text(ParseJson(reloaded.body), "default_version"), "1.0.1");

  EXPECT_EQ(SaleVersion(location_), "1.0.1");
  ExpectChainsIntact(*database_);
  EXPECT_EQ(database_->Query("SELECT string_agg(plugin_version, ',' ORDER BY sequence) FROM fiscal_records"), "1.0.0,1.0.1");
  EXPECT_EQ(WaitAllResolved(*database_, 30), 0);
}

TEST_F(HotSwapTest, FailedReloadKeepsOldVersion) {
  options_.spain_version = "9.9.9";  // not installed
  host_->RewriteConfig(options_);
  HttpResult reloaded = Reload();
  EXPECT_EQ(reloaded.status, 409) << reloaded.body;
  json::Node body = ParseJson(reloaded.body);
  EXPECT_EQ(Text(body, "code"), "plugin_reload_failed");
  EXPECT_NE(Text(body, "error").find("9.9.9"), std::string::npos) << reloaded.body;
  EXPECT_EQ(SaleVersion(location_), "1.0.0");
}

TEST_F(HotSwapTest, SwapsUnderTrafficLoseNoRequest) {
  std::atomic<bool> stop{false};
  std::atomic<int> created{0}, failed{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&] {
      for (int i = 0; i < 400 && !stop; ++i) {
        HttpResult sale = HttpCall("POST", base_ + "/v1/transactions", SaleBody(location_), Auth(key_));
        (sale.status == 201 ? created : failed)++;
      }
    });
  }

  // Ten swaps between the two versions while the clients post.
  for (int swap = 0; swap < 10; ++swap) {
    options_.spain_version = swap % 2 == 0 ? "1.0.1" : "1.0.0";
    host_->RewriteConfig(options_);
    HttpResult reloaded = Reload();
    EXPECT_EQ(reloaded.status, 200) << reloaded.body;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  stop = true;
  for (std::thread& client : clients) client.join();

  EXPECT_EQ(failed.load(), 0);
  EXPECT_GT(created.load(), 0);
  EXPECT_EQ(database_->Query("SELECT count(DISTINCT plugin_version) FROM fiscal_records"), "2");
  ExpectChainsIntact(*database_);
  EXPECT_EQ(WaitAllResolved(*database_, 60), 0);
  EXPECT_EQ(database_->Query("SELECT count(*) FROM fiscal_records WHERE status <> 'registered'"), "0");
}

TEST_F(HotSwapTest, LocationPinRunsOtherVersion) {
  std::string pilot = CreateSpainLocation(base_, key_, "89890001K", "2");
  options_.spain_location_versions = "{\"" + pilot + "\":\"1.0.1\"}";
  host_->RewriteConfig(options_);
  ASSERT_EQ(Reload().status, 200);

  EXPECT_EQ(SaleVersion(location_), "1.0.0");
  EXPECT_EQ(SaleVersion(pilot), "1.0.1");

  HttpResult listed = HttpCall("GET", base_ + "/v1/admin/plugins", "", Admin());
  ASSERT_EQ(listed.status, 200) << listed.body;
  EXPECT_NE(listed.body.find("\"role\":\"pinned\""), std::string::npos) << listed.body;
  EXPECT_NE(listed.body.find("\"installed_versions\":[\"1.0.0\",\"1.0.1\"]"), std::string::npos) << listed.body;
  EXPECT_EQ(HttpCall("GET", base_ + "/v1/admin/plugins", "", Auth(key_)).status, 401);
}

TEST_F(HotSwapTest, SighupReloadsConfiguration) {
  options_.spain_version = "1.0.1";
  host_->RewriteConfig(options_);
  ASSERT_EQ(kill(host_->pid(), SIGHUP), 0);
  std::string version;
  for (int i = 0; i < 50 && version != "1.0.1"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    json::Node listed = ParseJson(HttpCall("GET", base_ + "/v1/admin/plugins", "", Admin()).body);
    const json::Node* data = listed.Find("data");
    if (data != nullptr && !data->items().empty()) version = Text(data->items()[0], "default_version");
  }
  EXPECT_EQ(version, "1.0.1");
  EXPECT_EQ(SaleVersion(location_), "1.0.1");
}

}  // namespace
}  // namespace fiscal::testing
