// Checks a plugin's static compatibility block (fiscal_plugin_info), read from the library file
// before dlopen, against this host and against the plugin's configuration.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <fiscal/plugin_abi.h>

#include "common/status.h"
#include "plugins/plugin_registry.h"

namespace fiscal::plugins {

// The plugin ABI version a host implements.
struct HostAbiVersion {
  uint32_t major = FISCAL_ABI_MAJOR;
  uint32_t minor = FISCAL_ABI_MINOR;
};

// Sizes of the ABI 1.0 structs: the smallest struct_size a reader accepts. Later minors append
// members, so a newer plugin may declare larger sizes.
inline constexpr uint32_t kPluginInfoSize_1_0 = sizeof(fiscal_plugin_info);
inline constexpr uint32_t kHostApiSize_1_0 =
    offsetof(fiscal_host_api, http_send) + sizeof(fiscal_host_api::http_send);
inline constexpr uint32_t kPluginApiSize_1_0 =
    offsetof(fiscal_plugin_api, render_receipt) + sizeof(fiscal_plugin_api::render_receipt);

// Returns `plugin "name" (path)`, the prefix of every load error.
std::string PluginLabel(const PluginConfig& config);

// Checks `block`, the bytes of the FISCAL_PLUGIN_INFO_SECTION section, field by field: magic,
// struct_size, byte order mark, pointer size, ABI major and minor, the API table sizes, the
// NUL-terminated strings, and that name and country equal the configured ones. Returns the
// descriptor fields read from the block (name, country, version, ABI version, path), or an error
// naming the first field that does not match and both values.
Result<PluginDescriptor> CheckCompatibilityBlock(std::string_view block, const PluginConfig& config,
                                                 HostAbiVersion host = {});

}  // namespace fiscal::plugins
