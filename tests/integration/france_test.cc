// France NF525 end to end on a real host: signed ticket chains, duplicates, training mode,
// closures (by API and by schedule), the journal, archives checked by fiscal-verify, and a
// signing key that cannot be read (fail closed).
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "harness.h"

namespace fiscal::testing {
namespace {

const char* kSiret = "73282932000074";
const char* kRegister = "CAISSE-01";

std::string WorkDir() {
  const char* work = std::getenv("FISCAL_TEST_WORK_DIR");
  return work != nullptr && *work != '\0' ? work : "/tmp";
}

std::string Unique() {
  static std::mt19937_64 random{std::random_device{}()};
  return std::to_string(random());
}

// A sale of 2 baguettes at 5.5 % and one bottle at 20 %: 2 x 1.10 + 12.00 = 14.20.
std::string FranceSale(const std::string& location_id, bool training = false) {
  return "{\"location_id\":\"" + location_id + "\",\"timestamp\":\"2026-12-04T10:15:00+01:00\","
         "\"items\":[{\"description\":\"Baguette\",\"quantity\":2,\"unit_price\":\"1.10\",\"tax_rate\":\"0.055\"},"
         "{\"description\":\"Vin rouge, 75 cl\",\"quantity\":1,\"unit_price\":\"12.00\",\"tax_rate\":\"0.20\"}],"
         "\"total_amount\":\"14.20\",\"currency\":\"EUR\",\"payment_method\":\"cash\"" +
         std::string(training ? ",\"training\":true" : "") + "}";
}

// A refund of the bottle of FranceSale.
std::string FranceRefund(const std::string& location_id, const std::string& original_id) {
  return "{\"type\":\"refund\",\"original_transaction_id\":\"" + original_id + "\",\"location_id\":\"" + location_id +
         "\",\"timestamp\":\"2026-12-04T11:00:00+01:00\",\"items\":[{\"description\":\"Vin rouge, 75 cl\","
         "\"quantity\":1,\"unit_price\":\"12.00\",\"tax_rate\":\"0.20\"}],\"total_amount\":\"12.00\","
         "\"currency\":\"EUR\",\"payment_method\":\"cash\"}";
}

// Runs a command and returns its exit status and output (stdout and stderr).
std::pair<int, std::string> RunCommand(const std::string& command) {
  std::string output;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return {-1, "popen failed"};
  char buffer[4096];
  size_t read = 0;
  while ((read = fread(buffer, 1, sizeof(buffer), pipe)) > 0) output.append(buffer, read);
  int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

std::string Verifier() { return std::string(FISCAL_BINARY_DIR) + "/plugins/france/verifier/fiscal-verify"; }

// Copies a zip, changing one byte of one entry's content (entry rewritten, so the zip stays
// readable and only the content is wrong).
bool TamperEntry(const std::string& source, const std::string& target, const std::string& entry, size_t offset) {
  std::string script =
      "import sys, zipfile\n"
      "src, dst, name, offset = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])\n"
      "with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, 'w', zipfile.ZIP_DEFLATED) as zout:\n"
      "    for info in zin.infolist():\n"
      "        data = zin.read(info.filename)\n"
      "        if info.filename == name:\n"
      "            if offset >= len(data): sys.exit(3)\n"
      "            b = bytearray(data)\n"
      "            b[offset] = ord('7') if b[offset] != ord('7') else ord('8')\n"
      "            data = bytes(b)\n"
      "        zout.writestr(info, data)\n";
  std::string script_path = target + ".py";
  std::ofstream(script_path) << script;
  auto [status, output] = RunCommand("python3 " + script_path + " " + source + " " + target + " " + entry + " " +
                              std::to_string(offset));
  return status == 0;
}

std::string EntryText(const std::string& zip, const std::string& entry) {
  auto [status, output] = RunCommand("python3 -c \"import sys, zipfile; sys.stdout.write(zipfile.ZipFile(sys.argv[1]).read("
                              "sys.argv[2]).decode())\" " + zip + " " + entry);
  return status == 0 ? output : "";
}

class FranceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string missing = MissingEnvironment();
    if (!missing.empty()) GTEST_SKIP() << missing;
  }

