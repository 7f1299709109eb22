// Tests of the configuration reader: the example file loads, and mistakes name the setting.
#include <gtest/gtest.h>

#include <stdexcept>

#include "config/config.h"

namespace fiscal::config {
namespace {

TEST(ConfigTest, ExampleFileLoads) {
  HostConfig config = LoadFromFile(std::string(FISCAL_SOURCE_DIR) + "/config/fiscal.example.json");
  EXPECT_EQ(config.http.port, 8080);
  ASSERT_EQ(config.plugins.size(), 1u);
  EXPECT_EQ(config.plugins[0].name, "spain-verifactu");
  EXPECT_EQ(config.plugins[0].endpoints.at("verifactu").at("test").timeout_ms, 30000u);
  EXPECT_FALSE(config.live_mode_enabled);
}

std::string ErrorOf(const std::string& json) {
  try {
    LoadFromJson(json, "test.json");
  } catch (const std::runtime_error& error) {
    return error.what();
  }
  return "";
}

TEST(ConfigTest, MistakesNameTheSetting) {
  EXPECT_NE(ErrorOf("{}").find("\"database\" is required"), std::string::npos);
  EXPECT_NE(ErrorOf("{\"database\":{\"connection\":1}}").find("database.connection"), std::string::npos);
  EXPECT_NE(ErrorOf("{\"database\":{\"connection\":\"x\"},\"http\":{\"port\":70000}}").find("http.port"),
            std::string::npos);
  EXPECT_NE(ErrorOf("{\"database\":{\"connection\":\"x\"},\"plugins\":[{\"name\":\"a\"}]}").find("plugins[0].country"),
            std::string::npos);
  EXPECT_NE(ErrorOf("{").find("invalid JSON"), std::string::npos);
}

}  // namespace
}  // namespace fiscal::config
