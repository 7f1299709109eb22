// Webhooks end to end: the /v1/webhooks resource on a real fiscal-host process, and a signed
// fiscalization.completed notification to a receiver in this process after a sale is registered.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "webhooks/signing.h"

namespace fiscal::testing {
namespace {

struct Notification {
  std::string head;  // request line and headers, as received
  std::string body;
};

// Accepts connections on 127.0.0.1, reads one request from each and responds 200.
class NotificationReceiver {
 public:
  NotificationReceiver() {
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    listen(listener_, 16);
    socklen_t length = sizeof(address);
    getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }

  ~NotificationReceiver() {
    stopping_ = true;
    thread_.join();
    close(listener_);
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/fiscal-events"; }

  std::vector<Notification> notifications() {
    std::lock_guard<std::mutex> lock(mutex_);
    return notifications_;
  }

 private:
  void Serve() {
    while (!stopping_) {
      pollfd ready{listener_, POLLIN, 0};
      if (poll(&ready, 1, 50) <= 0) continue;
      int connection = accept(listener_, nullptr, nullptr);
      if (connection < 0) continue;
      ReadOne(connection);
      close(connection);
    }
  }

  // Reads one request (at most 5 s, 1 MiB) and responds 200.
  void ReadOne(int connection) {
    std::string data;
    size_t header_end = std::string::npos;
    size_t expected = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline && data.size() < (1u << 20)) {
      if (header_end == std::string::npos && (header_end = data.find("\r\n\r\n")) != std::string::npos) {
        std::string head = data.substr(0, header_end);
        for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        size_t at = head.find("\r\ncontent-length:");
        expected = at == std::string::npos ? 0 : std::strtoul(head.c_str() + at + 17, nullptr, 10);
      }
      if (header_end != std::string::npos && data.size() >= header_end + 4 + expected) break;
      pollfd readable{connection, POLLIN, 0};
      if (poll(&readable, 1, 100) <= 0) continue;
      char buffer[4096];
      ssize_t got = read(connection, buffer, sizeof(buffer));
      if (got <= 0) return;
      data.append(buffer, static_cast<size_t>(got));
    }
    if (header_end == std::string::npos) return;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      notifications_.push_back({data.substr(0, header_end), data.substr(header_end + 4, expected)});
    }
    const std::string answer = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    ssize_t written = write(connection, answer.data(), answer.size());
    (void)written;
  }