  void StartHost(HostOptions options = {}) {
    options.with_france = true;
    options.with_spain = false;
    keys_dir_ = WorkDir() + "/france-keys-" + Unique();
    options.signing_keys_dir = keys_dir_;
    options_ = options;
    database_ = std::make_unique<TestDatabase>();
    host_ = std::make_unique<HostProcess>(*database_, options);
    base_ = host_->base_url();
    key_ = CreateAccount(base_);
    location_ = CreateFranceLocation(base_, key_, kSiret, kRegister);
    ASSERT_FALSE(location_.empty());
    account_ = database_->Query("SELECT account_id::text FROM locations WHERE id = '" + location_ + "'");
  }

  HttpResult Post(const std::string& path, const std::string& body) {
    return HttpCall("POST", base_ + path, body, Auth(key_));
  }
  HttpResult Get(const std::string& path) { return HttpCall("GET", base_ + path, "", Auth(key_)); }

  std::string SaleId(bool training = false) {
    HttpResult sale = Post("/v1/transactions", FranceSale(location_, training));
    EXPECT_EQ(sale.status, 201) << sale.body;
    return Text(ParseJson(sale.body), "id");
  }

  std::string KeyFile() const {
    return keys_dir_ + "/" + account_ + "/nf525-" + kSiret + "-" + kRegister + ".pem";
  }

  // Downloads an archive of today's records and returns the path of the zip.
  std::string ArchiveToday() {
    std::string today = database_->Query("SELECT to_char(now() AT TIME ZONE 'Europe/Paris', 'YYYY-MM-DD')");
    HttpResult created = Post("/v1/locations/" + location_ + "/archives",
                              "{\"from\":\"" + today + "\",\"to\":\"" + today + "\"}");
    EXPECT_EQ(created.status, 201) << created.body;
    json::Node archive = ParseJson(created.body);
    HttpResult zip = Get(Text(archive, "download_url"));
    EXPECT_EQ(zip.status, 200) << zip.body;
    EXPECT_EQ(zip.content_type.rfind("application/zip", 0), 0u) << zip.content_type;
    std::string path = WorkDir() + "/archive-" + Unique() + ".zip";
    std::ofstream(path, std::ios::binary) << zip.body;
    return path;
  }

