// The body of POST /v1/transactions, checked and with its totals computed exactly.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/decimal.h"
#include "common/json_tree.h"
#include "common/status.h"

namespace fiscal::api {

struct ItemInput {
  std::string description;
  Decimal quantity;
  Decimal unit_price;  // tax included, as the till shows it
  Decimal tax_rate;    // fraction: 0.21 for 21 %
  Decimal amount;      // quantity x unit_price, rounded to cents
};

// Tax base and tax for one rate. base = round(gross / (1 + rate)), tax = gross - base, so that
// base + tax always equals the gross amount the customer paid.
struct TaxGroup {
  Decimal tax_rate;  // fraction
  Decimal gross;
  Decimal base;
  Decimal tax;
};

// One means of payment. Cash may exceed the total: the plugin records the change given back.
struct PaymentInput {
  std::string method;  // cash, card, transfer or other
  Decimal amount;
};

struct CustomerInput {
  std::string tax_id;
  std::string name;
  std::string country;  // ISO alpha-2 or empty
  std::string address;
};

struct TransactionInput {
  std::string location_id;
  std::string timestamp;  // RFC 3339 as sent
  std::string type = "sale";
  std::string original_transaction_id;
  std::string invoice_number;  // empty: the server assigns one
  std::string description;
  std::string currency;
  std::string payment_method;
  std::vector<ItemInput> items;
  std::vector<TaxGroup> tax_groups;
  Decimal pretax_amount;
  Decimal tax_amount;
  Decimal total_amount;
  std::optional<CustomerInput> customer;
  // Optional split of the payment; empty when the client sent only payment_method.
  std::vector<PaymentInput> payments;
  // A training-mode sale (France "mode école"): signed in its own chain, never in the totals.
  bool training = false;
};

// Maximum number of items in one transaction.
constexpr size_t kMaxItems = 1000;
// Maximum number of payments in one transaction.
constexpr size_t kMaxPayments = 20;

// Checks the body and computes the totals. The client's total_amount must equal the sum of the
// item amounts exactly; pretax_amount and tax_amount are optional, and when given they must add up
// to total_amount and lie within one cent per tax rate of the server's split (tills round per line
// or per rate).
Result<TransactionInput> ParseTransactionInput(const json::Node& body);

// The transaction as the plugin receives it (see issue_record in fiscal/plugin_abi.h). Amounts are
// decimal strings; `negate` turns them negative, for refunds.
std::string TransactionToPluginJson(const TransactionInput& input, const std::string& id,
                                    const std::string& invoice_number, bool negate);

}  // namespace fiscal::api
