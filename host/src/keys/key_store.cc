#include "keys/key_store.h"

#include <fcntl.h>
#include <stdio.h>  // renameat2 and RENAME_NOREPLACE (glibc 2.28 and later, _GNU_SOURCE)
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <system_error>
#include <utility>
#include <vector>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "common/log.h"

namespace fiscal::keys {
namespace {

// A P-256 PKCS#8 PEM file is about 240 bytes; anything far larger is not a key of this store.
constexpr size_t kMaxKeyFileSize = 64 * 1024;
// Size of r and of s in a P-256 signature.
constexpr size_t kP256ScalarSize = 32;
constexpr size_t kMaxKeyRefSize = 128;
// OpenSSL's group name for NIST P-256.
constexpr char kP256GroupName[] = "prime256v1";

using PkeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using BioPtr = std::unique_ptr<BIO, decltype(&BIO_free)>;
using MdContextPtr = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)>;

// Closes a file descriptor when it goes out of scope.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;

  int get() const { return fd_; }
  // Closes now and returns close()'s result, so that a write error reported at close is seen.
  int Close() {
    int result = ::close(fd_);
    fd_ = -1;
    return result;
  }

 private:
  int fd_;
};

bool IsHexDigit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool IsUuid(std::string_view text) {
  if (text.size() != 36) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_position ? text[i] != '-' : !IsHexDigit(text[i])) return false;
  }
  return true;
}

std::string ToLower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  return lower;
}

// Quotes a caller-supplied value for an error message, cut so that a huge value cannot flood it.
std::string Quote(std::string_view value) {
  constexpr size_t kMaxShown = 140;
  std::string shown(value.substr(0, kMaxShown));
  if (value.size() > kMaxShown) shown += "...";
  return "\"" + shown + "\"";
}

std::string Hex(const unsigned char* data, size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    hex += kDigits[data[i] >> 4];
    hex += kDigits[data[i] & 0x0f];
  }
  return hex;
}

Status CheckIds(std::string_view account_id, std::string_view key_ref) {
  if (!IsUuid(account_id)) {
    return Status::InvalidArgument("account_id", "invalid account id " + Quote(account_id) + ": expected a UUID");
  }
  if (!IsValidKeyRef(key_ref)) {
    return Status::InvalidArgument(
        "key_ref", "invalid signing key reference " + Quote(key_ref) +
                       ": use 1 to 128 characters of A-Z, a-z, 0-9, '.', '_' and '-', not starting with '.'");
  }
  return Status::Ok();
}

// Builds the fail-closed error of an unusable key, and logs the file path for the operator. The
// message goes to the API client, so it names the key_ref but not the host's file system.
Status KeyUnavailable(std::string_view account_id, std::string_view key_ref, const std::string& path,
                      const std::string& reason) {
  log::Warning("signing key unavailable", {{"account_id", std::string(account_id)},
                                           {"key_ref", std::string(key_ref)},
                                           {"path", path},
                                           {"error", reason}});
  return Status(StatusCode::kUnavailable, kSigningKeyUnavailable,
                "signing key \"" + std::string(key_ref) + "\" of account " + std::string(account_id) +
                    " is unavailable: " + reason +
                    ". Nothing was recorded. The host operator must restore the key file (a PKCS#8 PEM "
                    "ECDSA P-256 private key readable by the host) or provision the key again, then retry");
}

std::string OpenErrorReason(int error) {
  switch (error) {
    case ENOENT: return "the key file does not exist";
    case EACCES:
    case EPERM: return "the key file is not readable by the host (permission denied)";
    default: return std::string("the key file cannot be opened: ") + std::strerror(error);
  }
}

// Refuses to let OpenSSL ask for a passphrase on the terminal: an encrypted key fails to load.
int NoPassphrase(char* /*buffer*/, int /*size*/, int /*rwflag*/, void* /*user_data*/) { return 0; }

