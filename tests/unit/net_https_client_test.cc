// HttpsClient against a TLS server on 127.0.0.1 that this test starts in a thread, with
// certificates generated at start-up.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "net/https_client.h"

namespace fiscal::net {
namespace {

// A self-signed certificate and its key, also written as PEM files.
struct Identity {
  EVP_PKEY* key = nullptr;
  X509* certificate = nullptr;
  std::string certificate_file;
  std::string key_file;

  ~Identity() {
    X509_free(certificate);
    EVP_PKEY_free(key);
    if (!certificate_file.empty()) std::filesystem::remove(certificate_file);
    if (!key_file.empty()) std::filesystem::remove(key_file);
  }
};

void AddExtension(X509* certificate, int nid, const char* value) {
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, certificate, certificate, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value);
  ASSERT_NE(extension, nullptr);
  X509_add_ext(certificate, extension, -1);
  X509_EXTENSION_free(extension);
}

// Fills `identity` with a P-256 key and a certificate for the subject alternative names `names`,
// valid for a day.
void MakeIdentity(const std::string& common_name, const std::string& file_prefix, Identity& identity,
                  const char* names = "IP:127.0.0.1,DNS:localhost") {
  identity.key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  ASSERT_NE(identity.key, nullptr);
  identity.certificate = X509_new();
  X509* certificate = identity.certificate;
  X509_set_version(certificate, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(certificate), 1);
  X509_gmtime_adj(X509_getm_notBefore(certificate), -60);
  X509_gmtime_adj(X509_getm_notAfter(certificate), 24 * 60 * 60);
  X509_NAME* name = X509_get_subject_name(certificate);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1, 0);
  X509_set_issuer_name(certificate, name);
  X509_set_pubkey(certificate, identity.key);
  AddExtension(certificate, NID_basic_constraints, "critical,CA:TRUE");
  AddExtension(certificate, NID_key_usage, "critical,digitalSignature,keyCertSign");
  AddExtension(certificate, NID_subject_alt_name, names);
  ASSERT_GT(X509_sign(certificate, identity.key, EVP_sha256()), 0);

  std::string prefix = (std::filesystem::path(testing::TempDir()) /
                        (file_prefix + "_" + std::to_string(::getpid())))
                           .string();
  identity.certificate_file = prefix + "_cert.pem";
  identity.key_file = prefix + "_key.pem";
  FILE* file = std::fopen(identity.certificate_file.c_str(), "w");
  ASSERT_NE(file, nullptr);
  PEM_write_X509(file, certificate);
  std::fclose(file);
  file = std::fopen(identity.key_file.c_str(), "w");
  ASSERT_NE(file, nullptr);
  PEM_write_PrivateKey(file, identity.key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(file);
}

// What the server does with each connection.
enum class Behavior {
  kRespond,      // responds with the configured status and body
  kHoldRequest,  // reads the request and sends no response until the server stops
};

// A one-thread HTTPS server on an ephemeral port of 127.0.0.1. It serves connections one at a time
// until it is destroyed, and records the last request it read.
class TlsServer {
 public:
  TlsServer(const Identity& server, Behavior behavior, const Identity* trusted_client = nullptr)
      : behavior_(behavior) {
    context_ = SSL_CTX_new(TLS_server_method());
    SSL_CTX_use_certificate(context_, server.certificate);
    SSL_CTX_use_PrivateKey(context_, server.key);
    if (trusted_client != nullptr) {
      X509_STORE_add_cert(SSL_CTX_get_cert_store(context_), trusted_client->certificate);
      SSL_CTX_set_verify(context_, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    }

    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    ::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    ::listen(listener_, 8);
    socklen_t length = sizeof(address);
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }

  ~TlsServer() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    stopped_.notify_all();
    thread_.join();
    ::close(listener_);
    SSL_CTX_free(context_);
  }

  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_) + "/submit"; }

  std::string last_request() {
    std::lock_guard<std::mutex> lock(mutex_);
    return last_request_;
  }
  bool saw_client_certificate() {
    std::lock_guard<std::mutex> lock(mutex_);
    return saw_client_certificate_;
  }

  int status_code = 200;
  std::string content_type = "text/xml; charset=utf-8";
  std::string body = "<ok/>";

 private:
  bool stopping() {
    std::lock_guard<std::mutex> lock(mutex_);
    return stopping_;
  }

  void Serve() {
    while (!stopping()) {
      pollfd ready{listener_, POLLIN, 0};
      if (::poll(&ready, 1, 50) <= 0) continue;
      int connection = ::accept(listener_, nullptr, nullptr);
      if (connection < 0) continue;
      // Bounds every read, so a client that stalls cannot hang the test.
      timeval timeout{5, 0};
      ::setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
      HandleConnection(connection);
      ::close(connection);
    }
  }

  void HandleConnection(int connection) {
    SSL* ssl = SSL_new(context_);
    SSL_set_fd(ssl, connection);
    if (SSL_accept(ssl) != 1) {
      ERR_clear_error();
      SSL_free(ssl);
      return;
    }
    X509* peer = SSL_get1_peer_certificate(ssl);
    std::string request = ReadRequest(ssl);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      last_request_ = request;
      saw_client_certificate_ = peer != nullptr;
    }
    X509_free(peer);

    if (behavior_ == Behavior::kHoldRequest) {
      std::unique_lock<std::mutex> lock(mutex_);
      stopped_.wait_for(lock, std::chrono::seconds(10), [this] { return stopping_; });
    } else {
      std::string response = "HTTP/1.1 " + std::to_string(status_code) + " Status\r\nContent-Type: " +
                             content_type + "\r\nContent-Length: " + std::to_string(body.size()) +
                             "\r\nConnection: close\r\n\r\n" + body;
      SSL_write(ssl, response.data(), static_cast<int>(response.size()));
      SSL_shutdown(ssl);
    }
    SSL_free(ssl);
  }

  // Reads the header block and as many body bytes as Content-Length announces.
  static std::string ReadRequest(SSL* ssl) {
    std::string request;
    char buffer[4096];
    for (int reads = 0; reads < 1000; ++reads) {
      size_t header_end = request.find("\r\n\r\n");
      if (header_end != std::string::npos) {
        size_t length_at = request.find("Content-Length: ");
        size_t length = length_at == std::string::npos ? 0 : std::stoul(request.substr(length_at + 16));
        if (request.size() >= header_end + 4 + length) break;
      }
      int n = SSL_read(ssl, buffer, sizeof(buffer));
      if (n <= 0) break;
      request.append(buffer, static_cast<size_t>(n));
    }
    return request;
  }

  Behavior behavior_;
  SSL_CTX* context_ = nullptr;
  int listener_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable stopped_;
  bool stopping_ = false;
  std::string last_request_;
  bool saw_client_certificate_ = false;
};

