#include "common/log.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <unordered_map>

#include "common/json.h"

namespace fiscal::log {
namespace {

struct RepeatState {
  std::chrono::steady_clock::time_point window_start;
  long suppressed = 0;
};

std::mutex g_mutex;
Severity g_minimum = Severity::kInfo;
std::unordered_map<std::string, RepeatState> g_repeats;

const char* SeverityName(Severity severity) {
  switch (severity) {
    case Severity::kDebug: return "debug";
    case Severity::kInfo: return "info";
    case Severity::kWarning: return "warning";
    case Severity::kError: return "error";
  }
  return "info";
}

std::string NowUtc() {
  auto now = std::chrono::system_clock::now();
  std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[80];
  std::snprintf(buffer, sizeof(buffer), "%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(millis));
  return buffer;
}

}  // namespace

void SetMinimumSeverity(Severity severity) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_minimum = severity;
}

void Write(Severity severity, std::string_view message, std::initializer_list<Field> fields) {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (severity < g_minimum) return;

  std::string body = ",\"message\":" + json::Quote(message);
  for (const Field& field : fields) {
    body += ",";
    body += json::Quote(field.first);
    body += ":";
    body += json::Quote(field.second);
  }

  // Fold repeats of the same line (message and fields) within one second.
  auto now = std::chrono::steady_clock::now();
  RepeatState& repeat = g_repeats[body];
  if (repeat.window_start.time_since_epoch().count() != 0 &&
      now - repeat.window_start < std::chrono::seconds(1)) {
    ++repeat.suppressed;
    return;
  }
  long suppressed = repeat.suppressed;
  repeat.window_start = now;
  repeat.suppressed = 0;
  if (g_repeats.size() > 4096) g_repeats.clear();  // bound memory when lines carry unique ids

  std::string line = "{\"ts\":" + json::Quote(NowUtc()) + ",\"severity\":" + json::Quote(SeverityName(severity)) + body;
  if (suppressed > 0) line += ",\"repeats_suppressed\":" + std::to_string(suppressed);
  line += "}\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace fiscal::log
