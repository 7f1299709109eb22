// A location's country_config for VERI*FACTU: the issuer (obligado tributario), the invoicing
// installation and the territory whose local time the records carry.
#ifndef FISCAL_SPAIN_LOCATION_CONFIG_H_
#define FISCAL_SPAIN_LOCATION_CONFIG_H_

#include <rapidjson/document.h>

#include <string>

#include "json_util.h"
#include "local_time.h"
#include "status.h"

namespace fiscal::spain {

struct LocationConfig {
  std::string nif;                        // issuer NIF, normalised, 9 characters
  std::string legal_name;                 // NombreRazonEmisor, at most 120 characters
  std::string invoice_series;             // series prefix the host uses for invoice numbers
  std::string installation_number = "1";  // NumeroInstalacion, at most 100 characters
  Territory territory = Territory::kPeninsula;
  // IndicadorMultiplesOT. Orden HAC/1177/2024 requires the system itself to derive it from the
  // number of taxpayers it invoices for, per user in a SaaS system (AEAT developer FAQ v1.1).
  // NOTE: the host should set it from its own data, because the user must not type it in.
  bool multiple_taxpayers = false;

  // Chain key: one chain per issuer NIF and installation (OM art. 7).
  std::string ChainKey() const { return nif + ":" + installation_number; }
};

// Validates and normalises a country_config object. `path` prefixes field names in errors,
// e.g. "country_config" or "location".
Status ParseLocationConfig(const rapidjson::Value& object, const std::string& path,
                           LocationConfig* out);

// Writes the normalised config as a JSON object.
void WriteLocationConfig(JsonWriter& writer, const LocationConfig& config);

// Rejects a territory for which the plugin cannot issue correct records yet (the Canary Islands).
// Errors name "<path>.territory".
Status CheckTerritoryIssuable(const LocationConfig& config, const std::string& path);

// Implements validate_location: returns {"config": {...}, "chain_key": "<nif>:<installation>",
// "issuer_key": "<nif>"}. Invoice numbers must be unique per issuer (IDEmisorFactura), so the host
// scopes them by issuer_key, which is shared by every installation of the same NIF. Rejects keys
// the plugin does not know.
Status ValidateLocation(std::string_view config_json, std::string* result_json);

}  // namespace fiscal::spain

#endif  // FISCAL_SPAIN_LOCATION_CONFIG_H_
