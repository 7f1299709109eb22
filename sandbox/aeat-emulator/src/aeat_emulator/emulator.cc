#include "aeat_emulator/emulator.h"

#include <openssl/rand.h>
#include <rapidjson/document.h>

#include <cstdio>
#include <ctime>

#include "aeat_emulator/error_codes.h"
#include "aeat_emulator/huella.h"
#include "aeat_emulator/json_log.h"

namespace aeat_emulator {
namespace {

constexpr char kCorrecto[] = "Correcto";
constexpr char kAceptadoConErrores[] = "AceptadoConErrores";
constexpr char kIncorrecto[] = "Incorrecto";

// Delay for "timeout" when the control request gives none.
constexpr int kDefaultTimeoutDelayMs = 30000;
// Upper bound for delay_ms, so that a typo cannot park a connection thread for hours.
constexpr int kMaxDelayMs = 600000;
// Upper bound for wait_seconds of POST /control/fault, two hours.
constexpr int kMaxWaitSeconds = 7200;

HttpReply JsonReply(int status, std::string body) {
  HttpReply reply;
  reply.status = status;
  reply.content_type = "application/json";
  reply.body = std::move(body);
  return reply;
}

HttpReply JsonError(int status, const std::string& message) {
  std::string escaped;
  for (char c : message) {
    if (c == '"' || c == '\\') escaped += '\\';
    escaped += c;
  }
  return JsonReply(status, "{\"error\":\"" + escaped + "\"}");
}

HttpReply SoapFaultReply(const std::string& fault_code, const std::string& fault_string) {
  HttpReply reply;
  reply.status = 500;
  reply.body = BuildFaultEnvelope(fault_code, fault_string);
  return reply;
}

// AEAT's CSV is 16 characters, for example "A-86U4KHPACUMVZE".
std::string GenerateCsv() {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  unsigned char random[14];
  if (RAND_bytes(random, sizeof(random)) != 1) {
    throw std::runtime_error("RAND_bytes failed while generating a CSV");
  }
  std::string csv = "A-";
  for (unsigned char byte : random) csv += kAlphabet[byte % 36];
  return csv;
}

// IdPeticion is 20 digits in AEAT's examples: the local time plus a sequence number.
std::string FormatIdPeticion(std::chrono::system_clock::time_point now, uint64_t request_number) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  std::tm local{};
  localtime_r(&seconds, &local);
  char buffer[96];
  std::snprintf(buffer, sizeof(buffer), "%04d%02d%02d%02d%02d%02d%06llu", local.tm_year + 1900,
                local.tm_mon + 1, local.tm_mday, local.tm_hour, local.tm_min, local.tm_sec,
                static_cast<unsigned long long>(request_number % 1000000));
  return buffer;
}

// Certificates for Spanish entities often carry the NIF as "IDCES-<NIF>" in serialNumber.
std::string PresenterNif(const ClientInfo& client, const std::string& fallback) {
  std::string nif = client.subject_serial_number;
  if (nif.rfind("IDCES-", 0) == 0) nif = nif.substr(6);
  return nif.size() == 9 ? nif : fallback;
}

std::string EstadoRegistroDuplicado(const StoredRecord* alta, const StoredRecord* anulacion) {
  if (alta == nullptr || alta->anulada || anulacion != nullptr) return "Anulada";
  return alta->estado == kCorrecto ? "Correcta" : "AceptadaConErrores";
}

bool ParseDigits(std::string_view text, size_t position, size_t count, int* value) {
  if (position + count > text.size()) return false;
  int result = 0;
  for (size_t i = position; i < position + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    result = result * 10 + (text[i] - '0');
  }
  *value = result;
  return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
int64_t DaysFromCivil(int year, int month, int day) {
  year -= month <= 2 ? 1 : 0;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const int64_t year_of_era = year - era * 400;
  const int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

// Recomputes the huella from the record's own fields, as AEAT does for error 2000.
std::string RecomputeHuella(const SubmittedRecord& record) {
  if (record.type == RecordType::kAlta) {
    return ComputeAltaHuella({record.id_emisor_factura, record.num_serie_factura,
                              record.fecha_expedicion_factura, record.tipo_factura,
                              record.cuota_total, record.importe_total, record.huella_anterior,
                              record.fecha_hora_huso_gen_registro});
  }
  return ComputeAnulacionHuella({record.id_emisor_factura, record.num_serie_factura,
                                 record.fecha_expedicion_factura, record.huella_anterior,
                                 record.fecha_hora_huso_gen_registro});
}

// Reads "mode", "count" and "delay_ms" of a POST /control/fault body into `settings`. Returns
// an error message, or an empty string when the fields are valid.
std::string ParseFaultSettings(const rapidjson::Document& document, FaultSettings* settings) {
  const auto mode_member = document.FindMember("mode");
  if (mode_member == document.MemberEnd() || !mode_member->value.IsString()) {
    return "missing string field \"mode\"";
  }
  const std::optional<FaultMode> mode = ParseFaultMode(mode_member->value.GetString());
  if (!mode.has_value()) {
    return "invalid mode; expected none, timeout, http500, soap_server_fault, reject_all or "
           "lose_response";
  }

  settings->mode = *mode;
  const auto count_member = document.FindMember("count");
  if (count_member != document.MemberEnd()) {
    if (!count_member->value.IsInt() || count_member->value.GetInt() < 0) {
      return "\"count\" must be an integer >= 0 (0 = until changed)";
    }
    settings->remaining = count_member->value.GetInt();
  }
  const auto delay_member = document.FindMember("delay_ms");
  if (delay_member != document.MemberEnd()) {
    if (!delay_member->value.IsInt() || delay_member->value.GetInt() < 0 ||
        delay_member->value.GetInt() > kMaxDelayMs) {
      return "\"delay_ms\" must be an integer from 0 to " + std::to_string(kMaxDelayMs);
    }
    settings->delay_ms = delay_member->value.GetInt();
  }
  return "";
}

}  // namespace

const char* FaultModeName(FaultMode mode) {
  switch (mode) {
    case FaultMode::kNone: return "none";
    case FaultMode::kTimeout: return "timeout";
    case FaultMode::kHttp500: return "http500";
    case FaultMode::kSoapServerFault: return "soap_server_fault";
    case FaultMode::kRejectAll: return "reject_all";
    case FaultMode::kLoseResponse: return "lose_response";
  }
  return "none";
}

std::optional<FaultMode> ParseFaultMode(std::string_view name) {
  for (FaultMode mode : {FaultMode::kNone, FaultMode::kTimeout, FaultMode::kHttp500,
                         FaultMode::kSoapServerFault, FaultMode::kRejectAll,
                         FaultMode::kLoseResponse}) {
    if (name == FaultModeName(mode)) return mode;
  }
  return std::nullopt;
}

std::optional<int64_t> ParseDateTimeWithOffset(std::string_view text) {
  int year, month, day, hour, minute, second;
  if (!ParseDigits(text, 0, 4, &year) || text.size() < 19 || text[4] != '-' || text[7] != '-' ||
      text[10] != 'T' || text[13] != ':' || text[16] != ':' || !ParseDigits(text, 5, 2, &month) ||
      !ParseDigits(text, 8, 2, &day) || !ParseDigits(text, 11, 2, &hour) ||
      !ParseDigits(text, 14, 2, &minute) || !ParseDigits(text, 17, 2, &second)) {
    return std::nullopt;
  }

  size_t position = 19;
  if (position < text.size() && text[position] == '.') {
    ++position;
    while (position < text.size() && text[position] >= '0' && text[position] <= '9') ++position;
  }

  int offset_seconds = 0;
  const std::string_view zone = text.substr(position);
  if (zone == "Z") {
    offset_seconds = 0;
  } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':') {
    int offset_hours, offset_minutes;
    if (!ParseDigits(zone, 1, 2, &offset_hours) || !ParseDigits(zone, 4, 2, &offset_minutes)) {
      return std::nullopt;
    }
    offset_seconds = (offset_hours * 3600 + offset_minutes * 60) * (zone[0] == '-' ? -1 : 1);
  } else {
    return std::nullopt;
  }

  const int64_t local_seconds =
      DaysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
  return local_seconds - offset_seconds;
}

std::string FormatLocalDateTime(std::chrono::system_clock::time_point time) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm local{};
  localtime_r(&seconds, &local);
  const long offset_minutes = local.tm_gmtoff / 60;
  char buffer[96];
  std::snprintf(buffer, sizeof(buffer), "%04d-%02d-%02dT%02d:%02d:%02d%c%02ld:%02ld",
                local.tm_year + 1900, local.tm_mon + 1, local.tm_mday, local.tm_hour, local.tm_min,
                local.tm_sec, offset_minutes < 0 ? '-' : '+', std::labs(offset_minutes) / 60,
                std::labs(offset_minutes) % 60);
  return buffer;
}

