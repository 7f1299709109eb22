#include "location.h"

#include <algorithm>
#include <array>

#include "json_util.h"

namespace fiscal::france {
namespace {

constexpr std::array<std::string_view, 6> kKnownKeys = {"system",        "siret", "register_id",
                                                        "establishment", "naf",   "vat_number"};
constexpr size_t kMaxEstablishmentLength = 100;
constexpr size_t kMaxRegisterLength = 20;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool IsAsciiLetter(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

char AsciiUpper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

bool AllDigits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), IsDigit);
}

bool IsLuhnValid(std::string_view digits) {
  int sum = 0;
  for (size_t i = 0; i < digits.size(); ++i) {
    int digit = digits[digits.size() - 1 - i] - '0';
    if (i % 2 == 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 == 0;
}

// Removes the spaces people type in SIRET and VAT numbers ("732 829 320 00074").
std::string WithoutSpaces(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c != ' ') out += c;
  }
  return out;
}

std::string KnownKeysText() {
  std::string text;
  for (std::string_view key : kKnownKeys) {
    if (!text.empty()) text += ", ";
    text += key;
  }
  return text;
}

// Rejects keys this plugin does not read, because a misspelt optional key ("etablishment") would
// otherwise be dropped silently.
Status CheckKnownKeys(const rapidjson::Value& object, std::string_view path) {
  for (auto member = object.MemberBegin(); member != object.MemberEnd(); ++member) {
    std::string_view key(member->name.GetString(), member->name.GetStringLength());
    if (std::find(kKnownKeys.begin(), kKnownKeys.end(), key) != kKnownKeys.end()) continue;
    std::string field = MemberPath(path, key);
    return Status::Invalid(field, field + " is not a setting of the France NF525 plugin; use only " +
                                      KnownKeysText());
  }
  return Status::Ok();
}

Status ParseSiret(const rapidjson::Value& object, std::string_view path, std::string* out) {
  std::string field = MemberPath(path, "siret");
  std::string raw;
  Status status = GetRequiredString(object, "siret", path, &raw);
  if (!status.ok()) return status;
  std::string siret = WithoutSpaces(raw);
  if (siret.size() != 14 || !AllDigits(siret)) {
    return Status::Invalid(field, field + " \"" + raw +
                                      "\" must be the establishment's 14-digit SIRET number");
  }
  if (!IsValidSiret(siret)) {
    return Status::Invalid(field, field + " \"" + raw +
                                      "\" has an invalid check digit (Luhn); copy the SIRET "
                                      "from the establishment's INSEE notice or Kbis extract");
  }
  *out = siret;
  return Status::Ok();
}

Status ParseRegisterId(const rapidjson::Value& object, std::string_view path, std::string* out) {
  std::string field = MemberPath(path, "register_id");
  std::string value;
  Status status = GetRequiredString(object, "register_id", path, &value);
  if (!status.ok()) return status;
  if (!IsRegisterId(value)) {
    return Status::Invalid(field, field + " \"" + value +
                                      "\" must be 1 to 20 characters from A-Z, a-z, 0-9, '_' and "
                                      "'-', such as \"CAISSE-01\"");
  }
  *out = value;
  return Status::Ok();
}

// NAF rev. 2 codes are 4 digits and a letter, written "47.11F".
Status ParseNaf(const rapidjson::Value& object, std::string_view path, std::string* out) {
  std::string field = MemberPath(path, "naf");
  std::string raw;
  Status status = GetOptionalString(object, "naf", path, &raw);
  if (!status.ok() || raw.empty()) return status;
  std::string code = WithoutSpaces(raw);
  code.erase(std::remove(code.begin(), code.end(), '.'), code.end());
  if (code.size() != 5 || !AllDigits(code.substr(0, 4)) ||
      !IsAsciiLetter(code[4])) {
    return Status::Invalid(field, field + " \"" + raw +
                                      "\" must be a NAF rev. 2 code such as \"47.11F\"");
  }
  *out = code.substr(0, 2) + "." + code.substr(2, 2) +
         AsciiUpper(code[4]);
  return Status::Ok();
}

