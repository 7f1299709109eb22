// Location configuration of the france-nf525 plugin (country_config of a French location): the
// establishment's SIRET, the register (till) id and the optional receipt mentions.
#ifndef FISCAL_FRANCE_LOCATION_H_
#define FISCAL_FRANCE_LOCATION_H_

#include <rapidjson/document.h>

#include <string>
#include <string_view>

#include "status.h"

namespace fiscal::france {

struct LocationConfig {
  std::string system;         // the host's fiscal-system selector, kept as given; may be empty
  std::string siret;          // 14 digits
  std::string register_id;    // [A-Za-z0-9_-]{1,20}
  std::string establishment;  // shop name printed on receipts; may be empty
  std::string naf;            // "47.11F"; may be empty
  std::string vat_number;     // "FR" + 2-character key + SIREN; may be empty
};

// Returns true when `siret` is 14 digits with a valid checksum: Luhn (ISO/IEC 7812) for every
// establishment, except those of La Poste (SIREN 356000000) whose digits add up to a multiple of 5,
// the rule INSEE applies to them.
bool IsValidSiret(std::string_view siret);

// Returns true when `text` is a register id: 1 to 20 characters from A-Z, a-z, 0-9, '_' and '-'.
bool IsRegisterId(std::string_view text);

// Returns the name of the register's signing key in the host's key store:
// "nf525-<siret>-<register_id>".
std::string SigningKeyRef(const LocationConfig& location);

// Reads and normalises a location config. `path` prefixes the field names in errors
// ("country_config" in validate_location, "location" in issue_record).
Status ParseLocationConfig(const rapidjson::Value& object, std::string_view path,
                           LocationConfig* out);

// Implements validate_location: returns {"config", "chain_key", "issuer_key", "signing_key",
// "features", "submission", "time_zone"}.
Status ValidateLocation(std::string_view config_json, std::string* result_json);

}  // namespace fiscal::france

#endif  // FISCAL_FRANCE_LOCATION_H_