Emulator::Emulator(EmulatorConfig config, std::shared_ptr<const SchemaSet> schemas)
    : config_(std::move(config)),
      schemas_(std::move(schemas)),
      registry_(config_.state_file),
      wait_seconds_(config_.wait_seconds) {}

bool Emulator::Open(std::string* error) {
  std::lock_guard<std::mutex> lock(mutex_);
  return registry_.Open(error);
}

FaultSettings Emulator::fault_settings() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return fault_;
}

int Emulator::wait_seconds() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return wait_seconds_;
}

std::string Emulator::RecordsJson() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return registry_.ToJson();
}

FaultSettings Emulator::ConsumeFault() {
  const FaultSettings current = fault_;
  if (fault_.mode != FaultMode::kNone && fault_.remaining > 0 && --fault_.remaining == 0) {
    fault_ = FaultSettings{};
  }
  return current;
}

HttpReply Emulator::HandleServiceRequest(const HttpRequest& request, const ClientInfo& client) {
  const std::string path = request.target.substr(0, request.target.find('?'));
  if (path != kVerifactuPath) {
    LogJson("WARNING", "request for an unknown path rejected with 404",
            {{"path", path}, {"peer", client.peer_address}});
    return TextReply(404, "Not found: " + path);
  }
  if (request.method != "POST") return TextReply(405, "Only POST is allowed on " + path);
  return HandleSoap(request.body, client);
}

