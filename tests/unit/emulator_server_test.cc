// Socket-level tests of the AEAT emulator: the TLS server runs in-process on ephemeral loopback
// ports with certificates from scripts/gen-pki.sh, and libcurl acts as the client.

#include <curl/curl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "aeat_emulator/emulator.h"
#include "aeat_emulator/json_log.h"
#include "aeat_emulator/server.h"
#include "aeat_emulator/xml_support.h"

namespace aeat_emulator {
namespace {

struct CurlResult {
  CURLcode code = CURLE_OK;
  long http_status = 0;
  long new_connections = 0;
  std::string body;
};

size_t AppendToString(char* data, size_t size, size_t count, void* user_data) {
  static_cast<std::string*>(user_data)->append(data, size * count);
  return size * count;
}

std::string ReadFixture(const std::string& name) {
  std::ifstream input(std::string(FISCAL_SOURCE_DIR) + "/tests/data/emulator/" + name);
  std::stringstream content;
  content << input.rdbuf();
  return content.str();
}

struct CurlDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
using CurlHandle = std::unique_ptr<CURL, CurlDeleter>;

class EmulatorServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    SetLogEnabled(false);
    ASSERT_EQ(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);

    char pattern[] = "/tmp/aeat-emulator-pki-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    pki_dir_ = pattern;
    const std::string command = std::string(FISCAL_SOURCE_DIR) + "/scripts/gen-pki.sh " +
                                pki_dir_ + " > " + pki_dir_ + "/gen-pki.log 2>&1";
    ASSERT_EQ(std::system(command.c_str()), 0) << "gen-pki.sh failed, see " << pki_dir_;

    std::string error;
    std::shared_ptr<const SchemaSet> schemas =
        SchemaSet::Load(std::string(FISCAL_SOURCE_DIR) + "/plugins/spain/xsd", &error);
    ASSERT_NE(schemas, nullptr) << error;
    // The fixtures were generated at 2025-06-02T10:00:00+02:00. A clock one minute later keeps
    // them inside the 240 s margin of error 2004.
    EmulatorConfig config;
    config.clock = [] {
      return std::chrono::system_clock::time_point(std::chrono::seconds(1748851260));
    };
    emulator_ = new Emulator(config, schemas);
    ASSERT_TRUE(emulator_->Open(&error)) << error;

    ServerOptions options;
    options.port = 0;
    options.control_port = 0;
    options.cert_file = pki_dir_ + "/server.pem";
    options.key_file = pki_dir_ + "/server-key.pem";
    options.ca_file = pki_dir_ + "/ca.pem";
    options.idle_timeout_seconds = 5;
    server_ = new Server(options, *emulator_);
    ASSERT_TRUE(server_->Start(&error)) << error;
  }

  static void TearDownTestSuite() {
    delete server_;
    delete emulator_;
    server_ = nullptr;
    emulator_ = nullptr;
    if (!pki_dir_.empty()) std::filesystem::remove_all(pki_dir_);
    curl_global_cleanup();
  }

  void SetUp() override {
    ASSERT_NE(server_, nullptr);
    ASSERT_EQ(Control("/control/reset", "").http_status, 200);
  }

  static std::string ServiceUrl() {
    return "https://127.0.0.1:" + std::to_string(server_->port()) + kVerifactuPath;
  }

  // Sends one request on `handle`. Proxies are disabled so that traffic stays on loopback.
  static CurlResult Perform(CURL* handle, const std::string& url, const std::string* body) {
    CurlResult result;
    curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
    curl_easy_setopt(handle, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, AppendToString);
    curl_easy_setopt(handle, CURLOPT_WRITEDATA, &result.body);
    if (body != nullptr) {
      curl_easy_setopt(handle, CURLOPT_POSTFIELDS, body->c_str());
      curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE, static_cast<long>(body->size()));
    } else {
      curl_easy_setopt(handle, CURLOPT_HTTPGET, 1L);
    }
    result.code = curl_easy_perform(handle);
    curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &result.http_status);
    curl_easy_getinfo(handle, CURLINFO_NUM_CONNECTS, &result.new_connections);
    return result;
  }

  // `client` is "client", "untrusted-client" or "" for no client certificate.
  static CurlHandle TlsHandle(const std::string& client) {
    CurlHandle handle(curl_easy_init());
    curl_easy_setopt(handle.get(), CURLOPT_CAINFO, (pki_dir_ + "/ca.pem").c_str());
    if (!client.empty()) {
      curl_easy_setopt(handle.get(), CURLOPT_SSLCERT, (pki_dir_ + "/" + client + ".pem").c_str());
      curl_easy_setopt(handle.get(), CURLOPT_SSLKEY,
                       (pki_dir_ + "/" + client + "-key.pem").c_str());
    }
    return handle;
  }

  static CurlResult PostSoap(const std::string& client, const std::string& soap) {
    CurlHandle handle = TlsHandle(client);
    return Perform(handle.get(), ServiceUrl(), &soap);
  }

  static CurlResult Control(const std::string& path, const std::string& body, bool post = true) {
    CurlHandle handle(curl_easy_init());
    const std::string url = "http://127.0.0.1:" + std::to_string(server_->control_port()) + path;
    return Perform(handle.get(), url, post ? &body : nullptr);
  }

  static std::string pki_dir_;
  static Emulator* emulator_;
  static Server* server_;
};