// Reads the PEM bytes of a key file. The caller must OPENSSL_cleanse the returned buffer.
Result<std::vector<char>> ReadKeyFile(std::string_view account_id, std::string_view key_ref,
                                      const std::string& path) {
  FileDescriptor file(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (file.get() < 0) return KeyUnavailable(account_id, key_ref, path, OpenErrorReason(errno));

  struct stat info {};
  if (::fstat(file.get(), &info) != 0) {
    return KeyUnavailable(account_id, key_ref, path, std::string("fstat failed: ") + std::strerror(errno));
  }
  if (!S_ISREG(info.st_mode)) return KeyUnavailable(account_id, key_ref, path, "the key path is not a regular file");
  if (static_cast<size_t>(info.st_size) > kMaxKeyFileSize) {
    return KeyUnavailable(account_id, key_ref, path, "the key file is larger than 64 KiB");
  }

  // One byte more than the stated size, so that a file growing during the read is noticed.
  std::vector<char> buffer(static_cast<size_t>(info.st_size) + 1);
  size_t filled = 0;
  while (filled < buffer.size()) {
    ssize_t count = ::read(file.get(), buffer.data() + filled, buffer.size() - filled);
    if (count < 0 && errno == EINTR) continue;
    if (count < 0) {
      int error = errno;
      OPENSSL_cleanse(buffer.data(), buffer.size());
      return KeyUnavailable(account_id, key_ref, path,
                            std::string("reading the key file failed: ") + std::strerror(error));
    }
    if (count == 0) break;
    filled += static_cast<size_t>(count);
  }
  if (filled == buffer.size()) {
    OPENSSL_cleanse(buffer.data(), buffer.size());
    return KeyUnavailable(account_id, key_ref, path, "the key file changed while it was read");
  }
  buffer.resize(filled);
  return buffer;
}

// Loads the key file and checks that it contains a P-256 private key.
Result<PkeyPtr> LoadKey(std::string_view account_id, std::string_view key_ref, const std::string& path) {
  Result<std::vector<char>> pem = ReadKeyFile(account_id, key_ref, path);
  if (!pem.ok()) return pem.status();

  PkeyPtr key(nullptr, &EVP_PKEY_free);
  {
    BioPtr bio(BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())), &BIO_free);
    if (bio) key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, &NoPassphrase, nullptr));
  }
  OPENSSL_cleanse(pem->data(), pem->size());
  // The parser leaves its failures in OpenSSL's thread-local error queue; they must not surface in
  // an unrelated later OpenSSL call of this thread.
  ERR_clear_error();
  if (!key) {
    return KeyUnavailable(account_id, key_ref, path,
                          "the key file does not contain a PEM private key (it is corrupt, encrypted or "
                          "of another format)");
  }

  if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_EC) {
    const char* type = EVP_PKEY_get0_type_name(key.get());
    return KeyUnavailable(account_id, key_ref, path,
                          std::string("the key is of type ") + (type != nullptr ? type : "unknown") + ", not P-256");
  }
  char group[64] = {};
  size_t group_size = 0;
  if (EVP_PKEY_get_utf8_string_param(key.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                     &group_size) != 1) {
    ERR_clear_error();
    return KeyUnavailable(account_id, key_ref, path, "the key is an EC key on an unnamed curve, not P-256");
  }
  if (std::strcmp(group, kP256GroupName) != 0) {
    return KeyUnavailable(account_id, key_ref, path,
                          std::string("the key is an EC key on curve ") + group + ", not P-256");
  }

  // A file with one changed character can still parse: its private scalar then no longer matches
  // the public point stored next to it, and every signature it makes would fail verification.
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr),
                                                                    &EVP_PKEY_CTX_free);
  bool consistent = check != nullptr && EVP_PKEY_pairwise_check(check.get()) == 1;
  ERR_clear_error();
  if (!consistent) {
    return KeyUnavailable(account_id, key_ref, path,
                          "the key file is damaged: its private and public parts do not match");
  }
  return key;
}

