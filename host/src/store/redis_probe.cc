#include "store/redis_probe.h"

#include <hiredis/hiredis.h>

#include <memory>

namespace fiscal::store {

Status PingRedis(const std::string& host, int port) {
  timeval timeout{0, 500 * 1000};
  std::unique_ptr<redisContext, decltype(&redisFree)> context(redisConnectWithTimeout(host.c_str(), port, timeout),
                                                              &redisFree);
  if (!context) return Status::Unavailable("cannot allocate a Redis connection");
  if (context->err) return Status::Unavailable(std::string("Redis unreachable: ") + context->errstr);
  redisSetTimeout(context.get(), timeout);

  std::unique_ptr<redisReply, decltype(&freeReplyObject)> reply(
      static_cast<redisReply*>(redisCommand(context.get(), "PING")), &freeReplyObject);
  if (!reply) return Status::Unavailable(std::string("Redis did not answer PING: ") + context->errstr);
  if (reply->type != REDIS_REPLY_STATUS || std::string(reply->str, reply->len) != "PONG") {
    return Status::Unavailable("Redis answered PING with something other than PONG");
  }
  return Status::Ok();
}

}  // namespace fiscal::store
