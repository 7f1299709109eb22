// The host's signing key store: key creation, ECDSA P-256 signatures checked with OpenSSL, tenant
// separation, input validation, and the fail-closed behaviour when a key file is missing, unreadable,
// corrupt or of the wrong kind. Also the "signing_keys" setting of the host configuration.
#include <gtest/gtest.h>

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "config/config.h"
#include "keys/key_store.h"

namespace fiscal::keys {
namespace {

constexpr char kAccountA[] = "0b6f7a52-4c1e-4d7a-9f59-2f0e8c1a9b01";
constexpr char kAccountB[] = "5d1e9c33-8a2b-4f6e-b7c4-91a0d3e2f402";

using PkeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

std::string ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file << content;
}

mode_t ModeOf(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return 0;
  return info.st_mode & 07777;
}

PkeyPtr ReadPublicKey(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())),
                                                &BIO_free);
  return PkeyPtr(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
}

// Verifies a DER ECDSA signature of SHA-256(data) with OpenSSL.
bool VerifyDer(const std::string& public_key_pem, const std::string& data, const std::string& der) {
  PkeyPtr key = ReadPublicKey(public_key_pem);
  if (!key) return false;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (EVP_DigestVerifyInit(context.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1) return false;
  int verified = EVP_DigestVerify(context.get(), reinterpret_cast<const unsigned char*>(der.data()), der.size(),
                                  reinterpret_cast<const unsigned char*>(data.data()), data.size());
  ERR_clear_error();
  return verified == 1;
}

// Converts a 64-byte r||s signature into DER, independently of the key store's own conversion.
std::string RawToDer(const std::string& raw) {
  if (raw.size() != 64) return {};
  ECDSA_SIG* signature = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr);
  ECDSA_SIG_set0(signature, r, s);
  unsigned char* der = nullptr;
  int size = i2d_ECDSA_SIG(signature, &der);
  std::string result(reinterpret_cast<const char*>(der), static_cast<size_t>(size));
  OPENSSL_free(der);
  ECDSA_SIG_free(signature);
  return result;
}

std::string Sha256HexOfSpki(const std::string& public_key_pem) {
  PkeyPtr key = ReadPublicKey(public_key_pem);
  unsigned char* der = nullptr;
  int size = i2d_PUBKEY(key.get(), &der);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  EVP_Digest(der, static_cast<size_t>(size), digest, &digest_size, EVP_sha256(), nullptr);
  OPENSSL_free(der);
  std::string hex;
  for (unsigned int i = 0; i < digest_size; ++i) {
    static constexpr char kDigits[] = "0123456789abcdef";
    hex += kDigits[digest[i] >> 4];
    hex += kDigits[digest[i] & 0x0f];
  }
  return hex;
}

// PEM text of a freshly generated private key of another kind, as PKCS#8.
std::string OtherKeyPem(PkeyPtr key) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

class KeyStoreTest : public testing::Test {
 protected:
  KeyStoreTest() {
    char pattern[] = "/tmp/key_store_test.XXXXXX";
    const char* created = ::mkdtemp(pattern);
    if (created == nullptr) throw std::runtime_error("mkdtemp failed");
    root_ = created;
    directory_ = root_ + "/keys";
  }

  ~KeyStoreTest() override {
    // A test may leave a file with mode 000; make everything removable again.
    std::error_code error;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(root_, error)) {
      ::chmod(entry.path().c_str(), entry.is_directory() ? 0700 : 0600);
    }
    std::filesystem::remove_all(root_, error);
  }

  std::string KeyPath(const std::string& account, const std::string& key_ref) const {
    return directory_ + "/" + account + "/" + key_ref + ".pem";
  }

  // Checks the fail-closed error: 503 code, the key_ref named, no key material in the message.
  void ExpectUnavailable(const Status& status, const std::string& key_ref, const std::string& key_pem) {
    EXPECT_EQ(status.code(), StatusCode::kUnavailable) << status.ToString();
    EXPECT_EQ(status.error_code(), "signing_key_unavailable");
    EXPECT_NE(status.message().find("\"" + key_ref + "\""), std::string::npos) << status.message();
    EXPECT_NE(status.message().find("operator"), std::string::npos) << status.message();
    EXPECT_EQ(status.message().find("BEGIN"), std::string::npos) << status.message();
    std::istringstream lines(key_pem);
    for (std::string line; std::getline(lines, line);) {
      if (line.empty() || line.rfind("-----", 0) == 0) continue;
      EXPECT_EQ(status.message().find(line.substr(0, 16)), std::string::npos) << "key bytes in: " << status.message();
    }
  }

  std::string root_;
  std::string directory_;
};

