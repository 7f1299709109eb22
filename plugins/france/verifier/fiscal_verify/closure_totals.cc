#include "fiscal_verify/closure_totals.h"

#include <map>

#include "fiscal_verify/json_util.h"

namespace fiscal::france::verifier {
namespace {

struct LevelEnd {
  uint64_t to_sequence = 0;
  uint64_t closure_sequence = 0;
};

// Adds one ticket to running totals. Returns false on 64-bit overflow.
bool AddTicket(const TicketAmounts& ticket, Cumulative* totals) {
  int64_t magnitude = ticket.total_cents < 0 ? -ticket.total_cents : ticket.total_cents;
  if (__builtin_add_overflow(totals->total_cents, ticket.total_cents, &totals->total_cents) ||
      __builtin_add_overflow(totals->absolute_cents, magnitude, &totals->absolute_cents)) {
    return false;
  }
  for (const auto& [rate, cents] : ticket.rates) {
    if (__builtin_add_overflow(totals->rates[rate], cents, &totals->rates[rate])) return false;
  }
  return true;
}

// Per-rate `end - start`, without the rates whose difference is zero.
RateTotals RateDifference(const RateTotals& end, const RateTotals& start) {
  RateTotals difference;
  for (const auto& [rate, cents] : end) difference[rate] += cents;
  for (const auto& [rate, cents] : start) difference[rate] -= cents;
  std::erase_if(difference, [](const auto& entry) { return entry.second == 0; });
  return difference;
}

RateTotals WithoutZeros(RateTotals totals) {
  std::erase_if(totals, [](const auto& entry) { return entry.second == 0; });
  return totals;
}

// The tickets a closure covers, read from its document.
struct Coverage {
  uint64_t from = 0;
  uint64_t to = 0;
  bool has_last_signature = false;
  std::string last_signature;
};

std::string ReadCoverage(const std::string& document, Coverage* coverage) {
  rapidjson::Document parsed;
  std::string error = ParseStrictJson(document, &parsed);
  if (!error.empty()) return "the closure document is not valid JSON: " + error;
  if (!parsed.IsObject()) return "the closure document is not a JSON object";
  auto tickets = parsed.FindMember("tickets");
  if (tickets == parsed.MemberEnd() || !tickets->value.IsObject()) {
    return "the closure document has no \"tickets\" object with from_sequence and to_sequence";
  }

  const rapidjson::Value& range = tickets->value;
  auto from = range.FindMember("from_sequence");
  auto to = range.FindMember("to_sequence");
  if (from == range.MemberEnd() || to == range.MemberEnd() ||
      !ReadUnsigned(from->value, &coverage->from) || !ReadUnsigned(to->value, &coverage->to)) {
    return "the closure document's \"tickets\" has no integer from_sequence and to_sequence";
  }
  auto last_signature = range.FindMember("last_signature");
  if (last_signature == range.MemberEnd()) return "";
  if (!last_signature->value.IsString()) {
    return "the closure document's tickets.last_signature is not a string";
  }
  coverage->has_last_signature = true;
  coverage->last_signature = StringValue(last_signature->value);
  return "";
}

std::string CoveredTickets(uint64_t from, uint64_t to) {
  if (from == to) return "no ticket (empty period)";
  return "tickets " + std::to_string(from + 1) + ".." + std::to_string(to);
}

}  // namespace

TotalsResult CheckClosureTotals(const TotalsInput& input) {
  TotalsResult result;
  if (input.closures.empty()) return result;

  auto fail = [&result](const ClosureRecord& closure, std::string reason, std::string expected = "",
                        std::string found = "") {
    result.ok = false;
    result.failure.chain = "closures";
    result.failure.sequence = closure.sequence;
    result.failure.fiscal_id = closure.fiscal_id;
    result.failure.line = closure.line;
    result.failure.reason = std::move(reason);
    result.failure.expected = std::move(expected);
    result.failure.found = std::move(found);
    return result;
  };

  if (!input.has_tickets_chain) {
    return fail(input.closures.front(),
                "the archive has closures but no tickets chain to check their totals against");
  }

  // cumulative[i] is the running totals after ticket ticket_base_sequence + i.
  std::vector<Cumulative> cumulative;
  cumulative.reserve(input.tickets.size() + 1);
  cumulative.push_back(input.base);
  for (const TicketAmounts& ticket : input.tickets) {
    Cumulative next = cumulative.back();
    if (!AddTicket(ticket, &next)) {
      result.ok = false;
      result.failure.chain = "tickets";
      result.failure.sequence = ticket.sequence;
      result.failure.reason = "cumulative totals overflow 64-bit cents";
      return result;
    }
    cumulative.push_back(std::move(next));
  }
  const uint64_t base = input.ticket_base_sequence;
  const uint64_t last_ticket = base + input.tickets.size();

  std::map<std::string, LevelEnd> previous_by_level;
  for (const ClosureRecord& closure : input.closures) {
    Coverage coverage;
    std::string error = ReadCoverage(closure.document, &coverage);
    if (!error.empty()) return fail(closure, error);
    // The closure covers tickets from_sequence..to_sequence, both included, so an empty period
    // has from_sequence = to_sequence + 1. `from` is the boundary before the first one.
    if (coverage.from == 0 || coverage.from > coverage.to + 1) {
      return fail(closure, "from_sequence is not between 1 and to_sequence + 1",
                  "1.." + std::to_string(coverage.to + 1), std::to_string(coverage.from));
    }
    const uint64_t from = coverage.from - 1;
    const uint64_t to = coverage.to;

    const std::string& level = closure.fields.period_level;
    auto previous = previous_by_level.find(level);
    if (previous != previous_by_level.end() && from != previous->second.to_sequence) {
      return fail(closure,
                  "from_sequence does not continue the previous " + level + " closure (sequence " +
                      std::to_string(previous->second.closure_sequence) + ")",
                  std::to_string(previous->second.to_sequence + 1), std::to_string(coverage.from));
    }
    previous_by_level[level] = {to, closure.sequence};

    if (to > last_ticket) {
      return fail(closure, "the closure covers tickets missing from the archive",
                  "to_sequence at most " + std::to_string(last_ticket), std::to_string(to));
    }
    if (to < base) {
      ++result.closures_before_archive;
      continue;
    }
    const Cumulative& end = cumulative[to - base];

    // The closure names the last ticket it covers by its signature: empty before the first
    // ticket, else the anchor's or an archived ticket's.
    if (coverage.has_last_signature) {
      const std::string& expected = to == 0      ? std::string()
                                    : to == base ? input.base_signature
                                                 : input.tickets[to - base - 1].signature;
      if (coverage.last_signature != expected) {
        return fail(closure,
                    "tickets.last_signature is not the signature of ticket " + std::to_string(to),
                    expected.empty() ? "(empty)" : expected, coverage.last_signature);
      }
    }

    if (from >= base) {
      const Cumulative& start = cumulative[from - base];
      int64_t period_total = end.total_cents - start.total_cents;
      if (closure.fields.total_cents != period_total) {
        return fail(closure, "period total differs from the sum of " + CoveredTickets(from, to),
                    FormatCents(period_total), FormatCents(closure.fields.total_cents));
      }
      RateTotals expected_rates = RateDifference(end.rates, start.rates);
      RateTotals found_rates = WithoutZeros(closure.fields.rate_totals);
      if (expected_rates != found_rates) {
        return fail(closure, "per-rate totals differ from the sums of " + CoveredTickets(from, to),
                    FormatRateTotals(expected_rates), FormatRateTotals(found_rates));
      }
    }

    if (closure.fields.perpetual_absolute_cents != end.absolute_cents) {
      return fail(closure,
                  "perpetual total differs from the running absolute total up to ticket " +
                      std::to_string(to),
                  FormatCents(end.absolute_cents),
                  FormatCents(closure.fields.perpetual_absolute_cents));
    }
    if (from >= base) {
      ++result.closures_checked;
    } else {
      ++result.closures_perpetual_only;
    }
  }
  return result;
}

}  // namespace fiscal::france::verifier
