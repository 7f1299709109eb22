// Certification of plugin builds (plugins/manifest.h): a copy of the corpus good plugin is signed in
// a temporary folder with keys generated here, then verified, tampered with and loaded through
// LoadPlugin in strict and permissive mode. The last tests run packaging/sign-plugin.sh end to end.
#include <gtest/gtest.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "common/json_tree.h"
#include "plugins/manifest.h"
#include "plugins/plugin_loader.h"
#include "plugins/plugin_registry.h"

namespace fiscal::plugins {
namespace {

namespace fs = std::filesystem;

using PkeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

constexpr char kCertification[] =
    R"({"authority":"AEAT","registration_id":"TEST-0001","certified_at":"2026-01-15"})";

std::string GoodPluginPath() { return std::string(FISCAL_PLUGIN_DIR) + "/corpus/good.so"; }

std::string ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream bytes;
  bytes << file.rdbuf();
  return bytes.str();
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file << bytes;
  ASSERT_TRUE(file.good()) << "cannot write " << path;
}

// Flips the low bit of the byte at `offset` of the file.
void FlipByte(const std::string& path, size_t offset) {
  std::string bytes = ReadFile(path);
  ASSERT_LT(offset, bytes.size());
  bytes[offset] = static_cast<char>(bytes[offset] ^ 0x01);
  WriteFile(path, bytes);
}

// Generates a key of a type that needs no parameters, such as "ED25519" or "ED448".
PkeyPtr NewKey(const char* type) { return PkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, type), &EVP_PKEY_free); }

// Generates an ECDSA key on `curve`, such as "P-256".
PkeyPtr NewEcKey(const char* curve) {
  return PkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve), &EVP_PKEY_free);
}

std::string PublicKeyPem(EVP_PKEY* key) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key) != 1) return "";
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

std::string PrivateKeyPem(EVP_PKEY* key) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) return "";
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

// Computes the key id the way docs/certification.md defines it, independently of the host code.
std::string ExpectedKeyId(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  int der_size = i2d_PUBKEY(key, &der);
  if (der_size <= 0) return "";
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  EVP_Digest(der, static_cast<size_t>(der_size), digest, &digest_size, EVP_sha256(), nullptr);
  OPENSSL_free(der);
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < 8; ++i) {
    hex += kDigits[digest[i] >> 4];
    hex += kDigits[digest[i] & 0x0f];
  }
  return hex;
}

// Signs `data` with an Ed25519 key (no digest) or an EC key (SHA-256, DER signature).
std::string Sign(EVP_PKEY* key, const std::string& data) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  const EVP_MD* digest = EVP_PKEY_is_a(key, "ED25519") ? nullptr : EVP_sha256();
  if (!context || EVP_DigestSignInit(context.get(), nullptr, digest, nullptr, key) != 1) return "";
  size_t size = 0;
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  if (EVP_DigestSign(context.get(), nullptr, &size, bytes, data.size()) != 1) return "";
  std::string signature(size, '\0');
  if (EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(signature.data()), &size, bytes,
                     data.size()) != 1) {
    return "";
  }
  signature.resize(size);
  return signature;
}

// Manifest members, defaulting to a correct manifest for the corpus good plugin.
struct ManifestFields {
  std::string name = "corpus-good";
  std::string country = "XX";
  std::string version = "1.0.0";
  std::string abi_major = "1";
  std::string abi_minor = "0";
  std::string library_sha256;
  std::string certification = kCertification;
  std::string signed_by;
};

std::string ManifestJson(const ManifestFields& fields) {
  return "{\n  \"name\": \"" + fields.name + "\",\n  \"country\": \"" + fields.country +
         "\",\n  \"version\": \"" + fields.version + "\",\n  \"abi_major\": " + fields.abi_major +
         ",\n  \"abi_minor\": " + fields.abi_minor + ",\n  \"library_sha256\": \"" + fields.library_sha256 +
         "\",\n  \"certification\": " + fields.certification + ",\n  \"signed_by\": \"" + fields.signed_by +
         "\"\n}\n";
}

