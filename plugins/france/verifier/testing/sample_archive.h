// Test helpers: NF525 records signed with a local key the way the plugin signs them, and a small
// sample archive written with the host's archive writer. Used by the unit tests and by
// fiscal-archive-fixture, which feeds the openssl second-opinion test.
#ifndef FISCAL_FRANCE_VERIFIER_TESTING_SAMPLE_ARCHIVE_H_
#define FISCAL_FRANCE_VERIFIER_TESTING_SAMPLE_ARCHIVE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "archive/archive_writer.h"
#include "signature.h"

namespace fiscal::france::verifier::testing {

// Appends records to one chain: each payload is the given fields, a comma and the base64url
// SHA-256 of the document, signed over payload + "," + previous signature.
class ChainBuilder {
 public:
  // `anchor_signature` is the signature of the record before the archive, empty when the chain
  // starts in the archive.
  ChainBuilder(EVP_PKEY* key, std::string name, std::string anchor_signature = "");

  // `fields` is the payload without its digest, written by hand per docs/france.md. Aborts the
  // test process when signing fails, because every later record would be wrong too.
  void Add(uint64_t sequence, std::string_view format, std::string_view fields,
           std::string document, std::string fiscal_id, std::string operation = "",
           std::string record_type = "");

  archive::ArchiveChain& chain() { return chain_; }
  const std::string& last_signature() const { return previous_signature_; }

 private:
  EVP_PKEY* key_;
  archive::ArchiveChain chain_;
  std::string previous_signature_;
};

// Returns the PEM "PUBLIC KEY" block of `key`.
std::string PublicKeyPem(EVP_PKEY* key);

// Returns the lower-case hex SHA-256 of the DER public key, the archive's key_id.
std::string KeyId(EVP_PKEY* key);

// Returns a manifest signer that signs with `key` (DER ECDSA over SHA-256), as the host's key store
// does. `key` must outlive the signer.
archive::ManifestSigner SignerFor(EVP_PKEY* key);

// The archive input every verifier test starts from, for register CAISSE-01 in December 2026.
// Its chains:
//   - tickets 1..4: two sales, a refund with negative amounts, a sale on the next day.
//   - closures 1..3: day 2026-12-04 over tickets 1..3, day 2026-12-05 over ticket 4, month
//     2026-12 over tickets 1..4.
//   - journal 42..44 after an anchor: start, login (operator with a non-ASCII name), closure.
struct SampleArchive {
  EvpPkeyPtr key;
  archive::ArchiveInput input;
};

// Builds the sample with a new random P-256 key.
SampleArchive MakeSampleArchive();

}  // namespace fiscal::france::verifier::testing

#endif  // FISCAL_FRANCE_VERIFIER_TESTING_SAMPLE_ARCHIVE_H_
