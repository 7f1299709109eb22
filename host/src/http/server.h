// The HTTP server: Pistache 0.0.5 (Debian 12) behind a thin adapter.
//
// The adapter works around four defects of that Pistache release, each covered by a test in
// tests/unit/http_server_test.cc:
//   1. Request size: Pistache's default limit is 4096 bytes for headers and body together. The
//      server raises it and enforces the API's own body limit with a JSON 413.
//   2. Keep-alive: Pistache responds with "Connection: Close" to every HTTP/1.1 request that has no
//      Connection header, although HTTP/1.1 connections are persistent by default. The adapter
//      rewrites the header so such connections stay open.
//   3. Exception text: Pistache turns an escaping std::exception into a 500 whose body is
//      e.what(). The adapter catches everything and answers the JSON error shape with a request id
//      only, so no internal detail leaks.
//   4. Router data race: Pistache's Rest::Router is not used (see http/router.h).
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "http/router.h"

namespace Pistache::Http {
class Endpoint;
}

namespace fiscal::http {

struct ServerOptions {
  std::string address = "127.0.0.1";
  int port = 8080;  // 0 picks a free port
  int threads = 8;
  size_t max_body_bytes = 1024 * 1024;
};

class Server {
 public:
  Server(ServerOptions options, std::shared_ptr<const Router> router);
  ~Server();

  // Binds and starts serving on background threads. Throws std::runtime_error when the address
  // cannot be bound (a start-up error).
  void Start();
  // Stops accepting and joins the server threads.
  void Stop();
  // The bound port (useful with port 0).
  int port() const;

  // Runs one request through the adapter's checks and the router; the Pistache handler calls it,
  // and tests call it directly. Never throws.
  Response Handle(Request& request) const;

 private:
  ServerOptions options_;
  std::shared_ptr<const Router> router_;
  std::unique_ptr<Pistache::Http::Endpoint> endpoint_;
  bool started_ = false;
};

// Returns a new random request id (16 lower-case hex characters).
std::string NewRequestId();

}  // namespace fiscal::http
