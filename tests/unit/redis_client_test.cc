// RedisClient against the redis-server whose port is in FISCAL_TEST_REDIS_PORT (scripts/test.sh
// starts one), and against a closed loopback port for the failure cases.
#include "redis/redis_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

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

class RedisClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* port = std::getenv("FISCAL_TEST_REDIS_PORT");
    if (port == nullptr)
      GTEST_SKIP() << "FISCAL_TEST_REDIS_PORT is not set; scripts/test.sh starts Redis and sets it";
    // A connection closed by the server raises SIGPIPE on the next write; the host ignores it too.
    std::signal(SIGPIPE, SIG_IGN);

    options_.port = std::atoi(port);
    prefix_ = "fiscal-test:" + std::to_string(getpid()) + ":" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name() + ":";
  }

  void TearDown() override {
    if (prefix_.empty()) return;
    RedisClient cleaner(options_);
    Result<RedisReply> keys = cleaner.Command({"KEYS", prefix_ + "*"});
    if (!keys.ok()) return;
    for (const RedisReply& key : keys->elements) cleaner.Command({"DEL", key.text});
  }

  RedisClientOptions options_;
  std::string prefix_;
};

TEST_F(RedisClientTest, CommandReturnsEachReplyType) {
  RedisClient client(options_);

  Result<RedisReply> set = client.Command({"SET", prefix_ + "text", "value"});
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ(set->type, RedisReply::Type::kStatus);
  EXPECT_EQ(set->text, "OK");

  Result<RedisReply> get = client.Command({"GET", prefix_ + "text"});
  ASSERT_TRUE(get.ok()) << get.status().ToString();
  EXPECT_EQ(get->type, RedisReply::Type::kString);
  EXPECT_EQ(get->text, "value");

  Result<RedisReply> missing = client.Command({"GET", prefix_ + "missing"});
  ASSERT_TRUE(missing.ok()) << missing.status().ToString();
  EXPECT_TRUE(missing->is_nil());

  Result<RedisReply> counter = client.Command({"INCRBY", prefix_ + "counter", "41"});
  ASSERT_TRUE(counter.ok()) << counter.status().ToString();
  EXPECT_TRUE(counter->is_integer());
  EXPECT_EQ(counter->integer, 41);

  ASSERT_TRUE(client.Command({"RPUSH", prefix_ + "list", "a", "b"}).ok());
  Result<RedisReply> list = client.Command({"LRANGE", prefix_ + "list", "0", "-1"});
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_TRUE(list->is_array());
  ASSERT_EQ(list->elements.size(), 2u);
  EXPECT_EQ(list->elements[0].text, "a");
  EXPECT_EQ(list->elements[1].text, "b");

  EXPECT_TRUE(client.LastKnownHealthy());
}

TEST_F(RedisClientTest, ErrorReplyIsAValueNotAFailure) {
  RedisClient client(options_);
  ASSERT_TRUE(client.Command({"SET", prefix_ + "text", "value"}).ok());

  Result<RedisReply> reply = client.Command({"LPUSH", prefix_ + "text", "x"});

  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_TRUE(reply->is_error());
  EXPECT_EQ(reply->text.rfind("WRONGTYPE", 0), 0u) << reply->text;
  EXPECT_TRUE(client.LastKnownHealthy());
}

TEST_F(RedisClientTest, ArgumentsAreBinarySafe) {
  RedisClient client(options_);
  std::string value("a\0b\r\nc", 6);

  ASSERT_TRUE(client.Command({"SET", prefix_ + "binary", value}).ok());
  Result<RedisReply> get = client.Command({"GET", prefix_ + "binary"});

  ASSERT_TRUE(get.ok()) << get.status().ToString();
  EXPECT_EQ(get->text, value);
}

TEST_F(RedisClientTest, PingSucceeds) {
  RedisClient client(options_);
  EXPECT_FALSE(client.LastKnownHealthy());

  Status status = client.Ping();

  EXPECT_TRUE(status.ok()) << status.ToString();
  EXPECT_TRUE(client.LastKnownHealthy());
}

TEST_F(RedisClientTest, EvalShaLoadsScriptAfterFlush) {
  RedisClient client(options_);
  RedisScript script("return {KEYS[1], ARGV[1], 'v3'}");

  // SCRIPT FLUSH empties the script cache as a Redis restart does, so EVALSHA gets NOSCRIPT first.
  ASSERT_TRUE(client.Command({"SCRIPT", "FLUSH"}).ok());
  Result<RedisReply> reply = client.EvalSha(script, {prefix_ + "key"}, {"argument"});

  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  ASSERT_TRUE(reply->is_array()) << reply->text;
  ASSERT_EQ(reply->elements.size(), 3u);
  EXPECT_EQ(reply->elements[0].text, prefix_ + "key");
  EXPECT_EQ(reply->elements[1].text, "argument");

  Result<RedisReply> exists = client.Command({"SCRIPT", "EXISTS", script.sha1()});
  ASSERT_TRUE(exists.ok());
  ASSERT_EQ(exists->elements.size(), 1u);
  EXPECT_EQ(exists->elements[0].integer, 1);
}

