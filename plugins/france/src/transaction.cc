#include "transaction.h"

#include <algorithm>
#include <array>
#include <map>

#include "payload.h"

namespace fiscal::france {
namespace {

constexpr size_t kMaxTextLength = 500;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string Decimal(int64_t cents) { return FormatAmount(cents, AmountStyle::kDecimal); }

// Quantities and unit prices are written as sent, so they only need to be plain decimals: an
// optional '-', up to 15 integer digits and up to 12 decimals.
bool IsDecimalText(std::string_view text) {
  if (!text.empty() && text.front() == '-') text.remove_prefix(1);
  size_t dot = text.find('.');
  std::string_view integer_part = text.substr(0, dot);
  std::string_view fraction = dot == std::string_view::npos ? "" : text.substr(dot + 1);
  if (integer_part.empty() || integer_part.size() > 15) return false;
  if (dot != std::string_view::npos && (fraction.empty() || fraction.size() > 12)) return false;
  return std::all_of(integer_part.begin(), integer_part.end(), IsDigit) &&
         std::all_of(fraction.begin(), fraction.end(), IsDigit);
}

bool IsMethodName(std::string_view text) {
  return !text.empty() && text.size() <= 32 && std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || IsDigit(c) || c == '_';
  });
}

Status GetDecimalText(const rapidjson::Value& object, const char* name, std::string_view path,
                      std::string* out) {
  Status status = GetRequiredString(object, name, path, out);
  if (!status.ok()) return status;
  if (!IsDecimalText(*out)) {
    std::string field = MemberPath(path, name);
    return Status::Invalid(field, field + " \"" + *out +
                                      "\" must be a decimal number such as \"2\" or \"1.25\"");
  }
  return Status::Ok();
}

// Amounts of one ticket have at most 12 integer digits, the bound the host and the tax
// authorities apply, so that sums over 1000 lines stay far inside int64_t.
Status GetTicketAmount(const rapidjson::Value& object, const char* name, std::string_view path,
                       int64_t* cents) {
  constexpr int64_t kMaxTicketCents = 99999999999999;
  Status status = GetRequiredAmount(object, name, path, cents);
  if (!status.ok()) return status;
  if (*cents > kMaxTicketCents || *cents < -kMaxTicketCents) {
    std::string field = MemberPath(path, name);
    return Status::Invalid(field, field + " " + Decimal(*cents) +
                                      " has more than 12 integer digits; split the sale");
  }
  return Status::Ok();
}

// The VAT rates of France, in hundredths of a percent. Mainland France applies 20, 10, 5.5 and
// 2.1 %, Corsica 13, 10, 2.1 and 0.9 %, and Guadeloupe, Martinique and Réunion 8.5, 2.1, 1.75 and
// 1.05 %. Exempt sales are at 0 %.
constexpr std::array<int32_t, 10> kFrenchVatRates = {0,   90,  105, 175,  210,
                                                     550, 850, 1000, 1300, 2000};

// "20", "5.5", "1.05": a rate in percent without trailing zeros.
std::string ShortPercent(int32_t basis_points) {
  std::string text = std::to_string(basis_points / 100);
  int32_t hundredths = basis_points % 100;
  if (hundredths == 0) return text;
  text += "." + std::to_string(hundredths / 10);
  if (hundredths % 10 != 0) text += std::to_string(hundredths % 10);
  return text;
}

// "0, 0.9, ..., 13 and 20".
std::string FrenchVatRateList() {
  std::string list;
  for (size_t i = 0; i < kFrenchVatRates.size(); ++i) {
    if (i > 0) list += i + 1 == kFrenchVatRates.size() ? " and " : ", ";
    list += ShortPercent(kFrenchVatRates[i]);
  }
  return list;
}

Status GetRate(const rapidjson::Value& object, std::string_view path, int32_t* rate) {
  std::string field = MemberPath(path, "tax_rate");
  std::string text;
  Status status = GetRequiredString(object, "tax_rate", path, &text);
  if (!status.ok()) return status;
  if (!ParseVatRate(text, rate).ok()) {
    return Status::Invalid(field, field + " \"" + text +
                                      "\" must be a VAT rate in percent from 0 to 99.99 with at "
                                      "most 2 decimals, such as \"20.00\"");
  }
  if (std::find(kFrenchVatRates.begin(), kFrenchVatRates.end(), *rate) == kFrenchVatRates.end()) {
    return Status::Invalid(field, field + " " + ShortPercent(*rate) +
                                      " % is not a VAT rate of France; the accepted rates in "
                                      "percent are " +
                                      FrenchVatRateList());
  }
  return Status::Ok();
}

