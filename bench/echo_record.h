// The work of the bench-echo plugin, kept apart from its ABI entry point so that the benchmark can
// call the same C++ code directly and through the plugin ABI.
#pragma once

#include <string>
#include <string_view>

namespace fiscal::bench {

// Returns {"size":N} for an input of N bytes. The work is deliberately tiny, so that timing a call
// through the ABI shows the cost of the call itself.
std::string EchoRecord(std::string_view input_json);

}  // namespace fiscal::bench
