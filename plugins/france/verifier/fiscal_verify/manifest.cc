#include "fiscal_verify/manifest.h"

#include <algorithm>
#include <set>

#include "fiscal_verify/json_util.h"
#include "payload.h"
#include "signature.h"

namespace fiscal::france::verifier {
namespace {

constexpr char kManifestFormat[] = "fiscal-archive-v1";

struct ChainKind {
  std::string_view name;
  std::string_view format;
};

// The chains of one register, in the order of docs/france.md, "Chains".
constexpr ChainKind kChainKinds[] = {
    {"tickets", "fr-ticket-v1"},       {"training", "fr-training-v1"},
    {"duplicates", "fr-duplicate-v1"}, {"closures", "fr-closure-v1"},
    {"journal", "fr-event-v1"},        {"archives", "fr-archive-v1"},
};

bool IsLowerHex64(std::string_view text) {
  return text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

bool IsDateText(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (i != 4 && i != 7 && (text[i] < '0' || text[i] > '9')) return false;
  }
  return true;
}

bool ReadOptionalSequence(const rapidjson::Value& value, std::optional<uint64_t>* sequence) {
  if (value.IsNull()) {
    sequence->reset();
    return true;
  }
  if (!value.IsUint64()) return false;
  *sequence = value.GetUint64();
  return true;
}

std::string ReadAmountMember(const rapidjson::Value& object, std::string_view name,
                             int64_t* cents) {
  const rapidjson::Value* value = StringMember(object, name);
  if (value == nullptr) return "\"" + std::string(name) + "\" is missing or not a string";
  if (!ParseAmount(StringValue(*value), cents).ok()) {
    return "\"" + std::string(name) + "\" \"" + StringValue(*value) + "\" is not an amount";
  }
  return "";
}

std::string ReadCumulative(const rapidjson::Value& value, Cumulative* cumulative) {
  if (!value.IsObject()) return "is not an object";
  std::string error = ReadAmountMember(value, "total", &cumulative->total_cents);
  if (error.empty()) error = ReadAmountMember(value, "absolute", &cumulative->absolute_cents);
  if (!error.empty()) return error;
  auto rates = value.FindMember("rates");
  if (rates == value.MemberEnd()) return "";
  if (!rates->value.IsObject()) return "\"rates\" is not an object";
  for (const auto& member : rates->value.GetObject()) {
    std::string rate = StringValue(member.name);
    bool rate_ok = rate.size() == 4 && std::all_of(rate.begin(), rate.end(),
                                                   [](char c) { return c >= '0' && c <= '9'; });
    if (!rate_ok) return "rate \"" + rate + "\" is not 4 digits";
    if (!member.value.IsString()) return "rate " + rate + " is not a string amount";
    int64_t cents = 0;
    if (!ParseAmount(StringValue(member.value), &cents).ok()) {
      return "rate " + rate + " amount \"" + StringValue(member.value) + "\" is not an amount";
    }
    cumulative->rates[std::stoi(rate)] = cents;
  }
  return "";
}

std::string ReadAnchor(const rapidjson::Value& value, ManifestAnchor* anchor) {
  std::string error = CheckMembers(value, {"sequence", "signature", "cumulative"});
  if (!error.empty()) return error;
  // The anchor is a stored record, and sequences start at 1.
  if (!value["sequence"].IsUint64() || value["sequence"].GetUint64() == 0) {
    return "\"sequence\" is not a positive integer";
  }
  anchor->sequence = value["sequence"].GetUint64();
  const rapidjson::Value* signature = StringMember(value, "signature");
  std::string raw;
  if (signature == nullptr || signature->GetStringLength() != kSignatureLength ||
      !Base64UrlDecode(StringValue(*signature), &raw)) {
    return "\"signature\" is not 86 base64url characters";
  }
  anchor->signature = StringValue(*signature);
  const rapidjson::Value& cumulative = value["cumulative"];
  if (cumulative.IsNull()) return "";
  anchor->cumulative.emplace();
  error = ReadCumulative(cumulative, &*anchor->cumulative);
  return error.empty() ? "" : "\"cumulative\" " + error;
}

std::string ReadChain(const rapidjson::Value& value, ManifestChain* chain) {
  std::string error = CheckMembers(
      value, {"name", "file", "format_ids", "count", "first_sequence", "last_sequence", "anchor"});
  if (!error.empty()) return error;

  const rapidjson::Value* name = StringMember(value, "name");
  const rapidjson::Value* file = StringMember(value, "file");
  if (name == nullptr || file == nullptr) return "\"name\" or \"file\" is not a string";
  chain->name = StringValue(*name);
  chain->file = StringValue(*file);
  if (ChainFormat(chain->name).empty()) {
    return "chain name \"" + chain->name +
           "\" is unknown (known: tickets, training, duplicates, closures, journal, archives)";
  }
  if (chain->file != "chains/" + chain->name + ".jsonl") {
    return "file of chain " + chain->name + " is \"" + chain->file + "\", not chains/" +
           chain->name + ".jsonl";
  }

  if (!value["format_ids"].IsArray()) return "\"format_ids\" is not an array";
  for (const rapidjson::Value& format : value["format_ids"].GetArray()) {
    if (!format.IsString()) return "\"format_ids\" holds a value that is not a string";
    chain->format_ids.push_back(StringValue(format));
  }
  if (!value["count"].IsUint64()) return "\"count\" is not a non-negative integer";
  chain->count = value["count"].GetUint64();
  if (!ReadOptionalSequence(value["first_sequence"], &chain->first_sequence) ||
      !ReadOptionalSequence(value["last_sequence"], &chain->last_sequence)) {
    return "\"first_sequence\" or \"last_sequence\" is neither an integer nor null";
  }

  if (value["anchor"].IsNull()) return "";
  chain->anchor.emplace();
  error = ReadAnchor(value["anchor"], &*chain->anchor);
  return error.empty() ? "" : "anchor: " + error;
}

std::string ReadHeader(const rapidjson::Value& root, Manifest* manifest) {
  const rapidjson::Value* format = StringMember(root, "format");
  if (format == nullptr || StringValue(*format) != kManifestFormat) {
    return "\"format\" is not \"" + std::string(kManifestFormat) + "\"";
  }
  const rapidjson::Value* archive_id = StringMember(root, "archive_id");
  const rapidjson::Value* created_at = StringMember(root, "created_at");
  const rapidjson::Value* key_id = StringMember(root, "key_id");
  if (archive_id == nullptr || created_at == nullptr || key_id == nullptr) {
    return "\"archive_id\", \"created_at\" or \"key_id\" is not a string";
  }
  manifest->archive_id = StringValue(*archive_id);
  manifest->created_at = StringValue(*created_at);
  manifest->key_id = StringValue(*key_id);
  if (!IsLowerHex64(manifest->key_id)) return "\"key_id\" is not 64 lower-case hex characters";

  const rapidjson::Value& location = root["location"];
  const rapidjson::Value* register_id = StringMember(location, "register_id");
  if (register_id == nullptr || register_id->GetStringLength() == 0) {
    return "\"location\" has no string \"register_id\"";
  }
  manifest->register_id = StringValue(*register_id);

  const rapidjson::Value& plugin = root["plugin"];
  std::string error = CheckMembers(plugin, {"name", "version"});
  if (!error.empty()) return "\"plugin\" " + error;
  const rapidjson::Value* plugin_name = StringMember(plugin, "name");
  const rapidjson::Value* plugin_version = StringMember(plugin, "version");
  if (plugin_name == nullptr || plugin_version == nullptr) {
    return "\"plugin\" name or version is not a string";
  }
  manifest->plugin_name = StringValue(*plugin_name);
  manifest->plugin_version = StringValue(*plugin_version);

  const rapidjson::Value& period = root["period"];
  error = CheckMembers(period, {"from", "to"});
  if (!error.empty()) return "\"period\" " + error;
  const rapidjson::Value* from = StringMember(period, "from");
  const rapidjson::Value* to = StringMember(period, "to");
  if (from == nullptr || to == nullptr || !IsDateText(StringValue(*from)) ||
      !IsDateText(StringValue(*to))) {
    return "\"period\" from and to are not dates YYYY-MM-DD";
  }
  manifest->period_from = StringValue(*from);
  manifest->period_to = StringValue(*to);
  return "";
}

std::string ReadFiles(const rapidjson::Value& files, Manifest* manifest) {
  if (!files.IsObject()) return "\"files\" is not an object";
  for (const auto& member : files.GetObject()) {
    std::string path = StringValue(member.name);
    if (path == "manifest.json" || path == "manifest.sig") {
      return "\"files\" lists " + path + ", which cannot hold its own hash";
    }
    if (!member.value.IsString() || !IsLowerHex64(StringValue(member.value))) {
      return "\"files\" entry " + path + " is not 64 lower-case hex characters";
    }
    manifest->files[path] = StringValue(member.value);
  }
  return "";
}

}  // namespace

std::string_view ChainFormat(std::string_view chain_name) {
  for (const ChainKind& kind : kChainKinds) {
    if (kind.name == chain_name) return kind.format;
  }
  return "";
}

std::string ParseManifest(std::string_view text, Manifest* manifest) {
  *manifest = Manifest();
  rapidjson::Document root;
  std::string error = ParseStrictJson(text, &root);
  if (!error.empty()) return error;
  error = CheckMembers(root, {"format", "archive_id", "created_at", "location", "plugin", "period",
                              "key_id", "chains", "files"});
  if (!error.empty()) return error;
  error = ReadHeader(root, manifest);
  if (!error.empty()) return error;
  error = ReadFiles(root["files"], manifest);
  if (!error.empty()) return error;

  if (!root["chains"].IsArray()) return "\"chains\" is not an array";
  std::set<std::string> names;
  for (const rapidjson::Value& value : root["chains"].GetArray()) {
    ManifestChain chain;
    error = ReadChain(value, &chain);
    if (!error.empty())
      return "chain " + (chain.name.empty() ? "entry" : chain.name) + ": " + error;
    if (!names.insert(chain.name).second) return "chain " + chain.name + " is listed twice";
    if (manifest->files.count(chain.file) == 0) {
      return "chain " + chain.name + ": file " + chain.file + " is not listed under \"files\"";
    }
    manifest->chains.push_back(std::move(chain));
  }
  return "";
}

}  // namespace fiscal::france::verifier
