// The plugin configuration given to create(): who produces the invoicing system and how it is
// named, as written in every record's SistemaInformatico block.
#ifndef FISCAL_SPAIN_SYSTEM_INFO_H_
#define FISCAL_SPAIN_SYSTEM_INFO_H_

#include <string>
#include <string_view>

#include "status.h"

namespace fiscal::spain {

inline constexpr std::string_view kPluginVersion = "1.0.0";

// Producer data. The defaults are test placeholders: B00000000 only has a valid control digit.
// NOTE: a production deployment must configure the producer's real NIF, name, system id and
// version, as declared in the producer's declaración responsable.
struct SystemInfo {
  std::string producer_nif = "B00000000";
  std::string producer_name = "Fiscal Server Project";
  std::string system_name = "Fiscal Server";  // NombreSistemaInformatico, at most 30 characters
  std::string system_id = "FS";               // IdSistemaInformatico, 2 characters [A-Z0-9]
  std::string system_version = std::string(kPluginVersion);  // Version, at most 50 characters
};

// Parses the plugin configuration ("{}" gives the defaults). Errors name "config.<field>".
Status ParseSystemInfo(std::string_view config_json, SystemInfo* out);

}  // namespace fiscal::spain

#endif  // FISCAL_SPAIN_SYSTEM_INFO_H_
