// fiscal-verify's checks of a register archive (docs/france.md, "Archives" and "fiscal-verify"),
// in this order, stopping at the first failure:
//   1. public_key.pem is an ECDSA P-256 public key and, when the caller names the expected key,
//      that key;
//   2. manifest.sig is a valid ECDSA P-256/SHA-256 DER signature of manifest.json under
//      public_key.pem, and manifest.json is well formed;
//   3. key_id is the SHA-256 hex of the DER public key;
//   4. each line of each chain file, with these checks in order:
//      - the line is a record object;
//      - the payload's digest is the base64url SHA-256 of the document;
//      - the payload is well formed for the chain's format;
//      - the sequence follows the previous one (the anchor's, or starts at 1 with flag Y);
//      - the register is the location's;
//      - the signature verifies over payload + "," + previous signature;
//   5. every file's SHA-256 is the one in the manifest, and no file is missing or added;
//   6. each chain's count, first and last sequence and format ids match the manifest;
//   7. every closure's totals match the tickets it covers.
#ifndef FISCAL_FRANCE_VERIFIER_ARCHIVE_VERIFIER_H_
#define FISCAL_FRANCE_VERIFIER_ARCHIVE_VERIFIER_H_

#include <string>
#include <string_view>

#include "fiscal_verify/report.h"
#include "fiscal_verify/zip_reader.h"

namespace fiscal::france::verifier {

// The register key an archive must be signed with, as published by the register. Without it the
// checks prove only that the archive agrees with the public_key.pem it carries, which anyone who
// re-signs the whole archive with a key of their own can also achieve.
struct ExpectedKey {
  std::string key_id;          // lower-case hex SHA-256 of the DER public key, or empty
  std::string public_key_der;  // DER SubjectPublicKeyInfo, or empty

  bool empty() const { return key_id.empty() && public_key_der.empty(); }
};

// Verifies an archive held in memory. A corrupt zip is kInvalid, not a read error.
Report VerifyArchive(std::string_view zip, const ZipLimits& limits = ZipLimits());
Report VerifyArchive(std::string_view zip, const ExpectedKey& expected,
                     const ZipLimits& limits = ZipLimits());

// Reads the file at `path` and verifies it. kReadError when the file cannot be read or is larger
// than the limits allow.
Report VerifyArchiveFile(const std::string& path, const ZipLimits& limits = ZipLimits());
Report VerifyArchiveFile(const std::string& path, const ExpectedKey& expected,
                         const ZipLimits& limits = ZipLimits());

// Returns true when `text` is a key id: 64 lower-case hex digits.
bool IsKeyId(std::string_view text);

// Stores in `der` the DER SubjectPublicKeyInfo of the PEM public key `pem`. Returns false when
// `pem` is not an ECDSA P-256 public key, the only kind that signs archives.
bool P256PublicKeyDer(std::string_view pem, std::string* der);

// Returns the key id of a DER public key: the lower-case hex SHA-256 of `der`.
std::string KeyIdOfDer(std::string_view der);

}  // namespace fiscal::france::verifier

#endif  // FISCAL_FRANCE_VERIFIER_ARCHIVE_VERIFIER_H_