  HostOptions options_;
  std::unique_ptr<TestDatabase> database_;
  std::unique_ptr<HostProcess> host_;
  std::string base_, key_, location_, account_, keys_dir_;
};

TEST_F(FranceTest, SaleIsSignedAtOnce) {
  StartHost();
  HttpResult sale = Post("/v1/transactions", FranceSale(location_));
  ASSERT_EQ(sale.status, 201) << sale.body;
  json::Node body = ParseJson(sale.body);
  EXPECT_EQ(Text(body, "status"), "signed") << "France records are final once signed: nothing is sent";
  ASSERT_NE(body.Find("sandbox_mode"), nullptr);
  EXPECT_TRUE(body.Find("sandbox_mode")->IsNull()) << "no emulator is involved: " << sale.body;
  std::string signature = Text(body, "hash");
  ASSERT_EQ(signature.size(), 86u) << sale.body;
  std::string extract = Text(body, "signature_extract");
  std::string expected_extract{signature[2], signature[6], signature[12], signature[18]};
  EXPECT_EQ(extract, expected_extract);
  EXPECT_EQ(database_->Query("SELECT count(*) FROM outbox"), "0") << "no submission for a register that signs";

  // The signed payload: per-rate totals incl. tax, total, timestamp, register, sequence, type, flag.
  std::string payload = database_->Query("SELECT record_data->>'payload' FROM fiscal_records");
  EXPECT_EQ(payload.rfind("2000:12.00|0550:2.20,14.20,", 0), 0u) << payload;
  EXPECT_NE(payload.find(std::string(",") + kRegister + ",000001,VENTE,Y,"), std::string::npos) << payload;
  EXPECT_EQ(database_->Query("SELECT record_data->>'format' FROM fiscal_records"), "fr-ticket-v1");

  HttpResult receipt = Get("/v1/transactions/" + Text(body, "id") + "/receipt");
  ASSERT_EQ(receipt.status, 200) << receipt.body;
  EXPECT_NE(receipt.body.find(extract), std::string::npos) << "the receipt prints the signature extract";
}

// Field case C20: the change given back is part of the signed record, so every payment line is
// covered by the signature, not only the last one.
TEST_F(FranceTest, CashChangeIsSigned) {
  StartHost();
  std::string body = FranceSale(location_);
  body.insert(body.size() - 1, ",\"payments\":[{\"method\":\"card\",\"amount\":\"4.20\"},"
                               "{\"method\":\"cash\",\"amount\":\"20.00\"}]");
  HttpResult sale = Post("/v1/transactions", body);
  ASSERT_EQ(sale.status, 201) << sale.body;
  HttpResult document = Get("/v1/transactions/" + Text(ParseJson(sale.body), "id") + "/document");
  ASSERT_EQ(document.status, 200);
  EXPECT_NE(document.body.find("\"change\""), std::string::npos) << document.body;
  EXPECT_NE(document.body.find("\"-10.00\""), std::string::npos) << "4.20 + 20.00 - 14.20 given back: " << document.body;

  std::string short_paid = FranceSale(location_);
  short_paid.insert(short_paid.size() - 1, ",\"payments\":[{\"method\":\"card\",\"amount\":\"14.00\"}]");
  HttpResult rejected = Post("/v1/transactions", short_paid);
  EXPECT_EQ(rejected.status, 400) << rejected.body;
  EXPECT_NE(rejected.body.find("\"field\":\"payments\""), std::string::npos) << rejected.body;
  std::string card_over = FranceSale(location_);
  card_over.insert(card_over.size() - 1, ",\"payments\":[{\"method\":\"card\",\"amount\":\"15.00\"}]");
  EXPECT_EQ(Post("/v1/transactions", card_over).status, 400) << "only cash is given back";
}

TEST_F(FranceTest, ConcurrentTillsShareOneChain) {
  StartHost();
  constexpr int kClients = 4;
  constexpr int kPerClient = 20;
  std::atomic<int> created{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&] {
      for (int i = 0; i < kPerClient; ++i) {
        if (HttpCall("POST", base_ + "/v1/transactions", FranceSale(location_), Auth(key_)).status == 201) ++created;
      }
    });
  }
  for (std::thread& client : clients) client.join();
  ASSERT_EQ(created.load(), kClients * kPerClient);

  std::string chain = "(SELECT id FROM chains WHERE chain_key = 'FR-" + std::string(kSiret) + "-" + kRegister + "')";
  EXPECT_EQ(database_->Query("SELECT count(*) || ':' || min(sequence) || ':' || max(sequence) FROM fiscal_records "
                             "WHERE chain_id = " + chain),
            "80:1:80");
  // The verifier checks every signature and link of the chain, in the archive of the day.
  std::string zip = ArchiveToday();
  auto [status, output] = RunCommand(Verifier() + " " + zip);
  EXPECT_EQ(status, 0) << output;
}

