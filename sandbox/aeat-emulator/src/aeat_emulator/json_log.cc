#include "aeat_emulator/json_log.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace aeat_emulator {
namespace {

std::atomic<bool> log_enabled{true};
std::mutex log_mutex;

std::string UtcTimestamp() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[96];
  std::snprintf(buffer, sizeof(buffer), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(millis));
  return buffer;
}

}  // namespace

void SetLogEnabled(bool enabled) { log_enabled = enabled; }

void LogJson(const char* severity, const std::string& message,
             std::initializer_list<LogField> fields) {
  if (!log_enabled) return;

  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartObject();
  writer.Key("time");
  writer.String(UtcTimestamp().c_str());
  writer.Key("severity");
  writer.String(severity);
  writer.Key("message");
  writer.String(message.c_str(), static_cast<rapidjson::SizeType>(message.size()));
  for (const auto& [key, value] : fields) {
    writer.Key(key);
    if (const auto* text = std::get_if<std::string>(&value)) {
      writer.String(text->c_str(), static_cast<rapidjson::SizeType>(text->size()));
    } else if (const auto* number = std::get_if<int64_t>(&value)) {
      writer.Int64(*number);
    } else {
      writer.Bool(std::get<bool>(value));
    }
  }
  writer.EndObject();

  std::lock_guard<std::mutex> lock(log_mutex);
  std::fprintf(stderr, "%s\n", buffer.GetString());
  std::fflush(stderr);
}

}  // namespace aeat_emulator
