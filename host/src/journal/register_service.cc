#include "journal/register_service.h"

#include <openssl/pem.h>
#include <openssl/rand.h>

#include <chrono>

#include "archive/archive_writer.h"
#include "common/json.h"
#include "common/json_tree.h"
#include "common/log.h"
#include "keys/key_store.h"
#include "plugins/issued_record.h"

namespace fiscal::journal {
namespace {

using json::Quote;

struct KnownEvent {
  int code;
  const char* name;
  bool client;  // may be reported through POST /v1/locations/{id}/events
};

// The journal's event codes (docs/france.md).
constexpr KnownEvent kEvents[] = {
    {10, "start", false},          {20, "stop", false},
    {30, "login", true},           {40, "logout", true},
    {50, "reprint", false},        {60, "offline_start", true},
    {61, "offline_end", true},     {70, "closure", false},
    {80, "archive", false},        {90, "signing_key_unavailable", false},
    {110, "plugin_version_change", false}, {120, "config_change", false},
    {130, "training_start", true}, {131, "training_end", true},
};

// Parses a local date YYYY-MM-DD.
Result<std::chrono::sys_days> ParseDate(const std::string& text, const char* field) {
  auto invalid = [&] { return Status::InvalidArgument(field, std::string(field) + " must be a date YYYY-MM-DD"); };
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return invalid();
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (text[i] < '0' || text[i] > '9') return invalid();
  }
  std::chrono::year_month_day date{std::chrono::year{std::stoi(text.substr(0, 4))},
                                   std::chrono::month{static_cast<unsigned>(std::stoi(text.substr(5, 2)))},
                                   std::chrono::day{static_cast<unsigned>(std::stoi(text.substr(8, 2)))}};
  if (!date.ok()) return invalid();
  return std::chrono::sys_days{date};
}

std::string NewUuid() {
  unsigned char bytes[16];
  RAND_bytes(bytes, sizeof(bytes));
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0f) | 0x40);
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3f) | 0x80);
  static const char kDigits[] = "0123456789abcdef";
  std::string text;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) text.push_back('-');
    text.push_back(kDigits[bytes[i] >> 4]);
    text.push_back(kDigits[bytes[i] & 0x0f]);
  }
  return text;
}

// Lower-case hex SHA-256 of the DER SubjectPublicKeyInfo of a PEM public key.
Result<std::string> PublicKeyId(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* key = bio == nullptr ? nullptr : PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (key == nullptr) return Status::Internal("the register's public key cannot be read");
  unsigned char* der = nullptr;
  int size = i2d_PUBKEY(key, &der);
  EVP_PKEY_free(key);
  if (size <= 0) return Status::Internal("the register's public key cannot be encoded");
  std::string id = archive::Sha256Hex(std::string_view(reinterpret_cast<const char*>(der), static_cast<size_t>(size)));
  OPENSSL_free(der);
  return id;
}

// The JSON text of one member of a JSON object text, or "" when absent.
std::string MemberJson(const std::string& object, const char* name) {
  Result<json::Node> parsed = json::Parse(object.empty() ? "{}" : object, "stored state");
  if (!parsed.ok()) return "";
  const json::Node* node = parsed->Find(name);
  return node == nullptr || node->IsNull() ? "" : node->ToJson();
}

std::string MemberText(const std::string& object, const char* name) {
  Result<json::Node> parsed = json::Parse(object.empty() ? "{}" : object, "stored data");
  if (!parsed.ok()) return "";
  const json::Node* node = parsed->Find(name);
  return node != nullptr && node->IsString() ? node->text() : "";
}

archive::ArchiveRecord ToArchiveRecord(const store::ChainRecordRow& row) {
  archive::ArchiveRecord record;
  record.sequence = row.sequence;
  record.operation = row.operation;
  record.record_type = row.record_type;
  record.fiscal_id = row.fiscal_id;
  // Stored with milliseconds; the archive keeps the second the record was generated at.
  record.generated_at = row.generated_at.size() >= 19 ? row.generated_at.substr(0, 19) + "Z" : row.generated_at;
  record.plugin_version = row.plugin_version;
  record.format = MemberText(row.record_data, "format");
  record.payload = MemberText(row.record_data, "payload");
  record.signature = row.hash;
  record.document = row.document;
  return record;
}