// Runs a shell command and returns its exit status, or -1 when it did not exit normally.
int RunCommand(const std::string& command) {
  int status = std::system(command.c_str());
  if (status == -1 || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

bool HasTool(const std::string& tool) { return RunCommand("command -v " + tool + " >/dev/null 2>&1") == 0; }

class PluginManifestTest : public testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(GoodPluginPath())) {
      GTEST_SKIP() << "plugin corpus not built: " << GoodPluginPath()
                   << " is missing (build the test_plugin_corpus target)";
    }
    const testing::TestInfo* test = testing::UnitTest::GetInstance()->current_test_info();
    dir_ = (fs::path(testing::TempDir()) /
            ("plugin_manifest_" + std::to_string(::getpid()) + "_" + test->name()))
               .string();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    library_ = dir_ + "/libcorpus.so";
    fs::copy_file(GoodPluginPath(), library_);

    key_ = NewKey("ED25519");
    ASSERT_NE(key_, nullptr);
    trusted_key_path_ = dir_ + "/trusted.pub";
    WriteFile(trusted_key_path_, PublicKeyPem(key_.get()));
  }

  void TearDown() override {
    if (dir_.empty()) return;
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  PluginConfig Config(const std::string& trust_mode) const {
    PluginConfig config;
    config.name = "corpus-good";
    config.country = "XX";
    config.system = "corpus";
    config.path = library_;
    config.trust_mode = trust_mode;
    config.trusted_keys = {trusted_key_path_};
    return config;
  }

  // Default fields of a correct manifest for library_ signed by `key`.
  ManifestFields CorrectFields(EVP_PKEY* key) const {
    ManifestFields fields;
    Result<std::string> sha256 = Sha256OfFile(library_);
    EXPECT_TRUE(sha256.ok()) << sha256.status().ToString();
    fields.library_sha256 = sha256.ok() ? *sha256 : "";
    fields.signed_by = ExpectedKeyId(key);
    return fields;
  }

  // Writes the manifest of `fields` and its signature by `key` next to library_.
  void WriteSigned(const ManifestFields& fields, EVP_PKEY* key) {
    std::string manifest = ManifestJson(fields);
    std::string signature = Sign(key, manifest);
    ASSERT_FALSE(signature.empty()) << "signing failed";
    WriteFile(library_ + ".manifest.json", manifest);
    WriteFile(library_ + ".manifest.sig", signature);
  }

  void SignCorrectly() { WriteSigned(CorrectFields(key_.get()), key_.get()); }

  Status Verify(const std::string& trust_mode, ManifestInfo* info) {
    return VerifyCertification(Config(trust_mode), library_, info);
  }

  std::string Label() const { return "plugin \"corpus-good\" (" + library_ + ")"; }

  std::string dir_;
  std::string library_;
  std::string trusted_key_path_;
  PkeyPtr key_{nullptr, &EVP_PKEY_free};
  std::shared_ptr<net::HttpSender> sender_;  // the corpus plugin sends nothing while loading
};

TEST_F(PluginManifestTest, KeyIdIsSha256PrefixOfDer) {
  Result<std::string> id = KeyIdOfPublicKeyPem(PublicKeyPem(key_.get()));
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(*id, ExpectedKeyId(key_.get()));
  EXPECT_EQ(id->size(), 16u);

  EXPECT_FALSE(KeyIdOfPublicKeyPem("not a key").ok());
}

TEST_F(PluginManifestTest, ValidManifestVerifiesInStrictMode) {
  SignCorrectly();
  // The Ed25519 signature is the raw 64 bytes.
  EXPECT_EQ(ReadFile(library_ + ".manifest.sig").size(), 64u);

  ManifestInfo info;
  Status status = Verify("strict", &info);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_TRUE(info.certified);
  EXPECT_EQ(info.signer_key_id, ExpectedKeyId(key_.get()));
  EXPECT_EQ(info.certification_json, kCertification);
}

TEST_F(PluginManifestTest, LoadPluginSucceedsInStrictMode) {
  SignCorrectly();

  Result<std::shared_ptr<const LoadedPlugin>> loaded = LoadPlugin(Config("strict"), sender_);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  const PluginDescriptor& descriptor = (*loaded)->descriptor();
  EXPECT_EQ(descriptor.name, "corpus-good");
  EXPECT_TRUE(descriptor.certified);
  EXPECT_EQ(descriptor.signer_key_id, ExpectedKeyId(key_.get()));
  EXPECT_EQ(descriptor.certification_json, kCertification);
}

