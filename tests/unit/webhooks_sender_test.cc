// WebhookSender against a real PostgreSQL database and a small HTTP receiver on 127.0.0.1 in this
// process: signatures over the exact body, retries, dead deliveries and the address policy. Needs
// FISCAL_TEST_PG (set by scripts/test.sh); without it the tests skip.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include "api/auth.h"
#include "common/json_tree.h"
#include "store/accounts_store.h"
#include "scratch_database.h"
#include "store/database.h"
#include "webhooks/signing.h"
#include "webhooks/webhook_sender.h"
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

struct ReceivedRequest {
  std::string method, target;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
};

// A one-thread HTTP/1.1 server on 127.0.0.1 that records every request and responds with the next
// scripted status (then with `fallback_status`). Each connection carries one request.
class Receiver {
 public:
  explicit Receiver(int fallback_status = 200) : fallback_status_(fallback_status) {
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    listen(listener_, 16);
    socklen_t length = sizeof(address);
    getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }

  ~Receiver() {
    stopping_ = true;
    thread_.join();
    close(listener_);
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }

  void Script(std::vector<int> statuses) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (int status : statuses) script_.push_back(status);
  }

  std::vector<ReceivedRequest> requests() {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }

 private:
  void Serve() {
    while (!stopping_) {
      pollfd ready{listener_, POLLIN, 0};
      if (poll(&ready, 1, 50) <= 0) continue;
      int connection = accept(listener_, nullptr, nullptr);
      if (connection < 0) continue;
      Handle(connection);
      close(connection);
    }
  }

  // Reads one request, bounded by 5 s and 1 MiB, and responds to it.
  void Handle(int connection) {
    std::string data;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    size_t header_end = std::string::npos;
    size_t content_length = 0;
    while (std::chrono::steady_clock::now() < deadline && data.size() < (1u << 20)) {
      if (header_end == std::string::npos) {
        header_end = data.find("\r\n\r\n");
        if (header_end != std::string::npos) content_length = ContentLength(data.substr(0, header_end));
      }
      if (header_end != std::string::npos && data.size() >= header_end + 4 + content_length) break;
      pollfd readable{connection, POLLIN, 0};
      if (poll(&readable, 1, 100) <= 0) continue;
      char buffer[4096];
      ssize_t got = read(connection, buffer, sizeof(buffer));
      if (got <= 0) return;
      data.append(buffer, static_cast<size_t>(got));
    }
    if (header_end == std::string::npos) return;

    ReceivedRequest request;
    std::string head = data.substr(0, header_end);
    size_t line_end = head.find("\r\n");
    std::string request_line = head.substr(0, line_end);
    request.method = request_line.substr(0, request_line.find(' '));
    request.target = request_line.substr(request.method.size() + 1, request_line.rfind(' ') - request.method.size() - 1);
    size_t position = line_end == std::string::npos ? head.size() : line_end + 2;
    while (position < head.size()) {
      size_t end = head.find("\r\n", position);
      if (end == std::string::npos) end = head.size();
      std::string line = head.substr(position, end - position);
      size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        size_t value_start = line.find_first_not_of(' ', colon + 1);
        request.headers[name] = value_start == std::string::npos ? "" : line.substr(value_start);
      }
      position = end + 2;
    }
    request.body = data.substr(header_end + 4, content_length);

    int status = fallback_status_;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!script_.empty()) {
        status = script_.front();
        script_.pop_front();
      }
      requests_.push_back(std::move(request));
    }
    std::string answer_body = status >= 300 ? "receiver\x01 failure" : "ok";
    std::string answer = "HTTP/1.1 " + std::to_string(status) + " Scripted\r\nContent-Length: " +
                         std::to_string(answer_body.size()) + "\r\nConnection: close\r\n\r\n" + answer_body;
    ssize_t written = write(connection, answer.data(), answer.size());
    (void)written;
  }

  static size_t ContentLength(const std::string& head) {
    std::string lower = head;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    size_t at = lower.find("\r\ncontent-length:");
    if (at == std::string::npos) return 0;
    return static_cast<size_t>(std::strtoul(lower.c_str() + at + 17, nullptr, 10));
  }

  int listener_ = -1;
  int port_ = 0;
  int fallback_status_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::deque<int> script_;
  std::vector<ReceivedRequest> requests_;
};

class WebhookSenderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    scratch_ = testing::ScratchDatabase::Create("webhooks_sender", 4).release();
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

    // Each test starts with an empty queue, because the senders take any due delivery.
    Status cleared = database_->Run([](soci::session& session) {
      session << "UPDATE webhook_deliveries SET status = 'dead', next_attempt_at = NULL "
                 "WHERE status IN ('pending', 'failed')";
      return Status::Ok();
    });
    ASSERT_TRUE(cleared.ok()) << cleared.ToString();

    WebhookStore::Options store_options;
    store_options.max_attempts = 3;
    store_ = std::make_unique<WebhookStore>(*database_, store_options);
    accounts_ = std::make_unique<store::AccountsStore>(*database_);

    // Retries are due at once, so a test drives every attempt with RunOnce.
    options_.initial_backoff_seconds = 0;
    options_.max_backoff_seconds = 0;
    options_.timeout_ms = 3000;
  }

  std::string NewAccount() {
    api::NewApiKey key = api::GenerateApiKey("test");
    auto created = accounts_->CreateAccount("Sender test", "sender-" + RandomSuffix() + "@example.com", key.hash,
                                            key.prefix);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? created->first.id : "";
  }

  WebhookRow NewWebhook(const std::string& account_id, const std::string& url) {
    auto created = store_->Create(account_id, url, {kEventFiscalizationCompleted}, std::nullopt, true);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? created.value() : WebhookRow();
  }

  void Enqueue(const std::string& account_id, const std::string& payload = R"({"transaction_id":"t-1"})") {
    Status status = database_->Run([&](soci::session& session) {
      soci::transaction transaction(session);
      FISCAL_RETURN_IF_ERROR(store_->EnqueueEvent(session, account_id, kEventFiscalizationCompleted, payload));
      transaction.commit();
      return Status::Ok();
    });
    ASSERT_TRUE(status.ok()) << status.ToString();
  }

  DeliveryRow OnlyDelivery(const WebhookRow& webhook) {
    long total = 0;
    auto deliveries = store_->ListDeliveries(webhook.account_id, webhook.id, 10, 0, total);
    EXPECT_TRUE(deliveries.ok()) << deliveries.status().ToString();
    EXPECT_EQ(total, 1);
    return deliveries.ok() && !deliveries->empty() ? (*deliveries)[0] : DeliveryRow();
  }

  static inline testing::ScratchDatabase* scratch_ = nullptr;
  static inline std::string connection_;
  static inline store::Database* database_ = nullptr;
  std::unique_ptr<WebhookStore> store_;
  std::unique_ptr<store::AccountsStore> accounts_;
  SenderOptions options_;
};

