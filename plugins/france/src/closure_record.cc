// Closures: day, month and year closures of a register, chained in the "closures" chain. A
// closure covers the tickets after the last closure of its level up to a boundary sequence. Its
// totals are the difference of the tickets chain's cumulative totals at the two ends, so they
// equal the sum of the tickets it covers, and its perpetual totals are the cumulative totals at
// its end.
#include <array>
#include <map>

#include "payload.h"
#include "nf525_receipt.h"
#include "records.h"
#include "signature.h"
#include "time_util.h"

namespace fiscal::france {
namespace {

constexpr std::array<std::string_view, 3> kLevels = {"day", "month", "year"};

// The last closure of one level, kept in the closures chain state.
struct LevelState {
  uint64_t sequence = 0;  // last ticket covered, 0 before the first closure of the level
  std::string label;      // empty before the first closure of the level
  Totals cumulative;
};

struct ClosureInput {
  std::string period;
  std::string label;
  uint64_t to_sequence = 0;
  std::string last_signature;  // of the last ticket covered, empty when there is none
  Totals end;                  // tickets chain cumulative totals at to_sequence
};

std::string Decimal(int64_t cents) { return FormatAmount(cents, AmountStyle::kDecimal); }

bool IsLabel(std::string_view period, std::string_view label) {
  std::chrono::year_month_day date;
  if (period == "day") return ParseIsoDate(label, &date);
  if (period == "month") return label.size() == 7 && ParseIsoDate(std::string(label) + "-01", &date);
  return label.size() == 4 && ParseIsoDate(std::string(label) + "-01-01", &date);
}

Status ReadLevels(const IssueContext& context, std::map<std::string, LevelState>* levels) {
  if (context.previous == nullptr) return Status::Ok();
  const rapidjson::Value* object = nullptr;
  Status status = GetRequiredObject(*context.previous, "levels", "chain.previous", &object);
  if (!status.ok()) return status;
  for (std::string_view level : kLevels) {
    std::string name(level);
    const rapidjson::Value* value = FindMember(*object, name.c_str());
    if (value == nullptr) continue;
    std::string path = "chain.previous.levels." + name;
    if (!value->IsObject()) return Status::Invalid(path, path + " must be a JSON object");
    LevelState state;
    status = GetRequiredUint(*value, "sequence", path, kMaxSequence, &state.sequence);
    if (!status.ok()) return status;
    status = GetRequiredString(*value, "label", path, &state.label);
    if (!status.ok()) return status;
    const rapidjson::Value* cumulative = nullptr;
    status = GetRequiredObject(*value, "cumulative", path, &cumulative);
    if (!status.ok()) return status;
    status = ReadTotals(*cumulative, path + ".cumulative", &state.cumulative);
    if (!status.ok()) return status;
    (*levels)[name] = std::move(state);
  }
  return Status::Ok();
}

Status ReadTicketsEnd(const rapidjson::Value& closure, ClosureInput* input) {
  const rapidjson::Value* tickets = nullptr;
  Status status = GetRequiredObject(closure, "tickets", "closure", &tickets);
  if (!status.ok()) return status;
  status = GetRequiredUint(*tickets, "sequence", "closure.tickets", kMaxSequence,
                           &input->to_sequence);
  if (!status.ok()) return status;

  const std::string path = "closure.tickets.state";
  const rapidjson::Value* state = FindMember(*tickets, "state");
  if (input->to_sequence == 0) {
    if (state != nullptr) {
      return Status::Invalid(path, path + " must be null when closure.tickets.sequence is 0 (no "
                                          "ticket yet)");
    }
    return Status::Ok();
  }
  if (state == nullptr || !state->IsObject()) {
    return Status::Invalid(path, path + " must be the tickets chain state at sequence " +
                                     std::to_string(input->to_sequence));
  }
  uint64_t state_sequence = 0;
  status = GetRequiredUint(*state, "sequence", path, kMaxSequence, &state_sequence);
  if (!status.ok()) return status;
  if (state_sequence != input->to_sequence) {
    return Status::Invalid(path + ".sequence",
                           path + ".sequence is " + std::to_string(state_sequence) +
                               " but closure.tickets.sequence is " +
                               std::to_string(input->to_sequence) +
                               "; pass the tickets chain state of the last ticket covered");
  }
  status = GetRequiredString(*state, "signature", path, &input->last_signature);
  if (!status.ok()) return status;
  if (input->last_signature.size() != kSignatureLength) {
    return Status::Invalid(path + ".signature",
                           path + ".signature is not an 86-character signature; pass the tickets "
                                  "chain state unchanged");
  }
  const rapidjson::Value* cumulative = nullptr;
  status = GetRequiredObject(*state, "cumulative", path, &cumulative);
  if (!status.ok()) return status;
  return ReadTotals(*cumulative, path + ".cumulative", &input->end);
}

Status ReadInput(const IssueContext& context, ClosureInput* out) {
  const rapidjson::Value* closure = nullptr;
  Status status = GetRequiredObject(*context.input, "closure", "", &closure);
  if (!status.ok()) return status;
  ClosureInput input;
  status = GetRequiredString(*closure, "period", "closure", &input.period);
  if (!status.ok()) return status;
  if (input.period != "day" && input.period != "month" && input.period != "year") {
    return Status::Invalid("closure.period", "closure.period \"" + input.period +
                                                 "\" must be \"day\", \"month\" or \"year\"");
  }
  status = GetRequiredString(*closure, "label", "closure", &input.label);
  if (!status.ok()) return status;
  if (!IsLabel(input.period, input.label)) {
    std::string example = "\"2026\"";
    if (input.period == "day") example = "\"2026-12-04\"";
    if (input.period == "month") example = "\"2026-12\"";
    return Status::Invalid("closure.label", "closure.label \"" + input.label + "\" must name the " +
                                                input.period + " closed, such as " + example);
  }
  status = ReadTicketsEnd(*closure, &input);
  if (!status.ok()) return status;
  *out = std::move(input);
  return Status::Ok();
}

std::string PeriodTitle(const std::string& period) {
  if (period == "day") return "CLÔTURE JOURNALIÈRE";
  if (period == "month") return "CLÔTURE MENSUELLE";
  return "CLÔTURE ANNUELLE";
}

// "2026-12-04" prints "04/12/2026", "2026-12" prints "12/2026".
std::string FrenchLabel(const std::string& label) {
  if (label.size() == 10) return label.substr(8, 2) + "/" + label.substr(5, 2) + "/" + label.substr(0, 4);
  if (label.size() == 7) return label.substr(5, 2) + "/" + label.substr(0, 4);
  return label;
}

struct ClosureRecord {
  const ClosureInput* input = nullptr;
  uint64_t from_sequence = 0;
  Totals totals;
};

// Writes the totals of the tickets covered and the perpetual totals at the closure's end.
void WriteClosureTotals(JsonWriter& writer, const ClosureRecord& closure) {
  writer.Key("totals");
  WriteTotals(writer, closure.totals);
  writer.Key("perpetual");
  WriteTotals(writer, closure.input->end);
}

std::string BuildDocument(const IssueContext& context, const std::string& fiscal_id,
                          const ClosureRecord& closure) {
  JsonObjectText document;
  JsonWriter& writer = document.writer();
  WriteDocumentHead(writer, context, fiscal_id);
  WriteStringMember(writer, "period", closure.input->period);
  WriteStringMember(writer, "label", closure.input->label);
  writer.Key("tickets");
  writer.StartObject();
  WriteUintMember(writer, "from_sequence", closure.from_sequence);
  WriteUintMember(writer, "to_sequence", closure.input->to_sequence);
  WriteStringMember(writer, "last_signature", closure.input->last_signature);
  writer.EndObject();
  WriteClosureTotals(writer, closure);
  return document.Finish();
}

std::string BuildPayload(const IssueContext& context, const ClosureRecord& closure,
                         const std::string& document) {
  std::string payload = PayloadBreakdown(closure.totals.rates);
  payload += "," + Decimal(closure.totals.total);
  payload += "," + Decimal(closure.input->end.absolute);
  payload += "," + FormatTimestamp(context.now);
  payload += "," + closure.input->period + ":" + closure.input->label;
  payload += "," + FormatSequence(context.sequence, kSequenceWidth);
  payload += PayloadTail(context, document);
  return payload;
}

std::string BuildRecordData(const IssueContext& context, const SignedPayload& signed_payload,
                            const ClosureRecord& closure) {
  JsonObjectText data;
  JsonWriter& writer = data.writer();
  WriteRecordDataHead(writer, context, kClosureFormatId, signed_payload);
  WriteStringMember(writer, "period", closure.input->period);
  WriteStringMember(writer, "label", closure.input->label);
  WriteUintMember(writer, "from_sequence", closure.from_sequence);
  WriteUintMember(writer, "to_sequence", closure.input->to_sequence);
  WriteClosureTotals(writer, closure);
  return data.Finish();
}

std::string BuildChainState(const IssueContext& context, const SignedPayload& signed_payload,
                            const std::map<std::string, LevelState>& levels) {
  JsonObjectText chain_state;
  JsonWriter& writer = chain_state.writer();
  WriteChainStateHead(writer, context, signed_payload);
  writer.Key("levels");
  writer.StartObject();
  for (std::string_view level : kLevels) {
    auto state = levels.find(std::string(level));
    if (state == levels.end()) continue;
    writer.Key(level.data(), static_cast<rapidjson::SizeType>(level.size()));
    writer.StartObject();
    WriteUintMember(writer, "sequence", state->second.sequence);
    WriteStringMember(writer, "label", state->second.label);
    writer.Key("cumulative");
    WriteTotals(writer, state->second.cumulative);
    writer.EndObject();
  }
  writer.EndObject();
  return chain_state.Finish();
}

std::string BuildReceipt(const IssueContext& context, const std::string& fiscal_id,
                         const ClosureRecord& closure, const SignedPayload& signed_payload) {
  const ClosureInput& input = *closure.input;
  auto euros = [](int64_t cents) { return FrenchDecimal(Decimal(cents)) + " EUR"; };
  ReceiptFields receipt =
      StartReceipt(context, PeriodTitle(input.period), fiscal_id, signed_payload);
  receipt.details.push_back(ReceiptDetail{"Période", FrenchLabel(input.label)});
  std::string covered = closure.from_sequence > input.to_sequence
                            ? "aucun"
                            : "n° " + std::to_string(closure.from_sequence) + " à " +
                                  std::to_string(input.to_sequence);
  receipt.details.push_back(ReceiptDetail{"Tickets", covered});
  for (const auto& [rate, total] : closure.totals.rates) {
    receipt.tva.push_back(ReceiptVat{FormatRatePercent(rate), "", "", Decimal(total)});
  }
  receipt.total_ttc = Decimal(closure.totals.total);
  receipt.devise = "EUR";
  receipt.details.push_back(ReceiptDetail{"Grand total perpétuel", euros(input.end.total)});
  receipt.details.push_back(
      ReceiptDetail{"Grand total perpétuel (valeur absolue)", euros(input.end.absolute)});
  return ReceiptJson(receipt);
}

}  // namespace

Status IssueClosure(const IssueContext& context, const Signer& signer, IssuedRecord* out) {
  ClosureInput input;
  Status status = ReadInput(context, &input);
  if (!status.ok()) return status;
  std::map<std::string, LevelState> levels;
  status = ReadLevels(context, &levels);
  if (!status.ok()) return status;

  // The start of the period is the end of the last closure of the same level.
  LevelState start = levels[input.period];
  if (input.to_sequence < start.sequence) {
    return Status::Invalid(
        "closure.tickets.sequence",
        "closure.tickets.sequence " + std::to_string(input.to_sequence) +
            " is lower than " + std::to_string(start.sequence) + ", the last ticket of the " +
            input.period + " closure " + start.label +
            "; a closure starts where the previous one of its level ended");
  }
  if (input.label < start.label) {
    return Status::Invalid("closure.label", "closure.label " + input.label +
                                                " is older than the last " + input.period +
                                                " closure " + start.label +
                                                "; periods are closed in order");
  }

  ClosureRecord closure;
  closure.input = &input;
  closure.from_sequence = start.sequence + 1;
  status = Difference(input.end, start.cumulative, &closure.totals);
  if (!status.ok()) {
    return Status::Invalid("closure.tickets.state.cumulative",
                           "closure.tickets.state.cumulative does not follow the totals of the "
                           "last " + input.period + " closure: " + status.message());
  }

  IssuedRecord record = StartRecord(context, 'Z', "closure_" + input.period);
  record.document = BuildDocument(context, record.fiscal_id, closure);
  SignedPayload signed_payload;
  status = SignRecord(context, signer, BuildPayload(context, closure, record.document), &record,
                      &signed_payload);
  if (!status.ok()) return status;

  levels[input.period] = LevelState{input.to_sequence, input.label, input.end};

  record.qr_payload = "";
  record.record_data = BuildRecordData(context, signed_payload, closure);
  record.chain_state = BuildChainState(context, signed_payload, levels);
  record.receipt = BuildReceipt(context, record.fiscal_id, closure, signed_payload);
  *out = std::move(record);
  return Status::Ok();
}

}  // namespace fiscal::france
