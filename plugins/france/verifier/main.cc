// fiscal-verify: checks a register archive offline and prints one line per passed check, then
// VALID (exit 0) or the first failure (exit 1). Exit 2 on a usage or read error.
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>

#include "fiscal_verify/archive_verifier.h"
#include "fiscal_verify/report.h"

namespace {

using fiscal::france::verifier::ExpectedKey;

constexpr char kUsage[] =
    "usage: fiscal-verify [--json] [--key-id HEX] [--public-key FILE] ARCHIVE.zip\n"
    "\n"
    "Checks an NF525 register archive offline: the manifest signature, every record's\n"
    "document digest, signature chain, sequence, first flag and register, the file hashes\n"
    "and the closure totals. Prints one line per passed check, then VALID or the first\n"
    "failure.\n"
    "\n"
    "Without --key-id or --public-key these checks prove only that the archive agrees with\n"
    "the public_key.pem inside it: an archive re-signed throughout with another key passes\n"
    "too. Pin the register's key to reject such archives.\n"
    "\n"
    "  --key-id HEX       expected key id: the SHA-256 of the register's DER public key,\n"
    "                     64 hex digits, as the register publishes it\n"
    "  --public-key FILE  expected public key: the register's ECDSA P-256 key in PEM,\n"
    "                     compared with public_key.pem in the archive\n"
    "  --json             print one JSON object instead of text lines\n"
    "\n"
    "With either key option, an archive signed by another key is INVALID before any other\n"
    "check.\n"
    "\n"
    "Exit status: 0 valid, 1 invalid, 2 usage or read error.\n";

// Maximum size of the --public-key file, in bytes. A PEM P-256 public key is under 200 bytes.
constexpr std::streamsize kMaxPublicKeyFileBytes = 64 * 1024;

int UsageError(const std::string& message) {
  std::fprintf(stderr, "fiscal-verify: %s\n\n%s", message.c_str(), kUsage);
  return 2;
}

// Stores the lower-cased key id in `expected`. Returns an error message, or "" on success.
std::string ParseKeyId(std::string_view text, ExpectedKey* expected) {
  std::string key_id(text);
  for (char& c : key_id) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  if (!fiscal::france::verifier::IsKeyId(key_id)) {
    return "--key-id \"" + std::string(text) +
           "\" is not a key id; give the 64 hex digits of the SHA-256 of the DER public key";
  }
  expected->key_id = key_id;
  return "";
}

// Reads the PEM public key at `path` into `expected`. Returns an error message, or "".
std::string ReadPublicKeyFile(const std::string& path, ExpectedKey* expected) {
  std::ifstream input(path, std::ios::binary);
  if (!input) return "cannot open --public-key file " + path;
  std::string pem(static_cast<size_t>(kMaxPublicKeyFileBytes) + 1, '\0');
  input.read(pem.data(), static_cast<std::streamsize>(pem.size()));
  if (input.bad()) return "cannot read --public-key file " + path;
  pem.resize(static_cast<size_t>(input.gcount()));
  if (pem.size() > static_cast<size_t>(kMaxPublicKeyFileBytes) ||
      !fiscal::france::verifier::P256PublicKeyDer(pem, &expected->public_key_der)) {
    return "--public-key file " + path + " is not a PEM ECDSA P-256 public key";
  }
  return "";
}

// Returns the value of an option given as "--name VALUE" or "--name=VALUE" at argv[*i], and
// advances *i past a separate value. std::nullopt when argv[*i] is not this option.
std::optional<std::string> OptionValue(std::string_view name, int argc, char** argv, int* i,
                                       std::string* error) {
  std::string_view argument = argv[*i];
  if (argument.size() > name.size() && argument.substr(0, name.size()) == name &&
      argument[name.size()] == '=') {
    return std::string(argument.substr(name.size() + 1));
  }
  if (argument != name) return std::nullopt;
  if (*i + 1 >= argc) {
    *error = std::string(name) + " needs a value";
    return std::string();
  }
  ++*i;
  return std::string(argv[*i]);
}

}  // namespace

int main(int argc, char** argv) {
  bool json = false;
  std::string path;
  ExpectedKey expected;
  std::string public_key_path;
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
    std::string error;
    if (std::optional<std::string> value = OptionValue("--key-id", argc, argv, &i, &error)) {
      if (error.empty()) error = ParseKeyId(*value, &expected);
      if (!error.empty()) return UsageError(error);
      continue;
    }
    if (std::optional<std::string> value = OptionValue("--public-key", argc, argv, &i, &error)) {
      if (error.empty()) error = ReadPublicKeyFile(*value, &expected);
      if (!error.empty()) return UsageError(error);
      public_key_path = *value;
      continue;
    }
    if (argument.size() > 1 && argument.front() == '-') {
      return UsageError("unknown option " + std::string(argument));
    }
    if (!path.empty()) {
      return UsageError("expected one archive, got " + path + " and " + std::string(argument));
    }
    path = argument;
  }
  if (path.empty()) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  if (!expected.key_id.empty() && !expected.public_key_der.empty()) {
    std::string file_key_id = fiscal::france::verifier::KeyIdOfDer(expected.public_key_der);
    if (file_key_id != expected.key_id) {
      return UsageError("--key-id " + expected.key_id + " and --public-key " + public_key_path +
                        " (key id " + file_key_id + ") name different keys");
    }
  }

  using fiscal::france::verifier::Outcome;
  fiscal::france::verifier::Report report =
      fiscal::france::verifier::VerifyArchiveFile(path, expected);
  std::string output = json ? fiscal::france::verifier::FormatJson(report)
                            : fiscal::france::verifier::FormatText(report);
  if (report.outcome == Outcome::kReadError && !json) {
    std::fprintf(stderr, "fiscal-verify: %s\n", report.error.c_str());
  } else {
    std::fwrite(output.data(), 1, output.size(), stdout);
  }
  return fiscal::france::verifier::ExitCode(report);
}
