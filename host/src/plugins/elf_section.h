// Reads one section of an ELF file from disk, without mapping or loading the file, so that the host
// can inspect a plugin before any of its code runs.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace fiscal::plugins {

// Returns the bytes of the section named `section_name` in the ELF64 little-endian file at `path`.
// Every offset and size in the file is checked against the file size, so a truncated or corrupt
// file gives an error, never an out-of-range read. Each error names the failed check: not an ELF
// file, not 64-bit, not little-endian, truncated, or no section of that name.
Result<std::string> ReadElfSection(const std::string& path, std::string_view section_name);

}  // namespace fiscal::plugins
