// JSON representations of stored resources, as the API returns them.
#pragma once

#include <string>

#include "store/accounts_store.h"
#include "store/transactions_store.h"

namespace fiscal::api {

std::string AccountJson(const store::AccountRow& account);
// `plain_key` is included only when not empty (on creation).
std::string ApiKeyJson(const store::ApiKeyRow& key, const std::string& plain_key);
std::string LocationJson(const store::LocationRow& location);
std::string RecordJson(const store::RecordRow& record, const std::string& transaction_id);
std::string TransactionJson(const store::TransactionRow& transaction);

// Wraps a page of items: {"data": [...], "total": N, "limit": L, "offset": O}.
std::string PageJson(const std::string& items, long total, int limit, int offset);

}  // namespace fiscal::api
