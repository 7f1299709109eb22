// Character and length rules that AEAT applies to text fields.
#ifndef FISCAL_SPAIN_TEXT_RULES_H_
#define FISCAL_SPAIN_TEXT_RULES_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace fiscal::spain {

// Number of Unicode code points in valid UTF-8 text (AEAT limits count characters, not bytes).
size_t CountCodePoints(std::string_view utf8);

// True when the text has no C0 control character and no DEL. Such characters are either invalid
// in XML 1.0 or silently normalised by XML parsers, so AEAT would not see what was hashed.
bool HasNoControlCharacters(std::string_view text);

// True for the character set of NumSerieFactura (AEAT validation 1130): printable ASCII 32-126
// without " ' < > =.
bool IsValidSeriesText(std::string_view text);

// Removes leading and trailing characters <= U+0020, as Java's String.trim() does.
std::string_view TrimAsciiSpace(std::string_view text);

// Validates a free text field: not empty unless `allow_empty`, at most `max_chars` code points,
// no control characters. Returns an empty string when valid, else the reason.
std::string CheckFreeText(std::string_view text, size_t max_chars, bool allow_empty);

}  // namespace fiscal::spain

#endif  // FISCAL_SPAIN_TEXT_RULES_H_
