// manifest.json of a fiscal-archive-v1 zip (docs/france.md, "Archives"), read strictly: every
// member present with its type, no unknown member, chain files named chains/<name>.jsonl and listed
// under "files".
#ifndef FISCAL_FRANCE_VERIFIER_MANIFEST_H_
#define FISCAL_FRANCE_VERIFIER_MANIFEST_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fiscal_verify/payload_fields.h"

namespace fiscal::france::verifier {

// Cumulative ticket totals of a register: algebraic total, sum of absolute values, per rate.
struct Cumulative {
  int64_t total_cents = 0;
  int64_t absolute_cents = 0;
  RateTotals rates;
};

struct ManifestAnchor {
  uint64_t sequence = 0;
  std::string signature;
  std::optional<Cumulative> cumulative;  // nullopt when the manifest has null
};

struct ManifestChain {
  std::string name;
  std::string file;
  std::vector<std::string> format_ids;
  uint64_t count = 0;
  std::optional<uint64_t> first_sequence;
  std::optional<uint64_t> last_sequence;
  std::optional<ManifestAnchor> anchor;
};

struct Manifest {
  std::string archive_id;
  std::string created_at;
  std::string register_id;  // location.register_id
  std::string plugin_name;
  std::string plugin_version;
  std::string period_from;
  std::string period_to;
  std::string key_id;
  std::vector<ManifestChain> chains;
  std::map<std::string, std::string> files;  // path to lower-case hex SHA-256
};

// Returns the payload format of the records of a chain ("tickets" -> "fr-ticket-v1"), or an empty
// string for a chain name that docs/france.md does not define.
std::string_view ChainFormat(std::string_view chain_name);

// Parses manifest.json. Returns an empty string, or the reason it is malformed.
std::string ParseManifest(std::string_view text, Manifest* manifest);

}  // namespace fiscal::france::verifier

#endif  // FISCAL_FRANCE_VERIFIER_MANIFEST_H_
