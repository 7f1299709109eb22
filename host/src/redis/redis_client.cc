#include "redis/redis_client.h"

#include <hiredis/hiredis.h>
#include <openssl/sha.h>
#include <sys/time.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <utility>

#include "common/log.h"

namespace fiscal::redis {
namespace {

using Clock = std::chrono::steady_clock;

std::string Sha1Hex(const std::string& data) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);

  std::string hex;
  hex.reserve(2 * SHA_DIGEST_LENGTH);
  for (unsigned char byte : digest) {
    char pair[3];
    std::snprintf(pair, sizeof(pair), "%02x", byte);
    hex += pair;
  }
  return hex;
}

// Time left until `deadline`, at least 1 ms because a zero socket timeout means "wait forever".
timeval Remaining(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline - Clock::now());
  left = std::max(left, std::chrono::microseconds(1000));
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(left.count() / 1000000);
  tv.tv_usec = static_cast<suseconds_t>(left.count() % 1000000);
  return tv;
}

RedisReply CopyReply(const redisReply* reply) {
  RedisReply copy;
  switch (reply->type) {
    case REDIS_REPLY_INTEGER:
      copy.type = RedisReply::Type::kInteger;
      copy.integer = reply->integer;
      break;
    case REDIS_REPLY_STRING:
      copy.type = RedisReply::Type::kString;
      copy.text.assign(reply->str, reply->len);
      break;
    case REDIS_REPLY_STATUS:
      copy.type = RedisReply::Type::kStatus;
      copy.text.assign(reply->str, reply->len);
      break;
    case REDIS_REPLY_ERROR:
      copy.type = RedisReply::Type::kError;
      copy.text.assign(reply->str, reply->len);
      break;
    case REDIS_REPLY_ARRAY:
      copy.type = RedisReply::Type::kArray;
      copy.elements.reserve(reply->elements);
      for (size_t i = 0; i < reply->elements; ++i) copy.elements.push_back(CopyReply(reply->element[i]));
      break;
    default: copy.type = RedisReply::Type::kNil; break;
  }
  return copy;
}

// A hiredis I/O error caused by the socket timeout rather than by a closed connection.
bool IsTimeout(const redisContext* context) {
  return context->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK);
}

}  // namespace

RedisScript::RedisScript(std::string source) : source_(std::move(source)), sha1_(Sha1Hex(source_)) {}

RedisClient::RedisClient(RedisClientOptions options) : options_(std::move(options)) {}

RedisClient::~RedisClient() {
  for (redisContext* context : idle_) redisFree(context);
}

Result<RedisReply> RedisClient::Command(const std::vector<std::string>& args) {
  return CommandUntil(args, Clock::now() + options_.command_timeout);
}

Result<RedisReply> RedisClient::CommandUntil(const std::vector<std::string>& args,
                                             Clock::time_point deadline) {
  if (args.empty()) return Status::Internal("Redis command without arguments");

  // A reused connection may have been closed by the server while idle (restart, idle timeout),
  // so one failure on it earns a retry on a new connection. A timeout does not: the server may be
  // slow rather than gone, and the caller's time is spent.
  for (int attempt = 0; attempt < 2; ++attempt) {
    Result<Connection> connection = Acquire(deadline);
    if (!connection.ok()) return connection.status();

    bool reused = connection->reused;
    Result<RedisReply> reply = RoundTrip(*connection, args, deadline);
    bool timed_out = connection->timed_out;
    Release(std::move(*connection), !reply.ok());
    if (reply.ok()) {
      MarkHealthy();
      return reply;
    }

    // Health changes only on the final failure, so that a retry that succeeds logs nothing.
    bool retry = attempt == 0 && reused && !timed_out && Clock::now() < deadline;
    if (!retry) {
      MarkUnhealthy(reply.status(), /*connect_failed=*/false);
      return reply.status();
    }
  }
  return Status::Internal("unreachable: the second attempt always returns");
}