TEST_F(PluginManifestTest, LoadPluginRejectsUncertifiedInStrictMode) {
  Result<std::shared_ptr<const LoadedPlugin>> loaded = LoadPlugin(Config("strict"), sender_);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().message(), Label() + ": no manifest file " + library_ +
                                           ".manifest.json (strict mode needs a certified build)");
}

TEST_F(PluginManifestTest, TamperedLibraryRejectedNamingHash) {
  SignCorrectly();
  const std::string signed_sha256 = CorrectFields(key_.get()).library_sha256;
  FlipByte(library_, ReadFile(library_).size() / 2);
  Result<std::string> tampered_sha256 = Sha256OfFile(library_);
  ASSERT_TRUE(tampered_sha256.ok());

  for (const char* mode : {"strict", "permissive"}) {
    ManifestInfo info;
    Status status = Verify(mode, &info);
    ASSERT_FALSE(status.ok()) << mode;
    EXPECT_EQ(status.message(), Label() + ": library SHA-256 " + *tampered_sha256 + " of " + library_ +
                                    " does not match manifest " + signed_sha256)
        << mode;
    EXPECT_FALSE(info.certified) << mode;
  }
}

TEST_F(PluginManifestTest, TamperedManifestRejected) {
  SignCorrectly();
  // Changing the version keeps the JSON valid, so only the signature can catch it.
  std::string manifest = ReadFile(library_ + ".manifest.json");
  size_t at = manifest.find("1.0.0");
  ASSERT_NE(at, std::string::npos);
  manifest.replace(at, 5, "9.0.0");
  WriteFile(library_ + ".manifest.json", manifest);

  ManifestInfo info;
  Status status = Verify("strict", &info);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(), Label() + ": manifest signature does not verify with any trusted key "
                                        "(trusted key ids: " + ExpectedKeyId(key_.get()) + ")");
}

TEST_F(PluginManifestTest, TamperedSignatureRejected) {
  SignCorrectly();
  FlipByte(library_ + ".manifest.sig", 10);

  ManifestInfo info;
  Status status = Verify("strict", &info);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("manifest signature does not verify with any trusted key"), std::string::npos)
      << status.message();
}

TEST_F(PluginManifestTest, UntrustedKeyRejected) {
  PkeyPtr stranger = NewKey("ED25519");
  ASSERT_NE(stranger, nullptr);
  WriteSigned(CorrectFields(stranger.get()), stranger.get());

  ManifestInfo info;
  Status status = Verify("strict", &info);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(), Label() + ": manifest signature does not verify with any trusted key "
                                        "(trusted key ids: " + ExpectedKeyId(key_.get()) + ")");
}

TEST_F(PluginManifestTest, SecondTrustedKeyVerifies) {
  PkeyPtr other = NewKey("ED25519");
  ASSERT_NE(other, nullptr);
  std::string other_path = dir_ + "/other.pub";
  WriteFile(other_path, PublicKeyPem(other.get()));
  WriteSigned(CorrectFields(other.get()), other.get());

  PluginConfig config = Config("strict");
  config.trusted_keys = {trusted_key_path_, other_path};
  ManifestInfo info;
  Status status = VerifyCertification(config, library_, &info);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(info.signer_key_id, ExpectedKeyId(other.get()));
}

TEST_F(PluginManifestTest, EcdsaP256KeyVerifies) {
  PkeyPtr ec = NewEcKey("P-256");
  ASSERT_NE(ec, nullptr);
  WriteFile(trusted_key_path_, PublicKeyPem(ec.get()));
  WriteSigned(CorrectFields(ec.get()), ec.get());

  ManifestInfo info;
  Status status = Verify("strict", &info);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_TRUE(info.certified);
  EXPECT_EQ(info.signer_key_id, ExpectedKeyId(ec.get()));
}

TEST_F(PluginManifestTest, MissingManifestRejectedInStrictMode) {
  ManifestInfo info;
  Status status = Verify("strict", &info);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(),
            Label() + ": no manifest file " + library_ + ".manifest.json (strict mode needs a certified build)");
}

