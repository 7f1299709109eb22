#include "system_info.h"

#include "json_util.h"
#include "nif.h"
#include "text_rules.h"

namespace fiscal::spain {
namespace {

Status ReadText(const rapidjson::Value& object, const char* name, size_t max_chars, std::string* out) {
  std::string field = std::string("config.") + name;
  Status status = GetOptionalString(object, name, field, out);
  if (!status.ok()) return status;
  std::string problem = CheckFreeText(*out, max_chars, false);
  if (!problem.empty()) return Status::Invalid(field, field + " " + problem);
  return Status::Ok();
}

}  // namespace

Status ParseSystemInfo(std::string_view config_json, SystemInfo* out) {
  rapidjson::Document document;
  Status status = ParseJsonObject(config_json,
                                  "the plugin configuration", &document);
  if (!status.ok()) return status;

  SystemInfo info;
  status = ReadText(document, "producer_nif", 20, &info.producer_nif);
  if (!status.ok()) return status;
  info.producer_nif = NormaliseSpanishNif(info.producer_nif);
  std::string problem = CheckSpanishNif(info.producer_nif);
  if (!problem.empty()) {
    return Status::Invalid("config.producer_nif",
                           "config.producer_nif is not a valid Spanish NIF: it " + problem);
  }

  status = ReadText(document, "producer_name", 120, &info.producer_name);
  if (!status.ok()) return status;
  status = ReadText(document, "system_name", 30, &info.system_name);
  if (!status.ok()) return status;
  status = ReadText(document, "system_version", 50, &info.system_version);
  if (!status.ok()) return status;

  status = GetOptionalString(document, "system_id", "config.system_id", &info.system_id);
  if (!status.ok()) return status;
  bool id_ok = info.system_id.size() == 2;
  for (char c : info.system_id) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) id_ok = false;
  }
  if (!id_ok) {
    return Status::Invalid("config.system_id",
                           "config.system_id must be 2 characters, each A-Z or 0-9 (no Ñ)");
  }

  *out = std::move(info);
  return Status::Ok();
}

}  // namespace fiscal::spain