Status CheckSign(int64_t cents, AmountSign sign, const std::string& field) {
  if (sign == AmountSign::kPositive && cents < 0) {
    return Status::Invalid(field, field + " is " + Decimal(cents) +
                                      "; a sale has no negative amount, send a refund instead");
  }
  if (sign == AmountSign::kNegative && cents > 0) {
    return Status::Invalid(field, field + " is " + Decimal(cents) +
                                      "; the amounts of a refund must be negative");
  }
  return Status::Ok();
}

Status ParseLine(const rapidjson::Value& item, const std::string& path, AmountSign sign,
                 TicketLine* line) {
  if (!item.IsObject()) return Status::Invalid(path, path + " must be a JSON object");
  Status status = GetRequiredString(item, "description", path, &line->description);
  if (!status.ok()) return status;
  status = CheckText(line->description, MemberPath(path, "description"), kMaxTextLength);
  if (!status.ok()) return status;
  status = GetDecimalText(item, "quantity", path, &line->quantity);
  if (!status.ok()) return status;
  status = GetDecimalText(item, "unit_price", path, &line->unit_price);
  if (!status.ok()) return status;
  status = GetRate(item, path, &line->rate);
  if (!status.ok()) return status;
  status = GetTicketAmount(item, "amount", path, &line->amount);
  if (!status.ok()) return status;
  return CheckSign(line->amount, sign, MemberPath(path, "amount"));
}

Status ParseLines(const rapidjson::Value& object, std::string_view path, AmountSign sign,
                  std::vector<TicketLine>* lines) {
  const rapidjson::Value* items = nullptr;
  Status status = GetRequiredArray(object, "items", path, &items);
  if (!status.ok()) return status;
  std::string field = MemberPath(path, "items");
  if (items->Empty() || items->Size() > kMaxLines) {
    return Status::Invalid(field, field + " must hold 1 to " + std::to_string(kMaxLines) +
                                      " lines; split a larger sale into several tickets");
  }
  for (rapidjson::SizeType i = 0; i < items->Size(); ++i) {
    TicketLine line;
    status = ParseLine((*items)[i], IndexPath(field, i), sign, &line);
    if (!status.ok()) return status;
    lines->push_back(std::move(line));
  }
  return Status::Ok();
}

// Reads the breakdown and checks it against the lines: same rates, base + tax = lines' total.
Status ParseBreakdown(const rapidjson::Value& object, std::string_view path,
                      const std::vector<TicketLine>& lines, std::vector<VatLine>* vat) {
  const rapidjson::Value* breakdown = nullptr;
  Status status = GetRequiredArray(object, "breakdown", path, &breakdown);
  if (!status.ok()) return status;
  std::string field = MemberPath(path, "breakdown");
  if (breakdown->Empty() || breakdown->Size() > kMaxLines) {
    return Status::Invalid(field, field + " must hold one entry per VAT rate of the lines");
  }

  std::map<int32_t, int64_t> line_totals;
  for (const TicketLine& line : lines) line_totals[line.rate] += line.amount;

  std::map<int32_t, size_t> seen;
  for (rapidjson::SizeType i = 0; i < breakdown->Size(); ++i) {
    std::string entry_path = IndexPath(field, i);
    const rapidjson::Value& entry = (*breakdown)[i];
    if (!entry.IsObject()) return Status::Invalid(entry_path, entry_path + " must be a JSON object");
    VatLine line;
    status = GetRate(entry, entry_path, &line.rate);
    if (!status.ok()) return status;
    status = GetTicketAmount(entry, "base", entry_path, &line.base);
    if (!status.ok()) return status;
    status = GetTicketAmount(entry, "tax", entry_path, &line.tax);
    if (!status.ok()) return status;

    std::string rate_field = MemberPath(entry_path, "tax_rate");
    std::string rate_text = FormatRatePercent(line.rate);
    if (!seen.emplace(line.rate, i).second) {
      return Status::Invalid(rate_field, rate_field + " " + rate_text +
                                             " appears twice in the breakdown; give one entry "
                                             "per rate");
    }
    auto lines_total = line_totals.find(line.rate);
    if (lines_total == line_totals.end()) {
      return Status::Invalid(rate_field, rate_field + " " + rate_text +
                                             " is the rate of no line; remove the entry");
    }
    if (line.base + line.tax != lines_total->second) {
      std::string base_field = MemberPath(entry_path, "base");
      return Status::Invalid(base_field, base_field + " " + Decimal(line.base) + " + tax " +
                                             Decimal(line.tax) + " differs from " +
                                             Decimal(lines_total->second) +
                                             ", the total of the lines at " + rate_text + " %");
    }
    vat->push_back(line);
  }
  for (size_t i = 0; i < lines.size(); ++i) {
    if (seen.count(lines[i].rate) == 0) {
      std::string rate_field = MemberPath(IndexPath(MemberPath(path, "items"), i), "tax_rate");
      return Status::Invalid(rate_field, rate_field + " " + FormatRatePercent(lines[i].rate) +
                                             " has no entry in the breakdown; add one");
    }
  }
  return Status::Ok();
}

