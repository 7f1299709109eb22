// The signing step of issue_record, behind an interface: the module signs through the host's key
// store (fiscal_host_api.sign), tests and the self-test with a local key.
#ifndef FISCAL_FRANCE_SIGNER_H_
#define FISCAL_FRANCE_SIGNER_H_

#include <openssl/evp.h>

#include <functional>
#include <string>
#include <string_view>

#include "status.h"

namespace fiscal::france {

struct SignerOutput {
  std::string raw_signature;  // 64 bytes r||s of ECDSA P-256 over SHA-256 of the data
  std::string key_id;         // SHA-256 hex of the DER public key
};

// Signs `data` with the key named `key_ref` in the host's key store. On failure the record is not
// issued and issue_record returns the signer's status unchanged (fail closed).
using Signer =
    std::function<Status(std::string_view key_ref, std::string_view data, SignerOutput* out)>;

// Returns a signer using a local P-256 private key, whatever the key_ref. The key must outlive
// the signer.
Signer MakeLocalKeySigner(EVP_PKEY* private_key);

}  // namespace fiscal::france

#endif  // FISCAL_FRANCE_SIGNER_H_
