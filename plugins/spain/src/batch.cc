#include "batch.h"

#include <map>

#include "json_util.h"
#include "location_config.h"

namespace fiscal::spain {
namespace {

// A RegFactuSistemaFacturacion message contains at most 1,000 RegistroFactura (SuministroLR.xsd).
constexpr rapidjson::SizeType kMaxRecordsPerBatch = 1000;

struct RecordResult {
  std::string outcome;
  std::string code;
  std::string message;
  std::string authority_reference;
};

std::string KeyText(const RecordKey& key) {
  return key.TipoOperacion + "|" + key.IDEmisorFactura + "|" + key.NumSerieFactura + "|" +
         key.FechaExpedicionFactura;
}

std::string Describe(const std::string& code, const std::string& description) {
  if (code.empty()) return description;
  return code + ": " + description;
}

RecordResult ResultOfLine(const ResponseLine& line, const std::string& csv) {
  RecordResult result;
  if (line.EstadoRegistro == "Correcto") {
    result.outcome = "registered";
  } else if (line.EstadoRegistro == "AceptadoConErrores") {
    result.outcome = "registered_with_errors";
    result.code = line.CodigoErrorRegistro;
    result.message = Describe(line.CodigoErrorRegistro, line.DescripcionErrorRegistro);
  } else if (line.CodigoErrorRegistro == "3000" && line.duplicado &&
             (line.EstadoRegistroDuplicado == "Correcta" || line.EstadoRegistroDuplicado == "Anulada")) {
    // A resend after a lost response: AEAT already stores this record. An alta that was cancelled
    // later is still registered.
    result.outcome = "registered";
    result.code = "3000";
    result.message = "AEAT had already registered this record (duplicate, state " +
                     line.EstadoRegistroDuplicado + ")";
  } else if (line.CodigoErrorRegistro == "3000" && line.duplicado &&
             line.EstadoRegistroDuplicado == "AceptadaConErrores") {
    result.outcome = "registered_with_errors";
    result.code = line.CodigoErrorDuplicado.empty() ? "3000" : line.CodigoErrorDuplicado;
    result.message = "AEAT had already registered this record with errors (duplicate): " +
                     Describe(line.CodigoErrorDuplicado, line.DescripcionErrorDuplicado);
  } else {
    result.outcome = "rejected";
    result.code = line.CodigoErrorRegistro;
    result.message = Describe(line.CodigoErrorRegistro, line.DescripcionErrorRegistro);
  }

  // The CSV is the receipt of the whole submission; it only exists when AEAT stored a record.
  if (result.outcome != "rejected") result.authority_reference = csv;
  return result;
}

}  // namespace

std::string MapSubmitResponse(const std::vector<std::string>& ids, const std::vector<RecordKey>& keys,
                              const SubmitResponse& response, std::string_view raw_body) {
  // Lines are matched by invoice identity and operation; a key seen twice in one batch consumes
  // the lines in order.
  std::map<std::string, std::vector<const ResponseLine*>> lines_by_key;
  for (const ResponseLine& line : response.lines) lines_by_key[KeyText(line.key)].push_back(&line);

  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartObject();
  writer.Key("results");
  writer.StartArray();
  for (size_t i = 0; i < ids.size(); ++i) {
    RecordResult result;
    if (response.kind == SubmitResponse::Kind::kClientFault) {
      result.outcome = "rejected";
      result.code = response.fault_code;
      result.message = "AEAT rejected the whole submission: " + response.fault_string;
    } else {
      std::vector<const ResponseLine*>& candidates = lines_by_key[KeyText(keys[i])];
      if (candidates.empty()) {
        result.outcome = "retry";
        result.message = "AEAT's response has no line for this record; the host sends it again";
      } else {
        result = ResultOfLine(*candidates.front(), response.CSV);
        candidates.erase(candidates.begin());
      }
    }

    writer.StartObject();
    WriteStringMember(writer, "id", ids[i]);
    WriteStringMember(writer, "outcome", result.outcome);
    WriteStringMember(writer, "code", result.code);
    WriteStringMember(writer, "message", result.message);
    WriteStringMember(writer, "authority_reference", result.authority_reference);
    writer.EndObject();
  }
  writer.EndArray();
  writer.Key("retry_after_seconds");
  writer.Int64(response.kind == SubmitResponse::Kind::kAnswer ? response.TiempoEsperaEnvio : 0);
  WriteStringMember(writer, "authority_response", raw_body);
  writer.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

Status SubmitBatch(std::string_view input_json, const SoapSender& send, std::string* result_json) {
  rapidjson::Document input;
  Status status = ParseJsonObject(input_json, "the submit_batch input", &input);
  if (!status.ok()) return status;

  const rapidjson::Value* location_value = nullptr;
  status = GetRequiredObject(input, "location", "location", &location_value);
  if (!status.ok()) return status;
  LocationConfig location;
  status = ParseLocationConfig(*location_value, "location", &location);
  if (!status.ok()) return status;

  EnvelopeHeader header;
  header.NombreRazon = location.legal_name;
  header.NIF = location.nif;
  const rapidjson::Value* late = FindMember(input, "late");
  if (late != nullptr && !late->IsBool()) return Status::Invalid("late", "late must be true or false");
  header.incidencia = late != nullptr && late->GetBool();

  const rapidjson::Value* records = FindMember(input, "records");
  if (records == nullptr || !records->IsArray() || records->Empty() || records->Size() > kMaxRecordsPerBatch) {
    return Status::Invalid("records", "records must be an array of 1 to 1000 records in chain order");
  }

  std::vector<std::string> ids;
  std::vector<RecordKey> keys;
  std::vector<std::string> documents;
  for (rapidjson::SizeType i = 0; i < records->Size(); ++i) {
    std::string path = "records[" + std::to_string(i) + "]";
    const rapidjson::Value& record = (*records)[i];
    std::string id, document;
    status = GetRequiredString(record, "id", path + ".id", &id);
    if (!status.ok()) return status;
    status = GetRequiredString(record, "document", path + ".document", &document);
    if (!status.ok()) return status;

    RecordKey key;
    status = ReadRecordKey(document, &key);
    if (!status.ok()) return Status::Invalid(path + ".document", path + ".document: " + status.message());

    ids.push_back(std::move(id));
    keys.push_back(std::move(key));
    documents.push_back(std::move(document));
  }

  std::string body = BuildSoapEnvelope(header, documents);
  HttpExchange exchange = send(body);
  if (exchange.status != FISCAL_OK) {
    return Status::Transport("no response from AEAT (the host will resend the same records): " + exchange.transport_error);
  }

  SubmitResponse response = ParseSubmitResponse(exchange.status_code, exchange.body);
  if (response.kind == SubmitResponse::Kind::kUnknown) return Status::Transport(response.reason);

  *result_json = MapSubmitResponse(ids, keys, response, exchange.body);
  return Status::Ok();
}

}  // namespace fiscal::spain
