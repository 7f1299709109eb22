// Reads every file of an archive zip into memory with libarchive, rejecting what an extractor
// could misuse: absolute paths, ".." components, links, duplicate names and archives that exceed
// the entry-count or size limits.
#ifndef FISCAL_FRANCE_VERIFIER_ZIP_READER_H_
#define FISCAL_FRANCE_VERIFIER_ZIP_READER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fiscal::france::verifier {

struct ZipFile {
  std::string path;
  std::string data;
};

struct ZipLimits {
  size_t max_entries = 1000;
  uint64_t max_total_bytes = uint64_t{1} << 30;  // uncompressed, all entries together
};

// Reads the regular files of `zip` in archive order and skips directory entries. Returns false
// with the reason in *error when the zip is corrupt (bad CRC, truncated data), unsafe or over a
// limit.
bool ReadZip(std::string_view zip, const ZipLimits& limits, std::vector<ZipFile>* files,
             std::string* error);

}  // namespace fiscal::france::verifier

#endif  // FISCAL_FRANCE_VERIFIER_ZIP_READER_H_
