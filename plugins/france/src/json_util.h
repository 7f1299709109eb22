// Helpers to read the host's JSON input with field-named errors and to write canonical JSON: keys
// in a fixed order, no spaces, amounts as strings.
#ifndef FISCAL_FRANCE_JSON_UTIL_H_
#define FISCAL_FRANCE_JSON_UTIL_H_

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "status.h"

namespace fiscal::france {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// Parses `text` as a UTF-8 JSON object. `document_name` names it in error messages.
Status ParseJsonObject(std::string_view text, std::string_view document_name,
                       rapidjson::Document* document);

// Returns the member `name` of `object`, or nullptr when it is absent or JSON null.
const rapidjson::Value* FindMember(const rapidjson::Value& object, const char* name);

// Joins a JSON path and a member name: ("transaction", "items") gives "transaction.items".
std::string MemberPath(std::string_view path, std::string_view name);

// Returns "path[index]".
std::string IndexPath(std::string_view path, size_t index);

// Readers of one member. `path` is the JSON path of the object, used in errors. A required member
// that is absent or null is an error; an optional one leaves `*out` unchanged.
Status GetRequiredString(const rapidjson::Value& object, const char* name, std::string_view path,
                         std::string* out);
Status GetOptionalString(const rapidjson::Value& object, const char* name, std::string_view path,
                         std::string* out);
Status GetRequiredObject(const rapidjson::Value& object, const char* name, std::string_view path,
                         const rapidjson::Value** out);
Status GetRequiredArray(const rapidjson::Value& object, const char* name, std::string_view path,
                        const rapidjson::Value** out);
// Reads a non-negative JSON integer no greater than `max`.
Status GetRequiredUint(const rapidjson::Value& object, const char* name, std::string_view path,
                       uint64_t max, uint64_t* out);
Status GetOptionalBool(const rapidjson::Value& object, const char* name, std::string_view path,
                       bool* out);

// Reads an amount string with at most 2 decimals ("-12.30") into cents.
Status GetRequiredAmount(const rapidjson::Value& object, const char* name, std::string_view path,
                         int64_t* cents);

// Counts the Unicode code points of `utf8` as the bytes that do not continue a multi-byte
// sequence. `utf8` must be valid UTF-8, which ParseJsonObject ensures for every input string.
size_t CountCharacters(std::string_view utf8);

// Returns an error when `text` has more than `max_characters` Unicode characters.
Status CheckLength(std::string_view text, std::string_view field, size_t max_characters);

// Returns an error when `text` has more than `max_characters` Unicode characters or contains a
// control character.
Status CheckText(std::string_view text, std::string_view field, size_t max_characters);

void WriteString(JsonWriter& writer, std::string_view value);
void WriteStringMember(JsonWriter& writer, const char* name, std::string_view value);
void WriteUintMember(JsonWriter& writer, const char* name, uint64_t value);

// Returns the text of a finished StringBuffer.
inline std::string BufferText(const rapidjson::StringBuffer& buffer) {
  return std::string(buffer.GetString(), buffer.GetSize());
}

// A JSON object written into a string. The constructor opens the object, and Finish() closes it
// and returns its text, so call Finish() once, after the last member.
class JsonObjectText {
 public:
  JsonObjectText() : writer_(buffer_) { writer_.StartObject(); }
  JsonObjectText(const JsonObjectText&) = delete;
  JsonObjectText& operator=(const JsonObjectText&) = delete;

  JsonWriter& writer() { return writer_; }

  std::string Finish() {
    writer_.EndObject();
    return BufferText(buffer_);
  }

 private:
  rapidjson::StringBuffer buffer_;
  JsonWriter writer_;
};

// Writes the member `name` as an array with one object per item. `write_members(item)` writes
// the members of one item's object.
template <typename Item, typename WriteMembers>
void WriteObjectArrayMember(JsonWriter& writer, const char* name, const std::vector<Item>& items,
                            WriteMembers write_members) {
  writer.Key(name);
  writer.StartArray();
  for (const Item& item : items) {
    writer.StartObject();
    write_members(item);
    writer.EndObject();
  }
  writer.EndArray();
}

}  // namespace fiscal::france

#endif  // FISCAL_FRANCE_JSON_UTIL_H_
