// Strict certification on a real host: an unsigned plugin is refused before it is loaded, and the
// same build signed by a trusted certifier with packaging/sign-plugin.sh loads after a reload.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "harness.h"

namespace fiscal::testing {
namespace {

namespace fs = std::filesystem;

TEST(CertificationTest, StrictModeNeedsSignedBuild) {
  std::string missing = MissingEnvironment();
  if (!missing.empty()) GTEST_SKIP() << missing;
  ResetEmulator();

  // A private plugin folder with one installed version, unsigned for now.
  fs::path root = fs::path(std::getenv("FISCAL_TEST_WORK_DIR") ? std::getenv("FISCAL_TEST_WORK_DIR") : "/tmp") /
                  ("certification-" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::path installed = root / "plugins" / "spain-verifactu" / "1.0.0";
  fs::create_directories(installed);
  fs::path library = installed / "libfiscal_spain_verifactu.so";
  fs::copy_file(std::string(FISCAL_PLUGIN_DIR) + "/spain-verifactu/1.0.0/libfiscal_spain_verifactu.so", library);

  std::string sign = std::string("bash ") + FISCAL_SOURCE_DIR + "/packaging/sign-plugin.sh";
  ASSERT_EQ(std::system((sign + " --new-key " + (root / "keys").string() + " >/dev/null").c_str()), 0);

  TestDatabase database;
  HostOptions options;
  options.spain_version = "1.0.0";
  options.plugin_dir = (root / "plugins").string();
  options.plugin_trust_json = "{\"mode\":\"strict\",\"trusted_keys\":[\"" + (root / "keys" / "plugin-signing.pub").string() + "\"]}";
  HostProcess host(database, options);

  HttpResult health = HttpCall("GET", host.base_url() + "/health");
  EXPECT_NE(health.body.find("strict mode needs a certified build"), std::string::npos) << health.body;
  EXPECT_NE(health.body.find("\"loaded\":false"), std::string::npos) << health.body;

  // The certifier signs the build; the operator reloads.
  std::string certification = (root / "certification.json").string();
  ASSERT_EQ(std::system(("echo '{\"authority\":\"AEAT\",\"registration_id\":\"TEST-0001\"}' > " + certification).c_str()), 0);
  ASSERT_EQ(std::system((sign + " " + library.string() + " " + (root / "keys" / "plugin-signing.key").string() + " " +
                         certification + " >/dev/null").c_str()),
            0);
  std::vector<std::string> admin = {std::string("Authorization: Bearer ") + kAdminToken};
  HttpResult reloaded = HttpCall("POST", host.base_url() + "/v1/admin/plugins/spain-verifactu/reload", "", admin);
  ASSERT_EQ(reloaded.status, 200) << reloaded.body;
  EXPECT_NE(reloaded.body.find("\"certified\":true"), std::string::npos) << reloaded.body;
  EXPECT_NE(reloaded.body.find("TEST-0001"), std::string::npos) << reloaded.body;

  // One byte changed in the installed file: the reload is refused and the signed build keeps serving.
  {
    std::fstream file(library, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(100);
    file.put('\x7f');
  }
  HttpResult tampered = HttpCall("POST", host.base_url() + "/v1/admin/plugins/spain-verifactu/reload", "", admin);
  EXPECT_EQ(tampered.status, 409) << tampered.body;
  EXPECT_NE(tampered.body.find("does not match manifest"), std::string::npos) << tampered.body;
  EXPECT_EQ(HttpCall("GET", host.base_url() + "/health").status, 200);

  host.Stop();
  fs::remove_all(root);
}

}  // namespace
}  // namespace fiscal::testing
