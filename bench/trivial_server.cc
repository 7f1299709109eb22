// trivial_server: the HTTP baseline for the benchmarks. It uses the same Pistache 0.0.5 build and
// endpoint options as the host's server (host/src/http/server.cc), returns a fixed 200 JSON body to
// every request and does no other work, so its throughput is the ceiling of the HTTP layer alone.
//
//   trivial_server [--port N] [--threads N]      listens on 127.0.0.1 until SIGINT or SIGTERM
//
// Like the host's adapter, it answers HTTP/1.1 requests without a Connection header with
// "Connection: Keep-Alive", because Pistache 0.0.5 would close them, and the baseline must use
// keep-alive connections as the host does.
#include <signal.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <pistache/endpoint.h>
#include <pistache/http.h>

namespace {

namespace P = Pistache;

// The host's default API body limit (http.max_body_bytes) and the request limit it gives Pistache.
constexpr size_t kMaxBodyBytes = 1024 * 1024;
constexpr size_t kPistacheRequestLimit = 4 * kMaxBodyBytes + 64 * 1024;

const char kUsage[] =
    "usage: trivial_server [--port N] [--threads N]\n"
    "Answers every request on 127.0.0.1:N (default 18099) with 200 {\"status\":\"ok\"}.\n"
    "  --port     TCP port, 1 to 65535\n"
    "  --threads  Pistache reactor threads, 1 to 256 (default 8, the host's default)\n";

bool ContainsCaseless(std::string text, const char* word) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text.find(word) != std::string::npos;
}

class TrivialHandler : public P::Http::Handler {
 public:
  HTTP_PROTOTYPE(TrivialHandler)

  void onRequest(const P::Http::Request& request, P::Http::ResponseWriter writer) override {
    std::string connection;
    if (auto header = request.headers().tryGet<P::Http::Header::Connection>()) {
      connection = header->control() == P::Http::ConnectionControl::Close ? "close" : "keep-alive";
    }
    bool keep_alive = request.version() == P::Http::Version::Http11 ? !ContainsCaseless(connection, "close")
                                                                     : ContainsCaseless(connection, "keep-alive");
    writer.headers().remove<P::Http::Header::Connection>();
    writer.headers().add<P::Http::Header::Connection>(keep_alive ? P::Http::ConnectionControl::KeepAlive
                                                                 : P::Http::ConnectionControl::Close);
    writer.send(P::Http::Code::Ok, "{\"status\":\"ok\"}", MIME(Application, Json));
  }
};

int ParseIntOrExit(const char* option, const char* text, int minimum, int maximum) {
  char* end = nullptr;
  long value = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || value < minimum || value > maximum) {
    std::fprintf(stderr, "trivial_server: invalid %s \"%s\": expected %d to %d\n%s", option, text, minimum, maximum,
                 kUsage);
    std::exit(2);
  }
  return static_cast<int>(value);
}

}  // namespace

int main(int argc, char** argv) {
  int port = 18099;
  int threads = 8;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0) {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "trivial_server: missing value for %s\n%s", argv[i], kUsage);
      return 2;
    }
    if (std::strcmp(argv[i], "--port") == 0) {
      port = ParseIntOrExit("--port", argv[++i], 1, 65535);
    } else if (std::strcmp(argv[i], "--threads") == 0) {
      threads = ParseIntOrExit("--threads", argv[++i], 1, 256);
    } else {
      std::fprintf(stderr, "trivial_server: unknown option %s\n%s", argv[i], kUsage);
      return 2;
    }
  }

  // The signals are blocked before Pistache starts its threads, so only sigwait() below gets them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  P::Http::Endpoint endpoint(P::Address("127.0.0.1", P::Port(static_cast<uint16_t>(port))));
  auto options = P::Http::Endpoint::options()
                     .threads(threads)
                     .flags(P::Tcp::Options::ReuseAddr)
                     .maxRequestSize(kPistacheRequestLimit)
                     .headerTimeout(std::chrono::seconds(30))
                     .bodyTimeout(std::chrono::seconds(60));
  endpoint.init(options);
  endpoint.setHandler(P::Http::make_handler<TrivialHandler>());
  endpoint.serveThreaded();
  std::fprintf(stderr, "trivial_server: listening on 127.0.0.1:%d with %d threads\n", port, threads);

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  endpoint.shutdown();
  std::fprintf(stderr, "trivial_server: stopped by signal %d\n", signal_number);
  return 0;
}
