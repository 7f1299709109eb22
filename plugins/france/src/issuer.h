// issue_record of the france-nf525 plugin: reads the common input, checks that the operation fits
// the chain and that chain.previous continues it, and dispatches to the operation's record.
#ifndef FISCAL_FRANCE_ISSUER_H_
#define FISCAL_FRANCE_ISSUER_H_

#include <string>
#include <string_view>

#include "signer.h"
#include "status.h"

namespace fiscal::france {

// Issues one record and writes the issue_record result JSON. `signer` signs the record; when it
// fails, its status is returned unchanged and no result is written.
Status IssueRecord(std::string_view input_json, const Signer& signer, std::string* result_json);

}  // namespace fiscal::france

#endif  // FISCAL_FRANCE_ISSUER_H_