HttpReply Emulator::HandleSoap(std::string_view body, const ClientInfo& client) {
  const int64_t received_at_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                     config_.clock().time_since_epoch())
                                     .count();

  // Parsing and schema validation run outside the lock, because they only read shared data. The
  // body is parsed in every fault mode, so that the request log counts the records of each request.
  const ParseResult parsed = ParseSubmission(body, *schemas_);
  const size_t record_count =
      parsed.submission.has_value() ? parsed.submission->records.size() : 0;

  uint64_t request_number = 0;
  FaultSettings fault;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    request_number = registry_.CountRequest(received_at_ms, record_count);
    fault = ConsumeFault();
  }
  if (fault.mode == FaultMode::kTimeout && fault.delay_ms == 0) {
    fault.delay_ms = kDefaultTimeoutDelayMs;
  }

  HttpReply reply;
  if (fault.mode == FaultMode::kHttp500) {
    reply.status = 500;
    reply.content_type = "text/html; charset=UTF-8";
    reply.body = "<html><body><h1>500 Internal Server Error</h1></body></html>\n";
  } else if (fault.mode == FaultMode::kSoapServerFault) {
    reply = SoapFaultReply("env:Server", FormatFaultString(kErrorInternalServer, ""));
  } else if (parsed.fault.has_value()) {
    reply = SoapFaultReply("env:Client",
                           FormatFaultString(parsed.fault->code, parsed.fault->detail));
    LogJson("WARNING", "submission rejected with a SOAP Client fault",
            {{"request", static_cast<int64_t>(request_number)},
             {"peer", client.peer_address},
             {"client_cn", client.subject_common_name},
             {"code", static_cast<int64_t>(parsed.fault->code)},
             {"detail", parsed.fault->detail}});
  } else {
    std::lock_guard<std::mutex> lock(mutex_);
    reply = ProcessSubmission(*parsed.submission, client, fault.mode == FaultMode::kRejectAll,
                              request_number);
  }

  reply.drop_connection = fault.mode == FaultMode::kLoseResponse;
  reply.delay_ms = fault.delay_ms;
  if (fault.mode != FaultMode::kNone) {
    LogJson("INFO", "fault mode applied to request",
            {{"request", static_cast<int64_t>(request_number)},
             {"fault_mode", std::string(FaultModeName(fault.mode))},
             {"delay_ms", static_cast<int64_t>(fault.delay_ms)},
             {"http_status", static_cast<int64_t>(reply.status)}});
  }
  return reply;
}

