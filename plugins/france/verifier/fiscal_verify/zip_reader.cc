#include "fiscal_verify/zip_reader.h"

#include <archive.h>
#include <archive_entry.h>

#include <memory>
#include <set>

namespace fiscal::france::verifier {
namespace {

struct ArchiveReadDeleter {
  void operator()(struct archive* handle) const { archive_read_free(handle); }
};

std::string LibarchiveError(struct archive* handle) {
  const char* reason = archive_error_string(handle);
  return reason != nullptr ? reason : "unknown libarchive error";
}

// A relative path of '/'-separated components, none empty, "." or "..", without backslashes or
// control characters, so that extracting it cannot write outside the target directory. Directory
// entries end with one '/'.
bool IsSafePath(std::string_view path) {
  if (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (path.empty() || path.front() == '/') return false;
  for (char c : path) {
    auto byte = static_cast<unsigned char>(c);
    if (c == '\\' || byte < 0x20 || byte == 0x7f) return false;
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view component = path.substr(start, end - start);
    if (component.empty() || component == "." || component == "..") return false;
    start = end + 1;
  }
  return true;
}

}  // namespace

bool ReadZip(std::string_view zip, const ZipLimits& limits, std::vector<ZipFile>* files,
             std::string* error) {
  files->clear();
  std::unique_ptr<struct archive, ArchiveReadDeleter> reader(archive_read_new());
  if (!reader) {
    *error = "libarchive could not allocate a reader";
    return false;
  }
  archive_read_support_format_zip(reader.get());
  if (archive_read_open_memory(reader.get(), zip.data(), zip.size()) != ARCHIVE_OK) {
    *error = "not a readable zip: " + LibarchiveError(reader.get());
    return false;
  }

  std::set<std::string> seen;
  size_t entry_count = 0;
  uint64_t total_bytes = 0;
  while (true) {
    archive_entry* entry = nullptr;
    int status = archive_read_next_header(reader.get(), &entry);
    if (status == ARCHIVE_EOF) break;
    if (status != ARCHIVE_OK) {
      *error = "invalid zip entry header: " + LibarchiveError(reader.get());
      return false;
    }
    if (++entry_count > limits.max_entries) {
      *error = "the zip has more than " + std::to_string(limits.max_entries) + " entries";
      return false;
    }
    const char* raw_path = archive_entry_pathname(entry);
    std::string path = raw_path != nullptr ? raw_path : "";
    if (!IsSafePath(path)) {
      *error = "entry name \"" + path + "\" is absolute, contains \"..\" or is otherwise unsafe";
      return false;
    }
    if (archive_entry_filetype(entry) == AE_IFDIR) continue;
    if (archive_entry_filetype(entry) != AE_IFREG || archive_entry_hardlink(entry) != nullptr) {
      *error = "entry " + path + " is not a regular file";
      return false;
    }
    if (archive_entry_is_encrypted(entry)) {
      *error = "entry " + path + " is encrypted";
      return false;
    }
    if (!seen.insert(path).second) {
      *error = "entry " + path + " appears twice";
      return false;
    }

    ZipFile file{path, ""};
    char buffer[64 * 1024];
    while (true) {
      la_ssize_t read = archive_read_data(reader.get(), buffer, sizeof(buffer));
      if (read == 0) break;
      if (read < 0) {
        *error = "corrupt data in entry " + path + ": " + LibarchiveError(reader.get());
        return false;
      }
      total_bytes += static_cast<uint64_t>(read);
      if (total_bytes > limits.max_total_bytes) {
        *error =
            "the zip expands to more than " + std::to_string(limits.max_total_bytes) + " bytes";
        return false;
      }
      file.data.append(buffer, static_cast<size_t>(read));
    }
    files->push_back(std::move(file));
  }
  return true;
}

}  // namespace fiscal::france::verifier
