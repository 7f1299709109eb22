// RateLimiter against the redis-server whose port is in FISCAL_TEST_REDIS_PORT (scripts/test.sh
// starts one), and against a closed loopback port for the local fallback.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "redis/rate_limiter.h"

namespace fiscal::redis {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// Returns a loopback port that nothing listens on: bound, read and released again.
int ClosedLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

// Tests that need no Redis: local buckets and configuration.
// A TCP forwarder from a loopback port to Redis. Stop() closes the port and every connection,
// which the client sees as Redis going down, and Start() brings it back on the same port.
class RedisProxy {
 public:
  explicit RedisProxy(int redis_port) : redis_port_(redis_port) {}
  ~RedisProxy() { Stop(); }

  bool Start() {
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    int reuse = 1;
    setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof(reuse));
    sockaddr_in address = Loopback(port_);
    if (bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) return false;
    socklen_t length = sizeof(address);
    getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    if (listen(listener_, 16) != 0) return false;

    stopping_ = false;
    threads_.emplace_back([this] { AcceptLoop(); });
    return true;
  }

  void Stop() {
    stopping_ = true;
    for (std::thread& thread : threads_) thread.join();
    threads_.clear();
    if (listener_ >= 0) close(listener_);
    listener_ = -1;
  }

  int port() const { return port_; }

 private:
  static sockaddr_in Loopback(int port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<uint16_t>(port));
    return address;
  }

  void AcceptLoop() {
    std::vector<std::thread> pumps;
    while (!stopping_) {
      pollfd ready{listener_, POLLIN, 0};
      if (poll(&ready, 1, 20) <= 0) continue;
      int client = accept(listener_, nullptr, nullptr);
      if (client < 0) continue;
      pumps.emplace_back([this, client] { Pump(client); });
    }
    for (std::thread& pump : pumps) pump.join();
  }

  // Copies bytes both ways until either side closes or Stop() is called.
  void Pump(int client) {
    int server = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address = Loopback(redis_port_);
    if (connect(server, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
      pollfd fds[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
      char buffer[16384];
      bool open = true;
      while (open && !stopping_) {
        if (poll(fds, 2, 20) <= 0) continue;
        for (int i = 0; i < 2 && open; ++i) {
          if (fds[i].revents == 0) continue;
          ssize_t size = read(fds[i].fd, buffer, sizeof(buffer));
          open = size > 0 && write(fds[1 - i].fd, buffer, static_cast<size_t>(size)) == size;
        }
      }
    }
    close(server);
    close(client);
  }

  const int redis_port_;
  int port_ = 0;
  int listener_ = -1;
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> threads_;
};

class RateLimiterLocalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // 60 per minute refills one token per second; burst 2 lets two requests through at once.
    config_.tiers["tiny"] = {60, 2};
    // 600 per minute refills one token every 100 ms.
    config_.tiers["fast"] = {600, 1};
    // 6 per minute refills one token every 10 s, longer than any test.
    config_.tiers["slow"] = {6, 1};
  }

  RedisClientOptions options_;
  RateLimitConfig config_;
};

class RateLimiterTest : public RateLimiterLocalTest {
 protected:
  void SetUp() override {
    const char* port = std::getenv("FISCAL_TEST_REDIS_PORT");
    if (port == nullptr)
      GTEST_SKIP() << "FISCAL_TEST_REDIS_PORT is not set; scripts/test.sh starts Redis and sets it";
    RateLimiterLocalTest::SetUp();

    redis_port_ = std::atoi(port);
    options_.port = redis_port_;
    // A slow CI machine must not turn into degraded decisions.
    options_.command_timeout = milliseconds(1000);
    config_.key_prefix = "fiscal-test:" + std::to_string(getpid()) + ":" +
                         ::testing::UnitTest::GetInstance()->current_test_info()->name() + ":rate_limit:";
  }

  void TearDown() override {
    if (redis_port_ == 0) return;
    RedisClientOptions cleaner_options;
    cleaner_options.port = redis_port_;
    RedisClient cleaner(cleaner_options);
    Result<RedisReply> keys = cleaner.Command({"KEYS", config_.key_prefix + "*"});
    if (!keys.ok()) return;
    for (const RedisReply& key : keys->elements) cleaner.Command({"DEL", key.text});
  }

  std::shared_ptr<RedisClient> NewClient() { return std::make_shared<RedisClient>(options_); }

  int redis_port_ = 0;
};

TEST_F(RateLimiterLocalTest, DefaultTiersAreValid) {
  RateLimitConfig defaults;

  EXPECT_TRUE(defaults.Validate().ok());
  EXPECT_EQ(defaults.tiers.at("sandbox").requests_per_minute, 100);
  EXPECT_EQ(defaults.tiers.at("sandbox").burst, 200);
  EXPECT_EQ(defaults.tiers.at("starter").requests_per_minute, 1000);
  EXPECT_EQ(defaults.tiers.at("starter").burst, 2000);
  EXPECT_EQ(defaults.tiers.at("growth").requests_per_minute, 5000);
  EXPECT_EQ(defaults.tiers.at("growth").burst, 10000);
  EXPECT_EQ(defaults.tiers.at("enterprise").requests_per_minute, 20000);
  EXPECT_EQ(defaults.tiers.at("enterprise").burst, 40000);
}

