#include "journal/closure_scheduler.h"

#include "common/log.h"

namespace fiscal::journal {

void ClosureScheduler::Start() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void ClosureScheduler::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ClosureScheduler::Loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    RunOnce("", "");
    lock.lock();
    wake_.wait_for(lock, interval_, [this] { return stopping_; });
  }
}

int ClosureScheduler::RunOnce(const std::string& as_of, const std::string& environment) {
  auto registers = accounts_.ListRegisters(kClosures);
  if (!registers.ok()) {
    log::Error("closure schedule: cannot list registers", {{"error", registers.status().message()}});
    return 0;
  }

  int written = 0;
  for (const store::RegisterRow& entry : *registers) {
    if (!environment.empty() && entry.environment != environment) continue;
    std::string time_zone = ProfileString(entry.location, "time_zone");
    if (time_zone.empty()) time_zone = "UTC";
    Actor actor{"", entry.location.account_id, entry.environment};

    // Shorter periods first: a month closure then finds its days already closed.
    for (const char* period : {"day", "month", "year"}) {
      auto boundary = records_.PeriodBoundary(period, time_zone, as_of);
      if (!boundary.ok()) {
        log::Error("closure schedule: cannot compute the period", {{"location_id", entry.location.id},
                                                                    {"error", boundary.status().message()}});
        break;
      }
      auto records = registers_.Close(entry.location, actor, period, boundary->first, boundary->second, true);
      if (!records.ok()) {
        log::Error("closure schedule: closure failed", {{"location_id", entry.location.id},
                                                         {"environment", entry.environment},
                                                         {"period", period},
                                                         {"error", records.status().message()}});
        break;
      }
      if (records->empty()) continue;
      written += static_cast<int>(records->size());
      log::Info("closure schedule: period closed", {{"location_id", entry.location.id},
                                                     {"environment", entry.environment},
                                                     {"period", period},
                                                     {"last_day", boundary->second}});
    }
  }
  return written;
}

}  // namespace fiscal::journal
