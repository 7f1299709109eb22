#include "issuer.h"

#include "payload.h"
#include "records.h"
#include "signature.h"
#include "time_util.h"

namespace fiscal::france {
namespace {

// The chain each operation writes to.
std::string_view ChainOf(std::string_view operation) {
  if (operation == "sale" || operation == "refund" || operation == "cancel") return "tickets";
  if (operation == "duplicate") return "duplicates";
  if (operation == "closure") return "closures";
  if (operation == "event") return "journal";
  if (operation == "archive") return "archives";
  return "";
}

Status ReadChain(const rapidjson::Value& input, IssueContext* context) {
  const rapidjson::Value* chain = nullptr;
  Status status = GetRequiredObject(input, "chain", "", &chain);
  if (!status.ok()) return status;
  status = GetRequiredString(*chain, "name", "chain", &context->chain_name);
  if (!status.ok()) return status;
  status = GetRequiredUint(*chain, "sequence", "chain", kMaxSequence, &context->sequence);
  if (!status.ok()) return status;
  if (context->sequence == 0) {
    return Status::Invalid("chain.sequence", "chain.sequence must start at 1");
  }

  auto previous = chain->FindMember("previous");
  bool has_previous = previous != chain->MemberEnd() && !previous->value.IsNull();
  if (context->sequence == 1) {
    if (has_previous) {
      return Status::Invalid("chain.previous", "chain.previous must be null for the first record "
                                               "of a chain (chain.sequence 1)");
    }
    return Status::Ok();
  }
  if (!has_previous || !previous->value.IsObject()) {
    return Status::Invalid("chain.previous", "chain.previous must be the chain state of record " +
                                                 std::to_string(context->sequence - 1));
  }
  context->previous = &previous->value;
  uint64_t previous_sequence = 0;
  status = GetRequiredUint(*context->previous, "sequence", "chain.previous", kMaxSequence,
                           &previous_sequence);
  if (!status.ok()) return status;
  if (previous_sequence + 1 != context->sequence) {
    return Status::Invalid("chain.previous.sequence",
                           "chain.previous.sequence is " + std::to_string(previous_sequence) +
                               " but chain.sequence is " + std::to_string(context->sequence) +
                               "; records of a chain are numbered without gaps");
  }
  status = GetRequiredString(*context->previous, "signature", "chain.previous",
                             &context->previous_signature);
  if (!status.ok()) return status;
  std::string raw;
  if (context->previous_signature.size() != kSignatureLength ||
      !Base64UrlDecode(context->previous_signature, &raw)) {
    return Status::Invalid("chain.previous.signature",
                           "chain.previous.signature is not an 86-character base64url "
                           "signature; pass the stored chain state unchanged");
  }
  return Status::Ok();
}

Status ReadContext(const rapidjson::Value& input, IssueContext* context) {
  context->input = &input;
  Status status = GetRequiredString(input, "operation", "", &context->operation);
  if (!status.ok()) return status;
  std::string_view chain = ChainOf(context->operation);
  if (chain.empty()) {
    return Status::Unsupported("operation \"" + context->operation +
                               "\" is not supported by the France NF525 plugin; use sale, refund, "
                               "cancel, duplicate, closure, event or archive");
  }

  std::string now;
  status = GetRequiredString(input, "now", "", &now);
  if (!status.ok()) return status;
  status = ParseRfc3339(now, "now", &context->now);
  if (!status.ok()) return status;

  const rapidjson::Value* location = nullptr;
  status = GetRequiredObject(input, "location", "", &location);
  if (!status.ok()) return status;
  status = ParseLocationConfig(*location, "location", &context->location);
  if (!status.ok()) return status;

  status = ReadChain(input, context);
  if (!status.ok()) return status;
  // "training" is optional; when given it must agree with the chain.
  bool training_flag = context->chain_name == "training";
  status = GetOptionalBool(input, "training", "", &training_flag);
  if (!status.ok()) return status;

  bool training_chain = chain == "tickets" && context->chain_name == "training";
  if (context->chain_name != chain && !training_chain) {
    return Status::Invalid("chain.name", "chain.name is \"" + context->chain_name +
                                             "\" but operation " + context->operation +
                                             " writes to the \"" + std::string(chain) + "\"" +
                                             (chain == "tickets" ? " or \"training\"" : "") +
                                             " chain");
  }
  if (training_flag != training_chain) {
    return Status::Invalid("training", training_flag
                                           ? "training is true, so the record belongs to the "
                                             "\"training\" chain, not \"" +
                                                 context->chain_name + "\""
                                           : "training is false, but the \"training\" chain "
                                             "takes only training records");
  }
  context->training = training_chain;
  return Status::Ok();
}

}  // namespace

Status IssueRecord(std::string_view input_json, const Signer& signer, std::string* result_json) {
  rapidjson::Document input;
  Status status = ParseJsonObject(input_json, "the issue_record input", &input);
  if (!status.ok()) return status;
  IssueContext context;
  status = ReadContext(input, &context);
  if (!status.ok()) return status;

  IssuedRecord record;
  const std::string& operation = context.operation;
  if (operation == "duplicate") {
    status = IssueDuplicate(context, signer, &record);
  } else if (operation == "closure") {
    status = IssueClosure(context, signer, &record);
  } else if (operation == "event") {
    status = IssueEvent(context, signer, &record);
  } else if (operation == "archive") {
    status = IssueArchive(context, signer, &record);
  } else {
    status = IssueTicket(context, signer, &record);
  }
  if (!status.ok()) return status;
  *result_json = IssuedRecordJson(record);
  return Status::Ok();
}

}  // namespace fiscal::france
