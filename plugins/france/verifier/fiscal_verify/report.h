// Outcome of fiscal-verify: the checks that passed, in order, and the first failure, printed as
// text lines or as one JSON object.
#ifndef FISCAL_FRANCE_VERIFIER_REPORT_H_
#define FISCAL_FRANCE_VERIFIER_REPORT_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fiscal::france::verifier {

// The first failure: its place in the archive and its reason. Empty members are unknown or do
// not apply.
struct Failure {
  std::string chain;
  std::optional<uint64_t> sequence;
  std::string fiscal_id;
  size_t line = 0;   // 1-based line of the chain file, 0 when not about a line
  std::string file;  // zip entry, when the failure is about one file
  std::string reason;
  std::string expected;
  std::string found;
};

enum class Outcome {
  kValid,
  kInvalid,
  kReadError,  // the archive file could not be read, or the command line is wrong
};

struct Report {
  Outcome outcome = Outcome::kValid;
  std::vector<std::string> checks;  // passed checks, e.g. "chain tickets: 120 records 1..120"
  std::vector<std::string> notes;   // what the checks could not establish, e.g. an unpinned key
  Failure failure;                  // set when outcome is kInvalid
  std::string error;                // set when outcome is kReadError
};

// Returns "chain tickets, sequence 42 (fiscal id T-42)", "file README.txt", "manifest", ...
std::string FailureLocation(const Failure& failure);

// One "ok <check>" line per passed check and one "note: <note>" line per note, then "VALID", or
// "INVALID: <location>: <reason>" with ": expected X, found Y" when known, or "ERROR: <error>".
std::string FormatText(const Report& report);

// {"valid": bool, "checks": [...], "notes": [...], "failure": {...} or null,
//  "error": string or null}.
std::string FormatJson(const Report& report);

// 0 when valid, 1 when invalid, 2 on a read or usage error.
int ExitCode(const Report& report);

}  // namespace fiscal::france::verifier

#endif  // FISCAL_FRANCE_VERIFIER_REPORT_H_