// The location as the archive's manifest describes it.
std::string LocationJson(const store::LocationRow& location) {
  return "{\"id\":" + Quote(location.id) + ",\"name\":" + Quote(location.name) + ",\"country\":" +
         Quote(location.country) + ",\"register_id\":" + Quote(MemberText(location.country_config, "register_id")) +
         ",\"config\":" + location.country_config + "}";
}

Result<json::Node> ParseProfile(const store::LocationRow& location) {
  return json::Parse(location.profile.empty() ? "{}" : location.profile, "location profile");
}

}  // namespace

std::string ChainKey(const store::LocationRow& location, const std::string& chain_name) {
  if (chain_name == kTickets) return location.chain_key;
  return location.chain_key + "#" + chain_name;
}

std::string ProfileString(const store::LocationRow& location, const char* name) {
  Result<json::Node> profile = ParseProfile(location);
  if (!profile.ok()) return "";
  const json::Node* node = profile->Find(name);
  return node != nullptr && node->IsString() ? node->text() : "";
}

bool HasFeature(const store::LocationRow& location, const std::string& feature) {
  Result<json::Node> profile = ParseProfile(location);
  if (!profile.ok()) return false;
  const json::Node* features = profile->Find("features");
  if (features == nullptr || !features->IsArray()) return false;
  for (const json::Node& item : features->items()) {
    if (item.IsString() && item.text() == feature) return true;
  }
  return false;
}

std::optional<Event> ClientEvent(const std::string& name) {
  for (const KnownEvent& known : kEvents) {
    if (known.client && name == known.name) return Event{known.code, known.name, "", ""};
  }
  return std::nullopt;
}

Event HostEvent(const std::string& name, std::string description) {
  for (const KnownEvent& known : kEvents) {
    if (name == known.name) return Event{known.code, known.name, std::move(description), "host"};
  }
  // A host event name is a literal in the host's code; an unknown one is a bug caught in tests.
  return Event{0, name, std::move(description), "host"};
}

Result<std::shared_ptr<const plugins::LoadedPlugin>> RegisterService::PluginFor(
    const store::LocationRow& location) const {
  auto plugin = plugins_.FindForLocation(location.plugin_name, location.id);
  if (!plugin) {
    return Status::Unavailable("the plugin " + location.plugin_name +
                               " serving this location is not loaded; see GET /health");
  }
  return plugin;
}

store::RecordBuilder RegisterService::Builder(std::shared_ptr<const plugins::LoadedPlugin> plugin,
                                              const store::LocationRow& location, const Actor& actor,
                                              const std::string& operation, const std::string& chain_name,
                                              std::string operation_fields) const {
  const keys::KeyStore* keys = keys_;
  return [=](const store::ChainPosition& position) -> Result<store::IssuedRecord> {
    std::string fields = operation_fields;
    if (operation == "closure") {
      // The covered tickets are known only once the tickets chain is locked.
      fields += ",\"tickets\":{\"sequence\":" + std::to_string(position.subject_sequence) + ",\"state\":" +
                (position.subject_state.empty() ? "null" : position.subject_state) + "}}";
    }
    if (operation == "duplicate") fields += ",\"copy_number\":" + std::to_string(position.copy_number);

    std::string input = "{\"operation\":" + Quote(operation) + ",\"environment\":" + Quote(actor.environment) +
                        ",\"now\":" + Quote(position.generated_at) + ",\"location\":" + location.country_config +
                        ",\"chain\":{\"key\":" + Quote(ChainKey(location, chain_name)) + ",\"name\":" +
                        Quote(chain_name) + ",\"sequence\":" + std::to_string(position.sequence) + ",\"previous\":" +
                        (position.previous_state.empty() ? "null" : position.previous_state) + "}" + fields + "}";

    plugins::CallContext context;
    context.request_id = actor.request_id;
    context.account_id = location.account_id;
    context.location_id = location.id;
    context.environment = actor.environment;
    context.key_store = keys;
    context.pinned_key_ref = ProfileString(location, "signing_key");
    context.pinned_key_id = ProfileString(location, "signing_key_id");
    plugins::CallOutcome outcome = plugin->IssueRecord(input, context);
    if (!outcome.ok()) return outcome.ToStatus("issue_record");
    return plugins::ParseIssuedRecord(plugin->descriptor().name, outcome.result);
  };
}