HttpReply Emulator::ProcessSubmission(const Submission& submission, const ClientInfo& client,
                                      bool reject_all, uint64_t request_number) {
  const auto now = config_.clock();
  const std::string id_peticion = FormatIdPeticion(now, request_number);
  const std::string csv = GenerateCsv();

  SubmissionResponse response;
  response.cabecera = &submission.cabecera;
  response.wait_seconds = wait_seconds_;

  int accepted = 0;
  int with_errors = 0;
  std::string codes;
  for (const SubmittedRecord& record : submission.records) {
    ResponseLine line;
    if (reject_all) {
      line.record = &record;
      line.estado = kIncorrecto;
      line.error_code = kErrorInvalidValue;
      line.error_description = DescribeAeatError(kErrorInvalidValue);
    } else {
      Evaluation evaluation = EvaluateRecord(submission, record, id_peticion, csv);
      for (const RegistryWrite& write : evaluation.writes) {
        registry_.Store(write.record, write.advance_chain);
      }
      line = std::move(evaluation.line);
    }
    if (line.estado == kIncorrecto) NoteRejectedRecord(submission, record);

    if (line.estado != kIncorrecto) ++accepted;
    if (line.estado != kCorrecto) ++with_errors;
    if (line.error_code != 0) {
      if (!codes.empty()) codes += ',';
      codes += std::to_string(line.error_code);
    }
    response.lines.push_back(std::move(line));
  }

  if (accepted == 0) {
    response.estado_envio = "Incorrecto";
  } else {
    response.estado_envio = with_errors == 0 ? "Correcto" : "ParcialmenteCorrecto";
    response.csv = csv;
    response.nif_presentador = PresenterNif(client, submission.obligado_emision_nif);
    response.timestamp_presentacion = FormatLocalDateTime(now);
  }

  LogJson("INFO", "submission processed",
          {{"request", static_cast<int64_t>(request_number)},
           {"peer", client.peer_address},
           {"client_cn", client.subject_common_name},
           {"nif", submission.obligado_emision_nif},
           {"records", static_cast<int64_t>(submission.records.size())},
           {"accepted", static_cast<int64_t>(accepted)},
           {"estado_envio", response.estado_envio},
           {"codes", codes},
           {"csv", response.csv},
           {"id_peticion", id_peticion}});

  HttpReply reply;
  reply.body = BuildResponseEnvelope(response);
  return reply;
}

