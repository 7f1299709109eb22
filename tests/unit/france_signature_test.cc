// NF525 signatures: the published RFC 6979 P-256 chain vectors, base64url, the printed extract,
// and fail-closed signing.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "payload.h"
#include "signature.h"
#include "verify.h"

namespace fiscal::france {
namespace {

using namespace std::chrono_literals;

const std::string kVectorPath =
    std::string(FISCAL_SOURCE_DIR) + "/tests/data/france/fr_test_vectors.json";
const std::string kSharedVectorPath =
    std::string(FISCAL_SOURCE_DIR) + "/../shared/reference/fr/nf525/fr_test_vectors.json";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Values of every `"key": "value"` pair in the text, in order. The vector file has no escaped
// quotes in the values these tests read, so a plain scan is enough.
std::vector<std::string> JsonStrings(const std::string& json, const std::string& key) {
  std::vector<std::string> values;
  std::string marker = "\"" + key + "\": \"";
  size_t position = 0;
  while ((position = json.find(marker, position)) != std::string::npos) {
    position += marker.size();
    size_t end = json.find('"', position);
    values.push_back(json.substr(position, end - position));
    position = end;
  }
  return values;
}

std::string DecodeHex(const std::string& hex) {
  std::string bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return bytes;
}

std::string Sha256(std::string_view input) {
  unsigned char digest[32];
  size_t length = 0;
  EXPECT_EQ(EVP_Q_digest(nullptr, "SHA256", nullptr, input.data(), input.size(), digest, &length),
            1);
  return std::string(reinterpret_cast<char*>(digest), length);
}

std::string ToHex(std::string_view bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : bytes) {
    hex += kDigits[c >> 4];
    hex += kDigits[c & 15];
  }
  return hex;
}

class FranceVectors : public ::testing::Test {
 protected:
  void SetUp() override {
    json_ = ReadFile(kVectorPath);
    ASSERT_FALSE(json_.empty()) << "missing test data " << kVectorPath;
    std::vector<std::string> x = JsonStrings(json_, "public_key_x_hex");
    std::vector<std::string> y = JsonStrings(json_, "public_key_y_hex");
    ASSERT_EQ(x.size(), 1u);
    ASSERT_EQ(y.size(), 1u);
    Status status = P256PublicKeyFromHex(x[0], y[0], &public_key_);
    ASSERT_TRUE(status.ok()) << status.message();

    signed_strings_ = JsonStrings(json_, "signed_string");
    signatures_ = JsonStrings(json_, "signature_b64url_raw_r_s");
    extracts_ = JsonStrings(json_, "printed_extract_3_7_13_19");
    der_hex_ = JsonStrings(json_, "signature_der_hex");
    ASSERT_EQ(signed_strings_.size(), 3u);
    ASSERT_EQ(signatures_.size(), 3u);
    ASSERT_EQ(extracts_.size(), 3u);
    ASSERT_EQ(der_hex_.size(), 3u);
  }

  // The record's payload: the signed string without "," and the previous signature.
  std::string PayloadOf(size_t i) const {
    std::string suffix = "," + (i == 0 ? std::string() : signatures_[i - 1]);
    const std::string& input = signed_strings_[i];
    EXPECT_EQ(input.substr(input.size() - suffix.size()), suffix) << "vector " << i;
    return input.substr(0, input.size() - suffix.size());
  }

