#include "aeat_emulator/registry.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace aeat_emulator {
namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

std::string RecordKey(RecordType type, const std::string& nif, const std::string& num_serie,
                      const std::string& fecha) {
  // '\n' cannot occur in the trimmed values of a schema-valid record, so the key is unambiguous.
  return std::string(RecordTypeName(type)) + "\n" + nif + "\n" + num_serie + "\n" + fecha;
}

void WriteString(JsonWriter& writer, const char* key, const std::string& value) {
  writer.Key(key);
  writer.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
}

void WriteRecordFields(JsonWriter& writer, const StoredRecord& record) {
  WriteString(writer, "nif", record.nif);
  WriteString(writer, "installation", record.installation);
  WriteString(writer, "num_serie", record.num_serie);
  WriteString(writer, "fecha", record.fecha);
  writer.Key("tipo");
  writer.String(RecordTypeName(record.type));
  WriteString(writer, "huella", record.huella);
  WriteString(writer, "estado", record.estado);
  writer.Key("error_code");
  writer.Int(record.error_code);
  WriteString(writer, "id_peticion", record.id_peticion);
  WriteString(writer, "csv", record.csv);
  writer.Key("times_received");
  writer.Int(record.times_received);
  writer.Key("anulada");
  writer.Bool(record.anulada);
  writer.Key("incidencia");
  writer.Bool(record.incidencia);
  writer.Key("last_incidencia");
  writer.Bool(record.last_incidencia);
}

std::string StringMember(const rapidjson::Value& object, const char* key) {
  auto it = object.FindMember(key);
  if (it == object.MemberEnd() || !it->value.IsString()) return "";
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

int IntMember(const rapidjson::Value& object, const char* key) {
  auto it = object.FindMember(key);
  if (it == object.MemberEnd() || !it->value.IsInt()) return 0;
  return it->value.GetInt();
}

bool BoolMember(const rapidjson::Value& object, const char* key) {
  auto it = object.FindMember(key);
  return it != object.MemberEnd() && it->value.IsBool() && it->value.GetBool();
}

}  // namespace

const char* RecordTypeName(RecordType type) {
  return type == RecordType::kAlta ? "alta" : "anulacion";
}

Registry::Registry(std::string state_file) : state_file_(std::move(state_file)) {}

Registry::~Registry() {
  if (state_stream_ != nullptr) std::fclose(state_stream_);
}

std::string Registry::ChainKey(const std::string& nif, const std::string& installation) {
  return nif + ":" + installation;
}

bool Registry::Open(std::string* error) {
  if (state_file_.empty()) return true;

  // Each line is one state change: {"op":"record",...} upserts a record and optionally advances
  // its chain, {"op":"rejected","nif","installation","huella"} notes a rejected record's huella,
  // {"op":"requests","total":N} sets the request counter.
  std::ifstream input(state_file_);
  std::string line;
  int line_number = 0;
  while (input && std::getline(input, line)) {
    ++line_number;
    if (line.empty()) continue;
    rapidjson::Document document;
    document.Parse(line.c_str(), line.size());
    if (document.HasParseError() || !document.IsObject()) {
      *error = "invalid JSON on line " + std::to_string(line_number) + " of state file " +
               state_file_ + "; fix or delete the file";
      return false;
    }

    const std::string op = StringMember(document, "op");
    if (op == "requests") {
      auto it = document.FindMember("total");
      if (it != document.MemberEnd() && it->value.IsUint64()) request_count_ = it->value.GetUint64();
      continue;
    }
    if (op == "rejected") {
      ApplyRejected(StringMember(document, "nif"), StringMember(document, "installation"),
                    StringMember(document, "huella"));
      continue;
    }
    if (op != "record") continue;

    StoredRecord record;
    record.type = StringMember(document, "tipo") == "anulacion" ? RecordType::kAnulacion
                                                                : RecordType::kAlta;
    record.nif = StringMember(document, "nif");
    record.installation = StringMember(document, "installation");
    record.num_serie = StringMember(document, "num_serie");
    record.fecha = StringMember(document, "fecha");
    record.huella = StringMember(document, "huella");
    record.estado = StringMember(document, "estado");
    record.error_code = IntMember(document, "error_code");
    record.id_peticion = StringMember(document, "id_peticion");
    record.csv = StringMember(document, "csv");
    record.times_received = IntMember(document, "times_received");
    record.anulada = BoolMember(document, "anulada");
    record.incidencia = BoolMember(document, "incidencia");
    // State files written before last_incidencia existed hold one value per record.
    record.last_incidencia = document.HasMember("last_incidencia")
                                 ? BoolMember(document, "last_incidencia")
                                 : record.incidencia;
    Apply(record, BoolMember(document, "advance_chain"));
  }

  state_stream_ = std::fopen(state_file_.c_str(), "a");
  if (state_stream_ == nullptr) {
    *error = "cannot open state file " + state_file_ + " for appending: " + std::strerror(errno);
    return false;
  }
  return true;
}