TEST_F(WebhookSenderTest, SignsExactBody) {
  Receiver receiver;
  std::string account = NewAccount();
  WebhookRow webhook = NewWebhook(account, receiver.url());
  Enqueue(account, R"({"transaction_id":"t-1","total_amount":8.00,"note":"Café"})");
  WebhookSender sender(*store_, options_);

  ASSERT_TRUE(sender.RunOnce());

  std::vector<ReceivedRequest> requests = receiver.requests();
  ASSERT_EQ(requests.size(), 1u);
  const ReceivedRequest& request = requests[0];
  DeliveryRow delivery = OnlyDelivery(webhook);
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.target, "/hook");
  EXPECT_EQ(request.headers.at("content-type"), "application/json");
  EXPECT_EQ(request.headers.at("x-webhook-id"), std::to_string(delivery.id));
  EXPECT_EQ(request.headers.at("x-webhook-event"), kEventFiscalizationCompleted);
  EXPECT_EQ(request.headers.at("user-agent").rfind("fiscal-server-webhooks/", 0), 0u);
  EXPECT_EQ(request.headers.count("expect"), 0u);

  // The body is the stored payload byte for byte, and the signature covers exactly those bytes.
  EXPECT_EQ(request.body, delivery.payload);
  const std::string& timestamp_text = request.headers.at("x-webhook-timestamp");
  int64_t timestamp = std::stoll(timestamp_text);
  int64_t now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_LE(std::llabs(now - timestamp), 60);
  EXPECT_TRUE(VerifyWebhookSignature(webhook.secret, timestamp, request.body, request.headers.at("x-webhook-signature")))
      << request.headers.at("x-webhook-signature");
  EXPECT_EQ(request.headers.at("x-webhook-signature"), SignWebhookPayload(webhook.secret, timestamp, request.body));

  Result<json::Node> body = json::Parse(request.body, "delivered body");
  ASSERT_TRUE(body.ok()) << request.body;
  EXPECT_EQ(body->Find("type")->text(), kEventFiscalizationCompleted);
  EXPECT_EQ(body->Find("id")->text(), delivery.event_id);
  EXPECT_EQ(body->Find("data")->Find("total_amount")->text(), "8.00");
  EXPECT_EQ(body->Find("data")->Find("note")->text(), "Café");

  EXPECT_EQ(delivery.status, "delivered");
  EXPECT_EQ(delivery.attempt, 1);
  EXPECT_EQ(delivery.last_status_code.value_or(0), 200);
  EXPECT_FALSE(delivery.last_error.has_value());
  EXPECT_TRUE(delivery.delivered_at.has_value());
  EXPECT_FALSE(delivery.next_attempt_at.has_value());
  EXPECT_FALSE(sender.RunOnce());
}

TEST_F(WebhookSenderTest, RetriesAfterServerError) {
  Receiver receiver;
  receiver.Script({500});
  std::string account = NewAccount();
  WebhookRow webhook = NewWebhook(account, receiver.url());
  Enqueue(account);
  WebhookSender sender(*store_, options_);

  ASSERT_TRUE(sender.RunOnce());
  DeliveryRow failed = OnlyDelivery(webhook);
  EXPECT_EQ(failed.status, "failed");
  EXPECT_EQ(failed.attempt, 1);
  EXPECT_EQ(failed.last_status_code.value_or(0), 500);
  ASSERT_TRUE(failed.last_error.has_value());
  // The receiver's body is kept with its control byte replaced.
  EXPECT_EQ(*failed.last_error, "the receiver answered HTTP 500: receiver? failure");
  EXPECT_TRUE(failed.next_attempt_at.has_value());
  EXPECT_FALSE(failed.delivered_at.has_value());

  ASSERT_TRUE(sender.RunOnce());
  DeliveryRow delivered = OnlyDelivery(webhook);
  EXPECT_EQ(delivered.status, "delivered");
  EXPECT_EQ(delivered.attempt, 2);
  EXPECT_EQ(delivered.last_status_code.value_or(0), 200);
  EXPECT_FALSE(delivered.last_error.has_value());

  // Both attempts sent the same bytes, each with its own valid signature and the same id.
  std::vector<ReceivedRequest> requests = receiver.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].body, requests[1].body);
  EXPECT_EQ(requests[0].headers.at("x-webhook-id"), requests[1].headers.at("x-webhook-id"));
  for (const ReceivedRequest& request : requests) {
    EXPECT_TRUE(VerifyWebhookSignature(webhook.secret, std::stoll(request.headers.at("x-webhook-timestamp")),
                                       request.body, request.headers.at("x-webhook-signature")));
  }
}

TEST_F(WebhookSenderTest, DeadAfterMaxAttempts) {
  Receiver receiver(503);
  std::string account = NewAccount();
  WebhookRow webhook = NewWebhook(account, receiver.url());
  Enqueue(account);
  WebhookSender sender(*store_, options_);

  for (int attempt = 1; attempt <= 3; ++attempt) {
    ASSERT_TRUE(sender.RunOnce()) << "attempt " << attempt;
    DeliveryRow delivery = OnlyDelivery(webhook);
    EXPECT_EQ(delivery.attempt, attempt);
    EXPECT_EQ(delivery.status, attempt < 3 ? "failed" : "dead");
    EXPECT_EQ(delivery.last_status_code.value_or(0), 503);
  }

  EXPECT_FALSE(sender.RunOnce());
  DeliveryRow dead = OnlyDelivery(webhook);
  EXPECT_EQ(dead.max_attempts, 3);
  EXPECT_FALSE(dead.next_attempt_at.has_value());
  EXPECT_EQ(receiver.requests().size(), 3u);
}

