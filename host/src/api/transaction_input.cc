#include "api/transaction_input.h"

#include <algorithm>

#include "api/input.h"
#include "common/json.h"

namespace fiscal::api {
namespace {

const Decimal kOne = Decimal::FromInteger(1);
const Decimal kCent = Decimal::Parse("0.01", "").value();

// Bounds that keep every product and sum far inside Decimal's 128-bit range and amounts inside the
// 12 integer digits that tax authorities accept (AEAT's ImporteSgn12.2, FatturaPA's Amount2).
const Decimal kMaxQuantity = Decimal::FromInteger(1000000000LL);
const Decimal kMaxAmount = Decimal::FromInteger(1000000000000LL);

Status ParseItem(const json::Node& node, const std::string& path, ItemInput& item) {
  if (!node.IsObject()) return Status::InvalidArgument(path, path + " must be an object");

  auto description = ReadString(node, "description", path, 500, true);
  if (!description.ok()) return description.status();
  item.description = **description;

  auto quantity = ReadDecimal(node, "quantity", path, true);
  if (!quantity.ok()) return quantity.status();
  item.quantity = **quantity;
  if (item.quantity.Abs() >= kMaxQuantity) {
    return Status::InvalidArgument(path + ".quantity", path + ".quantity must be less than 1000000000");
  }
  if (item.quantity <= Decimal()) {
    return Status::InvalidArgument(path + ".quantity", path + ".quantity must be greater than 0; for a refund send "
                                                              "type \"refund\" with positive quantities");
  }

  auto unit_price = ReadDecimal(node, "unit_price", path, true);
  if (!unit_price.ok()) return unit_price.status();
  item.unit_price = **unit_price;
  if (item.unit_price >= kMaxAmount) {
    return Status::InvalidArgument(path + ".unit_price", path + ".unit_price must be less than 1000000000000 "
                                                                "(tax authorities accept at most 12 integer digits)");
  }
  if (item.unit_price.IsNegative()) {
    return Status::InvalidArgument(path + ".unit_price", path + ".unit_price must not be negative");
  }

  auto tax_rate = ReadDecimal(node, "tax_rate", path, true);
  if (!tax_rate.ok()) return tax_rate.status();
  item.tax_rate = **tax_rate;
  if (item.tax_rate.IsNegative() || item.tax_rate >= kOne || item.tax_rate.scale() > 4) {
    return Status::InvalidArgument(path + ".tax_rate", path + ".tax_rate must be a fraction between 0 and 1 with at "
                                                              "most 4 decimals, e.g. 0.21 for 21 %");
  }

  item.amount = (item.quantity * item.unit_price).Rounded(2);
  return Status::Ok();
}

bool IsPaymentMethod(const std::string& method) {
  return method == "cash" || method == "card" || method == "transfer" || method == "other";
}

// Reads "payments" when present. They must cover the total: exactly, or with cash tendered above it
// (the change given back is then part of the record, see field case C20).
Status ParsePayments(const json::Node& body, TransactionInput& input) {
  const json::Node* payments = body.Find("payments");
  if (payments == nullptr || payments->IsNull()) return Status::Ok();
  if (!payments->IsArray() || payments->items().empty() || payments->items().size() > kMaxPayments) {
    return Status::InvalidArgument("payments", "payments must be an array of 1 to " + std::to_string(kMaxPayments) +
                                                   " {method, amount}");
  }

  Decimal paid;
  bool has_cash = false;
  for (size_t i = 0; i < payments->items().size(); ++i) {
    const json::Node& node = payments->items()[i];
    std::string path = "payments[" + std::to_string(i) + "]";
    if (!node.IsObject()) return Status::InvalidArgument(path, path + " must be an object {method, amount}");
    PaymentInput payment;
    auto method = ReadString(node, "method", path, 16, true);
    if (!method.ok()) return method.status();
    payment.method = **method;
    if (!IsPaymentMethod(payment.method)) {
      return Status::InvalidArgument(path + ".method", path + ".method must be one of cash, card, transfer, other");
    }
    auto amount = ReadDecimal(node, "amount", path, true);
    if (!amount.ok()) return amount.status();
    payment.amount = **amount;
    if (payment.amount <= Decimal() || payment.amount.scale() > 2 || payment.amount >= kMaxAmount) {
      return Status::InvalidArgument(path + ".amount", path + ".amount must be greater than 0, below 1000000000000, "
                                                          "with at most 2 decimals");
    }
    paid = paid + payment.amount;
    has_cash = has_cash || payment.method == "cash";
    input.payments.push_back(std::move(payment));
  }

  if (paid < input.total_amount) {
    return Status::InvalidArgument("payments", "payments add up to " + paid.ToString() + " but total_amount is " +
                                                   input.total_amount.ToString() + "; list every payment");
  }
  if (paid > input.total_amount && !has_cash) {
    return Status::InvalidArgument("payments", "payments exceed total_amount by " + (paid - input.total_amount).ToString() +
                                                   "; only cash may be tendered above the total, because the change "
                                                   "is given back in cash");
  }
  return Status::Ok();
}

Status ParseCustomer(const json::Node& node, CustomerInput& customer) {
  const std::string path = "customer";
  if (!node.IsObject()) return Status::InvalidArgument(path, "customer must be an object");
  auto tax_id = ReadString(node, "tax_id", path, 30, false);
  if (!tax_id.ok()) return tax_id.status();
  auto name = ReadString(node, "name", path, 120, false);
  if (!name.ok()) return name.status();
  auto country = ReadString(node, "country", path, 2, false);
  if (!country.ok()) return country.status();
  auto address = ReadString(node, "address", path, 500, false);
  if (!address.ok()) return address.status();

  customer.tax_id = tax_id->value_or("");
  customer.name = name->value_or("");
  customer.country = country->value_or("");
  customer.address = address->value_or("");
  if (!customer.country.empty() &&
      (customer.country.size() != 2 || !std::isupper(static_cast<unsigned char>(customer.country[0])) ||
       !std::isupper(static_cast<unsigned char>(customer.country[1])))) {
    return Status::InvalidArgument("customer.country", "customer.country must be an ISO 3166 alpha-2 code such as \"ES\"");
  }
  return Status::Ok();
}

Status ComputeTotals(TransactionInput& input) {
  Decimal items_total;
  for (const ItemInput& item : input.items) {
    items_total = items_total + item.amount;
    auto group = std::find_if(input.tax_groups.begin(), input.tax_groups.end(),
                              [&](const TaxGroup& g) { return g.tax_rate == item.tax_rate; });
    if (group == input.tax_groups.end()) {
      input.tax_groups.push_back(TaxGroup{item.tax_rate, item.amount, Decimal(), Decimal()});
    } else {
      group->gross = group->gross + item.amount;
    }
  }

  Decimal base_total;
  Decimal tax_total;
  for (TaxGroup& group : input.tax_groups) {
    group.base = group.gross.DividedBy(kOne + group.tax_rate, 2);
    group.tax = (group.gross - group.base).Rounded(2);
    base_total = base_total + group.base;
    tax_total = tax_total + group.tax;
  }

  if (items_total >= kMaxAmount) {
    return Status::InvalidArgument("items", "the items add up to " + items_total.Rounded(2).ToString() +
                                                ", more than the 12 integer digits tax authorities accept");
  }
  if (input.total_amount != items_total) {
    return Status::InvalidArgument("total_amount", "total_amount is " + input.total_amount.ToString() +
                                                       " but the items add up to " + items_total.Rounded(2).ToString() +
                                                       " (quantity x unit_price, rounded to cents, tax included)");
  }
  return Status::Ok();
}

}  // namespace

Result<TransactionInput> ParseTransactionInput(const json::Node& body) {
  if (!body.IsObject()) return Status::InvalidArgument("", "the request body must be a JSON object");
  TransactionInput input;

  auto location_id = ReadString(body, "location_id", "", 64, true);
  if (!location_id.ok()) return location_id.status();
  input.location_id = **location_id;
  if (!IsUuid(input.location_id)) return Status::InvalidArgument("location_id", "location_id must be a location id (a UUID)");

  auto timestamp = ReadString(body, "timestamp", "", 64, true);
  if (!timestamp.ok()) return timestamp.status();
  input.timestamp = **timestamp;
  if (!IsRfc3339(input.timestamp)) {
    return Status::InvalidArgument("timestamp", "timestamp must be an RFC 3339 date-time with offset, e.g. "
                                                "\"2026-12-04T10:15:00+01:00\"");
  }

  auto type = ReadString(body, "type", "", 16, false);
  if (!type.ok()) return type.status();
  input.type = type->value_or("sale");
  if (input.type != "sale" && input.type != "refund") {
    return Status::InvalidArgument("type", "type must be \"sale\" or \"refund\"");
  }

  auto original = ReadString(body, "original_transaction_id", "", 64, input.type == "refund");
  if (!original.ok()) return original.status();
  input.original_transaction_id = original->value_or("");
  if (input.type == "sale" && !input.original_transaction_id.empty()) {
    return Status::InvalidArgument("original_transaction_id", "original_transaction_id is only allowed with type \"refund\"");
  }
  if (input.type == "refund" && !IsUuid(input.original_transaction_id)) {
    return Status::InvalidArgument("original_transaction_id", "original_transaction_id must be a transaction id (a UUID)");
  }

  auto invoice_number = ReadString(body, "invoice_number", "", 60, false);
  if (!invoice_number.ok()) return invoice_number.status();
  input.invoice_number = invoice_number->value_or("");

  auto description = ReadString(body, "description", "", 500, false);
  if (!description.ok()) return description.status();
  input.description = description->value_or("");

  if (const json::Node* training = body.Find("training"); training != nullptr && !training->IsNull()) {
    if (!training->IsBool()) {
      return Status::InvalidArgument("training", "training must be true (a training-mode sale) or false");
    }
    input.training = training->boolean();
  }

  auto currency = ReadString(body, "currency", "", 3, true);
  if (!currency.ok()) return currency.status();
  input.currency = **currency;
  if (input.currency != "EUR") {
    return Status::InvalidArgument("currency", "currency must be \"EUR\": the fiscal systems served report in euros");
  }

  // payment_method may be left out when "payments" lists the payments (checked below).
  auto payment = ReadString(body, "payment_method", "", 16, false);
  if (!payment.ok()) return payment.status();
  input.payment_method = payment->value_or("");
  if (!input.payment_method.empty() && !IsPaymentMethod(input.payment_method)) {
    return Status::InvalidArgument("payment_method", "payment_method must be one of cash, card, transfer, other");
  }

  const json::Node* items = body.Find("items");
  if (items == nullptr || !items->IsArray() || items->items().empty()) {
    return Status::InvalidArgument("items", "items must be a non-empty array of {description, quantity, unit_price, tax_rate}");
  }
  if (items->items().size() > kMaxItems) {
    return Status::InvalidArgument("items", "items has more than " + std::to_string(kMaxItems) + " entries");
  }
  for (size_t i = 0; i < items->items().size(); ++i) {
    ItemInput item;
    FISCAL_RETURN_IF_ERROR(ParseItem(items->items()[i], "items[" + std::to_string(i) + "]", item));
    input.items.push_back(std::move(item));
  }

  const json::Node* customer = body.Find("customer");
  if (customer == nullptr) customer = body.Find("customer_context");
  if (customer != nullptr && !customer->IsNull()) {
    CustomerInput parsed;
    FISCAL_RETURN_IF_ERROR(ParseCustomer(*customer, parsed));
    input.customer = parsed;
  }

  auto total = ReadDecimal(body, "total_amount", "", true);
  if (!total.ok()) return total.status();
  input.total_amount = **total;
  if (input.total_amount <= Decimal() || input.total_amount.scale() > 2) {
    return Status::InvalidArgument("total_amount", "total_amount must be greater than 0 with at most 2 decimals");
  }
  FISCAL_RETURN_IF_ERROR(ComputeTotals(input));
  FISCAL_RETURN_IF_ERROR(ParsePayments(body, input));
  if (input.payment_method.empty()) {
    if (input.payments.empty()) {
      return Status::InvalidArgument("payment_method", "payment_method is required: one of cash, card, transfer, "
                                                       "other (or list the payments in \"payments\")");
    }
    // The transaction's single method is the first payment's.
    input.payment_method = input.payments.front().method;
  }

  // The server's split is authoritative; the client's, when sent, must agree with it.
  input.pretax_amount = Decimal();
  input.tax_amount = Decimal();
  for (const TaxGroup& group : input.tax_groups) {
    input.pretax_amount = input.pretax_amount + group.base;
    input.tax_amount = input.tax_amount + group.tax;
  }
  auto pretax = ReadDecimal(body, "pretax_amount", "", false);
  if (!pretax.ok()) return pretax.status();
  auto tax = ReadDecimal(body, "tax_amount", "", false);
  if (!tax.ok()) return tax.status();
  if (pretax->has_value() && tax->has_value() && **pretax + **tax != input.total_amount) {
    return Status::InvalidArgument("tax_amount", "pretax_amount + tax_amount is " + (**pretax + **tax).ToString() +
                                                     " but total_amount is " + input.total_amount.ToString());
  }
  Decimal tolerance = kCent * Decimal::FromInteger(static_cast<long long>(input.tax_groups.size()));
  if (pretax->has_value() && (**pretax - input.pretax_amount).Abs() > tolerance) {
    return Status::InvalidArgument("pretax_amount", "pretax_amount is " + (**pretax).ToString() +
                                                        " but the items give a tax base of " +
                                                        input.pretax_amount.ToString());
  }
  if (tax->has_value() && (**tax - input.tax_amount).Abs() > tolerance) {
    return Status::InvalidArgument("tax_amount", "tax_amount is " + (**tax).ToString() + " but the items give a tax of " +
                                                     input.tax_amount.ToString());
  }
  return input;
}

std::string TransactionToPluginJson(const TransactionInput& input, const std::string& id,
                                    const std::string& invoice_number, bool negate) {
  auto amount = [&](const Decimal& value) { return json::Quote((negate ? -value : value).Rounded(2).ToString()); };
  auto percent = [](const Decimal& rate) {
    return json::Quote((rate * Decimal::FromInteger(100)).Rounded(2).ToString());
  };

  std::string out = "{\"id\":" + json::Quote(id) + ",\"type\":" + json::Quote(input.type) +
                    ",\"invoice_number\":" + json::Quote(invoice_number) + ",\"timestamp\":" + json::Quote(input.timestamp) +
                    ",\"currency\":" + json::Quote(input.currency) + ",\"payment_method\":" +
                    json::Quote(input.payment_method) + ",\"description\":" + json::Quote(input.description);

  out += ",\"items\":[";
  for (size_t i = 0; i < input.items.size(); ++i) {
    const ItemInput& item = input.items[i];
    if (i > 0) out += ",";
    out += "{\"description\":" + json::Quote(item.description) + ",\"quantity\":" +
           json::Quote((negate ? -item.quantity : item.quantity).ToString()) + ",\"unit_price\":" +
           json::Quote(item.unit_price.ToString()) + ",\"tax_rate\":" + percent(item.tax_rate) +
           ",\"amount\":" + amount(item.amount) + "}";
  }
  out += "],\"breakdown\":[";
  for (size_t i = 0; i < input.tax_groups.size(); ++i) {
    const TaxGroup& group = input.tax_groups[i];
    if (i > 0) out += ",";
    out += "{\"tax_rate\":" + percent(group.tax_rate) + ",\"base\":" + amount(group.base) + ",\"tax\":" +
           amount(group.tax) + "}";
  }
  out += "]";
  if (!input.payments.empty()) {
    out += ",\"payments\":[";
    for (size_t i = 0; i < input.payments.size(); ++i) {
      out += std::string(i > 0 ? "," : "") + "{\"method\":" + json::Quote(input.payments[i].method) +
             ",\"amount\":" + amount(input.payments[i].amount) + "}";
    }
    out += "]";
  }
  out += ",\"pretax_amount\":" + amount(input.pretax_amount) + ",\"tax_amount\":" + amount(input.tax_amount) +
         ",\"total_amount\":" + amount(input.total_amount) + ",\"customer\":";
  if (input.customer) {
    const CustomerInput& c = *input.customer;
    out += "{\"tax_id\":" + json::Quote(c.tax_id) + ",\"name\":" + json::Quote(c.name) + ",\"country\":" +
           json::Quote(c.country) + ",\"address\":" + json::Quote(c.address) + "}";
  } else {
    out += "null";
  }
  return out + "}";
}

}  // namespace fiscal::api
