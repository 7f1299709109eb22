#include "signer.h"

#include "signature.h"

namespace fiscal::france {

Signer MakeLocalKeySigner(EVP_PKEY* private_key) {
  return [private_key](std::string_view, std::string_view data, SignerOutput* out) {
    std::string key_id;
    Status status = PublicKeyId(private_key, &key_id);
    if (!status.ok()) return status;
    std::string signature;
    status = SignMessage(private_key, data, &signature);
    if (!status.ok()) return status;
    std::string raw;
    if (!Base64UrlDecode(signature, &raw)) {
      return Status::Internal("the local signature is not valid base64url");
    }
    out->raw_signature = std::move(raw);
    out->key_id = std::move(key_id);
    return Status::Ok();
  };
}

}  // namespace fiscal::france