store::ChainStep RegisterService::EventStep(std::shared_ptr<const plugins::LoadedPlugin> plugin,
                                            const store::LocationRow& location, const Actor& actor,
                                            const Event& event) const {
  std::string fields = ",\"event\":{\"code\":" + std::to_string(event.code) + ",\"name\":" + Quote(event.name) +
                       ",\"description\":" + Quote(event.description) + ",\"operator\":" + Quote(event.operator_id) +
                       "}";
  return {ChainKey(location, kJournal), "event", "", Builder(plugin, location, actor, "event", kJournal, fields)};
}

store::ChainWriteRequest RegisterService::BaseRequest(const plugins::LoadedPlugin& plugin,
                                                      const store::LocationRow& location, const Actor& actor) const {
  store::ChainWriteRequest request;
  request.account_id = location.account_id;
  request.location_id = location.id;
  request.environment = actor.environment;
  request.plugin_name = plugin.descriptor().name;
  request.plugin_version = plugin.descriptor().version;
  return request;
}

Result<std::vector<store::WrittenRecord>> RegisterService::Write(const store::LocationRow& location,
                                                                 const Actor& actor,
                                                                 const store::ChainWriteRequest& request) {
  Result<std::vector<store::WrittenRecord>> written = records_.Write(request);
  if (!written.ok() && written.status().error_code() == "signing_key_unavailable") {
    NoteSigningRefusal(location, actor);
  }
  return written;
}

Result<store::WrittenRecord> RegisterService::RecordEvent(const store::LocationRow& location, const Actor& actor,
                                                          const Event& event) {
  auto plugin = PluginFor(location);
  if (!plugin.ok()) return plugin.status();
  FISCAL_RETURN_IF_ERROR(JournalOpenIncident(location, actor));

  store::ChainWriteRequest request = BaseRequest(**plugin, location, actor);
  request.steps.push_back(EventStep(*plugin, location, actor, event));
  auto written = Write(location, actor, request);
  if (!written.ok()) return written.status();
  return written->front();
}

Result<std::vector<store::WrittenRecord>> RegisterService::Close(const store::LocationRow& location,
                                                                 const Actor& actor, const std::string& period,
                                                                 const std::string& boundary,
                                                                 const std::string& last_day, bool skip_when_covered) {
  auto plugin = PluginFor(location);
  if (!plugin.ok()) return plugin.status();
  FISCAL_RETURN_IF_ERROR(JournalOpenIncident(location, actor));

  // A longer period is the sum of the shorter ones: close what is still open below it first.
  std::vector<store::WrittenRecord> all;
  if (period == "month" || period == "year") {
    auto lower = Close(location, actor, period == "month" ? "day" : "month", boundary, last_day, true);
    if (!lower.ok()) return lower.status();
    all = *lower;
  }

  std::string label = last_day;
  if (period == "month") label = last_day.substr(0, 7);
  if (period == "year") label = last_day.substr(0, 4);
  store::ChainWriteRequest request = BaseRequest(**plugin, location, actor);
  request.subject_chain_key = ChainKey(location, kTickets);
  request.subject_boundary = boundary;
  request.closure_period = period;
  request.skip_when_covered = skip_when_covered;
  std::string fields = ",\"closure\":{\"period\":" + Quote(period) + ",\"label\":" + Quote(label);
  request.steps.push_back(
      {ChainKey(location, kClosures), "closure", "", Builder(*plugin, location, actor, "closure", kClosures, fields)});
  request.steps.push_back(EventStep(*plugin, location, actor, HostEvent("closure", period + " closure " + label)));
  auto written = Write(location, actor, request);
  if (!written.ok()) return written.status();
  all.insert(all.end(), written->begin(), written->end());
  return all;
}

Result<store::WrittenRecord> RegisterService::Duplicate(const store::LocationRow& location, const Actor& actor,
                                                        const store::TransactionRow& transaction,
                                                        const std::string& transaction_json,
                                                        const std::string& operator_id, const std::string& reason) {
  auto plugin = PluginFor(location);
  if (!plugin.ok()) return plugin.status();
  const store::RecordRow* original = nullptr;
  for (const store::RecordRow& record : transaction.records) {
    if (record.operation == "sale" || record.operation == "refund") original = &record;
  }
  if (original == nullptr) return Status::NotFound("transaction " + transaction.id + " has no ticket to reprint");
  FISCAL_RETURN_IF_ERROR(JournalOpenIncident(location, actor));

  std::string fields = ",\"transaction\":" + transaction_json + ",\"original\":{\"fiscal_id\":" +
                       Quote(original->fiscal_id) + ",\"hash\":" + Quote(original->hash) + ",\"record_type\":" +
                       Quote(original->record_type) + ",\"record_data\":" + original->record_data +
                       "},\"operator\":" + Quote(operator_id) + ",\"reason\":" + Quote(reason);
  store::ChainWriteRequest request = BaseRequest(**plugin, location, actor);
  request.steps.push_back({ChainKey(location, kDuplicates), "duplicate", transaction.id,
                           Builder(*plugin, location, actor, "duplicate", kDuplicates, fields)});
  request.steps.push_back(EventStep(*plugin, location, actor,
                                    HostEvent("reprint", "reprint of " + original->fiscal_id + ": " + reason)));
  auto written = Write(location, actor, request);
  if (!written.ok()) return written.status();
  return written->front();
}

