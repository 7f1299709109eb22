// Structured logging: one JSON object per line on standard error.
//
// Every line has "ts", "severity" and "message"; callers add ids as fields. Never pass secrets,
// API keys, certificate material or personal data (customer names, tax ids) as fields. A line
// repeated within a second (same message and fields) is folded: the first is written, and the
// number of suppressed repeats is reported with the next identical line.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace fiscal::log {

enum class Severity { kDebug = 0, kInfo, kWarning, kError };

using Field = std::pair<std::string_view, std::string>;

void Write(Severity severity, std::string_view message, std::initializer_list<Field> fields = {});

inline void Debug(std::string_view message, std::initializer_list<Field> fields = {}) {
  Write(Severity::kDebug, message, fields);
}
inline void Info(std::string_view message, std::initializer_list<Field> fields = {}) {
  Write(Severity::kInfo, message, fields);
}
inline void Warning(std::string_view message, std::initializer_list<Field> fields = {}) {
  Write(Severity::kWarning, message, fields);
}
inline void Error(std::string_view message, std::initializer_list<Field> fields = {}) {
  Write(Severity::kError, message, fields);
}

// Lines below this severity are dropped. Default: kInfo.
void SetMinimumSeverity(Severity severity);

}  // namespace fiscal::log