// Returns the DER SubjectPublicKeyInfo of `key`.
Result<std::string> PublicKeyDer(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  int size = i2d_PUBKEY(key, &der);
  if (size <= 0) {
    ERR_clear_error();
    return Status::Internal("encoding the public key as SubjectPublicKeyInfo failed");
  }
  std::string result(reinterpret_cast<const char*>(der), static_cast<size_t>(size));
  OPENSSL_free(der);
  return result;
}

Result<std::string> KeyId(const std::string& public_key_der) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  if (EVP_Digest(public_key_der.data(), public_key_der.size(), digest, &digest_size, EVP_sha256(), nullptr) != 1) {
    ERR_clear_error();
    return Status::Internal("SHA-256 of the public key failed");
  }
  return Hex(digest, digest_size);
}

Result<std::string> PublicKeyPemOf(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()), &BIO_free);
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key) != 1) {
    ERR_clear_error();
    return Status::Internal("encoding the public key as PEM failed");
  }
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

// Returns the DER ECDSA-Sig-Value of SHA-256(data).
Result<std::string> SignDer(EVP_PKEY* key, std::string_view data) {
  MdContextPtr context(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  size_t size = 0;
  if (!context || EVP_DigestSignInit(context.get(), nullptr, EVP_sha256(), nullptr, key) != 1 ||
      EVP_DigestSign(context.get(), nullptr, &size, reinterpret_cast<const unsigned char*>(data.data()),
                     data.size()) != 1) {
    ERR_clear_error();
    return Status::Internal("starting the ECDSA signature failed");
  }
  std::string der(size, '\0');
  if (EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(der.data()), &size,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
    ERR_clear_error();
    return Status::Internal("the ECDSA signature failed");
  }
  der.resize(size);
  return der;
}

// Converts a DER ECDSA-Sig-Value into r||s with each half zero-padded to the P-256 scalar size.
Result<std::string> DerToRaw(const std::string& der) {
  const auto* cursor = reinterpret_cast<const unsigned char*>(der.data());
  EcdsaSigPtr signature(d2i_ECDSA_SIG(nullptr, &cursor, static_cast<long>(der.size())), &ECDSA_SIG_free);
  if (!signature) {
    ERR_clear_error();
    return Status::Internal("decoding the DER ECDSA signature failed");
  }
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(signature.get(), &r, &s);

  std::string raw(2 * kP256ScalarSize, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  if (BN_bn2binpad(r, out, kP256ScalarSize) != static_cast<int>(kP256ScalarSize) ||
      BN_bn2binpad(s, out + kP256ScalarSize, kP256ScalarSize) != static_cast<int>(kP256ScalarSize)) {
    ERR_clear_error();
    return Status::Internal("the ECDSA signature does not fit the P-256 size");
  }
  return raw;
}

// Creates `path` as a directory with mode 0700 when it does not exist yet. An existing directory
// keeps its mode, so that an operator's choice is not overridden.
Status MakePrivateDirectory(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) == 0) {
    // mkdir applies the umask; chmod sets exactly 0700.
    if (::chmod(path.c_str(), 0700) != 0) {
      return Status::Internal("cannot set mode 0700 on key directory " + path + ": " + std::strerror(errno));
    }
    return Status::Ok();
  }
  if (errno != EEXIST) {
    return Status::Internal("cannot create key directory " + path + ": " + std::strerror(errno));
  }
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
    return Status::Internal("key directory " + path + " exists but is not a directory");
  }
  return Status::Ok();
}

// Creates every missing ancestor of the store's root (mode 0755 after the umask), then the root.
Status MakeRootDirectory(const std::string& directory) {
  std::filesystem::path parent = std::filesystem::path(directory).parent_path();
  if (!parent.empty()) {
    std::error_code error;
    std::filesystem::create_directories(parent, error);
    if (error) return Status::Internal("cannot create " + parent.string() + ": " + error.message());
  }
  return MakePrivateDirectory(directory);
}

Result<std::string> RandomSuffix() {
  unsigned char bytes[8];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    ERR_clear_error();
    return Status::Internal("the random generator failed");
  }
  return Hex(bytes, sizeof(bytes));
}