std::string EmulatorServerTest::pki_dir_;
Emulator* EmulatorServerTest::emulator_ = nullptr;
Server* EmulatorServerTest::server_ = nullptr;

TEST_F(EmulatorServerTest, TrustedClientGetsSoapResponse) {
  const CurlResult result = PostSoap("client", ReadFixture("alta-primer.xml"));

  ASSERT_EQ(result.code, CURLE_OK) << curl_easy_strerror(result.code);
  EXPECT_EQ(result.http_status, 200);
  EXPECT_NE(result.body.find("RespuestaRegFactuSistemaFacturacion"), std::string::npos);
  EXPECT_NE(result.body.find("<tikR:EstadoEnvio>Correcto</tikR:EstadoEnvio>"), std::string::npos)
      << result.body;
  // The presenter NIF comes from the client certificate's serialNumber.
  EXPECT_NE(result.body.find("<tik:NIFPresentador>89890001K</tik:NIFPresentador>"),
            std::string::npos);
}

TEST_F(EmulatorServerTest, ClientWithoutCertificateFailsHandshake) {
  const CurlResult result = PostSoap("", ReadFixture("alta-primer.xml"));

  EXPECT_NE(result.code, CURLE_OK);
  EXPECT_EQ(result.http_status, 0);
  EXPECT_EQ(result.body, "");
}

TEST_F(EmulatorServerTest, UntrustedClientCertificateFailsHandshake) {
  const CurlResult result = PostSoap("untrusted-client", ReadFixture("alta-primer.xml"));

  EXPECT_NE(result.code, CURLE_OK);
  EXPECT_EQ(result.http_status, 0);
  EXPECT_EQ(result.body, "");
  EXPECT_EQ(Control("/control/records", "", false).body.find("EMU-2025-0001"), std::string::npos);
}

TEST_F(EmulatorServerTest, UnknownPathGives404) {
  CurlHandle handle = TlsHandle("client");
  const std::string body = ReadFixture("alta-primer.xml");
  const std::string url =
      "https://127.0.0.1:" + std::to_string(server_->port()) + "/wlpl/unknown";

  const CurlResult result = Perform(handle.get(), url, &body);

  ASSERT_EQ(result.code, CURLE_OK) << curl_easy_strerror(result.code);
  EXPECT_EQ(result.http_status, 404);
}

TEST_F(EmulatorServerTest, KeepAliveReusesTheConnection) {
  CurlHandle handle = TlsHandle("client");
  const std::string first = ReadFixture("alta-primer.xml");
  const std::string second = ReadFixture("alta-encadenada.xml");

  const CurlResult first_result = Perform(handle.get(), ServiceUrl(), &first);
  const CurlResult second_result = Perform(handle.get(), ServiceUrl(), &second);

  ASSERT_EQ(first_result.code, CURLE_OK) << curl_easy_strerror(first_result.code);
  ASSERT_EQ(second_result.code, CURLE_OK) << curl_easy_strerror(second_result.code);
  EXPECT_EQ(first_result.new_connections, 1);
  EXPECT_EQ(second_result.new_connections, 0);
  EXPECT_NE(second_result.body.find("<tikR:EstadoEnvio>Correcto</tikR:EstadoEnvio>"),
            std::string::npos);
}

