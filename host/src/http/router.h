// Routes requests to handlers by method and path pattern ("/v1/transactions/:id/cancel").
//
// The host does not use Pistache's Rest::Router: in Pistache 0.0.5 its route lookup inserts into a
// shared map from several reactor threads at once (a data race), and its own 404/405 responses are
// plain text. This router is built once before the server starts and is read-only afterwards, so
// concurrent lookups are safe, and every answer it produces uses the API's JSON error shape.
#pragma once

#include <string>
#include <vector>

#include "http/http_types.h"

namespace fiscal::http {

// A step that runs around every request: it may respond by itself (maintenance mode, rate limit)
// or call `next` and adjust the response (rate-limit headers). Must not throw.
using Middleware = std::function<Response(Request& request, const Handler& next)>;

class Router {
 public:
  // Registers a route. Must be called before the server starts; the table is immutable afterwards.
  void Add(const std::string& method, const std::string& pattern, Handler handler);

  // Adds a middleware; the first added runs outermost. Must be called before the server starts.
  void Use(Middleware middleware);

  // Finds the handler for the request and fills request.path_params. Returns 404 for an unknown
  // path and 405 (with an Allow header) for a known path with another method.
  Response Dispatch(Request& request) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;  // ":name" segments capture a parameter
    Handler handler;
  };

  Response RouteRequest(Request& request) const;
  static std::vector<std::string> Split(const std::string& path);
  static bool Match(const Route& route, const std::vector<std::string>& segments,
                    std::map<std::string, std::string>& params);

  std::vector<Route> routes_;
  std::vector<Middleware> middlewares_;
};

}  // namespace fiscal::http