TEST_F(PluginManifestTest, MissingManifestAllowedInPermissiveMode) {
  ManifestInfo info;
  info.certified = true;  // must be reset
  Status status = Verify("permissive", &info);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_FALSE(info.certified);
  EXPECT_TRUE(info.signer_key_id.empty());
  EXPECT_TRUE(info.certification_json.empty());

  Result<std::shared_ptr<const LoadedPlugin>> loaded = LoadPlugin(Config("permissive"), sender_);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_FALSE((*loaded)->descriptor().certified);
}

TEST_F(PluginManifestTest, BadManifestRejectedInPermissiveMode) {
  PkeyPtr stranger = NewKey("ED25519");
  ASSERT_NE(stranger, nullptr);
  WriteSigned(CorrectFields(stranger.get()), stranger.get());

  Result<std::shared_ptr<const LoadedPlugin>> loaded = LoadPlugin(Config("permissive"), sender_);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().message().find("manifest signature does not verify with any trusted key"),
            std::string::npos)
      << loaded.status().message();
}

TEST_F(PluginManifestTest, MissingSignatureRejected) {
  SignCorrectly();
  fs::remove(library_ + ".manifest.sig");

  for (const char* mode : {"strict", "permissive"}) {
    ManifestInfo info;
    Status status = Verify(mode, &info);
    ASSERT_FALSE(status.ok()) << mode;
    EXPECT_EQ(status.message(), Label() + ": no signature file " + library_ + ".manifest.sig for manifest " +
                                    library_ + ".manifest.json")
        << mode;
  }
}

TEST_F(PluginManifestTest, SignatureWithoutManifestRejectedInPermissiveMode) {
  SignCorrectly();
  fs::remove(library_ + ".manifest.json");

  ManifestInfo info;
  Status status = Verify("permissive", &info);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("exists but manifest file"), std::string::npos) << status.message();
}

TEST_F(PluginManifestTest, SignedByMismatchRejected) {
  ManifestFields fields = CorrectFields(key_.get());
  fields.signed_by = "0123456789abcdef";
  WriteSigned(fields, key_.get());

  ManifestInfo info;
  Status status = Verify("strict", &info);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(), Label() + ": manifest names signer \"0123456789abcdef\" but was signed by trusted key " +
                                  ExpectedKeyId(key_.get()) + " (" + trusted_key_path_ + ")");
}

TEST_F(PluginManifestTest, NameMismatchRejected) {
  ManifestFields fields = CorrectFields(key_.get());
  fields.name = "spain-verifactu";
  WriteSigned(fields, key_.get());

  ManifestInfo info;
  Status status = Verify("strict", &info);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(), Label() + ": manifest is for plugin \"spain-verifactu\", not \"corpus-good\"");
}

TEST_F(PluginManifestTest, AbiMajorMismatchRejected) {
  ManifestFields fields = CorrectFields(key_.get());
  fields.abi_major = "2";
  WriteSigned(fields, key_.get());

  ManifestInfo info;
  Status status = Verify("strict", &info);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(), Label() + ": manifest abi_major 2 does not match host ABI major 1");
}

TEST_F(PluginManifestTest, MalformedManifestRejected) {
  struct Case {
    const char* name;
    std::string manifest;
    std::string expected;
  };
  ManifestFields correct = CorrectFields(key_.get());
  ManifestFields not_object = correct;
  not_object.certification = R"("AEAT")";
  ManifestFields upper_hash = correct;
  for (char& c : upper_hash.library_sha256) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string no_version = ManifestJson(correct);
  no_version.erase(no_version.find("  \"version\""), std::string("  \"version\": \"1.0.0\",\n").size());

  const std::string manifest_path = library_ + ".manifest.json";
  const std::vector<Case> cases = {
      {"not JSON", "{\"name\": ", "manifest " + manifest_path},
      {"missing member", no_version, "manifest " + manifest_path + " has no \"version\" member"},
      {"wrong type", ManifestJson(not_object),
       "manifest " + manifest_path + ": \"certification\" must be an object, not a string"},
      {"upper-case hash", ManifestJson(upper_hash),
       "manifest " + manifest_path + ": \"library_sha256\" must be 64 lower-case hex digits"},
  };
  for (const Case& test_case : cases) {
    std::string signature = Sign(key_.get(), test_case.manifest);
    WriteFile(manifest_path, test_case.manifest);
    WriteFile(library_ + ".manifest.sig", signature);

    ManifestInfo info;
    Status status = Verify("permissive", &info);
    ASSERT_FALSE(status.ok()) << test_case.name;
    EXPECT_NE(status.message().find(test_case.expected), std::string::npos)
        << test_case.name << ": " << status.message();
  }
}

