// Closes the previous day, month and year of every register with closures, at local midnight.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "journal/register_service.h"
#include "store/accounts_store.h"
#include "store/chain_records_store.h"

namespace fiscal::journal {

class ClosureScheduler {
 public:
  ClosureScheduler(RegisterService& registers, store::AccountsStore& accounts, store::ChainRecordsStore& records,
                   std::chrono::seconds interval)
      : registers_(registers), accounts_(accounts), records_(records), interval_(interval) {}
  ~ClosureScheduler() { Stop(); }

  void Start();
  void Stop();

  // Runs one pass over each register and environment (only `environment` when not empty). It
  // closes the day, then the month, then the year that ended before `as_of` (RFC 3339, empty for
  // now) in the register's time zone, when tickets generated before that boundary are still open.
  // Returns the number of records written. Failures are logged and the other registers still close.
  int RunOnce(const std::string& as_of, const std::string& environment);

 private:
  void Loop();

  RegisterService& registers_;
  store::AccountsStore& accounts_;
  store::ChainRecordsStore& records_;
  std::chrono::seconds interval_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace fiscal::journal
