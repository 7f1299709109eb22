// Helpers of LoadPlugin (declared in plugins/plugin_registry.h) that tests and tools also use.
#pragma once

#include <string>

#include <fiscal/plugin_abi.h>

#include "common/status.h"

namespace fiscal::plugins {

// Returns the SHA-256 of the file at `path` as 64 lower-case hex digits.
Result<std::string> Sha256OfFile(const std::string& path);

// Checks the table a plugin's entry point returned: struct_size covers ABI 1.0, abi_minor is at
// least the minor the compatibility block declares, and no ABI 1.0 function is null. `label` starts
// each error message.
Status CheckPluginApi(const fiscal_plugin_api* api, uint32_t needed_minor, const std::string& label);

}  // namespace fiscal::plugins
