#include "harness.h"

#include <curl/curl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <random>
#include <thread>

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

namespace fiscal::testing {
namespace {

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : value;
}

size_t Collect(char* data, size_t size, size_t count, void* target) {
  static_cast<std::string*>(target)->append(data, size * count);
  return size * count;
}

size_t CollectHeader(char* data, size_t size, size_t count, void* target) {
  std::string line(data, size * count);
  size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ')) value.erase(0, 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
    (*static_cast<std::map<std::string, std::string>*>(target))[name] = value;
  }
  return size * count;
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  int port = ntohs(address.sin_port);
  close(fd);
  return port;
}

std::string RandomSuffix() {
  std::mt19937_64 generator(std::random_device{}());
  return std::to_string(generator() % 1000000000ULL);
}

}  // namespace

HttpResult HttpCall(const std::string& method, const std::string& url, const std::string& body,
                    const std::vector<std::string>& headers) {
  // One handle per thread keeps connections alive between calls, as a real client would.
  thread_local CURL* curl = curl_easy_init();
  curl_easy_reset(curl);

  HttpResult result;
  // Pistache 0.0.5 never sends "100 Continue", so curl's wait for it is turned off.
  curl_slist* list = curl_slist_append(nullptr, "Expect:");
  for (const std::string& header : headers) list = curl_slist_append(list, header.c_str());
  if (!body.empty()) list = curl_slist_append(list, "Content-Type: application/json");

  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  if (!body.empty() || method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &result.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, CollectHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &result.headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);

  CURLcode code = curl_easy_perform(curl);
  if (code != CURLE_OK) result.error = curl_easy_strerror(code);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &result.status);
  curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &result.new_connections);
  char* content_type = nullptr;
  curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &content_type);
  if (content_type != nullptr) result.content_type = content_type;
  curl_slist_free_all(list);
  return result;
}

json::Node ParseJson(const std::string& text) {
  Result<json::Node> parsed = json::Parse(text, "response");
  EXPECT_TRUE(parsed.ok()) << "not JSON: " << text;
  return parsed.ok() ? parsed.value() : json::Node();
}

std::string Text(const json::Node& node, const char* name) {
  const json::Node* member = node.Find(name);
  return member == nullptr ? "" : member->text();
}

std::string MissingEnvironment() {
  if (Env("FISCAL_TEST_PG").empty()) {
    return "integration tests need the servers that scripts/test.sh starts (FISCAL_TEST_PG is not set); "
           "run ./scripts/test.sh";
  }
  return "";
}

TestDatabase::TestDatabase() {
  name_ = "test_" + RandomSuffix();
  soci::session admin(soci::postgresql, Env("FISCAL_TEST_PG") + " dbname=postgres");
  admin << "CREATE DATABASE " + name_;
  connection_ = Env("FISCAL_TEST_PG") + " dbname=" + name_;
}

TestDatabase::~TestDatabase() {
  try {
    soci::session admin(soci::postgresql, Env("FISCAL_TEST_PG") + " dbname=postgres");
    admin << "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)";
  } catch (const std::exception& error) {
    ADD_FAILURE() << "could not drop test database " << name_ << ": " << error.what();
  }
}

std::string TestDatabase::Query(const std::string& sql) const {
  soci::session session(soci::postgresql, connection_);
  std::string value;
  soci::indicator indicator = soci::i_null;
  session << "SELECT (" + sql + ")::text", soci::into(value, indicator);
  return indicator == soci::i_ok ? value : "";
}

std::string TestDatabase::Execute(const std::string& sql) const {
  try {
    soci::session session(soci::postgresql, connection_);
    session << sql;
    return "";
  } catch (const std::exception& error) {
    return error.what();
  }
}