TEST_F(KeyStoreTest, EnsureKeyCreatesPrivateFiles) {
  KeyStore store(directory_);
  ASSERT_TRUE(store.EnsureKey(kAccountA, "receipts").ok());

  const std::string path = KeyPath(kAccountA, "receipts");
  EXPECT_EQ(ModeOf(path), 0600u);
  EXPECT_EQ(ModeOf(directory_ + "/" + kAccountA), 0700u);
  EXPECT_EQ(ModeOf(directory_), 0700u);
  EXPECT_EQ(ReadFile(path).rfind("-----BEGIN PRIVATE KEY-----\n", 0), 0u);

  // Only the key itself: no temporary file left behind.
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(directory_ + "/" + kAccountA)) {
    EXPECT_EQ(entry.path().filename(), "receipts.pem");
    ++files;
  }
  EXPECT_EQ(files, 1u);
}

TEST_F(KeyStoreTest, EnsureKeyIsIdempotent) {
  KeyStore store(directory_);
  ASSERT_TRUE(store.EnsureKey(kAccountA, "receipts").ok());
  const std::string first = ReadFile(KeyPath(kAccountA, "receipts"));
  Result<std::string> first_public = store.PublicKeyPem(kAccountA, "receipts");
  ASSERT_TRUE(first_public.ok()) << first_public.status().ToString();

  ASSERT_TRUE(store.EnsureKey(kAccountA, "receipts").ok());
  EXPECT_EQ(ReadFile(KeyPath(kAccountA, "receipts")), first);
  Result<std::string> second_public = store.PublicKeyPem(kAccountA, "receipts");
  ASSERT_TRUE(second_public.ok());
  EXPECT_EQ(*second_public, *first_public);
}

TEST_F(KeyStoreTest, EnsureKeyKeepsExistingBrokenFile) {
  KeyStore store(directory_);
  ASSERT_TRUE(store.EnsureKey(kAccountA, "receipts").ok());
  WriteFile(KeyPath(kAccountA, "receipts"), "not a key\n");

  ASSERT_TRUE(store.EnsureKey(kAccountA, "receipts").ok());
  EXPECT_EQ(ReadFile(KeyPath(kAccountA, "receipts")), "not a key\n");
}

TEST_F(KeyStoreTest, SignatureVerifiesWithOpenSsl) {
  KeyStore store(directory_);
  ASSERT_TRUE(store.EnsureKey(kAccountA, "receipts").ok());
  const std::string data = "FR|ticket|000042|2024-05-01T10:00:00Z|12.30";

  Result<Signature> signature = store.Sign(kAccountA, "receipts", data);
  ASSERT_TRUE(signature.ok()) << signature.status().ToString();
  Result<std::string> public_pem = store.PublicKeyPem(kAccountA, "receipts");
  ASSERT_TRUE(public_pem.ok());

  EXPECT_EQ(signature->raw.size(), 64u);
  EXPECT_EQ(signature->public_key_pem, *public_pem);
  EXPECT_EQ(signature->public_key_pem.rfind("-----BEGIN PUBLIC KEY-----\n", 0), 0u);
  EXPECT_EQ(signature->key_id, Sha256HexOfSpki(*public_pem));
  EXPECT_EQ(signature->key_id.size(), 64u);

  EXPECT_TRUE(VerifyDer(*public_pem, data, signature->der));
  EXPECT_EQ(RawToDer(signature->raw), signature->der);
  EXPECT_TRUE(VerifyDer(*public_pem, data, RawToDer(signature->raw)));
  EXPECT_FALSE(VerifyDer(*public_pem, data + "x", signature->der));

  Result<Signature> empty = store.Sign(kAccountA, "receipts", "");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(VerifyDer(*public_pem, "", empty->der));
}