TEST_F(RateLimiterLocalTest, ValidateRejectsBadTiers) {
  RateLimitConfig zero_rate;
  zero_rate.tiers["broken"] = {0, 10};
  EXPECT_EQ(zero_rate.Validate().field(), "rate_limits.tiers.broken.requests_per_minute");

  RateLimitConfig zero_burst;
  zero_burst.tiers["broken"] = {10, 0};
  EXPECT_EQ(zero_burst.Validate().field(), "rate_limits.tiers.broken.burst");

  RateLimitConfig missing_fallback;
  missing_fallback.fallback_tier = "free";
  EXPECT_EQ(missing_fallback.Validate().field(), "rate_limits.fallback_tier");
}

TEST_F(RateLimiterTest, AllowsBurstThenDenies) {
  RateLimiter limiter(NewClient(), config_);

  RateLimitDecision first = limiter.Check("key-1", "tiny");
  RateLimitDecision second = limiter.Check("key-1", "tiny");
  RateLimitDecision third = limiter.Check("key-1", "tiny");

  EXPECT_TRUE(first.allowed);
  EXPECT_TRUE(second.allowed);
  EXPECT_FALSE(third.allowed);
  EXPECT_GE(third.retry_after_seconds, 1);
  EXPECT_LE(third.retry_after_seconds, 1);  // one token per second
  EXPECT_EQ(third.remaining, 0);
  EXPECT_FALSE(third.degraded);
  EXPECT_FALSE(limiter.degraded());
}

TEST_F(RateLimiterTest, BucketsAreSeparatePerKey) {
  RateLimiter limiter(NewClient(), config_);

  EXPECT_TRUE(limiter.Check("key-1", "fast").allowed);
  EXPECT_FALSE(limiter.Check("key-1", "fast").allowed);

  EXPECT_TRUE(limiter.Check("key-2", "fast").allowed);
}

TEST_F(RateLimiterTest, RefillsOverTime) {
  RateLimiter limiter(NewClient(), config_);
  ASSERT_TRUE(limiter.Check("key-1", "fast").allowed);
  ASSERT_FALSE(limiter.Check("key-1", "fast").allowed);

  // One token every 100 ms: poll for up to 2 s, so a slow machine cannot make this flaky.
  Clock::time_point start = Clock::now();
  bool allowed_again = false;
  while (!allowed_again && Clock::now() - start < std::chrono::seconds(2)) {
    std::this_thread::sleep_for(milliseconds(30));
    allowed_again = limiter.Check("key-1", "fast").allowed;
  }
  auto waited = Clock::now() - start;

  EXPECT_TRUE(allowed_again);
  EXPECT_GE(waited, milliseconds(60));
}

TEST_F(RateLimiterTest, TwoInstancesShareOneBucket) {
  // Two limiters with their own connections stand for two host instances.
  RateLimiter first(NewClient(), config_);
  RateLimiter second(NewClient(), config_);

  EXPECT_TRUE(first.Check("shared", "tiny").allowed);
  EXPECT_TRUE(second.Check("shared", "tiny").allowed);
  EXPECT_FALSE(first.Check("shared", "tiny").allowed);
  EXPECT_FALSE(second.Check("shared", "tiny").allowed);
}