  int listener_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::vector<Notification> notifications_;
};

// Returns the value of header `name` (any case) in a request head, or "".
std::string HeaderValue(const std::string& head, const std::string& name) {
  std::string lower_head = head;
  for (char& c : lower_head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string lower_name = name;
  for (char& c : lower_name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  size_t at = lower_head.find("\r\n" + lower_name + ":");
  if (at == std::string::npos) return "";
  size_t start = head.find_first_not_of(' ', at + 2 + name.size() + 1);
  size_t end = head.find("\r\n", start);
  return head.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

class WebhooksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string missing = MissingEnvironment();
    if (!missing.empty()) GTEST_SKIP() << missing;
    database_ = std::make_unique<TestDatabase>();
    host_ = std::make_unique<HostProcess>(*database_);
    base_ = host_->base_url();
    key_ = CreateAccount(base_);
  }

  void TearDown() override {
    host_.reset();
    database_.reset();
  }

  // Creates a webhook for `url`; skips the test when this host build has no webhooks.
  json::Node CreateWebhook(const std::string& url, bool& available) {
    HttpResult created = HttpCall("POST", base_ + "/v1/webhooks",
                                  "{\"url\":\"" + url + "\",\"events\":[\"fiscalization.completed\"]}", Auth(key_));
    available = created.status != 404 && created.status != 503;
    if (!available) return json::Node();
    EXPECT_EQ(created.status, 201) << created.body;
    return ParseJson(created.body);
  }

  std::unique_ptr<TestDatabase> database_;
  std::unique_ptr<HostProcess> host_;
  std::string base_, key_;
};

constexpr const char* kNotWired =
    "fiscal-host does not serve /v1/webhooks: it needs AddWebhookRoutes in BuildRouter and a WebhookStore in "
    "App::webhooks";

TEST_F(WebhooksTest, ResourceRoundTrip) {
  bool available = false;
  json::Node created = CreateWebhook("https://example.com/hook", available);
  if (!available) GTEST_SKIP() << kNotWired;
  std::string id = Text(created, "id");
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(Text(created, "secret").rfind("whsec_", 0), 0u);

  HttpResult bad = HttpCall("POST", base_ + "/v1/webhooks", R"({"url":"https://example.com","events":["x"]})", Auth(key_));
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(Text(ParseJson(bad.body), "field"), "events[0]");

  HttpResult fetched = HttpCall("GET", base_ + "/v1/webhooks/" + id, "", Auth(key_));
  EXPECT_EQ(fetched.status, 200);
  EXPECT_EQ(fetched.body.find("whsec_"), std::string::npos);

  HttpResult patched = HttpCall("PATCH", base_ + "/v1/webhooks/" + id, R"({"enabled":false})", Auth(key_));
  EXPECT_EQ(patched.status, 200) << patched.body;

  std::string other_key = CreateAccount(base_);
  EXPECT_EQ(HttpCall("GET", base_ + "/v1/webhooks/" + id, "", Auth(other_key)).status, 404);

  HttpResult rotated = HttpCall("POST", base_ + "/v1/webhooks/" + id + "/rotate-secret", "", Auth(key_));
  EXPECT_EQ(rotated.status, 200);
  EXPECT_NE(Text(ParseJson(rotated.body), "secret"), Text(created, "secret"));

  EXPECT_EQ(HttpCall("DELETE", base_ + "/v1/webhooks/" + id, "", Auth(key_)).status, 204);
  EXPECT_EQ(HttpCall("GET", base_ + "/v1/webhooks/" + id, "", Auth(key_)).status, 404);
}

TEST_F(WebhooksTest, RegisteredSaleNotifiesReceiver) {
  NotificationReceiver receiver;
  bool available = false;
  json::Node webhook = CreateWebhook(receiver.url(), available);
  if (!available) GTEST_SKIP() << kNotWired;
  ResetEmulator();
  std::string location = CreateSpainLocation(base_, key_);

  HttpResult sale = HttpCall("POST", base_ + "/v1/transactions", SaleBody(location), Auth(key_));
  ASSERT_EQ(sale.status, 201) << sale.body;

  // The record is registered within about a second; 30 s bounds the wait for the notification.
  std::vector<Notification> received;
  for (int i = 0; i < 300 && received.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    received = receiver.notifications();
  }
  ASSERT_FALSE(received.empty()) << "no webhook arrived within 30 s; the outbox must call EnqueueEvent and "
                                    "fiscal-host must start a WebhookSender";

  const Notification& notification = received.front();
  json::Node body = ParseJson(notification.body);
  EXPECT_EQ(Text(body, "type"), "fiscalization.completed");
  EXPECT_EQ(HeaderValue(notification.head, "Content-Type"), "application/json");
  std::string timestamp = HeaderValue(notification.head, "X-Webhook-Timestamp");
  ASSERT_FALSE(timestamp.empty()) << notification.head;
  EXPECT_TRUE(webhooks::VerifyWebhookSignature(Text(webhook, "secret"), std::stoll(timestamp), notification.body,
                                               HeaderValue(notification.head, "X-Webhook-Signature")))
      << notification.head;

  HttpResult deliveries =
      HttpCall("GET", base_ + "/v1/webhooks/" + Text(webhook, "id") + "/deliveries", "", Auth(key_));
  ASSERT_EQ(deliveries.status, 200) << deliveries.body;
  EXPECT_EQ(Text(ParseJson(deliveries.body), "total"), "1");
}

}  // namespace
}  // namespace fiscal::testing
