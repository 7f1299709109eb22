#include "json_util.h"

#include <rapidjson/error/en.h>

namespace fiscal::spain {

Status ParseJsonObject(std::string_view text, std::string_view what, rapidjson::Document* document) {
  // RapidJSON reads a NUL byte as the end of the input and would silently ignore what follows.
  if (text.find('\0') != std::string_view::npos) {
    return Status::Invalid("", std::string(what) + " contains a NUL byte; send UTF-8 JSON without NUL characters");
  }

  // Validating the encoding here means every string taken from the input is valid UTF-8, which
  // the XML writer and AEAT (error 4119) both require. The iterative parser keeps deeply nested
  // input from exhausting the stack.
  constexpr unsigned kFlags = rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag;
  document->Parse<kFlags>(text.data(), text.size());
  if (document->HasParseError()) {
    return Status::Invalid("", std::string(what) + " is not valid UTF-8 JSON: " +
                                   rapidjson::GetParseError_En(document->GetParseError()) +
                                   " at offset " + std::to_string(document->GetErrorOffset()));
  }
  if (!document->IsObject()) {
    return Status::Invalid("", std::string(what) + " must be a JSON object");
  }
  return Status::Ok();
}

const rapidjson::Value* FindMember(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject()) return nullptr;
  auto member = object.FindMember(name);
  if (member == object.MemberEnd() || member->value.IsNull()) return nullptr;
  return &member->value;
}

Status GetRequiredString(const rapidjson::Value& object, const char* name, const std::string& path,
                         std::string* out) {
  const rapidjson::Value* value = FindMember(object, name);
  if (value == nullptr) return Status::Invalid(path, path + " is missing: it is required");
  if (!value->IsString()) return Status::Invalid(path, path + " must be a JSON string");
  out->assign(value->GetString(), value->GetStringLength());
  return Status::Ok();
}

Status GetOptionalString(const rapidjson::Value& object, const char* name, const std::string& path,
                         std::string* out) {
  const rapidjson::Value* value = FindMember(object, name);
  if (value == nullptr) return Status::Ok();
  if (!value->IsString()) return Status::Invalid(path, path + " must be a JSON string");
  out->assign(value->GetString(), value->GetStringLength());
  return Status::Ok();
}

Status GetRequiredObject(const rapidjson::Value& object, const char* name, const std::string& path,
                         const rapidjson::Value** out) {
  const rapidjson::Value* value = FindMember(object, name);
  if (value == nullptr) return Status::Invalid(path, path + " is missing: it is required");
  if (!value->IsObject()) return Status::Invalid(path, path + " must be a JSON object");
  *out = value;
  return Status::Ok();
}

void WriteStringMember(JsonWriter& writer, const char* name, std::string_view value) {
  writer.Key(name);
  writer.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

void WriteValue(JsonWriter& writer, const rapidjson::Value& value) { value.Accept(writer); }

}  // namespace fiscal::spain
