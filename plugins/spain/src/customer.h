// The invoice recipient (IDDestinatario) built from the API's customer object.
#ifndef FISCAL_SPAIN_CUSTOMER_H_
#define FISCAL_SPAIN_CUSTOMER_H_

#include <string>

#include "record_builder.h"
#include "status.h"

namespace fiscal::spain {

// Builds the IDDestinatario of a customer with a tax id. `path` is the customer's JSON path.
//   - Spanish customers (country ES or absent, or an "ES" prefix): <NIF>, with the "ES" prefix,
//     spaces and dashes removed and the check character verified (AEAT error 1100 otherwise).
//   - Customers from another EU member state: IDOtro with IDType 02 (NIF-IVA) and the ID with its
//     VAT country prefix ("EL" for Greece), CodigoPais the ISO code.
//   - Customers from outside the EU: IDOtro with IDType 04 (id of the country of residence),
//     because AEAT accepts IDType 02 only for EU VAT numbers.
// `country` may be empty. `name` is required (NombreRazon).
Status BuildDestinatario(const std::string& tax_id, const std::string& name, const std::string& country,
                         const std::string& path, Destinatario* out);

}  // namespace fiscal::spain

#endif  // FISCAL_SPAIN_CUSTOMER_H_