StoredRecord* Registry::Find(RecordType type, const std::string& nif, const std::string& num_serie,
                             const std::string& fecha) {
  auto it = index_.find(RecordKey(type, nif, num_serie, fecha));
  return it == index_.end() ? nullptr : &records_[it->second];
}

const ChainState* Registry::FindChain(const std::string& nif,
                                      const std::string& installation) const {
  auto it = chains_.find(ChainKey(nif, installation));
  return it == chains_.end() ? nullptr : &it->second;
}

void Registry::Apply(const StoredRecord& record, bool advance_chain) {
  const std::string key = RecordKey(record.type, record.nif, record.num_serie, record.fecha);
  auto it = index_.find(key);
  if (it == index_.end()) {
    index_.emplace(key, records_.size());
    records_.push_back(record);
  } else {
    records_[it->second] = record;
  }

  if (!advance_chain) return;
  ChainState& chain = chains_[ChainKey(record.nif, record.installation)];
  chain.last_huella = record.huella;
  ++chain.count;
  chain.last_rejected_huella.clear();
}

void Registry::ApplyRejected(const std::string& nif, const std::string& installation,
                             const std::string& huella) {
  chains_[ChainKey(nif, installation)].last_rejected_huella = huella;
}

void Registry::NoteRejected(const std::string& nif, const std::string& installation,
                            const std::string& huella) {
  ApplyRejected(nif, installation, huella);
  if (state_stream_ == nullptr) return;

  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartObject();
  writer.Key("op");
  writer.String("rejected");
  WriteString(writer, "nif", nif);
  WriteString(writer, "installation", installation);
  WriteString(writer, "huella", huella);
  writer.EndObject();
  AppendLine(buffer.GetString());
}

void Registry::Store(const StoredRecord& record, bool advance_chain) {
  Apply(record, advance_chain);
  if (state_stream_ == nullptr) return;

  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartObject();
  writer.Key("op");
  writer.String("record");
  WriteRecordFields(writer, record);
  writer.Key("advance_chain");
  writer.Bool(advance_chain);
  writer.EndObject();
  AppendLine(buffer.GetString());
}

uint64_t Registry::CountRequest(int64_t received_at_ms, size_t record_count) {
  ++request_count_;
  request_log_.push_back({request_count_, received_at_ms, record_count});
  if (request_log_.size() > kRequestLogSize) request_log_.pop_front();
  if (state_stream_ != nullptr) {
    AppendLine("{\"op\":\"requests\",\"total\":" + std::to_string(request_count_) + "}");
  }
  return request_count_;
}

void Registry::Reset() {
  records_.clear();
  index_.clear();
  chains_.clear();
  request_count_ = 0;
  request_log_.clear();
  if (state_stream_ == nullptr) return;

  // Reopening with "w" truncates the file, "a" then keeps appends at the end.
  state_stream_ = std::freopen(state_file_.c_str(), "w", state_stream_);
  if (state_stream_ != nullptr) state_stream_ = std::freopen(state_file_.c_str(), "a", state_stream_);
}

void Registry::AppendLine(const std::string& line) {
  std::fputs(line.c_str(), state_stream_);
  std::fputc('\n', state_stream_);
  std::fflush(state_stream_);
}

std::string Registry::ToJson() const {
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartObject();

  writer.Key("records");
  writer.StartArray();
  for (const StoredRecord& record : records_) {
    writer.StartObject();
    WriteRecordFields(writer, record);
    writer.EndObject();
  }
  writer.EndArray();

  writer.Key("requests");
  writer.Uint64(request_count_);

  writer.Key("requests_log");
  writer.StartArray();
  for (const RequestLogEntry& entry : request_log_) {
    writer.StartObject();
    writer.Key("request");
    writer.Uint64(entry.request);
    writer.Key("received_at_ms");
    writer.Int64(entry.received_at_ms);
    writer.Key("records");
    writer.Uint64(entry.records);
    writer.EndObject();
  }
  writer.EndArray();

  writer.Key("chains");
  writer.StartObject();
  for (const auto& [key, chain] : chains_) {
    writer.Key(key.c_str(), static_cast<rapidjson::SizeType>(key.size()));
    writer.StartObject();
    WriteString(writer, "last_huella", chain.last_huella);
    writer.Key("count");
    writer.Int64(chain.count);
    if (!chain.last_rejected_huella.empty()) {
      WriteString(writer, "last_rejected_huella", chain.last_rejected_huella);
    }
    writer.EndObject();
  }
  writer.EndObject();

  writer.EndObject();
  return buffer.GetString();
}

}  // namespace aeat_emulator
