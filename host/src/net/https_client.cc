#include "net/https_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <string_view>

namespace fiscal::net {
namespace {

// curl_global_init is not thread-safe in every libcurl build, so it runs once, before any handle.
CURLcode InitCurlOnce() {
  static std::once_flag once;
  static CURLcode result = CURLE_OK;
  std::call_once(once, [] { result = curl_global_init(CURL_GLOBAL_DEFAULT); });
  return result;
}

struct BodySink {
  std::string* body;
  size_t limit;
  bool overflow = false;
};

size_t WriteBody(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<BodySink*>(user);
  size_t bytes = size * count;
  if (bytes > sink->limit - std::min(sink->limit, sink->body->size())) {
    sink->overflow = true;
    return 0;  // makes libcurl stop with CURLE_WRITE_ERROR
  }
  try {
    sink->body->append(data, bytes);
  } catch (const std::bad_alloc&) {
    sink->overflow = true;
    return 0;
  }
  return bytes;
}

struct CurlDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
struct HeaderListDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

// Builds the header list: Content-Type, the plugin's extra lines, and an empty Expect so that
// libcurl sends the body at once instead of waiting for "100 Continue".
std::unique_ptr<curl_slist, HeaderListDeleter> BuildHeaders(const HttpRequest& request) {
  std::unique_ptr<curl_slist, HeaderListDeleter> headers;
  auto append = [&headers](const std::string& line) {
    curl_slist* grown = curl_slist_append(headers.get(), line.c_str());
    if (grown == nullptr) return false;
    headers.release();
    headers.reset(grown);
    return true;
  };

  if (!request.content_type.empty()) append("Content-Type: " + request.content_type);
  append("Expect:");

  std::string_view rest = request.extra_headers;
  while (!rest.empty()) {
    size_t end = rest.find('\n');
    std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    // A line without a colon is not a header; libcurl would send it verbatim.
    if (line.empty() || line.find(':') == std::string_view::npos) continue;
    append(std::string(line));
  }
  return headers;
}

HttpExchange Failure(std::string message, bool timed_out = false) {
  HttpExchange exchange;
  exchange.transport_error = std::move(message);
  exchange.timed_out = timed_out;
  return exchange;
}

}  // namespace

HttpsClient::HttpsClient() : HttpsClient(Options()) {}

HttpsClient::HttpsClient(Options options) : options_(options) {}

HttpExchange HttpsClient::Send(const EndpointConfig& endpoint, const HttpRequest& request) {
  try {
    if (CURLcode init = InitCurlOnce(); init != CURLE_OK) {
      return Failure(std::string("libcurl initialization failed: ") + curl_easy_strerror(init));
    }
    std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
    if (!curl) return Failure("libcurl could not create a handle");
    CURL* handle = curl.get();

    HttpExchange exchange;
    BodySink sink{&exchange.body, options_.max_response_bytes};
    char error_buffer[CURL_ERROR_SIZE] = {};
    std::unique_ptr<curl_slist, HeaderListDeleter> headers = BuildHeaders(request);
    long timeout_ms = request.timeout_ms == 0 ? HttpRequest().timeout_ms : request.timeout_ms;
    long connect_timeout_ms = std::min<long>(timeout_ms, options_.max_connect_timeout_ms);

    curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error_buffer);
    curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(handle, CURLOPT_URL, endpoint.url.c_str());
    curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "https,http");
    curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS, connect_timeout_ms);
    curl_easy_setopt(handle, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(handle, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!endpoint.ca_file.empty()) curl_easy_setopt(handle, CURLOPT_CAINFO, endpoint.ca_file.c_str());
    if (!endpoint.client_cert.empty()) {
      curl_easy_setopt(handle, CURLOPT_SSLCERT, endpoint.client_cert.c_str());
      curl_easy_setopt(handle, CURLOPT_SSLCERTTYPE, "PEM");
    }
    if (!endpoint.client_key.empty()) {
      curl_easy_setopt(handle, CURLOPT_SSLKEY, endpoint.client_key.c_str());
      curl_easy_setopt(handle, CURLOPT_SSLKEYTYPE, "PEM");
    }

    if (request.method == "POST") {
      curl_easy_setopt(handle, CURLOPT_POST, 1L);
    } else {
      curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }
    if (request.method == "POST" || !request.body.empty()) {
      curl_easy_setopt(handle, CURLOPT_POSTFIELDS, request.body.data());
      curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    }
    curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, &WriteBody);
    curl_easy_setopt(handle, CURLOPT_WRITEDATA, &sink);

    CURLcode code = curl_easy_perform(handle);

    if (sink.overflow) {
      return Failure("response body from " + endpoint.url + " exceeds the limit of " +
                     std::to_string(options_.max_response_bytes) + " bytes");
    }
    if (code != CURLE_OK) {
      std::string message = std::string(curl_easy_strerror(code));
      if (error_buffer[0] != '\0') message += ": " + std::string(error_buffer);
      return Failure("request to " + endpoint.url + " failed: " + message,
                     code == CURLE_OPERATION_TIMEDOUT);
    }

    long status_code = 0;
    curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status_code);
    char* content_type = nullptr;
    curl_easy_getinfo(handle, CURLINFO_CONTENT_TYPE, &content_type);
    exchange.status_code = static_cast<int>(status_code);
    exchange.content_type = content_type == nullptr ? "" : content_type;
    return exchange;
  } catch (const std::exception& error) {
    return Failure(std::string("request to ") + endpoint.url + " failed: " + error.what());
  } catch (...) {
    return Failure("request to " + endpoint.url + " failed with an exception of unknown type");
  }
}

}  // namespace fiscal::net
