// Network front end of the emulator: the VERI*FACTU endpoint over HTTPS with mandatory client
// certificates, and the plain-HTTP control API on a loopback port. One thread per connection.

#ifndef AEAT_EMULATOR_SERVER_H_
#define AEAT_EMULATOR_SERVER_H_

#include <openssl/ssl.h>

#include <atomic>
#include <condition_variable>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "aeat_emulator/emulator.h"

namespace aeat_emulator {

struct ServerOptions {
  std::string listen_address = "127.0.0.1";
  int port = 8443;          // 0 picks an ephemeral port.
  int control_port = 8444;  // 0 picks an ephemeral port, -1 disables the control API.
  std::string cert_file;    // Server certificate chain (PEM).
  std::string key_file;     // Server private key (PEM).
  std::string ca_file;      // CA certificates that client certificates must chain to (PEM).
  int max_connections = 64;
  // A connection idle (or a TLS handshake stalled) this long is closed.
  int idle_timeout_seconds = 30;
};

class Server {
 public:
  Server(ServerOptions options, Emulator& emulator);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Loads the TLS material, binds both ports and starts accepting. Also sets SIGPIPE to be
  // ignored process-wide, because OpenSSL writes to sockets that peers may have closed.
  bool Start(std::string* error);

  // Stops accepting, wakes and joins every connection thread. Safe to call more than once.
  void Stop();

  int port() const { return port_; }
  int control_port() const { return control_port_; }

 private:
  struct Connection {
    int fd = -1;
    std::thread thread;
    std::atomic<bool> done{false};
  };

  void AcceptLoop(int listen_fd, bool is_control);
  void ServeTls(Connection* connection, std::string peer);
  void ServeControl(Connection* connection, std::string peer);
  void ServeHttp(ByteStream& stream, bool is_control, const ClientInfo& client);
  // Sleeps `delay_ms`, returning false early when the server is stopping.
  bool WaitUnlessStopping(int delay_ms);
  void ReapFinishedConnections(bool wait_all);

  ServerOptions options_;
  Emulator& emulator_;
  SSL_CTX* ssl_context_ = nullptr;

  int listen_fd_ = -1;
  int control_fd_ = -1;
  int port_ = 0;
  int control_port_ = 0;

  std::atomic<bool> stopping_{false};
  std::mutex stop_mutex_;
  std::condition_variable stop_signal_;

  std::thread accept_thread_;
  std::thread control_accept_thread_;
  std::mutex connections_mutex_;
  std::list<std::unique_ptr<Connection>> connections_;
};

}  // namespace aeat_emulator

#endif  // AEAT_EMULATOR_SERVER_H_
