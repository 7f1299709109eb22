// One function per issue_record operation. Each validates its part of the input, builds the
// record's canonical JSON document, the payload of its format (ending with the base64url SHA-256
// of the document), signs payload + "," + previous signature and returns what the host stores.
// Nothing is returned when a step fails.
#ifndef FISCAL_FRANCE_RECORDS_H_
#define FISCAL_FRANCE_RECORDS_H_

#include <rapidjson/document.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "record.h"
#include "signer.h"
#include "status.h"
#include "totals.h"

namespace fiscal::france {

// The stored ticket a refund, a void or a reprint refers to: the host's "original" object
// {fiscal_id, hash, record_type, record_data} with the record_data this plugin wrote.
struct OriginalTicket {
  std::string fiscal_id;
  std::string record_type;  // "ticket" or "training"
  std::string signature;
  std::string type;  // payload type, such as "VENTE" or "FORMATION-VENTE"
  std::string register_id;
  uint64_t sequence = 0;
  RateAmounts vat_totals;
  int64_t total = 0;
  std::string extract;
};

// Reads input.original. Checks that it is a ticket record of this plugin whose hash is its
// signature.
Status ReadOriginalTicket(const rapidjson::Value& input, OriginalTicket* out);

// "sale", "refund" and "cancel" on the "tickets" or "training" chain.
Status IssueTicket(const IssueContext& context, const Signer& signer, IssuedRecord* out);

// "duplicate" on the "duplicates" chain: a reprint of a stored ticket.
Status IssueDuplicate(const IssueContext& context, const Signer& signer, IssuedRecord* out);

// "closure" on the "closures" chain: a day, month or year closure of the tickets chain.
Status IssueClosure(const IssueContext& context, const Signer& signer, IssuedRecord* out);

// "event" on the "journal" chain: one entry of the technical event journal (JET).
Status IssueEvent(const IssueContext& context, const Signer& signer, IssuedRecord* out);

// "archive" on the "archives" chain: the record of one archive produced.
Status IssueArchive(const IssueContext& context, const Signer& signer, IssuedRecord* out);

}  // namespace fiscal::france

#endif  // FISCAL_FRANCE_RECORDS_H_
