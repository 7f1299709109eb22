// Builds the signed archive zip of one register (docs/france.md, "Archives"): manifest.json,
// manifest.sig, public_key.pem, README.txt and one chains/<name>.jsonl file per chain.
//
// WriteArchive is a pure function: it reads no database, opens no file and signs through the
// callback it is given, so the host and the tests build byte-identical archives from the same
// input. fiscal-verify (plugins/france/verifier) checks what it writes.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace fiscal::archive {

// One stored record as it enters chains/<name>.jsonl.
struct ArchiveRecord {
  int64_t sequence = 0;
  std::string operation;
  std::string record_type;
  std::string fiscal_id;
  std::string generated_at;  // written as given, e.g. "2026-12-04T10:15:00Z"
  std::string plugin_version;
  std::string format;     // payload format id, e.g. "fr-ticket-v1"
  std::string payload;    // signed string without the previous signature
  std::string signature;  // 86 base64url characters
  std::string document;   // stored canonical JSON text, written as a JSON string
};

// Last record of a chain before the archived period.
struct ArchiveAnchor {
  int64_t sequence = 0;
  std::string signature;
  // JSON object text of the cumulative totals ({"total", "absolute", "rates"}), or empty for
  // chains that keep no totals (written as null).
  std::string cumulative_json;
};

struct ArchiveChain {
  std::string name;                    // "tickets", "closures", ...: [a-z0-9_-], 1 to 64 characters
  std::string file;                    // must be "chains/<name>.jsonl"
  std::vector<ArchiveRecord> records;  // in sequence order
  std::optional<ArchiveAnchor> anchor;  // nullopt when the chain starts inside the period
};

struct ArchiveInput {
  std::string archive_id;
  std::chrono::sys_seconds created_at;  // written as "YYYY-MM-DDTHH:MM:SSZ" and used as entry mtime
  // JSON object text describing the location. It must contain "register_id" (a string), which
  // fiscal-verify compares with the register of every record.
  std::string location_json;
  std::string plugin_name;
  std::string plugin_version;
  std::string period_from;  // YYYY-MM-DD
  std::string period_to;    // YYYY-MM-DD, not before period_from
  std::string key_id;       // lower-case hex SHA-256 of the DER public key
  std::string public_key_pem;
  std::vector<ArchiveChain> chains;
};

// Signs the exact manifest.json bytes and returns the DER ECDSA signature. The host passes
// KeyStore::Sign(...).der.
using ManifestSigner = std::function<Result<std::string>(std::string_view manifest_bytes)>;

struct ArchiveBytes {
  std::string zip;
  std::string manifest_sha256_hex;  // enters the fr-archive-v1 payload of the archive record
  std::string manifest_json;
};

// Builds the archive. The same input and signature give the same bytes. Errors:
//   - InvalidArgument for malformed input: a bad date, a location without register_id, a key_id
//     that is not the SHA-256 of public_key_pem, a duplicate or misnamed chain.
//   - the signer's Status, unchanged, when the signer fails.
//   - Internal when the signature does not verify with public_key_pem or libarchive fails.
// NOTE: libarchive 3.6 writes the MS-DOS time of each entry in the process's local time zone (the
// "UT" extra field is UTC), so hosts in two time zones write different bytes.
Result<ArchiveBytes> WriteArchive(const ArchiveInput& input, const ManifestSigner& sign_manifest);

// One file of a zip.
struct ZipEntry {
  std::string path;
  std::string data;
};

// Writes `entries` in order as a deflate zip, every entry a regular file with mode 0644, owner 0
// and modification time `mtime`. WriteArchive uses it. Tests use it to repack altered archives.
Result<std::string> WriteZip(const std::vector<ZipEntry>& entries, std::chrono::sys_seconds mtime);

// Returns the lower-case hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

}  // namespace fiscal::archive
