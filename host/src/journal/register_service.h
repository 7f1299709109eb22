// The records a register keeps besides its sales: reprints (duplicates), closures, journal events
// and archives (docs/france.md). Each operation builds its records through the location's plugin
// and writes them, with the journal event that goes with them, in one database transaction.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "plugins/plugin_registry.h"
#include "store/accounts_store.h"
#include "store/chain_records_store.h"
#include "store/transactions_store.h"

namespace fiscal::keys {
class KeyStore;
}  // namespace fiscal::keys

namespace fiscal::journal {

// Names of the chains of a register, in the order in which one operation locks them.
inline constexpr const char* kTickets = "tickets";
inline constexpr const char* kTraining = "training";
inline constexpr const char* kDuplicates = "duplicates";
inline constexpr const char* kClosures = "closures";
inline constexpr const char* kArchives = "archives";
inline constexpr const char* kJournal = "journal";

// The key of a chain of the location: the location's chain key for tickets, suffixed
// "#<name>" for the others.
std::string ChainKey(const store::LocationRow& location, const std::string& chain_name);

// Reads one string member of the location's profile ("" when absent).
std::string ProfileString(const store::LocationRow& location, const char* name);
// True when the location's profile lists `feature` in "features".
bool HasFeature(const store::LocationRow& location, const std::string& feature);

// The caller of an operation, for logs and for the ids of the plugin call.
struct Actor {
  std::string request_id;
  std::string account_id;
  std::string environment;
};

// A journal (JET) event. Codes are listed in docs/france.md.
struct Event {
  int code = 0;
  std::string name;
  std::string description;
  std::string operator_id;
};

// Returns the event of a name that clients may report through the API (login, logout,
// offline_start, offline_end, training_start, training_end), or nullopt.
std::optional<Event> ClientEvent(const std::string& name);

// An event the host itself writes, by name ("start", "closure"...). The name must be known.
Event HostEvent(const std::string& name, std::string description);

class RegisterService {
 public:
  RegisterService(plugins::PluginRegistry& plugins, store::ChainRecordsStore& records, store::AccountsStore& accounts,
                  const keys::KeyStore* keys)
      : plugins_(plugins), records_(records), accounts_(accounts), keys_(keys) {}

  // Journals one event in the location's journal chain.
  Result<store::WrittenRecord> RecordEvent(const store::LocationRow& location, const Actor& actor, const Event& event);

  // Closes a period ("day", "month", "year") of the location's tickets. `boundary` (RFC 3339) ends
  // the covered tickets, and an empty one means "up to now". `last_day` (YYYY-MM-DD) is the last
  // local date closed, and the period's label comes from it ("2026-12-04", "2026-12", "2026").
  // With `skip_when_covered`, returns an empty list when nothing new is there to close. A month
  // closure first closes the day, and a year closure first the month, when tickets are left open.
  Result<std::vector<store::WrittenRecord>> Close(const store::LocationRow& location, const Actor& actor,
                                                  const std::string& period, const std::string& boundary,
                                                  const std::string& last_day, bool skip_when_covered);

  // Writes a duplicate (reprint) of a transaction's ticket and its journal event.
  // `transaction_json` is the transaction as issue_record received it (see plugin_abi.h).
  Result<store::WrittenRecord> Duplicate(const store::LocationRow& location, const Actor& actor,
                                         const store::TransactionRow& transaction, const std::string& transaction_json,
                                         const std::string& operator_id, const std::string& reason);

  // Signs and stores the archive of the location's chains for local dates [from, to], journals it
  // and returns the archive id.
  Result<std::string> Archive(const store::LocationRow& location, const Actor& actor, const std::string& from,
                              const std::string& to);

  // Before a location signs again: journals the outage of its signing key, if one is open, so the
  // gap is on record before the next record.
  Status JournalOpenIncident(const store::LocationRow& location, const Actor& actor);

  // Counts a request refused because the signing key was unavailable.
  void NoteSigningRefusal(const store::LocationRow& location, const Actor& actor);

  // Journals a host event in every register with a journal, in every environment it is used in.
  // Failures are logged and do not stop the others. Returns the number of events written.
  int JournalEverywhere(const Event& event);

  // Journals "plugin_version_change" in every register whose newest record was written by another
  // version of its plugin than the one serving it now.
  int JournalVersionChanges();

 private:
  // Builds the record of one step through the plugin serving the location.
  store::RecordBuilder Builder(std::shared_ptr<const plugins::LoadedPlugin> plugin, const store::LocationRow& location,
                               const Actor& actor, const std::string& operation, const std::string& chain_name,
                               std::string operation_fields) const;

  store::ChainStep EventStep(std::shared_ptr<const plugins::LoadedPlugin> plugin, const store::LocationRow& location,
                             const Actor& actor, const Event& event) const;

  Result<std::shared_ptr<const plugins::LoadedPlugin>> PluginFor(const store::LocationRow& location) const;

  store::ChainWriteRequest BaseRequest(const plugins::LoadedPlugin& plugin, const store::LocationRow& location,
                                       const Actor& actor) const;

  Result<std::vector<store::WrittenRecord>> Write(const store::LocationRow& location, const Actor& actor,
                                                  const store::ChainWriteRequest& request);

  plugins::PluginRegistry& plugins_;
  store::ChainRecordsStore& records_;
  store::AccountsStore& accounts_;
  const keys::KeyStore* keys_;
};

}  // namespace fiscal::journal
