#include "store/chains.h"

#include <soci/soci.h>

namespace fiscal::store {

ChainHead LockChain(soci::session& session, const std::string& plugin_name, const std::string& environment,
                    const std::string& chain_key) {
  session << "INSERT INTO chains (plugin_name, environment, chain_key) VALUES (:p, :e, :k) "
             "ON CONFLICT (plugin_name, environment, chain_key) DO NOTHING",
      soci::use(plugin_name), soci::use(environment), soci::use(chain_key);

  ChainHead head;
  soci::indicator state_indicator = soci::i_null;
  session << "SELECT id, last_sequence, last_state::text FROM chains "
             "WHERE plugin_name = :p AND environment = :e AND chain_key = :k FOR UPDATE",
      soci::use(plugin_name), soci::use(environment), soci::use(chain_key), soci::into(head.id),
      soci::into(head.last_sequence), soci::into(head.last_state, state_indicator);
  if (state_indicator != soci::i_ok) head.last_state.clear();
  return head;
}

}  // namespace fiscal::store
