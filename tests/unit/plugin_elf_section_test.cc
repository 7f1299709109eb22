// ReadElfSection on real corpus libraries and on damaged copies of them.
#include <elf.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <fiscal/plugin_abi.h>

#include "plugins/elf_section.h"

namespace fiscal::plugins {
namespace {

std::string GoodPlugin() { return std::string(FISCAL_PLUGIN_DIR) + "/corpus/good.so"; }

std::string ReadBytes(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
}

class ElfSectionTest : public testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(GoodPlugin())) {
      GTEST_SKIP() << "plugin corpus not built: " << GoodPlugin() << " is missing";
    }
    path_ = (std::filesystem::path(testing::TempDir()) / ("elf_" + std::to_string(::getpid()))).string();
  }
  void TearDown() override {
    if (!path_.empty()) std::filesystem::remove(path_);
  }

  void Write(const std::string& bytes) {
    std::ofstream file(path_, std::ios::binary | std::ios::trunc);
    file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }

  // Returns the error message of reading the info section from the file written last.
  std::string ErrorOf() {
    Result<std::string> section = ReadElfSection(path_, FISCAL_PLUGIN_INFO_SECTION);
    EXPECT_FALSE(section.ok());
    return section.ok() ? "" : section.status().message();
  }

  std::string path_;
};

TEST_F(ElfSectionTest, ReadsInfoSection) {
  Result<std::string> section = ReadElfSection(GoodPlugin(), FISCAL_PLUGIN_INFO_SECTION);

  ASSERT_TRUE(section.ok()) << section.status().ToString();
  ASSERT_EQ(section->size(), sizeof(fiscal_plugin_info));
  fiscal_plugin_info info;
  std::memcpy(&info, section->data(), sizeof(info));
  EXPECT_EQ(info.magic, FISCAL_PLUGIN_MAGIC);
  EXPECT_STREQ(info.name, "corpus-good");
}

TEST_F(ElfSectionTest, MissingSection) {
  Result<std::string> section = ReadElfSection(GoodPlugin(), "no_such_section");

  ASSERT_FALSE(section.ok());
  EXPECT_NE(section.status().message().find("no section named no_such_section"), std::string::npos)
      << section.status().message();
}

TEST_F(ElfSectionTest, NonElfFile) {
  Write("#!/bin/sh\necho this is a script\n");
  EXPECT_NE(ErrorOf().find("not an ELF file"), std::string::npos);
}

TEST_F(ElfSectionTest, EmptyFile) {
  Write("");
  EXPECT_NE(ErrorOf().find("not an ELF file (only 0 bytes long)"), std::string::npos);
}

TEST_F(ElfSectionTest, MissingFile) {
  Result<std::string> section = ReadElfSection(path_ + ".missing", FISCAL_PLUGIN_INFO_SECTION);
  ASSERT_FALSE(section.ok());
  EXPECT_NE(section.status().message().find("cannot open"), std::string::npos) << section.status().message();
}

TEST_F(ElfSectionTest, TruncatedFile) {
  std::string bytes = ReadBytes(GoodPlugin());
  ASSERT_GT(bytes.size(), 4096u);
  Write(bytes.substr(0, 4096));

  std::string error = ErrorOf();
  EXPECT_NE(error.find("truncated or corrupt ELF file"), std::string::npos) << error;
  EXPECT_NE(error.find("beyond the end of the file (4096 bytes)"), std::string::npos) << error;
}

TEST_F(ElfSectionTest, TruncatedHeader) {
  Write(ReadBytes(GoodPlugin()).substr(0, 40));
  std::string error = ErrorOf();
  EXPECT_NE(error.find("truncated or corrupt ELF file: ELF header"), std::string::npos) << error;
}

TEST_F(ElfSectionTest, ThirtyTwoBitFile) {
  std::string bytes = ReadBytes(GoodPlugin());
  bytes[EI_CLASS] = ELFCLASS32;
  Write(bytes);
  std::string error = ErrorOf();
  EXPECT_NE(error.find("not a 64-bit ELF file"), std::string::npos) << error;
}

TEST_F(ElfSectionTest, BigEndianFile) {
  std::string bytes = ReadBytes(GoodPlugin());
  bytes[EI_DATA] = ELFDATA2MSB;
  Write(bytes);
  std::string error = ErrorOf();
  EXPECT_NE(error.find("not a little-endian ELF file"), std::string::npos) << error;
}

TEST_F(ElfSectionTest, SectionOffsetOutsideFile) {
  std::string bytes = ReadBytes(GoodPlugin());
  Elf64_Ehdr header;
  std::memcpy(&header, bytes.data(), sizeof(header));
  Elf64_Shdr names;
  std::memcpy(&names, bytes.data() + header.e_shoff + header.e_shstrndx * sizeof(Elf64_Shdr), sizeof(names));

  // Point the info section's data past the end of the file.
  bool patched = false;
  for (uint64_t index = 0; index < header.e_shnum; ++index) {
    size_t offset = header.e_shoff + index * sizeof(Elf64_Shdr);
    Elf64_Shdr section;
    std::memcpy(&section, bytes.data() + offset, sizeof(section));
    if (std::strcmp(bytes.data() + names.sh_offset + section.sh_name, FISCAL_PLUGIN_INFO_SECTION) != 0) continue;
    section.sh_offset = bytes.size() - 8;
    std::memcpy(bytes.data() + offset, &section, sizeof(section));
    patched = true;
  }
  ASSERT_TRUE(patched);
  Write(bytes);

  std::string error = ErrorOf();
  EXPECT_NE(error.find("section fiscal_plugin_info at offset"), std::string::npos) << error;
  EXPECT_NE(error.find("lies beyond the end of the file"), std::string::npos) << error;
}

TEST_F(ElfSectionTest, SectionTableOutsideFile) {
  std::string bytes = ReadBytes(GoodPlugin());
  Elf64_Ehdr header;
  std::memcpy(&header, bytes.data(), sizeof(header));
  header.e_shoff = 0xffffffffffff0000ull;
  std::memcpy(bytes.data(), &header, sizeof(header));
  Write(bytes);

  std::string error = ErrorOf();
  EXPECT_NE(error.find("truncated or corrupt ELF file: section header 0"), std::string::npos) << error;
}

}  // namespace
}  // namespace fiscal::plugins