TEST_F(EmulatorServerTest, Http500FaultModeAppliesToCountRequests) {
  const CurlResult set = Control("/control/fault", R"({"mode":"http500","count":1})");
  ASSERT_EQ(set.http_status, 200) << set.body;

  const CurlResult failed = PostSoap("client", ReadFixture("alta-primer.xml"));
  const CurlResult recovered = PostSoap("client", ReadFixture("alta-primer.xml"));

  ASSERT_EQ(failed.code, CURLE_OK) << curl_easy_strerror(failed.code);
  EXPECT_EQ(failed.http_status, 500);
  EXPECT_EQ(failed.body.find("Envelope"), std::string::npos) << failed.body;
  EXPECT_EQ(recovered.http_status, 200);
  EXPECT_NE(recovered.body.find("<tikR:EstadoEnvio>Correcto</tikR:EstadoEnvio>"),
            std::string::npos)
      << "the record of the failed request must not have been stored";
}

TEST_F(EmulatorServerTest, LoseResponseStoresRecordAndClosesConnection) {
  ASSERT_EQ(Control("/control/fault", R"({"mode":"lose_response","count":1})").http_status, 200);

  const CurlResult lost = PostSoap("client", ReadFixture("alta-primer.xml"));
  const CurlResult records = Control("/control/records", "", false);
  const CurlResult resent = PostSoap("client", ReadFixture("alta-primer.xml"));

  EXPECT_EQ(lost.code, CURLE_GOT_NOTHING) << curl_easy_strerror(lost.code);
  EXPECT_EQ(lost.body, "");
  EXPECT_NE(records.body.find("\"num_serie\":\"EMU-2025-0001\""), std::string::npos)
      << records.body;
  EXPECT_NE(records.body.find("\"requests\":1"), std::string::npos) << records.body;
  ASSERT_EQ(resent.code, CURLE_OK);
  EXPECT_NE(resent.body.find("<tikR:CodigoErrorRegistro>3000</tikR:CodigoErrorRegistro>"),
            std::string::npos)
      << resent.body;
  EXPECT_NE(resent.body.find("<tik:EstadoRegistroDuplicado>Correcta</tik:EstadoRegistroDuplicado>"),
            std::string::npos);
}

TEST_F(EmulatorServerTest, TimeoutFaultHoldsTheResponse) {
  ASSERT_EQ(Control("/control/fault", R"({"mode":"timeout","count":1,"delay_ms":3000})").http_status,
            200);
  CurlHandle handle = TlsHandle("client");
  curl_easy_setopt(handle.get(), CURLOPT_TIMEOUT_MS, 1000L);
  const std::string body = ReadFixture("alta-primer.xml");

  // Perform() sets its own 10 s timeout, so the short one is applied directly here.
  std::string received;
  curl_easy_setopt(handle.get(), CURLOPT_URL, ServiceUrl().c_str());
  curl_easy_setopt(handle.get(), CURLOPT_NOPROXY, "*");
  curl_easy_setopt(handle.get(), CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(handle.get(), CURLOPT_WRITEFUNCTION, AppendToString);
  curl_easy_setopt(handle.get(), CURLOPT_WRITEDATA, &received);
  const CURLcode code = curl_easy_perform(handle.get());

  EXPECT_EQ(code, CURLE_OPERATION_TIMEDOUT) << curl_easy_strerror(code);
  EXPECT_EQ(received, "");
}

TEST_F(EmulatorServerTest, ControlWaitSecondsAndRequestsLog) {
  const CurlResult set = Control("/control/fault", R"({"wait_seconds":45})");
  ASSERT_EQ(set.code, CURLE_OK) << curl_easy_strerror(set.code);
  EXPECT_EQ(set.http_status, 200) << set.body;

  const CurlResult result = PostSoap("client", ReadFixture("alta-primer.xml"));
  const CurlResult records = Control("/control/records", "", false);

  ASSERT_EQ(result.code, CURLE_OK) << curl_easy_strerror(result.code);
  EXPECT_NE(result.body.find("<tikR:TiempoEsperaEnvio>45</tikR:TiempoEsperaEnvio>"),
            std::string::npos)
      << result.body;
  // The test clock is fixed at 1748851260 s.
  EXPECT_NE(records.body.find(
                R"("requests_log":[{"request":1,"received_at_ms":1748851260000,"records":1}])"),
            std::string::npos)
      << records.body;
  EXPECT_NE(records.body.find(R"("incidencia":false,"last_incidencia":false)"), std::string::npos)
      << records.body;
}

TEST_F(EmulatorServerTest, ControlHealthReturnsJson) {
  const CurlResult result = Control("/control/health", "", false);

  ASSERT_EQ(result.code, CURLE_OK);
  EXPECT_EQ(result.http_status, 200);
  EXPECT_EQ(result.body, "{\"status\":\"ok\"}");
}

}  // namespace
}  // namespace aeat_emulator