Status CheckTotals(const rapidjson::Value& object, std::string_view path, AmountSign sign,
                   TicketTransaction* transaction) {
  Status status = GetTicketAmount(object, "pretax_amount", path, &transaction->pretax);
  if (!status.ok()) return status;
  status = GetTicketAmount(object, "tax_amount", path, &transaction->tax);
  if (!status.ok()) return status;
  status = GetTicketAmount(object, "total_amount", path, &transaction->total);
  if (!status.ok()) return status;

  int64_t bases = 0;
  int64_t taxes = 0;
  for (const VatLine& line : transaction->vat) {
    bases += line.base;
    taxes += line.tax;
  }
  int64_t lines_total = 0;
  for (const TicketLine& line : transaction->lines) lines_total += line.amount;

  auto mismatch = [&](const char* name, int64_t given, int64_t expected, const char* what) {
    std::string field = MemberPath(path, name);
    return Status::Invalid(field, field + " is " + Decimal(given) + " but " + what + " add up to " +
                                      Decimal(expected));
  };
  if (transaction->pretax != bases) {
    return mismatch("pretax_amount", transaction->pretax, bases, "the breakdown's bases");
  }
  if (transaction->tax != taxes) {
    return mismatch("tax_amount", transaction->tax, taxes, "the breakdown's taxes");
  }
  if (transaction->total != lines_total) {
    return mismatch("total_amount", transaction->total, lines_total, "the lines");
  }

  std::string total_field = MemberPath(path, "total_amount");
  if (sign == AmountSign::kPositive && transaction->total <= 0) {
    return Status::Invalid(total_field, total_field + " must be greater than 0 for a sale");
  }
  if (sign == AmountSign::kNegative && transaction->total >= 0) {
    return Status::Invalid(total_field, total_field + " must be negative for a refund");
  }
  return Status::Ok();
}