TEST_F(FranceTest, DayOfSalesClosureArchiveAndTamperedCopies) {
  StartHost();
  ASSERT_EQ(Post("/v1/locations/" + location_ + "/events", "{\"type\":\"login\",\"operator\":\"Camille\"}").status, 201);

  // A day: sales, a refund with negative amounts, a void, a training sale and a reprint.
  std::vector<std::string> sales;
  for (int i = 0; i < 5; ++i) sales.push_back(SaleId());
  HttpResult refund = Post("/v1/transactions", FranceRefund(location_, sales[0]));
  ASSERT_EQ(refund.status, 201) << refund.body;
  HttpResult voided = Post("/v1/transactions/" + sales[1] + "/cancel", "");
  ASSERT_EQ(voided.status, 200) << voided.body;
  std::string training = SaleId(true);
  HttpResult duplicate = Post("/v1/transactions/" + sales[2] + "/duplicates", "{\"operator\":\"Camille\",\"reason\":\"client\"}");
  ASSERT_EQ(duplicate.status, 201) << duplicate.body;
  HttpResult second = Post("/v1/transactions/" + sales[2] + "/duplicates", "{}");
  ASSERT_EQ(second.status, 201) << second.body;
  EXPECT_EQ(Text(*ParseJson(second.body).Find("data"), "copy_number"), "2") << second.body;
  HttpResult copy = Get("/v1/transactions/" + sales[2] + "/receipt?record=duplicate&copy=2");
  ASSERT_EQ(copy.status, 200) << copy.body;
  EXPECT_NE(copy.body.find("DUPLICATA"), std::string::npos) << copy.body;
  HttpResult void_receipt = Get("/v1/transactions/" + sales[1] + "/receipt?record=cancel");
  ASSERT_EQ(void_receipt.status, 200) << void_receipt.body;
  EXPECT_NE(void_receipt.body.find("annule"), std::string::npos) << void_receipt.body;
  EXPECT_EQ(Get("/v1/transactions/" + sales[2] + "/receipt?record=duplicate&copy=3").status, 400);

  // Refund of 12.00 and void of 14.20: the day is 5 x 14.20 - 12.00 - 14.20 = 44.80.
  HttpResult closure = Post("/v1/locations/" + location_ + "/closures", "{\"period\":\"day\"}");
  ASSERT_EQ(closure.status, 201) << closure.body;
  json::Node closed = ParseJson(closure.body);
  const json::Node* records = closed.Find("records");
  ASSERT_NE(records, nullptr);
  ASSERT_FALSE(records->items().empty()) << closure.body;
  const json::Node& day = records->items()[0];
  EXPECT_EQ(Text(day, "operation"), "closure");
  const json::Node* data = day.Find("data");
  ASSERT_NE(data, nullptr) << closure.body;
  std::string sum = database_->Query("SELECT sum(CASE WHEN type = 'refund' THEN -total_amount ELSE total_amount END)"
                                     "::text FROM transactions WHERE NOT training");
  std::string voids = database_->Query("SELECT coalesce(sum(total_amount), 0)::text FROM transactions WHERE "
                                       "cancelled_at IS NOT NULL AND NOT training");
  EXPECT_EQ(sum, "59.00") << "5 x 14.20 - 12.00, training excluded";
  EXPECT_EQ(voids, "14.20");
  EXPECT_NE(closure.body.find("44.80"), std::string::npos)
      << "the closure total is the sum of the day's tickets (sales, refund, void; not training): " << closure.body;
  EXPECT_EQ(closure.body.find("14.20\",\"training"), std::string::npos);

  // The perpetual grand total counts every ticket, the refund and the void, not the training sale.
  HttpResult totals = Get("/v1/locations/" + location_ + "/grand-totals");
  ASSERT_EQ(totals.status, 200) << totals.body;
  const json::Node* perpetual = ParseJson(totals.body).Find("perpetual");
  ASSERT_NE(perpetual, nullptr) << totals.body;
  EXPECT_EQ(Text(*perpetual, "total"), "44.80") << totals.body;
  EXPECT_EQ(Text(*perpetual, "absolute"), "97.20") << "5 x 14.20 + 12.00 + 14.20: " << totals.body;
  EXPECT_NE(totals.body.find("\"day\""), std::string::npos) << "the day closure is listed: " << totals.body;

  // The journal has the login, the reprints and the closure, each signed.
  HttpResult journal = Get("/v1/locations/" + location_ + "/journal?limit=100");
  ASSERT_EQ(journal.status, 200) << journal.body;
  for (const char* event : {"\"login\"", "\"reprint\"", "\"closure\""}) {
    EXPECT_NE(journal.body.find(event), std::string::npos) << event << " missing: " << journal.body;
  }

  std::string zip = ArchiveToday();
  auto [status, output] = RunCommand(Verifier() + " " + zip);
  ASSERT_EQ(status, 0) << "the verifier must accept the archive:\n" << output;
  EXPECT_NE(output.find("VALID"), std::string::npos) << output;
  HttpResult after = Get("/v1/locations/" + location_ + "/journal?limit=100");
  EXPECT_NE(after.body.find("\"archive\""), std::string::npos) << "the archive is journaled: " << after.body;

  // Each tampered copy is rejected, and the first broken record is named.
  std::string tickets = EntryText(zip, "chains/tickets.jsonl");
  ASSERT_FALSE(tickets.empty());
  std::vector<std::pair<std::string, size_t>> edits;
  size_t payload = tickets.find("\"payload\":\"");
  ASSERT_NE(payload, std::string::npos);
  edits.push_back({"chains/tickets.jsonl", payload + 12});  // a digit of a per-rate total
  size_t signature = tickets.find("\"signature\":\"");
  edits.push_back({"chains/tickets.jsonl", signature + 20});
  size_t document = tickets.rfind("Baguette");
  edits.push_back({"chains/tickets.jsonl", document + 2});
  edits.push_back({"manifest.json", 30});
  for (const auto& [entry, offset] : edits) {
    std::string copy = zip + "." + std::to_string(offset) + ".zip";
    ASSERT_TRUE(TamperEntry(zip, copy, entry, offset)) << entry << " " << offset;
    auto [tampered_status, tampered_output] = RunCommand(Verifier() + " " + copy);
    EXPECT_EQ(tampered_status, 1) << "tampered " << entry << " at " << offset << " was accepted:\n" << tampered_output;
    EXPECT_NE(tampered_output.find("INVALID"), std::string::npos) << tampered_output;
  }
}

