#include "aeat_emulator/server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstring>

#include "aeat_emulator/http.h"
#include "aeat_emulator/json_log.h"

namespace aeat_emulator {
namespace {

std::string OpenSslErrors() {
  std::string text;
  unsigned long code = 0;
  while ((code = ERR_get_error()) != 0) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof(buffer));
    if (!text.empty()) text += "; ";
    text += buffer;
  }
  return text.empty() ? "no OpenSSL error queued" : text;
}

class TlsStream : public ByteStream {
 public:
  explicit TlsStream(SSL* ssl) : ssl_(ssl) {}

  ssize_t Read(char* buffer, size_t size) override {
    const int received = SSL_read(ssl_, buffer, static_cast<int>(size));
    if (received > 0) return received;
    return SSL_get_error(ssl_, received) == SSL_ERROR_ZERO_RETURN ? 0 : -1;
  }

  bool WriteAll(const char* data, size_t size) override {
    while (size > 0) {
      const int written = SSL_write(ssl_, data, static_cast<int>(size));
      if (written <= 0) return false;
      data += written;
      size -= static_cast<size_t>(written);
    }
    return true;
  }

 private:
  SSL* ssl_;
};

class PlainStream : public ByteStream {
 public:
  explicit PlainStream(int fd) : fd_(fd) {}

  ssize_t Read(char* buffer, size_t size) override { return recv(fd_, buffer, size, 0); }

  bool WriteAll(const char* data, size_t size) override {
    while (size > 0) {
      const ssize_t written = send(fd_, data, size, MSG_NOSIGNAL);
      if (written <= 0) return false;
      data += written;
      size -= static_cast<size_t>(written);
    }
    return true;
  }

 private:
  int fd_;
};

std::string FormatPeer(const sockaddr_storage& address) {
  char host[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (address.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&address);
    inet_ntop(AF_INET, &v4->sin_addr, host, sizeof(host));
    port = ntohs(v4->sin_port);
  } else if (address.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&address);
    inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof(host));
    port = ntohs(v6->sin6_port);
  }
  return std::string(host) + ":" + std::to_string(port);
}

bool IsLoopback(const sockaddr_storage& address) {
  if (address.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&address);
    return (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
  }
  if (address.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&address);
    if (IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr)) return true;
    return IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr) && v6->sin6_addr.s6_addr[12] == 127;
  }
  return false;
}

// Returns a listening socket bound to `address`:`port`, or -1 with `error` filled.
int OpenListener(const std::string& address, int port, int* bound_port, std::string* error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
  addrinfo* result = nullptr;
  const std::string service = std::to_string(port);
  const int status = getaddrinfo(address.c_str(), service.c_str(), &hints, &result);
  if (status != 0) {
    *error = "invalid listen address " + address + ": " + gai_strerror(status) +
             " (use a numeric IPv4 or IPv6 address)";
    return -1;
  }

  const int fd = socket(result->ai_family, result->ai_socktype | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = std::string("socket() failed: ") + std::strerror(errno);
    freeaddrinfo(result);
    return -1;
  }
  const int enable = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &enable, sizeof(enable));
  if (bind(fd, result->ai_addr, result->ai_addrlen) != 0 || listen(fd, 128) != 0) {
    *error = "cannot listen on " + address + " port " + service + ": " + std::strerror(errno);
    freeaddrinfo(result);
    close(fd);
    return -1;
  }
  freeaddrinfo(result);

  sockaddr_storage bound{};
  socklen_t length = sizeof(bound);
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length);
  *bound_port = bound.ss_family == AF_INET6
                    ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                    : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  return fd;
}

std::string NameEntry(X509_NAME* name, int nid) {
  char buffer[256];
  const int length = X509_NAME_get_text_by_NID(name, nid, buffer, sizeof(buffer));
  return length > 0 ? std::string(buffer, static_cast<size_t>(length)) : "";
}

void SetTimeouts(int fd, int seconds) {
  timeval timeout{};
  timeout.tv_sec = seconds;
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
}

}  // namespace

Server::Server(ServerOptions options, Emulator& emulator)
    : options_(std::move(options)), emulator_(emulator) {}

Server::~Server() {
  Stop();
  if (ssl_context_ != nullptr) SSL_CTX_free(ssl_context_);
}