Result<RedisReply> RedisClient::EvalSha(const RedisScript& script, const std::vector<std::string>& keys,
                                        const std::vector<std::string>& args) {
  Clock::time_point deadline = Clock::now() + options_.command_timeout;

  std::vector<std::string> command;
  command.reserve(3 + keys.size() + args.size());
  command.push_back("EVALSHA");
  command.push_back(script.sha1());
  command.push_back(std::to_string(keys.size()));
  command.insert(command.end(), keys.begin(), keys.end());
  command.insert(command.end(), args.begin(), args.end());

  Result<RedisReply> reply = CommandUntil(command, deadline);
  if (!reply.ok()) return reply;
  if (!reply->is_error() || reply->text.rfind("NOSCRIPT", 0) != 0) return reply;

  // Redis lost its script cache (restart, SCRIPT FLUSH, failover): load the script and retry.
  Result<RedisReply> loaded = CommandUntil({"SCRIPT", "LOAD", script.source()}, deadline);
  if (!loaded.ok()) return loaded;
  if (loaded->is_error()) return Status::Internal("Redis rejected a Lua script: " + loaded->text);
  if (loaded->text != script.sha1()) {
    return Status::Internal("Redis named a loaded script " + loaded->text + ", expected " + script.sha1());
  }
  return CommandUntil(command, deadline);
}

Status RedisClient::Ping() {
  Result<RedisReply> reply = Command({"PING"});
  if (!reply.ok()) return reply.status();
  if (!reply->is_text() || reply->text != "PONG") {
    return Status::Unavailable("Redis replied to PING with '" + reply->text + "' instead of PONG");
  }
  return Status::Ok();
}

bool RedisClient::LastKnownHealthy() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return health_ == Health::kHealthy;
}

std::string RedisClient::Address() const { return options_.host + ":" + std::to_string(options_.port); }

Result<RedisClient::Connection> RedisClient::Acquire(Clock::time_point deadline) {
  bool probing = false;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    while (idle_.empty() && open_connections_ >= options_.max_connections) {
      if (connection_returned_.wait_until(lock, deadline) == std::cv_status::timeout) {
        return Status::Unavailable("timed out waiting for a free Redis connection");
      }
    }

    if (!idle_.empty()) {
      Connection connection;
      connection.context = idle_.back();
      connection.generation = generation_;
      connection.reused = true;
      idle_.pop_back();
      return connection;
    }

    // While Redis is known to be unreachable, one caller per retry interval tries to connect and
    // the others fail at once, so that an unreachable server does not cost each of them a
    // connect timeout.
    if (health_ == Health::kUnhealthy) {
      if (connect_attempt_in_flight_ || Clock::now() < next_connect_attempt_) {
        return Status::Unavailable("Redis unreachable at " + Address() + ", waiting to reconnect");
      }
      connect_attempt_in_flight_ = true;
      probing = true;
    }
    ++open_connections_;
  }

  // Connect outside the lock so that other callers can use idle connections meanwhile.
  Result<Connection> connection = Connect(deadline);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (probing) connect_attempt_in_flight_ = false;
    if (!connection.ok()) --open_connections_;
  }
  if (!connection.ok()) {
    connection_returned_.notify_one();
    MarkUnhealthy(connection.status(), /*connect_failed=*/true);
  }
  return connection;
}

void RedisClient::Release(Connection connection, bool broken) {
  redisContext* to_free = nullptr;
  std::vector<redisContext*> stale;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (broken) {
      // The other idle connections most likely share the failure (server restart, network),
      // so drop them all, and let connections now in use close when they come back.
      ++generation_;
      stale.swap(idle_);
      open_connections_ -= stale.size();
    }
    if (broken || connection.generation != generation_) {
      to_free = connection.context;
      --open_connections_;
    } else {
      idle_.push_back(connection.context);
    }
  }

  // Free outside the lock: redisFree closes a socket.
  if (to_free != nullptr) redisFree(to_free);
  for (redisContext* context : stale) redisFree(context);
  connection_returned_.notify_all();
}

