// loadgen: an HTTP/1.1 load generator for the host, loopback only.
//
// Open loop (--rate R): requests are scheduled at a fixed rate, independent of the responses:
// request i is due at start + i / rate. Each of the keep-alive connections carries one request at a
// time, and a due request waits in a queue while every connection is busy. Latency is measured from
// the due time, not from the moment the request was written, so a slow server also pays for the
// requests it kept waiting (no coordinated omission).
//
// Closed loop (--rate max): every connection sends its next request as soon as the previous response
// arrived, for the whole duration. This measures the maximum throughput at that connection count.
// Its latencies run from the moment each request was sent, so they omit the waiting that an open
// loop counts, and only the throughput of such a run is a figure to compare.
//
// With --paths-file or --bodies-file, request i uses line i (modulo the line count) of the file, so
// that a run can spread over many resources.
//
// Prints one JSON line on stdout, e.g.
//   {"count":6000,"ok":6000,"errors":0,...,"latency_ms":{"p50":2.1,"p90":3.0,"p99":7.9,"p99_9":12.0,"max":15.2}}
// count is the number of scheduled (open loop) or sent (closed loop) requests. errors = non_2xx +
// transport_errors + timeouts, so ok + errors = count. Latency percentiles cover every response
// that arrived, whatever its status. throughput_rps is ok divided by elapsed_s.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using Nanoseconds = std::chrono::nanoseconds;

constexpr double kMaxRate = 100000;            // requests per second
constexpr double kMaxDuration = 3600;          // seconds
constexpr int kMaxConnections = 1024;
constexpr uint64_t kMaxRequests = 10000000;    // bounds the latency array (80 MB)
constexpr size_t kMaxResponseHead = 64 * 1024;  // status line and headers
constexpr auto kReconnectDelay = std::chrono::milliseconds(100);
constexpr size_t kMaxVariants = 1000000;         // lines of --paths-file or --bodies-file

const char kUsage[] =
    "usage: loadgen --url http://127.0.0.1:PORT/PATH --rate R|max --duration D --connections C\n"
    "               [--method M] [--header 'Name: value']... [--body TEXT | --body-file FILE]\n"
    "               [--paths-file FILE] [--bodies-file FILE] [--timeout S]\n"
    "Sends R requests per second for D seconds over C keep-alive HTTP/1.1 connections and prints\n"
    "one JSON line with the request count, errors and latency percentiles in milliseconds.\n"
    "  --url          target; the host must be 127.0.0.1, [::1] or localhost (loopback only)\n"
    "  --rate         requests per second, scheduled at fixed intervals (max 100000), or \"max\":\n"
    "                 each connection sends its next request when the previous response arrived\n"
    "  --duration     seconds of scheduling (max 3600); rate * duration must be at most 10000000\n"
    "  --connections  concurrent connections, 1 to 1024\n"
    "  --method       HTTP method (default POST)\n"
    "  --header       extra request header, repeatable\n"
    "  --body         request body text; --body-file reads it from FILE\n"
    "  --paths-file   request paths, one per line; request i uses line i modulo the line count\n"
    "                 (replaces the path of --url)\n"
    "  --bodies-file  request bodies, one per line, used like --paths-file (replaces --body)\n"
    "  --timeout      seconds after its due time at which a request without a complete response\n"
    "                 counts as an error (default 10)\n";

[[noreturn]] void Fail(const std::string& message) {
  std::fprintf(stderr, "loadgen: %s\n", message.c_str());
  std::exit(2);
}

struct Options {
  std::string url;
  std::string method = "POST";
  std::vector<std::string> headers;
  std::string body;
  std::vector<std::string> paths;   // from --paths-file; empty: the path of --url
  std::vector<std::string> bodies;  // from --bodies-file; empty: --body
  double rate = 0;
  bool closed_loop = false;         // --rate max
  double duration = 0;
  int connections = 0;
  double timeout = 10;
};

struct Target {
  int family = AF_INET;
  std::string address;  // numeric address to connect to
  std::string host_header;
  int port = 80;
  std::string path = "/";
};

double ParseNumber(const std::string& option, const char* text) {
  char* end = nullptr;
  errno = 0;
  double value = std::strtod(text, &end);
  if (errno != 0 || end == text || *end != '\0' || !std::isfinite(value)) {
    Fail("invalid number for " + option + ": \"" + text + "\"");
  }
  return value;
}