// Reads the payments, or makes one payment of the whole total with payment_method. On a sale,
// cash tendered above the total gets a "change" payment, so the payments add up to the total.
Status ParsePayments(const rapidjson::Value& object, std::string_view path, AmountSign sign,
                     TicketTransaction* transaction) {
  std::string method;
  Status status = GetOptionalString(object, "payment_method", path, &method);
  if (!status.ok()) return status;
  std::string method_field = MemberPath(path, "payment_method");
  if (!method.empty() && !IsMethodName(method)) {
    return Status::Invalid(method_field, method_field + " \"" + method +
                                             "\" must be a method name such as \"cash\" or "
                                             "\"card\"");
  }

  const rapidjson::Value* payments = FindMember(object, "payments");
  if (payments == nullptr) {
    if (method.empty()) {
      return Status::Invalid(method_field, method_field +
                                               " is missing; give it, or list the payments in "
                                               "\"payments\"");
    }
    transaction->payments.push_back(Payment{"payment", method, transaction->total});
    return Status::Ok();
  }

  std::string field = MemberPath(path, "payments");
  if (!payments->IsArray() || payments->Empty() || payments->Size() > kMaxPayments) {
    return Status::Invalid(field, field + " must be an array of 1 to " +
                                      std::to_string(kMaxPayments) +
                                      " payments {\"method\", \"amount\"}");
  }
  int64_t paid = 0;
  int64_t cash = 0;
  for (rapidjson::SizeType i = 0; i < payments->Size(); ++i) {
    std::string entry_path = IndexPath(field, i);
    const rapidjson::Value& entry = (*payments)[i];
    if (!entry.IsObject()) return Status::Invalid(entry_path, entry_path + " must be a JSON object");
    Payment payment{"payment", "", 0};
    status = GetRequiredString(entry, "method", entry_path, &payment.method);
    if (!status.ok()) return status;
    if (!IsMethodName(payment.method)) {
      std::string entry_method = MemberPath(entry_path, "method");
      return Status::Invalid(entry_method, entry_method + " \"" + payment.method +
                                               "\" must be a method name such as \"cash\" or "
                                               "\"card\"");
    }
    status = GetTicketAmount(entry, "amount", entry_path, &payment.amount);
    if (!status.ok()) return status;
    std::string amount_field = MemberPath(entry_path, "amount");
    if (payment.amount == 0) {
      return Status::Invalid(amount_field, amount_field + " is 0; leave the payment out");
    }
    status = CheckSign(payment.amount, sign, amount_field);
    if (!status.ok()) return status;
    paid += payment.amount;
    if (payment.method == "cash") cash += payment.amount;
    transaction->payments.push_back(std::move(payment));
  }

  int64_t excess = paid - transaction->total;
  if (excess == 0) return Status::Ok();
  if (sign != AmountSign::kPositive || excess < 0) {
    return Status::Invalid(field, field + " add up to " + Decimal(paid) +
                                      " but the total is " + Decimal(transaction->total) +
                                      "; the payments must cover the total exactly, apart from "
                                      "change given back on cash");
  }
  if (excess > cash) {
    return Status::Invalid(field, field + " exceed the total by " + Decimal(excess) +
                                      ", more than the cash tendered (" + Decimal(cash) +
                                      "); change is only given back on cash");
  }
  transaction->payments.push_back(Payment{"change", "cash", -excess});
  return Status::Ok();
}

Status ParseCustomer(const rapidjson::Value& object, std::string_view path,
                     std::optional<Customer>* out) {
  const rapidjson::Value* value = FindMember(object, "customer");
  if (value == nullptr) return Status::Ok();
  std::string field = MemberPath(path, "customer");
  if (!value->IsObject()) return Status::Invalid(field, field + " must be a JSON object or null");
  Customer customer;
  struct Member {
    const char* name;
    std::string* target;
  } members[] = {{"tax_id", &customer.tax_id},
                 {"name", &customer.name},
                 {"country", &customer.country},
                 {"address", &customer.address}};
  for (const Member& member : members) {
    Status status = GetOptionalString(*value, member.name, field, member.target);
    if (!status.ok()) return status;
    status = CheckText(*member.target, MemberPath(field, member.name), kMaxTextLength);
    if (!status.ok()) return status;
  }
  *out = std::move(customer);
  return Status::Ok();
}

Status ParseHeader(const rapidjson::Value& object, std::string_view path,
                   TicketTransaction* transaction) {
  Status status = GetRequiredString(object, "id", path, &transaction->id);
  if (!status.ok()) return status;
  status = CheckText(transaction->id, MemberPath(path, "id"), 100);
  if (!status.ok()) return status;

  struct Member {
    const char* name;
    std::string* target;
  } members[] = {{"type", &transaction->type},
                 {"invoice_number", &transaction->invoice_number},
                 {"timestamp", &transaction->timestamp}};
  for (const Member& member : members) {
    status = GetOptionalString(object, member.name, path, member.target);
    if (!status.ok()) return status;
    status = CheckText(*member.target, MemberPath(path, member.name), 100);
    if (!status.ok()) return status;
  }

  // The description only enters the document, where JSON escaping keeps line breaks intact.
  status = GetOptionalString(object, "description", path, &transaction->description);
  if (!status.ok()) return status;
  status = CheckLength(transaction->description, MemberPath(path, "description"), kMaxTextLength);
  if (!status.ok()) return status;

  status = GetRequiredString(object, "currency", path, &transaction->currency);
  if (!status.ok()) return status;
  if (transaction->currency != "EUR") {
    std::string field = MemberPath(path, "currency");
    return Status::Invalid(field, field + " must be \"EUR\": French registers record euros");
  }
  return Status::Ok();
}

