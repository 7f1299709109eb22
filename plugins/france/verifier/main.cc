// fiscal-verify: checks a register archive offline and prints one line per passed check, then
// VALID (exit 0) or the first failure (exit 1). Exit 2 on a usage or read error.
#include <cstdio>
#include <string>
#include <string_view>

#include "fiscal_verify/archive_verifier.h"
#include "fiscal_verify/report.h"

namespace {

constexpr char kUsage[] =
    "usage: fiscal-verify [--json] ARCHIVE.zip\n"
    "\n"
    "Checks an NF525 register archive offline: the manifest signature, every record's\n"
    "document digest, signature chain, sequence, first flag and register, the file hashes\n"
    "and the closure totals. Prints one line per passed check, then VALID or the first\n"
    "failure.\n"
    "\n"
    "  --json   print one JSON object instead of text lines\n"
    "\n"
    "Exit status: 0 valid, 1 invalid, 2 usage or read error.\n";

}  // namespace

int main(int argc, char** argv) {
  bool json = false;
  std::string path;
  for (int i = 1; i < argc; ++i) {
    std::string_view argument = argv[i];
    if (argument == "--help" || argument == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (argument == "--json") {
      json = true;
      continue;
    }
    if (argument.size() > 1 && argument.front() == '-') {
      std::fprintf(stderr, "fiscal-verify: unknown option %s\n\n%s", argv[i], kUsage);
      return 2;
    }
    if (!path.empty()) {
      std::fprintf(stderr, "fiscal-verify: expected one archive, got %s and %s\n\n%s", path.c_str(),
                   argv[i], kUsage);
      return 2;
    }
    path = argument;
  }
  if (path.empty()) {
    std::fputs(kUsage, stderr);
    return 2;
  }

  using fiscal::france::verifier::Outcome;
  fiscal::france::verifier::Report report = fiscal::france::verifier::VerifyArchiveFile(path);
  std::string output = json ? fiscal::france::verifier::FormatJson(report)
                            : fiscal::france::verifier::FormatText(report);
  if (report.outcome == Outcome::kReadError && !json) {
    std::fprintf(stderr, "fiscal-verify: %s\n", report.error.c_str());
  } else {
    std::fwrite(output.data(), 1, output.size(), stdout);
  }
  return fiscal::france::verifier::ExitCode(report);
}
