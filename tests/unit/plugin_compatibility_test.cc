// CheckCompatibilityBlock on blocks built in memory, one broken field at a time.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include <fiscal/plugin_abi.h>

#include "plugins/compatibility.h"

namespace fiscal::plugins {
namespace {

fiscal_plugin_info GoodBlock() {
  fiscal_plugin_info info{};
  info.magic = FISCAL_PLUGIN_MAGIC;
  info.struct_size = sizeof(fiscal_plugin_info);
  info.byte_order_mark = FISCAL_BYTE_ORDER_MARK;
  info.pointer_size = sizeof(void*);
  info.abi_major = FISCAL_ABI_MAJOR;
  info.abi_minor = 0;
  info.host_api_size = sizeof(fiscal_host_api);
  info.plugin_api_size = sizeof(fiscal_plugin_api);
  std::strcpy(info.name, "spain-verifactu");
  std::strcpy(info.country, "ES");
  std::strcpy(info.version, "1.2.3");
  return info;
}

PluginConfig Config() {
  PluginConfig config;
  config.name = "spain-verifactu";
  config.country = "ES";
  config.system = "verifactu";
  config.path = "/plugins/spain.so";
  return config;
}

std::string Bytes(const fiscal_plugin_info& info) {
  return std::string(reinterpret_cast<const char*>(&info), sizeof(info));
}

// Returns the error message for `info`, or "" when the block is accepted.
std::string ErrorFor(const fiscal_plugin_info& info, HostAbiVersion host = {}) {
  Result<PluginDescriptor> checked = CheckCompatibilityBlock(Bytes(info), Config(), host);
  return checked.ok() ? "" : checked.status().message();
}

constexpr char kPrefix[] = "plugin \"spain-verifactu\" (/plugins/spain.so): ";

TEST(CompatibilityTest, GoodBlockAccepted) {
  Result<PluginDescriptor> checked = CheckCompatibilityBlock(Bytes(GoodBlock()), Config());

  ASSERT_TRUE(checked.ok()) << checked.status().ToString();
  EXPECT_EQ(checked->name, "spain-verifactu");
  EXPECT_EQ(checked->country, "ES");
  EXPECT_EQ(checked->version, "1.2.3");
  EXPECT_EQ(checked->path, "/plugins/spain.so");
  EXPECT_EQ(checked->abi_major, 1u);
  EXPECT_EQ(checked->abi_minor, 0u);
}

TEST(CompatibilityTest, WrongMagic) {
  fiscal_plugin_info info = GoodBlock();
  info.magic = 0xdeadbeef;
  EXPECT_EQ(ErrorFor(info), std::string(kPrefix) + "incompatible magic: plugin has 0xdeadbeef, host has 0x43534946");
}

TEST(CompatibilityTest, BigEndianBlock) {
  fiscal_plugin_info info = GoodBlock();
  info.magic = __builtin_bswap32(FISCAL_PLUGIN_MAGIC);
  EXPECT_NE(ErrorFor(info).find("incompatible byte order"), std::string::npos) << ErrorFor(info);
}

TEST(CompatibilityTest, WrongByteOrderMark) {
  fiscal_plugin_info info = GoodBlock();
  info.byte_order_mark = 0x04030201;
  EXPECT_EQ(ErrorFor(info),
            std::string(kPrefix) + "incompatible byte_order_mark: plugin has 0x04030201, host has 0x01020304");
}

TEST(CompatibilityTest, StructSizeTooSmall) {
  fiscal_plugin_info info = GoodBlock();
  info.struct_size = 16;
  EXPECT_NE(ErrorFor(info).find("invalid struct_size: plugin has 16"), std::string::npos) << ErrorFor(info);
}

TEST(CompatibilityTest, StructSizeBeyondSection) {
  fiscal_plugin_info info = GoodBlock();
  info.struct_size = sizeof(info) + 4;
  EXPECT_NE(ErrorFor(info).find("at most the section size 104"), std::string::npos) << ErrorFor(info);
}

TEST(CompatibilityTest, LargerBlockFromNewerHeaderAccepted) {
  fiscal_plugin_info info = GoodBlock();
  info.struct_size = sizeof(info) + 8;
  std::string bytes = Bytes(info) + std::string(8, '\0');
  EXPECT_TRUE(CheckCompatibilityBlock(bytes, Config()).ok());
}

TEST(CompatibilityTest, ShortSection) {
  Result<PluginDescriptor> checked = CheckCompatibilityBlock("FISC", Config());
  ASSERT_FALSE(checked.ok());
  EXPECT_NE(checked.status().message().find("section fiscal_plugin_info is 4 bytes"), std::string::npos)
      << checked.status().message();
}

TEST(CompatibilityTest, WrongPointerSize) {
  fiscal_plugin_info info = GoodBlock();
  info.pointer_size = 4;
  EXPECT_EQ(ErrorFor(info), std::string(kPrefix) + "incompatible pointer_size: plugin has 4, host has 8");
}

TEST(CompatibilityTest, WrongMajor) {
  fiscal_plugin_info info = GoodBlock();
  info.abi_major = 2;
  EXPECT_EQ(ErrorFor(info), std::string(kPrefix) + "incompatible abi_major: plugin has 2, host has 1");
}

TEST(CompatibilityTest, NewerMinorRejected) {
  fiscal_plugin_info info = GoodBlock();
  info.abi_minor = 3;
  EXPECT_EQ(ErrorFor(info, HostAbiVersion{1, 2}),
            std::string(kPrefix) + "incompatible abi_minor: plugin needs host ABI 1.3, this host provides 1.2");
}

TEST(CompatibilityTest, OlderMinorAccepted) {
  fiscal_plugin_info info = GoodBlock();
  info.abi_minor = 1;
  EXPECT_EQ(ErrorFor(info, HostAbiVersion{1, 2}), "");
}

TEST(CompatibilityTest, TableSizes) {
  fiscal_plugin_info info = GoodBlock();
  info.host_api_size = 8;
  EXPECT_NE(ErrorFor(info).find("invalid host_api_size: plugin has 8"), std::string::npos) << ErrorFor(info);

  info = GoodBlock();
  info.plugin_api_size = 1u << 30;
  EXPECT_NE(ErrorFor(info).find("invalid plugin_api_size"), std::string::npos) << ErrorFor(info);

  info = GoodBlock();
  info.plugin_api_size = sizeof(fiscal_plugin_api) + 16;
  EXPECT_EQ(ErrorFor(info), "");
}

TEST(CompatibilityTest, UnterminatedStrings) {
  fiscal_plugin_info info = GoodBlock();
  std::memset(info.name, 'a', sizeof(info.name));
  EXPECT_EQ(ErrorFor(info), std::string(kPrefix) + "invalid name: not NUL-terminated within its 32 bytes");

  info = GoodBlock();
  std::memset(info.country, 'E', sizeof(info.country));
  EXPECT_EQ(ErrorFor(info), std::string(kPrefix) + "invalid country: not NUL-terminated within its 8 bytes");

  info = GoodBlock();
  std::memset(info.version, '1', sizeof(info.version));
  EXPECT_EQ(ErrorFor(info), std::string(kPrefix) + "invalid version: not NUL-terminated within its 32 bytes");
}

TEST(CompatibilityTest, InvalidNameCharacters) {
  fiscal_plugin_info info = GoodBlock();
  std::strcpy(info.name, "Spain Verifactu");
  EXPECT_NE(ErrorFor(info).find("invalid name \"Spain Verifactu\""), std::string::npos) << ErrorFor(info);
}

TEST(CompatibilityTest, EmptyVersion) {
  fiscal_plugin_info info = GoodBlock();
  info.version[0] = '\0';
  EXPECT_EQ(ErrorFor(info), std::string(kPrefix) + "invalid version: the version is empty");
}

TEST(CompatibilityTest, NameMismatch) {
  fiscal_plugin_info info = GoodBlock();
  std::strcpy(info.name, "spain-ticketbai");
  EXPECT_EQ(ErrorFor(info), std::string(kPrefix) +
                                "name mismatch: plugin has \"spain-ticketbai\", the configuration expects "
                                "\"spain-verifactu\"");
}

TEST(CompatibilityTest, CountryMismatch) {
  fiscal_plugin_info info = GoodBlock();
  std::strcpy(info.country, "FR");
  EXPECT_EQ(ErrorFor(info),
            std::string(kPrefix) + "country mismatch: plugin has \"FR\", the configuration expects \"ES\"");
}

}  // namespace
}  // namespace fiscal::plugins
