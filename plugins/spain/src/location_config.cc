#include "location_config.h"

#include <algorithm>
#include <array>
#include <string_view>

#include "nif.h"
#include "text_rules.h"

namespace fiscal::spain {
namespace {

// Every key that country_config may contain, in the order WriteLocationConfig writes them.
constexpr std::array<std::string_view, 7> kKnownKeys = {
    "system", "nif", "legal_name", "invoice_series", "installation_number", "territory", "multiple_taxpayers"};

std::string KnownKeysText() {
  std::string text;
  for (std::string_view key : kKnownKeys) {
    if (!text.empty()) text += ", ";
    text += key;
  }
  return text;
}

// Rejects keys this plugin does not read, because a misspelt optional key ("teritory") would
// otherwise be dropped silently and its default used.
Status CheckKnownKeys(const rapidjson::Value& object, const std::string& path) {
  for (auto member = object.MemberBegin(); member != object.MemberEnd(); ++member) {
    std::string_view key(member->name.GetString(), member->name.GetStringLength());
    if (std::find(kKnownKeys.begin(), kKnownKeys.end(), key) != kKnownKeys.end()) continue;

    std::string field = path + "." + std::string(key);
    return Status::Invalid(field, field + " is not a known setting of the Spain VERI*FACTU plugin. "
                                          "Known keys: " + KnownKeysText() + ".");
  }
  return Status::Ok();
}

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

Status CheckTerritoryIssuable(const LocationConfig& config, const std::string& path) {
  if (config.territory != Territory::kCanarias) return Status::Ok();

  // NOTE: IGIC support would go here and in the tax breakdown of record_issuer.cc: Impuesto 03,
  // the IGIC rates and a ClaveRegimen from AEAT list L8B instead of L8A. The time zone of the
  // Canary Islands is already handled by ToLocalTime.
  std::string field = path + ".territory";
  return Status::Invalid(field, field + " \"canarias\" is not supported yet: sales in the Canary Islands "
                                        "are taxed with IGIC (Impuesto 03, with its own rates), but this plugin "
                                        "only issues records with IVA, which would be wrong there. Use a "
                                        "location in the peninsula or the Balearic Islands.");
}

Status ValidateLocation(std::string_view config_json, std::string* result_json) {
  rapidjson::Document document;
  Status status = ParseJsonObject(config_json, "country_config", &document);
  if (!status.ok()) return Status::Invalid("country_config", status.message());

  status = CheckKnownKeys(document, "country_config");
  if (!status.ok()) return status;

  LocationConfig config;
  status = ParseLocationConfig(document, "country_config", &config);
  if (!status.ok()) return status;

  status = CheckTerritoryIssuable(config, "country_config");
  if (!status.ok()) return status;

  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartObject();
  writer.Key("config");
  WriteLocationConfig(writer, config);
  WriteStringMember(writer, "chain_key", config.ChainKey());
  WriteStringMember(writer, "issuer_key", config.nif);
  writer.EndObject();
  result_json->assign(buffer.GetString(), buffer.GetSize());
  return Status::Ok();
}

}  // namespace fiscal::spain
