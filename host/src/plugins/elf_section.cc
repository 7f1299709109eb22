#include "plugins/elf_section.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <limits>

namespace fiscal::plugins {
namespace {

// Section data larger than this is not a compatibility block, and reading it whole would only waste
// memory. The host reads nothing but small metadata sections.
constexpr uint64_t kMaxSectionSize = 1 << 20;

// Owns a file descriptor and closes it on scope exit.
class FileHandle {
 public:
  explicit FileHandle(int fd) : fd_(fd) {}
  ~FileHandle() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileHandle(const FileHandle&) = delete;
  FileHandle& operator=(const FileHandle&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

class ElfFile {
 public:
  ElfFile(const std::string& path, int fd, uint64_t file_size)
      : path_(path), fd_(fd), file_size_(file_size) {}

  // Reads `size` bytes at `offset` after checking that the range lies inside the file.
  Status ReadAt(uint64_t offset, uint64_t size, void* out, std::string_view description) const {
    if (offset > file_size_ || size > file_size_ - offset) {
      return Error("truncated or corrupt ELF file: " + std::string(description) + " at offset " +
                   std::to_string(offset) + " with size " + std::to_string(size) +
                   " lies beyond the end of the file (" + std::to_string(file_size_) + " bytes)");
    }

    char* cursor = static_cast<char*>(out);
    uint64_t done = 0;
    while (done < size) {
      ssize_t n = ::pread(fd_, cursor + done, size - done, static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Error("read failed: " + std::string(std::strerror(errno)));
      if (n == 0) return Error("file shrank while it was being read");
      done += static_cast<uint64_t>(n);
    }
    return Status::Ok();
  }

  Status Error(const std::string& message) const {
    return Status::Internal("ELF file " + path_ + ": " + message);
  }

 private:
  const std::string& path_;
  int fd_;
  uint64_t file_size_;
};

// Checks the identification bytes, which are all that is read of a file too short for a header.
Status CheckIdentification(const ElfFile& file, const unsigned char* ident) {
  if (std::memcmp(ident, ELFMAG, SELFMAG) != 0) {
    return file.Error("not an ELF file (the first 4 bytes are not 0x7f 'E' 'L' 'F')");
  }
  if (ident[EI_CLASS] != ELFCLASS64) {
    return file.Error("not a 64-bit ELF file (EI_CLASS is " + std::to_string(ident[EI_CLASS]) +
                      ", expected " + std::to_string(ELFCLASS64) + "), and this host loads only ELF64");
  }
  if (ident[EI_DATA] != ELFDATA2LSB) {
    return file.Error("not a little-endian ELF file (EI_DATA is " + std::to_string(ident[EI_DATA]) +
                      ", expected " + std::to_string(ELFDATA2LSB) + ")");
  }
  return Status::Ok();
}

Status CheckSectionTable(const ElfFile& file, const Elf64_Ehdr& header) {
  if (header.e_shoff == 0) return file.Error("the file has no section header table");
  if (header.e_shentsize != sizeof(Elf64_Shdr)) {
    return file.Error("invalid section header size " + std::to_string(header.e_shentsize) +
                      ", expected " + std::to_string(sizeof(Elf64_Shdr)));
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> ReadElfSection(const std::string& path, std::string_view section_name) {
  FileHandle handle(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (handle.fd() < 0) {
    return Status::Internal("cannot open " + path + ": " + std::strerror(errno));
  }
  struct stat info {};
  if (::fstat(handle.fd(), &info) != 0) {
    return Status::Internal("cannot stat " + path + ": " + std::strerror(errno));
  }
  if (!S_ISREG(info.st_mode)) return Status::Internal(path + " is not a regular file");

  ElfFile file(path, handle.fd(), static_cast<uint64_t>(info.st_size));

  Elf64_Ehdr header{};
  if (static_cast<uint64_t>(info.st_size) < EI_NIDENT) {
    return file.Error("not an ELF file (only " + std::to_string(info.st_size) + " bytes long)");
  }
  FISCAL_RETURN_IF_ERROR(file.ReadAt(0, EI_NIDENT, header.e_ident, "ELF identification"));
  FISCAL_RETURN_IF_ERROR(CheckIdentification(file, header.e_ident));
  FISCAL_RETURN_IF_ERROR(file.ReadAt(0, sizeof(header), &header, "ELF header"));
  FISCAL_RETURN_IF_ERROR(CheckSectionTable(file, header));

  // Section 0 contains the real section count and string table index when they do not fit in the
  // 16-bit header fields (extended section numbering, see elf(5)).
  Elf64_Shdr first{};
  FISCAL_RETURN_IF_ERROR(file.ReadAt(header.e_shoff, sizeof(first), &first, "section header 0"));
  uint64_t section_count = header.e_shnum != 0 ? header.e_shnum : first.sh_size;
  uint64_t names_index = header.e_shstrndx != SHN_XINDEX ? header.e_shstrndx : first.sh_link;
  if (section_count == 0) return file.Error("the section header table is empty");
  if (section_count > std::numeric_limits<uint64_t>::max() / sizeof(Elf64_Shdr)) {
    return file.Error("invalid section count " + std::to_string(section_count));
  }
  if (names_index == SHN_UNDEF || names_index >= section_count) {
    return file.Error("invalid section name table index " + std::to_string(names_index) + " (" +
                      std::to_string(section_count) + " sections)");
  }

  std::string table(section_count * sizeof(Elf64_Shdr), '\0');
  FISCAL_RETURN_IF_ERROR(file.ReadAt(header.e_shoff, table.size(), table.data(), "section header table"));
  auto section_at = [&table](uint64_t index) {
    Elf64_Shdr section;
    std::memcpy(&section, table.data() + index * sizeof(Elf64_Shdr), sizeof(section));
    return section;
  };

  Elf64_Shdr names_section = section_at(names_index);
  if (names_section.sh_type == SHT_NOBITS || names_section.sh_size > kMaxSectionSize * 16) {
    return file.Error("invalid section name table");
  }
  std::string names(names_section.sh_size, '\0');
  FISCAL_RETURN_IF_ERROR(
      file.ReadAt(names_section.sh_offset, names.size(), names.data(), "section name table"));

  for (uint64_t index = 0; index < section_count; ++index) {
    Elf64_Shdr section = section_at(index);
    if (section.sh_name >= names.size()) continue;

    // A name runs to the next NUL inside the table. A name without one is corrupt and skipped.
    size_t end = names.find('\0', section.sh_name);
    if (end == std::string::npos) continue;
    std::string_view name(names.data() + section.sh_name, end - section.sh_name);
    if (name != section_name) continue;

    if (section.sh_type == SHT_NOBITS) {
      return file.Error("section " + std::string(section_name) + " has no data in the file (SHT_NOBITS)");
    }
    if (section.sh_size > kMaxSectionSize) {
      return file.Error("section " + std::string(section_name) + " is " + std::to_string(section.sh_size) +
                        " bytes, more than the " + std::to_string(kMaxSectionSize) + " bytes allowed");
    }
    std::string bytes(section.sh_size, '\0');
    FISCAL_RETURN_IF_ERROR(file.ReadAt(section.sh_offset, bytes.size(), bytes.data(),
                                       "section " + std::string(section_name)));
    return bytes;
  }

  return file.Error("no section named " + std::string(section_name));
}

}  // namespace fiscal::plugins
