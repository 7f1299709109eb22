// RedisClient: a thread-safe Redis client over hiredis with a small connection pool and
// timeouts, for state that host instances share (rate limits, circuit breakers).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"

struct redisContext;
struct redisReply;

namespace fiscal::redis {

// One Redis reply, copied out of hiredis so it outlives the connection.
struct RedisReply {
  enum class Type { kNil, kInteger, kString, kStatus, kError, kArray };

  Type type = Type::kNil;
  int64_t integer = 0;
  // Payload of a string, status or error reply.
  std::string text;
  std::vector<RedisReply> elements;

  bool is_nil() const { return type == Type::kNil; }
  bool is_error() const { return type == Type::kError; }
  bool is_integer() const { return type == Type::kInteger; }
  bool is_array() const { return type == Type::kArray; }
  // True for bulk strings and status replies such as "OK".
  bool is_text() const { return type == Type::kString || type == Type::kStatus; }
};

// A Lua script with its SHA-1, computed locally so that EVALSHA needs no prior SCRIPT LOAD.
class RedisScript {
 public:
  explicit RedisScript(std::string source);

  const std::string& source() const { return source_; }
  // Lowercase hex SHA-1 of the source, the name Redis gives the script.
  const std::string& sha1() const { return sha1_; }

 private:
  std::string source_;
  std::string sha1_;
};

struct RedisClientOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  // Sent with AUTH on every new connection when not empty. Never logged.
  std::string password;
  // Selected with SELECT on every new connection when not 0.
  int database = 0;

  // Bound for opening one TCP connection, including AUTH and SELECT.
  std::chrono::milliseconds connect_timeout{200};
  // Bound for a whole call: waiting for a pooled connection, connecting and the round trips.
  std::chrono::milliseconds command_timeout{200};
  // Connections open at once, idle or in use. A call waits for one up to command_timeout.
  size_t max_connections = 8;
  // After a failed connect, calls fail at once with kUnavailable for this long, so that an
  // unreachable server costs each caller nothing instead of a connect timeout.
  std::chrono::milliseconds retry_interval{500};
};

// Thread-safe: every call borrows a connection from the pool for its duration. Connections are
// opened lazily. A connection that fails (I/O error, timeout, closed by the server) is dropped
// together with all idle ones, and the next call opens a new one.
//
// Errors: kUnavailable when Redis cannot be reached, times out or the pool stays busy past the
// timeout. A Redis error reply (for example WRONGTYPE) is not a failure of the call: it comes back
// as a RedisReply of type kError.
//
// hiredis 0.14 writes with write(2), so a connection closed by the server raises SIGPIPE: the
// process must ignore SIGPIPE, as main.cc does.
class RedisClient {
 public:
  explicit RedisClient(RedisClientOptions options);
  // Callers must have returned from every call before the client is destroyed.
  ~RedisClient();

  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Sends one command, for example {"SET", "key", "value"}, and returns the reply. Arguments are
  // binary-safe. A command that failed on a reused connection before any reply is retried once on
  // a new connection, so a command may run twice if the server executed it and then closed the
  // connection: send only commands for which that is acceptable.
  Result<RedisReply> Command(const std::vector<std::string>& args);

  // Runs `script` with EVALSHA. When Redis does not have the script (NOSCRIPT, for example after
  // a restart), loads it with SCRIPT LOAD and runs EVALSHA again, within the same time bound.
  Result<RedisReply> EvalSha(const RedisScript& script, const std::vector<std::string>& keys,
                             const std::vector<std::string>& args);

  // Sends PING. OK when the reply is PONG.
  Status Ping();

  // True when the latest attempt to reach Redis succeeded. False before the first call and after
  // a connect, I/O or timeout failure.
  bool LastKnownHealthy() const;

  const RedisClientOptions& options() const { return options_; }

 private:
  using Clock = std::chrono::steady_clock;

  struct Connection {
    redisContext* context = nullptr;
    // Connections of an older generation are closed when returned to the pool.
    uint64_t generation = 0;
    bool reused = false;
    // Set by RoundTrip when the socket timeout expired, read before errno changes.
    bool timed_out = false;
  };

  enum class Health { kUnknown, kHealthy, kUnhealthy };

  Result<Connection> Acquire(Clock::time_point deadline);
  void Release(Connection connection, bool broken);
  Result<Connection> Connect(Clock::time_point deadline);
  // Sends one command on `connection`. A non-OK Status means the connection is broken.
  Result<RedisReply> RoundTrip(Connection& connection, const std::vector<std::string>& args,
                               Clock::time_point deadline);
  // Command() with a caller-given deadline, shared by the round trips of EvalSha().
  Result<RedisReply> CommandUntil(const std::vector<std::string>& args, Clock::time_point deadline);
  std::string Address() const;
  void MarkHealthy();
  void MarkUnhealthy(const Status& status, bool connect_failed);

  const RedisClientOptions options_;

  mutable std::mutex mutex_;
  std::condition_variable connection_returned_;
  std::vector<redisContext*> idle_;  // all of generation_
  size_t open_connections_ = 0;      // idle and in use
  uint64_t generation_ = 0;
  Health health_ = Health::kUnknown;
  // While unhealthy, one caller at a time tries to connect, and none before this time.
  Clock::time_point next_connect_attempt_{};
  bool connect_attempt_in_flight_ = false;
};

}  // namespace fiscal::redis
