// The "original" object of refunds, voids and reprints.
#include "payload.h"
#include "records.h"
#include "signature.h"

namespace fiscal::france {
namespace {

bool IsTicketType(std::string_view type) {
  if (type.substr(0, 10) == "FORMATION-") type.remove_prefix(10);
  return type == "VENTE" || type == "REMBOURSEMENT" || type == "ANNULATION";
}

}  // namespace

Status ReadOriginalTicket(const rapidjson::Value& input, OriginalTicket* out) {
  const rapidjson::Value* original = nullptr;
  Status status = GetRequiredObject(input, "original", "", &original);
  if (!status.ok()) return status;

  OriginalTicket ticket;
  status = GetRequiredString(*original, "fiscal_id", "original", &ticket.fiscal_id);
  if (!status.ok()) return status;
  status = GetRequiredString(*original, "record_type", "original", &ticket.record_type);
  if (!status.ok()) return status;
  if (ticket.record_type != "ticket" && ticket.record_type != "training") {
    return Status::Invalid("original.record_type",
                           "original.record_type is \"" + ticket.record_type +
                               "\"; only a ticket (\"ticket\" or \"training\") can be refunded "
                               "or voided, and only a \"ticket\" can be reprinted");
  }
  std::string hash;
  status = GetRequiredString(*original, "hash", "original", &hash);
  if (!status.ok()) return status;

  const rapidjson::Value* data = nullptr;
  status = GetRequiredObject(*original, "record_data", "original", &data);
  if (!status.ok()) return status;
  const std::string path = "original.record_data";
  std::string format;
  status = GetRequiredString(*data, "format", path, &format);
  if (!status.ok()) return status;
  if (format != kTicketFormatV1.id && format != kTrainingFormatV1.id) {
    return Status::Invalid(path + ".format", path + ".format \"" + format +
                                                 "\" is not a ticket format of this plugin; pass "
                                                 "the stored record_data unchanged");
  }
  status = GetRequiredString(*data, "signature", path, &ticket.signature);
  if (!status.ok()) return status;
  if (ticket.signature.size() != kSignatureLength || ticket.signature != hash) {
    return Status::Invalid("original.hash", "original.hash differs from the signature in "
                                            "original.record_data; pass the stored record "
                                            "unchanged");
  }
  // Type and register enter the payloads of reprints, so only values this plugin writes pass.
  status = GetRequiredString(*data, "type", path, &ticket.type);
  if (!status.ok()) return status;
  if (!IsTicketType(ticket.type)) {
    return Status::Invalid(path + ".type", path + ".type \"" + ticket.type +
                                               "\" is not a ticket type of this plugin; pass the "
                                               "stored record_data unchanged");
  }
  status = GetRequiredString(*data, "register", path, &ticket.register_id);
  if (!status.ok()) return status;
  if (!IsRegisterId(ticket.register_id)) {
    return Status::Invalid(path + ".register", path + ".register \"" + ticket.register_id +
                                                   "\" is not a register id; pass the stored "
                                                   "record_data unchanged");
  }
  status = GetRequiredUint(*data, "sequence", path, kMaxSequence, &ticket.sequence);
  if (!status.ok()) return status;
  const rapidjson::Value* vat_totals = nullptr;
  status = GetRequiredObject(*data, "vat_totals", path, &vat_totals);
  if (!status.ok()) return status;
  status = ReadRateAmounts(*vat_totals, path + ".vat_totals", &ticket.vat_totals);
  if (!status.ok()) return status;
  status = GetRequiredAmount(*data, "total", path, &ticket.total);
  if (!status.ok()) return status;
  int64_t sum = 0;
  bool overflow = false;
  for (const auto& [rate, amount] : ticket.vat_totals) {
    overflow = overflow || __builtin_add_overflow(sum, amount, &sum);
  }
  if (overflow || sum != ticket.total) {
    return Status::Invalid(path + ".total", path + ".total differs from the sum of " + path +
                                                ".vat_totals; pass the stored record_data "
                                                "unchanged");
  }

  ticket.extract = SignatureExtract(ticket.signature);
  *out = std::move(ticket);
  return Status::Ok();
}

}  // namespace fiscal::france
