// The /v1/webhooks handlers through the router, without a socket, against a real PostgreSQL
// database. Needs FISCAL_TEST_PG (set by scripts/test.sh); without it the tests skip.
#include <gtest/gtest.h>

#include "scratch_database.h"

#include <cstdlib>
#include <memory>
#include <random>
#include <string>

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include "api/app.h"
#include "api/auth.h"
#include "api/webhooks_api.h"
#include "common/json_tree.h"
#include "http/router.h"
#include "webhooks/webhook_store.h"

namespace fiscal::api {
namespace {

std::string TestServer() {
  const char* value = std::getenv("FISCAL_TEST_PG");
  return value == nullptr ? "" : value;
}

std::string RandomSuffix() {
  std::mt19937_64 generator(std::random_device{}());
  return std::to_string(generator() % 1000000000ULL);
}

class WebhooksApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    scratch_ = testing::ScratchDatabase::Create("webhooks_api", 4).release();
    database_ = scratch_ == nullptr ? nullptr : &scratch_->database();
  }

  static void TearDownTestSuite() {
    delete scratch_;
    scratch_ = nullptr;
    database_ = nullptr;
  }

  void SetUp() override {
    if (TestServer().empty()) GTEST_SKIP() << "FISCAL_TEST_PG is not set; run ./scripts/test.sh or export it";
    ASSERT_NE(database_, nullptr) << "the test database could not be set up";
    store_ = std::make_unique<webhooks::WebhookStore>(*database_);
    app_.config = &config_;
    app_.database = database_;
    app_.accounts = std::make_unique<store::AccountsStore>(*database_);
    app_.webhooks = store_.get();
    AddWebhookRoutes(app_, router_);
    key_ = NewAccountKey();
  }

  // Creates an account and returns its test API key.
  std::string NewAccountKey() {
    NewApiKey key = GenerateApiKey("test");
    auto created = app_.accounts->CreateAccount("API test", "api-" + RandomSuffix() + "@example.com", key.hash,
                                                key.prefix);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return key.key;
  }

  http::Response Call(const std::string& method, const std::string& path, const std::string& body = "",
                      const std::string& key = "", const std::map<std::string, std::string>& query = {}) {
    http::Request request;
    request.method = method;
    request.path = path;
    request.body = body;
    request.query = query;
    request.request_id = "test";
    request.headers["authorization"] = "Bearer " + (key.empty() ? key_ : key);
    return router_.Dispatch(request);
  }

  static json::Node Json(const http::Response& response) {
    Result<json::Node> parsed = json::Parse(response.body, "response");
    EXPECT_TRUE(parsed.ok()) << response.body;
    return parsed.ok() ? parsed.value() : json::Node();
  }

  static std::string Text(const json::Node& node, const char* name) {
    const json::Node* member = node.Find(name);
    return member == nullptr ? "" : member->text();
  }

  // Creates a webhook through the API and returns its JSON.
  json::Node Create(const std::string& key = "") {
    http::Response response = Call("POST", "/v1/webhooks",
                                   R"({"url":"https://example.com/hook","events":["fiscalization.completed"],
                                       "description":"shop 1"})",
                                   key);
    EXPECT_EQ(response.status, 201) << response.body;
    return Json(response);
  }

  static inline testing::ScratchDatabase* scratch_ = nullptr;
  static inline store::Database* database_ = nullptr;
  config::HostConfig config_;
  App app_;
  http::Router router_;
  std::unique_ptr<webhooks::WebhookStore> store_;
  std::string key_;
};

TEST_F(WebhooksApiTest, CreateAnswers201WithSecret) {
  http::Response response = Call("POST", "/v1/webhooks",
                                 R"({"url":"https://example.com/hook",
                                     "events":["fiscalization.completed","fiscalization.dead_letter","fiscalization.completed"],
                                     "enabled":false})");
  ASSERT_EQ(response.status, 201) << response.body;
  json::Node body = Json(response);

  EXPECT_EQ(Text(body, "object"), "webhook");
  EXPECT_EQ(Text(body, "url"), "https://example.com/hook");
  EXPECT_EQ(Text(body, "secret").rfind("whsec_", 0), 0u);
  EXPECT_FALSE(Text(body, "id").empty());
  EXPECT_FALSE(Text(body, "account_id").empty());
  EXPECT_FALSE(Text(body, "created_at").empty());
  EXPECT_TRUE(body.Find("description")->IsNull());
  EXPECT_FALSE(body.Find("enabled")->boolean());
  // The repeated event type is kept once.
  ASSERT_EQ(body.Find("events")->items().size(), 2u);
  EXPECT_EQ(body.Find("events")->items()[1].text(), "fiscalization.dead_letter");
}