TEST_F(KeyStoreTest, AccountsNeverShareKeys) {
  KeyStore store(directory_);
  ASSERT_TRUE(store.EnsureKey(kAccountA, "receipts").ok());
  ASSERT_TRUE(store.EnsureKey(kAccountB, "receipts").ok());

  Result<Signature> a = store.Sign(kAccountA, "receipts", "data");
  Result<Signature> b = store.Sign(kAccountB, "receipts", "data");
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_NE(a->key_id, b->key_id);
  EXPECT_NE(a->public_key_pem, b->public_key_pem);
  EXPECT_FALSE(VerifyDer(b->public_key_pem, "data", a->der));

  // Account B has no key of another name just because account A has one.
  ASSERT_TRUE(store.EnsureKey(kAccountA, "only-a").ok());
  EXPECT_EQ(store.Sign(kAccountB, "only-a", "data").status().code(), StatusCode::kUnavailable);
}

TEST_F(KeyStoreTest, UppercaseAccountIdIsSameAccount) {
  KeyStore store(directory_);
  ASSERT_TRUE(store.EnsureKey(kAccountA, "receipts").ok());
  std::string upper = kAccountA;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));

  Result<Signature> lower_signature = store.Sign(kAccountA, "receipts", "data");
  Result<Signature> upper_signature = store.Sign(upper, "receipts", "data");
  ASSERT_TRUE(lower_signature.ok());
  ASSERT_TRUE(upper_signature.ok()) << upper_signature.status().ToString();
  EXPECT_EQ(upper_signature->key_id, lower_signature->key_id);
}