Status RegisterService::JournalOpenIncident(const store::LocationRow& location, const Actor& actor) {
  if (!HasFeature(location, kJournal)) return Status::Ok();
  auto incident = records_.OpenIncident(location.id, actor.environment);
  if (!incident.ok()) return incident.status();
  if (!incident->has_value()) return Status::Ok();

  auto plugin = PluginFor(location);
  if (!plugin.ok()) return plugin.status();
  const store::SigningIncident& open = **incident;
  Event event = HostEvent("signing_key_unavailable",
                          "signing key unavailable from " + open.first_at + " to " + open.last_at + ", " +
                              std::to_string(open.refused) + " requests refused");
  store::ChainWriteRequest request = BaseRequest(**plugin, location, actor);
  request.steps.push_back(EventStep(*plugin, location, actor, event));
  request.incident_id = open.id;
  auto written = Write(location, actor, request);
  if (!written.ok()) return written.status();
  log::Warning("signing key outage journaled", {{"location_id", location.id}, {"environment", actor.environment},
                                                {"refused", std::to_string(open.refused)}});
  return Status::Ok();
}

void RegisterService::NoteSigningRefusal(const store::LocationRow& location, const Actor& actor) {
  Status status = records_.RecordSigningRefusal(location.account_id, location.id, actor.environment);
  log::Error("signing key unavailable: request rejected",
             {{"request_id", actor.request_id}, {"location_id", location.id}, {"environment", actor.environment},
              {"recorded", status.ok() ? "yes" : status.message()}});
}

int RegisterService::JournalEverywhere(const Event& event) {
  auto registers = accounts_.ListRegisters(kJournal);
  if (!registers.ok()) {
    log::Error("cannot list registers to journal an event", {{"event", event.name}, {"error", registers.status().message()}});
    return 0;
  }
  int written = 0;
  for (const store::RegisterRow& entry : *registers) {
    Actor actor{"", entry.location.account_id, entry.environment};
    auto record = RecordEvent(entry.location, actor, event);
    if (!record.ok()) {
      log::Error("cannot journal a host event", {{"event", event.name}, {"location_id", entry.location.id},
                                                  {"environment", entry.environment},
                                                  {"error", record.status().message()}});
      continue;
    }
    ++written;
  }
  return written;
}

int RegisterService::JournalVersionChanges() {
  auto registers = accounts_.ListRegisters(kJournal);
  if (!registers.ok()) return 0;
  int written = 0;
  for (const store::RegisterRow& entry : *registers) {
    auto plugin = plugins_.FindForLocation(entry.location.plugin_name, entry.location.id);
    if (!plugin) continue;
    auto last = records_.LatestPluginVersion(entry.location.id, entry.environment);
    if (!last.ok() || last->empty()) continue;
    const std::string& before = *last;
    const std::string& now = plugin->descriptor().version;
    if (before == now) continue;

    Actor actor{"", entry.location.account_id, entry.environment};
    Event event = HostEvent("plugin_version_change", plugin->descriptor().name + " " + before + " -> " + now);
    if (RecordEvent(entry.location, actor, event).ok()) ++written;
  }
  return written;
}