std::string ReadFileOrFail(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) Fail("cannot read --body-file " + path + ": " + std::strerror(errno));
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

// Reads the non-empty lines of FILE, for --paths-file and --bodies-file.
std::vector<std::string> ReadLinesOrFail(const std::string& option, const std::string& path) {
  std::ifstream file(path);
  if (!file) Fail("cannot read " + option + " " + path + ": " + std::strerror(errno));
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(file, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (lines.size() >= kMaxVariants) Fail(option + " " + path + " has more than 1000000 lines");
    lines.push_back(std::move(line));
  }
  if (lines.empty()) Fail(option + " " + path + " has no non-empty line");
  return lines;
}

Options ParseOptions(int argc, char** argv) {
  Options options;
  bool have_rate = false, have_duration = false, have_connections = false;
  for (int i = 1; i < argc; ++i) {
    std::string option = argv[i];
    if (option == "--help" || option == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    }
    if (i + 1 >= argc) Fail("missing value for " + option + "\n" + kUsage);
    const char* value = argv[++i];
    if (option == "--url") {
      options.url = value;
    } else if (option == "--method") {
      options.method = value;
    } else if (option == "--header") {
      options.headers.emplace_back(value);
    } else if (option == "--body") {
      options.body = value;
    } else if (option == "--body-file") {
      options.body = ReadFileOrFail(value);
    } else if (option == "--paths-file") {
      options.paths = ReadLinesOrFail(option, value);
    } else if (option == "--bodies-file") {
      options.bodies = ReadLinesOrFail(option, value);
    } else if (option == "--rate") {
      options.closed_loop = std::strcmp(value, "max") == 0;
      options.rate = options.closed_loop ? kMaxRate : ParseNumber(option, value);
      have_rate = true;
    } else if (option == "--duration") {
      options.duration = ParseNumber(option, value);
      have_duration = true;
    } else if (option == "--connections") {
      double connections = ParseNumber(option, value);
      if (connections != std::floor(connections)) Fail("--connections must be a whole number");
      options.connections = static_cast<int>(std::min(connections, 1e9));
      have_connections = true;
    } else if (option == "--timeout") {
      options.timeout = ParseNumber(option, value);
    } else {
      Fail("unknown option " + option + "\n" + kUsage);
    }
  }

  if (options.url.empty() || !have_rate || !have_duration || !have_connections) {
    Fail(std::string("--url, --rate, --duration and --connections are required\n") + kUsage);
  }
  if (options.rate <= 0 || options.rate > kMaxRate) Fail("--rate must be above 0 and at most 100000, or \"max\"");
  if (options.duration <= 0 || options.duration > kMaxDuration) Fail("--duration must be above 0 and at most 3600");
  if (options.connections < 1 || options.connections > kMaxConnections) Fail("--connections must be 1 to 1024");
  if (options.timeout <= 0 || options.timeout > 300) Fail("--timeout must be above 0 and at most 300 seconds");
  if (!options.closed_loop && options.rate * options.duration > static_cast<double>(kMaxRequests)) {
    Fail("rate * duration must be at most 10000000 requests");
  }
  for (const std::string& path : options.paths) {
    if (path[0] != '/' || path.find_first_of(" \t") != std::string::npos) {
      Fail("invalid line \"" + path + "\" in --paths-file: expected a path starting with / and without spaces");
    }
  }
  for (const std::string& header : options.headers) {
    if (header.find(':') == std::string::npos || header.find_first_of("\r\n") != std::string::npos) {
      Fail("invalid --header \"" + header + "\": expected one line \"Name: value\"");
    }
  }
  return options;
}

