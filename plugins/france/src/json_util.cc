#include "json_util.h"

#include <rapidjson/error/en.h>

#include "payload.h"

namespace fiscal::france {

Status ParseJsonObject(std::string_view text, std::string_view document_name,
                       rapidjson::Document* document) {
  // RapidJSON reads a NUL byte as the end of the input and would silently ignore what follows.
  if (text.find('\0') != std::string_view::npos) {
    return Status::Invalid("", std::string(document_name) +
                                   " contains a NUL byte; send UTF-8 JSON without NUL characters");
  }
  // Validating the encoding here means every string taken from the input is valid UTF-8. The
  // iterative parser keeps deeply nested input from exhausting the stack.
  constexpr unsigned kFlags = rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag;
  document->Parse<kFlags>(text.data(), text.size());
  if (document->HasParseError()) {
    return Status::Invalid("", std::string(document_name) + " is not valid UTF-8 JSON: " +
                                   rapidjson::GetParseError_En(document->GetParseError()) +
                                   " at offset " + std::to_string(document->GetErrorOffset()));
  }
  if (!document->IsObject()) {
    return Status::Invalid("", std::string(document_name) + " must be a JSON object");
  }
  return Status::Ok();
}

const rapidjson::Value* FindMember(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject()) return nullptr;
  auto member = object.FindMember(name);
  if (member == object.MemberEnd() || member->value.IsNull()) return nullptr;
  return &member->value;
}

std::string MemberPath(std::string_view path, std::string_view name) {
  if (path.empty()) return std::string(name);
  return std::string(path) + "." + std::string(name);
}

std::string IndexPath(std::string_view path, size_t index) {
  return std::string(path) + "[" + std::to_string(index) + "]";
}

namespace {

Status Missing(const std::string& field) {
  return Status::Invalid(field, field + " is missing; it is required");
}

}  // namespace

Status GetRequiredString(const rapidjson::Value& object, const char* name, std::string_view path,
                         std::string* out) {
  std::string field = MemberPath(path, name);
  const rapidjson::Value* value = FindMember(object, name);
  if (value == nullptr) return Missing(field);
  if (!value->IsString()) return Status::Invalid(field, field + " must be a JSON string");
  out->assign(value->GetString(), value->GetStringLength());
  return Status::Ok();
}

Status GetOptionalString(const rapidjson::Value& object, const char* name, std::string_view path,
                         std::string* out) {
  const rapidjson::Value* value = FindMember(object, name);
  if (value == nullptr) return Status::Ok();
  std::string field = MemberPath(path, name);
  if (!value->IsString()) return Status::Invalid(field, field + " must be a JSON string");
  out->assign(value->GetString(), value->GetStringLength());
  return Status::Ok();
}

Status GetRequiredObject(const rapidjson::Value& object, const char* name, std::string_view path,
                         const rapidjson::Value** out) {
  std::string field = MemberPath(path, name);
  const rapidjson::Value* value = FindMember(object, name);
  if (value == nullptr) return Missing(field);
  if (!value->IsObject()) return Status::Invalid(field, field + " must be a JSON object");
  *out = value;
  return Status::Ok();
}

Status GetRequiredArray(const rapidjson::Value& object, const char* name, std::string_view path,
                        const rapidjson::Value** out) {
  std::string field = MemberPath(path, name);
  const rapidjson::Value* value = FindMember(object, name);
  if (value == nullptr) return Missing(field);
  if (!value->IsArray()) return Status::Invalid(field, field + " must be a JSON array");
  *out = value;
  return Status::Ok();
}

Status GetRequiredUint(const rapidjson::Value& object, const char* name, std::string_view path,
                       uint64_t max, uint64_t* out) {
  std::string field = MemberPath(path, name);
  const rapidjson::Value* value = FindMember(object, name);
  if (value == nullptr) return Missing(field);
  if (!value->IsUint64() || value->GetUint64() > max) {
    return Status::Invalid(field, field + " must be a JSON integer from 0 to " + std::to_string(max));
  }
  *out = value->GetUint64();
  return Status::Ok();
}

Status GetOptionalBool(const rapidjson::Value& object, const char* name, std::string_view path,
                       bool* out) {
  const rapidjson::Value* value = FindMember(object, name);
  if (value == nullptr) return Status::Ok();
  std::string field = MemberPath(path, name);
  if (!value->IsBool()) return Status::Invalid(field, field + " must be true or false");
  *out = value->GetBool();
  return Status::Ok();
}

Status GetRequiredAmount(const rapidjson::Value& object, const char* name, std::string_view path,
                         int64_t* cents) {
  std::string field = MemberPath(path, name);
  std::string text;
  Status status = GetRequiredString(object, name, path, &text);
  if (!status.ok()) return status;
  if (!ParseAmount(text, cents).ok()) {
    return Status::Invalid(field, field + " \"" + text +
                                      "\" is not an amount: write a decimal string with at most "
                                      "2 decimals, such as \"12.30\" or \"-4.50\"");
  }
  return Status::Ok();
}

size_t CountCharacters(std::string_view utf8) {
  size_t count = 0;
  for (unsigned char c : utf8) {
    if ((c & 0xc0) != 0x80) ++count;
  }
  return count;
}

Status CheckLength(std::string_view text, std::string_view field, size_t max_characters) {
  // Bytes bound the count from above, so short text needs no counting.
  if (text.size() <= max_characters) return Status::Ok();
  size_t characters = CountCharacters(text);
  if (characters <= max_characters) return Status::Ok();
  std::string name(field);
  return Status::Invalid(name, name + " has " + std::to_string(characters) +
                                   " characters, more than the maximum of " +
                                   std::to_string(max_characters) + "; shorten it");
}

Status CheckText(std::string_view text, std::string_view field, size_t max_characters) {
  Status status = CheckLength(text, field, max_characters);
  if (!status.ok()) return status;
  std::string name(field);
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) {
      return Status::Invalid(name, name + " contains a control character (such as a line break); "
                                          "remove it");
    }
  }
  return Status::Ok();
}

void WriteString(JsonWriter& writer, std::string_view value) {
  writer.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

void WriteStringMember(JsonWriter& writer, const char* name, std::string_view value) {
  writer.Key(name);
  WriteString(writer, value);
}

void WriteUintMember(JsonWriter& writer, const char* name, uint64_t value) {
  writer.Key(name);
  writer.Uint64(value);
}

}  // namespace fiscal::france
