// The register's own records (docs/france.md): POST /v1/transactions/{id}/duplicates,
// POST and GET /v1/locations/{id}/closures, POST /v1/locations/{id}/events,
// GET /v1/locations/{id}/journal, POST /v1/locations/{id}/archives and
// GET /v1/locations/{id}/archives/{archive_id}.
#include "api/app.h"
#include "api/auth.h"
#include "api/input.h"
#include "api/maintenance.h"
#include "api/transaction_input.h"
#include "api/views.h"
#include "common/json.h"
#include "common/json_tree.h"
#include "common/log.h"
#include "journal/closure_scheduler.h"
#include "journal/register_service.h"
#include "store/chain_records_store.h"

namespace fiscal::api {
namespace {

using json::Quote;

// The authenticated caller and the location of the path, when the location's plugin keeps the
// feature the route needs.
struct Target {
  store::Principal principal;
  store::LocationRow location;
  journal::Actor actor;
};

Result<Target> LoadTarget(App& app, http::Request& request, const std::string& location_id,
                          const std::string& feature) {
  auto principal = Authenticate(app, request);
  if (!principal.ok()) return principal.status();
  if (!IsUuid(location_id)) return Status::NotFound("location " + location_id + " not found");
  auto location = app.accounts->GetLocation(principal->account_id, location_id);
  if (!location.ok()) return location.status();
  if (app.registers == nullptr || !journal::HasFeature(*location, feature)) {
    return Status::Conflict("feature_not_supported", "the plugin " + location->plugin_name +
                                                         " serving this location keeps no " + feature +
                                                         "; see docs/france.md for the registers that do");
  }
  return Target{*principal, *location, journal::Actor{request.request_id, principal->account_id,
                                                      principal->environment}};
}

std::string ChainRecordJson(const store::ChainRecordRow& record, const std::string& chain) {
  return "{\"id\":" + Quote(record.id) + ",\"object\":\"fiscal_record\",\"chain\":" + Quote(chain) +
         ",\"sequence\":" + std::to_string(record.sequence) + ",\"operation\":" + Quote(record.operation) +
         ",\"record_type\":" + Quote(record.record_type) + ",\"fiscal_id\":" + Quote(record.fiscal_id) +
         ",\"transaction_id\":" + (record.transaction_id.empty() ? "null" : Quote(record.transaction_id)) +
         ",\"signature\":" + Quote(record.hash) + ",\"data\":" + record.record_data + ",\"document\":" +
         Quote(record.document) + ",\"plugin\":{\"name\":" + Quote(record.plugin_name) + ",\"version\":" +
         Quote(record.plugin_version) + "},\"generated_at\":" + Quote(record.generated_at) + "}";
}

// Reads back the records just written, for the response body.
std::string WrittenJson(App& app, const Target& target, const std::vector<store::WrittenRecord>& written) {
  std::string items;
  for (const store::WrittenRecord& record : written) {
    std::string chain = record.chain_key == target.location.chain_key
                            ? journal::kTickets
                            : record.chain_key.substr(record.chain_key.rfind('#') + 1);
    auto row = app.chain_records->GetRecord(record.id);
    if (!row.ok()) {
      log::Error("cannot read back a record just written", {{"record_id", record.id}, {"error", row.status().message()}});
      continue;
    }
    items += (items.empty() ? "" : ",") + ChainRecordJson(*row, chain);
  }
  return "[" + items + "]";
}

Result<std::string> OptionalText(const json::Node& body, const char* name, size_t max_size) {
  auto value = ReadString(body, name, "", max_size, false);
  if (!value.ok()) return value.status();
  return value->value_or("");
}

http::Response CreateClosure(App& app, http::Request& request) {
  auto target = LoadTarget(app, request, request.Param("id"), journal::kClosures);
  if (!target.ok()) return http::ErrorResponse(target.status());
  Result<json::Node> body = json::Parse(request.body);
  if (!body.ok()) return http::ErrorResponse(body.status());
  auto period = ReadString(*body, "period", "", 8, true);
  if (!period.ok()) return http::ErrorResponse(period.status());
  if (**period != "day" && **period != "month" && **period != "year") {
    return http::ErrorResponse(Status::InvalidArgument("period", "period must be \"day\", \"month\" or \"year\""));
  }

  // The label is the local period that is being closed now.
  std::string time_zone = journal::ProfileString(target->location, "time_zone");
  auto today = app.chain_records->LocalDate(time_zone.empty() ? "UTC" : time_zone);
  if (!today.ok()) return http::ErrorResponse(today.status());
  auto written = app.registers->Close(target->location, target->actor, **period, "", *today, false);
  if (!written.ok()) return http::ErrorResponse(written.status());
  log::Info("closure issued", {{"request_id", request.request_id}, {"location_id", target->location.id},
                               {"period", **period}, {"date", *today}});
  return http::Response::Json(201, "{\"object\":\"closure_result\",\"records\":" +
                                       WrittenJson(app, *target, *written) + "}");
}

// The register's grand totals: the perpetual totals after its newest ticket, and per level the
// totals at its last closure.
http::Response GetGrandTotals(App& app, http::Request& request) {
  auto target = LoadTarget(app, request, request.Param("id"), journal::kClosures);
  if (!target.ok()) return http::ErrorResponse(target.status());
  const std::string& plugin = target->location.plugin_name;
  auto tickets = app.chain_records->HeadState(plugin, target->actor.environment,
                                              journal::ChainKey(target->location, journal::kTickets));
  if (!tickets.ok()) return http::ErrorResponse(tickets.status());
  auto closures = app.chain_records->HeadState(plugin, target->actor.environment,
                                               journal::ChainKey(target->location, journal::kClosures));
  if (!closures.ok()) return http::ErrorResponse(closures.status());

  auto member = [](const std::string& state, const char* name) {
    Result<json::Node> parsed = json::Parse(state.empty() ? "{}" : state, "chain state");
    const json::Node* node = parsed.ok() ? parsed->Find(name) : nullptr;
    return node == nullptr ? std::string("null") : node->ToJson();
  };
  return http::Response::Json(
      200, "{\"object\":\"grand_totals\",\"location_id\":" + Quote(target->location.id) + ",\"environment\":" +
               Quote(target->actor.environment) + ",\"last_ticket_sequence\":" + member(*tickets, "sequence") +
               ",\"perpetual\":" + member(*tickets, "cumulative") + ",\"closures\":" + member(*closures, "levels") +
               "}");
}

http::Response ListChain(App& app, http::Request& request, const std::string& chain, const std::string& feature,
                         const std::string& operation) {
  auto target = LoadTarget(app, request, request.Param("id"), feature);
  if (!target.ok()) return http::ErrorResponse(target.status());
  auto limit = ReadIntParam(request.Query("limit"), "limit", 20, 1, 100);
  if (!limit.ok()) return http::ErrorResponse(limit.status());
  auto offset = ReadIntParam(request.Query("offset"), "offset", 0, 0, 1000000);
  if (!offset.ok()) return http::ErrorResponse(offset.status());

  long total = 0;
  auto rows = app.chain_records->ListLatest(target->location.plugin_name, target->actor.environment,
                                            journal::ChainKey(target->location, chain), operation, *limit, *offset,
                                            total);
  if (!rows.ok()) return http::ErrorResponse(rows.status());
  std::string items;
  for (size_t i = 0; i < rows->size(); ++i) items += (i > 0 ? "," : "") + ChainRecordJson((*rows)[i], chain);
  return http::Response::Json(200, PageJson(items, total, *limit, *offset));
}

http::Response ListJournal(App& app, http::Request& request) {
  std::string chain = request.Query("chain");
  if (chain.empty()) chain = journal::kJournal;
  for (const char* known : {journal::kTickets, journal::kTraining, journal::kDuplicates, journal::kClosures,
                            journal::kArchives, journal::kJournal}) {
    if (chain == known) return ListChain(app, request, chain, journal::kJournal, "");
  }
  return http::ErrorResponse(Status::InvalidArgument(
      "chain", "chain must be one of tickets, training, duplicates, closures, archives, journal"));
}

http::Response CreateEvent(App& app, http::Request& request) {
  auto target = LoadTarget(app, request, request.Param("id"), journal::kJournal);
  if (!target.ok()) return http::ErrorResponse(target.status());
  Result<json::Node> body = json::Parse(request.body);
  if (!body.ok()) return http::ErrorResponse(body.status());
  auto type = ReadString(*body, "type", "", 32, true);
  if (!type.ok()) return http::ErrorResponse(type.status());
  std::optional<journal::Event> event = journal::ClientEvent(**type);
  if (!event) {
    return http::ErrorResponse(Status::InvalidArgument(
        "type", "type must be one of login, logout, offline_start, offline_end, training_start, training_end; the "
                "host journals the other events itself"));
  }
  auto operator_id = OptionalText(*body, "operator", 100);
  if (!operator_id.ok()) return http::ErrorResponse(operator_id.status());
  auto description = OptionalText(*body, "description", 500);
  if (!description.ok()) return http::ErrorResponse(description.status());
  event->operator_id = *operator_id;
  event->description = *description;

  auto written = app.registers->RecordEvent(target->location, target->actor, *event);
  if (!written.ok()) return http::ErrorResponse(written.status());
  std::string records = WrittenJson(app, *target, {*written});
  return http::Response::Json(201, records.size() > 2 ? records.substr(1, records.size() - 2) : "{}");
}

http::Response CreateDuplicate(App& app, http::Request& request) {
  auto principal = Authenticate(app, request);
  if (!principal.ok()) return http::ErrorResponse(principal.status());
  std::string id = request.Param("id");
  if (!IsUuid(id)) return http::ErrorResponse(Status::NotFound("transaction " + id + " not found"));
  auto transaction = app.transactions->Get(principal->account_id, id);
  if (!transaction.ok()) return http::ErrorResponse(transaction.status());
  auto target = LoadTarget(app, request, transaction->location_id, journal::kDuplicates);
  if (!target.ok()) return http::ErrorResponse(target.status());
  target->actor.environment = transaction->environment;

  Result<json::Node> body = json::Parse(request.body.empty() ? "{}" : request.body);
  if (!body.ok()) return http::ErrorResponse(body.status());
  auto operator_id = OptionalText(*body, "operator", 100);
  if (!operator_id.ok()) return http::ErrorResponse(operator_id.status());
  auto reason = OptionalText(*body, "reason", 200);
  if (!reason.ok()) return http::ErrorResponse(reason.status());

  // The plugin reads the transaction as it read it for the ticket.
  Result<json::Node> stored = json::Parse(transaction->body, "stored transaction");
  if (!stored.ok()) return http::ErrorResponse(stored.status());
  Result<TransactionInput> input = ParseTransactionInput(*stored);
  if (!input.ok()) {
    return http::ErrorResponse(Status::Internal("transaction " + id + " is stored in a form this host cannot read: " +
                                                input.status().message()));
  }
  std::string transaction_json =
      TransactionToPluginJson(*input, transaction->id, transaction->invoice_number, transaction->type == "refund");
  auto written = app.registers->Duplicate(target->location, target->actor, *transaction, transaction_json,
                                          *operator_id, reason->empty() ? "reprint requested" : *reason);
  if (!written.ok()) return http::ErrorResponse(written.status());
  std::string records = WrittenJson(app, *target, {*written});
  return http::Response::Json(201, records.size() > 2 ? records.substr(1, records.size() - 2) : "{}");
}

http::Response CreateArchive(App& app, http::Request& request) {
  auto target = LoadTarget(app, request, request.Param("id"), journal::kArchives);
  if (!target.ok()) return http::ErrorResponse(target.status());
  Result<json::Node> body = json::Parse(request.body);
  if (!body.ok()) return http::ErrorResponse(body.status());
  auto from = ReadString(*body, "from", "", 10, true);
  if (!from.ok()) return http::ErrorResponse(from.status());
  auto to = ReadString(*body, "to", "", 10, true);
  if (!to.ok()) return http::ErrorResponse(to.status());

  auto archive_id = app.registers->Archive(target->location, target->actor, **from, **to);
  if (!archive_id.ok()) return http::ErrorResponse(archive_id.status());
  auto blob = app.chain_records->GetArchive(target->principal.account_id, target->location.id, *archive_id);
  if (!blob.ok()) return http::ErrorResponse(blob.status());
  log::Info("archive issued", {{"request_id", request.request_id}, {"location_id", target->location.id},
                               {"archive_id", *archive_id}});
  return http::Response::Json(
      201, "{\"id\":" + Quote(*archive_id) + ",\"object\":\"archive\",\"location_id\":" + Quote(target->location.id) +
               ",\"from\":" + Quote(blob->period_from) + ",\"to\":" + Quote(blob->period_to) + ",\"sha256\":" +
               Quote(blob->sha256) + ",\"size\":" + std::to_string(blob->content.size()) + ",\"download_url\":" +
               Quote("/v1/locations/" + target->location.id + "/archives/" + *archive_id) + "}");
}

http::Response GetArchive(App& app, http::Request& request) {
  auto target = LoadTarget(app, request, request.Param("id"), journal::kArchives);
  if (!target.ok()) return http::ErrorResponse(target.status());
  std::string archive_id = request.Param("archive_id");
  if (!IsUuid(archive_id)) return http::ErrorResponse(Status::NotFound("archive " + archive_id + " not found"));
  auto blob = app.chain_records->GetArchive(target->principal.account_id, target->location.id, archive_id);
  if (!blob.ok()) return http::ErrorResponse(blob.status());

  http::Response response;
  response.status = 200;
  response.content_type = "application/zip";
  response.body = blob->content;
  return response;
}

// Runs one pass of the closure schedule now, or as of another instant. Closing as of a future
// instant is refused for live records: only sandbox (test) registers may be closed ahead of time,
// for example to rehearse a month end.
http::Response RunClosures(App& app, http::Request& request) {
  Status admin = AuthenticateAdmin(app, request);
  if (!admin.ok()) return http::ErrorResponse(admin);
  if (app.closure_scheduler == nullptr) {
    return http::ErrorResponse(Status::Unavailable("the closure schedule is not running on this host"));
  }
  Result<json::Node> body = json::Parse(request.body.empty() ? "{}" : request.body);
  if (!body.ok()) return http::ErrorResponse(body.status());
  auto as_of = OptionalText(*body, "as_of", 40);
  if (!as_of.ok()) return http::ErrorResponse(as_of.status());
  auto environment = OptionalText(*body, "environment", 8);
  if (!environment.ok()) return http::ErrorResponse(environment.status());
  if (!as_of->empty() && !IsRfc3339(*as_of)) {
    return http::ErrorResponse(Status::InvalidArgument("as_of", "as_of must be an RFC 3339 date-time"));
  }
  if (!as_of->empty() && *environment != "test") {
    return http::ErrorResponse(Status::InvalidArgument(
        "environment", "closing as of another instant is allowed for environment \"test\" only; live registers "
                       "close on their own clock"));
  }
  if (!environment->empty() && *environment != "test" && *environment != "live") {
    return http::ErrorResponse(Status::InvalidArgument("environment", "environment must be \"test\" or \"live\""));
  }

  int written = app.closure_scheduler->RunOnce(*as_of, *environment);
  return http::Response::Json(200, "{\"object\":\"closure_run\",\"records_written\":" + std::to_string(written) +
                                       "}");
}

}  // namespace

void AddRegisterRoutes(App& app, http::Router& router) {
  router.Add("POST", "/v1/transactions/:id/duplicates", [&app](http::Request& r) { return CreateDuplicate(app, r); });
  router.Add("POST", "/v1/locations/:id/closures", [&app](http::Request& r) { return CreateClosure(app, r); });
  router.Add("GET", "/v1/locations/:id/closures", [&app](http::Request& r) {
    return ListChain(app, r, journal::kClosures, journal::kClosures, "closure");
  });
  router.Add("GET", "/v1/locations/:id/grand-totals", [&app](http::Request& r) { return GetGrandTotals(app, r); });
  router.Add("POST", "/v1/locations/:id/events", [&app](http::Request& r) { return CreateEvent(app, r); });
  router.Add("GET", "/v1/locations/:id/journal", [&app](http::Request& r) { return ListJournal(app, r); });
  router.Add("POST", "/v1/locations/:id/archives", [&app](http::Request& r) { return CreateArchive(app, r); });
  router.Add("GET", "/v1/locations/:id/archives", [&app](http::Request& r) {
    return ListChain(app, r, journal::kArchives, journal::kArchives, "archive");
  });
  router.Add("POST", "/v1/admin/closures/run", [&app](http::Request& r) { return RunClosures(app, r); });
  router.Add("GET", "/v1/locations/:id/archives/:archive_id",
             [&app](http::Request& r) { return GetArchive(app, r); });
}

}  // namespace fiscal::api
