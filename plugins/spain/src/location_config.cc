#include "location_config.h"

#include "nif.h"
#include "text_rules.h"

namespace fiscal::spain {
namespace {

Status ParseIssuerNif(const rapidjson::Value& object, const std::string& path, std::string* out) {
  std::string field = path + ".nif";
  std::string raw;
  Status status = GetRequiredString(object, "nif", field, &raw);
  if (!status.ok()) return status;

  std::string nif = NormaliseSpanishNif(raw);
  std::string problem = CheckSpanishNif(nif);
  if (!problem.empty()) {
    return Status::Invalid(field, field + " \"" + raw + "\" is not a valid Spanish NIF: it " + problem +
                                      ". Use the issuer's 9-character NIF as AEAT registers it.");
  }
  *out = nif;
  return Status::Ok();
}

Status ParseInstallationNumber(const rapidjson::Value& object, const std::string& path,
                               std::string* out) {
  std::string field = path + ".installation_number";
  const rapidjson::Value* value = FindMember(object, "installation_number");
  if (value == nullptr) return Status::Ok();

  // Integers are accepted because installation numbers are often typed as numbers.
  if (value->IsUint64()) {
    *out = std::to_string(value->GetUint64());
  } else if (value->IsString()) {
    out->assign(value->GetString(), value->GetStringLength());
  } else {
    return Status::Invalid(field, field + " must be a string or a non-negative integer");
  }

  std::string problem = CheckFreeText(*out, 100, false);
  if (!problem.empty()) return Status::Invalid(field, field + " " + problem);
  return Status::Ok();
}

}  // namespace

Status ParseLocationConfig(const rapidjson::Value& object, const std::string& path,
                           LocationConfig* out) {
  LocationConfig config;

  std::string system;
  Status status = GetRequiredString(object, "system", path + ".system", &system);
  if (!status.ok()) return status;
  if (system != "verifactu") {
    return Status::Invalid(path + ".system", path + ".system must be \"verifactu\": this plugin only "
                                                     "implements the VERI*FACTU mode");
  }

  status = ParseIssuerNif(object, path, &config.nif);
  if (!status.ok()) return status;

  std::string name_field = path + ".legal_name";
  status = GetRequiredString(object, "legal_name", name_field, &config.legal_name);
  if (!status.ok()) return status;
  config.legal_name = std::string(TrimAsciiSpace(config.legal_name));
  std::string problem = CheckFreeText(config.legal_name, 120, false);
  if (!problem.empty()) return Status::Invalid(name_field, name_field + " " + problem);

  std::string series_field = path + ".invoice_series";
  status = GetOptionalString(object, "invoice_series", series_field, &config.invoice_series);
  if (!status.ok()) return status;
  if (config.invoice_series.size() > 20 || !IsValidSeriesText(config.invoice_series)) {
    return Status::Invalid(series_field,
                           series_field + " must have at most 20 printable ASCII characters "
                                          "without \" ' < > = (AEAT rule for NumSerieFactura)");
  }

  status = ParseInstallationNumber(object, path, &config.installation_number);
  if (!status.ok()) return status;

  std::string territory = "peninsula";
  status = GetOptionalString(object, "territory", path + ".territory", &territory);
  if (!status.ok()) return status;
  if (territory == "canarias") {
    config.territory = Territory::kCanarias;
  } else if (territory != "peninsula") {
    return Status::Invalid(path + ".territory",
                           path + ".territory must be \"peninsula\" or \"canarias\"");
  }

  const rapidjson::Value* multiple = FindMember(object, "multiple_taxpayers");
  if (multiple != nullptr) {
    if (!multiple->IsBool()) {
      return Status::Invalid(path + ".multiple_taxpayers",
                             path + ".multiple_taxpayers must be true or false");
    }
    config.multiple_taxpayers = multiple->GetBool();
  }

  *out = std::move(config);
  return Status::Ok();
}

void WriteLocationConfig(JsonWriter& writer, const LocationConfig& config) {
  writer.StartObject();
  WriteStringMember(writer, "system", "verifactu");
  WriteStringMember(writer, "nif", config.nif);
  WriteStringMember(writer, "legal_name", config.legal_name);
  WriteStringMember(writer, "invoice_series", config.invoice_series);
  WriteStringMember(writer, "installation_number", config.installation_number);
  WriteStringMember(writer, "territory",
                    config.territory == Territory::kCanarias ? "canarias" : "peninsula");
  writer.Key("multiple_taxpayers");
  writer.Bool(config.multiple_taxpayers);
  writer.EndObject();
}

Status ValidateLocation(std::string_view config_json, std::string* result_json) {
  rapidjson::Document document;
  Status status = ParseJsonObject(config_json, "country_config", &document);
  if (!status.ok()) return Status::Invalid("country_config", status.message());

  LocationConfig config;
  status = ParseLocationConfig(document, "country_config", &config);
  if (!status.ok()) return status;

  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartObject();
  writer.Key("config");
  WriteLocationConfig(writer, config);
  WriteStringMember(writer, "chain_key", config.ChainKey());
  writer.EndObject();
  result_json->assign(buffer.GetString(), buffer.GetSize());
  return Status::Ok();
}

}  // namespace fiscal::spain