TEST_F(FranceTest, TrainingNeverMovesTotals) {
  StartHost();
  SaleId();
  SaleId(true);
  SaleId(true);
  HttpResult closure = Post("/v1/locations/" + location_ + "/closures", "{\"period\":\"day\"}");
  ASSERT_EQ(closure.status, 201) << closure.body;
  EXPECT_NE(closure.body.find("\"14.20\""), std::string::npos) << closure.body;
  EXPECT_EQ(closure.body.find("\"42.60\""), std::string::npos) << closure.body;
  EXPECT_EQ(database_->Query("SELECT count(*) FROM chains WHERE chain_key LIKE '%#training'"), "1");
  EXPECT_EQ(database_->Query("SELECT count(DISTINCT record_data->>'format') FROM fiscal_records r JOIN transactions t "
                             "ON t.id = r.transaction_id WHERE t.training"),
            "1");
}

TEST_F(FranceTest, ScheduleClosesPreviousDay) {
  HostOptions options;
  options.closures_json = "{\"schedule\":false}";
  StartHost(options);
  SaleId();
  SaleId();

  // As of tomorrow 00:30 in Paris, today is the previous day and must be closed.
  std::string tomorrow = database_->Query(
      "SELECT to_char(((date_trunc('day', now() AT TIME ZONE 'Europe/Paris') + interval '1 day 30 minutes') "
      "AT TIME ZONE 'Europe/Paris') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')");
  std::string run = "{\"as_of\":\"" + tomorrow + "\",\"environment\":\"test\"}";
  std::vector<std::string> admin = {"Authorization: Bearer " + std::string(kAdminToken)};
  HttpResult first = HttpCall("POST", base_ + "/v1/admin/closures/run", run, admin);
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_NE(first.body.find("\"records_written\":2"), std::string::npos) << "day closure and its event: " << first.body;
  HttpResult again = HttpCall("POST", base_ + "/v1/admin/closures/run", run, admin);
  EXPECT_NE(again.body.find("\"records_written\":0"), std::string::npos) << again.body;

  HttpResult closures = Get("/v1/locations/" + location_ + "/closures");
  ASSERT_EQ(closures.status, 200);
  EXPECT_NE(closures.body.find("\"28.40\""), std::string::npos) << closures.body;

  // Live registers close on their own clock only.
  HttpResult live = HttpCall("POST", base_ + "/v1/admin/closures/run",
                             "{\"as_of\":\"" + tomorrow + "\",\"environment\":\"live\"}", admin);
  EXPECT_EQ(live.status, 400) << live.body;
}

