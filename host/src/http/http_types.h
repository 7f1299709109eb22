// The host's own request and response types. Handlers see only these, never Pistache types, so
// they can be tested without a socket and the HTTP library can be replaced in one place.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace fiscal::http {

struct Request {
  std::string method;  // upper case, e.g. "POST"
  std::string path;    // without the query string
  std::map<std::string, std::string> query;
  std::map<std::string, std::string> headers;  // names in lower case
  std::map<std::string, std::string> path_params;
  std::string body;
  std::string request_id;

  // Returns the header value or "" (name in lower case).
  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
  std::string Query(const std::string& name) const {
    auto it = query.find(name);
    return it == query.end() ? std::string() : it->second;
  }
  std::string Param(const std::string& name) const {
    auto it = path_params.find(name);
    return it == path_params.end() ? std::string() : it->second;
  }
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  static Response Json(int status, std::string body) {
    Response response;
    response.status = status;
    response.body = std::move(body);
    return response;
  }
};

// Maps a Status to its HTTP status code.
int HttpStatusFor(const Status& status);

// The one error body shape of the API:
//   {"error": "<human message>", "code": "<machine code>", "field": "<input path>"}
// "field" appears only for invalid input. "error" stays a flat string for clients written against
// the Zyntem v1 API.
Response ErrorResponse(const Status& status);

using Handler = std::function<Response(Request&)>;

}  // namespace fiscal::http
