#include "http/http_types.h"

#include "common/json.h"

namespace fiscal::http {

int HttpStatusFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kUnauthenticated: return 401;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kConflict: return 409;
    case StatusCode::kPayloadTooLarge: return 413;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kInternal: return 500;
  }
  return 500;
}

Response ErrorResponse(const Status& status) {
  std::string body = "{\"error\":" + json::Quote(status.message()) + ",\"code\":" + json::Quote(status.error_code());
  if (!status.field().empty()) body += ",\"field\":" + json::Quote(status.field());
  body += "}";
  Response response = Response::Json(HttpStatusFor(status), std::move(body));
  if (status.code() == StatusCode::kUnavailable) response.headers.emplace_back("Retry-After", "5");
  return response;
}

}  // namespace fiscal::http