Emulator::Evaluation Emulator::EvaluateRecord(const Submission& submission,
                                              const SubmittedRecord& record,
                                              const std::string& id_peticion,
                                              const std::string& csv) {
  Evaluation evaluation;
  ResponseLine& line = evaluation.line;
  line.record = &record;
  auto reject = [&line](int code) {
    line.estado = kIncorrecto;
    line.error_code = code;
    line.error_description = DescribeAeatError(code);
  };

  if (record.id_emisor_factura != submission.obligado_emision_nif) {
    reject(kErrorEmisorNotObligado);
    return evaluation;
  }
  if (!ParseDateTimeWithOffset(record.fecha_hora_huso_gen_registro).has_value()) {
    reject(kErrorGenerationTimeFormat);
    return evaluation;
  }
  if (!CheckExistence(record, submission.incidencia, evaluation)) return evaluation;

  const int warning = CheckAcceptedRecord(submission, record);
  line.estado = warning == 0 ? kCorrecto : kAceptadoConErrores;
  line.error_code = warning;
  if (warning != 0) line.error_description = DescribeAeatError(warning);
  if (warning == kErrorGenerationTimeOutOfMargin) {
    line.error_description += " " + std::to_string(config_.clock_margin_seconds) + " segundos.";
  }

  StoredRecord stored;
  stored.type = record.type;
  stored.nif = record.id_emisor_factura;
  stored.installation = record.numero_instalacion;
  stored.num_serie = record.num_serie_factura;
  stored.fecha = record.fecha_expedicion_factura;
  stored.huella = record.huella;
  stored.estado = line.estado;
  stored.error_code = warning;
  stored.id_peticion = id_peticion;
  stored.csv = csv;
  stored.incidencia = submission.incidencia;
  stored.last_incidencia = submission.incidencia;

  // A subsanacion replaces the stored alta (and revives it if it was cancelled).
  const StoredRecord* previous =
      registry_.Find(record.type, stored.nif, stored.num_serie, stored.fecha);
  if (previous != nullptr) stored.times_received = previous->times_received + 1;

  if (record.type == RecordType::kAnulacion) {
    const StoredRecord* alta =
        registry_.Find(RecordType::kAlta, stored.nif, stored.num_serie, stored.fecha);
    if (alta != nullptr) {
      StoredRecord cancelled = *alta;
      cancelled.anulada = true;
      evaluation.writes.push_back({cancelled, false});
    }
  }
  evaluation.writes.push_back({stored, true});
  return evaluation;
}

bool Emulator::CheckExistence(const SubmittedRecord& record, bool incidencia,
                              Evaluation& evaluation) {
  ResponseLine& line = evaluation.line;
  const StoredRecord* alta = registry_.Find(RecordType::kAlta, record.id_emisor_factura,
                                            record.num_serie_factura,
                                            record.fecha_expedicion_factura);
  const StoredRecord* anulacion = registry_.Find(RecordType::kAnulacion, record.id_emisor_factura,
                                                 record.num_serie_factura,
                                                 record.fecha_expedicion_factura);
  auto reject = [&line](int code) {
    line.estado = kIncorrecto;
    line.error_code = code;
    line.error_description = DescribeAeatError(code);
  };
  auto count_again = [&evaluation, incidencia](const StoredRecord* existing) {
    if (existing == nullptr) return;
    StoredRecord again = *existing;
    ++again.times_received;
    again.last_incidencia = incidencia;
    evaluation.writes.push_back({again, false});
  };
  auto reject_duplicate = [&]() {
    reject(kErrorDuplicate);
    const StoredRecord* existing = alta != nullptr ? alta : anulacion;
    DuplicateInfo duplicate;
    duplicate.id_peticion = existing->id_peticion;
    duplicate.estado = EstadoRegistroDuplicado(alta, anulacion);
    if (duplicate.estado == "AceptadaConErrores") duplicate.error_code = existing->error_code;
    line.duplicate = duplicate;
    count_again(record.type == RecordType::kAlta ? alta : anulacion);
  };

  if (record.type == RecordType::kAlta) {
    // Without Subsanacion=S, or with RechazoPrevio=X, the invoice must be new to AEAT. Any other
    // subsanacion must correct an invoice that AEAT has stored.
    const bool must_be_new = record.subsanacion != "S" || record.rechazo_previo == "X";
    if (must_be_new && (alta != nullptr || anulacion != nullptr)) {
      reject_duplicate();
      return false;
    }
    if (!must_be_new && alta == nullptr) {
      reject(kErrorRecordNotFound);
      return false;
    }
    return true;
  }

  // SinRegistroPrevio=S cancels an invoice that AEAT must not hold yet.
  if (record.sin_registro_previo == "S") {
    if (alta != nullptr || anulacion != nullptr) {
      reject_duplicate();
      return false;
    }
    return true;
  }
  if (alta == nullptr && anulacion == nullptr) {
    reject(kErrorRecordNotFound);
    return false;
  }
  // NOTE: AEAT does not document its response to an identical re-sent anulacion. The emulator
  // returns 3001 without RegistroDuplicado.
  if (anulacion != nullptr && (alta == nullptr || alta->anulada)) {
    reject(kErrorAlreadyCancelled);
    count_again(anulacion);
    return false;
  }
  return true;
}