TEST_F(PluginManifestTest, StrictModeWithoutTrustedKeysRejected) {
  SignCorrectly();
  PluginConfig config = Config("strict");
  config.trusted_keys.clear();

  ManifestInfo info;
  Status status = VerifyCertification(config, library_, &info);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(),
            Label() + ": manifest signature cannot be verified because plugin_trust.trusted_keys lists no key");
}

TEST_F(PluginManifestTest, UnreadableTrustedKeyNamed) {
  SignCorrectly();
  PluginConfig config = Config("strict");
  const std::string missing = dir_ + "/missing.pub";
  const std::string garbage = dir_ + "/garbage.pub";
  WriteFile(garbage, "not a key\n");

  config.trusted_keys = {missing};
  ManifestInfo info;
  Status status = VerifyCertification(config, library_, &info);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("cannot open trusted key file " + missing), std::string::npos)
      << status.message();

  config.trusted_keys = {garbage};
  status = VerifyCertification(config, library_, &info);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("trusted key file " + garbage + ": not a PEM public key"), std::string::npos)
      << status.message();
}

TEST_F(PluginManifestTest, UnsupportedKeyTypeRejected) {
  SignCorrectly();
  PkeyPtr ed448 = NewKey("ED448");
  ASSERT_NE(ed448, nullptr);
  PkeyPtr p384 = NewEcKey("P-384");
  ASSERT_NE(p384, nullptr);

  for (EVP_PKEY* key : {ed448.get(), p384.get()}) {
    WriteFile(trusted_key_path_, PublicKeyPem(key));
    ManifestInfo info;
    Status status = Verify("strict", &info);
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.message(), Label() + ": trusted key file " + trusted_key_path_ +
                                    ": unsupported key type: use an Ed25519 or ECDSA P-256 public key");
  }
}

TEST_F(PluginManifestTest, UnknownTrustModeRejected) {
  ManifestInfo info;
  Status status = Verify("auto", &info);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(), Label() + ": unknown trust mode \"auto\"; expected \"strict\" or \"permissive\"");
}

TEST_F(PluginManifestTest, StageManifestCopiesAndRemovesStale) {
  SignCorrectly();
  const std::string staged = dir_ + "/staged.so";
  fs::copy_file(library_, staged);

  Status status = StageManifest(library_, staged);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(ReadFile(staged + ".manifest.json"), ReadFile(library_ + ".manifest.json"));
  EXPECT_EQ(ReadFile(staged + ".manifest.sig"), ReadFile(library_ + ".manifest.sig"));

  PluginConfig config = Config("strict");
  config.path = staged;
  ManifestInfo info;
  status = VerifyCertification(config, staged, &info);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_TRUE(info.certified);

  // Once the source loses its manifest, the staged copy must not keep the old one.
  fs::remove(library_ + ".manifest.json");
  fs::remove(library_ + ".manifest.sig");
  status = StageManifest(library_, staged);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_FALSE(fs::exists(staged + ".manifest.json"));
  EXPECT_FALSE(fs::exists(staged + ".manifest.sig"));

  EXPECT_TRUE(StageManifest(library_, library_).ok());
}

// packaging/sign-plugin.sh end to end: a new key pair, a signed build, and the host's check.
class PluginCertificationScriptTest : public PluginManifestTest {
 protected:
  void SetUp() override {
    PluginManifestTest::SetUp();
    if (IsSkipped()) return;
    for (const char* tool : {"bash", "objcopy", "openssl", "python3"}) {
      if (!HasTool(tool)) GTEST_SKIP() << tool << " not found, so packaging/sign-plugin.sh cannot run";
    }
    script_ = std::string(FISCAL_SOURCE_DIR) + "/packaging/sign-plugin.sh";
  }

