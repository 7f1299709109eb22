#include "common/json_tree.h"

#include <cstring>

#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include "common/json.h"

namespace fiscal::json {

const Node* Node::Find(std::string_view name) const {
  for (const auto& member : members_) {
    if (member.first == name) return &member.second;
  }
  return nullptr;
}

const char* Node::TypeName(Type type) {
  switch (type) {
    case Type::kNull: return "null";
    case Type::kBool: return "a boolean";
    case Type::kNumber: return "a number";
    case Type::kString: return "a string";
    case Type::kArray: return "an array";
    case Type::kObject: return "an object";
  }
  return "a value";
}

std::string Node::ToJson() const {
  switch (type_) {
    case Type::kNull: return "null";
    case Type::kBool: return boolean_ ? "true" : "false";
    case Type::kNumber: return text_;
    case Type::kString: return Quote(text_);
    case Type::kArray: {
      std::string out = "[";
      for (size_t i = 0; i < items_.size(); ++i) {
        if (i > 0) out += ",";
        out += items_[i].ToJson();
      }
      return out + "]";
    }
    case Type::kObject: {
      std::string out = "{";
      for (size_t i = 0; i < members_.size(); ++i) {
        if (i > 0) out += ",";
        out += Quote(members_[i].first) + ":" + members_[i].second.ToJson();
      }
      return out + "}";
    }
  }
  return "null";
}

// RapidJSON SAX handler that builds Node trees. Containers are built on an explicit stack so that
// the iterative parser never recurses.
class TreeBuilder : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, TreeBuilder> {
 public:
  bool Null() { return Add(Node()); }
  bool Bool(bool value) {
    Node node;
    node.type_ = Node::Type::kBool;
    node.boolean_ = value;
    return Add(std::move(node));
  }
  bool RawNumber(const char* text, rapidjson::SizeType length, bool) {
    Node node;
    node.type_ = Node::Type::kNumber;
    node.text_.assign(text, length);
    return Add(std::move(node));
  }
  bool String(const char* text, rapidjson::SizeType length, bool) {
    // PostgreSQL text cannot hold NUL, and no fiscal field needs it.
    if (std::memchr(text, 0, length) != nullptr) {
      error_ = "strings must not contain the NUL character (\\u0000)";
      return false;
    }
    Node node;
    node.type_ = Node::Type::kString;
    node.text_.assign(text, length);
    return Add(std::move(node));
  }
  bool StartObject() { return Open(Node::Type::kObject); }
  bool Key(const char* text, rapidjson::SizeType length, bool) {
    Frame& frame = stack_.back();
    std::string key(text, length);
    if (std::memchr(text, 0, length) != nullptr) {
      error_ = "keys must not contain the NUL character (\\u0000)";
      return false;
    }
    if (frame.node.Find(key) != nullptr) {
      error_ = "duplicate key \"" + key + "\"";
      return false;
    }
    frame.pending_key = std::move(key);
    return true;
  }
  bool EndObject(rapidjson::SizeType) { return Close(); }
  bool StartArray() { return Open(Node::Type::kArray); }
  bool EndArray(rapidjson::SizeType) { return Close(); }

  Node TakeRoot() { return std::move(root_); }
  const std::string& error() const { return error_; }

 private:
  struct Frame {
    Node node;
    std::string pending_key;
  };

  bool Open(Node::Type type) {
    if (static_cast<int>(stack_.size()) >= kMaxDepth) {
      error_ = "nesting deeper than " + std::to_string(kMaxDepth) + " levels";
      return false;
    }
    Frame frame;
    frame.node.type_ = type;
    stack_.push_back(std::move(frame));
    return true;
  }

  bool Close() {
    Node node = std::move(stack_.back().node);
    stack_.pop_back();
    return Add(std::move(node));
  }

  bool Add(Node node) {
    if (stack_.empty()) {
      root_ = std::move(node);
      return true;
    }
    Frame& parent = stack_.back();
    if (parent.node.type_ == Node::Type::kArray) {
      parent.node.items_.push_back(std::move(node));
    } else {
      parent.node.members_.emplace_back(std::move(parent.pending_key), std::move(node));
    }
    return true;
  }

  std::vector<Frame> stack_;
  Node root_;
  std::string error_;
};

Result<Node> Parse(std::string_view text, const std::string& what) {
  if (text.empty()) return Status::InvalidArgument("", what + " is empty; send a JSON object");

  TreeBuilder builder;
  rapidjson::Reader reader;
  rapidjson::MemoryStream stream(text.data(), text.size());
  constexpr unsigned kFlags = rapidjson::kParseNumbersAsStringsFlag | rapidjson::kParseIterativeFlag |
                              rapidjson::kParseValidateEncodingFlag;
  rapidjson::ParseResult result = reader.Parse<kFlags>(stream, builder);
  if (!result) {
    std::string reason = builder.error().empty() ? rapidjson::GetParseError_En(result.Code()) : builder.error();
    return Status(StatusCode::kInvalidArgument, "invalid_json",
                  what + " is not valid JSON at byte " + std::to_string(result.Offset()) + ": " + reason);
  }
  return builder.TakeRoot();
}

}  // namespace fiscal::json
