// The host API a plugin calls back into, exercised directly through RunPluginCall without loading
// a library, plus the CallOutcome to Status mapping.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include <fiscal/plugin_abi.h>

#include "plugins/host_api.h"

namespace fiscal::plugins {
namespace {

class ScriptedSender : public net::HttpSender {
 public:
  net::HttpExchange Send(const net::EndpointConfig& endpoint, const net::HttpRequest& request) override {
    urls.push_back(endpoint.url);
    requests.push_back(request);
    if (answers.empty()) return net::HttpExchange();
    net::HttpExchange answer = answers.front();
    answers.erase(answers.begin());
    return answer;
  }

  std::vector<std::string> urls;
  std::vector<net::HttpRequest> requests;
  std::vector<net::HttpExchange> answers;
};

const fiscal_host_api& Host() {
  const fiscal_host_api* host = FindHostApi(FISCAL_ABI_MAJOR, FISCAL_ABI_MINOR);
  EXPECT_NE(host, nullptr);
  return *host;
}

fiscal_http_request Request(const char* endpoint, const char* body) {
  fiscal_http_request request{};
  request.struct_size = sizeof(request);
  request.endpoint = endpoint;
  request.method = "POST";
  request.content_type = "application/xml";
  request.body = reinterpret_cast<const uint8_t*>(body);
  request.body_size = std::char_traits<char>::length(body);
  request.timeout_ms = 1000;
  return request;
}

fiscal_http_response EmptyResponse() {
  fiscal_http_response response{};
  response.struct_size = sizeof(response);
  return response;
}

class HostApiTest : public testing::Test {
 protected:
  HostApiTest() {
    endpoints_["verifactu"]["test"].url = "https://test.example/verifactu";
    endpoints_["verifactu"]["live"].url = "https://live.example/verifactu";
    target_.plugin_name = "unit-plugin";
    target_.endpoints = &endpoints_;
    target_.http_sender = &sender_;
    context_.request_id = "req-7";
    context_.account_id = "acc-1";
    context_.location_id = "loc-2";
    context_.allow_network = true;
  }

  CallOutcome Run(const std::function<fiscal_status(fiscal_call*)>& invoke, bool network_operation = true) {
    CallOptions options;
    options.network_operation = network_operation;
    return RunPluginCall(target_, context_, "submit_batch", options, invoke);
  }

