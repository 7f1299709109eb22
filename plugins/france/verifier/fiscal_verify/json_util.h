// Strict JSON reading for fiscal-verify on RapidJSON: one value per text, valid UTF-8, no duplicate
// object keys, and objects with exactly the members a format defines.
#ifndef FISCAL_FRANCE_VERIFIER_JSON_UTIL_H_
#define FISCAL_FRANCE_VERIFIER_JSON_UTIL_H_

#include <rapidjson/document.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace fiscal::france::verifier {

// Parses `text` into *document. Returns an empty string, or the reason with the byte offset.
std::string ParseStrictJson(std::string_view text, rapidjson::Document* document);

// Checks that `object` is an object holding every member of `required` and no member outside
// `required` and `optional`. Returns an empty string, or the reason.
std::string CheckMembers(const rapidjson::Value& object,
                         std::initializer_list<std::string_view> required,
                         std::initializer_list<std::string_view> optional = {});

// Returns the string value of member `name`, or nullptr when it is missing or not a string.
const rapidjson::Value* StringMember(const rapidjson::Value& object, std::string_view name);

// Returns the value of a string member as std::string (which may hold NUL bytes).
std::string StringValue(const rapidjson::Value& value);

// Reads a non-negative integer that is either a JSON integer or a string of digits.
bool ReadUnsigned(const rapidjson::Value& value, uint64_t* number);

}  // namespace fiscal::france::verifier

#endif  // FISCAL_FRANCE_VERIFIER_JSON_UTIL_H_