void Emulator::NoteRejectedRecord(const Submission& submission, const SubmittedRecord& record) {
  // A submitter that may not send records of this issuer (1108) cannot change the issuer's chain.
  if (record.id_emisor_factura != submission.obligado_emision_nif) return;
  // A record whose huella is wrong cannot be the previous record of a valid chain.
  if (RecomputeHuella(record) != record.huella) return;
  // A re-send of a stored record (3000 or 3001) adds no record to the chain.
  const StoredRecord* stored = registry_.Find(record.type, record.id_emisor_factura,
                                              record.num_serie_factura,
                                              record.fecha_expedicion_factura);
  if (stored != nullptr && stored->huella == record.huella) return;

  registry_.NoteRejected(record.id_emisor_factura, record.numero_instalacion, record.huella);
}

int Emulator::CheckAcceptedRecord(const Submission& submission, const SubmittedRecord& record) {
  if (RecomputeHuella(record) != record.huella) return kErrorHuellaMismatch;

  const ChainState* chain =
      registry_.FindChain(record.id_emisor_factura, record.numero_instalacion);
  const bool chain_has_records = chain != nullptr && chain->count > 0;
  if (record.primer_registro && chain_has_records) return kErrorNotFirstRecord;
  if (record.has_registro_anterior) {
    if (record.huella_anterior.size() != 64) return kErrorPreviousHuellaLength;
    if (record.huella_anterior == record.huella) return kErrorPreviousHuellaEqualsCurrent;
    // NOTE: with an empty chain (for example after /control/reset) any previous huella is
    // accepted, because the emulator cannot know records sent before it started.
    // A record rejected after the last stored one also counts as previous, because the issuer's
    // system keeps it and chains the next record to it.
    if (chain_has_records && record.huella_anterior != chain->last_huella &&
        record.huella_anterior != chain->last_rejected_huella) {
      return kErrorPreviousHuellaContent;
    }
  }

  // Records older than the margin are accepted without 2004 only when the Cabecera declares a
  // technical incident; records from the future never are.
  const int64_t generated = *ParseDateTimeWithOffset(record.fecha_hora_huso_gen_registro);
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          config_.clock().time_since_epoch())
                          .count();
  const int64_t age = now - generated;
  if (age > config_.clock_margin_seconds && !submission.incidencia) {
    return kErrorGenerationTimeOutOfMargin;
  }
  if (-age > config_.clock_margin_seconds) return kErrorGenerationTimeOutOfMargin;
  return 0;
}

HttpReply Emulator::HandleControl(const HttpRequest& request) {
  HttpReply reply = RouteControl(request);
  if (reply.status >= 400) {
    LogJson("WARNING", "control request rejected",
            {{"method", request.method},
             {"path", request.target},
             {"http_status", static_cast<int64_t>(reply.status)},
             {"error", reply.body}});
  }
  return reply;
}

