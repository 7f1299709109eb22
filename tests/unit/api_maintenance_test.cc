// Tests of maintenance mode: the middleware and the admin endpoint, driven through http::Router with
// fake handlers. No database is needed.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>

#include "api/app.h"
#include "api/maintenance.h"
#include "common/json_tree.h"

namespace fiscal::api {
namespace {

constexpr const char* kAdminToken = "admin-secret-token";

std::string HeaderValue(const http::Response& response, const std::string& name) {
  for (const auto& header : response.headers) {
    if (header.first == name) return header.second;
  }
  return "";
}

json::Node ParseBody(const http::Response& response) {
  Result<json::Node> body = json::Parse(response.body);
  EXPECT_TRUE(body.ok()) << "not JSON: " << response.body;
  return body.ok() ? *body : json::Node();
}

std::string Member(const http::Response& response, const char* name) {
  json::Node body = ParseBody(response);
  const json::Node* member = body.Find(name);
  return member == nullptr ? "<missing>" : member->text();
}

class MaintenanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    mode_ = std::make_unique<MaintenanceMode>(kAdminToken);
    app_.maintenance = mode_.get();
    router_ = MakeRouter(*mode_);
  }

  std::shared_ptr<http::Router> MakeRouter(MaintenanceMode& mode) {
    auto router = std::make_shared<http::Router>();
    router->Use(MakeMaintenanceMiddleware(mode));
    AddMaintenanceRoutes(app_, *router);
    auto ok = [this](http::Request&) {
      ++calls_;
      return http::Response::Json(200, "{\"ok\":true}");
    };
    router->Add("GET", "/health", ok);
    router->Add("GET", "/version", ok);
    router->Add("GET", "/v1/transactions", ok);
    router->Add("POST", "/v1/transactions", ok);
    return router;
  }

  http::Response Call(const std::string& method, const std::string& path, const std::string& body = "",
                      const std::string& token = kAdminToken) {
    http::Request request;
    request.method = method;
    request.path = path;
    request.body = body;
    if (!token.empty()) request.headers["authorization"] = "Bearer " + token;
    return router_->Dispatch(request);
  }

  http::Response SetMode(const std::string& body, const std::string& token = kAdminToken) {
    return Call("POST", "/v1/admin/maintenance", body, token);
  }

  App app_;
  std::unique_ptr<MaintenanceMode> mode_;
  std::shared_ptr<http::Router> router_;
  int calls_ = 0;
};

TEST_F(MaintenanceTest, DisabledPassesRequests) {
  http::Response response = Call("POST", "/v1/transactions", "{}");

  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(calls_, 1);
}

TEST_F(MaintenanceTest, EnabledAnswers503) {
  http::Response set = SetMode("{\"enabled\":true,\"message\":\"database upgrade until 10:00 UTC\",\"retry_after\":120}");
  ASSERT_EQ(set.status, 200) << set.body;

  http::Response post = Call("POST", "/v1/transactions", "{}");
  http::Response get = Call("GET", "/v1/transactions");
  http::Response unknown = Call("GET", "/v1/unknown");

  EXPECT_EQ(calls_, 0);
  EXPECT_EQ(post.status, 503);
  EXPECT_EQ(post.body, "{\"status\":\"maintenance\",\"message\":\"database upgrade until 10:00 UTC\",\"retry_after\":120}");
  EXPECT_EQ(post.content_type, "application/json");
  EXPECT_EQ(HeaderValue(post, "Retry-After"), "120");
  EXPECT_EQ(get.status, 503);
  EXPECT_EQ(unknown.status, 503);
}

TEST_F(MaintenanceTest, HealthAndVersionStayUp) {
  ASSERT_EQ(SetMode("{\"enabled\":true}").status, 200);

  EXPECT_EQ(Call("GET", "/health").status, 200);
  EXPECT_EQ(Call("GET", "/version").status, 200);
  EXPECT_EQ(Call("GET", "/health/").status, 200);
  EXPECT_EQ(calls_, 3);
  EXPECT_EQ(Call("POST", "/health").status, 503) << "only GET is exempt";
}

TEST_F(MaintenanceTest, DefaultMessageAndRetryAfter) {
  ASSERT_EQ(SetMode("{\"enabled\":true}").status, 200);

  http::Response response = Call("POST", "/v1/transactions", "{}");

  EXPECT_EQ(response.status, 503);
  EXPECT_EQ(Member(response, "status"), "maintenance");
  EXPECT_EQ(Member(response, "message"), "the server is under maintenance; retry later");
  EXPECT_EQ(Member(response, "retry_after"), "60");
  EXPECT_EQ(HeaderValue(response, "Retry-After"), "60");
}

TEST_F(MaintenanceTest, AdminEndpointTogglesMode) {
  http::Response initial = Call("GET", "/v1/admin/maintenance");
  EXPECT_EQ(initial.status, 200);
  EXPECT_EQ(initial.body, "{\"enabled\":false,\"message\":\"\",\"retry_after\":60}");

  http::Response on = SetMode("{\"enabled\":true,\"message\":\"upgrade\",\"retry_after\":30}");
  EXPECT_EQ(on.body, "{\"enabled\":true,\"message\":\"upgrade\",\"retry_after\":30}");
  http::Response while_on = Call("GET", "/v1/admin/maintenance");
  EXPECT_EQ(while_on.status, 200) << "the admin endpoint must work during maintenance";
  EXPECT_EQ(while_on.body, on.body);
  EXPECT_EQ(Call("POST", "/v1/transactions", "{}").status, 503);

  http::Response off = SetMode("{\"enabled\":false}");
  EXPECT_EQ(off.status, 200);
  EXPECT_EQ(off.body, "{\"enabled\":false,\"message\":\"\",\"retry_after\":60}");
  EXPECT_EQ(Call("POST", "/v1/transactions", "{}").status, 200);
  EXPECT_FALSE(mode_->Get().enabled);
}

