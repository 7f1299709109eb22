// A small JSON document model for reading API bodies and plugin results.
//
// Numbers keep their literal text ("12.30" stays "12.30") so that amounts never pass through binary
// floating point, while the type of every value is still known: a client that sends 123 where a
// string is expected gets a clear error. Parsing rejects duplicate keys, invalid UTF-8 and nesting
// deeper than kMaxDepth.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace fiscal::json {

class Node {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };

  Type type() const { return type_; }
  bool IsNull() const { return type_ == Type::kNull; }
  bool IsBool() const { return type_ == Type::kBool; }
  bool IsNumber() const { return type_ == Type::kNumber; }
  bool IsString() const { return type_ == Type::kString; }
  bool IsArray() const { return type_ == Type::kArray; }
  bool IsObject() const { return type_ == Type::kObject; }

  // String value, or the literal text of a number.
  const std::string& text() const { return text_; }
  bool boolean() const { return boolean_; }
  const std::vector<Node>& items() const { return items_; }
  const std::vector<std::pair<std::string, Node>>& members() const { return members_; }

  // Returns the member named `name`, or nullptr (also when this is not an object).
  const Node* Find(std::string_view name) const;

  // Serialises the node back to compact JSON; numbers are written with their literal text.
  std::string ToJson() const;

  // Name of a type for error messages: "a string", "a number", ...
  static const char* TypeName(Type type);

 private:
  friend class TreeBuilder;

  Type type_ = Type::kNull;
  std::string text_;
  bool boolean_ = false;
  std::vector<Node> items_;
  std::vector<std::pair<std::string, Node>> members_;
};

constexpr int kMaxDepth = 32;

// Parses `text`. A malformed document gives kInvalidArgument naming `what` ("request body") and the
// byte offset of the error.
Result<Node> Parse(std::string_view text, const std::string& what = "request body");

}  // namespace fiscal::json