Result<std::string> RegisterService::Archive(const store::LocationRow& location, const Actor& actor,
                                             const std::string& from, const std::string& to) {
  auto first_day = ParseDate(from, "from");
  if (!first_day.ok()) return first_day.status();
  auto last_day = ParseDate(to, "to");
  if (!last_day.ok()) return last_day.status();
  if (*last_day < *first_day) return Status::InvalidArgument("to", "to must not be before from");
  // An archive covers at most one year (CGI art. 286 conditions as applied by certifiers).
  if ((*last_day - *first_day).count() + 1 > 366) {
    return Status::InvalidArgument("to", "an archive covers at most 366 days; split the period");
  }
  // An archive freezes a period that is over or under way, never one still to come.
  std::string time_zone = ProfileString(location, "time_zone");
  if (time_zone.empty()) time_zone = "UTC";
  auto today = records_.LocalDate(time_zone);
  if (!today.ok()) return today.status();
  if (to > *today) {
    return Status::InvalidArgument("to", "to is " + to + ", after today (" + *today + " in " + time_zone +
                                             "); an archive cannot cover days still to come");
  }
  auto plugin = PluginFor(location);
  if (!plugin.ok()) return plugin.status();
  std::string key_ref = ProfileString(location, "signing_key");
  if (key_ref.empty() || keys_ == nullptr) {
    return Status::Conflict("feature_not_supported", "this location has no signing key, so it keeps no archives");
  }
  FISCAL_RETURN_IF_ERROR(JournalOpenIncident(location, actor));

  // The period is made of local dates of the register's time zone.
  auto range = records_.LocalDateRange(from, to, time_zone);
  if (!range.ok()) return range.status();

  archive::ArchiveInput input;
  input.archive_id = NewUuid();
  input.created_at = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  input.location_json = LocationJson(location);
  input.plugin_name = (*plugin)->descriptor().name;
  input.plugin_version = (*plugin)->descriptor().version;
  input.period_from = from;
  input.period_to = to;
  auto public_key = keys_->PublicKeyPem(location.account_id, key_ref);
  if (!public_key.ok()) {
    if (public_key.status().error_code() == "signing_key_unavailable") NoteSigningRefusal(location, actor);
    return public_key.status();
  }
  input.public_key_pem = *public_key;
  auto key_id = PublicKeyId(input.public_key_pem);
  if (!key_id.ok()) return key_id.status();
  input.key_id = *key_id;
  const std::string pinned = ProfileString(location, "signing_key_id");

  for (const char* name : {kTickets, kTraining, kDuplicates, kClosures, kArchives, kJournal}) {
    std::optional<store::ChainRecordRow> anchor;
    auto rows = records_.ListRecords(input.plugin_name, actor.environment, ChainKey(location, name), range->first,
                                     range->second, &anchor);
    if (!rows.ok()) return rows.status();
    archive::ArchiveChain chain;
    chain.name = name;
    chain.file = std::string("chains/") + name + ".jsonl";
    for (const store::ChainRecordRow& row : *rows) chain.records.push_back(ToArchiveRecord(row));
    if (anchor) {
      archive::ArchiveAnchor start;
      start.sequence = anchor->sequence;
      start.signature = anchor->hash;
      start.cumulative_json = MemberJson(anchor->chain_state, "cumulative");
      chain.anchor = start;
    }
    input.chains.push_back(std::move(chain));
  }

  const keys::KeyStore* keys = keys_;
  auto signed_archive = archive::WriteArchive(input, [&](std::string_view manifest) -> Result<std::string> {
    auto signature = keys->Sign(location.account_id, key_ref, manifest, pinned);
    if (!signature.ok()) return signature.status();
    return signature->der;
  });
  if (!signed_archive.ok()) {
    if (signed_archive.status().error_code() == "signing_key_unavailable") NoteSigningRefusal(location, actor);
    return signed_archive.status();
  }

  // The archive's own record in the archives chain, the zip and the journal event: one transaction.
  store::ChainWriteRequest request = BaseRequest(**plugin, location, actor);
  std::string fields = ",\"archive\":{\"id\":" + Quote(input.archive_id) + ",\"from\":" + Quote(from) +
                       ",\"to\":" + Quote(to) + ",\"manifest_sha256\":" +
                       Quote(signed_archive->manifest_sha256_hex) + "}";
  request.steps.push_back(
      {ChainKey(location, kArchives), "archive", "", Builder(*plugin, location, actor, "archive", kArchives, fields)});
  request.steps.push_back(EventStep(*plugin, location, actor,
                                    HostEvent("archive", "archive " + input.archive_id + " of " + from + " to " + to)));
  store::ArchiveBlob blob;
  blob.id = input.archive_id;
  blob.period_from = from;
  blob.period_to = to;
  blob.sha256 = archive::Sha256Hex(signed_archive->zip);
  blob.content = std::move(signed_archive->zip);
  request.archive = std::move(blob);
  auto written = Write(location, actor, request);
  if (!written.ok()) return written.status();
  return input.archive_id;
}

}  // namespace fiscal::journal
