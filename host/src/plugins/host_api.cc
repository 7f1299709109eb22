#include "plugins/host_api.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <exception>
#include <new>
#include <utility>

#include "common/log.h"
#include "keys/key_store.h"

// The state behind one fiscal_call handle. The host creates it on the stack of RunPluginCall, so it
// lives exactly as long as the plugin function that receives it.
struct fiscal_call {
  const fiscal::plugins::CallTarget* target = nullptr;
  const fiscal::plugins::CallContext* context = nullptr;
  std::string_view operation;
  bool network_allowed = false;

  std::string result;
  bool result_set = false;
  std::string error_field;
  std::string error_message;
  bool error_set = false;

  // Error of the last failed host API function, used as the message when the plugin then fails
  // without calling set_error itself.
  std::string host_error;

  // Responses handed to the plugin. A deque keeps every element in place as it grows, so pointers
  // given out by an earlier http_send stay valid until the plugin function returns.
  std::deque<fiscal::net::HttpExchange> exchanges;
  // Signatures handed to the plugin, kept in place for the same reason.
  std::deque<fiscal::keys::Signature> signatures;
};

namespace fiscal::plugins {
namespace {

// Maximum size of an error or log message kept from a plugin. The rest is cut so that one call
// cannot flood the log or an API error body.
constexpr size_t kMaxMessageSize = 4096;

std::string CopyMessage(const char* data, size_t size) {
  if (data == nullptr) return {};
  return std::string(data, std::min(size, kMaxMessageSize));
}

log::Severity SeverityFromLevel(int32_t level) {
  switch (level) {
    case FISCAL_LOG_DEBUG: return log::Severity::kDebug;
    case FISCAL_LOG_WARNING: return log::Severity::kWarning;
    case FISCAL_LOG_ERROR: return log::Severity::kError;
    default: return log::Severity::kInfo;
  }
}

fiscal_status SetResult(fiscal_call* call, const char* data, size_t size) noexcept {
  if (call == nullptr) return FISCAL_ERR_INVALID_INPUT;
  if (data == nullptr && size != 0) {
    call->host_error = "set_result was called with a null data pointer and size " + std::to_string(size);
    return FISCAL_ERR_INVALID_INPUT;
  }
  try {
    call->result.assign(data == nullptr ? "" : data, size);
  } catch (const std::bad_alloc&) {
    return FISCAL_ERR_NO_MEMORY;
  }
  call->result_set = true;
  return FISCAL_OK;
}

void SetError(fiscal_call* call, const char* field, size_t field_size, const char* message,
              size_t message_size) noexcept {
  if (call == nullptr) return;
  try {
    call->error_field = CopyMessage(field, field_size);
    call->error_message = CopyMessage(message, message_size);
    call->error_set = true;
  } catch (const std::bad_alloc&) {
    // The call then ends with the generic message of RunPluginCall.
  }
}

void Log(fiscal_call* call, int32_t level, const char* message, size_t message_size) noexcept {
  try {
    std::string text = CopyMessage(message, message_size);
    if (call == nullptr || call->context == nullptr) {
      log::Write(SeverityFromLevel(level), text, {{"source", "plugin"}});
      return;
    }
    const CallContext& context = *call->context;
    log::Write(SeverityFromLevel(level), text,
               {{"plugin", call->target->plugin_name},
                {"operation", std::string(call->operation)},
                {"request_id", context.request_id},
                {"account_id", context.account_id},
                {"location_id", context.location_id}});
  } catch (...) {
    // Logging must never fail a plugin call, and no exception may cross into the plugin.
  }
}

// Fails one http_send: records the reason for the call and in the response, when there is one.
fiscal_status RejectHttpSend(fiscal_call* call, fiscal_http_response* response, fiscal_status status,
                             std::string reason) {
  log::Warning("plugin HTTP request rejected",
               {{"plugin", call->target->plugin_name},
                {"request_id", call->context->request_id},
                {"error", reason}});
  call->exchanges.emplace_back();
  net::HttpExchange& stored = call->exchanges.back();
  stored.transport_error = reason;
  call->host_error = std::move(reason);
  if (response != nullptr) {
    response->status_code = 0;
    response->body = nullptr;
    response->body_size = 0;
    response->content_type = "";
    response->transport_error = stored.transport_error.c_str();
    response->timed_out = 0;
  }
  return status;
}

// Returns the endpoint a plugin's logical name stands for in the call's environment, or nullptr
// with `reason` filled.
const net::EndpointConfig* ResolveEndpoint(const fiscal_call& call, const std::string& name,
                                           std::string& reason) {
  const std::string& environment = call.context->environment;
  const EndpointMap* endpoints = call.target->endpoints;
  auto by_name = endpoints == nullptr ? EndpointMap::const_iterator() : endpoints->find(name);
  if (endpoints == nullptr || by_name == endpoints->end()) {
    reason = "unknown endpoint \"" + name + "\": plugin \"" + call.target->plugin_name +
             "\" has no endpoint of that name in the host configuration";
    return nullptr;
  }
  auto by_environment = by_name->second.find(environment);
  if (by_environment == by_name->second.end()) {
    reason = "endpoint \"" + name + "\" of plugin \"" + call.target->plugin_name +
             "\" has no URL for environment \"" + environment + "\" in the host configuration";
    return nullptr;
  }
  return &by_environment->second;
}

fiscal_status HttpSendUnguarded(fiscal_call* call, const fiscal_http_request* request,
                                fiscal_http_response* response) {
  if (response == nullptr || response->struct_size < sizeof(fiscal_http_response)) {
    return RejectHttpSend(call, nullptr, FISCAL_ERR_INVALID_INPUT,
                          "http_send needs a fiscal_http_response with struct_size >= " +
                              std::to_string(sizeof(fiscal_http_response)));
  }
  if (!call->network_allowed) {
    return RejectHttpSend(call, response, FISCAL_ERR_UNSUPPORTED,
                          "http_send is not allowed in " + std::string(call->operation) +
                              " (only submit_batch may send requests)");
  }
  if (request == nullptr || request->struct_size < sizeof(fiscal_http_request)) {
    return RejectHttpSend(call, response, FISCAL_ERR_INVALID_INPUT,
                          "http_send needs a fiscal_http_request with struct_size >= " +
                              std::to_string(sizeof(fiscal_http_request)));
  }
  if (request->endpoint == nullptr || request->method == nullptr ||
      (request->body == nullptr && request->body_size != 0)) {
    return RejectHttpSend(call, response, FISCAL_ERR_INVALID_INPUT,
                          "http_send request is missing its endpoint, method or body");
  }

  std::string reason;
  const net::EndpointConfig* endpoint = ResolveEndpoint(*call, request->endpoint, reason);
  if (endpoint == nullptr) return RejectHttpSend(call, response, FISCAL_ERR_INVALID_INPUT, reason);
  if (call->target->http_sender == nullptr) {
    return RejectHttpSend(call, response, FISCAL_ERR_TRANSPORT, "this host has no HTTP sender");
  }

  net::HttpRequest outgoing;
  outgoing.method = request->method;
  outgoing.content_type = request->content_type == nullptr ? "" : request->content_type;
  outgoing.extra_headers = request->extra_headers == nullptr ? "" : request->extra_headers;
  outgoing.body.assign(reinterpret_cast<const char*>(request->body), request->body_size);
  if (request->timeout_ms != 0) outgoing.timeout_ms = std::min(request->timeout_ms, kMaxHttpTimeoutMs);
  // The operator's per-endpoint bound wins over the plugin's wish.
  if (endpoint->timeout_ms != 0) outgoing.timeout_ms = std::min(outgoing.timeout_ms, endpoint->timeout_ms);

  call->exchanges.push_back(call->target->http_sender->Send(*endpoint, outgoing));
  const net::HttpExchange& exchange = call->exchanges.back();

  // A sender that reports neither a status nor an error still means that no response arrived.
  bool arrived = exchange.status_code != 0 && exchange.transport_error.empty();
  if (!arrived && exchange.transport_error.empty()) {
    call->exchanges.back().transport_error = "no response from endpoint \"" + std::string(request->endpoint) + "\"";
  }

  response->status_code = exchange.status_code;
  response->body = reinterpret_cast<const uint8_t*>(exchange.body.data());
  response->body_size = exchange.body.size();
  response->content_type = exchange.content_type.c_str();
  response->transport_error = exchange.transport_error.c_str();
  response->timed_out = exchange.timed_out ? 1 : 0;

  if (!arrived) {
    log::Warning("plugin HTTP request got no response",
                 {{"plugin", call->target->plugin_name},
                  {"endpoint", request->endpoint},
                  {"request_id", call->context->request_id},
                  {"timed_out", exchange.timed_out ? "true" : "false"},
                  {"error", exchange.transport_error}});
    call->host_error = exchange.transport_error;
    return FISCAL_ERR_TRANSPORT;
  }
  log::Debug("plugin HTTP request sent", {{"plugin", call->target->plugin_name},
                                          {"endpoint", request->endpoint},
                                          {"request_id", call->context->request_id},
                                          {"status_code", std::to_string(exchange.status_code)}});
  return FISCAL_OK;
}

fiscal_status HttpSend(fiscal_call* call, const fiscal_http_request* request,
                       fiscal_http_response* response) noexcept {
  if (call == nullptr || call->context == nullptr) return FISCAL_ERR_INVALID_INPUT;
  try {
    return HttpSendUnguarded(call, request, response);
  } catch (const std::bad_alloc&) {
    return FISCAL_ERR_NO_MEMORY;
  } catch (const std::exception& error) {
    // An HttpSender should not throw, but no exception may cross into the plugin.
    call->host_error = std::string("HTTP sender failed: ") + error.what();
    log::Error("HTTP sender failed", {{"plugin", call->target->plugin_name}, {"error", error.what()}});
    return FISCAL_ERR_TRANSPORT;
  } catch (...) {
    call->host_error = "HTTP sender failed with an exception of unknown type";
    return FISCAL_ERR_TRANSPORT;
  }
}

// Fails one sign call: records the reason as the call's last host error.
fiscal_status RejectSign(fiscal_call* call, fiscal_status status, std::string reason) {
  log::Warning("plugin signature rejected", {{"plugin", call->target->plugin_name},
                                             {"operation", std::string(call->operation)},
                                             {"request_id", call->context->request_id},
                                             {"account_id", call->context->account_id},
                                             {"status", StatusCodeName(status)},
                                             {"error", reason}});
  call->host_error = std::move(reason);
  return status;
}

fiscal_status SignUnguarded(fiscal_call* call, const fiscal_sign_request* request, fiscal_sign_result* result) {
  if (result == nullptr || result->struct_size < sizeof(fiscal_sign_result)) {
    return RejectSign(call, FISCAL_ERR_INVALID_INPUT,
                      "sign needs a fiscal_sign_result with struct_size >= " + std::to_string(sizeof(fiscal_sign_result)));
  }
  *result = fiscal_sign_result{};
  result->struct_size = sizeof(fiscal_sign_result);
  if (call->operation != "issue_record") {
    return RejectSign(call, FISCAL_ERR_UNSUPPORTED,
                      "sign is not allowed in " + std::string(call->operation) + " (only issue_record may sign)");
  }
  if (request == nullptr || request->struct_size < sizeof(fiscal_sign_request)) {
    return RejectSign(call, FISCAL_ERR_INVALID_INPUT,
                      "sign needs a fiscal_sign_request with struct_size >= " + std::to_string(sizeof(fiscal_sign_request)));
  }
  if (request->key_ref == nullptr || request->algorithm == nullptr ||
      (request->data == nullptr && request->data_size != 0)) {
    return RejectSign(call, FISCAL_ERR_INVALID_INPUT, "sign request is missing its key_ref, algorithm or data");
  }
  // Bounded reads: a plugin that forgot the NUL must not make the host scan its memory.
  std::string_view algorithm(request->algorithm, ::strnlen(request->algorithm, 16));
  if (algorithm != "ES256") {
    return RejectSign(call, FISCAL_ERR_INVALID_INPUT,
                      "unsupported signature algorithm \"" + std::string(algorithm) + "\": ABI 1.1 defines only ES256");
  }
  std::string_view key_ref(request->key_ref, ::strnlen(request->key_ref, 256));
  if (!keys::IsValidKeyRef(key_ref)) {
    return RejectSign(call, FISCAL_ERR_INVALID_INPUT,
                      "invalid signing key reference \"" + std::string(key_ref.substr(0, 140)) +
                          "\": use 1 to 128 characters of A-Z, a-z, 0-9, '.', '_' and '-', not starting with '.'");
  }
  const keys::KeyStore* key_store = call->context->key_store;
  if (key_store == nullptr) {
    return RejectSign(call, FISCAL_ERR_UNAVAILABLE,
                      "signing key \"" + std::string(key_ref) + "\" is unavailable: this host has no signing key store");
  }

  std::string_view data(reinterpret_cast<const char*>(request->data), request->data_size);
  const std::string_view expected_key_id =
      key_ref == call->context->pinned_key_ref ? std::string_view(call->context->pinned_key_id) : std::string_view();
  Result<keys::Signature> signature = key_store->Sign(call->context->account_id, key_ref, data, expected_key_id);
  if (!signature.ok()) {
    const Status& status = signature.status();
    // The key_ref was checked above, so an invalid argument left is the call's account id: a host bug.
    fiscal_status code = status.code() == StatusCode::kUnavailable ? FISCAL_ERR_UNAVAILABLE : FISCAL_ERR_INTERNAL;
    return RejectSign(call, code, status.message());
  }

  call->signatures.push_back(std::move(*signature));
  const keys::Signature& stored = call->signatures.back();
  result->signature = reinterpret_cast<const uint8_t*>(stored.raw.data());
  result->signature_size = stored.raw.size();
  result->key_id = stored.key_id.c_str();
  result->public_key_pem = stored.public_key_pem.c_str();
  result->certificate_chain_pem = "";
  return FISCAL_OK;
}

fiscal_status Sign(fiscal_call* call, const fiscal_sign_request* request, fiscal_sign_result* result) noexcept {
  if (call == nullptr || call->context == nullptr) return FISCAL_ERR_INVALID_INPUT;
  try {
    return SignUnguarded(call, request, result);
  } catch (const std::bad_alloc&) {
    return FISCAL_ERR_NO_MEMORY;
  } catch (...) {
    // The key store returns Status and should not throw, but no exception may cross into the plugin.
    call->host_error = "signing failed with an unexpected exception";
    return FISCAL_ERR_INTERNAL;
  }
}

const fiscal_host_api kHostApi = {
    sizeof(fiscal_host_api), FISCAL_ABI_MINOR, &SetResult, &SetError, &Log, &HttpSend, &Sign,
};

}  // namespace

const fiscal_host_api* FindHostApi(uint32_t major, uint32_t min_minor) {
  if (major != FISCAL_ABI_MAJOR || min_minor > FISCAL_ABI_MINOR) return nullptr;
  return &kHostApi;
}

std::string StatusCodeName(int32_t status) {
  switch (status) {
    case FISCAL_OK: return "FISCAL_OK";
    case FISCAL_ERR_INVALID_INPUT: return "FISCAL_ERR_INVALID_INPUT";
    case FISCAL_ERR_UNSUPPORTED: return "FISCAL_ERR_UNSUPPORTED";
    case FISCAL_ERR_INTERNAL: return "FISCAL_ERR_INTERNAL";
    case FISCAL_ERR_TRANSPORT: return "FISCAL_ERR_TRANSPORT";
    case FISCAL_ERR_INCOMPATIBLE: return "FISCAL_ERR_INCOMPATIBLE";
    case FISCAL_ERR_NO_MEMORY: return "FISCAL_ERR_NO_MEMORY";
    case FISCAL_ERR_UNAVAILABLE: return "FISCAL_ERR_UNAVAILABLE";
  }
  return "status " + std::to_string(status);
}

CallOutcome RunPluginCall(const CallTarget& target, const CallContext& context,
                          std::string_view operation, CallOptions options,
                          const std::function<fiscal_status(fiscal_call*)>& invoke) {
  fiscal_call call;
  call.target = &target;
  call.context = &context;
  call.operation = operation;
  call.network_allowed = options.network_operation && context.allow_network;

  CallOutcome outcome;
  outcome.plugin = target.plugin_name;
  try {
    outcome.status = invoke(&call);
  } catch (...) {
    // The ABI forbids this, and the SDK prevents it, but a plugin written without the SDK can
    // still let a C++ exception through.
    outcome.status = FISCAL_ERR_INTERNAL;
    outcome.error_message = "plugin \"" + target.plugin_name + "\" let an exception escape from " +
                            std::string(operation);
    log::Error("plugin call failed", {{"plugin", target.plugin_name},
                                      {"operation", std::string(operation)},
                                      {"request_id", context.request_id},
                                      {"error", outcome.error_message}});
    return outcome;
  }

  if (outcome.status == FISCAL_OK) {
    if (options.result_required && !call.result_set) {
      outcome.status = FISCAL_ERR_INTERNAL;
      outcome.error_message = "plugin \"" + target.plugin_name + "\" returned no result from " +
                              std::string(operation);
      log::Error("plugin call failed", {{"plugin", target.plugin_name},
                                        {"operation", std::string(operation)},
                                        {"request_id", context.request_id},
                                        {"error", outcome.error_message}});
      return outcome;
    }
    outcome.result = std::move(call.result);
    return outcome;
  }

  if (call.error_set && !call.error_message.empty()) {
    outcome.error_field = std::move(call.error_field);
    outcome.error_message = std::move(call.error_message);
    // A plugin's message about an unavailable resource rarely names the key or the operator's fix,
    // and the host's reason does, so both are kept.
    if (outcome.status == FISCAL_ERR_UNAVAILABLE && !call.host_error.empty() &&
        outcome.error_message.find(call.host_error) == std::string::npos) {
      outcome.error_message += " (host: " + call.host_error + ")";
    }
    return outcome;
  }

  // A plugin may pass the status of a failed sign on unchanged, as plugin_abi.h allows: the host's
  // own reason is then the whole message.
  if (outcome.status == FISCAL_ERR_UNAVAILABLE && !call.host_error.empty()) {
    outcome.error_field = std::move(call.error_field);
    outcome.error_message = std::move(call.host_error);
    return outcome;
  }

  // The plugin broke the contract by failing silently. Keep any field it named, and add the last
  // host error, which often explains the failure.
  outcome.error_field = std::move(call.error_field);
  outcome.error_message = "plugin \"" + target.plugin_name + "\" returned " +
                          StatusCodeName(outcome.status) + " from " + std::string(operation) +
                          " without an error message";
  if (!call.host_error.empty()) outcome.error_message += " (last host error: " + call.host_error + ")";
  log::Warning("plugin failed without an error message",
               {{"plugin", target.plugin_name},
                {"operation", std::string(operation)},
                {"request_id", context.request_id},
                {"status", StatusCodeName(outcome.status)}});
  return outcome;
}

Status CallOutcome::ToStatus(std::string_view operation) const {
  if (ok()) return Status::Ok();

  std::string source = "plugin \"" + plugin + "\" " + std::string(operation);
  switch (status) {
    case FISCAL_ERR_INVALID_INPUT:
      return Status::InvalidArgument(error_field, error_message);
    case FISCAL_ERR_TRANSPORT:
      return Status::Unavailable(source + ": the authority could not be reached: " + error_message);
    case FISCAL_ERR_UNAVAILABLE:
      return Status(StatusCode::kUnavailable, keys::kSigningKeyUnavailable, source + ": " + error_message);
    default:
      return Status::Internal(source + " failed with " + StatusCodeName(status) + ": " + error_message);
  }
}

}  // namespace fiscal::plugins