// Returns a loopback port with nothing listening on it.
int ClosedPort() {
  int probe = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(probe, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  ::getsockname(probe, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(probe);
  return ntohs(address.sin_port);
}

class HttpsClientTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    // A client that hangs up makes SSL_write raise SIGPIPE, which would end the test binary.
    std::signal(SIGPIPE, SIG_IGN);
  }

  void SetUp() override {
    MakeIdentity("fiscal test server", "https_server", server_);
    MakeIdentity("fiscal test client", "https_client", client_);
  }

  EndpointConfig Endpoint(const TlsServer& server) const {
    EndpointConfig endpoint;
    endpoint.url = server.url();
    endpoint.ca_file = server_.certificate_file;
    return endpoint;
  }

  static HttpRequest Request(uint32_t timeout_ms = 5000) {
    HttpRequest request;
    request.content_type = "application/xml";
    request.extra_headers = "SOAPAction: \"\"\nX-Test: 1\r\n\nnot a header";
    request.body = "<record>1</record>";
    request.timeout_ms = timeout_ms;
    return request;
  }

  Identity server_;
  Identity client_;
};

TEST_F(HttpsClientTest, PostsAndReadsResponse) {
  TlsServer server(server_, Behavior::kRespond);
  HttpsClient client;

  HttpExchange exchange = client.Send(Endpoint(server), Request());

  EXPECT_EQ(exchange.transport_error, "");
  EXPECT_EQ(exchange.status_code, 200);
  EXPECT_EQ(exchange.body, "<ok/>");
  EXPECT_EQ(exchange.content_type, "text/xml; charset=utf-8");
  EXPECT_FALSE(exchange.timed_out);
  std::string request = server.last_request();
  EXPECT_EQ(request.rfind("POST /submit HTTP/1.1\r\n", 0), 0u) << request;
  EXPECT_NE(request.find("\r\nContent-Type: application/xml\r\n"), std::string::npos) << request;
  EXPECT_NE(request.find("\r\nX-Test: 1\r\n"), std::string::npos) << request;
  EXPECT_NE(request.find("\r\nSOAPAction: \"\"\r\n"), std::string::npos) << request;
  EXPECT_EQ(request.find("not a header"), std::string::npos) << request;
  EXPECT_EQ(request.find("Expect:"), std::string::npos) << request;
  EXPECT_EQ(request.substr(request.size() - 18), "<record>1</record>");
  EXPECT_FALSE(server.saw_client_certificate());
}

