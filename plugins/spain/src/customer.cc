#include "customer.h"

#include <cctype>
#include <string_view>

#include "nif.h"
#include "text_rules.h"

namespace fiscal::spain {
namespace {

// VAT number prefix of an EU member state given its ISO 3166-1 code, or "" outside the EU.
std::string EuVatPrefix(std::string_view iso_country) {
  static constexpr std::string_view kMembers[] = {"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES",
                                                  "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU",
                                                  "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"};
  for (std::string_view member : kMembers) {
    if (member == iso_country) return iso_country == "GR" ? "EL" : std::string(iso_country);
  }
  return "";
}

// ISO country code for a two-letter tax id prefix (Greek VAT numbers use "EL").
std::string CountryOfPrefix(std::string_view prefix) {
  if (prefix == "EL") return "GR";
  return std::string(prefix);
}

bool StartsWithTwoLetters(const std::string& text) {
  return text.size() > 2 && std::isalpha(static_cast<unsigned char>(text[0])) &&
         std::isalpha(static_cast<unsigned char>(text[1]));
}

}  // namespace

Status BuildDestinatario(const std::string& tax_id, const std::string& name, const std::string& country,
                         const std::string& path, Destinatario* out) {
  Destinatario destinatario;

  std::string name_field = path + ".name";
  destinatario.NombreRazon = std::string(TrimAsciiSpace(name));
  if (destinatario.NombreRazon.empty()) {
    return Status::Invalid(name_field, name_field + " is missing: a full invoice (customer with a "
                                                    "tax_id) must name the customer");
  }
  std::string problem = CheckFreeText(destinatario.NombreRazon, 120, false);
  if (!problem.empty()) return Status::Invalid(name_field, name_field + " " + problem);

  std::string id_field = path + ".tax_id";
  std::string id = NormaliseTaxId(tax_id);
  std::string iso_country = NormaliseTaxId(country);
  if (!iso_country.empty() && iso_country.size() != 2) {
    return Status::Invalid(path + ".country", path + ".country must be an ISO 3166-1 alpha-2 code");
  }

  // An EU VAT prefix on the tax id names its country; it must agree with customer.country. Other
  // letters are left alone because ids from outside the EU may start with letters.
  std::string prefix_country;
  if (StartsWithTwoLetters(id)) {
    std::string candidate = CountryOfPrefix(id.substr(0, 2));
    if (!EuVatPrefix(candidate).empty()) prefix_country = candidate;
  }
  if (!prefix_country.empty() && !iso_country.empty() && prefix_country != iso_country) {
    return Status::Invalid(id_field, id_field + " starts with the country prefix " + id.substr(0, 2) +
                                         " but " + path + ".country is " + iso_country +
                                         ": make them agree");
  }
  if (iso_country.empty()) iso_country = prefix_country.empty() ? "ES" : prefix_country;

  if (iso_country == "ES") {
    destinatario.NIF = NormaliseSpanishNif(id);
    problem = CheckSpanishNif(destinatario.NIF);
    if (!problem.empty()) {
      return Status::Invalid(id_field, id_field + " \"" + tax_id + "\" is not a valid Spanish NIF: it " +
                                           problem + ". Check the customer's NIF, or set " + path +
                                           ".country for a foreign customer.");
    }
    *out = std::move(destinatario);
    return Status::Ok();
  }

  std::string vat_prefix = EuVatPrefix(iso_country);
  destinatario.CodigoPais = iso_country;
  if (!vat_prefix.empty()) {
    destinatario.IDType = "02";
    destinatario.ID = prefix_country.empty() ? vat_prefix + id : id;
  } else {
    destinatario.IDType = "04";
    destinatario.ID = id;
  }

  if (destinatario.ID.size() <= 2 || destinatario.ID.size() > 20 ||
      !IsValidSeriesText(destinatario.ID)) {
    return Status::Invalid(id_field, id_field + " must be a tax id of at most 20 printable ASCII "
                                                "characters (with its country prefix for EU VAT numbers)");
  }
  *out = std::move(destinatario);
  return Status::Ok();
}

}  // namespace fiscal::spain