TEST_F(RedisClientTest, EvalShaReturnsScriptError) {
  RedisClient client(options_);
  RedisScript script("return redis.error_reply('BROKEN on purpose')");

  Result<RedisReply> reply = client.EvalSha(script, {}, {});

  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_TRUE(reply->is_error());
  EXPECT_NE(reply->text.find("BROKEN on purpose"), std::string::npos) << reply->text;
}

TEST(RedisClientLocalTest, ScriptSha1IsLowercaseHex) {
  // SHA-1 of the empty string, a published test vector.
  EXPECT_EQ(RedisScript("").sha1(), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
}

TEST_F(RedisClientTest, ScriptSha1MatchesRedis) {
  RedisClient client(options_);
  RedisScript script("return 1");

  Result<RedisReply> loaded = client.Command({"SCRIPT", "LOAD", script.source()});

  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->text, script.sha1());
}

TEST(RedisClientLocalTest, UnreachableServerFailsFast) {
  RedisClientOptions options;
  options.port = ClosedLoopbackPort();
  RedisClient client(options);

  Clock::time_point start = Clock::now();
  Result<RedisReply> first = client.Command({"PING"});
  Result<RedisReply> second = client.Command({"PING"});
  Status ping = client.Ping();
  auto elapsed = Clock::now() - start;

  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(ping.code(), StatusCode::kUnavailable);
  EXPECT_FALSE(client.LastKnownHealthy());
  // Generous bound: the point is that nothing hangs.
  EXPECT_LT(elapsed, std::chrono::seconds(1));
}

TEST_F(RedisClientTest, SlowCommandTimesOutAndConnectionRecovers) {
  options_.command_timeout = milliseconds(100);
  RedisClient client(options_);

  // BLPOP on an empty list waits 2 s on the server, far past the 100 ms command timeout.
  Clock::time_point start = Clock::now();
  Result<RedisReply> blocked = client.Command({"BLPOP", prefix_ + "empty", "2"});
  auto elapsed = Clock::now() - start;

  ASSERT_FALSE(blocked.ok());
  EXPECT_EQ(blocked.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(blocked.status().message().find("timed out"), std::string::npos) << blocked.status().message();
  EXPECT_LT(elapsed, std::chrono::seconds(1));

  // The timed-out connection was dropped, so its late BLPOP reply cannot reach the next caller.
  Result<RedisReply> after = client.Command({"ECHO", "after"});
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->text, "after");
}

TEST_F(RedisClientTest, ReconnectsAfterServerClosesConnection) {
  options_.max_connections = 1;
  RedisClient client(options_);
  Result<RedisReply> id = client.Command({"CLIENT", "ID"});
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  ASSERT_TRUE(id->is_integer());

  // Another client closes the pooled connection on the server side, as a restart would.
  RedisClient killer(options_);
  Result<RedisReply> killed = killer.Command({"CLIENT", "KILL", "ID", std::to_string(id->integer)});
  ASSERT_TRUE(killed.ok()) << killed.status().ToString();
  ASSERT_EQ(killed->integer, 1);

  Result<RedisReply> after = client.Command({"ECHO", "after"});
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->text, "after");
}

TEST_F(RedisClientTest, ConcurrentCallersShareSmallPool) {
  options_.max_connections = 2;
  options_.command_timeout = milliseconds(2000);
  RedisClient client(options_);
  constexpr int kThreads = 8;
  constexpr int kIncrementsPerThread = 100;
  std::atomic<int> failures{0};

  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIncrementsPerThread; ++i) {
        if (!client.Command({"INCR", prefix_ + "counter"}).ok()) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  EXPECT_EQ(failures.load(), 0);
  Result<RedisReply> total = client.Command({"GET", prefix_ + "counter"});
  ASSERT_TRUE(total.ok());
  EXPECT_EQ(total->text, std::to_string(kThreads * kIncrementsPerThread));
}

TEST(RedisClientLocalTest, EmptyCommandIsRejected) {
  RedisClient client(RedisClientOptions{});

  Result<RedisReply> reply = client.Command({});

  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace fiscal::redis
