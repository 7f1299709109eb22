#include "text_rules.h"

namespace fiscal::spain {

size_t CountCodePoints(std::string_view utf8) {
  size_t count = 0;
  for (unsigned char c : utf8) {
    // Continuation bytes (10xxxxxx) do not start a code point.
    if ((c & 0xC0) != 0x80) ++count;
  }
  return count;
}

bool HasNoControlCharacters(std::string_view text) {
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7F) return false;
  }
  return true;
}

bool IsValidSeriesText(std::string_view text) {
  for (unsigned char c : text) {
    if (c < 32 || c > 126) return false;
    if (c == '"' || c == '\'' || c == '<' || c == '>' || c == '=') return false;
  }
  return true;
}

std::string_view TrimAsciiSpace(std::string_view text) {
  size_t begin = 0;
  while (begin < text.size() && static_cast<unsigned char>(text[begin]) <= 0x20) ++begin;
  size_t end = text.size();
  while (end > begin && static_cast<unsigned char>(text[end - 1]) <= 0x20) --end;
  return text.substr(begin, end - begin);
}

std::string CheckFreeText(std::string_view text, size_t max_chars, bool allow_empty) {
  if (text.empty() && !allow_empty) return "must not be empty";
  if (!HasNoControlCharacters(text)) return "must not contain control characters (tab, newline...)";
  if (CountCodePoints(text) > max_chars) {
    return "is longer than " + std::to_string(max_chars) + " characters";
  }
  return "";
}

}  // namespace fiscal::spain
