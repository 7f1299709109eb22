// Chain heads, shared by the stores that append records to a chain.
#pragma once

#include <string>

namespace soci {
class session;
}  // namespace soci

namespace fiscal::store {

struct ChainHead {
  long long id = 0;
  long long last_sequence = 0;
  std::string last_state;  // JSON text, empty before the first record
};

// Creates the chain on first use, then locks its head row until the database transaction ends.
// While the lock is held no other record can join the chain, so the caller's next record takes
// sequence last_sequence + 1 and follows last_state.
ChainHead LockChain(soci::session& session, const std::string& plugin_name, const std::string& environment,
                    const std::string& chain_key);

}  // namespace fiscal::store