// Parses http://HOST[:PORT][/PATH] and rejects every host but the loopback addresses.
Target ParseUrl(const std::string& url) {
  const std::string scheme = "http://";
  if (url.compare(0, scheme.size(), scheme) != 0) Fail("--url must start with http:// (HTTPS is not supported): " + url);
  std::string rest = url.substr(scheme.size());
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  Target target;
  if (slash != std::string::npos) target.path = rest.substr(slash);

  std::string host;
  std::string port_text;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string::npos) Fail("invalid --url, unclosed [ in the host: " + url);
    host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') Fail("invalid --url after ]: " + url);
      port_text = authority.substr(close + 2);
    }
  } else {
    size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string::npos) port_text = authority.substr(colon + 1);
  }

  if (host == "127.0.0.1" || host == "localhost") {
    target.family = AF_INET;
    target.address = "127.0.0.1";
  } else if (host == "::1") {
    target.family = AF_INET6;
    target.address = "::1";
  } else {
    Fail("loadgen sends traffic to loopback only; host \"" + host + "\" is not 127.0.0.1, [::1] or localhost");
  }

  if (!port_text.empty()) {
    char* end = nullptr;
    long port = std::strtol(port_text.c_str(), &end, 10);
    if (*end != '\0' || port < 1 || port > 65535) Fail("invalid port in --url: " + port_text);
    target.port = static_cast<int>(port);
  }
  std::string host_text = target.family == AF_INET6 ? "[" + host + "]" : host;
  target.host_header = host_text + ":" + std::to_string(target.port);
  return target;
}

bool HasHeader(const std::vector<std::string>& headers, std::string_view name) {
  for (const std::string& header : headers) {
    if (header.size() > name.size() && header[name.size()] == ':' &&
        strncasecmp(header.c_str(), name.data(), name.size()) == 0) {
      return true;
    }
  }
  return false;
}

std::string BuildRequest(const Options& options, const Target& target, const std::string& path,
                         const std::string& body) {
  std::string request = options.method + " " + path + " HTTP/1.1\r\nHost: " + target.host_header + "\r\n";
  if (!body.empty() && !HasHeader(options.headers, "Content-Type")) {
    request += "Content-Type: application/json\r\n";
  }
  for (const std::string& header : options.headers) request += header + "\r\n";
  request += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  return request + body;
}

// Every distinct request of a run, built once: one per line of --paths-file or --bodies-file (the
// longer list decides the count, and the shorter one repeats), or a single one.
std::vector<std::string> BuildRequests(const Options& options, const Target& target) {
  size_t count = std::max<size_t>({1, options.paths.size(), options.bodies.size()});
  std::vector<std::string> requests;
  requests.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    const std::string& path = options.paths.empty() ? target.path : options.paths[i % options.paths.size()];
    const std::string& body = options.bodies.empty() ? options.body : options.bodies[i % options.bodies.size()];
    requests.push_back(BuildRequest(options, target, path, body));
  }
  return requests;
}

// ---- Response parsing ----------------------------------------------------------------------------

// Incremental parser of one HTTP/1.1 response at a time. Feed() consumes bytes from the front of the
// connection's input buffer.
class ResponseParser {
 public:
  enum class Result { kNeedMore, kComplete, kError };

  void Reset() {
    stage_ = Stage::kHead;
    status_ = 0;
    remaining_ = 0;
    close_after_ = false;
  }

  int status() const { return status_; }
  bool close_after() const { return close_after_; }
  bool reads_until_close() const { return stage_ == Stage::kUntilClose; }
  const std::string& error() const { return error_; }

  Result Feed(std::string& input) {
    size_t position = 0;
    Result result = Run(input, position);
    input.erase(0, position);
    return result;
  }

 private:
  enum class Stage { kHead, kBody, kChunkSize, kChunkData, kChunkEnd, kTrailers, kUntilClose };