void WriteAmountMember(JsonWriter& writer, const char* name, int64_t cents) {
  WriteStringMember(writer, name, Decimal(cents));
}

}  // namespace

RateAmounts TicketTransaction::VatTotals() const {
  RateAmounts totals;
  for (const VatLine& line : vat) totals[line.rate] += line.base + line.tax;
  return totals;
}

Status ParseTransaction(const rapidjson::Value& object, std::string_view path, AmountSign sign,
                        TicketTransaction* out) {
  if (!object.IsObject()) {
    std::string field(path);
    return Status::Invalid(field, field + " must be a JSON object");
  }
  TicketTransaction transaction;
  Status status = ParseHeader(object, path, &transaction);
  if (!status.ok()) return status;
  status = ParseLines(object, path, sign, &transaction.lines);
  if (!status.ok()) return status;
  status = ParseBreakdown(object, path, transaction.lines, &transaction.vat);
  if (!status.ok()) return status;
  status = CheckTotals(object, path, sign, &transaction);
  if (!status.ok()) return status;
  status = ParsePayments(object, path, sign, &transaction);
  if (!status.ok()) return status;
  status = ParseCustomer(object, path, &transaction.customer);
  if (!status.ok()) return status;

  std::sort(transaction.vat.begin(), transaction.vat.end(),
            [](const VatLine& a, const VatLine& b) { return a.rate > b.rate; });
  *out = std::move(transaction);
  return Status::Ok();
}

void WriteTransactionMembers(JsonWriter& writer, const TicketTransaction& transaction) {
  writer.Key("transaction");
  writer.StartObject();
  WriteStringMember(writer, "id", transaction.id);
  WriteStringMember(writer, "type", transaction.type);
  WriteStringMember(writer, "invoice_number", transaction.invoice_number);
  WriteStringMember(writer, "timestamp", transaction.timestamp);
  WriteStringMember(writer, "currency", transaction.currency);
  WriteStringMember(writer, "description", transaction.description);
  writer.EndObject();

  WriteObjectArrayMember(writer, "lines", transaction.lines, [&](const TicketLine& line) {
    WriteStringMember(writer, "description", line.description);
    WriteStringMember(writer, "quantity", line.quantity);
    WriteStringMember(writer, "unit_price", line.unit_price);
    WriteStringMember(writer, "tax_rate", FormatRatePercent(line.rate));
    WriteAmountMember(writer, "amount", line.amount);
  });
  WriteObjectArrayMember(writer, "vat", transaction.vat, [&](const VatLine& line) {
    WriteStringMember(writer, "tax_rate", FormatRatePercent(line.rate));
    WriteAmountMember(writer, "base", line.base);
    WriteAmountMember(writer, "tax", line.tax);
    WriteAmountMember(writer, "total", line.base + line.tax);
  });

  WriteAmountMember(writer, "pretax_amount", transaction.pretax);
  WriteAmountMember(writer, "tax_amount", transaction.tax);
  WriteAmountMember(writer, "total_amount", transaction.total);

  WriteObjectArrayMember(writer, "payments", transaction.payments, [&](const Payment& payment) {
    WriteStringMember(writer, "kind", payment.kind);
    WriteStringMember(writer, "method", payment.method);
    WriteAmountMember(writer, "amount", payment.amount);
  });

  writer.Key("customer");
  if (!transaction.customer) {
    writer.Null();
    return;
  }
  writer.StartObject();
  WriteStringMember(writer, "tax_id", transaction.customer->tax_id);
  WriteStringMember(writer, "name", transaction.customer->name);
  WriteStringMember(writer, "country", transaction.customer->country);
  WriteStringMember(writer, "address", transaction.customer->address);
  writer.EndObject();
}

}  // namespace fiscal::france