HostProcess::HostProcess(const TestDatabase& database, const HostOptions& options) {
  port_ = FreePort();
  base_url_ = "http://127.0.0.1:" + std::to_string(port_);
  std::string work = Env("FISCAL_TEST_WORK_DIR").empty() ? "/tmp" : Env("FISCAL_TEST_WORK_DIR");
  config_path_ = work + "/host-" + std::to_string(port_) + ".json";
  log_path_ = work + "/host-" + std::to_string(port_) + ".log";
  database_connection_ = database.connection();
  RewriteConfig(options);
  std::string config_path = config_path_;

  std::string binary = std::string(FISCAL_BINARY_DIR) + "/host/fiscal-host";
  pid_ = fork();
  if (pid_ == 0) {
    FILE* log = std::fopen(log_path_.c_str(), "a");
    if (log != nullptr) dup2(fileno(log), STDERR_FILENO);
    execl(binary.c_str(), binary.c_str(), "--config", config_path.c_str(), "--migrate", static_cast<char*>(nullptr));
    _exit(127);
  }

  for (int i = 0; i < 300; ++i) {
    HttpResult health = HttpCall("GET", base_url_ + "/health");
    if (health.status == 200) return;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      ADD_FAILURE() << "fiscal-host exited at start-up; log: " << log_path_;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ADD_FAILURE() << "fiscal-host did not become healthy within 30 s; log: " << log_path_;
}

void HostProcess::RewriteConfig(const HostOptions& options) {
  std::string pki = Env("FISCAL_TEST_PKI");
  std::string work = Env("FISCAL_TEST_WORK_DIR").empty() ? "/tmp" : Env("FISCAL_TEST_WORK_DIR");

  std::string plugins;
  if (options.with_spain) {
    std::string location = options.spain_version.empty()
                               ? "\"path\":\"" + std::string(FISCAL_PLUGIN_DIR) +
                                     "/spain-verifactu/1.0.0/libfiscal_spain_verifactu.so\","
                               : "\"version\":\"" + options.spain_version + "\",\"location_versions\":" +
                                     options.spain_location_versions + ",";
    plugins = "{\"name\":\"spain-verifactu\",\"country\":\"ES\",\"system\":\"verifactu\"," + location +
              "\"circuit_breaker\":{\"country\":\"spain\",\"authority\":\"aeat\"},"
              "\"endpoints\":{\"verifactu\":{\"test\":{\"url\":\"" + Env("FISCAL_TEST_EMULATOR_URL") +
              "\",\"ca_file\":\"" + pki + "/ca.pem\",\"client_cert\":\"" + pki + "/client.pem\",\"client_key\":\"" +
              pki + "/client-key.pem\",\"timeout_ms\":3000}}}}";
  }
  if (options.with_france) {
    plugins += std::string(plugins.empty() ? "" : ",") +
               "{\"name\":\"france-nf525\",\"country\":\"FR\",\"system\":\"nf525\",\"path\":\"" +
               FISCAL_PLUGIN_DIR + "/france-nf525/" + options.france_version + "/libfiscal_france_nf525" +
               (options.france_version == "1.0.0" ? "" : "_next") + ".so\"}";
  }
  for (const std::string& extra : options.extra_plugins_json) plugins += (plugins.empty() ? "" : ",") + extra;

  // Written next to the old file and renamed, so that a reload never reads half a file.
  std::string temporary = config_path_ + ".tmp";
  std::ofstream config(temporary);
  config << "{\"http\":{\"address\":\"127.0.0.1\",\"port\":" << port_ << ",\"threads\":8},"
         << "\"database\":{\"connection\":\"" << database_connection_ << "\",\"pool_size\":16},"
         << "\"redis\":{\"host\":\"127.0.0.1\",\"port\":" << (Env("FISCAL_TEST_REDIS_PORT").empty() ? "6379" : Env("FISCAL_TEST_REDIS_PORT")) << "},"
         << "\"sql_dir\":\"" << FISCAL_SOURCE_DIR << "/sql\","
         << "\"plugin_dir\":\"" << (options.plugin_dir.empty() ? std::string(FISCAL_PLUGIN_DIR) : options.plugin_dir) << "\","
         << "\"plugin_cache_dir\":\"" << work << "/plugin-cache\","
         << "\"submission\":{\"workers\":" << options.submission_workers << ",\"poll_interval_ms\":100,\"lease_seconds\":10,"
         << "\"max_attempts\":" << options.max_attempts << ",\"late_after_seconds\":" << options.late_after_seconds << "},"
         << "\"admin_token\":\"" << kAdminToken << "\","
         << "\"rate_limits\":{\"tiers\":{\"sandbox\":" << options.sandbox_tier_json << "}},"
         << "\"circuit_breaker\":{\"failure_threshold\":3,\"open_seconds\":2},"
         << "\"webhooks\":{\"allow_loopback\":true},"
         << (options.plugin_trust_json.empty() ? "" : "\"plugin_trust\":" + options.plugin_trust_json + ",")
         << (options.signing_keys_dir.empty() ? "" : "\"signing_keys\":{\"directory\":\"" + options.signing_keys_dir + "\"},")
         << (options.closures_json.empty() ? "" : "\"closures\":" + options.closures_json + ",")
         << "\"plugins\":[" << plugins << "]}";
  config.close();
  std::rename(temporary.c_str(), config_path_.c_str());
}

HostProcess::~HostProcess() { Stop(); }

void HostProcess::Stop(bool hard) {
  if (pid_ <= 0) return;
  kill(pid_, hard ? SIGKILL : SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::vector<std::string> Auth(const std::string& key) { return {"Authorization: Bearer " + key}; }

std::string CreateAccount(const std::string& base_url) {
  HttpResult created = HttpCall("POST", base_url + "/v1/accounts",
                                "{\"name\":\"Test shop\",\"billing_email\":\"shop-" + RandomSuffix() + "@example.com\"}");
  EXPECT_EQ(created.status, 201) << created.body;
  json::Node body = ParseJson(created.body);
  const json::Node* key = body.Find("api_key");
  return key == nullptr ? "" : Text(*key, "key");
}

std::string CreateSpainLocation(const std::string& base_url, const std::string& key, const std::string& nif,
                                const std::string& installation) {
  HttpResult created = HttpCall("POST", base_url + "/v1/locations",
                                "{\"name\":\"Tienda\",\"country\":\"ES\",\"country_config\":{\"system\":\"verifactu\","
                                "\"nif\":\"" + nif + "\",\"legal_name\":\"Empresa Ficticia SL\",\"invoice_series\":\"T" +
                                    RandomSuffix() + "-\",\"installation_number\":\"" + installation + "\"}}",
                                Auth(key));
  EXPECT_EQ(created.status, 201) << created.body;
  return Text(ParseJson(created.body), "id");
}

std::string CreateFranceLocation(const std::string& base_url, const std::string& key, const std::string& siret,
                                 const std::string& register_id) {
  HttpResult created = HttpCall("POST", base_url + "/v1/locations",
                                "{\"name\":\"Boutique\",\"country\":\"FR\",\"country_config\":{\"system\":\"nf525\","
                                "\"siret\":\"" + siret + "\",\"register_id\":\"" + register_id +
                                    "\",\"establishment\":\"Boulangerie Fictive\"}}",
                                Auth(key));
  EXPECT_EQ(created.status, 201) << created.body;
  return Text(ParseJson(created.body), "id");
}

std::string SaleBody(const std::string& location_id) {
  return "{\"location_id\":\"" + location_id + "\",\"timestamp\":\"2026-12-04T10:15:00+01:00\","
         "\"items\":[{\"description\":\"Cafe\",\"quantity\":2,\"unit_price\":2.50,\"tax_rate\":0.10},"
         "{\"description\":\"Bocadillo\",\"quantity\":1,\"unit_price\":\"3.00\",\"tax_rate\":0.10}],"
         "\"pretax_amount\":7.27,\"tax_amount\":0.73,\"total_amount\":8.00,\"currency\":\"EUR\",\"payment_method\":\"card\"}";
}

void ExpectChainsIntact(const TestDatabase& database) {
  EXPECT_EQ(database.Query("SELECT count(*) FROM (SELECT chain_id FROM fiscal_records GROUP BY chain_id "
                           "HAVING max(sequence) - min(sequence) + 1 <> count(*) OR min(sequence) <> 1) gaps"),
            "0")
      << "a chain has a gap in its sequence";
  EXPECT_EQ(database.Query("SELECT count(*) FROM fiscal_records WHERE (sequence = 1) <> "
                           "(document LIKE '%PrimerRegistro>S<%')"),
            "0")
      << "exactly the first record of each chain must be marked PrimerRegistro";
  EXPECT_EQ(database.Query("SELECT count(*) FROM fiscal_records r JOIN fiscal_records p "
                           "ON p.chain_id = r.chain_id AND p.sequence = r.sequence - 1 "
                           "WHERE position(p.hash in r.document) = 0"),
            "0")
      << "a record does not name its predecessor's hash";
}

int WaitAllResolved(const TestDatabase& database, int seconds) {
  std::string pending;
  for (int i = 0; i < seconds * 10; ++i) {
    pending = database.Query("SELECT count(*) FROM fiscal_records WHERE status = 'pending'");
    if (pending == "0") return 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return std::atoi(pending.c_str());
}

json::Node EmulatorRecords() {
  HttpResult records = HttpCall("GET", Env("FISCAL_TEST_EMULATOR_CONTROL") + "/control/records");
  EXPECT_EQ(records.status, 200) << records.error;
  return ParseJson(records.body);
}

std::string RedisCli(const std::string& arguments) {
  std::string port = Env("FISCAL_TEST_REDIS_PORT").empty() ? "6379" : Env("FISCAL_TEST_REDIS_PORT");
  std::string command = "redis-cli -h 127.0.0.1 -p " + port + " " + arguments + " 2>&1";
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return "";
  char buffer[256];
  while (std::fgets(buffer, sizeof(buffer), pipe) != nullptr) output += buffer;
  pclose(pipe);
  while (!output.empty() && (output.back() == '\n' || output.back() == '\r')) output.pop_back();
  return output;
}

void Service(const std::string& action) {
  std::string command = std::string("bash ") + FISCAL_SOURCE_DIR + "/scripts/service.sh " + action + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
}

void ResetEmulator() {
  // Circuit breakers live in Redis and would carry one test's failures into the next.
  RedisCli("DEL circuit_breaker:spain:aeat circuit_breaker:spain:aeat:auto");
  HttpResult reset = HttpCall("POST", Env("FISCAL_TEST_EMULATOR_CONTROL") + "/control/reset", "{}");
  ASSERT_EQ(reset.status, 200) << reset.error << reset.body;
}

void SetEmulatorFault(const std::string& json) {
  HttpResult fault = HttpCall("POST", Env("FISCAL_TEST_EMULATOR_CONTROL") + "/control/fault", json);
  ASSERT_EQ(fault.status, 200) << fault.error << fault.body;
}

}  // namespace fiscal::testing
