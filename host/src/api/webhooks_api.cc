// POST and GET /v1/webhooks; GET, PATCH and DELETE /v1/webhooks/{id};
// POST /v1/webhooks/{id}/rotate-secret; GET /v1/webhooks/{id}/deliveries.
#include "api/webhooks_api.h"

#include <algorithm>

#include "api/auth.h"
#include "api/input.h"
#include "api/views.h"
#include "common/json.h"
#include "common/json_tree.h"
#include "webhooks/url_policy.h"
#include "webhooks/webhook_store.h"

namespace fiscal::api {
namespace {

// Refuses a loopback receiver when the configuration does not let the sender reach one, so that a
// webhook is never accepted only to fail on every delivery.
Status CheckLoopbackAllowed(const App& app, const std::string& url) {
  if (app.config == nullptr || app.config->webhooks.allow_loopback) return Status::Ok();
  size_t start = url.find("://");
  if (start == std::string::npos) return Status::Ok();
  start += 3;
  size_t end = url.find_first_of("/?#", start);
  std::string authority = url.substr(start, end == std::string::npos ? std::string::npos : end - start);
  std::string host = authority[0] == '[' ? authority.substr(0, authority.find(']') + 1)
                                         : authority.substr(0, authority.find(':'));
  for (char& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  bool loopback = host == "localhost" || host == "[::1]" || host.rfind("127.", 0) == 0;
  if (!loopback) return Status::Ok();
  return Status::InvalidArgument("url", "url points to a loopback address, which this server does not deliver to "
                                        "(webhooks.allow_loopback is false in its configuration)");
}

using json::Quote;

constexpr size_t kMaxUrlBytes = 2048;
constexpr size_t kMaxDescriptionBytes = 500;
const char* kKnownEvents = "fiscalization.completed, fiscalization.dead_letter";

std::string OrNull(const std::optional<std::string>& text) { return text ? Quote(*text) : "null"; }

// The secret appears only when `with_secret` (on create and rotate).
std::string WebhookJson(const webhooks::WebhookRow& webhook, bool with_secret) {
  std::string events = "[";
  for (size_t i = 0; i < webhook.events.size(); ++i) events += (i > 0 ? "," : "") + Quote(webhook.events[i]);
  events += "]";

  std::string out = "{\"id\":" + Quote(webhook.id) + ",\"object\":\"webhook\",\"account_id\":" +
                    Quote(webhook.account_id) + ",\"url\":" + Quote(webhook.url) + ",\"events\":" + events +
                    ",\"description\":" + OrNull(webhook.description) +
                    ",\"enabled\":" + (webhook.enabled ? "true" : "false") + ",\"created_at\":" +
                    Quote(webhook.created_at) + ",\"updated_at\":" + Quote(webhook.updated_at);
  if (with_secret) out += ",\"secret\":" + Quote(webhook.secret);
  return out + "}";
}

std::string DeliveryJson(const webhooks::DeliveryRow& delivery) {
  std::string status_code = delivery.last_status_code ? std::to_string(*delivery.last_status_code) : "null";
  return "{\"id\":" + Quote(std::to_string(delivery.id)) + ",\"object\":\"webhook_delivery\",\"webhook_id\":" +
         Quote(delivery.webhook_id) + ",\"event\":" + Quote(delivery.event) + ",\"event_id\":" +
         Quote(delivery.event_id) + ",\"status\":" + Quote(delivery.status) + ",\"attempt\":" +
         std::to_string(delivery.attempt) + ",\"max_attempts\":" + std::to_string(delivery.max_attempts) +
         ",\"last_status_code\":" + status_code + ",\"last_error\":" + OrNull(delivery.last_error) +
         ",\"next_attempt_at\":" + OrNull(delivery.next_attempt_at) + ",\"delivered_at\":" +
         OrNull(delivery.delivered_at) + ",\"created_at\":" + Quote(delivery.created_at) + ",\"updated_at\":" +
         Quote(delivery.updated_at) + ",\"payload\":" + delivery.payload + "}";
}

// Returns the store, or 503 when the server runs without webhooks.
Result<webhooks::WebhookStore*> Store(App& app) {
  if (app.webhooks == nullptr) return Status::Unavailable("webhooks are not enabled on this server");
  return app.webhooks;
}

Result<json::Node> ParseObject(const http::Request& request) {
  Result<json::Node> body = json::Parse(request.body);
  if (!body.ok()) return body.status();
  if (!body->IsObject()) return Status::InvalidArgument("", "the request body must be a JSON object");
  return body;
}

Result<std::string> ReadUrl(const App& app, const json::Node& body, bool required) {
  auto url = ReadString(body, "url", "", kMaxUrlBytes, required);
  if (!url.ok()) return url.status();
  if (!url->has_value()) return std::string();
  FISCAL_RETURN_IF_ERROR(webhooks::ValidateWebhookUrl(**url, "url"));
  FISCAL_RETURN_IF_ERROR(CheckLoopbackAllowed(app, **url));
  return **url;
}

// Reads "events": a non-empty array of known event types. Repeated types are kept once.
Result<std::vector<std::string>> ReadEvents(const json::Node& body) {
  const json::Node* node = body.Find("events");
  if (node == nullptr || node->IsNull()) {
    return Status::InvalidArgument("events", std::string("events is required: list the event types to receive (") +
                                                 kKnownEvents + ")");
  }
  if (!node->IsArray()) {
    return Status::InvalidArgument("events", std::string("events must be an array of event types, not ") +
                                                 json::Node::TypeName(node->type()));
  }
  if (node->items().empty()) {
    return Status::InvalidArgument("events", std::string("events is required: list at least one event type (") +
                                                 kKnownEvents + ")");
  }

  std::vector<std::string> events;
  for (size_t i = 0; i < node->items().size(); ++i) {
    const json::Node& item = node->items()[i];
    std::string field = "events[" + std::to_string(i) + "]";
    if (!item.IsString() || !webhooks::IsKnownEvent(item.text())) {
      std::string received = item.IsString() ? "\"" + item.text() + "\"" : json::Node::TypeName(item.type());
      return Status::InvalidArgument(field, "invalid event type " + received + " in " + field + "; expected one of " +
                                                kKnownEvents);
    }
    if (std::find(events.begin(), events.end(), item.text()) == events.end()) events.push_back(item.text());
  }
  return events;
}

// Reads "description": a string, or null to clear it. Returns nullopt for null.
Result<std::optional<std::string>> ReadDescription(const json::Node& body) {
  return ReadString(body, "description", "", kMaxDescriptionBytes, false);
}

Result<bool> ReadEnabled(const json::Node& node) {
  if (!node.IsBool()) {
    return Status::InvalidArgument("enabled", std::string("enabled must be true or false, not ") +
                                                  json::Node::TypeName(node.type()));
  }
  return node.boolean();
}

// Checks the path id; a malformed one is reported like an unknown one.
Status CheckWebhookId(const std::string& id) {
  if (!IsUuid(id)) return Status::NotFound("webhook " + id + " not found");
  return Status::Ok();
}

http::Response CreateWebhook(App& app, http::Request& request) {
  auto principal = Authenticate(app, request);
  if (!principal.ok()) return http::ErrorResponse(principal.status());
  auto store = Store(app);
  if (!store.ok()) return http::ErrorResponse(store.status());

  auto body = ParseObject(request);
  if (!body.ok()) return http::ErrorResponse(body.status());
  auto url = ReadUrl(app, *body, true);
  if (!url.ok()) return http::ErrorResponse(url.status());
  auto events = ReadEvents(*body);
  if (!events.ok()) return http::ErrorResponse(events.status());
  auto description = ReadDescription(*body);
  if (!description.ok()) return http::ErrorResponse(description.status());
  bool enabled = true;
  if (const json::Node* node = body->Find("enabled"); node != nullptr && !node->IsNull()) {
    auto value = ReadEnabled(*node);
    if (!value.ok()) return http::ErrorResponse(value.status());
    enabled = *value;
  }

  auto created = (*store)->Create(principal->account_id, *url, *events, *description, enabled);
  if (!created.ok()) return http::ErrorResponse(created.status());
  return http::Response::Json(201, WebhookJson(*created, true));
}

http::Response ListWebhooks(App& app, http::Request& request) {
  auto principal = Authenticate(app, request);
  if (!principal.ok()) return http::ErrorResponse(principal.status());
  auto store = Store(app);
  if (!store.ok()) return http::ErrorResponse(store.status());
  auto limit = ReadIntParam(request.Query("limit"), "limit", 20, 1, 100);
  if (!limit.ok()) return http::ErrorResponse(limit.status());
  auto offset = ReadIntParam(request.Query("offset"), "offset", 0, 0, 10000);
  if (!offset.ok()) return http::ErrorResponse(offset.status());

  long total = 0;
  auto webhooks = (*store)->List(principal->account_id, *limit, *offset, total);
  if (!webhooks.ok()) return http::ErrorResponse(webhooks.status());
  std::string items;
  for (size_t i = 0; i < webhooks->size(); ++i) items += (i > 0 ? "," : "") + WebhookJson((*webhooks)[i], false);
  return http::Response::Json(200, PageJson(items, total, *limit, *offset));
}

http::Response GetWebhook(App& app, http::Request& request) {
  auto principal = Authenticate(app, request);
  if (!principal.ok()) return http::ErrorResponse(principal.status());
  auto store = Store(app);
  if (!store.ok()) return http::ErrorResponse(store.status());
  std::string id = request.Param("id");
  if (Status valid = CheckWebhookId(id); !valid.ok()) return http::ErrorResponse(valid);

  auto webhook = (*store)->Get(principal->account_id, id);
  if (!webhook.ok()) return http::ErrorResponse(webhook.status());
  return http::Response::Json(200, WebhookJson(*webhook, false));
}

http::Response UpdateWebhook(App& app, http::Request& request) {
  auto principal = Authenticate(app, request);
  if (!principal.ok()) return http::ErrorResponse(principal.status());
  auto store = Store(app);
  if (!store.ok()) return http::ErrorResponse(store.status());
  std::string id = request.Param("id");
  if (Status valid = CheckWebhookId(id); !valid.ok()) return http::ErrorResponse(valid);

  auto body = ParseObject(request);
  if (!body.ok()) return http::ErrorResponse(body.status());

  // Only the fields present change; "description": null clears the description.
  webhooks::WebhookUpdate update;
  if (const json::Node* node = body->Find("url"); node != nullptr) {
    if (node->IsNull()) return http::ErrorResponse(Status::InvalidArgument("url", "url must not be null; omit it to keep the current URL"));
    auto url = ReadUrl(app, *body, true);
    if (!url.ok()) return http::ErrorResponse(url.status());
    update.url = *url;
  }
  if (body->Find("events") != nullptr) {
    auto events = ReadEvents(*body);
    if (!events.ok()) return http::ErrorResponse(events.status());
    update.events = *events;
  }
  if (body->Find("description") != nullptr) {
    auto description = ReadDescription(*body);
    if (!description.ok()) return http::ErrorResponse(description.status());
    update.set_description = true;
    update.description = *description;
  }
  if (const json::Node* node = body->Find("enabled"); node != nullptr) {
    auto enabled = ReadEnabled(*node);
    if (!enabled.ok()) return http::ErrorResponse(enabled.status());
    update.enabled = *enabled;
  }

  auto webhook = (*store)->Update(principal->account_id, id, update);
  if (!webhook.ok()) return http::ErrorResponse(webhook.status());
  return http::Response::Json(200, WebhookJson(*webhook, false));
}

http::Response DeleteWebhook(App& app, http::Request& request) {
  auto principal = Authenticate(app, request);
  if (!principal.ok()) return http::ErrorResponse(principal.status());
  auto store = Store(app);
  if (!store.ok()) return http::ErrorResponse(store.status());
  std::string id = request.Param("id");
  if (Status valid = CheckWebhookId(id); !valid.ok()) return http::ErrorResponse(valid);

  Status deleted = (*store)->Delete(principal->account_id, id);
  if (!deleted.ok()) return http::ErrorResponse(deleted);
  return http::Response::Json(204, "");
}

http::Response RotateSecret(App& app, http::Request& request) {
  auto principal = Authenticate(app, request);
  if (!principal.ok()) return http::ErrorResponse(principal.status());
  auto store = Store(app);
  if (!store.ok()) return http::ErrorResponse(store.status());
  std::string id = request.Param("id");
  if (Status valid = CheckWebhookId(id); !valid.ok()) return http::ErrorResponse(valid);

  auto webhook = (*store)->RotateSecret(principal->account_id, id);
  if (!webhook.ok()) return http::ErrorResponse(webhook.status());
  return http::Response::Json(200, WebhookJson(*webhook, true));
}

http::Response ListDeliveries(App& app, http::Request& request) {
  auto principal = Authenticate(app, request);
  if (!principal.ok()) return http::ErrorResponse(principal.status());
  auto store = Store(app);
  if (!store.ok()) return http::ErrorResponse(store.status());
  std::string id = request.Param("id");
  if (Status valid = CheckWebhookId(id); !valid.ok()) return http::ErrorResponse(valid);
  auto limit = ReadIntParam(request.Query("limit"), "limit", 20, 1, 100);
  if (!limit.ok()) return http::ErrorResponse(limit.status());
  auto offset = ReadIntParam(request.Query("offset"), "offset", 0, 0, 10000);
  if (!offset.ok()) return http::ErrorResponse(offset.status());

  long total = 0;
  auto deliveries = (*store)->ListDeliveries(principal->account_id, id, *limit, *offset, total);
  if (!deliveries.ok()) return http::ErrorResponse(deliveries.status());
  std::string items;
  for (size_t i = 0; i < deliveries->size(); ++i) items += (i > 0 ? "," : "") + DeliveryJson((*deliveries)[i]);
  return http::Response::Json(200, PageJson(items, total, *limit, *offset));
}

}  // namespace

void AddWebhookRoutes(App& app, http::Router& router) {
  router.Add("POST", "/v1/webhooks", [&app](http::Request& r) { return CreateWebhook(app, r); });
  router.Add("GET", "/v1/webhooks", [&app](http::Request& r) { return ListWebhooks(app, r); });
  router.Add("GET", "/v1/webhooks/:id", [&app](http::Request& r) { return GetWebhook(app, r); });
  router.Add("PATCH", "/v1/webhooks/:id", [&app](http::Request& r) { return UpdateWebhook(app, r); });
  router.Add("DELETE", "/v1/webhooks/:id", [&app](http::Request& r) { return DeleteWebhook(app, r); });
  router.Add("POST", "/v1/webhooks/:id/rotate-secret", [&app](http::Request& r) { return RotateSecret(app, r); });
  router.Add("GET", "/v1/webhooks/:id/deliveries", [&app](http::Request& r) { return ListDeliveries(app, r); });
}

}  // namespace fiscal::api