Result<RedisClient::Connection> RedisClient::Connect(Clock::time_point deadline) {
  Clock::time_point connect_deadline = std::min(deadline, Clock::now() + options_.connect_timeout);
  std::string address = Address();

  // NOTE: hiredis resolves a host name with a blocking getaddrinfo that ignores the timeout, so
  // configure an IP address to keep the bound.
  redisContext* context =
      redisConnectWithTimeout(options_.host.c_str(), options_.port, Remaining(connect_deadline));
  if (context == nullptr) return Status::Unavailable("cannot allocate a Redis connection");
  if (context->err) {
    Status status = Status::Unavailable("cannot connect to Redis at " + address + ": " + context->errstr);
    redisFree(context);
    return status;
  }

  Connection connection;
  connection.context = context;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    connection.generation = generation_;
  }

  std::vector<std::vector<std::string>> setup;
  if (!options_.password.empty()) setup.push_back({"AUTH", options_.password});
  if (options_.database != 0) setup.push_back({"SELECT", std::to_string(options_.database)});
  for (const std::vector<std::string>& command : setup) {
    Result<RedisReply> reply = RoundTrip(connection, command, connect_deadline);
    if (reply.ok() && reply->is_error()) {
      reply = Status::Unavailable("Redis at " + address + " rejected " + command[0] + ": " + reply->text);
    }
    if (!reply.ok()) {
      redisFree(context);
      return reply.status();
    }
  }
  return connection;
}

Result<RedisReply> RedisClient::RoundTrip(Connection& connection, const std::vector<std::string>& args,
                                          Clock::time_point deadline) {
  redisContext* context = connection.context;
  if (redisSetTimeout(context, Remaining(deadline)) != REDIS_OK) {
    return Status::Unavailable(std::string("cannot set the Redis socket timeout: ") + context->errstr);
  }

  std::vector<const char*> argv;
  std::vector<size_t> argv_lengths;
  argv.reserve(args.size());
  argv_lengths.reserve(args.size());
  for (const std::string& arg : args) {
    argv.push_back(arg.data());
    argv_lengths.push_back(arg.size());
  }

  // hiredis 0.14 writes with write(2): a closed connection raises SIGPIPE, which the host ignores.
  // NOTE: the socket timeout bounds each read and write, not their sum. Replies of the commands
  // this host sends fit in one read.
  void* raw = redisCommandArgv(context, static_cast<int>(args.size()), argv.data(), argv_lengths.data());
  if (raw == nullptr) {
    connection.timed_out = IsTimeout(context);
    if (connection.timed_out) {
      return Status::Unavailable("Redis command " + args[0] + " timed out after " +
                                 std::to_string(options_.command_timeout.count()) + " ms");
    }
    return Status::Unavailable("Redis command " + args[0] + " failed: " + context->errstr);
  }

  redisReply* reply = static_cast<redisReply*>(raw);
  RedisReply copy = CopyReply(reply);
  freeReplyObject(reply);
  return copy;
}

void RedisClient::MarkHealthy() {
  Health previous;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    previous = health_;
    health_ = Health::kHealthy;
  }
  if (previous != Health::kHealthy) log::Info("redis reachable", {{"address", Address()}});
}

void RedisClient::MarkUnhealthy(const Status& status, bool connect_failed) {
  Health previous;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    previous = health_;
    health_ = Health::kUnhealthy;
    if (connect_failed) next_connect_attempt_ = Clock::now() + options_.retry_interval;
  }
  // Logged on the change only: while Redis stays down every call would log the same error.
  if (previous != Health::kUnhealthy) {
    log::Warning("redis unreachable", {{"address", Address()}, {"error", status.message()}});
  }
}

}  // namespace fiscal::redis
