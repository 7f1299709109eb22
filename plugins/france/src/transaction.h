// The "transaction" object of issue_record, read with exact cents and checked for consistency:
// every line, the VAT breakdown, the totals and the payments. A ticket's document carries all of
// them, so the signature covers every line and every payment.
#ifndef FISCAL_FRANCE_TRANSACTION_H_
#define FISCAL_FRANCE_TRANSACTION_H_

#include <rapidjson/document.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "json_util.h"
#include "status.h"
#include "totals.h"

namespace fiscal::france {

// Most lines one ticket may have.
inline constexpr size_t kMaxLines = 1000;
// Most payments one ticket may have.
inline constexpr size_t kMaxPayments = 100;

struct TicketLine {
  std::string description;
  std::string quantity;    // decimal text as sent ("2", "-0.5" on refunds)
  std::string unit_price;  // decimal text as sent
  int32_t rate = 0;        // hundredths of a percent
  int64_t amount = 0;      // cents, tax included
};

struct VatLine {
  int32_t rate = 0;
  int64_t base = 0;
  int64_t tax = 0;
};

struct Payment {
  std::string kind;  // "payment", or "change" for the cash handed back
  std::string method;
  int64_t amount = 0;
};

struct Customer {
  std::string tax_id;
  std::string name;
  std::string country;
  std::string address;
};

struct TicketTransaction {
  std::string id;
  std::string type;
  std::string invoice_number;
  std::string timestamp;  // the client's own time, as sent
  std::string currency;
  std::string description;
  std::vector<TicketLine> lines;
  std::vector<VatLine> vat;  // as sent, in order
  int64_t pretax = 0;
  int64_t tax = 0;
  int64_t total = 0;
  std::vector<Payment> payments;
  std::optional<Customer> customer;

  // Total including tax per rate (base + tax of each breakdown entry).
  RateAmounts VatTotals() const;
};

// Sign every amount of the transaction must have: positive for a sale, negative for a refund (the
// host negates refunds), either for a reprint of a record whose sign is checked elsewhere.
enum class AmountSign { kPositive, kNegative, kAny };

// Reads the transaction at `path` ("transaction"). Checks that each line's rate appears in the
// breakdown, that base + tax of each rate equals its lines, that pretax_amount, tax_amount and
// total_amount are the sums, and that the payments cover the total. A cash payment above the
// total on a sale gets a "change" payment for the difference. Without "payments" the whole total
// is paid by "payment_method".
Status ParseTransaction(const rapidjson::Value& object, std::string_view path, AmountSign sign,
                        TicketTransaction* out);

// Writes the members "transaction", "lines", "vat", "pretax_amount", "tax_amount",
// "total_amount", "payments" and "customer" into an open JSON object.
void WriteTransactionMembers(JsonWriter& writer, const TicketTransaction& transaction);

}  // namespace fiscal::france

#endif  // FISCAL_FRANCE_TRANSACTION_H_