bool Server::Start(std::string* error) {
  std::signal(SIGPIPE, SIG_IGN);

  ssl_context_ = SSL_CTX_new(TLS_server_method());
  if (ssl_context_ == nullptr) {
    *error = "SSL_CTX_new failed: " + OpenSslErrors();
    return false;
  }
  SSL_CTX_set_min_proto_version(ssl_context_, TLS1_2_VERSION);
  if (SSL_CTX_use_certificate_chain_file(ssl_context_, options_.cert_file.c_str()) != 1) {
    *error = "cannot load server certificate " + options_.cert_file + ": " + OpenSslErrors();
    return false;
  }
  if (SSL_CTX_use_PrivateKey_file(ssl_context_, options_.key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ssl_context_) != 1) {
    *error = "cannot load server key " + options_.key_file +
             " or it does not match the certificate: " + OpenSslErrors();
    return false;
  }
  if (SSL_CTX_load_verify_locations(ssl_context_, options_.ca_file.c_str(), nullptr) != 1) {
    *error = "cannot load client CA file " + options_.ca_file + ": " + OpenSslErrors();
    return false;
  }
  STACK_OF(X509_NAME)* client_cas = SSL_load_client_CA_file(options_.ca_file.c_str());
  if (client_cas != nullptr) SSL_CTX_set_client_CA_list(ssl_context_, client_cas);
  // Like AEAT, a client without a certificate that chains to the CA fails the handshake.
  SSL_CTX_set_verify(ssl_context_, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);

  listen_fd_ = OpenListener(options_.listen_address, options_.port, &port_, error);
  if (listen_fd_ < 0) return false;

  if (options_.control_port >= 0) {
    // The control API has no authentication, so it only ever listens on loopback.
    const std::string control_address =
        options_.listen_address.find(':') != std::string::npos ? "::1" : "127.0.0.1";
    control_fd_ = OpenListener(control_address, options_.control_port, &control_port_, error);
    if (control_fd_ < 0) return false;
  }

  accept_thread_ = std::thread([this] { AcceptLoop(listen_fd_, false); });
  if (control_fd_ >= 0) {
    control_accept_thread_ = std::thread([this] { AcceptLoop(control_fd_, true); });
  }
  return true;
}

void Server::Stop() {
  if (stopping_.exchange(true)) return;
  {
    std::lock_guard<std::mutex> lock(stop_mutex_);
    stop_signal_.notify_all();
  }
  if (accept_thread_.joinable()) accept_thread_.join();
  if (control_accept_thread_.joinable()) control_accept_thread_.join();

  {
    // Shutting the sockets down wakes threads blocked in reads. The fds stay open until their
    // thread has been joined, so no new socket can reuse a number that a thread still uses.
    std::lock_guard<std::mutex> lock(connections_mutex_);
    for (const auto& connection : connections_) shutdown(connection->fd, SHUT_RDWR);
  }
  ReapFinishedConnections(true);

  if (listen_fd_ >= 0) close(listen_fd_);
  if (control_fd_ >= 0) close(control_fd_);
  listen_fd_ = control_fd_ = -1;
}

