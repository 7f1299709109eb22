#include "http/server.h"

#include <chrono>
#include <random>
#include <sstream>

#include <pistache/endpoint.h>
#include <pistache/http.h>

#include "common/log.h"

namespace fiscal::http {
namespace {

namespace P = Pistache;

// Pistache buffers up to this many bytes per request before returning its own plain-text 413. It
// is set well above the API's body limit so that oversized bodies usually reach Server::Handle and
// get the API's JSON 413.
// NOTE: a request larger than this still gets Pistache's plain-text 413, and Pistache 0.0.5 then
// reads the rest of that body as a new request on the same connection; clients see the error and
// should reconnect.
size_t PistacheRequestLimit(size_t max_body_bytes) { return 4 * max_body_bytes + 64 * 1024; }

bool IsSafeRequestId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// A response header with a name chosen at run time. Pistache 0.0.5 writes only typed headers on the
// wire and silently drops headers added with addRaw, so every extra header is sent as one of these.
class TextHeader : public P::Http::Header::Header {
 public:
  TextHeader(std::string name, std::string value) : name_(std::move(name)), value_(std::move(value)) {}
  const char* name() const override { return name_.c_str(); }
  void write(std::ostream& stream) const override { stream << value_; }
#ifdef SAFE_HEADER_CAST
  // Only used by Pistache's checked header casts, which never target this class.
  uint64_t hash() const override { return 0; }
#endif

 private:
  std::string name_;
  std::string value_;
};

// Decodes %XX escapes in a query parameter. '+' stays '+', because clients send RFC 3339 offsets
// such as "+01:00" unencoded in query strings.
std::string PercentDecode(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

Request ToRequest(const P::Http::Request& pistache_request) {
  Request request;
  request.method = P::Http::methodString(pistache_request.method());
  request.path = pistache_request.resource();
  request.body = pistache_request.body();

  const auto& query = pistache_request.query();
  for (auto it = query.parameters_begin(); it != query.parameters_end(); ++it) {
    request.query[PercentDecode(it->first)] = PercentDecode(it->second);
  }

  // Pistache stores the headers it recognises as typed objects and the rest as raw text; collect both.
  for (const auto& header : pistache_request.headers().list()) {
    std::ostringstream value;
    header->write(value);
    request.headers[Lower(header->name())] = value.str();
  }
  for (const auto& [name, raw] : pistache_request.headers().rawList()) {
    request.headers[Lower(name)] = raw.value();
  }
  return request;
}

class PistacheAdapter : public P::Http::Handler {
 public:
  HTTP_PROTOTYPE(PistacheAdapter)

  explicit PistacheAdapter(const Server* server) : server_(server) {}

  void onRequest(const P::Http::Request& pistache_request, P::Http::ResponseWriter writer) override {
    auto started = std::chrono::steady_clock::now();
    Response response;
    Request request;
    try {
      request = ToRequest(pistache_request);
      response = server_->Handle(request);
    } catch (...) {
      // Server::Handle never throws; this guards the conversion above.
      response = ErrorResponse(Status::Internal("internal error; quote request id " + request.request_id));
    }

    try {
      Send(pistache_request, std::move(writer), request, response);
    } catch (...) {
      log::Error("could not send response", {{"request_id", request.request_id}});
    }

    auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
    log::Debug("request", {{"request_id", request.request_id},
                           {"method", request.method},
                           {"path", request.path},
                           {"status", std::to_string(response.status)},
                           {"duration_us", std::to_string(elapsed.count())}});
  }

 private:
  static void Send(const P::Http::Request& pistache_request, P::Http::ResponseWriter writer,
                   const Request& request, const Response& response) {
    auto& headers = writer.headers();

    // Workaround 2: HTTP/1.1 is persistent unless the client says "close".
    bool client_wants_close = Lower(request.Header("connection")).find("close") != std::string::npos;
    bool keep_alive = pistache_request.version() == P::Http::Version::Http11 ? !client_wants_close
                                                                              : !client_wants_close &&
                                                                                    Lower(request.Header("connection")).find("keep-alive") != std::string::npos;
    headers.remove<P::Http::Header::Connection>();
    headers.add<P::Http::Header::Connection>(keep_alive ? P::Http::ConnectionControl::KeepAlive
                                                        : P::Http::ConnectionControl::Close);

    headers.add(std::make_shared<TextHeader>("X-Request-Id", request.request_id));
    for (const auto& [name, value] : response.headers) headers.add(std::make_shared<TextHeader>(name, value));

    writer.send(static_cast<P::Http::Code>(response.status), response.body,
                P::Http::Mime::MediaType::fromString(response.content_type));
  }

  const Server* server_;
};

}  // namespace

std::string NewRequestId() {
  thread_local std::mt19937_64 generator(std::random_device{}());
  static const char kHex[] = "0123456789abcdef";
  uint64_t value = generator();
  std::string id(16, '0');
  for (int i = 0; i < 16; ++i) id[i] = kHex[(value >> (i * 4)) & 0xF];
  return id;
}

Server::Server(ServerOptions options, std::shared_ptr<const Router> router)
    : options_(std::move(options)), router_(std::move(router)) {}

Server::~Server() { Stop(); }

Response Server::Handle(Request& request) const {
  // Headers under this prefix carry decisions between middleware and handlers; a client must not
  // be able to set them.
  for (auto it = request.headers.begin(); it != request.headers.end();) {
    it = it->first.rfind("x-fiscal-internal-", 0) == 0 ? request.headers.erase(it) : std::next(it);
  }

  std::string client_id = request.Header("x-request-id");
  request.request_id = IsSafeRequestId(client_id) ? client_id : NewRequestId();

  // Workaround 1: the API's own body limit, reported in the API's error shape.
  if (request.body.size() > options_.max_body_bytes) {
    return ErrorResponse(Status::PayloadTooLarge("the request body has " + std::to_string(request.body.size()) +
                                                 " bytes; the maximum is " + std::to_string(options_.max_body_bytes)));
  }

  // Workaround 3: no exception and no exception text leaves the server.
  try {
    return router_->Dispatch(request);
  } catch (const std::exception& error) {
    log::Error("unhandled exception in handler",
               {{"request_id", request.request_id}, {"path", request.path}, {"error", error.what()}});
  } catch (...) {
    log::Error("unhandled non-standard exception in handler",
               {{"request_id", request.request_id}, {"path", request.path}});
  }
  return ErrorResponse(Status::Internal("internal error; quote request id " + request.request_id +
                                        " when reporting it"));
}

void Server::Start() {
  P::Address address(options_.address, P::Port(static_cast<uint16_t>(options_.port)));
  endpoint_ = std::make_unique<P::Http::Endpoint>(address);
  auto pistache_options = P::Http::Endpoint::options()
                              .threads(options_.threads)
                              .flags(P::Tcp::Options::ReuseAddr)
                              .maxRequestSize(PistacheRequestLimit(options_.max_body_bytes))
                              .headerTimeout(std::chrono::seconds(30))
                              .bodyTimeout(std::chrono::seconds(60));
  endpoint_->init(pistache_options);
  endpoint_->setHandler(P::Http::make_handler<PistacheAdapter>(this));
  endpoint_->serveThreaded();
  started_ = true;
}

void Server::Stop() {
  if (!started_) return;
  started_ = false;
  endpoint_->shutdown();
}

int Server::port() const {
  return endpoint_ ? static_cast<int>(static_cast<uint16_t>(endpoint_->getPort())) : options_.port;
}

}  // namespace fiscal::http