TEST_F(HttpsClientTest, ServerErrorIsAResponse) {
  TlsServer server(server_, Behavior::kRespond);
  server.status_code = 503;
  server.body = "busy";
  HttpsClient client;

  HttpExchange exchange = client.Send(Endpoint(server), Request());

  EXPECT_EQ(exchange.transport_error, "");
  EXPECT_EQ(exchange.status_code, 503);
  EXPECT_EQ(exchange.body, "busy");
}

TEST_F(HttpsClientTest, SendsClientCertificate) {
  TlsServer server(server_, Behavior::kRespond, &client_);
  HttpsClient client;
  EndpointConfig endpoint = Endpoint(server);
  endpoint.client_cert = client_.certificate_file;
  endpoint.client_key = client_.key_file;

  HttpExchange exchange = client.Send(endpoint, Request());

  EXPECT_EQ(exchange.transport_error, "");
  EXPECT_EQ(exchange.status_code, 200);
  EXPECT_TRUE(server.saw_client_certificate());
}

TEST_F(HttpsClientTest, MissingClientCertificateFails) {
  TlsServer server(server_, Behavior::kRespond, &client_);
  HttpsClient client;

  HttpExchange exchange = client.Send(Endpoint(server), Request());

  EXPECT_EQ(exchange.status_code, 0);
  EXPECT_NE(exchange.transport_error, "");
  EXPECT_FALSE(exchange.timed_out);
}

TEST_F(HttpsClientTest, UntrustedServerRejected) {
  TlsServer server(server_, Behavior::kRespond);
  HttpsClient client;
  EndpointConfig endpoint = Endpoint(server);
  endpoint.ca_file = client_.certificate_file;  // a CA that did not sign the server certificate

  HttpExchange exchange = client.Send(endpoint, Request());

  EXPECT_EQ(exchange.status_code, 0);
  EXPECT_NE(exchange.transport_error.find("certificate"), std::string::npos) << exchange.transport_error;
  EXPECT_TRUE(server.last_request().empty());
}

TEST_F(HttpsClientTest, WrongHostNameRejected) {
  Identity other;
  MakeIdentity("fiscal other server", "https_other", other, "DNS:other.example");
  TlsServer server(other, Behavior::kRespond);
  HttpsClient client;
  EndpointConfig endpoint = Endpoint(server);
  endpoint.ca_file = other.certificate_file;

  HttpExchange exchange = client.Send(endpoint, Request());

  EXPECT_EQ(exchange.status_code, 0);
  EXPECT_NE(exchange.transport_error.find("subject name"), std::string::npos) << exchange.transport_error;
  EXPECT_TRUE(server.last_request().empty());
}

TEST_F(HttpsClientTest, ConnectionRefused) {
  HttpsClient client;
  EndpointConfig endpoint;
  endpoint.url = "https://127.0.0.1:" + std::to_string(ClosedPort()) + "/submit";
  endpoint.ca_file = server_.certificate_file;

  HttpExchange exchange = client.Send(endpoint, Request());

  EXPECT_EQ(exchange.status_code, 0);
  EXPECT_NE(exchange.transport_error.find("Couldn't connect to server"), std::string::npos)
      << exchange.transport_error;
  EXPECT_FALSE(exchange.timed_out);
}

TEST_F(HttpsClientTest, SlowServerTimesOut) {
  TlsServer server(server_, Behavior::kHoldRequest);
  HttpsClient client;

  auto start = std::chrono::steady_clock::now();
  HttpExchange exchange = client.Send(Endpoint(server), Request(/*timeout_ms=*/300));
  auto elapsed = std::chrono::steady_clock::now() - start;

  EXPECT_TRUE(exchange.timed_out);
  EXPECT_EQ(exchange.status_code, 0);
  EXPECT_NE(exchange.transport_error.find("Timeout was reached"), std::string::npos) << exchange.transport_error;
  EXPECT_LT(elapsed, std::chrono::seconds(3));
}

TEST_F(HttpsClientTest, LargeResponseRejected) {
  TlsServer server(server_, Behavior::kRespond);
  server.body = std::string(4096, 'x');
  HttpsClient::Options options;
  options.max_response_bytes = 1024;
  HttpsClient client(options);

  HttpExchange exchange = client.Send(Endpoint(server), Request());

  EXPECT_EQ(exchange.status_code, 0);
  EXPECT_TRUE(exchange.body.empty());
  EXPECT_NE(exchange.transport_error.find("exceeds the limit of 1024 bytes"), std::string::npos)
      << exchange.transport_error;
}

TEST_F(HttpsClientTest, ConcurrentRequests) {
  TlsServer server(server_, Behavior::kRespond);
  HttpsClient client;
  std::atomic<int> successes{0};

  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      for (int request = 0; request < 3; ++request) {
        if (client.Send(Endpoint(server), Request()).status_code == 200) ++successes;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  EXPECT_EQ(successes.load(), 12);
}

}  // namespace
}  // namespace fiscal::net
