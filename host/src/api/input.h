// Reading and checking fields of a parsed JSON request body. Every failure is a kInvalidArgument
// Status that names the field by its JSON path and says what is expected.
#pragma once

#include <optional>
#include <string>

#include "common/decimal.h"
#include "common/json_tree.h"
#include "common/status.h"

namespace fiscal::api {

// Returns the string member `name` of `object`. Missing -> error when `required`, else nullopt.
// Longer than `max_length` characters (code points) or the wrong type -> error.
Result<std::optional<std::string>> ReadString(const json::Node& object, const std::string& name,
                                              const std::string& path, size_t max_length, bool required);

// Returns a decimal given as a JSON number or a decimal string ("12.30").
Result<std::optional<Decimal>> ReadDecimal(const json::Node& object, const std::string& name,
                                           const std::string& path, bool required);

// Returns an integer query parameter between minimum and maximum, `fallback` when absent.
Result<int> ReadIntParam(const std::string& text, const std::string& name, int fallback, int minimum, int maximum);

// True for a canonical UUID text (8-4-4-4-12 hex digits).
bool IsUuid(const std::string& text);

// True for an RFC 3339 date-time with seconds and an offset ("2026-12-04T10:00:00Z",
// "2026-12-04T11:00:00.250+01:00") that names a real calendar day from 1970 on, with an offset of
// at most 14 hours.
bool IsRfc3339(const std::string& text);

// Joins a JSON path: JoinPath("items[0]", "quantity") == "items[0].quantity".
std::string JoinPath(const std::string& parent, const std::string& name);

}  // namespace fiscal::api
