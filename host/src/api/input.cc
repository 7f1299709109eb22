#include "api/input.h"

#include <cctype>

namespace fiscal::api {
namespace {

// Counts UTF-8 code points (the parser has already checked the encoding).
size_t CountCharacters(const std::string& text) {
  size_t count = 0;
  for (unsigned char c : text) count += (c & 0xC0) != 0x80 ? 1 : 0;
  return count;
}

}  // namespace

std::string JoinPath(const std::string& parent, const std::string& name) {
  return parent.empty() ? name : parent + "." + name;
}

Result<std::optional<std::string>> ReadString(const json::Node& object, const std::string& name,
                                              const std::string& path, size_t max_length, bool required) {
  std::string field = JoinPath(path, name);
  const json::Node* node = object.Find(name);
  if (node == nullptr || node->IsNull()) {
    if (required) return Status::InvalidArgument(field, field + " is required");
    return std::optional<std::string>();
  }
  if (!node->IsString()) {
    return Status::InvalidArgument(field, field + " must be a string, not " + json::Node::TypeName(node->type()));
  }
  if (required && node->text().empty()) return Status::InvalidArgument(field, field + " must not be empty");
  if (CountCharacters(node->text()) > max_length) {
    return Status::InvalidArgument(field, field + " is longer than " + std::to_string(max_length) + " characters");
  }
  return std::optional<std::string>(node->text());
}

Result<std::optional<Decimal>> ReadDecimal(const json::Node& object, const std::string& name,
                                           const std::string& path, bool required) {
  std::string field = JoinPath(path, name);
  const json::Node* node = object.Find(name);
  if (node == nullptr || node->IsNull()) {
    if (required) return Status::InvalidArgument(field, field + " is required");
    return std::optional<Decimal>();
  }
  if (!node->IsNumber() && !node->IsString()) {
    return Status::InvalidArgument(field, field + " must be a number or a decimal string such as \"12.30\", not " +
                                              json::Node::TypeName(node->type()));
  }
  Result<Decimal> value = Decimal::Parse(node->text(), field);
  if (!value.ok()) return value.status();
  return std::optional<Decimal>(value.value());
}

Result<int> ReadIntParam(const std::string& text, const std::string& name, int fallback, int minimum, int maximum) {
  if (text.empty()) return fallback;
  if (text.size() > 9) return Status::InvalidArgument(name, name + " must be at most " + std::to_string(maximum));
  int value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return Status::InvalidArgument(name, name + " must be a whole number");
    value = value * 10 + (c - '0');
  }
  if (value < minimum || value > maximum) {
    return Status::InvalidArgument(name, name + " must be between " + std::to_string(minimum) + " and " +
                                             std::to_string(maximum));
  }
  return value;
}

bool IsUuid(const std::string& text) {
  if (text.size() != 36) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash != (text[i] == '-')) return false;
    if (!dash && !std::isxdigit(static_cast<unsigned char>(text[i]))) return false;
  }
  return true;
}

bool IsRfc3339(const std::string& text) {
  // YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)
  auto digits = [&](size_t from, size_t count) {
    if (from + count > text.size()) return false;
    for (size_t i = from; i < from + count; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(text[i]))) return false;
    }
    return true;
  };
  auto number = [&](size_t from, size_t count) { return std::stoi(text.substr(from, count)); };

  if (text.size() < 20) return false;
  if (!digits(0, 4) || text[4] != '-' || !digits(5, 2) || text[7] != '-' || !digits(8, 2)) return false;
  if (text[10] != 'T' && text[10] != 't') return false;
  if (!digits(11, 2) || text[13] != ':' || !digits(14, 2) || text[16] != ':' || !digits(17, 2)) return false;
  int year = number(0, 4), month = number(5, 2), day = number(8, 2);
  int hour = number(11, 2), minute = number(14, 2), second = number(17, 2);
  if (year < 1970 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return false;
  static const int kDaysInMonth[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  int days = kDaysInMonth[month - 1] + (month == 2 && leap ? 1 : 0);
  if (day > days) return false;

  size_t position = 19;
  if (position < text.size() && text[position] == '.') {
    size_t start = ++position;
    while (position < text.size() && std::isdigit(static_cast<unsigned char>(text[position]))) ++position;
    if (position == start || position - start > 9) return false;
  }
  if (position == text.size()) return false;
  if (text[position] == 'Z' || text[position] == 'z') return position + 1 == text.size();
  if (text[position] != '+' && text[position] != '-') return false;
  if (!digits(position + 1, 2) || text.size() != position + 6 || text[position + 3] != ':' || !digits(position + 4, 2)) {
    return false;
  }
  // Real UTC offsets lie between -12:00 and +14:00.
  return number(position + 1, 2) <= 14 && number(position + 4, 2) <= 59;
}

}  // namespace fiscal::api
