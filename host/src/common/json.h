// Light JSON helpers that do not pull RapidJSON into every file.
#pragma once

#include <string>
#include <string_view>

namespace fiscal::json {

// Returns `text` as a JSON string literal, quotes included. Control characters are escaped as
// \uXXXX; bytes >= 0x80 are copied unchanged, so valid UTF-8 stays valid UTF-8.
std::string Quote(std::string_view text);

}  // namespace fiscal::json
