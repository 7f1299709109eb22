// issue_record: turns a sale, refund or cancellation into a chained VERI*FACTU record.
#ifndef FISCAL_SPAIN_RECORD_ISSUER_H_
#define FISCAL_SPAIN_RECORD_ISSUER_H_

#include <string>
#include <string_view>

#include "status.h"
#include "system_info.h"

namespace fiscal::spain {

// Implements issue_record. The same input always gives byte-identical output.
Status IssueRecord(const SystemInfo& system, std::string_view input_json, std::string* result_json);

}  // namespace fiscal::spain

#endif  // FISCAL_SPAIN_RECORD_ISSUER_H_
