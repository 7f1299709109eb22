// submit_batch: sends a batch of stored records of one chain to AEAT and maps each response line
// to an outcome for the host.
#ifndef FISCAL_SPAIN_BATCH_H_
#define FISCAL_SPAIN_BATCH_H_

#include <fiscal/plugin_abi.h>

#include <functional>
#include <string>
#include <string_view>

#include "soap.h"
#include "status.h"

namespace fiscal::spain {

// Upper bound for one SOAP exchange with AEAT, in milliseconds.
inline constexpr uint32_t kSoapTimeoutMs = 30000;

// Result of the host's http_send.
struct HttpExchange {
  fiscal_status status = FISCAL_OK;  // FISCAL_OK when an HTTP response arrived
  int status_code = 0;
  std::string body;
  std::string transport_error;
};

// Sends a SOAP body to the "verifactu" endpoint. The plugin passes one that calls the host; tests
// pass a fake.
using SoapSender = std::function<HttpExchange(std::string_view body)>;

// Implements submit_batch. Returns FISCAL_ERR_TRANSPORT when the outcome is unknown; the host then
// resends the same records unchanged.
Status SubmitBatch(std::string_view input_json, const SoapSender& send, std::string* result_json);

// Maps a parsed response to the per-record result JSON. `ids` and `keys` are in record order.
std::string MapSubmitResponse(const std::vector<std::string>& ids, const std::vector<RecordKey>& keys,
                              const SubmitResponse& response, std::string_view raw_body);

}  // namespace fiscal::spain

#endif  // FISCAL_SPAIN_BATCH_H_
