// IVA rates that AEAT accepts in a DetalleDesglose with Impuesto 01 and CalificacionOperacion S1
// (AEAT "Validaciones y errores" v1.2.0, rule 15.1 for TipoImpositivo).
#ifndef FISCAL_SPAIN_IVA_RATES_H_
#define FISCAL_SPAIN_IVA_RATES_H_

#include <string>
#include <string_view>

namespace fiscal::spain {

// Checks a TipoImpositivo accepted by IsTaxRate ("21.00") against the rates valid on the
// operation date `date` (yyyymmdd): 0, 4, 10 and 21 always, 5 from 01-07-2022 to 30-09-2024,
// 2 and 7.5 from 01-10-2024 to 31-12-2024. Returns an empty string when the rate is valid,
// else a sentence that names the rates allowed on that date.
std::string CheckIvaRate(std::string_view tax_rate, int date);

}  // namespace fiscal::spain

#endif  // FISCAL_SPAIN_IVA_RATES_H_