HttpReply Emulator::RouteControl(const HttpRequest& request) {
  const std::string path = request.target.substr(0, request.target.find('?'));
  if (path == "/control/health") {
    if (request.method != "GET") return JsonError(405, "use GET for " + path);
    return JsonReply(200, "{\"status\":\"ok\"}");
  }
  if (path == "/control/records") {
    if (request.method != "GET") return JsonError(405, "use GET for " + path);
    return JsonReply(200, RecordsJson());
  }
  if (path == "/control/reset") {
    if (request.method != "POST") return JsonError(405, "use POST for " + path);
    return Reset();
  }
  if (path == "/control/fault") {
    if (request.method != "POST") return JsonError(405, "use POST for " + path);
    return HandleFaultCommand(request.body);
  }
  return JsonError(404, "unknown control path " + path);
}

HttpReply Emulator::HandleFaultCommand(std::string_view body) {
  rapidjson::Document document;
  document.Parse(body.data(), body.size());
  if (document.HasParseError() || !document.IsObject()) {
    return JsonError(400, "the body must be a JSON object like {\"mode\":\"http500\",\"count\":1}");
  }

  std::optional<int> wait_seconds;
  const auto wait_member = document.FindMember("wait_seconds");
  if (wait_member != document.MemberEnd()) {
    if (!wait_member->value.IsInt() || wait_member->value.GetInt() < 0 ||
        wait_member->value.GetInt() > kMaxWaitSeconds) {
      return JsonError(400, "\"wait_seconds\" must be an integer from 0 to " +
                                std::to_string(kMaxWaitSeconds));
    }
    wait_seconds = wait_member->value.GetInt();
  }

  // A request with only "wait_seconds" leaves the fault mode as it is.
  std::optional<FaultSettings> settings;
  if (document.HasMember("mode") || !wait_seconds.has_value()) {
    settings.emplace();
    const std::string error = ParseFaultSettings(document, &*settings);
    if (!error.empty()) return JsonError(400, error);
  } else if (document.HasMember("count") || document.HasMember("delay_ms")) {
    return JsonError(400, "\"count\" and \"delay_ms\" require \"mode\"");
  }

  FaultSettings current;
  int current_wait_seconds = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (settings.has_value()) fault_ = *settings;
    if (wait_seconds.has_value()) wait_seconds_ = *wait_seconds;
    current = fault_;
    current_wait_seconds = wait_seconds_;
  }
  if (settings.has_value()) {
    LogJson("INFO", "fault mode changed",
            {{"fault_mode", std::string(FaultModeName(settings->mode))},
             {"count", static_cast<int64_t>(settings->remaining)},
             {"delay_ms", static_cast<int64_t>(settings->delay_ms)}});
  }
  if (wait_seconds.has_value()) {
    LogJson("INFO", "TiempoEsperaEnvio changed",
            {{"wait_seconds", static_cast<int64_t>(*wait_seconds)}});
  }
  return JsonReply(200, "{\"mode\":\"" + std::string(FaultModeName(current.mode)) +
                            "\",\"count\":" + std::to_string(current.remaining) +
                            ",\"delay_ms\":" + std::to_string(current.delay_ms) +
                            ",\"wait_seconds\":" + std::to_string(current_wait_seconds) + "}");
}

HttpReply Emulator::Reset() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    registry_.Reset();
    fault_ = FaultSettings{};
    wait_seconds_ = config_.wait_seconds;
  }
  LogJson("INFO",
          "state reset: records, chains, request counter, request log and fault mode cleared, "
          "TiempoEsperaEnvio restored to --wait-seconds",
          {{"wait_seconds", static_cast<int64_t>(config_.wait_seconds)}});
  return JsonReply(200, "{\"status\":\"ok\"}");
}

}  // namespace aeat_emulator