// French VAT numbers are "FR", a 2-character key and the company's SIREN (the first 9 digits of
// its SIRET). A numeric key is (12 + 3 * (SIREN mod 97)) mod 97.
Status ParseVatNumber(const rapidjson::Value& object, std::string_view path,
                      std::string_view siret, std::string* out) {
  std::string field = MemberPath(path, "vat_number");
  std::string raw;
  Status status = GetOptionalString(object, "vat_number", path, &raw);
  if (!status.ok() || raw.empty()) return status;
  std::string number = WithoutSpaces(raw);
  std::transform(number.begin(), number.end(), number.begin(), AsciiUpper);
  std::string_view view = number;
  bool key_alphanumeric =
      view.size() == 13 && std::all_of(view.begin() + 2, view.begin() + 4, [](char c) {
        return IsAsciiLetter(c) || IsDigit(c);
      });
  if (view.size() != 13 || view.substr(0, 2) != "FR" || !key_alphanumeric ||
      !AllDigits(view.substr(4))) {
    return Status::Invalid(field, field + " \"" + raw +
                                      "\" must be a French VAT number: \"FR\", a 2-character key "
                                      "and the 9-digit SIREN");
  }
  std::string_view siren = view.substr(4);
  if (siren != siret.substr(0, 9)) {
    return Status::Invalid(field, field + " \"" + raw + "\" belongs to SIREN " +
                                      std::string(siren) + ", but the SIRET starts with " +
                                      std::string(siret.substr(0, 9)) +
                                      "; give the VAT number of the establishment's company");
  }
  if (AllDigits(view.substr(2, 2))) {
    long long siren_value = std::stoll(std::string(siren));
    int key = static_cast<int>((12 + 3 * (siren_value % 97)) % 97);
    if (key != std::stoi(std::string(view.substr(2, 2)))) {
      return Status::Invalid(field, field + " \"" + raw +
                                        "\" has an invalid key; check the two characters "
                                        "after \"FR\"");
    }
  }
  *out = number;
  return Status::Ok();
}

void WriteConfig(JsonWriter& writer, const LocationConfig& config) {
  writer.StartObject();
  if (!config.system.empty()) WriteStringMember(writer, "system", config.system);
  WriteStringMember(writer, "siret", config.siret);
  WriteStringMember(writer, "register_id", config.register_id);
  if (!config.establishment.empty()) {
    WriteStringMember(writer, "establishment", config.establishment);
  }
  if (!config.naf.empty()) WriteStringMember(writer, "naf", config.naf);
  if (!config.vat_number.empty()) WriteStringMember(writer, "vat_number", config.vat_number);
  writer.EndObject();
}

}  // namespace

std::string SigningKeyRef(const LocationConfig& location) {
  return "nf525-" + location.siret + "-" + location.register_id;
}

bool IsRegisterId(std::string_view text) {
  return !text.empty() && text.size() <= kMaxRegisterLength &&
         std::all_of(text.begin(), text.end(), [](char c) {
           return IsAsciiLetter(c) || IsDigit(c) || c == '_' || c == '-';
         });
}

bool IsValidSiret(std::string_view siret) {
  if (siret.size() != 14 || !AllDigits(siret)) return false;
  if (siret.substr(0, 9) == "356000000") {
    int sum = 0;
    for (char c : siret) sum += c - '0';
    return sum % 5 == 0;
  }
  return IsLuhnValid(siret);
}

Status ParseLocationConfig(const rapidjson::Value& object, std::string_view path,
                           LocationConfig* out) {
  if (!object.IsObject()) {
    std::string field(path);
    return Status::Invalid(field, field + " must be a JSON object");
  }
  Status status = CheckKnownKeys(object, path);
  if (!status.ok()) return status;

  LocationConfig config;
  status = GetOptionalString(object, "system", path, &config.system);
  if (!status.ok()) return status;
  status = ParseSiret(object, path, &config.siret);
  if (!status.ok()) return status;
  status = ParseRegisterId(object, path, &config.register_id);
  if (!status.ok()) return status;
  status = GetOptionalString(object, "establishment", path, &config.establishment);
  if (!status.ok()) return status;
  status = CheckText(config.establishment, MemberPath(path, "establishment"),
                     kMaxEstablishmentLength);
  if (!status.ok()) return status;
  status = ParseNaf(object, path, &config.naf);
  if (!status.ok()) return status;
  status = ParseVatNumber(object, path, config.siret, &config.vat_number);
  if (!status.ok()) return status;

  *out = std::move(config);
  return Status::Ok();
}

Status ValidateLocation(std::string_view config_json, std::string* result_json) {
  rapidjson::Document document;
  Status status = ParseJsonObject(config_json, "country_config", &document);
  if (!status.ok()) return status;
  LocationConfig config;
  status = ParseLocationConfig(document, "country_config", &config);
  if (!status.ok()) return status;

  std::string scope = config.siret + "-" + config.register_id;
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartObject();
  writer.Key("config");
  WriteConfig(writer, config);
  WriteStringMember(writer, "chain_key", "FR-" + scope);
  WriteStringMember(writer, "issuer_key", "FR-" + config.siret);
  WriteStringMember(writer, "signing_key", SigningKeyRef(config));
  writer.Key("features");
  writer.StartArray();
  for (const char* feature : {"training", "duplicates", "closures", "journal", "archives"}) {
    writer.String(feature);
  }
  writer.EndArray();
  WriteStringMember(writer, "submission", "none");
  WriteStringMember(writer, "time_zone", "Europe/Paris");
  writer.EndObject();
  *result_json = BufferText(buffer);
  return Status::Ok();
}

}  // namespace fiscal::france