TEST_F(RateLimiterTest, ConcurrentChecksTakeExactlyBurst) {
  // 6 per minute adds one token every 10 s, so no token appears while the test runs.
  config_.tiers["slow"] = {6, 50};
  RateLimiter first(NewClient(), config_);
  RateLimiter second(NewClient(), config_);
  constexpr int kThreads = 8;
  constexpr int kChecksPerThread = 20;
  std::atomic<int> allowed{0};
  std::atomic<int> degraded{0};

  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    RateLimiter& limiter = t % 2 == 0 ? first : second;
    threads.emplace_back([&limiter, &allowed, &degraded] {
      for (int i = 0; i < kChecksPerThread; ++i) {
        RateLimitDecision decision = limiter.Check("shared", "slow");
        if (decision.allowed) ++allowed;
        if (decision.degraded) ++degraded;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  EXPECT_EQ(degraded.load(), 0);
  EXPECT_EQ(allowed.load(), 50);
}

TEST_F(RateLimiterTest, HeaderValuesAreConsistent) {
  config_.tiers["tiny"] = {60, 5};
  RateLimiter limiter(NewClient(), config_);
  int64_t now = std::time(nullptr);

  RateLimitDecision first = limiter.Check("key-1", "tiny");
  RateLimitDecision second = limiter.Check("key-1", "tiny");

  EXPECT_EQ(first.limit, 60);
  EXPECT_EQ(first.remaining, 4);
  EXPECT_EQ(second.remaining, 3);
  EXPECT_EQ(first.retry_after_seconds, 0);
  // Two tokens missing at one per second: full again in about 2 s. The margin covers rounding up
  // and a Redis clock a second away from this one.
  EXPECT_GE(second.reset_unix, now + 1);
  EXPECT_LE(second.reset_unix, now + 4);
}

TEST_F(RateLimiterTest, UnknownTierUsesSandbox) {
  RateLimiter limiter(NewClient(), config_);

  RateLimitDecision decision = limiter.Check("key-1", "no-such-tier");

  EXPECT_TRUE(decision.allowed);
  EXPECT_EQ(decision.limit, 100);
  EXPECT_EQ(decision.remaining, 199);
}

TEST_F(RateLimiterTest, BucketKeyExpires) {
  auto client = NewClient();
  RateLimiter limiter(client, config_);

  limiter.Check("key-1", "tiny");
  Result<RedisReply> ttl = client->Command({"PTTL", config_.key_prefix + "key-1"});

  ASSERT_TRUE(ttl.ok()) << ttl.status().ToString();
  // One token missing refills in 1 s, and the key lives 1 s past full.
  EXPECT_GT(ttl->integer, 0);
  EXPECT_LE(ttl->integer, 2000);
}

TEST_F(RateLimiterTest, ReturnsToRedisAfterOutage) {
  RedisProxy proxy(redis_port_);
  ASSERT_TRUE(proxy.Start());
  options_.port = proxy.port();
  options_.retry_interval = milliseconds(50);
  RateLimiter limiter(NewClient(), config_);
  ASSERT_FALSE(limiter.Check("key-1", "slow").degraded);

  proxy.Stop();
  RateLimitDecision during_outage = limiter.Check("key-1", "slow");
  EXPECT_TRUE(during_outage.degraded);
  EXPECT_TRUE(during_outage.allowed);
  EXPECT_TRUE(limiter.degraded());

  // The client waits retry_interval before it connects again: poll for up to 2 s.
  ASSERT_TRUE(proxy.Start());
  Clock::time_point start = Clock::now();
  RateLimitDecision after_outage = limiter.Check("key-1", "slow");
  while (after_outage.degraded && Clock::now() - start < std::chrono::seconds(2)) {
    std::this_thread::sleep_for(milliseconds(20));
    after_outage = limiter.Check("key-1", "slow");
  }

  EXPECT_FALSE(after_outage.degraded);
  EXPECT_FALSE(limiter.degraded());
  // The Redis bucket is still empty from before the outage, whatever the local bucket allowed.
  EXPECT_FALSE(after_outage.allowed);
}

TEST_F(RateLimiterLocalTest, UnreachableRedisUsesLocalBucket) {
  options_.port = ClosedLoopbackPort();
  options_.command_timeout = milliseconds(200);
  RateLimiter limiter(std::make_shared<RedisClient>(options_), config_);

  Clock::time_point start = Clock::now();
  RateLimitDecision first = limiter.Check("key-1", "tiny");
  RateLimitDecision second = limiter.Check("key-1", "tiny");
  RateLimitDecision third = limiter.Check("key-1", "tiny");
  auto elapsed = Clock::now() - start;

  EXPECT_TRUE(first.allowed);
  EXPECT_TRUE(first.degraded);
  EXPECT_TRUE(second.allowed);
  EXPECT_FALSE(third.allowed);
  EXPECT_TRUE(third.degraded);
  EXPECT_GE(third.retry_after_seconds, 1);
  EXPECT_EQ(third.limit, 60);
  EXPECT_TRUE(limiter.degraded());
  // Generous bound: the point is that nothing hangs.
  EXPECT_LT(elapsed, std::chrono::seconds(1));
}

TEST_F(RateLimiterLocalTest, LocalBucketRefills) {
  RateLimiter limiter(nullptr, config_);
  ASSERT_TRUE(limiter.Check("key-1", "fast").allowed);
  ASSERT_FALSE(limiter.Check("key-1", "fast").allowed);

  Clock::time_point start = Clock::now();
  bool allowed_again = false;
  while (!allowed_again && Clock::now() - start < std::chrono::seconds(2)) {
    std::this_thread::sleep_for(milliseconds(30));
    allowed_again = limiter.Check("key-1", "fast").allowed;
  }

  EXPECT_TRUE(allowed_again);
  EXPECT_TRUE(limiter.degraded());
}

TEST_F(RateLimiterLocalTest, LocalBucketCountIsBounded) {
  config_.max_local_buckets = 2;
  RateLimiter limiter(nullptr, config_);

  ASSERT_TRUE(limiter.Check("key-1", "slow").allowed);
  ASSERT_TRUE(limiter.Check("key-2", "slow").allowed);
  ASSERT_TRUE(limiter.Check("key-3", "slow").allowed);

  // key-1 was the least recently used bucket, dropped for key-3, so it starts full again.
  EXPECT_TRUE(limiter.Check("key-1", "slow").allowed);
  EXPECT_FALSE(limiter.Check("key-3", "slow").allowed);
}

}  // namespace
}  // namespace fiscal::redis