  std::string json_;
  EvpPkeyPtr public_key_;
  std::vector<std::string> signed_strings_;
  std::vector<std::string> signatures_;
  std::vector<std::string> extracts_;
  std::vector<std::string> der_hex_;
};

TEST_F(FranceVectors, CopyMatchesSharedReference) {
  std::string shared = ReadFile(kSharedVectorPath);
  if (shared.empty()) {
    GTEST_SKIP() << "reference vectors not found at " << kSharedVectorPath
                 << "; the copy in tests/data/france is used alone";
  }
  EXPECT_EQ(shared, json_);
}

TEST_F(FranceVectors, PublishedSignaturesVerify) {
  for (size_t i = 0; i < signed_strings_.size(); ++i) {
    EXPECT_EQ(signatures_[i].size(), kSignatureLength) << "vector " << i;
    EXPECT_EQ(VerifyMessage(public_key_.get(), signed_strings_[i], signatures_[i]),
              SignatureCheck::kValid)
        << "vector " << i;
  }
}

TEST_F(FranceVectors, PublishedSignaturesFailOnOtherInput) {
  for (size_t i = 0; i < signed_strings_.size(); ++i) {
    std::string other = signed_strings_[i] + "x";
    EXPECT_EQ(VerifyMessage(public_key_.get(), other, signatures_[i]), SignatureCheck::kMismatch);
  }
}

TEST_F(FranceVectors, PrintedExtract) {
  for (size_t i = 0; i < signatures_.size(); ++i) {
    EXPECT_EQ(SignatureExtract(signatures_[i]), extracts_[i]) << "vector " << i;
  }
}

TEST_F(FranceVectors, DerMatchesRawSignature) {
  for (size_t i = 0; i < der_hex_.size(); ++i) {
    std::string raw;
    ASSERT_TRUE(DerToRawSignature(DecodeHex(der_hex_[i]), &raw)) << "vector " << i;
    EXPECT_EQ(Base64UrlEncode(raw), signatures_[i]) << "vector " << i;
  }
}

TEST_F(FranceVectors, SignedStringHashes) {
  std::vector<std::string> hashes = JsonStrings(json_, "sha256_hex");
  // Three published strings first, then the three chain records.
  ASSERT_EQ(hashes.size(), 6u);
  for (size_t i = 0; i < signed_strings_.size(); ++i) {
    EXPECT_EQ(ToHex(Sha256(signed_strings_[i])), hashes[3 + i]) << "vector " << i;
  }
}

TEST_F(FranceVectors, PublishedStringHashes) {
  std::vector<std::string> inputs = JsonStrings(json_, "input");
  std::vector<std::string> hex = JsonStrings(json_, "sha256_hex");
  std::vector<std::string> b64url = JsonStrings(json_, "sha256_b64url");
  ASSERT_EQ(inputs.size(), 3u);
  ASSERT_EQ(b64url.size(), 3u);
  for (size_t i = 0; i < inputs.size(); ++i) {
    std::string digest = Sha256(inputs[i]);
    EXPECT_EQ(ToHex(digest), hex[i]) << inputs[i];
    EXPECT_EQ(Base64UrlEncode(digest), b64url[i]) << inputs[i];
  }
}

// The cents format rebuilds each vector payload byte for byte from ticket values.
TEST_F(FranceVectors, PayloadsByteForByte) {
  using std::chrono::sys_days;
  std::vector<TicketPayloadFields> tickets(3);
  tickets[0].vat_totals = {{550, 211}, {2000, 1200}};
  tickets[0].total_incl_tax_cents = 1411;
  tickets[0].timestamp = sys_days(2026y / 3 / 2) + 9h + 30min + 5s;
  tickets[0].sequence = 1;
  tickets[0].type = "VENTE";
  tickets[0].first = true;
  tickets[1].vat_totals = {{1000, 850}};
  tickets[1].total_incl_tax_cents = 850;
  tickets[1].timestamp = sys_days(2026y / 3 / 2) + 9h + 45min + 12s;
  tickets[1].sequence = 2;
  tickets[1].type = "VENTE";
  tickets[2].vat_totals = {{2000, -1200}};
  tickets[2].total_incl_tax_cents = -1200;
  tickets[2].timestamp = sys_days(2026y / 3 / 2) + 10h + 10min + 1s;
  tickets[2].sequence = 3;
  tickets[2].type = "REMBOURSEMENT";

  std::string previous;
  for (size_t i = 0; i < tickets.size(); ++i) {
    std::string payload;
    ASSERT_TRUE(BuildTicketPayload(tickets[i], kTicketFormatCentsCarriedOver, &payload).ok());
    EXPECT_EQ(payload, PayloadOf(i)) << "vector " << i;
    EXPECT_EQ(ChainedSigningInput(payload, previous), signed_strings_[i]) << "vector " << i;
    previous = signatures_[i];
  }
}

// The Maxxton example writes amounts in cents, a 2-digit document number, and N on a record
// without a previous signature.
TEST_F(FranceVectors, MaxxtonPayloadByteForByte) {
  PayloadFormat maxxton{"maxxton", AmountStyle::kCents, true, false, "", 2,
                        FirstFlagStyle::kCarriedOver, false};
  TicketPayloadFields fields;
  fields.vat_totals = {{2000, 750}, {1000, 1999}, {550, 100}};
  fields.total_incl_tax_cents = 2849;
  fields.timestamp = std::chrono::sys_days(2020y / 4 / 19) + 15h + 25min + 34s;
  fields.sequence = 18;
  fields.type = "SALE";
  fields.first = true;
  std::string payload;
  ASSERT_TRUE(BuildTicketPayload(fields, maxxton, &payload).ok());
  EXPECT_EQ(payload, JsonStrings(json_, "input")[0]);
}

TEST_F(FranceVectors, ChainVerifies) {
  std::vector<ChainRecord> records;
  for (size_t i = 0; i < signatures_.size(); ++i) records.push_back({PayloadOf(i), signatures_[i]});
  ChainVerification result = VerifyChain(records, public_key_.get(), kTicketFormatCentsCarriedOver);
  EXPECT_TRUE(result.ok()) << result.message;
}

// RFC 6979 A.2.5: the deterministic signature of "sample" with SHA-256 under the same key.
TEST_F(FranceVectors, Rfc6979SampleVerifies) {
  std::string raw = DecodeHex(
      "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716"
      "F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8");
  EXPECT_EQ(VerifyMessage(public_key_.get(), "sample", Base64UrlEncode(raw)),
            SignatureCheck::kValid);
}

// The fiskaltrust-style ES256 signature is raw r||s base64url too, under the same key.
TEST_F(FranceVectors, Es256SignatureVerifies) {
  std::vector<std::string> input = JsonStrings(json_, "signing_input");
  std::vector<std::string> signature = JsonStrings(json_, "es256_signature_b64url_raw_r_s_rfc6979");
  ASSERT_EQ(input.size(), 1u);
  ASSERT_EQ(signature.size(), 1u);
  EXPECT_EQ(VerifyMessage(public_key_.get(), input[0], signature[0]), SignatureCheck::kValid);
}

TEST(FranceBase64Url, RoundTrip) {
  std::string bytes;
  for (int length = 0; length < 70; ++length) {
    std::string decoded;
    std::string text = Base64UrlEncode(bytes);
    ASSERT_TRUE(Base64UrlDecode(text, &decoded)) << text;
    EXPECT_EQ(decoded, bytes);
    bytes.push_back(static_cast<char>(length * 37 + 250));
  }
  EXPECT_EQ(Base64UrlEncode(std::string("\xfb\xff", 2)), "-_8");
}

TEST(FranceBase64Url, RejectsNonCanonical) {
  std::string decoded;
  EXPECT_FALSE(Base64UrlDecode("QQ==", &decoded));  // padding
  EXPECT_FALSE(Base64UrlDecode("+/8", &decoded));   // standard alphabet
  EXPECT_FALSE(Base64UrlDecode("QUJDR", &decoded)); // length 1 modulo 4
  EXPECT_FALSE(Base64UrlDecode("QR", &decoded));    // unused bits set
  EXPECT_FALSE(Base64UrlDecode(std::string("Q\0", 2), &decoded));
  EXPECT_TRUE(Base64UrlDecode("QQ", &decoded));
  EXPECT_EQ(decoded, "A");
}

TEST(FranceSignature, SignThenVerify) {
  EvpPkeyPtr key;
  ASSERT_TRUE(GenerateP256Key(&key).ok());
  std::string signature;
  ASSERT_TRUE(SignChainRecord(key.get(), "2000:1.00,1.00,20260101000000,R1,000001,SALE,Y", "",
                              &signature)
                  .ok());
  EXPECT_EQ(signature.size(), kSignatureLength);
  EXPECT_EQ(VerifyMessage(key.get(), "2000:1.00,1.00,20260101000000,R1,000001,SALE,Y,", signature),
            SignatureCheck::kValid);
  EXPECT_EQ(VerifyMessage(key.get(), "2000:1.00,1.00,20260101000000,R1,000001,SALE,Y", signature),
            SignatureCheck::kMismatch);
  EXPECT_EQ(SignatureExtract(signature),
            std::string({signature[2], signature[6], signature[12], signature[18]}));

  EvpPkeyPtr other;
  ASSERT_TRUE(GenerateP256Key(&other).ok());
  EXPECT_EQ(VerifyMessage(other.get(), "x", signature), SignatureCheck::kMismatch);
}

TEST(FranceSignature, MalformedSignature) {
  EvpPkeyPtr key;
  ASSERT_TRUE(GenerateP256Key(&key).ok());
  std::string signature;
  ASSERT_TRUE(SignMessage(key.get(), "m", &signature).ok());
  EXPECT_EQ(VerifyMessage(key.get(), "m", signature.substr(1)), SignatureCheck::kMalformed);
  EXPECT_EQ(VerifyMessage(key.get(), "m", signature + "A"), SignatureCheck::kMalformed);
  EXPECT_EQ(VerifyMessage(key.get(), "m", ""), SignatureCheck::kMalformed);
  std::string padded = signature;
  padded.back() = '=';
  EXPECT_EQ(VerifyMessage(key.get(), "m", padded), SignatureCheck::kMalformed);
}

TEST(FranceSignature, ExtractNeedsNineteenCharacters) {
  EXPECT_EQ(SignatureExtract("abcdefghijklmnopqr"), "");
  EXPECT_EQ(SignatureExtract("abcdefghijklmnopqrs"), "cgms");
}

TEST(FranceSignature, InvalidPublicKey) {
  EvpPkeyPtr key;
  std::string x(64, '0');
  EXPECT_FALSE(P256PublicKeyFromHex(x, x, &key).ok());
  EXPECT_FALSE(P256PublicKeyFromHex("00", "00", &key).ok());
  EXPECT_FALSE(P256PublicKeyFromHex(std::string(64, 'g'), x, &key).ok());
  EXPECT_EQ(key, nullptr);
}

// Field case C23: without a usable signing key nothing is signed and the output stays untouched.
TEST(FranceSignature, FailsClosedWithoutKey) {
  std::string signature = "unchanged";
  EXPECT_FALSE(SignMessage(nullptr, "m", &signature).ok());
  EXPECT_EQ(signature, "unchanged");

  EvpPkeyPtr p384(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"));
  ASSERT_NE(p384, nullptr);
  EXPECT_FALSE(SignMessage(p384.get(), "m", &signature).ok());
  EXPECT_EQ(signature, "unchanged");

  EvpPkeyPtr public_only;
  ASSERT_TRUE(P256PublicKeyFromHex(
                  "60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6",
                  "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299", &public_only)
                  .ok());
  Status status = SignMessage(public_only.get(), "m", &signature);
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(status.code(), FISCAL_ERR_INTERNAL);
  EXPECT_EQ(signature, "unchanged");
}

}  // namespace
}  // namespace fiscal::france