TEST_F(KeyStoreTest, InvalidKeyRefsRejected) {
  KeyStore store(directory_);
  const std::vector<std::string> bad = {"",    ".hidden", "..",         "../escape", "a/b",
                                        "a b", "a\\b",    "caf\xc3\xa9", std::string(129, 'k'), std::string("a\0b", 3)};
  for (const std::string& key_ref : bad) {
    SCOPED_TRACE("key_ref \"" + key_ref + "\"");
    EXPECT_FALSE(IsValidKeyRef(key_ref));
    Status created = store.EnsureKey(kAccountA, key_ref);
    EXPECT_EQ(created.code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(created.field(), "key_ref");
    EXPECT_EQ(store.Sign(kAccountA, key_ref, "data").status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(store.PublicKeyPem(kAccountA, key_ref).status().code(), StatusCode::kInvalidArgument);
  }
  EXPECT_FALSE(std::filesystem::exists(root_ + "/escape.pem"));

  const std::vector<std::string> good = {"a", "receipts", "key.v2", "TicketBAI_2024-01", std::string(128, 'k')};
  for (const std::string& key_ref : good) {
    SCOPED_TRACE("key_ref \"" + key_ref + "\"");
    EXPECT_TRUE(IsValidKeyRef(key_ref));
    EXPECT_TRUE(store.EnsureKey(kAccountA, key_ref).ok());
  }
}

TEST_F(KeyStoreTest, InvalidAccountIdsRejected) {
  KeyStore store(directory_);
  const std::vector<std::string> bad = {"",
                                        "acc-1",
                                        "../../etc",
                                        "0b6f7a52-4c1e-4d7a-9f59-2f0e8c1a9b0",
                                        "0b6f7a52-4c1e-4d7a-9f59-2f0e8c1a9b011",
                                        "0b6f7a52x4c1e-4d7a-9f59-2f0e8c1a9b01",
                                        "0b6f7a52-4c1e-4d7a-9f59-2f0e8c1a9bg1",
                                        "0b6f7a52-4c1e-4d7a-9f59/2f0e8c1a9b01"};
  for (const std::string& account : bad) {
    SCOPED_TRACE("account \"" + account + "\"");
    Status created = store.EnsureKey(account, "receipts");
    EXPECT_EQ(created.code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(created.field(), "account_id");
    EXPECT_EQ(store.Sign(account, "receipts", "data").status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(store.PublicKeyPem(account, "receipts").status().code(), StatusCode::kInvalidArgument);
  }
}

TEST_F(KeyStoreTest, MissingKeyUnavailable) {
  KeyStore store(directory_);
  // Sign never creates a key: the store, the account and the key do not exist yet.
  Result<Signature> never_created = store.Sign(kAccountA, "receipts", "data");
  ASSERT_FALSE(never_created.ok());
  ExpectUnavailable(never_created.status(), "receipts", "");
  EXPECT_NE(never_created.status().message().find("does not exist"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(KeyPath(kAccountA, "receipts")));

  ASSERT_TRUE(store.EnsureKey(kAccountA, "receipts").ok());
  const std::string pem = ReadFile(KeyPath(kAccountA, "receipts"));
  ASSERT_TRUE(store.Sign(kAccountA, "receipts", "data").ok());
  std::filesystem::remove(KeyPath(kAccountA, "receipts"));

  Result<Signature> deleted = store.Sign(kAccountA, "receipts", "data");
  ASSERT_FALSE(deleted.ok());
  ExpectUnavailable(deleted.status(), "receipts", pem);
  Result<std::string> public_pem = store.PublicKeyPem(kAccountA, "receipts");
  ASSERT_FALSE(public_pem.ok());
  ExpectUnavailable(public_pem.status(), "receipts", pem);
}

TEST_F(KeyStoreTest, UnreadableKeyUnavailable) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads a file of mode 000; the corrupt-file tests cover this path";
  KeyStore store(directory_);
  ASSERT_TRUE(store.EnsureKey(kAccountA, "receipts").ok());
  const std::string pem = ReadFile(KeyPath(kAccountA, "receipts"));
  ASSERT_TRUE(store.Sign(kAccountA, "receipts", "data").ok());
  ASSERT_EQ(::chmod(KeyPath(kAccountA, "receipts").c_str(), 0), 0);

  Result<Signature> signature = store.Sign(kAccountA, "receipts", "data");
  ASSERT_FALSE(signature.ok());
  ExpectUnavailable(signature.status(), "receipts", pem);
  EXPECT_NE(signature.status().message().find("permission denied"), std::string::npos);
}

TEST_F(KeyStoreTest, CorruptKeyUnavailable) {
  KeyStore store(directory_);
  ASSERT_TRUE(store.EnsureKey(kAccountA, "receipts").ok());
  const std::string path = KeyPath(kAccountA, "receipts");
  const std::string pem = ReadFile(path);
  ASSERT_TRUE(store.Sign(kAccountA, "receipts", "data").ok());

  // Flip base64 characters in the middle of the key body.
  std::string corrupt = pem;
  for (size_t i = 60; i < 90 && i < corrupt.size(); ++i) {
    if (corrupt[i] != '\n') corrupt[i] = corrupt[i] == 'A' ? 'B' : 'A';
  }
  const std::vector<std::string> broken_files = {corrupt, pem.substr(0, pem.size() / 2), "", "garbage\n"};
  for (const std::string& content : broken_files) {
    SCOPED_TRACE("file of " + std::to_string(content.size()) + " bytes");
    WriteFile(path, content);
    Result<Signature> signature = store.Sign(kAccountA, "receipts", "data");
    ASSERT_FALSE(signature.ok());
    ExpectUnavailable(signature.status(), "receipts", pem);
  }
}

TEST_F(KeyStoreTest, OtherKeyTypesUnavailable) {
  KeyStore store(directory_);
  ASSERT_TRUE(store.EnsureKey(kAccountA, "receipts").ok());
  const std::string path = KeyPath(kAccountA, "receipts");

  const std::vector<std::pair<std::string, std::string>> others = {
      {"P-384", OtherKeyPem(PkeyPtr(EVP_EC_gen("P-384"), &EVP_PKEY_free))},
      {"Ed25519", OtherKeyPem(PkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"), &EVP_PKEY_free))},
  };
  for (const auto& [name, pem] : others) {
    SCOPED_TRACE(name);
    ASSERT_EQ(pem.rfind("-----BEGIN PRIVATE KEY-----", 0), 0u);
    WriteFile(path, pem);
    Result<Signature> signature = store.Sign(kAccountA, "receipts", "data");
    ASSERT_FALSE(signature.ok());
    ExpectUnavailable(signature.status(), "receipts", pem);
    EXPECT_NE(signature.status().message().find("not P-256"), std::string::npos) << signature.status().message();
  }

  // A P-256 public key is not a private key.
  Result<std::string> public_pem = store.PublicKeyPem(kAccountA, "receipts");
  ASSERT_FALSE(public_pem.ok());
  KeyStore second(root_ + "/second");
  ASSERT_TRUE(second.EnsureKey(kAccountA, "receipts").ok());
  Result<std::string> real_public = second.PublicKeyPem(kAccountA, "receipts");
  ASSERT_TRUE(real_public.ok());
  WriteFile(path, *real_public);
  ExpectUnavailable(store.Sign(kAccountA, "receipts", "data").status(), "receipts", "");
}

TEST_F(KeyStoreTest, EncryptedKeyUnavailableWithoutPrompt) {
  KeyStore store(directory_);
  ASSERT_TRUE(store.EnsureKey(kAccountA, "receipts").ok());
  PkeyPtr key(EVP_EC_gen("P-256"), &EVP_PKEY_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  char passphrase[] = "operator secret";
  ASSERT_EQ(PEM_write_bio_PKCS8PrivateKey(bio.get(), key.get(), EVP_aes_256_cbc(), passphrase,
                                          sizeof(passphrase) - 1, nullptr, nullptr),
            1);
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  const std::string pem(data, static_cast<size_t>(size));
  WriteFile(KeyPath(kAccountA, "receipts"), pem);

  Result<Signature> signature = store.Sign(kAccountA, "receipts", "data");
  ASSERT_FALSE(signature.ok());
  ExpectUnavailable(signature.status(), "receipts", pem);
}

TEST_F(KeyStoreTest, ConcurrentEnsureAndSignAgree) {
  KeyStore store(directory_);
  constexpr int kThreads = 8;
  std::vector<std::string> key_ids(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&store, &key_ids, i] {
      if (!store.EnsureKey(kAccountA, "shared").ok()) return;
      for (int round = 0; round < 5; ++round) {
        Result<Signature> signature = store.Sign(kAccountA, "shared", "round " + std::to_string(round));
        if (!signature.ok()) return;
        key_ids[static_cast<size_t>(i)] = signature->key_id;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  ASSERT_FALSE(key_ids[0].empty());
  for (const std::string& key_id : key_ids) EXPECT_EQ(key_id, key_ids[0]);
}

// The "signing_keys" setting of the host configuration.
constexpr char kMinimalConfig[] = R"({"database": {"connection": "host=127.0.0.1"})";

TEST_F(KeyStoreTest, ConfigDefaultsNextToPluginCache) {
  config::HostConfig defaults = config::LoadFromJson(std::string(kMinimalConfig) + "}", "test");
  EXPECT_EQ(defaults.signing_keys.directory, "var/keys");

  config::HostConfig moved = config::LoadFromJson(
      std::string(kMinimalConfig) + R"(, "plugin_cache_dir": ")" + root_ + "/var/plugin-cache/\"}", "test");
  EXPECT_EQ(moved.signing_keys.directory, root_ + "/var/keys");
}

TEST_F(KeyStoreTest, ConfigReadsDirectory) {
  config::HostConfig config = config::LoadFromJson(
      std::string(kMinimalConfig) + R"(, "signing_keys": {"directory": ")" + directory_ + "\"}}", "test");
  EXPECT_EQ(config.signing_keys.directory, directory_);
}

TEST_F(KeyStoreTest, ConfigRejectsBadDirectory) {
  auto load = [](const std::string& signing_keys) {
    return config::LoadFromJson(std::string(kMinimalConfig) + R"(, "signing_keys": )" + signing_keys + "}", "test");
  };
  EXPECT_THROW(load(R"("keys")"), std::runtime_error);
  EXPECT_THROW(load(R"({"directory": 7})"), std::runtime_error);
  EXPECT_THROW(load(R"({"directory": ""})"), std::runtime_error);

  WriteFile(root_ + "/plain-file", "x");
  EXPECT_THROW(load(R"({"directory": ")" + root_ + "/plain-file\"}"), std::runtime_error);

  std::filesystem::create_directory(root_ + "/open");
  ASSERT_EQ(::chmod((root_ + "/open").c_str(), 0750), 0);
  try {
    load(R"({"directory": ")" + root_ + "/open\"}");
    ADD_FAILURE() << "a keys directory of mode 0750 was accepted";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("chmod 700"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace fiscal::keys