TEST_F(FranceTest, UnreadableKeyFailsClosed) {
  StartHost();
  SaleId();
  std::string key_file = KeyFile();
  ASSERT_TRUE(std::filesystem::exists(key_file)) << key_file;
  std::filesystem::rename(key_file, key_file + ".saved");
  std::ofstream(key_file) << "-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n";

  std::string before = database_->Query("SELECT count(*) FROM transactions");
  HttpResult refused = Post("/v1/transactions", FranceSale(location_));
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_NE(refused.body.find("signing_key_unavailable"), std::string::npos) << refused.body;
  EXPECT_EQ(refused.body.find("broken"), std::string::npos) << "no key material in errors";
  EXPECT_EQ(Post("/v1/transactions", FranceSale(location_)).status, 503);
  EXPECT_EQ(database_->Query("SELECT count(*) FROM transactions"), before) << "nothing is written half-signed";
  EXPECT_EQ(database_->Query("SELECT count(*) FROM fiscal_records"), "1");

  std::filesystem::rename(key_file + ".saved", key_file);
  ASSERT_EQ(Post("/v1/transactions", FranceSale(location_)).status, 201);
  std::string chain = "(SELECT id FROM chains WHERE chain_key = 'FR-" + std::string(kSiret) + "-" + kRegister + "')";
  EXPECT_EQ(database_->Query("SELECT string_agg(sequence::text, ',' ORDER BY sequence) FROM fiscal_records "
                             "WHERE chain_id = " + chain),
            "1,2")
      << "the chain continues from the last good record";
  HttpResult journal = Get("/v1/locations/" + location_ + "/journal");
  EXPECT_NE(journal.body.find("signing_key_unavailable"), std::string::npos) << journal.body;
  EXPECT_NE(journal.body.find("2 requests refused"), std::string::npos) << journal.body;
}

// A key file that still parses but is not the register's key must not sign: neither a damaged one
// (its private part no longer matches its public part) nor another register's valid key.
TEST_F(FranceTest, DamagedOrSwappedKeyFails) {
  StartHost();
  SaleId();
  std::string key_file = KeyFile();
  std::string original;
  {
    std::ifstream in(key_file);
    std::stringstream text;
    text << in.rdbuf();
    original = text.str();
  }

  // One base64 character inside the private scalar (DER bytes 36 to 67 of the PKCS#8 structure).
  std::string damaged = original;
  size_t body = damaged.find('\n') + 1;
  damaged[body + 56] = damaged[body + 56] == 'A' ? 'B' : 'A';
  std::ofstream(key_file, std::ios::trunc) << damaged;
  HttpResult refused = Post("/v1/transactions", FranceSale(location_));
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_NE(refused.body.find("damaged"), std::string::npos) << refused.body;

  // Another register's key, valid on its own.
  std::string other = CreateFranceLocation(base_, key_, kSiret, "CAISSE-02");
  ASSERT_FALSE(other.empty());
  std::filesystem::copy_file(keys_dir_ + "/" + account_ + "/nf525-" + kSiret + "-CAISSE-02.pem", key_file,
                             std::filesystem::copy_options::overwrite_existing);
  HttpResult swapped = Post("/v1/transactions", FranceSale(location_));
  EXPECT_EQ(swapped.status, 503) << swapped.body;
  EXPECT_NE(swapped.body.find("registered for it"), std::string::npos) << swapped.body;
  EXPECT_EQ(database_->Query("SELECT count(*) FROM fiscal_records WHERE location_id = '" + location_ + "'"), "1");

  std::ofstream(key_file, std::ios::trunc) << original;
  ASSERT_EQ(Post("/v1/transactions", FranceSale(location_)).status, 201);
  std::string zip = ArchiveToday();
  auto [status, output] = RunCommand(Verifier() + " " + zip);
  EXPECT_EQ(status, 0) << "no record was signed with a wrong key:\n" << output;
}

TEST_F(FranceTest, RetriedWritesHappenOnce) {
  StartHost();
  std::string sale = SaleId();
  std::vector<std::string> headers = Auth(key_);
  headers.push_back("Idempotency-Key: reprint-1");
  HttpResult first = HttpCall("POST", base_ + "/v1/transactions/" + sale + "/duplicates", "{}", headers);
  HttpResult retry = HttpCall("POST", base_ + "/v1/transactions/" + sale + "/duplicates", "{}", headers);
  ASSERT_EQ(first.status, 201) << first.body;
  EXPECT_EQ(retry.body, first.body);
  EXPECT_EQ(database_->Query("SELECT count(*) FROM fiscal_records WHERE operation = 'duplicate'"), "1");

  // A month closure closes the open day first, and returns both closures.
  headers.back() = "Idempotency-Key: month-1";
  HttpResult month = HttpCall("POST", base_ + "/v1/locations/" + location_ + "/closures", "{\"period\":\"month\"}", headers);
  ASSERT_EQ(month.status, 201) << month.body;
  EXPECT_NE(month.body.find("\"closure_day\""), std::string::npos) << month.body;
  EXPECT_NE(month.body.find("\"closure_month\""), std::string::npos) << month.body;
  HttpCall("POST", base_ + "/v1/locations/" + location_ + "/closures", "{\"period\":\"month\"}", headers);
  EXPECT_EQ(database_->Query("SELECT count(*) FROM fiscal_records WHERE operation = 'closure'"), "2");
}