  // Runs the script with `arguments`, its output going to dir_/script.log.
  int RunScript(const std::string& arguments) {
    return RunCommand("bash '" + script_ + "' " + arguments + " >>'" + dir_ + "/script.log' 2>&1");
  }

  std::string ScriptLog() const { return ReadFile(dir_ + "/script.log"); }

  std::string script_;
};

TEST_F(PluginCertificationScriptTest, SignedBuildLoadsInStrictMode) {
  const std::string keys = dir_ + "/keys";
  ASSERT_EQ(RunScript("--new-key '" + keys + "'"), 0) << ScriptLog();
  struct stat private_info {};
  ASSERT_EQ(::stat((keys + "/plugin-signing.key").c_str(), &private_info), 0);
  EXPECT_EQ(private_info.st_mode & 0777, 0600u);
  // A second --new-key must not overwrite the key.
  EXPECT_NE(RunScript("--new-key '" + keys + "'"), 0);

  const std::string certification = dir_ + "/certification.json";
  WriteFile(certification, kCertification);
  ASSERT_EQ(RunScript("'" + library_ + "' '" + keys + "/plugin-signing.key' '" + certification + "'"), 0)
      << ScriptLog();
  EXPECT_EQ(ReadFile(library_ + ".manifest.sig").size(), 64u);

  // The manifest fields come from the library's compatibility block.
  Result<json::Node> manifest = json::Parse(ReadFile(library_ + ".manifest.json"), "manifest");
  ASSERT_TRUE(manifest.ok()) << manifest.status().ToString();
  ASSERT_NE(manifest->Find("name"), nullptr);
  EXPECT_EQ(manifest->Find("name")->text(), "corpus-good");
  ASSERT_NE(manifest->Find("country"), nullptr);
  EXPECT_EQ(manifest->Find("country")->text(), "XX");
  ASSERT_NE(manifest->Find("version"), nullptr);
  EXPECT_EQ(manifest->Find("version")->text(), "1.0.0");
  ASSERT_NE(manifest->Find("abi_minor"), nullptr);
  EXPECT_EQ(manifest->Find("abi_minor")->text(), "0");

  PluginConfig config = Config("strict");
  config.trusted_keys = {keys + "/plugin-signing.pub"};
  Result<std::string> key_id = KeyIdOfPublicKeyPem(ReadFile(keys + "/plugin-signing.pub"));
  ASSERT_TRUE(key_id.ok()) << key_id.status().ToString();

  ManifestInfo info;
  Status status = VerifyCertification(config, library_, &info);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_TRUE(info.certified);
  EXPECT_EQ(info.signer_key_id, *key_id);
  EXPECT_EQ(info.certification_json, kCertification);

  Result<std::shared_ptr<const LoadedPlugin>> loaded = LoadPlugin(config, sender_);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_TRUE((*loaded)->descriptor().certified);
}

TEST_F(PluginCertificationScriptTest, SignsWithEcdsaP256Key) {
  PkeyPtr ec = NewEcKey("P-256");
  ASSERT_NE(ec, nullptr);
  const std::string private_key = dir_ + "/ec.key";
  WriteFile(private_key, PrivateKeyPem(ec.get()));
  WriteFile(trusted_key_path_, PublicKeyPem(ec.get()));

  ASSERT_EQ(RunScript("'" + library_ + "' '" + private_key + "'"), 0) << ScriptLog();

  ManifestInfo info;
  Status status = Verify("strict", &info);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(info.signer_key_id, ExpectedKeyId(ec.get()));
  EXPECT_EQ(info.certification_json, "{}");
}

TEST_F(PluginCertificationScriptTest, RejectsLibraryWithoutBlock) {
  const std::string keys = dir_ + "/keys";
  ASSERT_EQ(RunScript("--new-key '" + keys + "'"), 0) << ScriptLog();
  const std::string not_plugin = dir_ + "/not-a-plugin.so";
  WriteFile(not_plugin, "plain text, not ELF");

  EXPECT_NE(RunScript("'" + not_plugin + "' '" + keys + "/plugin-signing.key'"), 0);
  EXPECT_FALSE(fs::exists(not_plugin + ".manifest.json"));
  EXPECT_NE(ScriptLog().find("sign-plugin.sh: error:"), std::string::npos) << ScriptLog();
}

}  // namespace
}  // namespace fiscal::plugins