TEST_F(MaintenanceTest, AdminTokenChecked) {
  http::Response wrong = SetMode("{\"enabled\":true}", "admin-secret-tokeN");
  http::Response prefix = SetMode("{\"enabled\":true}", "admin-secret");
  http::Response longer = SetMode("{\"enabled\":true}", std::string(kAdminToken) + "x");
  http::Response missing = SetMode("{\"enabled\":true}", "");
  http::Response wrong_get = Call("GET", "/v1/admin/maintenance", "", "nope");

  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(Member(wrong, "code"), "unauthenticated");
  EXPECT_EQ(prefix.status, 401);
  EXPECT_EQ(longer.status, 401);
  EXPECT_EQ(missing.status, 401);
  EXPECT_EQ(wrong_get.status, 401);
  EXPECT_FALSE(mode_->Get().enabled);

  http::Request lower_case;
  lower_case.method = "GET";
  lower_case.path = "/v1/admin/maintenance";
  lower_case.headers["authorization"] = std::string("bearer ") + kAdminToken;
  EXPECT_EQ(router_->Dispatch(lower_case).status, 200) << "the Bearer scheme name is case-insensitive";
}

TEST_F(MaintenanceTest, EmptyAdminTokenDisablesAdmin) {
  MaintenanceMode no_admin("");
  app_.maintenance = &no_admin;
  router_ = MakeRouter(no_admin);

  http::Response get = Call("GET", "/v1/admin/maintenance", "", "");
  http::Response post = SetMode("{\"enabled\":true}", "anything");

  EXPECT_EQ(get.status, 403);
  EXPECT_EQ(Member(get, "code"), "forbidden");
  EXPECT_NE(Member(get, "error").find("admin API disabled"), std::string::npos);
  EXPECT_EQ(post.status, 403);
  EXPECT_FALSE(no_admin.Get().enabled);
  EXPECT_FALSE(no_admin.CheckAdminToken(""));
}

TEST_F(MaintenanceTest, MissingModeDisablesAdmin) {
  app_.maintenance = nullptr;
  auto router = std::make_shared<http::Router>();
  AddMaintenanceRoutes(app_, *router);
  http::Request request;
  request.method = "GET";
  request.path = "/v1/admin/maintenance";
  request.headers["authorization"] = std::string("Bearer ") + kAdminToken;

  http::Response response = router->Dispatch(request);

  EXPECT_EQ(response.status, 403);
}

TEST_F(MaintenanceTest, InvalidInputNamesField) {
  struct Case {
    const char* body;
    const char* field;
  } cases[] = {
      {"{}", "enabled"},
      {"{\"enabled\":null}", "enabled"},
      {"{\"enabled\":\"yes\"}", "enabled"},
      {"{\"enabled\":1}", "enabled"},
      {"{\"enabled\":true,\"retry_after\":0}", "retry_after"},
      {"{\"enabled\":true,\"retry_after\":86401}", "retry_after"},
      {"{\"enabled\":true,\"retry_after\":1.5}", "retry_after"},
      {"{\"enabled\":true,\"retry_after\":-5}", "retry_after"},
      {"{\"enabled\":true,\"retry_after\":\"30\"}", "retry_after"},
      {"{\"enabled\":true,\"retry_after\":1e3}", "retry_after"},
      {"{\"enabled\":true,\"message\":5}", "message"},
      {"{\"enabled\":true,\"retry-after\":30}", "retry-after"},
  };
  for (const Case& test : cases) {
    http::Response response = SetMode(test.body);
    EXPECT_EQ(response.status, 400) << test.body;
    EXPECT_EQ(Member(response, "field"), test.field) << test.body;
  }

  std::string long_message = "{\"enabled\":true,\"message\":\"" + std::string(501, 'm') + "\"}";
  http::Response too_long = SetMode(long_message);
  EXPECT_EQ(too_long.status, 400);
  EXPECT_EQ(Member(too_long, "field"), "message");

  EXPECT_EQ(SetMode("not json").status, 400);
  EXPECT_EQ(SetMode("[true]").status, 400);
  EXPECT_FALSE(mode_->Get().enabled) << "invalid input must not change the mode";

  http::Response limits = SetMode("{\"enabled\":true,\"retry_after\":86400,\"message\":\"" + std::string(500, 'm') + "\"}");
  EXPECT_EQ(limits.status, 200) << limits.body;
}

TEST_F(MaintenanceTest, ConcurrentToggleAndRead) {
  // Readers and a writer race for a bounded number of rounds; ThreadSanitizer builds check the locking.
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; i < 2000; ++i) {
      MaintenanceMode::State state;
      state.enabled = i % 2 == 0;
      state.message = "round " + std::to_string(i);
      state.retry_after_seconds = 1 + i % 100;
      mode_->Set(state);
    }
    stop = true;
  });
  std::thread reader([&] {
    for (int i = 0; i < 2000 && !stop; ++i) {
      http::Request request;
      request.method = "POST";
      request.path = "/v1/other";
      http::Response response = router_->Dispatch(request);
      EXPECT_TRUE(response.status == 503 || response.status == 404) << response.status;
    }
  });
  writer.join();
  reader.join();

  MaintenanceMode::State last = mode_->Get();
  EXPECT_FALSE(last.enabled);
  EXPECT_EQ(last.message, "round 1999");
  EXPECT_EQ(last.retry_after_seconds, 100);
}

}  // namespace
}  // namespace fiscal::api
