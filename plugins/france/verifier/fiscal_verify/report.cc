#include "fiscal_verify/report.h"

#include <cstdio>

namespace fiscal::france::verifier {
namespace {

std::string JsonString(const std::string& text) {
  std::string out = "\"";
  for (char raw : text) {
    auto c = static_cast<unsigned char>(raw);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buffer[8];
          std::snprintf(buffer, sizeof(buffer), "\\u%04x", c);
          out += buffer;
        } else {
          out.push_back(raw);
        }
    }
  }
  return out + "\"";
}

std::string JsonStringArray(const std::vector<std::string>& items) {
  std::string json = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) json += ",";
    json += JsonString(items[i]);
  }
  return json + "]";
}

std::string OptionalJsonString(const std::string& text) {
  return text.empty() ? "null" : JsonString(text);
}

}  // namespace

std::string FailureLocation(const Failure& failure) {
  if (failure.chain.empty()) return failure.file.empty() ? "archive" : "file " + failure.file;
  std::string location = "chain " + failure.chain;
  if (failure.sequence) {
    location += ", sequence " + std::to_string(*failure.sequence);
    if (!failure.fiscal_id.empty()) location += " (fiscal id " + failure.fiscal_id + ")";
  } else if (failure.line != 0) {
    location += ", line " + std::to_string(failure.line);
  }
  return location;
}

std::string FormatText(const Report& report) {
  std::string text;
  for (const std::string& check : report.checks) text += "ok " + check + "\n";
  for (const std::string& note : report.notes) text += "note: " + note + "\n";
  switch (report.outcome) {
    case Outcome::kValid:
      return text + "VALID\n";
    case Outcome::kReadError:
      return text + "ERROR: " + report.error + "\n";
    case Outcome::kInvalid:
      break;
  }
  const Failure& failure = report.failure;
  text += "INVALID: " + FailureLocation(failure) + ": " + failure.reason;
  if (!failure.expected.empty() || !failure.found.empty()) {
    text += ": expected " + failure.expected + ", found " + failure.found;
  }
  return text + "\n";
}

std::string FormatJson(const Report& report) {
  std::string json = "{\"valid\":";
  json += report.outcome == Outcome::kValid ? "true" : "false";
  json += ",\"checks\":" + JsonStringArray(report.checks);
  json += ",\"notes\":" + JsonStringArray(report.notes);
  json += ",\"failure\":";
  if (report.outcome == Outcome::kInvalid) {
    const Failure& failure = report.failure;
    json += "{\"location\":" + JsonString(FailureLocation(failure));
    json += ",\"chain\":" + OptionalJsonString(failure.chain);
    json += ",\"sequence\":" + (failure.sequence ? std::to_string(*failure.sequence) : "null");
    json += ",\"fiscal_id\":" + OptionalJsonString(failure.fiscal_id);
    json += ",\"line\":" + (failure.line != 0 ? std::to_string(failure.line) : "null");
    json += ",\"file\":" + OptionalJsonString(failure.file);
    json += ",\"reason\":" + JsonString(failure.reason);
    json += ",\"expected\":" + OptionalJsonString(failure.expected);
    json += ",\"found\":" + OptionalJsonString(failure.found) + "}";
  } else {
    json += "null";
  }
  json += ",\"error\":";
  json += report.outcome == Outcome::kReadError ? JsonString(report.error) : "null";
  return json + "}\n";
}

int ExitCode(const Report& report) {
  switch (report.outcome) {
    case Outcome::kValid:
      return 0;
    case Outcome::kInvalid:
      return 1;
    case Outcome::kReadError:
      return 2;
  }
  return 2;
}

}  // namespace fiscal::france::verifier
