// Tests of the HTTP adapter around Pistache 0.0.5. Each Pistache workaround has a test here that
// fails if the workaround is removed.
#include <curl/curl.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <thread>

#include "common/json_tree.h"
#include "http/server.h"

namespace fiscal::http {
namespace {

struct Reply {
  long status = 0;
  std::string body;
  long new_connections = 0;
};

size_t Collect(char* data, size_t size, size_t count, void* target) {
  static_cast<std::string*>(target)->append(data, size * count);
  return size * count;
}

// Sends a request on `curl` (kept between calls so that connection reuse can be observed).
Reply Send(CURL* curl, const std::string& method, const std::string& url, const std::string& body = "") {
  Reply reply;
  // Pistache 0.0.5 never sends "100 Continue", so curl's wait for it is turned off.
  static curl_slist* headers = curl_slist_append(nullptr, "Expect:");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  if (!body.empty()) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  } else {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  }
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply.body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 20L);
  EXPECT_EQ(curl_easy_perform(curl), CURLE_OK);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply.status);
  curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &reply.new_connections);
  return reply;
}

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto router = std::make_shared<Router>();
    router->Add("POST", "/echo", [](Request& request) { return Response::Json(200, "{\"size\":" + std::to_string(request.body.size()) + "}"); });
    router->Add("GET", "/items/:id", [](Request& request) { return Response::Json(200, "{\"id\":\"" + request.Param("id") + "\"}"); });
    router->Add("GET", "/throws", [](Request&) -> Response { throw std::runtime_error("secret internal detail"); });
    router->Add("GET", "/throws-int", [](Request&) -> Response { throw 42; });
    ServerOptions options;
    options.port = 0;
    options.threads = 2;
    options.max_body_bytes = 1024 * 1024;
    server_ = std::make_unique<Server>(options, router);
    server_->Start();
    base_ = "http://127.0.0.1:" + std::to_string(server_->port());
    curl_ = curl_easy_init();
  }

  void TearDown() override {
    curl_easy_cleanup(curl_);
    server_->Stop();
  }

  std::unique_ptr<Server> server_;
  std::string base_;
  CURL* curl_ = nullptr;
};

TEST_F(HttpServerTest, BodyAbove4KiBAccepted) {
  // Pistache 0.0.5 rejects anything over 4096 bytes by default.
  Reply reply = Send(curl_, "POST", base_ + "/echo", std::string(100000, 'x'));
  EXPECT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(reply.body, "{\"size\":100000}");
}

TEST_F(HttpServerTest, OversizedBodyGetsJson413) {
  Reply reply = Send(curl_, "POST", base_ + "/echo", std::string(1024 * 1024 + 10, 'x'));
  EXPECT_EQ(reply.status, 413);
  auto body = json::Parse(reply.body);
  ASSERT_TRUE(body.ok()) << reply.body;
  EXPECT_EQ(body->Find("code")->text(), "payload_too_large");
}

TEST_F(HttpServerTest, Http11ConnectionIsKeptAlive) {
  // curl sends no Connection header; Pistache 0.0.5 would respond with "Connection: Close".
  Reply first = Send(curl_, "GET", base_ + "/items/1");
  Reply second = Send(curl_, "GET", base_ + "/items/2");
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(first.new_connections, 1);
  EXPECT_EQ(second.new_connections, 0) << "the second request should reuse the first connection";
  EXPECT_EQ(second.body, "{\"id\":\"2\"}");
}

TEST_F(HttpServerTest, ExceptionTextNeverLeaks) {
  Reply reply = Send(curl_, "GET", base_ + "/throws");
  EXPECT_EQ(reply.status, 500);
  EXPECT_EQ(reply.body.find("secret"), std::string::npos) << reply.body;
  auto body = json::Parse(reply.body);
  ASSERT_TRUE(body.ok()) << reply.body;
  EXPECT_EQ(body->Find("code")->text(), "internal_error");

  Reply non_standard = Send(curl_, "GET", base_ + "/throws-int");
  EXPECT_EQ(non_standard.status, 500) << "a non-std exception must not terminate the server";
  EXPECT_EQ(Send(curl_, "GET", base_ + "/items/3").status, 200);
}

TEST_F(HttpServerTest, UnknownRoutesAnswerJson) {
  Reply missing = Send(curl_, "GET", base_ + "/nowhere");
  EXPECT_EQ(missing.status, 404);
  EXPECT_TRUE(json::Parse(missing.body).ok()) << missing.body;

  // Methods without any route, which Pistache's router would look up in a shared map.
  for (const char* method : {"TRACE", "DELETE", "PUT", "PATCH", "OPTIONS"}) {
    Reply reply = Send(curl_, method, base_ + "/items/1");
    EXPECT_EQ(reply.status, 405) << method;
    EXPECT_TRUE(json::Parse(reply.body).ok()) << method << ": " << reply.body;
  }
}

TEST_F(HttpServerTest, ConcurrentClientsAllAnswered) {
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t) {
    clients.emplace_back([&, t] {
      CURL* curl = curl_easy_init();
      for (int i = 0; i < 50; ++i) {
        const char* method = (i % 3 == 0) ? "DELETE" : "GET";
        Reply reply = Send(curl, method, base_ + "/items/" + std::to_string(t));
        if ((method[0] == 'G' && reply.status == 200) || (method[0] == 'D' && reply.status == 405)) ++ok;
      }
      curl_easy_cleanup(curl);
    });
  }
  for (auto& client : clients) client.join();
  EXPECT_EQ(ok.load(), 400);
}

}  // namespace
}  // namespace fiscal::http