  Result Run(const std::string& input, size_t& position) {
    while (true) {
      switch (stage_) {
        case Stage::kHead: {
          size_t end = input.find("\r\n\r\n", position);
          if (end == std::string::npos) {
            if (input.size() - position > kMaxResponseHead) return Error("response head larger than 64 KiB");
            return Result::kNeedMore;
          }
          std::string_view head(input.data() + position, end - position);
          position = end + 4;
          if (!ParseHead(head)) return Result::kError;
          if (status_ >= 100 && status_ < 200) {
            Reset();  // an interim response such as 100 Continue; the final one follows
            continue;
          }
          if (stage_ == Stage::kBody && remaining_ == 0) return Result::kComplete;
          break;
        }
        case Stage::kBody: {
          size_t take = std::min<size_t>(remaining_, input.size() - position);
          position += take;
          remaining_ -= take;
          if (remaining_ == 0) return Result::kComplete;
          return Result::kNeedMore;
        }
        case Stage::kChunkSize: {
          size_t end = input.find("\r\n", position);
          if (end == std::string::npos) return Result::kNeedMore;
          std::string line = input.substr(position, end - position);
          position = end + 2;
          char* after = nullptr;
          unsigned long long size = std::strtoull(line.c_str(), &after, 16);
          if (after == line.c_str()) return Error("invalid chunk size line \"" + line + "\"");
          remaining_ = size;
          stage_ = size == 0 ? Stage::kTrailers : Stage::kChunkData;
          break;
        }
        case Stage::kChunkData: {
          size_t take = std::min<size_t>(remaining_, input.size() - position);
          position += take;
          remaining_ -= take;
          if (remaining_ != 0) return Result::kNeedMore;
          stage_ = Stage::kChunkEnd;
          break;
        }
        case Stage::kChunkEnd: {
          if (input.size() - position < 2) return Result::kNeedMore;
          if (input.compare(position, 2, "\r\n") != 0) return Error("chunk data not followed by CRLF");
          position += 2;
          stage_ = Stage::kChunkSize;
          break;
        }
        case Stage::kTrailers: {
          size_t end = input.find("\r\n", position);
          if (end == std::string::npos) return Result::kNeedMore;
          bool last = end == position;
          position = end + 2;
          if (last) return Result::kComplete;
          break;
        }
        case Stage::kUntilClose:
          position = input.size();  // the body ends when the server closes the connection
          return Result::kNeedMore;
      }
    }
  }

  bool ParseHead(std::string_view head) {
    size_t line_end = head.find("\r\n");
    std::string_view status_line = head.substr(0, line_end);
    if (status_line.size() < 12 || status_line.substr(0, 7) != "HTTP/1." || status_line[8] != ' ') {
      Error("invalid status line \"" + std::string(status_line) + "\"");
      return false;
    }
    status_ = std::atoi(std::string(status_line.substr(9, 3)).c_str());
    if (status_ < 100 || status_ > 999) {
      Error("invalid status code in \"" + std::string(status_line) + "\"");
      return false;
    }
    close_after_ = status_line.substr(0, 8) == "HTTP/1.0";

    std::optional<uint64_t> content_length;
    bool chunked = false;
    size_t start = line_end == std::string_view::npos ? head.size() : line_end + 2;
    while (start < head.size()) {
      size_t end = head.find("\r\n", start);
      if (end == std::string_view::npos) end = head.size();
      std::string_view line = head.substr(start, end - start);
      start = end + 2;
      size_t colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      std::string name(line.substr(0, colon));
      std::string value(line.substr(colon + 1));
      value.erase(0, value.find_first_not_of(" \t"));
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string lower_value = value;
      for (char& c : lower_value) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (name == "content-length") {
        content_length = std::strtoull(value.c_str(), nullptr, 10);
      } else if (name == "transfer-encoding") {
        chunked = lower_value.find("chunked") != std::string::npos;
      } else if (name == "connection") {
        if (lower_value.find("close") != std::string::npos) close_after_ = true;
        if (lower_value.find("keep-alive") != std::string::npos) close_after_ = false;
      }
    }

    if (status_ == 204 || status_ == 304 || (status_ >= 100 && status_ < 200)) {
      stage_ = Stage::kBody;
      remaining_ = 0;
    } else if (chunked) {
      stage_ = Stage::kChunkSize;
    } else if (content_length) {
      stage_ = Stage::kBody;
      remaining_ = *content_length;
    } else {
      stage_ = Stage::kUntilClose;
      close_after_ = true;
    }
    return true;
  }

  Result Error(std::string message) {
    error_ = std::move(message);
    return Result::kError;
  }

  Stage stage_ = Stage::kHead;
  int status_ = 0;
  uint64_t remaining_ = 0;
  bool close_after_ = false;
  std::string error_;
};

// ---- Connections and the event loop --------------------------------------------------------------

struct Connection {
  enum class State { kClosed, kConnecting, kIdle, kBusy };

  int fd = -1;
  State state = State::kClosed;
  Clock::time_point retry_at{};  // earliest reconnect after a failed connect
  std::string input;
  const std::string* request = nullptr;  // the request in flight
  size_t written = 0;            // bytes of the request already written
  Clock::time_point due{};       // due time of the request in flight
  ResponseParser parser;
};

struct Totals {
  uint64_t ok = 0;
  uint64_t non_2xx = 0;
  uint64_t transport_errors = 0;
  uint64_t timeouts = 0;
  std::map<int, uint64_t> by_status;
  std::vector<int64_t> latencies_ns;
  Nanoseconds max_send_delay{0};
  std::string first_transport_error;
};

