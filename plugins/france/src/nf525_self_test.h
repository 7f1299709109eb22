// The plugin's known-answer tests, run by the host after create and before the plugin serves.
#ifndef FISCAL_FRANCE_NF525_SELF_TEST_H_
#define FISCAL_FRANCE_NF525_SELF_TEST_H_

#include "status.h"

namespace fiscal::france {

// Checks SHA-256 and base64url on a published value, the payload layout and the verification of
// the deterministic (RFC 6979) P-256 chain vectors, and a sign, issue and verify round trip with
// a freshly generated key. Stores the number of checks passed in *checks.
Status RunSelfTest(int* checks);

}  // namespace fiscal::france

#endif  // FISCAL_FRANCE_NF525_SELF_TEST_H_