TEST_F(WebhooksApiTest, CreateRejectsBadInput) {
  struct Case {
    const char* body;
    const char* field;
    const char* message_start;
  };
  const Case cases[] = {
      {R"({"events":["fiscalization.completed"]})", "url", "url is required"},
      {R"({"url":"ftp://example.com","events":["fiscalization.completed"]})", "url", "invalid url"},
      {R"({"url":"http://example.com/hook","events":["fiscalization.completed"]})", "url", "invalid url"},
      {R"({"url":"https://169.254.169.254/","events":["fiscalization.completed"]})", "url", "invalid url"},
      {R"({"url":42,"events":["fiscalization.completed"]})", "url", "url must be a string"},
      {R"({"url":"https://example.com"})", "events", "events is required"},
      {R"({"url":"https://example.com","events":[]})", "events", "events is required"},
      {R"({"url":"https://example.com","events":"fiscalization.completed"})", "events", "events must be an array"},
      {R"({"url":"https://example.com","events":["fiscalization.completed","invoice.paid"]})", "events[1]",
       "invalid event type"},
      {R"({"url":"https://example.com","events":[7]})", "events[0]", "invalid event type"},
      {R"({"url":"https://example.com","events":["fiscalization.completed"],"enabled":"yes"})", "enabled",
       "enabled must be true or false"},
      {R"({"url":"https://example.com","events":["fiscalization.completed"],"description":5})", "description",
       "description must be a string"},
  };
  for (const Case& c : cases) {
    http::Response response = Call("POST", "/v1/webhooks", c.body);
    EXPECT_EQ(response.status, 400) << c.body;
    json::Node body = Json(response);
    EXPECT_EQ(Text(body, "code"), "invalid_request") << c.body;
    EXPECT_EQ(Text(body, "field"), c.field) << c.body;
    EXPECT_EQ(Text(body, "error").rfind(c.message_start, 0), 0u) << c.body << " -> " << response.body;
  }

  EXPECT_EQ(Call("POST", "/v1/webhooks", "[1]").status, 400);
  EXPECT_EQ(Call("POST", "/v1/webhooks", "{").status, 400);
}

TEST_F(WebhooksApiTest, GetAndListHideSecret) {
  json::Node created = Create();
  std::string id = Text(created, "id");

  http::Response fetched = Call("GET", "/v1/webhooks/" + id);
  ASSERT_EQ(fetched.status, 200) << fetched.body;
  json::Node webhook = Json(fetched);
  EXPECT_EQ(webhook.Find("secret"), nullptr);
  EXPECT_EQ(Text(webhook, "description"), "shop 1");

  http::Response listed = Call("GET", "/v1/webhooks", "", "", {{"limit", "5"}});
  ASSERT_EQ(listed.status, 200) << listed.body;
  json::Node page = Json(listed);
  EXPECT_EQ(Text(page, "total"), "1");
  EXPECT_EQ(Text(page, "limit"), "5");
  EXPECT_EQ(Text(page, "offset"), "0");
  ASSERT_EQ(page.Find("data")->items().size(), 1u);
  EXPECT_EQ(page.Find("data")->items()[0].Find("secret"), nullptr);
  EXPECT_EQ(listed.body.find("whsec_"), std::string::npos);

  EXPECT_EQ(Call("GET", "/v1/webhooks", "", "", {{"limit", "0"}}).status, 400);
}

TEST_F(WebhooksApiTest, PatchUpdatesFields) {
  std::string id = Text(Create(), "id");

  http::Response response = Call("PATCH", "/v1/webhooks/" + id,
                                 R"({"url":"https://example.org/new","events":["fiscalization.dead_letter"],
                                     "description":null,"enabled":false})");
  ASSERT_EQ(response.status, 200) << response.body;
  json::Node body = Json(response);
  EXPECT_EQ(Text(body, "url"), "https://example.org/new");
  EXPECT_EQ(body.Find("events")->items()[0].text(), "fiscalization.dead_letter");
  EXPECT_TRUE(body.Find("description")->IsNull());
  EXPECT_FALSE(body.Find("enabled")->boolean());
  EXPECT_EQ(body.Find("secret"), nullptr);

  http::Response unchanged = Call("PATCH", "/v1/webhooks/" + id, "{}");
  ASSERT_EQ(unchanged.status, 200);
  EXPECT_EQ(Text(Json(unchanged), "url"), "https://example.org/new");

  EXPECT_EQ(Call("PATCH", "/v1/webhooks/" + id, R"({"url":"http://example.org"})").status, 400);
  EXPECT_EQ(Call("PATCH", "/v1/webhooks/" + id, R"({"url":null})").status, 400);
  EXPECT_EQ(Call("PATCH", "/v1/webhooks/" + id, R"({"events":[]})").status, 400);
  EXPECT_EQ(Call("PATCH", "/v1/webhooks/" + id, R"({"events":null})").status, 400);
  EXPECT_EQ(Call("PATCH", "/v1/webhooks/" + id, R"({"enabled":null})").status, 400);
}

TEST_F(WebhooksApiTest, DeleteAnswers204) {
  std::string id = Text(Create(), "id");

  http::Response deleted = Call("DELETE", "/v1/webhooks/" + id);
  EXPECT_EQ(deleted.status, 204);
  EXPECT_TRUE(deleted.body.empty());
  EXPECT_EQ(Call("GET", "/v1/webhooks/" + id).status, 404);
  EXPECT_EQ(Call("DELETE", "/v1/webhooks/" + id).status, 404);
}

TEST_F(WebhooksApiTest, RotateSecretReturnsNewSecret) {
  json::Node created = Create();
  std::string id = Text(created, "id");

  http::Response rotated = Call("POST", "/v1/webhooks/" + id + "/rotate-secret");
  ASSERT_EQ(rotated.status, 200) << rotated.body;
  std::string secret = Text(Json(rotated), "secret");
  EXPECT_EQ(secret.rfind("whsec_", 0), 0u);
  EXPECT_NE(secret, Text(created, "secret"));
}

TEST_F(WebhooksApiTest, DeliveriesListAttempts) {
  json::Node created = Create();
  std::string id = Text(created, "id");
  Status queued = database_->Run([&](soci::session& session) {
    soci::transaction transaction(session);
    FISCAL_RETURN_IF_ERROR(store_->EnqueueEvent(session, Text(created, "account_id"), "fiscalization.completed",
                                                R"({"transaction_id":"t-9"})"));
    transaction.commit();
    return Status::Ok();
  });
  ASSERT_TRUE(queued.ok()) << queued.ToString();

  http::Response response = Call("GET", "/v1/webhooks/" + id + "/deliveries");
  ASSERT_EQ(response.status, 200) << response.body;
  json::Node page = Json(response);
  EXPECT_EQ(Text(page, "total"), "1");
  ASSERT_EQ(page.Find("data")->items().size(), 1u);
  const json::Node& delivery = page.Find("data")->items()[0];
  EXPECT_EQ(Text(delivery, "object"), "webhook_delivery");
  EXPECT_EQ(Text(delivery, "webhook_id"), id);
  EXPECT_EQ(Text(delivery, "event"), "fiscalization.completed");
  EXPECT_EQ(Text(delivery, "status"), "pending");
  EXPECT_EQ(Text(delivery, "attempt"), "0");
  EXPECT_TRUE(delivery.Find("last_status_code")->IsNull());
  EXPECT_TRUE(delivery.Find("last_error")->IsNull());
  EXPECT_TRUE(delivery.Find("delivered_at")->IsNull());
  EXPECT_FALSE(Text(delivery, "next_attempt_at").empty());
  EXPECT_EQ(Text(*delivery.Find("payload")->Find("data"), "transaction_id"), "t-9");
}

TEST_F(WebhooksApiTest, OtherAccountGets404) {
  std::string id = Text(Create(), "id");
  std::string other = NewAccountKey();

  EXPECT_EQ(Call("GET", "/v1/webhooks/" + id, "", other).status, 404);
  EXPECT_EQ(Call("PATCH", "/v1/webhooks/" + id, R"({"enabled":false})", other).status, 404);
  EXPECT_EQ(Call("DELETE", "/v1/webhooks/" + id, "", other).status, 404);
  EXPECT_EQ(Call("POST", "/v1/webhooks/" + id + "/rotate-secret", "", other).status, 404);
  EXPECT_EQ(Call("GET", "/v1/webhooks/" + id + "/deliveries", "", other).status, 404);
  json::Node page = Json(Call("GET", "/v1/webhooks", "", other));
  EXPECT_EQ(Text(page, "total"), "0");

  EXPECT_EQ(Call("GET", "/v1/webhooks/" + id).status, 200);
  EXPECT_EQ(Call("GET", "/v1/webhooks/not-a-uuid").status, 404);
}

TEST_F(WebhooksApiTest, RequiresAuthentication) {
  http::Request request;
  request.method = "GET";
  request.path = "/v1/webhooks";
  EXPECT_EQ(router_.Dispatch(request).status, 401);

  EXPECT_EQ(Call("GET", "/v1/webhooks", "", "fsk_test_" + std::string(64, '0')).status, 401);
}

TEST_F(WebhooksApiTest, DisabledFeatureAnswers503) {
  app_.webhooks = nullptr;

  http::Response response = Call("POST", "/v1/webhooks", R"({"url":"https://example.com","events":["fiscalization.completed"]})");
  EXPECT_EQ(response.status, 503);
  EXPECT_EQ(Text(Json(response), "error"), "webhooks are not enabled on this server");
  EXPECT_EQ(Call("GET", "/v1/webhooks").status, 503);
}

}  // namespace
}  // namespace fiscal::api
