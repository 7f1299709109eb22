#include "nf525_self_test.h"

#include <rapidjson/document.h>

#include <string>
#include <vector>

#include "issuer.h"
#include "json_util.h"
#include "payload.h"
#include "signature.h"
#include "signer.h"
#include "verify.h"

namespace fiscal::france {
namespace {

using namespace std::chrono_literals;

// SHA-256 of "Hello World!" in base64url, the value fiskaltrust's France middleware tests
// (HashHelperTests.cs) expect.
constexpr std::string_view kHelloWorldDigest = "f4OxZX_x_FO5LcGBSKHWXfwtSx-j1ncoSt3SABJtkGk";

// Public key of the RFC 6979 A.2.5 P-256 test key.
constexpr std::string_view kRfc6979X = "60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6";
constexpr std::string_view kRfc6979Y = "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299";

// RFC 6979 A.2.5: the signature of "sample" with SHA-256, r||s in base64url.
constexpr std::string_view kSampleSignature =
    "79SLKqy2qP0RQN2c1F6B1p0sh3tWqvmRw00OqE6vNxb3yxyULWV8QdQ2x6G24p9l8-kA27mv9AZNxKsvhDrNqA";

// A deterministic three-ticket chain signed with the RFC 6979 key (format
// fr-ticket-cents-on): each payload and the signature over payload + "," + previous signature.
struct ChainVector {
  std::string_view payload;
  std::string_view signature;
  std::string_view extract;
};
constexpr ChainVector kChainVectors[] = {
    {"2000:1200|0550:211,1411,20260302093005,T00001,VENTE,N",
     "ylB4rLEAOOKRY_sKW5wodDgRwt5gYWZIV0fYXd6krLlnNMYpZ-sEb7j3Zf3cLjbawmhNFAVqvTBCvED1AtRlVQ", "BEYw"},
    {"1000:850,850,20260302094512,T00002,VENTE,O",
     "C9pqTNEb4tG_MUahv4zV2GHXoOWk9FhFt8NvuLYf0SnLsyBEabNCOamGRqvaFmmjmw635cT6m3J3rC1T5GUeqg", "pEMz"},
    {"2000:-1200,-1200,20260302101001,T00003,REMBOURSEMENT,O",
     "DTab0Di5Et3QbO1ba1YRdzvPNHsaEb-gN2pfGENB-gijsfOwRvXwfCevQSghUeBHoKLXS6jegvp9ZMSiDsjMpw", "aibY"},
};

Status Failed(const std::string& what) { return Status::Internal("self-test failed: " + what); }

Status CheckPayloadLayout() {
  TicketPayloadFields fields;
  fields.vat_totals = {{550, 211}, {2000, 1200}};
  fields.total_incl_tax_cents = 1411;
  fields.timestamp = std::chrono::sys_days(std::chrono::year(2026) / 3 / 2) + 9h + 30min + 5s;
  fields.sequence = 1;
  fields.type = "VENTE";
  fields.first = true;
  std::string payload;
  Status status = BuildTicketPayload(fields, kTicketFormatCentsCarriedOver, &payload);
  if (!status.ok()) return Failed("building the first vector payload: " + status.message());
  if (payload != kChainVectors[0].payload) return Failed("the first vector payload differs: " + payload);
  return Status::Ok();
}

Status CheckVectors(int* checks) {
  EvpPkeyPtr key;
  Status status = P256PublicKeyFromHex(kRfc6979X, kRfc6979Y, &key);
  if (!status.ok()) return Failed("loading the RFC 6979 public key: " + status.message());
  if (VerifyMessage(key.get(), "sample", kSampleSignature) != SignatureCheck::kValid) {
    return Failed("the RFC 6979 signature of \"sample\" does not verify");
  }
  ++*checks;

  std::string previous;
  for (const ChainVector& vector : kChainVectors) {
    std::string input = ChainedSigningInput(vector.payload, previous);
    if (VerifyMessage(key.get(), input, vector.signature) != SignatureCheck::kValid) {
      return Failed("the chain vector " + std::string(vector.payload) + " does not verify");
    }
    if (SignatureExtract(vector.signature) != vector.extract) {
      return Failed("the printed extract of the chain vector " + std::string(vector.payload));
    }
    ++*checks;
    previous = std::string(vector.signature);
  }
  return Status::Ok();
}

// Issues a sale and an event with a new key and verifies both, then checks that a changed
// document is caught.
Status CheckRoundTrip() {
  EvpPkeyPtr key;
  Status status = GenerateP256Key(&key);
  if (!status.ok()) return Failed(status.message());
  Signer signer = MakeLocalKeySigner(key.get());

  const std::string input =
      R"({"operation":"sale","now":"2026-03-02T09:30:05Z",)"
      R"("location":{"siret":"73282932000074","register_id":"SELFTEST"},)"
      R"("transaction":{"id":"self-test","currency":"EUR","payment_method":"cash",)"
      R"("items":[{"description":"Article","quantity":"1","unit_price":"12.00","tax_rate":"20.00","amount":"12.00"}],)"
      R"("breakdown":[{"tax_rate":"20.00","base":"10.00","tax":"2.00"}],)"
      R"("pretax_amount":"10.00","tax_amount":"2.00","total_amount":"12.00"},)"
      R"("chain":{"name":"tickets","key":"FR-73282932000074-SELFTEST","sequence":1,"previous":null}})";
  std::string result;
  status = IssueRecord(input, signer, &result);
  if (!status.ok()) return Failed("issuing a sale: " + status.message());

  rapidjson::Document issued;
  issued.Parse(result.data(), result.size());
  const rapidjson::Value* data = issued.IsObject() ? FindMember(issued, "record_data") : nullptr;
  StoredRecord record;
  bool complete = data != nullptr &&
                  GetRequiredString(*data, "format", "", &record.format).ok() &&
                  GetRequiredString(*data, "payload", "", &record.payload).ok() &&
                  GetRequiredString(*data, "signature", "", &record.signature).ok() &&
                  GetRequiredString(issued, "document", "", &record.document).ok();
  if (!complete) return Failed("the issued sale is not a complete result object");
  ChainVerification verification = VerifyRecordChain({record}, key.get());
  if (!verification.ok()) return Failed("the issued sale does not verify: " + verification.message);

  size_t amount = record.document.find("\"12.00\"");
  if (amount == std::string::npos) return Failed("the issued document lacks its total");
  record.document.replace(amount, 7, "\"12.01\"");
  verification = VerifyRecordChain({record}, key.get());
  if (verification.failure != ChainFailure::kDigestMismatch) {
    return Failed("a changed document was not detected");
  }
  return Status::Ok();
}

}  // namespace

Status RunSelfTest(int* checks) {
  int passed = 0;
  if (Sha256Base64Url("Hello World!") != kHelloWorldDigest) {
    return Failed("SHA-256 base64url of a published value");
  }
  ++passed;
  Status status = CheckPayloadLayout();
  if (!status.ok()) return status;
  ++passed;
  status = CheckVectors(&passed);
  if (!status.ok()) return status;
  status = CheckRoundTrip();
  if (!status.ok()) return status;
  ++passed;
  *checks = passed;
  return Status::Ok();
}

}  // namespace fiscal::france
