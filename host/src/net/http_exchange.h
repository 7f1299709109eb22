// Requests the host sends to an authority for a plugin, and their responses. Kept free of libcurl so
// that the plugin layer and tests do not depend on the transport.
#pragma once

#include <cstdint>
#include <string>

namespace fiscal::net {

// Where a logical endpoint ("verifactu") of one plugin points for one environment. Certificates and
// keys are file paths read by the transport; they never reach a plugin.
struct EndpointConfig {
  std::string url;
  std::string ca_file;      // PEM bundle that signs the authority's server certificate
  std::string client_cert;  // PEM client certificate (mutual TLS), may be empty
  std::string client_key;   // PEM private key of client_cert, may be empty
  uint32_t timeout_ms = 0;  // upper bound for one exchange, 0 = the plugin's own value
};

struct HttpRequest {
  std::string method = "POST";
  std::string content_type;
  std::string extra_headers;  // "Name: value" lines separated by '\n'
  std::string body;
  uint32_t timeout_ms = 10000;
};

struct HttpExchange {
  int status_code = 0;          // 0 when no response arrived
  std::string body;
  std::string content_type;
  std::string transport_error;  // empty when a response arrived
  bool timed_out = false;
};

// Sends one request to an endpoint. Implementations must be thread-safe.
class HttpSender {
 public:
  virtual ~HttpSender() = default;
  virtual HttpExchange Send(const EndpointConfig& endpoint, const HttpRequest& request) = 0;
};

}  // namespace fiscal::net
