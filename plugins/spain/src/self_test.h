// Known-answer tests run by the host after create(), without network access.
#ifndef FISCAL_SPAIN_SELF_TEST_H_
#define FISCAL_SPAIN_SELF_TEST_H_

#include "status.h"

namespace fiscal::spain {

// Recomputes the three worked examples of AEAT's hash specification v0.1.2 (first alta, chained
// alta, anulación) and the QR example of AEAT's QR specification v0.4.7. Stores the number of
// checks in `*checks`; fails with FISCAL_ERR_INTERNAL naming the first check that differs.
Status RunSelfTest(int* checks);

}  // namespace fiscal::spain

#endif  // FISCAL_SPAIN_SELF_TEST_H_