void Server::ReapFinishedConnections(bool wait_all) {
  std::list<std::unique_ptr<Connection>> finished;
  {
    std::lock_guard<std::mutex> lock(connections_mutex_);
    for (auto it = connections_.begin(); it != connections_.end();) {
      if (wait_all || (*it)->done) {
        finished.push_back(std::move(*it));
        it = connections_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& connection : finished) {
    connection->thread.join();
    close(connection->fd);
  }
}

bool Server::WaitUnlessStopping(int delay_ms) {
  std::unique_lock<std::mutex> lock(stop_mutex_);
  return !stop_signal_.wait_for(lock, std::chrono::milliseconds(delay_ms),
                                [this] { return stopping_.load(); });
}

void Server::AcceptLoop(int listen_fd, bool is_control) {
  while (!stopping_) {
    ReapFinishedConnections(false);

    // Polling with a short timeout lets the loop notice Stop() without closing the socket
    // under a blocked accept().
    pollfd poll_fd{listen_fd, POLLIN, 0};
    if (poll(&poll_fd, 1, 200) <= 0) continue;

    sockaddr_storage peer_address{};
    socklen_t length = sizeof(peer_address);
    const int fd = accept4(listen_fd, reinterpret_cast<sockaddr*>(&peer_address), &length,
                           SOCK_CLOEXEC);
    if (fd < 0) continue;
    const std::string peer = FormatPeer(peer_address);

    if (is_control && !IsLoopback(peer_address)) {
      LogJson("WARNING", "control connection from a non-loopback peer closed", {{"peer", peer}});
      close(fd);
      continue;
    }

    std::lock_guard<std::mutex> lock(connections_mutex_);
    if (static_cast<int>(connections_.size()) >= options_.max_connections) {
      LogJson("WARNING", "connection limit reached, connection closed",
              {{"peer", peer}, {"max_connections", static_cast<int64_t>(options_.max_connections)}});
      close(fd);
      continue;
    }
    SetTimeouts(fd, options_.idle_timeout_seconds);
    auto connection = std::make_unique<Connection>();
    connection->fd = fd;
    Connection* raw = connection.get();
    connection->thread = std::thread([this, raw, peer, is_control] {
      if (is_control) {
        ServeControl(raw, peer);
      } else {
        ServeTls(raw, peer);
      }
      raw->done = true;
    });
    connections_.push_back(std::move(connection));
  }
}

void Server::ServeTls(Connection* connection, std::string peer) {
  SSL* ssl = SSL_new(ssl_context_);
  if (ssl == nullptr) {
    LogJson("ERROR", "SSL_new failed", {{"peer", peer}, {"error", OpenSslErrors()}});
    return;
  }
  SSL_set_fd(ssl, connection->fd);

  if (SSL_accept(ssl) != 1) {
    LogJson("WARNING", "TLS handshake failed", {{"peer", peer}, {"error", OpenSslErrors()}});
    SSL_free(ssl);
    return;
  }

  ClientInfo client;
  client.peer_address = peer;
  if (X509* certificate = SSL_get1_peer_certificate(ssl)) {
    X509_NAME* subject = X509_get_subject_name(certificate);
    client.subject_common_name = NameEntry(subject, NID_commonName);
    client.subject_serial_number = NameEntry(subject, NID_serialNumber);
    X509_free(certificate);
  }

  TlsStream stream(ssl);
  ServeHttp(stream, false, client);
  // A quiet shutdown skips the close_notify exchange, which could block on a dead peer.
  SSL_set_quiet_shutdown(ssl, 1);
  SSL_shutdown(ssl);
  SSL_free(ssl);
}

void Server::ServeControl(Connection* connection, std::string peer) {
  ClientInfo client;
  client.peer_address = peer;
  PlainStream stream(connection->fd);
  ServeHttp(stream, true, client);
}

void Server::ServeHttp(ByteStream& stream, bool is_control, const ClientInfo& client) {
  HttpReader reader(stream);
  while (!stopping_) {
    HttpRequest request;
    const ReadStatus status = reader.ReadRequest(&request);
    if (status == ReadStatus::kClosed) return;
    if (status != ReadStatus::kOk) {
      int code = 400;
      if (status == ReadStatus::kTooLarge) code = 413;
      if (status == ReadStatus::kHeaderTooLarge) code = 431;
      if (status == ReadStatus::kUnsupported) code = 501;
      LogJson("WARNING", "invalid HTTP request rejected",
              {{"peer", client.peer_address}, {"http_status", static_cast<int64_t>(code)}});
      const std::string reply = SerializeReply(TextReply(code, HttpStatusText(code)), false);
      stream.WriteAll(reply.data(), reply.size());
      return;
    }

    const HttpReply reply = is_control ? emulator_.HandleControl(request)
                                       : emulator_.HandleServiceRequest(request, client);
    if (reply.delay_ms > 0 && !WaitUnlessStopping(reply.delay_ms)) return;
    if (reply.drop_connection) {
      LogJson("INFO", "connection closed without a response (lose_response)",
              {{"peer", client.peer_address}});
      return;
    }

    const std::string bytes = SerializeReply(reply, request.keep_alive);
    if (!stream.WriteAll(bytes.data(), bytes.size())) {
      LogJson("WARNING", "failed to send the response; the peer may have closed the connection",
              {{"peer", client.peer_address}, {"http_status", static_cast<int64_t>(reply.status)}});
      return;
    }
    if (!request.keep_alive) return;
  }
}

}  // namespace aeat_emulator
