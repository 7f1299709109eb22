#include "echo_record.h"

namespace fiscal::bench {

std::string EchoRecord(std::string_view input_json) {
  return "{\"size\":" + std::to_string(input_json.size()) + "}";
}

}  // namespace fiscal::bench