// Writes `pem` to a new file `temporary` (mode 0600) and flushes it to disk.
Status WriteNewFile(const std::string& temporary, const char* pem, size_t size) {
  FileDescriptor file(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (file.get() < 0) return Status::Internal("cannot create " + temporary + ": " + std::strerror(errno));
  if (::fchmod(file.get(), 0600) != 0) {
    return Status::Internal("cannot set mode 0600 on " + temporary + ": " + std::strerror(errno));
  }
  size_t written = 0;
  while (written < size) {
    ssize_t count = ::write(file.get(), pem + written, size - written);
    if (count < 0 && errno == EINTR) continue;
    if (count < 0) return Status::Internal("writing " + temporary + " failed: " + std::strerror(errno));
    written += static_cast<size_t>(count);
  }
  if (::fsync(file.get()) != 0) return Status::Internal("fsync of " + temporary + " failed: " + std::strerror(errno));
  if (file.Close() != 0) return Status::Internal("closing " + temporary + " failed: " + std::strerror(errno));
  return Status::Ok();
}

// Moves `temporary` to `target` unless `target` exists. Sets `published` to false when another
// process created `target` first; that key is kept.
Status PublishWithoutReplacing(const std::string& temporary, const std::string& target, bool& published) {
  published = false;
  if (::renameat2(AT_FDCWD, temporary.c_str(), AT_FDCWD, target.c_str(), RENAME_NOREPLACE) == 0) {
    published = true;
    return Status::Ok();
  }
  if (errno == EEXIST) return Status::Ok();
  if (errno != EINVAL && errno != ENOSYS) {
    return Status::Internal("cannot rename " + temporary + " to " + target + ": " + std::strerror(errno));
  }

  // The file system has no RENAME_NOREPLACE; a hard link also fails when the target exists.
  if (::link(temporary.c_str(), target.c_str()) == 0) {
    published = true;
  } else if (errno != EEXIST) {
    return Status::Internal("cannot link " + temporary + " to " + target + ": " + std::strerror(errno));
  }
  ::unlink(temporary.c_str());
  return Status::Ok();
}

void SyncDirectory(const std::string& path) {
  FileDescriptor directory(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (directory.get() >= 0) ::fsync(directory.get());
}

}  // namespace

bool IsValidKeyRef(std::string_view key_ref) {
  if (key_ref.empty() || key_ref.size() > kMaxKeyRefSize || key_ref.front() == '.') return false;
  for (char c : key_ref) {
    bool allowed = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                   c == '_' || c == '-';
    if (!allowed) return false;
  }
  return true;
}

KeyStore::KeyStore(std::string directory) : directory_(std::move(directory)) {}

Status KeyStore::EnsureKey(std::string_view account_id, std::string_view key_ref) {
  FISCAL_RETURN_IF_ERROR(CheckIds(account_id, key_ref));
  const std::string account_directory = directory_ + "/" + ToLower(account_id);
  const std::string path = account_directory + "/" + std::string(key_ref) + ".pem";

  std::lock_guard<std::mutex> lock(create_mutex_);
  FISCAL_RETURN_IF_ERROR(MakeRootDirectory(directory_));
  FISCAL_RETURN_IF_ERROR(MakePrivateDirectory(account_directory));

  struct stat existing {};
  if (::lstat(path.c_str(), &existing) == 0) return Status::Ok();
  if (errno != ENOENT) return Status::Internal("cannot check key file " + path + ": " + std::strerror(errno));

  PkeyPtr key(EVP_EC_gen("P-256"), &EVP_PKEY_free);
  if (!key) {
    ERR_clear_error();
    return Status::Internal("generating an ECDSA P-256 key failed");
  }
  // PEM_write_bio_PrivateKey writes unencrypted PKCS#8 ("BEGIN PRIVATE KEY"). A memory BIO wipes
  // its buffer when freed (BUF_MEM_free uses OPENSSL_clear_free).
  BioPtr pem(BIO_new(BIO_s_mem()), &BIO_free);
  if (!pem || PEM_write_bio_PrivateKey(pem.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    ERR_clear_error();
    return Status::Internal("encoding the new key as PKCS#8 PEM failed");
  }
  char* pem_data = nullptr;
  long pem_size = BIO_get_mem_data(pem.get(), &pem_data);

  // Written under a unique temporary name and then renamed, so that a reader never sees a
  // half-written key, and a key another host process published meanwhile is never replaced.
  Result<std::string> suffix = RandomSuffix();
  if (!suffix.ok()) return suffix.status();
  const std::string temporary = path + ".tmp." + *suffix;
  Status written = WriteNewFile(temporary, pem_data, static_cast<size_t>(pem_size));
  if (!written.ok()) {
    ::unlink(temporary.c_str());
    return written;
  }
  bool published = false;
  Status moved = PublishWithoutReplacing(temporary, path, published);
  if (!moved.ok()) {
    ::unlink(temporary.c_str());
    return moved;
  }
  if (!published) {
    ::unlink(temporary.c_str());
    return Status::Ok();
  }
  SyncDirectory(account_directory);

  Result<std::string> public_der = PublicKeyDer(key.get());
  Result<std::string> key_id = public_der.ok() ? KeyId(*public_der) : Result<std::string>(public_der.status());
  log::Info("signing key created", {{"account_id", std::string(account_id)},
                                    {"key_ref", std::string(key_ref)},
                                    {"key_id", key_id.ok() ? *key_id : std::string("unknown")}});
  return Status::Ok();
}

Result<Signature> KeyStore::Sign(std::string_view account_id, std::string_view key_ref, std::string_view data,
                                 std::string_view expected_key_id) const {
  FISCAL_RETURN_IF_ERROR(CheckIds(account_id, key_ref));
  const std::string path = directory_ + "/" + ToLower(account_id) + "/" + std::string(key_ref) + ".pem";

  Result<PkeyPtr> key = LoadKey(account_id, key_ref, path);
  if (!key.ok()) return key.status();

  Signature signature;
  Result<std::string> der = SignDer(key->get(), data);
  if (!der.ok()) return der.status();
  Result<std::string> raw = DerToRaw(*der);
  if (!raw.ok()) return raw.status();
  signature.der = std::move(*der);
  signature.raw = std::move(*raw);

  Result<std::string> public_der = PublicKeyDer(key->get());
  if (!public_der.ok()) return public_der.status();
  Result<std::string> key_id = KeyId(*public_der);
  if (!key_id.ok()) return key_id.status();
  if (!expected_key_id.empty() && *key_id != expected_key_id) {
    return KeyUnavailable(account_id, key_ref, path,
                          "the key file holds key " + *key_id + ", not the key " + std::string(expected_key_id) +
                              " registered for it; restore the register's own key file");
  }
  Result<std::string> public_pem = PublicKeyPemOf(key->get());
  if (!public_pem.ok()) return public_pem.status();
  signature.key_id = std::move(*key_id);
  signature.public_key_pem = std::move(*public_pem);
  return signature;
}

Result<std::string> KeyStore::KeyIdOf(std::string_view account_id, std::string_view key_ref) const {
  FISCAL_RETURN_IF_ERROR(CheckIds(account_id, key_ref));
  const std::string path = directory_ + "/" + ToLower(account_id) + "/" + std::string(key_ref) + ".pem";

  Result<PkeyPtr> key = LoadKey(account_id, key_ref, path);
  if (!key.ok()) return key.status();
  Result<std::string> public_der = PublicKeyDer(key->get());
  if (!public_der.ok()) return public_der.status();
  return KeyId(*public_der);
}

Result<std::string> KeyStore::PublicKeyPem(std::string_view account_id, std::string_view key_ref) const {
  FISCAL_RETURN_IF_ERROR(CheckIds(account_id, key_ref));
  const std::string path = directory_ + "/" + ToLower(account_id) + "/" + std::string(key_ref) + ".pem";

  Result<PkeyPtr> key = LoadKey(account_id, key_ref, path);
  if (!key.ok()) return key.status();
  return PublicKeyPemOf(key->get());
}

}  // namespace fiscal::keys