class LoadGenerator {
 public:
  LoadGenerator(const Options& options, const Target& target)
      : options_(options), target_(target), requests_(BuildRequests(options, target)),
        connections_(static_cast<size_t>(options.connections)) {
    // A closed loop sends as many requests as the server completes, up to the latency array's bound.
    total_ = options.closed_loop ? kMaxRequests : static_cast<uint64_t>(std::floor(options.rate * options.duration));
    interval_ = Nanoseconds(static_cast<int64_t>(1e9 / options.rate));
    timeout_ = Nanoseconds(static_cast<int64_t>(options.timeout * 1e9));
    totals_.latencies_ns.reserve(options.closed_loop ? 1000000 : total_);
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_ < 0) Fail(std::string("epoll_create1 failed: ") + std::strerror(errno));
  }

  // Runs the schedule to the end and returns the totals. Ends at the latest `timeout` after the
  // last request's due time.
  const Totals& Run() {
    for (size_t i = 0; i < connections_.size(); ++i) Connect(i, Clock::now());
    start_ = Clock::now();
    const Clock::time_point schedule_end =
        options_.closed_loop ? start_ + std::chrono::duration_cast<Nanoseconds>(std::chrono::duration<double>(options_.duration))
                             : start_ + interval_ * static_cast<int64_t>(total_);
    const Clock::time_point deadline = schedule_end + timeout_;

    std::vector<epoll_event> events(connections_.size());
    while (true) {
      Clock::time_point now = Clock::now();
      if (options_.closed_loop) {
        // One request is due for every idle connection, until the duration is over.
        if (now >= schedule_end) total_ = scheduled_;
        size_t idle = static_cast<size_t>(std::count_if(connections_.begin(), connections_.end(), [](const Connection& c) {
          return c.state == Connection::State::kIdle;
        }));
        while (scheduled_ < total_ && queue_.size() < idle) {
          queue_.push_back(now);
          ++scheduled_;
        }
      }
      while (!options_.closed_loop && scheduled_ < total_ && DueTime(scheduled_) <= now) {
        queue_.push_back(DueTime(scheduled_++));
      }
      ExpireTimedOut(now);
      Reconnect(now);
      Dispatch(now);
      if (scheduled_ == total_ && queue_.empty() && Busy() == 0) break;
      if (now >= deadline) break;

      int ready = Wait(events, NextWake(now, deadline) - now);
      now = Clock::now();
      for (int e = 0; e < ready; ++e) Handle(events[static_cast<size_t>(e)].data.u32, events[static_cast<size_t>(e)].events, now);
    }

    // Whatever is left once the deadline passed has waited longer than the timeout.
    if (options_.closed_loop) total_ = scheduled_;
    totals_.timeouts += queue_.size() + Busy() + (total_ - scheduled_);
    for (Connection& connection : connections_) Close(connection);
    elapsed_ = Clock::now() - start_;
    return totals_;
  }

  uint64_t total() const { return total_; }
  double elapsed_seconds() const { return std::chrono::duration<double>(elapsed_).count(); }

 private:
  Clock::time_point DueTime(uint64_t index) const { return start_ + interval_ * static_cast<int64_t>(index); }

  size_t Busy() const {
    return static_cast<size_t>(std::count_if(connections_.begin(), connections_.end(), [](const Connection& c) {
      return c.state == Connection::State::kBusy;
    }));
  }

  void Watch(size_t index, bool writable) {
    epoll_event event{};
    event.events = EPOLLIN | EPOLLRDHUP | (writable ? EPOLLOUT : 0u);
    event.data.u32 = static_cast<uint32_t>(index);
    epoll_ctl(epoll_, EPOLL_CTL_MOD, connections_[index].fd, &event);
  }

  void Connect(size_t index, Clock::time_point now) {
    Connection& connection = connections_[index];
    connection.fd = socket(target_.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (connection.fd < 0) Fail(std::string("socket failed: ") + std::strerror(errno));
    int one = 1;
    setsockopt(connection.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

    sockaddr_storage address{};
    socklen_t length = 0;
    if (target_.family == AF_INET) {
      auto* v4 = reinterpret_cast<sockaddr_in*>(&address);
      v4->sin_family = AF_INET;
      v4->sin_port = htons(static_cast<uint16_t>(target_.port));
      inet_pton(AF_INET, target_.address.c_str(), &v4->sin_addr);
      length = sizeof(sockaddr_in);
    } else {
      auto* v6 = reinterpret_cast<sockaddr_in6*>(&address);
      v6->sin6_family = AF_INET6;
      v6->sin6_port = htons(static_cast<uint16_t>(target_.port));
      inet_pton(AF_INET6, target_.address.c_str(), &v6->sin6_addr);
      length = sizeof(sockaddr_in6);
    }

    int result = connect(connection.fd, reinterpret_cast<sockaddr*>(&address), length);
    if (result != 0 && errno != EINPROGRESS) {
      NoteTransportError(std::string("connect failed: ") + std::strerror(errno), false);
      close(connection.fd);
      connection.fd = -1;
      connection.state = Connection::State::kClosed;
      connection.retry_at = now + kReconnectDelay;
      return;
    }
    epoll_event event{};
    event.events = EPOLLIN | EPOLLRDHUP | EPOLLOUT;
    event.data.u32 = static_cast<uint32_t>(index);
    epoll_ctl(epoll_, EPOLL_CTL_ADD, connection.fd, &event);
    connection.state = result == 0 ? Connection::State::kIdle : Connection::State::kConnecting;
    connection.input.clear();
    connection.parser.Reset();
    if (result == 0) Watch(index, false);
  }

  void Close(Connection& connection) {
    if (connection.fd >= 0) {
      epoll_ctl(epoll_, EPOLL_CTL_DEL, connection.fd, nullptr);
      close(connection.fd);
    }
    connection.fd = -1;
    connection.state = Connection::State::kClosed;
    connection.retry_at = Clock::time_point{};
  }

  // Records a failure. `counted` is true when the failure ended a request, which a failed connect
  // never does.
  void NoteTransportError(const std::string& message, bool counted) {
    if (counted) ++totals_.transport_errors;
    if (totals_.first_transport_error.empty()) totals_.first_transport_error = message;
  }

  void FailRequest(size_t index, const std::string& message, Clock::time_point now) {
    NoteTransportError(message, true);
    Close(connections_[index]);
    connections_[index].retry_at = now;
  }

  void ExpireTimedOut(Clock::time_point now) {
    while (!queue_.empty() && now - queue_.front() >= timeout_) {
      queue_.pop_front();
      ++totals_.timeouts;
    }
    for (size_t i = 0; i < connections_.size(); ++i) {
      Connection& connection = connections_[i];
      if (connection.state == Connection::State::kBusy && now - connection.due >= timeout_) {
        ++totals_.timeouts;
        Close(connection);  // the late response must not be read as the next request's
        connection.retry_at = now;
      }
    }
  }

  void Reconnect(Clock::time_point now) {
    for (size_t i = 0; i < connections_.size(); ++i) {
      if (connections_[i].state == Connection::State::kClosed && connections_[i].retry_at <= now) Connect(i, now);
    }
  }

  void Dispatch(Clock::time_point now) {
    for (size_t i = 0; i < connections_.size() && !queue_.empty(); ++i) {
      Connection& connection = connections_[i];
      if (connection.state != Connection::State::kIdle) continue;
      connection.due = queue_.front();
      connection.request = &requests_[next_request_++ % requests_.size()];
      queue_.pop_front();
      connection.state = Connection::State::kBusy;
      connection.written = 0;
      connection.parser.Reset();
      totals_.max_send_delay = std::max(totals_.max_send_delay, std::chrono::duration_cast<Nanoseconds>(now - connection.due));
      Write(i, now);
    }
  }

  void Write(size_t index, Clock::time_point now) {
    Connection& connection = connections_[index];
    const std::string& request = *connection.request;
    while (connection.written < request.size()) {
      ssize_t sent = send(connection.fd, request.data() + connection.written, request.size() - connection.written,
                          MSG_NOSIGNAL);
      if (sent > 0) {
        connection.written += static_cast<size_t>(sent);
      } else if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        Watch(index, true);
        return;
      } else if (sent < 0 && errno == EINTR) {
        continue;
      } else {
        FailRequest(index, std::string("send failed: ") + std::strerror(errno), now);
        return;
      }
    }
    Watch(index, false);
  }

  void Handle(uint32_t index, uint32_t events, Clock::time_point now) {
    Connection& connection = connections_[index];
    if (connection.state == Connection::State::kClosed) return;

    if (connection.state == Connection::State::kConnecting) {
      int error = 0;
      socklen_t length = sizeof(error);
      getsockopt(connection.fd, SOL_SOCKET, SO_ERROR, &error, &length);
      if (error != 0) {
        NoteTransportError(std::string("connect failed: ") + std::strerror(error), false);
        Close(connection);
        connection.retry_at = now + kReconnectDelay;
        return;
      }
      if ((events & EPOLLOUT) == 0) return;
      connection.state = Connection::State::kIdle;
      Watch(index, false);
      return;
    }

    if ((events & EPOLLOUT) != 0 && connection.state == Connection::State::kBusy) Write(index, now);
    if (connection.state == Connection::State::kClosed) return;
    if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) Read(index, now);
  }

  void Read(size_t index, Clock::time_point now) {
    Connection& connection = connections_[index];
    bool closed_by_peer = false;
    std::string read_error;
    char buffer[16384];
    while (true) {
      ssize_t received = recv(connection.fd, buffer, sizeof(buffer), 0);
      if (received > 0) {
        connection.input.append(buffer, static_cast<size_t>(received));
        continue;
      }
      if (received == 0) {
        closed_by_peer = true;
      } else if (errno == EINTR) {
        continue;
      } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
        read_error = std::string("recv failed: ") + std::strerror(errno);
      }
      break;
    }

    if (connection.state != Connection::State::kBusy) {
      // An idle connection that the server closed, or that received unrequested bytes, is replaced
      // before it carries a request, so no request is lost.
      if (closed_by_peer || !read_error.empty() || !connection.input.empty()) {
        Close(connection);
        connection.retry_at = now;
      }
      return;
    }

    ResponseParser::Result result = connection.parser.Feed(connection.input);
    if (result == ResponseParser::Result::kNeedMore && closed_by_peer && connection.parser.reads_until_close()) {
      result = ResponseParser::Result::kComplete;
    }
    if (result == ResponseParser::Result::kError) {
      FailRequest(index, "invalid response: " + connection.parser.error(), now);
      return;
    }
    if (result == ResponseParser::Result::kNeedMore) {
      if (closed_by_peer) FailRequest(index, "connection closed by the server before a complete response", now);
      else if (!read_error.empty()) FailRequest(index, read_error, now);
      return;
    }

    Complete(connection, now);
    // A server may respond before it has read the whole request (for example with 413). The rest of
    // that request would then be read as the start of the next one, so the connection is replaced.
    bool request_unfinished = connection.written < connection.request->size();
    if (connection.parser.close_after() || closed_by_peer || !read_error.empty() || !connection.input.empty() ||
        request_unfinished) {
      Close(connection);
      connection.retry_at = now;
    } else {
      connection.state = Connection::State::kIdle;
    }
  }

  void Complete(Connection& connection, Clock::time_point now) {
    int status = connection.parser.status();
    ++totals_.by_status[status];
    if (status >= 200 && status < 300) ++totals_.ok;
    else ++totals_.non_2xx;
    totals_.latencies_ns.push_back(std::chrono::duration_cast<Nanoseconds>(now - connection.due).count());
  }

  Clock::time_point NextWake(Clock::time_point now, Clock::time_point deadline) const {
    Clock::time_point wake = std::min(deadline, now + std::chrono::milliseconds(100));
    if (!options_.closed_loop && scheduled_ < total_) wake = std::min(wake, DueTime(scheduled_));
    if (!queue_.empty()) wake = std::min(wake, queue_.front() + timeout_);
    for (const Connection& connection : connections_) {
      if (connection.state == Connection::State::kBusy) wake = std::min(wake, connection.due + timeout_);
      if (connection.state == Connection::State::kClosed) wake = std::min(wake, connection.retry_at);
    }
    return std::max(wake, now);
  }

  // Waits for socket events for at most `wait`, with sub-millisecond precision where the kernel
  // has epoll_pwait2 (Linux 5.11), else rounded up to whole milliseconds.
  int Wait(std::vector<epoll_event>& events, Nanoseconds wait) {
    int capacity = static_cast<int>(events.size());
    if (use_pwait2_) {
      timespec timeout{static_cast<time_t>(wait.count() / 1000000000), static_cast<long>(wait.count() % 1000000000)};
      int ready = epoll_pwait2(epoll_, events.data(), capacity, &timeout, nullptr);
      if (ready >= 0) return ready;
      if (errno == EINTR) return 0;
      if (errno != ENOSYS) Fail(std::string("epoll_pwait2 failed: ") + std::strerror(errno));
      use_pwait2_ = false;
    }
    int milliseconds = static_cast<int>((wait.count() + 999999) / 1000000);
    int ready = epoll_wait(epoll_, events.data(), capacity, milliseconds);
    if (ready < 0 && errno != EINTR) Fail(std::string("epoll_wait failed: ") + std::strerror(errno));
    return std::max(ready, 0);
  }

  const Options& options_;
  const Target& target_;
  const std::vector<std::string> requests_;
  uint64_t next_request_ = 0;  // index into requests_ of the next request sent
  std::vector<Connection> connections_;
  std::deque<Clock::time_point> queue_;  // due times of requests waiting for a free connection
  Totals totals_;
  uint64_t total_ = 0;
  uint64_t scheduled_ = 0;
  Nanoseconds interval_{0};
  Nanoseconds timeout_{0};
  Clock::time_point start_{};
  Nanoseconds elapsed_{0};
  int epoll_ = -1;
  bool use_pwait2_ = true;
};

