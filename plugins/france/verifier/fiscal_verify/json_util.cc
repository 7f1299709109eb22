#include "fiscal_verify/json_util.h"

#include <rapidjson/error/en.h>

#include <algorithm>
#include <set>
#include <vector>

namespace fiscal::france::verifier {
namespace {

constexpr int kMaxDepth = 64;

std::string_view Name(const rapidjson::Value& value) {
  return std::string_view(value.GetString(), value.GetStringLength());
}

// Walks the tree with an explicit stack, so a deeply nested text cannot overflow the call stack.
std::string FindDuplicateKey(const rapidjson::Value& root) {
  std::vector<std::pair<const rapidjson::Value*, int>> pending{{&root, 0}};
  while (!pending.empty()) {
    auto [value, depth] = pending.back();
    pending.pop_back();
    if (depth > kMaxDepth) return "JSON nests deeper than " + std::to_string(kMaxDepth) + " levels";
    if (value->IsArray()) {
      for (const rapidjson::Value& item : value->GetArray()) pending.push_back({&item, depth + 1});
    } else if (value->IsObject()) {
      std::set<std::string_view> names;
      for (const auto& member : value->GetObject()) {
        if (!names.insert(Name(member.name)).second) {
          return "duplicate key \"" + std::string(Name(member.name)) + "\"";
        }
        pending.push_back({&member.value, depth + 1});
      }
    }
  }
  return "";
}

}  // namespace

std::string ParseStrictJson(std::string_view text, rapidjson::Document* document) {
  constexpr unsigned kFlags =
      rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;
  document->Parse<kFlags>(text.data(), text.size());
  if (document->HasParseError()) {
    return std::string("invalid JSON at byte ") + std::to_string(document->GetErrorOffset()) +
           ": " + rapidjson::GetParseError_En(document->GetParseError());
  }
  return FindDuplicateKey(*document);
}

std::string CheckMembers(const rapidjson::Value& object,
                         std::initializer_list<std::string_view> required,
                         std::initializer_list<std::string_view> optional) {
  if (!object.IsObject()) return "is not a JSON object";
  for (std::string_view name : required) {
    if (!object.HasMember(rapidjson::Value(rapidjson::StringRef(name.data(), name.size())))) {
      return "member \"" + std::string(name) + "\" is missing";
    }
  }
  for (const auto& member : object.GetObject()) {
    std::string_view name = Name(member.name);
    bool known = std::find(required.begin(), required.end(), name) != required.end() ||
                 std::find(optional.begin(), optional.end(), name) != optional.end();
    if (!known) return "member \"" + std::string(name) + "\" is not expected";
  }
  return "";
}

const rapidjson::Value* StringMember(const rapidjson::Value& object, std::string_view name) {
  if (!object.IsObject()) return nullptr;
  auto it = object.FindMember(rapidjson::Value(rapidjson::StringRef(name.data(), name.size())));
  if (it == object.MemberEnd() || !it->value.IsString()) return nullptr;
  return &it->value;
}

std::string StringValue(const rapidjson::Value& value) {
  return std::string(value.GetString(), value.GetStringLength());
}

bool ReadUnsigned(const rapidjson::Value& value, uint64_t* number) {
  if (value.IsUint64()) {
    *number = value.GetUint64();
    return true;
  }
  if (!value.IsString()) return false;
  std::string_view text(value.GetString(), value.GetStringLength());
  if (text.empty() || text.size() > 18) return false;
  uint64_t parsed = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    parsed = parsed * 10 + static_cast<uint64_t>(c - '0');
  }
  *number = parsed;
  return true;
}

}  // namespace fiscal::france::verifier
