#include "plugins/compatibility.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace fiscal::plugins {
namespace {

// Upper bound for the declared API table sizes. The 1.0 tables are well under 100 bytes, and even
// hundreds of appended function pointers stay below this, so a larger value means a corrupt block.
constexpr uint32_t kMaxApiTableSize = 64 * 1024;

std::string Hex(uint32_t value) {
  char buffer[16];
  std::snprintf(buffer, sizeof(buffer), "0x%08x", value);
  return buffer;
}

// Returns the NUL-terminated string stored in a fixed-size char array, or an error when the array
// has no NUL.
Result<std::string> FixedString(const std::string& label, const char* field_name, const char* data,
                                size_t size) {
  const void* nul = std::memchr(data, '\0', size);
  if (nul == nullptr) {
    return Status::Internal(label + ": invalid " + field_name + ": not NUL-terminated within its " +
                            std::to_string(size) + " bytes");
  }
  return std::string(data, static_cast<const char*>(nul) - data);
}

bool IsValidPluginName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    bool allowed = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!allowed) return false;
  }
  return true;
}

Status Mismatch(const std::string& label, const char* field, const std::string& plugin_value,
                const std::string& host_value) {
  return Status::Internal(label + ": incompatible " + field + ": plugin has " + plugin_value +
                          ", host has " + host_value);
}

Status CheckTableSize(const std::string& label, const char* field, uint32_t size, uint32_t minimum) {
  if (size < minimum || size > kMaxApiTableSize) {
    return Status::Internal(label + ": invalid " + field + ": plugin has " + std::to_string(size) +
                            ", expected between " + std::to_string(minimum) + " (ABI 1.0) and " +
                            std::to_string(kMaxApiTableSize));
  }
  return Status::Ok();
}

// Checks the binary layout fields, which decide whether the other fields can be trusted at all.
Status CheckLayout(const std::string& label, const fiscal_plugin_info& info, size_t block_size,
                   HostAbiVersion host) {
  if (info.magic == __builtin_bswap32(FISCAL_PLUGIN_MAGIC)) {
    return Status::Internal(label + ": incompatible byte order: the block was written big-endian, " +
                            "this host is little-endian");
  }
  if (info.magic != FISCAL_PLUGIN_MAGIC) {
    return Mismatch(label, "magic", Hex(info.magic), Hex(FISCAL_PLUGIN_MAGIC));
  }
  if (info.struct_size < kPluginInfoSize_1_0 || info.struct_size > block_size) {
    return Status::Internal(label + ": invalid struct_size: plugin has " + std::to_string(info.struct_size) +
                            ", expected at least " + std::to_string(kPluginInfoSize_1_0) +
                            " and at most the section size " + std::to_string(block_size));
  }
  if (info.byte_order_mark != FISCAL_BYTE_ORDER_MARK) {
    return Mismatch(label, "byte_order_mark", Hex(info.byte_order_mark), Hex(FISCAL_BYTE_ORDER_MARK));
  }
  if (info.pointer_size != sizeof(void*)) {
    return Mismatch(label, "pointer_size", std::to_string(info.pointer_size),
                    std::to_string(sizeof(void*)));
  }
  if (info.abi_major != host.major) {
    return Mismatch(label, "abi_major", std::to_string(info.abi_major), std::to_string(host.major));
  }
  if (info.abi_minor > host.minor) {
    return Status::Internal(label + ": incompatible abi_minor: plugin needs host ABI " +
                            std::to_string(info.abi_major) + "." + std::to_string(info.abi_minor) +
                            ", this host provides " + std::to_string(host.major) + "." +
                            std::to_string(host.minor));
  }
  FISCAL_RETURN_IF_ERROR(CheckTableSize(label, "host_api_size", info.host_api_size, kHostApiSize_1_0));
  FISCAL_RETURN_IF_ERROR(
      CheckTableSize(label, "plugin_api_size", info.plugin_api_size, kPluginApiSize_1_0));
  return Status::Ok();
}

}  // namespace

std::string PluginLabel(const PluginConfig& config) {
  return "plugin \"" + config.name + "\" (" + config.path + ")";
}

Result<PluginDescriptor> CheckCompatibilityBlock(std::string_view block, const PluginConfig& config,
                                                 HostAbiVersion host) {
  const std::string label = PluginLabel(config);

  // The magic and struct_size come first, so they can be read from any block of 8 bytes or more.
  if (block.size() < 2 * sizeof(uint32_t)) {
    return Status::Internal(label + ": invalid compatibility block: section " FISCAL_PLUGIN_INFO_SECTION
                            " is " + std::to_string(block.size()) + " bytes, expected at least " +
                            std::to_string(kPluginInfoSize_1_0));
  }
  fiscal_plugin_info info{};
  std::memcpy(&info, block.data(), std::min(block.size(), sizeof(info)));
  FISCAL_RETURN_IF_ERROR(CheckLayout(label, info, block.size(), host));

  Result<std::string> name = FixedString(label, "name", info.name, sizeof(info.name));
  if (!name.ok()) return name.status();
  Result<std::string> country = FixedString(label, "country", info.country, sizeof(info.country));
  if (!country.ok()) return country.status();
  Result<std::string> version = FixedString(label, "version", info.version, sizeof(info.version));
  if (!version.ok()) return version.status();

  if (!IsValidPluginName(*name)) {
    return Status::Internal(label + ": invalid name \"" + *name +
                            "\": a plugin name is non-empty and uses only a-z, 0-9, '_' and '-'");
  }
  if (version->empty()) return Status::Internal(label + ": invalid version: the version is empty");
  if (*name != config.name) {
    return Status::Internal(label + ": name mismatch: plugin has \"" + *name +
                            "\", the configuration expects \"" + config.name + "\"");
  }
  if (*country != config.country) {
    return Status::Internal(label + ": country mismatch: plugin has \"" + *country +
                            "\", the configuration expects \"" + config.country + "\"");
  }

  PluginDescriptor descriptor;
  descriptor.name = std::move(*name);
  descriptor.country = std::move(*country);
  descriptor.version = std::move(*version);
  descriptor.path = config.path;
  descriptor.abi_major = info.abi_major;
  descriptor.abi_minor = info.abi_minor;
  return descriptor;
}

}  // namespace fiscal::plugins
