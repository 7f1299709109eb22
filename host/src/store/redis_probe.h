// Checks that the Redis server responds. Redis keeps state shared by host instances (rate limits
// and circuit breakers). The host serves without it and reports its state in /health.
#pragma once

#include <string>

#include "common/status.h"

namespace fiscal::store {

// Sends PING with a 500 ms connect and reply timeout. OK when the reply is PONG.
Status PingRedis(const std::string& host, int port);

}  // namespace fiscal::store