  EndpointMap endpoints_;
  ScriptedSender sender_;
  CallTarget target_;
  CallContext context_;
};

TEST(FindHostApiTest, NegotiatesVersion) {
  const fiscal_host_api* host = FindHostApi(1, 0);
  ASSERT_NE(host, nullptr);
  EXPECT_EQ(host->struct_size, sizeof(fiscal_host_api));
  EXPECT_EQ(host->abi_minor, static_cast<uint32_t>(FISCAL_ABI_MINOR));
  EXPECT_NE(host->set_result, nullptr);
  EXPECT_NE(host->set_error, nullptr);
  EXPECT_NE(host->log, nullptr);
  EXPECT_NE(host->http_send, nullptr);
  EXPECT_EQ(FindHostApi(1, FISCAL_ABI_MINOR + 1), nullptr);
  EXPECT_EQ(FindHostApi(2, 0), nullptr);
  EXPECT_EQ(FindHostApi(0, 0), nullptr);
}

TEST_F(HostApiTest, SetResultCopiesLastValue) {
  CallOutcome outcome = Run([](fiscal_call* call) {
    std::string first = R"({"n":1})";
    Host().set_result(call, first.data(), first.size());
    std::string second = R"({"n":2})";
    fiscal_status status = Host().set_result(call, second.data(), second.size());
    second.assign("overwritten after the call");
    return status;
  });

  EXPECT_TRUE(outcome.ok());
  EXPECT_EQ(outcome.result, R"({"n":2})");
  EXPECT_EQ(outcome.plugin, "unit-plugin");
}

TEST_F(HostApiTest, SetErrorWithNullField) {
  CallOutcome outcome = Run([](fiscal_call* call) {
    Host().set_error(call, nullptr, 0, "broken input", 12);
    return FISCAL_ERR_UNSUPPORTED;
  });

  EXPECT_EQ(outcome.status, FISCAL_ERR_UNSUPPORTED);
  EXPECT_EQ(outcome.error_field, "");
  EXPECT_EQ(outcome.error_message, "broken input");
}

TEST_F(HostApiTest, SetErrorCopiesField) {
  CallOutcome outcome = Run([](fiscal_call* call) {
    Host().set_error(call, "items[2].tax_rate", 17, "tax rate 7 is not allowed", 25);
    return FISCAL_ERR_INVALID_INPUT;
  });

  EXPECT_EQ(outcome.error_field, "items[2].tax_rate");
  EXPECT_EQ(outcome.error_message, "tax rate 7 is not allowed");
}

TEST_F(HostApiTest, LogAcceptsNullCall) {
  Host().log(nullptr, FISCAL_LOG_INFO, "outside a call", 14);
  CallOutcome outcome = Run([](fiscal_call* call) {
    Host().log(call, FISCAL_LOG_WARNING, "inside a call", 13);
    Host().log(call, 99, "unknown level", 13);
    return Host().set_result(call, "{}", 2);
  });
  EXPECT_TRUE(outcome.ok());
}

TEST_F(HostApiTest, OkWithoutResultIsInternal) {
  CallOutcome outcome = Run([](fiscal_call*) { return FISCAL_OK; });

  EXPECT_EQ(outcome.status, FISCAL_ERR_INTERNAL);
  EXPECT_EQ(outcome.error_message, "plugin \"unit-plugin\" returned no result from submit_batch");
}

TEST_F(HostApiTest, ResultOptionalWhenNotRequired) {
  CallOptions options;
  options.result_required = false;
  CallOutcome outcome = RunPluginCall(target_, context_, "create", options, [](fiscal_call*) { return FISCAL_OK; });
  EXPECT_TRUE(outcome.ok());
}

TEST_F(HostApiTest, EscapedExceptionIsInternal) {
  CallOutcome outcome = Run([](fiscal_call*) -> fiscal_status { throw std::runtime_error("escaped"); });

  EXPECT_EQ(outcome.status, FISCAL_ERR_INTERNAL);
  EXPECT_NE(outcome.error_message.find("let an exception escape from submit_batch"), std::string::npos)
      << outcome.error_message;
}

TEST_F(HostApiTest, SilentFailureGetsHostError) {
  CallOutcome outcome = Run([](fiscal_call* call) {
    fiscal_http_request request = Request("missing", "<x/>");
    fiscal_http_response response = EmptyResponse();
    return Host().http_send(call, &request, &response);
  });

  EXPECT_EQ(outcome.status, FISCAL_ERR_INVALID_INPUT);
  EXPECT_NE(outcome.error_message.find("without an error message"), std::string::npos) << outcome.error_message;
  EXPECT_NE(outcome.error_message.find("unknown endpoint \"missing\""), std::string::npos) << outcome.error_message;
}

TEST_F(HostApiTest, HttpSendResolvesEnvironment) {
  context_.environment = "live";
  net::HttpExchange answer;
  answer.status_code = 202;
  answer.body = "<ok/>";
  answer.content_type = "text/xml";
  sender_.answers.push_back(answer);

  int status_code = 0;
  std::string body;
  std::string content_type;
  CallOutcome outcome = Run([&](fiscal_call* call) {
    fiscal_http_request request = Request("verifactu", "<record/>");
    request.extra_headers = "SOAPAction: x";
    fiscal_http_response response = EmptyResponse();
    fiscal_status status = Host().http_send(call, &request, &response);
    status_code = response.status_code;
    body.assign(reinterpret_cast<const char*>(response.body), response.body_size);
    content_type = response.content_type;
    EXPECT_STREQ(response.transport_error, "");
    EXPECT_EQ(response.timed_out, 0u);
    if (status != FISCAL_OK) return status;
    return Host().set_result(call, "{}", 2);
  });

  ASSERT_TRUE(outcome.ok()) << outcome.error_message;
  EXPECT_EQ(status_code, 202);
  EXPECT_EQ(body, "<ok/>");
  EXPECT_EQ(content_type, "text/xml");
  ASSERT_EQ(sender_.urls.size(), 1u);
  EXPECT_EQ(sender_.urls[0], "https://live.example/verifactu");
  EXPECT_EQ(sender_.requests[0].body, "<record/>");
  EXPECT_EQ(sender_.requests[0].content_type, "application/xml");
  EXPECT_EQ(sender_.requests[0].extra_headers, "SOAPAction: x");
  EXPECT_EQ(sender_.requests[0].timeout_ms, 1000u);
}

TEST_F(HostApiTest, HttpSendResponsesStayValid) {
  net::HttpExchange first;
  first.status_code = 200;
  first.body = "first body";
  net::HttpExchange second;
  second.status_code = 500;
  second.body = "second body";
  sender_.answers = {first, second};

  CallOutcome outcome = Run([](fiscal_call* call) {
    fiscal_http_request request = Request("verifactu", "a");
    fiscal_http_response first_response = EmptyResponse();
    fiscal_http_response second_response = EmptyResponse();
    EXPECT_EQ(Host().http_send(call, &request, &first_response), FISCAL_OK);
    EXPECT_EQ(Host().http_send(call, &request, &second_response), FISCAL_OK);
    std::string text = std::string(reinterpret_cast<const char*>(first_response.body), first_response.body_size) + "|" +
                       std::string(reinterpret_cast<const char*>(second_response.body), second_response.body_size) +
                       "|" + std::to_string(second_response.status_code);
    return Host().set_result(call, text.data(), text.size());
  });

  EXPECT_EQ(outcome.result, "first body|second body|500");
}

TEST_F(HostApiTest, HttpSendTimeoutIsCapped) {
  sender_.answers.push_back(net::HttpExchange{200, "", "", "", false});
  Run([](fiscal_call* call) {
    fiscal_http_request request = Request("verifactu", "a");
    request.timeout_ms = 10 * 60 * 1000;
    fiscal_http_response response = EmptyResponse();
    Host().http_send(call, &request, &response);
    return Host().set_result(call, "{}", 2);
  });

  ASSERT_EQ(sender_.requests.size(), 1u);
  EXPECT_EQ(sender_.requests[0].timeout_ms, kMaxHttpTimeoutMs);
}

TEST_F(HostApiTest, HttpSendTransportError) {
  net::HttpExchange failure;
  failure.transport_error = "Timeout was reached";
  failure.timed_out = true;
  sender_.answers.push_back(failure);

  std::string transport_error;
  uint32_t timed_out = 0;
  CallOutcome outcome = Run([&](fiscal_call* call) {
    fiscal_http_request request = Request("verifactu", "a");
    fiscal_http_response response = EmptyResponse();
    fiscal_status status = Host().http_send(call, &request, &response);
    transport_error = response.transport_error;
    timed_out = response.timed_out;
    EXPECT_EQ(response.status_code, 0);
    return status;
  });

  EXPECT_EQ(outcome.status, FISCAL_ERR_TRANSPORT);
  EXPECT_EQ(transport_error, "Timeout was reached");
  EXPECT_EQ(timed_out, 1u);
}

TEST_F(HostApiTest, HttpSendRefusedWithoutNetwork) {
  context_.allow_network = false;
  std::string transport_error;
  CallOutcome outcome = Run([&](fiscal_call* call) {
    fiscal_http_request request = Request("verifactu", "a");
    fiscal_http_response response = EmptyResponse();
    fiscal_status status = Host().http_send(call, &request, &response);
    transport_error = response.transport_error;
    return status;
  });

  EXPECT_EQ(outcome.status, FISCAL_ERR_UNSUPPORTED);
  EXPECT_NE(transport_error.find("not allowed"), std::string::npos) << transport_error;
  EXPECT_TRUE(sender_.requests.empty());
}

TEST_F(HostApiTest, HttpSendRefusedOutsideSubmitBatch) {
  CallOutcome outcome = Run(
      [](fiscal_call* call) {
        fiscal_http_request request = Request("verifactu", "a");
        fiscal_http_response response = EmptyResponse();
        return Host().http_send(call, &request, &response);
      },
      /*network_operation=*/false);

  EXPECT_EQ(outcome.status, FISCAL_ERR_UNSUPPORTED);
  EXPECT_TRUE(sender_.requests.empty());
}

TEST_F(HostApiTest, HttpSendChecksStructSizes) {
  fiscal_status small_request = FISCAL_OK;
  fiscal_status small_response = FISCAL_OK;
  fiscal_status null_request = FISCAL_OK;
  Run([&](fiscal_call* call) {
    fiscal_http_request request = Request("verifactu", "a");
    fiscal_http_response response = EmptyResponse();
    request.struct_size = 8;
    small_request = Host().http_send(call, &request, &response);
    request.struct_size = sizeof(request);
    response.struct_size = 8;
    small_response = Host().http_send(call, &request, &response);
    response.struct_size = sizeof(response);
    null_request = Host().http_send(call, nullptr, &response);
    return Host().set_result(call, "{}", 2);
  });

  EXPECT_EQ(small_request, FISCAL_ERR_INVALID_INPUT);
  EXPECT_EQ(small_response, FISCAL_ERR_INVALID_INPUT);
  EXPECT_EQ(null_request, FISCAL_ERR_INVALID_INPUT);
  EXPECT_TRUE(sender_.requests.empty());
}

TEST_F(HostApiTest, HttpSendUnknownEnvironment) {
  context_.environment = "staging";
  std::string transport_error;
  CallOutcome outcome = Run([&](fiscal_call* call) {
    fiscal_http_request request = Request("verifactu", "a");
    fiscal_http_response response = EmptyResponse();
    fiscal_status status = Host().http_send(call, &request, &response);
    transport_error = response.transport_error;
    return status;
  });

  EXPECT_EQ(outcome.status, FISCAL_ERR_INVALID_INPUT);
  EXPECT_NE(transport_error.find("no URL for environment \"staging\""), std::string::npos) << transport_error;
}

TEST_F(HostApiTest, HttpSendWithoutSender) {
  target_.http_sender = nullptr;
  CallOutcome outcome = Run([](fiscal_call* call) {
    fiscal_http_request request = Request("verifactu", "a");
    fiscal_http_response response = EmptyResponse();
    return Host().http_send(call, &request, &response);
  });

  EXPECT_EQ(outcome.status, FISCAL_ERR_TRANSPORT);
}

TEST(CallOutcomeTest, MapsToStatus) {
  CallOutcome ok;
  EXPECT_TRUE(ok.ToStatus("issue_record").ok());

  CallOutcome invalid{FISCAL_ERR_INVALID_INPUT, "", "items[0].tax_rate", "tax rate is invalid", "spain"};
  Status invalid_status = invalid.ToStatus("issue_record");
  EXPECT_EQ(invalid_status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(invalid_status.field(), "items[0].tax_rate");
  EXPECT_EQ(invalid_status.message(), "tax rate is invalid");

  CallOutcome transport{FISCAL_ERR_TRANSPORT, "", "", "connection refused", "spain"};
  Status transport_status = transport.ToStatus("submit_batch");
  EXPECT_EQ(transport_status.code(), StatusCode::kUnavailable);
  EXPECT_NE(transport_status.message().find("connection refused"), std::string::npos);

  for (int32_t code : {FISCAL_ERR_UNSUPPORTED, FISCAL_ERR_INTERNAL, FISCAL_ERR_INCOMPATIBLE,
                       FISCAL_ERR_NO_MEMORY, 42}) {
    CallOutcome other{code, "", "", "went wrong", "spain"};
    Status status = other.ToStatus("render_receipt");
    EXPECT_EQ(status.code(), StatusCode::kInternal) << code;
    EXPECT_NE(status.message().find("plugin \"spain\" render_receipt failed with " + StatusCodeName(code)),
              std::string::npos)
        << status.message();
    EXPECT_NE(status.message().find("went wrong"), std::string::npos) << status.message();
  }
}

}  // namespace
}  // namespace fiscal::plugins