// Nearest-rank percentile of sorted values, in milliseconds.
double Percentile(const std::vector<int64_t>& sorted, double percent) {
  if (sorted.empty()) return 0;
  size_t rank = static_cast<size_t>(std::ceil(percent / 100.0 * static_cast<double>(sorted.size())));
  size_t index = rank == 0 ? 0 : std::min(rank, sorted.size()) - 1;
  return static_cast<double>(sorted[index]) / 1e6;
}

std::string JsonString(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof(escaped), "\\u%04x", c);
      out += escaped;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  Options options = ParseOptions(argc, argv);
  Target target = ParseUrl(options.url);

  LoadGenerator generator(options, target);
  Totals totals = generator.Run();
  std::sort(totals.latencies_ns.begin(), totals.latencies_ns.end());

  uint64_t errors = totals.non_2xx + totals.transport_errors + totals.timeouts;
  std::string statuses;
  for (const auto& [status, count] : totals.by_status) {
    statuses += (statuses.empty() ? "\"" : ",\"") + std::to_string(status) + "\":" + std::to_string(count);
  }
  std::printf(
      "{\"url\":%s,\"method\":%s,\"rate\":%g,\"duration_s\":%g,\"connections\":%d,\"count\":%llu,\"ok\":%llu,"
      "\"errors\":%llu,\"non_2xx\":%llu,\"transport_errors\":%llu,\"timeouts\":%llu,\"status_counts\":{%s},"
      "\"latency_ms\":{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"p99_9\":%.3f,\"max\":%.3f},"
      "\"max_send_delay_ms\":%.3f,\"elapsed_s\":%.3f,\"throughput_rps\":%.1f,\"closed_loop\":%s,"
      "\"first_transport_error\":%s}\n",
      JsonString(options.url).c_str(), JsonString(options.method).c_str(), options.closed_loop ? 0.0 : options.rate,
      options.duration,
      options.connections, static_cast<unsigned long long>(generator.total()),
      static_cast<unsigned long long>(totals.ok), static_cast<unsigned long long>(errors),
      static_cast<unsigned long long>(totals.non_2xx), static_cast<unsigned long long>(totals.transport_errors),
      static_cast<unsigned long long>(totals.timeouts), statuses.c_str(), Percentile(totals.latencies_ns, 50),
      Percentile(totals.latencies_ns, 90), Percentile(totals.latencies_ns, 99), Percentile(totals.latencies_ns, 99.9),
      totals.latencies_ns.empty() ? 0.0 : static_cast<double>(totals.latencies_ns.back()) / 1e6,
      std::chrono::duration<double, std::milli>(totals.max_send_delay).count(), generator.elapsed_seconds(),
      generator.elapsed_seconds() > 0 ? static_cast<double>(totals.ok) / generator.elapsed_seconds() : 0.0,
      options.closed_loop ? "true" : "false", JsonString(totals.first_transport_error).c_str());
  return 0;
}