TEST_F(WebhookSenderTest, ConnectionFailureIsRecorded) {
  int port = 0;
  {
    Receiver closed;  // takes a free port and releases it
    port = std::stoi(closed.url().substr(std::string("http://127.0.0.1:").size()));
  }
  std::string account = NewAccount();
  WebhookRow webhook = NewWebhook(account, "http://127.0.0.1:" + std::to_string(port) + "/hook");
  Enqueue(account);
  WebhookSender sender(*store_, options_);

  ASSERT_TRUE(sender.RunOnce());
  DeliveryRow delivery = OnlyDelivery(webhook);
  EXPECT_EQ(delivery.status, "failed");
  EXPECT_EQ(delivery.attempt, 1);
  EXPECT_FALSE(delivery.last_status_code.has_value());
  ASSERT_TRUE(delivery.last_error.has_value());
  EXPECT_NE(delivery.last_error->find("connect"), std::string::npos) << *delivery.last_error;
}

TEST_F(WebhookSenderTest, BlockedAddressIsNotContacted) {
  Receiver receiver;
  std::string account = NewAccount();
  WebhookRow webhook = NewWebhook(account, receiver.url());
  Enqueue(account);
  options_.address_policy.allow_loopback = false;
  WebhookSender sender(*store_, options_);

  ASSERT_TRUE(sender.RunOnce());
  DeliveryRow delivery = OnlyDelivery(webhook);
  EXPECT_EQ(delivery.status, "failed");
  ASSERT_TRUE(delivery.last_error.has_value());
  EXPECT_NE(delivery.last_error->find("private, link-local or reserved"), std::string::npos) << *delivery.last_error;
  EXPECT_TRUE(receiver.requests().empty());
}

TEST_F(WebhookSenderTest, ConcurrentSendersSendEachOnce) {
  Receiver receiver;
  std::string account = NewAccount();
  for (int i = 0; i < 4; ++i) NewWebhook(account, receiver.url());
  for (int i = 0; i < 5; ++i) Enqueue(account);  // 20 deliveries
  WebhookSender first(*store_, options_);
  WebhookSender second(*store_, options_);

  // Each sender stops when the queue is empty; 100 rounds bound the loop if something goes wrong.
  auto drain = [](WebhookSender& sender) {
    for (int round = 0; round < 100 && sender.RunOnce(); ++round) {
    }
  };
  std::thread one(drain, std::ref(first));
  std::thread two(drain, std::ref(second));
  one.join();
  two.join();

  std::vector<ReceivedRequest> requests = receiver.requests();
  std::set<std::string> ids;
  for (const ReceivedRequest& request : requests) ids.insert(request.headers.at("x-webhook-id"));
  EXPECT_EQ(requests.size(), 20u);
  EXPECT_EQ(ids.size(), 20u);
  soci::session session(soci::postgresql, connection_);
  long long delivered = 0;
  session << "SELECT count(*) FROM webhook_deliveries WHERE account_id = :a::uuid AND status = 'delivered' AND attempt = 1",
      soci::use(account), soci::into(delivered);
  EXPECT_EQ(delivered, 20);
}

TEST_F(WebhookSenderTest, WorkerThreadsDeliver) {
  Receiver receiver;
  std::string account = NewAccount();
  WebhookRow webhook = NewWebhook(account, receiver.url());
  options_.workers = 2;
  options_.poll_interval_ms = 50;
  WebhookSender sender(*store_, options_);
  sender.Start();

  Enqueue(account);
  sender.Notify();
  for (int i = 0; i < 100 && receiver.requests().empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  sender.Stop();

  EXPECT_EQ(receiver.requests().size(), 1u);
  EXPECT_EQ(OnlyDelivery(webhook).status, "delivered");
}

}  // namespace
}  // namespace fiscal::webhooks
