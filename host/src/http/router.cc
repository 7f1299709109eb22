#include "http/router.h"

namespace fiscal::http {

void Router::Add(const std::string& method, const std::string& pattern, Handler handler) {
  routes_.push_back(Route{method, Split(pattern), std::move(handler)});
}

std::vector<std::string> Router::Split(const std::string& path) {
  std::vector<std::string> segments;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    if (end > start) segments.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return segments;
}

bool Router::Match(const Route& route, const std::vector<std::string>& segments,
                   std::map<std::string, std::string>& params) {
  if (route.segments.size() != segments.size()) return false;
  std::map<std::string, std::string> captured;
  for (size_t i = 0; i < segments.size(); ++i) {
    const std::string& expected = route.segments[i];
    if (!expected.empty() && expected[0] == ':') {
      captured[expected.substr(1)] = segments[i];
    } else if (expected != segments[i]) {
      return false;
    }
  }
  params = std::move(captured);
  return true;
}

void Router::Use(Middleware middleware) { middlewares_.push_back(std::move(middleware)); }

Response Router::Dispatch(Request& request) const {
  // Build the chain from the innermost step (routing) outwards.
  Handler next = [this](Request& inner) { return RouteRequest(inner); };
  for (auto it = middlewares_.rbegin(); it != middlewares_.rend(); ++it) {
    next = [middleware = &*it, next](Request& inner) { return (*middleware)(inner, next); };
  }
  return next(request);
}

Response Router::RouteRequest(Request& request) const {
  std::vector<std::string> segments = Split(request.path);
  std::string allowed;
  for (const Route& route : routes_) {
    std::map<std::string, std::string> params;
    if (!Match(route, segments, params)) continue;
    if (route.method == request.method) {
      request.path_params = std::move(params);
      return route.handler(request);
    }
    if (allowed.find(route.method) == std::string::npos) allowed += (allowed.empty() ? "" : ", ") + route.method;
  }

  if (!allowed.empty()) {
    Response response = ErrorResponse(Status(StatusCode::kInvalidArgument, "method_not_allowed",
                                             "method " + request.method + " is not allowed on " + request.path +
                                                 "; allowed: " + allowed));
    response.status = 405;
    response.headers.emplace_back("Allow", allowed);
    return response;
  }
  return ErrorResponse(Status::NotFound("no API route matches " + request.method + " " + request.path +
                                        "; see the API reference in docs/api.md"));
}

}  // namespace fiscal::http
