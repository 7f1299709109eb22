// Checks every closure of an archive against the tickets it covers (docs/france.md, "Grand totals
// and closures"). A closure's per-rate and period totals must be the sums of the tickets
// from_sequence..to_sequence, both included. Its perpetual total must be the running sum of the
// absolute ticket totals up to to_sequence, which starts from the tickets anchor's cumulative
// totals.
#ifndef FISCAL_FRANCE_VERIFIER_CLOSURE_TOTALS_H_
#define FISCAL_FRANCE_VERIFIER_CLOSURE_TOTALS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fiscal_verify/manifest.h"
#include "fiscal_verify/payload_fields.h"
#include "fiscal_verify/report.h"

namespace fiscal::france::verifier {

// One ticket of the tickets chain, in sequence order.
struct TicketAmounts {
  uint64_t sequence = 0;
  int64_t total_cents = 0;
  RateTotals rates;
  std::string signature;
};

// One closure record whose signature and document digest already verified.
struct ClosureRecord {
  uint64_t sequence = 0;
  std::string fiscal_id;
  size_t line = 0;
  PayloadFields fields;
  // {"tickets": {"from_sequence", "to_sequence", "last_signature"}, ...}, the shape the plugin
  // writes. last_signature, the signature of ticket to_sequence, is optional.
  std::string document;
};

struct TotalsInput {
  bool has_tickets_chain = false;
  uint64_t ticket_base_sequence = 0;   // tickets anchor sequence, 0 without an anchor
  std::string base_signature;          // tickets anchor signature, empty without an anchor
  Cumulative base;                     // tickets anchor cumulative totals, zero without an anchor
  std::vector<TicketAmounts> tickets;  // sequences ticket_base_sequence + 1, + 2, ...
  std::vector<ClosureRecord> closures;
};

struct TotalsResult {
  bool ok = true;
  Failure failure;
  size_t closures_checked = 0;         // period and perpetual totals compared
  size_t closures_perpetual_only = 0;  // start before the archive's tickets
  size_t closures_before_archive = 0;  // end before the archive's tickets: nothing to compare
};

TotalsResult CheckClosureTotals(const TotalsInput& input);

}  // namespace fiscal::france::verifier

#endif  // FISCAL_FRANCE_VERIFIER_CLOSURE_TOTALS_H_
