// Minimal HTTP/1.1 server side: request reading with Content-Length bodies and keep-alive, and
// response serialization. Transport-neutral so that TLS and plain sockets share it.

#ifndef AEAT_EMULATOR_HTTP_H_
#define AEAT_EMULATOR_HTTP_H_

#include <sys/types.h>

#include <cstddef>
#include <map>
#include <string>

namespace aeat_emulator {

// Maximum request body; larger requests get 413.
inline constexpr size_t kMaxBodyBytes = 16 * 1024 * 1024;
// Maximum size of the request line plus headers; larger requests get 431.
inline constexpr size_t kMaxHeaderBytes = 64 * 1024;

class ByteStream {
 public:
  virtual ~ByteStream() = default;
  // Returns the number of bytes read, 0 at end of stream, or -1 on error or timeout.
  virtual ssize_t Read(char* buffer, size_t size) = 0;
  virtual bool WriteAll(const char* data, size_t size) = 0;
};

struct HttpRequest {
  std::string method;
  std::string target;
  std::string version;
  std::map<std::string, std::string> headers;  // Names in lower case.
  std::string body;
  bool keep_alive = true;
};

struct HttpReply {
  int status = 200;
  std::string content_type = "text/xml; charset=UTF-8";
  std::string body;
  // Close the connection without sending anything (models a response lost on the way back).
  bool drop_connection = false;
  // Hold the reply this long before sending it.
  int delay_ms = 0;
};

enum class ReadStatus {
  kOk,
  kClosed,        // Peer closed the connection (or it timed out) between requests.
  kMalformed,     // 400
  kTooLarge,      // 413
  kHeaderTooLarge,  // 431
  kUnsupported,   // 501, for example Transfer-Encoding: chunked
};

class HttpReader {
 public:
  explicit HttpReader(ByteStream& stream) : stream_(stream) {}

  // Reads the next request on the connection.
  ReadStatus ReadRequest(HttpRequest* request);

 private:
  bool FillBuffer();

  ByteStream& stream_;
  std::string buffer_;
};

const char* HttpStatusText(int status);

// Serializes `reply` with Content-Length, adding "Connection: close" unless `keep_alive`.
std::string SerializeReply(const HttpReply& reply, bool keep_alive);

// Builds a small plain-text error reply.
HttpReply TextReply(int status, const std::string& text);

}  // namespace aeat_emulator

#endif  // AEAT_EMULATOR_HTTP_H_
