#include "totals.h"

#include <cstdio>
#include <cstdlib>

#include "payload.h"

namespace fiscal::france {
namespace {

constexpr int64_t kMaxCents = 99999999999999999;  // 15 integer digits and 2 decimals

Status CheckedAdd(int64_t a, int64_t b, int64_t* sum) {
  int64_t result = 0;
  if (__builtin_add_overflow(a, b, &result) || result > kMaxCents || result < -kMaxCents) {
    return Status::Invalid("", "a grand total would exceed 15 integer digits; the register's "
                               "totals cannot grow further");
  }
  *sum = result;
  return Status::Ok();
}

}  // namespace

std::string FormatRateKey(int32_t basis_points) {
  char buffer[16];
  std::snprintf(buffer, sizeof(buffer), "%04d", static_cast<int>(basis_points));
  return buffer;
}

std::string FormatRatePercent(int32_t basis_points) {
  return FormatAmount(basis_points, AmountStyle::kDecimal);
}

Status AddRecord(const RateAmounts& rates, int64_t total, Totals* totals) {
  Totals next = *totals;
  Status status = CheckedAdd(next.total, total, &next.total);
  if (!status.ok()) return status;
  status = CheckedAdd(next.absolute, total < 0 ? -total : total, &next.absolute);
  if (!status.ok()) return status;
  for (const auto& [rate, amount] : rates) {
    status = CheckedAdd(next.rates[rate], amount, &next.rates[rate]);
    if (!status.ok()) return status;
  }
  *totals = std::move(next);
  return Status::Ok();
}

Status Difference(const Totals& end, const Totals& start, Totals* difference) {
  if (end.absolute < start.absolute) {
    return Status::Invalid("", "the absolute grand total at the end of the period is lower than "
                               "at its start");
  }
  Totals result;
  result.total = end.total - start.total;
  result.absolute = end.absolute - start.absolute;
  RateAmounts all = end.rates;
  for (const auto& [rate, amount] : start.rates) all.emplace(rate, 0);
  for (const auto& [rate, amount] : all) {
    auto before = start.rates.find(rate);
    int64_t change = amount - (before == start.rates.end() ? 0 : before->second);
    if (change != 0) result.rates[rate] = change;
  }
  *difference = std::move(result);
  return Status::Ok();
}

Status ReadRateAmounts(const rapidjson::Value& object, std::string_view path, RateAmounts* out) {
  std::string field(path);
  if (!object.IsObject()) return Status::Invalid(field, field + " must be a JSON object");
  RateAmounts rates;
  for (auto member = object.MemberBegin(); member != object.MemberEnd(); ++member) {
    std::string key(member->name.GetString(), member->name.GetStringLength());
    std::string member_field = MemberPath(path, key);
    bool is_rate_key = key.size() == 4 && key.find_first_not_of("0123456789") == std::string::npos;
    if (!is_rate_key) {
      return Status::Invalid(member_field, member_field + ": \"" + key +
                                               "\" is not a rate in hundredths of a percent on "
                                               "4 digits, such as \"2000\"");
    }
    int64_t cents = 0;
    Status status = GetRequiredAmount(object, key.c_str(), path, &cents);
    if (!status.ok()) return status;
    rates[std::stoi(key)] = cents;
  }
  *out = std::move(rates);
  return Status::Ok();
}

Status ReadTotals(const rapidjson::Value& object, std::string_view path, Totals* out) {
  std::string field(path);
  if (!object.IsObject()) return Status::Invalid(field, field + " must be a JSON object");
  Totals totals;
  Status status = GetRequiredAmount(object, "total", path, &totals.total);
  if (!status.ok()) return status;
  status = GetRequiredAmount(object, "absolute", path, &totals.absolute);
  if (!status.ok()) return status;
  if (totals.absolute < 0 || totals.absolute < std::llabs(totals.total)) {
    std::string absolute_field = MemberPath(path, "absolute");
    return Status::Invalid(absolute_field, absolute_field +
                                               " is lower than the absolute value of the total; "
                                               "pass the chain state unchanged");
  }
  const rapidjson::Value* rates = nullptr;
  status = GetRequiredObject(object, "rates", path, &rates);
  if (!status.ok()) return status;
  status = ReadRateAmounts(*rates, MemberPath(path, "rates"), &totals.rates);
  if (!status.ok()) return status;
  *out = std::move(totals);
  return Status::Ok();
}

void WriteRateAmounts(JsonWriter& writer, const RateAmounts& rates) {
  writer.StartObject();
  for (const auto& [rate, amount] : rates) {
    WriteStringMember(writer, FormatRateKey(rate).c_str(), FormatAmount(amount, AmountStyle::kDecimal));
  }
  writer.EndObject();
}

void WriteTotals(JsonWriter& writer, const Totals& totals) {
  writer.StartObject();
  WriteStringMember(writer, "total", FormatAmount(totals.total, AmountStyle::kDecimal));
  WriteStringMember(writer, "absolute", FormatAmount(totals.absolute, AmountStyle::kDecimal));
  writer.Key("rates");
  WriteRateAmounts(writer, totals.rates);
  writer.EndObject();
}

std::string PayloadBreakdown(const RateAmounts& rates) {
  if (rates.empty()) return "0000:0.00";
  std::string text;
  for (const auto& [rate, amount] : rates) {
    if (!text.empty()) text += '|';
    text += FormatRateKey(rate) + ":" + FormatAmount(amount, AmountStyle::kDecimal);
  }
  return text;
}

}  // namespace fiscal::france