TEST_F(FranceTest, OneLocationPerRegister) {
  StartHost();
  HttpResult again = Post("/v1/locations", "{\"name\":\"Doublon\",\"country\":\"FR\",\"country_config\":{\"system\":"
                                           "\"nf525\",\"siret\":\"" + std::string(kSiret) + "\",\"register_id\":\"" +
                                           kRegister + "\"}}");
  EXPECT_EQ(again.status, 409) << again.body;
  EXPECT_NE(again.body.find("register_in_use"), std::string::npos) << again.body;
}

TEST_F(FranceTest, StartAndStopAreJournaled) {
  StartHost();
  SaleId();
  host_->Stop();
  host_ = std::make_unique<HostProcess>(*database_, options_);
  base_ = host_->base_url();
  HttpResult journal = Get("/v1/locations/" + location_ + "/journal");
  ASSERT_EQ(journal.status, 200) << journal.body;
  EXPECT_NE(journal.body.find("\"stop\""), std::string::npos) << journal.body;
  EXPECT_NE(journal.body.find("\"start\""), std::string::npos) << journal.body;
}

TEST_F(FranceTest, VersionChangeIsJournaled) {
  StartHost();
  SaleId();
  std::vector<std::string> admin = {"Authorization: Bearer " + std::string(kAdminToken)};
  HostOptions next = options_;
  next.france_version = "1.0.1";
  host_->RewriteConfig(next);
  HttpResult reload = HttpCall("POST", base_ + "/v1/admin/plugins/france-nf525/reload", "", admin);
  ASSERT_EQ(reload.status, 200) << reload.body;
  EXPECT_FALSE(SaleId().empty()) << "the register keeps selling on the new version";

  HttpResult journal = Get("/v1/locations/" + location_ + "/journal?limit=100");
  ASSERT_EQ(journal.status, 200) << journal.body;
  EXPECT_NE(journal.body.find("\"config_change\""), std::string::npos) << journal.body;
  EXPECT_NE(journal.body.find("france-nf525 1.0.0 -> 1.0.1"), std::string::npos) << journal.body;
  EXPECT_EQ(database_->Query("SELECT plugin_version FROM fiscal_records WHERE operation = 'sale' ORDER BY created_at "
                             "DESC LIMIT 1"),
            "1.0.1");
}

TEST_F(FranceTest, BadInputIsRejected) {
  StartHost();
  HttpResult bad_siret = Post("/v1/locations", "{\"name\":\"B\",\"country\":\"FR\",\"country_config\":{\"system\":"
                                               "\"nf525\",\"siret\":\"73282932000075\",\"register_id\":\"R1\"}}");
  EXPECT_EQ(bad_siret.status, 400) << bad_siret.body;
  EXPECT_NE(bad_siret.body.find("country_config.siret"), std::string::npos) << bad_siret.body;

  EXPECT_EQ(Post("/v1/locations/" + location_ + "/closures", "{\"period\":\"week\"}").status, 400);
  EXPECT_EQ(Post("/v1/locations/" + location_ + "/events", "{\"type\":\"closure\"}").status, 400)
      << "the host journals closures itself";
  HttpResult long_archive = Post("/v1/locations/" + location_ + "/archives", "{\"from\":\"2024-01-01\",\"to\":\"2025-06-30\"}");
  EXPECT_EQ(long_archive.status, 400) << long_archive.body;
  EXPECT_EQ(Post("/v1/locations/" + location_ + "/archives", "{\"from\":\"2026-13-01\",\"to\":\"2026-12-31\"}").status,
            400);
  HttpResult future = Post("/v1/locations/" + location_ + "/archives", "{\"from\":\"2099-01-01\",\"to\":\"2099-01-02\"}");
  EXPECT_EQ(future.status, 400) << future.body;
  EXPECT_NE(future.body.find("\"field\":\"to\""), std::string::npos) << future.body;
}

}  // namespace
}  // namespace fiscal::testing
