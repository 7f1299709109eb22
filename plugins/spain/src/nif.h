// Spanish tax identifiers (NIF): DNI, NIE, the K/L/M personal NIFs and the legal-entity NIF
// (formerly CIF), with their check characters.
#ifndef FISCAL_SPAIN_NIF_H_
#define FISCAL_SPAIN_NIF_H_

#include <string>
#include <string_view>

namespace fiscal::spain {

// Upper-cases the text and removes spaces, dashes and dots, which people type inside tax ids.
std::string NormaliseTaxId(std::string_view text);

// Normalises a Spanish NIF and removes a leading "ES" VAT prefix (an "ES" prefix makes AEAT
// reject the NIF with error 1100).
std::string NormaliseSpanishNif(std::string_view text);

// Checks a normalised 9-character NIF. Returns an empty string when valid, else what is wrong:
//   - DNI: 8 digits + check letter (number mod 23 in "TRWAGMYFPDXBNJZSQVHLCKE");
//   - NIE: X, Y or Z (read as 0, 1, 2) + 7 digits + check letter;
//   - K, L, M personal NIFs: letter + 7 digits + check letter over the 7 digits;
//   - legal entities: organisation letter + 7 digits + control character, a digit for A B E H,
//     a letter for P Q R S N W, either for the rest.
std::string CheckSpanishNif(std::string_view nif);

}  // namespace fiscal::spain

#endif  // FISCAL_SPAIN_NIF_H_
