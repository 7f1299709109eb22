// fiscal-plugin-conformance: checks a country plugin library against the contract of
// fiscal/plugin_abi.h. See --help, and docs/plugin-guide.md in the fiscal server's repository.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <string_view>

#include "harness.h"

namespace {

constexpr char kUsage[] = R"(Usage: fiscal-plugin-conformance [options] PLUGIN.so [GoogleTest options]

Checks a fiscal country plugin against the ABI contract of fiscal/plugin_abi.h: the compatibility
block, the handshake, the function table, create/self_test/destroy, the valid samples, malformed
and hostile input to every function, determinism of issue_record, concurrent calls and error
reporting. Each check runs in a child process, so a crash or a blocking call fails that check only.

Options:
  --samples FILE               JSON file of valid inputs in the plugin's format (see below).
                               Without it the built-in samples for the template plugin are used.
  --no-fork                    run every check in this process: needed under valgrind and
                               debuggers, but a crash or a blocking call then ends the whole run
  --timeout-ms N               time limit for one check's child process, in ms (default 10000)
  --issue-record-budget-ms N   limit for the median issue_record time on the sample, in ms
                               (default 250; 0 turns the check off, e.g. under valgrind)
  --threads N                  threads of the concurrency check (default 8)
  --calls-per-thread N         calls per thread of the concurrency check (default 25)
  --print-samples              print the built-in samples (the format --samples expects) and exit
  --help                       print this text and exit

GoogleTest options such as --gtest_filter=Handshake.* and --gtest_list_tests also work.

Samples file: a JSON object with
  "location_config"          (required) a valid country_config for validate_location
  "issue_record"             (required) a valid issue_record input
  "plugin_config"            the configuration passed to create (default {})
  "invalid_location_config"  a country_config that validate_location must reject with
                             FISCAL_ERR_INVALID_INPUT naming a field (default {})
  "invalid_issue_record"     the same for issue_record (default {})
  "render_receipt"           a valid render_receipt input, or null to skip that check
  "description"              free text, ignored

Exit status: 0 when every check passed, 1 when a check failed, 2 for a usage error.
)";

bool ParseInt(std::string_view text, int minimum, int* out) {
  try {
    size_t used = 0;
    int value = std::stoi(std::string(text), &used);
    if (used != text.size() || value < minimum) return false;
    *out = value;
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

int UsageError(const std::string& message) {
  std::cerr << "fiscal-plugin-conformance: " << message << "\n(run with --help for usage)\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  // GoogleTest removes its own flags from argv.
  ::testing::InitGoogleTest(&argc, argv);
  fiscal::conformance::Options& options = fiscal::conformance::GlobalOptions();

  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&](std::string_view name) -> const char* {
      if (arg.size() > name.size() && arg.substr(0, name.size()) == name && arg[name.size()] == '=') {
        return argv[i] + name.size() + 1;
      }
      if (arg == name && i + 1 < argc) return argv[++i];
      return nullptr;
    };
    const char* text = nullptr;
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    } else if (arg == "--print-samples") {
      std::cout << fiscal::conformance::BuiltInSamplesText();
      return 0;
    } else if (arg == "--no-fork") {
      options.isolate = false;
    } else if ((text = value("--samples")) != nullptr) {
      options.samples_path = text;
    } else if ((text = value("--timeout-ms")) != nullptr) {
      if (!ParseInt(text, 1, &options.timeout_ms)) return UsageError("invalid --timeout-ms: " + std::string(text));
    } else if ((text = value("--issue-record-budget-ms")) != nullptr) {
      if (!ParseInt(text, 0, &options.issue_record_budget_ms)) {
        return UsageError("invalid --issue-record-budget-ms: " + std::string(text));
      }
    } else if ((text = value("--threads")) != nullptr) {
      if (!ParseInt(text, 1, &options.threads)) return UsageError("invalid --threads: " + std::string(text));
    } else if ((text = value("--calls-per-thread")) != nullptr) {
      if (!ParseInt(text, 1, &options.calls_per_thread)) {
        return UsageError("invalid --calls-per-thread: " + std::string(text));
      }
    } else if (arg.size() > 1 && arg[0] == '-') {
      return UsageError("unknown option " + std::string(arg));
    } else if (options.plugin_path.empty()) {
      options.plugin_path = std::string(arg);
    } else {
      return UsageError("more than one plugin path: " + options.plugin_path + " and " + std::string(arg));
    }
  }
  if (options.plugin_path.empty()) return UsageError("missing the plugin library path");

  std::error_code error;
  if (!std::filesystem::is_regular_file(options.plugin_path, error)) {
    return UsageError("plugin library " + options.plugin_path + " not found");
  }
  // dlopen searches the library path for a name without '/', so pass an absolute path.
  options.plugin_path = std::filesystem::absolute(options.plugin_path, error).string();

  std::string samples_error;
  if (!fiscal::conformance::LoadSamples(options.samples_path, &fiscal::conformance::GlobalSamples(), &samples_error)) {
    return UsageError(samples_error);
  }

  std::cout << "fiscal-plugin-conformance: ABI " << FISCAL_ABI_MAJOR << "." << FISCAL_ABI_MINOR << ", plugin "
            << options.plugin_path << ", samples " << fiscal::conformance::GlobalSamples().source << ", "
            << (options.isolate ? "one child process per check" : "all checks in this process (--no-fork)")
            << std::endl;
  return RUN_ALL_TESTS() == 0 ? 0 : 1;
}
