// fiscal-verify's checks of a register archive (docs/france.md, "Archives" and "fiscal-verify"),
// in this order, stopping at the first failure:
//   1. manifest.sig is a valid ECDSA P-256/SHA-256 DER signature of manifest.json under
//      public_key.pem, and manifest.json is well formed;
//   2. key_id is the SHA-256 hex of the DER public key;
//   3. each line of each chain file, with these checks in order:
//      - the line is a record object;
//      - the payload's digest is the base64url SHA-256 of the document;
//      - the payload is well formed for the chain's format;
//      - the sequence follows the previous one (the anchor's, or starts at 1 with flag Y);
//      - the register is the location's;
//      - the signature verifies over payload + "," + previous signature;
//   4. every file's SHA-256 is the one in the manifest, and no file is missing or added;
//   5. each chain's count, first and last sequence and format ids match the manifest;
//   6. every closure's totals match the tickets it covers.
#ifndef FISCAL_FRANCE_VERIFIER_ARCHIVE_VERIFIER_H_
#define FISCAL_FRANCE_VERIFIER_ARCHIVE_VERIFIER_H_

#include <string>
#include <string_view>

#include "fiscal_verify/report.h"
#include "fiscal_verify/zip_reader.h"

namespace fiscal::france::verifier {

// Verifies an archive held in memory. A corrupt zip is kInvalid, not a read error.
Report VerifyArchive(std::string_view zip, const ZipLimits& limits = ZipLimits());

// Reads the file at `path` and verifies it. kReadError when the file cannot be read or is larger
// than the limits allow.
Report VerifyArchiveFile(const std::string& path, const ZipLimits& limits = ZipLimits());

}  // namespace fiscal::france::verifier

#endif  // FISCAL_FRANCE_VERIFIER_ARCHIVE_VERIFIER_H_
