// One JSON object per line on stderr: {"time":..., "severity":..., "message":..., fields...}.

#ifndef AEAT_EMULATOR_JSON_LOG_H_
#define AEAT_EMULATOR_JSON_LOG_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <variant>

namespace aeat_emulator {

using LogValue = std::variant<std::string, int64_t, bool>;
using LogField = std::pair<const char*, LogValue>;

// Writes one log line. Thread-safe. Callers must never pass key material or passwords.
void LogJson(const char* severity, const std::string& message,
             std::initializer_list<LogField> fields = {});

// Turns logging off, for tests that would otherwise flood their output.
void SetLogEnabled(bool enabled);

}  // namespace aeat_emulator

#endif  // AEAT_EMULATOR_JSON_LOG_H_
