// POST and GET /v1/transactions, GET /v1/transactions/{id}, POST /v1/transactions/{id}/cancel,
// GET /v1/transactions/{id}/document and /receipt.
#include "api/app.h"
#include "api/auth.h"
#include "api/idempotency.h"
#include "api/maintenance.h"
#include "api/plugins_admin_api.h"
#include "api/rate_limit.h"
#include "api/retry_queue_api.h"
#include "api/webhooks_api.h"
#include "api/input.h"
#include "api/transaction_input.h"
#include "api/views.h"
#include "common/json.h"
#include "common/json_tree.h"
#include "common/log.h"
#include "journal/register_service.h"
#include "plugins/issued_record.h"
#include "receipt/receipt.h"

namespace fiscal::api {
namespace {

using json::Quote;

// Maps a field path of the plugin's input ("transaction.customer.name") to the request's
// ("customer.name"). The plugin receives per-rate totals that the server computed from the items, so
// errors in them point at the items.
std::string RequestField(const std::string& plugin_field) {
  const std::string prefix = "transaction.";
  if (plugin_field.rfind(prefix, 0) != 0) return plugin_field;
  std::string field = plugin_field.substr(prefix.size());
  if (field.rfind("breakdown", 0) == 0) return "items";
  return field;
}

// Builds the issue_record input around one chain position.
std::string IssueInput(const std::string& operation, const std::string& environment, const store::LocationRow& location,
                       const std::string& transaction_json, const store::ChainPosition& position,
                       const store::IssueRequest& issue) {
  return "{\"operation\":" + Quote(operation) + ",\"environment\":" + Quote(environment) + ",\"now\":" +
         Quote(position.generated_at) + ",\"training\":" + (issue.training ? "true" : "false") + ",\"location\":" +
         location.country_config + ",\"transaction\":" + transaction_json + ",\"original\":" +
         (position.original_record.empty() ? "null" : position.original_record) + ",\"chain\":{\"key\":" +
         Quote(issue.chain_key) + ",\"name\":" + Quote(issue.training ? journal::kTraining : journal::kTickets) +
         ",\"sequence\":" + std::to_string(position.sequence) + ",\"previous\":" +
         (position.previous_state.empty() ? "null" : position.previous_state) + "}}";
}

// Runs the plugin inside the store's transaction; see TransactionsStore::Issue.
store::RecordBuilder MakeBuilder(const App& app, std::shared_ptr<const plugins::LoadedPlugin> plugin,
                                 const store::IssueRequest& issue, const store::Principal& principal,
                                 const store::LocationRow& location, const http::Request& request,
                                 std::function<std::string(const store::ChainPosition&)> transaction_json) {
  const keys::KeyStore* keys = app.keys;
  return [=, &request, &issue](const store::ChainPosition& position) -> Result<store::IssuedRecord> {
    plugins::CallContext context;
    context.request_id = request.request_id;
    context.account_id = principal.account_id;
    context.location_id = location.id;
    context.environment = principal.environment;
    context.key_store = keys;
    context.pinned_key_ref = journal::ProfileString(location, "signing_key");
    context.pinned_key_id = journal::ProfileString(location, "signing_key_id");
    plugins::CallOutcome outcome = plugin->IssueRecord(
        IssueInput(issue.operation, principal.environment, location, transaction_json(position), position, issue),
        context);
    if (!outcome.ok()) {
      Status status = outcome.ToStatus("issue_record");
      if (status.error_code() == "signing_key_unavailable") return status;
      if (status.code() == StatusCode::kUnavailable) {
        // issue_record never uses the network, so "transport" here is a plugin bug.
        return Status::Internal("plugin " + plugin->descriptor().name + " failed to issue the record");
      }
      if (status.code() == StatusCode::kInvalidArgument) return Status::InvalidArgument(RequestField(status.field()), status.message());
      return status;
    }
    return plugins::ParseIssuedRecord(plugin->descriptor().name, outcome.result);
  };
}

// Issues through the store, journaling first an open signing-key outage of the location and
// counting the request when the key is still unavailable.
Result<std::string> IssueWithJournal(App& app, const store::IssueRequest& issue, const store::RecordBuilder& builder,
                                     const store::LocationRow& location, const journal::Actor& actor) {
  if (app.registers != nullptr) FISCAL_RETURN_IF_ERROR(app.registers->JournalOpenIncident(location, actor));
  auto id = app.transactions->Issue(issue, builder);
  if (!id.ok() && id.status().error_code() == "signing_key_unavailable" && app.registers != nullptr) {
    app.registers->NoteSigningRefusal(location, actor);
  }
  return id;
}

http::Response Created(App& app, const store::Principal& principal, const std::string& id, int code) {
  if (app.submitter != nullptr) app.submitter->Notify();
  auto stored = app.transactions->Get(principal.account_id, id);
  if (!stored.ok()) return http::ErrorResponse(stored.status());
  return http::Response::Json(code, TransactionJson(*stored));
}

// Copies the idempotency key the request runs under into the store request.
void MarkIdempotency(const http::Request& request, store::IssueRequest& issue) {
  issue.idempotency_scope = request.Header(kIdempotencyScopeHeader);
  issue.idempotency_method = request.Header(kIdempotencyMethodHeader);
  issue.idempotency_path = request.Header(kIdempotencyPathHeader);
  issue.idempotency_key = request.Header(kIdempotencyKeyHeader);
}

// The store request fields every operation shares: who issues, where, with which plugin
// generation and chain, and under which idempotency key.
store::IssueRequest BaseIssueRequest(const App& app, const http::Request& request, const std::string& account_id,
                                     const std::string& environment, const store::LocationRow& location,
                                     const plugins::LoadedPlugin& plugin, const std::string& operation) {
  store::IssueRequest issue;
  issue.account_id = account_id;
  issue.location_id = location.id;
  issue.environment = environment;
  issue.plugin_name = plugin.descriptor().name;
  issue.plugin_version = plugin.descriptor().version;
  issue.chain_key = location.chain_key;
  issue.issuer_key = location.issuer_key;
  issue.operation = operation;
  issue.max_attempts = app.config->submission.max_attempts;
  issue.submit = journal::ProfileString(location, "submission") != "none";
  MarkIdempotency(request, issue);
  return issue;
}

http::Response CreateTransaction(App& app, http::Request& request) {
  auto principal = Authenticate(app, request);
  if (!principal.ok()) return http::ErrorResponse(principal.status());

  // A retry of a request whose host died after committing: return what it created.
  std::string committed = request.Header(kCommittedResourceHeader);
  if (!committed.empty()) return Created(app, *principal, committed, 201);

  Result<json::Node> body = json::Parse(request.body);
  if (!body.ok()) return http::ErrorResponse(body.status());
  Result<TransactionInput> input = ParseTransactionInput(*body);
  if (!input.ok()) return http::ErrorResponse(input.status());

  auto location = app.accounts->GetLocation(principal->account_id, input->location_id);
  if (!location.ok()) return http::ErrorResponse(location.status());
  auto plugin = app.plugins->FindForLocation(location->plugin_name, location->id);
  if (!plugin) {
    return http::ErrorResponse(Status::Unavailable("the plugin " + location->plugin_name +
                                                   " serving this location is not loaded; see GET /health"));
  }

  Result<json::Node> config = json::Parse(location->country_config, "location config");
  const json::Node* series = config.ok() ? config->Find("invoice_series") : nullptr;

  store::IssueRequest issue =
      BaseIssueRequest(app, request, principal->account_id, principal->environment, *location, *plugin, input->type);
  issue.invoice_series = series != nullptr && series->IsString() ? series->text() : "";
  issue.client_invoice_number = input->invoice_number;
  issue.client_timestamp = input->timestamp;
  issue.currency = input->currency;
  issue.payment_method = input->payment_method;
  issue.pretax_amount = input->pretax_amount.Rounded(2).ToString();
  issue.tax_amount = input->tax_amount.Rounded(2).ToString();
  issue.total_amount = input->total_amount.Rounded(2).ToString();
  issue.body_json = body->ToJson();
  issue.original_transaction_id = input->original_transaction_id;

  if (input->training) {
    if (!journal::HasFeature(*location, journal::kTraining)) {
      return http::ErrorResponse(Status::InvalidArgument(
          "training", "the plugin serving this location has no training mode; omit training or set it to false"));
    }
    issue.training = true;
    issue.chain_key = journal::ChainKey(*location, journal::kTraining);
  }

  const TransactionInput& parsed = *input;
  bool negate = parsed.type == "refund";
  auto builder = MakeBuilder(app, plugin, issue, *principal, *location, request,
                             [&parsed, negate](const store::ChainPosition& position) {
                               return TransactionToPluginJson(parsed, position.transaction_id, position.invoice_number,
                                                              negate);
                             });
  journal::Actor actor{request.request_id, principal->account_id, principal->environment};
  auto id = IssueWithJournal(app, issue, builder, *location, actor);
  if (!id.ok()) return http::ErrorResponse(id.status());

  log::Info("transaction issued", {{"request_id", request.request_id}, {"transaction_id", *id},
                                   {"account_id", principal->account_id}, {"location_id", location->id}});
  return Created(app, *principal, *id, 201);
}

http::Response CancelTransaction(App& app, http::Request& request) {
  auto principal = Authenticate(app, request);
  if (!principal.ok()) return http::ErrorResponse(principal.status());
  std::string id = request.Param("id");
  if (!IsUuid(id)) return http::ErrorResponse(Status::NotFound("transaction " + id + " not found"));
  if (request.Header(kCommittedResourceHeader) == id) return Created(app, *principal, id, 200);

  auto existing = app.transactions->Get(principal->account_id, id);
  if (!existing.ok()) return http::ErrorResponse(existing.status());
  if (!existing->cancelled_at.empty()) {
    return http::ErrorResponse(Status::Conflict("already_cancelled", "transaction " + id + " is already cancelled"));
  }
  auto location = app.accounts->GetLocation(principal->account_id, existing->location_id);
  if (!location.ok()) return http::ErrorResponse(location.status());
  auto plugin = app.plugins->FindForLocation(location->plugin_name, location->id);
  if (!plugin) {
    return http::ErrorResponse(Status::Unavailable("the plugin " + location->plugin_name + " is not loaded; see GET /health"));
  }

  store::IssueRequest issue =
      BaseIssueRequest(app, request, principal->account_id, existing->environment, *location, *plugin, "cancel");
  issue.original_transaction_id = id;
  if (existing->training) {
    issue.training = true;
    issue.chain_key = journal::ChainKey(*location, journal::kTraining);
  }

  std::string transaction_json = "{\"id\":" + Quote(id) + ",\"type\":" + Quote(existing->type) +
                                 ",\"invoice_number\":" + Quote(existing->invoice_number) + "}";
  auto builder = MakeBuilder(app, plugin, issue, *principal, *location, request,
                             [transaction_json](const store::ChainPosition&) { return transaction_json; });
  journal::Actor actor{request.request_id, principal->account_id, existing->environment};
  auto result = IssueWithJournal(app, issue, builder, *location, actor);
  if (!result.ok()) return http::ErrorResponse(result.status());

  log::Info("transaction cancelled", {{"request_id", request.request_id}, {"transaction_id", id},
                                      {"account_id", principal->account_id}});
  return Created(app, *principal, id, 200);
}

http::Response GetTransaction(App& app, http::Request& request) {
  auto principal = Authenticate(app, request);
  if (!principal.ok()) return http::ErrorResponse(principal.status());
  std::string id = request.Param("id");
  if (!IsUuid(id)) return http::ErrorResponse(Status::NotFound("transaction " + id + " not found"));
  auto transaction = app.transactions->Get(principal->account_id, id);
  if (!transaction.ok()) return http::ErrorResponse(transaction.status());
  return http::Response::Json(200, TransactionJson(*transaction));
}

http::Response ListTransactions(App& app, http::Request& request) {
  auto principal = Authenticate(app, request);
  if (!principal.ok()) return http::ErrorResponse(principal.status());

  store::TransactionFilter filter;
  auto limit = ReadIntParam(request.Query("limit"), "limit", 20, 1, 100);
  if (!limit.ok()) return http::ErrorResponse(limit.status());
  auto offset = ReadIntParam(request.Query("offset"), "offset", 0, 0, 10000);
  if (!offset.ok()) return http::ErrorResponse(offset.status());
  filter.limit = *limit;
  filter.offset = *offset;
  filter.location_id = request.Query("location_id");
  filter.status = request.Query("status");
  filter.type = request.Query("type");
  filter.from = request.Query("from");
  filter.to = request.Query("to");
  if (!filter.location_id.empty() && !IsUuid(filter.location_id)) {
    return http::ErrorResponse(Status::InvalidArgument("location_id", "location_id must be a location id (a UUID)"));
  }
  if (!filter.status.empty() && filter.status != "pending" && filter.status != "registered" &&
      filter.status != "registered_with_errors" && filter.status != "rejected" && filter.status != "signed") {
    return http::ErrorResponse(Status::InvalidArgument(
        "status", "status must be one of pending, registered, registered_with_errors, rejected, signed"));
  }
  if (!filter.type.empty() && filter.type != "sale" && filter.type != "refund") {
    return http::ErrorResponse(Status::InvalidArgument("type", "type must be sale or refund"));
  }
  for (const auto& [name, value] : {std::pair<const char*, std::string>{"from", filter.from}, {"to", filter.to}}) {
    if (!value.empty() && !IsRfc3339(value)) {
      return http::ErrorResponse(Status::InvalidArgument(name, std::string(name) + " must be an RFC 3339 date-time"));
    }
  }

  long total = 0;
  auto transactions = app.transactions->List(principal->account_id, filter, total);
  if (!transactions.ok()) return http::ErrorResponse(transactions.status());
  std::string items;
  for (size_t i = 0; i < transactions->size(); ++i) items += (i > 0 ? "," : "") + TransactionJson((*transactions)[i]);
  return http::Response::Json(200, PageJson(items, total, filter.limit, filter.offset));
}

// Returns the record selected by ?record=sale|cancel|duplicate (default: the transaction's own
// record). For duplicates `copy` picks the reprint by number (1 for the first; default the last).
Result<store::RecordRow> SelectRecord(const store::TransactionRow& transaction, const std::string& which,
                                      const std::string& copy = "") {
  if (!which.empty() && which != "sale" && which != "cancel" && which != "duplicate") {
    return Status::InvalidArgument("record", "record must be \"sale\" (the transaction's own record), \"cancel\" or "
                                             "\"duplicate\"");
  }
  if (which == "duplicate") {
    std::vector<const store::RecordRow*> copies;
    for (const store::RecordRow& record : transaction.records) {
      if (record.operation == "duplicate") copies.push_back(&record);
    }
    if (copies.empty()) return Status::NotFound("transaction " + transaction.id + " has no reprint");
    if (copy.empty()) return *copies.back();
    auto number = ReadIntParam(copy, "copy", 0, 1, static_cast<int>(copies.size()));
    if (!number.ok()) return number.status();
    return *copies[static_cast<size_t>(*number) - 1];
  }
  for (const store::RecordRow& record : transaction.records) {
    if (which == "cancel" ? record.operation == "cancel" : record.operation == "sale" || record.operation == "refund") {
      return record;
    }
  }
  return Status::NotFound("transaction " + transaction.id + " has no " + (which.empty() ? "sale" : which) + " record");
}

http::Response GetDocument(App& app, http::Request& request) {
  auto principal = Authenticate(app, request);
  if (!principal.ok()) return http::ErrorResponse(principal.status());
  std::string id = request.Param("id");
  if (!IsUuid(id)) return http::ErrorResponse(Status::NotFound("transaction " + id + " not found"));
  auto transaction = app.transactions->Get(principal->account_id, id);
  if (!transaction.ok()) return http::ErrorResponse(transaction.status());
  auto record = SelectRecord(*transaction, request.Query("record"), request.Query("copy"));
  if (!record.ok()) return http::ErrorResponse(record.status());

  http::Response response;
  response.status = 200;
  response.content_type = record->document_type + "; charset=utf-8";
  response.body = record->document;
  return response;
}

http::Response GetReceipt(App& app, http::Request& request) {
  auto principal = Authenticate(app, request);
  if (!principal.ok()) return http::ErrorResponse(principal.status());
  std::string id = request.Param("id");
  if (!IsUuid(id)) return http::ErrorResponse(Status::NotFound("transaction " + id + " not found"));
  auto transaction = app.transactions->Get(principal->account_id, id);
  if (!transaction.ok()) return http::ErrorResponse(transaction.status());
  auto record = SelectRecord(*transaction, request.Query("record"), request.Query("copy"));
  if (!record.ok()) return http::ErrorResponse(record.status());
  auto location = app.accounts->GetLocation(principal->account_id, transaction->location_id);
  if (!location.ok()) return http::ErrorResponse(location.status());
  auto plugin = app.plugins->FindForLocation(location->plugin_name, location->id);
  if (!plugin) return http::ErrorResponse(Status::Unavailable("the plugin " + location->plugin_name + " is not loaded"));

  std::string input = "{\"transaction\":" + TransactionJson(*transaction) + ",\"record\":{\"fiscal_id\":" +
                      Quote(record->fiscal_id) + ",\"hash\":" + Quote(record->hash) + ",\"qr_payload\":" +
                      Quote(record->qr_payload) + ",\"record_type\":" + Quote(record->record_type) + ",\"receipt\":" +
                      record->receipt + ",\"record_data\":" + record->record_data + "},\"location\":" +
                      location->country_config + "}";
  plugins::CallContext context;
  context.request_id = request.request_id;
  context.account_id = principal->account_id;
  context.location_id = location->id;
  context.environment = transaction->environment;
  plugins::CallOutcome outcome = plugin->RenderReceipt(input, context);
  if (!outcome.ok()) return http::ErrorResponse(outcome.ToStatus("render_receipt"));

  auto html = receipt::RenderHtml(outcome.result, record->qr_payload);
  if (!html.ok()) return http::ErrorResponse(html.status());
  http::Response response;
  response.content_type = "text/html; charset=utf-8";
  response.body = *html;
  return response;
}

}  // namespace

void AddTransactionRoutes(App& app, http::Router& router) {
  router.Add("POST", "/v1/transactions", [&app](http::Request& r) { return CreateTransaction(app, r); });
  router.Add("GET", "/v1/transactions", [&app](http::Request& r) { return ListTransactions(app, r); });
  router.Add("GET", "/v1/transactions/:id", [&app](http::Request& r) { return GetTransaction(app, r); });
  router.Add("POST", "/v1/transactions/:id/cancel", [&app](http::Request& r) { return CancelTransaction(app, r); });
  router.Add("GET", "/v1/transactions/:id/document", [&app](http::Request& r) { return GetDocument(app, r); });
  router.Add("GET", "/v1/transactions/:id/receipt", [&app](http::Request& r) { return GetReceipt(app, r); });
}

std::shared_ptr<http::Router> BuildRouter(App& app) {
  auto router = std::make_shared<http::Router>();

  // Outermost first: maintenance responds before any database or Redis work; replays of idempotent
  // requests still count against the rate limit.
  if (app.maintenance != nullptr) router->Use(MakeMaintenanceMiddleware(*app.maintenance));
  if (app.rate_limiter != nullptr && app.config->rate_limits.enabled) {
    router->Use(MakeRateLimitMiddleware(*app.rate_limiter, app.config->rate_limits.test_tier,
                                        app.config->rate_limits.live_tier));
  }
  router->Use(MakeIdempotencyMiddleware(app));

  AddSystemRoutes(app, *router);
  AddMaintenanceRoutes(app, *router);
  AddRetryQueueRoutes(app, *router);
  AddWebhookRoutes(app, *router);
  AddPluginAdminRoutes(app, *router);
  AddAccountRoutes(app, *router);
  AddLocationRoutes(app, *router);
  AddTransactionRoutes(app, *router);
  AddRegisterRoutes(app, *router);
  return router;
}

}  // namespace fiscal::api
