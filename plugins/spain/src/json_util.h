// Helpers to read the host's JSON input with field-named errors and to write deterministic JSON.
#ifndef FISCAL_SPAIN_JSON_UTIL_H_
#define FISCAL_SPAIN_JSON_UTIL_H_

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <optional>
#include <string>
#include <string_view>

#include "status.h"

namespace fiscal::spain {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// Parses `text` as a UTF-8 JSON object. `what` names the document in the error message.
Status ParseJsonObject(std::string_view text, std::string_view what, rapidjson::Document* document);

// Returns the member `name` of `object`, or nullptr when it is absent or JSON null.
const rapidjson::Value* FindMember(const rapidjson::Value& object, const char* name);

// Reads a required string member. `path` is the member's JSON path, used in errors.
Status GetRequiredString(const rapidjson::Value& object, const char* name, const std::string& path,
                         std::string* out);

// Reads an optional string member: absent or null leaves `*out` unchanged.
Status GetOptionalString(const rapidjson::Value& object, const char* name, const std::string& path,
                         std::string* out);

// Reads a required object member.
Status GetRequiredObject(const rapidjson::Value& object, const char* name, const std::string& path,
                         const rapidjson::Value** out);

// Writes `"name": "value"` into an open object.
void WriteStringMember(JsonWriter& writer, const char* name, std::string_view value);

// Copies a parsed JSON value into `writer` in its stored member order.
void WriteValue(JsonWriter& writer, const rapidjson::Value& value);

}  // namespace fiscal::spain

#endif  // FISCAL_SPAIN_JSON_UTIL_H_
