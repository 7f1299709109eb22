// HttpSender over libcurl: sends a plugin's request to its authority with server verification and,
// when configured, a client certificate.
#pragma once

#include <cstddef>
#include <cstdint>

#include "net/http_exchange.h"

namespace fiscal::net {

class HttpsClient : public HttpSender {
 public:
  struct Options {
    // A longer response body is dropped and reported as a transport error.
    size_t max_response_bytes = 32 * 1024 * 1024;
    // Upper bound for connection setup (TCP and TLS handshake), within the request's timeout.
    uint32_t max_connect_timeout_ms = 5000;
  };

  HttpsClient();
  explicit HttpsClient(Options options);

  // Sends `request` to `endpoint.url` and waits for the response or the request's timeout.
  // Thread-safe, because each call uses its own libcurl handle. Never throws: failures are
  // reported in HttpExchange.transport_error.
  HttpExchange Send(const EndpointConfig& endpoint, const HttpRequest& request) override;

 private:
  Options options_;
};

}  // namespace fiscal::net
