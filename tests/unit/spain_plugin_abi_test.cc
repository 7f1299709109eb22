// The built spain-verifactu module driven through the C ABI with a fake host.
#include <dlfcn.h>
#include <fiscal/plugin_abi.h>
#include <gtest/gtest.h>

#include <string>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "spain_test_util.h"

namespace {

// One fake call: stores what the plugin reports.
struct FakeCall {
  std::string result;
  std::string error_field;
  std::string error_message;
  std::string request_body;
  std::string response_body;
  int response_status = 200;
  int sends = 0;
};

FakeCall* AsCall(fiscal_call* call) { return reinterpret_cast<FakeCall*>(call); }

fiscal_status SetResult(fiscal_call* call, const char* data, size_t size) {
  AsCall(call)->result.assign(data, size);
  return FISCAL_OK;
}

void SetError(fiscal_call* call, const char* field, size_t field_size, const char* message, size_t message_size) {
  AsCall(call)->error_field = field ? std::string(field, field_size) : "";
  AsCall(call)->error_message.assign(message, message_size);
}

void Log(fiscal_call*, int32_t, const char*, size_t) {}

fiscal_status HttpSend(fiscal_call* call, const fiscal_http_request* request, fiscal_http_response* response) {
  FakeCall* fake = AsCall(call);
  ++fake->sends;
  fake->request_body.assign(reinterpret_cast<const char*>(request->body), request->body_size);
  response->status_code = fake->response_status;
  response->body = reinterpret_cast<const uint8_t*>(fake->response_body.data());
  response->body_size = fake->response_body.size();
  response->content_type = "text/xml";
  response->transport_error = "";
  response->timed_out = 0;
  return FISCAL_OK;
}

const fiscal_host_api kHostApi = {sizeof(fiscal_host_api), FISCAL_ABI_MINOR, SetResult, SetError, Log, HttpSend,
                                  nullptr};

const fiscal_host_api* GetHostApi(const fiscal_host_access*, uint32_t major, uint32_t) {
  return major == FISCAL_ABI_MAJOR ? &kHostApi : nullptr;
}

void AccessError(const fiscal_host_access*, const char*, size_t) {}

class SpainPluginAbi : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string path = std::string(FISCAL_PLUGIN_DIR) + "/spain-verifactu/1.0.0/libfiscal_spain_verifactu.so";
    library_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(library_, nullptr) << dlerror();

    auto* info = static_cast<const fiscal_plugin_info*>(dlsym(library_, FISCAL_PLUGIN_INFO_SYMBOL));
    ASSERT_NE(info, nullptr);
    EXPECT_STREQ(info->name, "spain-verifactu");
    EXPECT_STREQ(info->country, "ES");
    EXPECT_STREQ(info->version, "1.0.0");

    auto entry = reinterpret_cast<fiscal_plugin_entry_fn>(dlsym(library_, FISCAL_PLUGIN_ENTRY_SYMBOL));
    ASSERT_NE(entry, nullptr);
    fiscal_host_access access{sizeof(fiscal_host_access), GetHostApi, AccessError, nullptr};
    ASSERT_EQ(entry(&access, &api_), FISCAL_OK);

    FakeCall call;
    ASSERT_EQ(api_->create("{}", 2, reinterpret_cast<fiscal_call*>(&call), &instance_), FISCAL_OK)
        << call.error_message;
  }

  void TearDown() override {
    if (instance_ != nullptr) api_->destroy(instance_);
    if (library_ != nullptr) dlclose(library_);
  }

  fiscal_call* Raw(FakeCall& call) { return reinterpret_cast<fiscal_call*>(&call); }

  void* library_ = nullptr;
  const fiscal_plugin_api* api_ = nullptr;
  fiscal_instance* instance_ = nullptr;
};

TEST_F(SpainPluginAbi, SelfTest) {
  FakeCall call;
  ASSERT_EQ(api_->self_test(instance_, Raw(call)), FISCAL_OK) << call.error_message;
  EXPECT_EQ(call.result, R"({"checks":4})");
}

TEST_F(SpainPluginAbi, ValidateLocationError) {
  FakeCall call;
  std::string config = R"({"system":"verifactu","nif":"12345678A","legal_name":"X"})";
  EXPECT_EQ(api_->validate_location(instance_, config.data(), config.size(), Raw(call)), FISCAL_ERR_INVALID_INPUT);
  EXPECT_EQ(call.error_field, "country_config.nif");
  EXPECT_NE(call.error_message.find("check letter"), std::string::npos);
}

TEST_F(SpainPluginAbi, IssueSubmitAndRender) {
  std::string input =
      R"({"operation":"sale","environment":"live","now":"2025-10-13T10:00:00Z",)"
      R"("location":{"system":"verifactu","nif":"A00000000","legal_name":"Perico de los Palotes, S.A."},)"
      R"("transaction":{"id":"t1","type":"sale","invoice_number":"TEST-202510-123","currency":"EUR",)"
      R"("items":[{"description":"Pan","quantity":"1","unit_price":"12.10","tax_rate":"21.00","amount":"12.10"}],)"
      R"("breakdown":[{"tax_rate":"21.00","base":"10.00","tax":"2.10"}],"pretax_amount":"10.00",)"
      R"("tax_amount":"2.10","total_amount":"12.10","customer":null},"original":null,)"
      R"("chain":{"key":"A00000000:1","sequence":1,"previous":null}})";
  FakeCall issue;
  ASSERT_EQ(api_->issue_record(instance_, input.data(), input.size(), Raw(issue)), FISCAL_OK) << issue.error_message;
  rapidjson::Document record;
  record.Parse(issue.result.c_str());
  ASSERT_TRUE(record.IsObject());
  EXPECT_STREQ(record["qr_payload"].GetString(),
               "https://www2.agenciatributaria.gob.es/wlpl/TIKE-CONT/ValidarQR?nif=A00000000&numserie=TEST-202510-123"
               "&fecha=13-10-2025&importe=12.10");

  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartObject();
  writer.Key("environment");
  writer.String("live");
  writer.Key("location");
  writer.RawValue(R"({"system":"verifactu","nif":"A00000000","legal_name":"Perico de los Palotes, S.A."})", 83,
                  rapidjson::kObjectType);
  writer.Key("late");
  writer.Bool(false);
  writer.Key("records");
  writer.StartArray();
  writer.StartObject();
  writer.Key("id");
  writer.String("rec-1");
  writer.Key("record_type");
  writer.String("RegistroAlta");
  writer.Key("document");
  writer.String(record["document"].GetString());
  writer.Key("hash");
  writer.String(record["hash"].GetString());
  writer.Key("attempt");
  writer.Int(1);
  writer.EndObject();
  writer.EndArray();
  writer.EndObject();
  std::string batch = buffer.GetString();

  FakeCall submit;
  submit.response_body = fiscal::spain::testing::ReadFile(fiscal::spain::testing::SpainDataPath("josemmo-respuesta-correcto.xml"));
  ASSERT_EQ(api_->submit_batch(instance_, batch.data(), batch.size(), Raw(submit)), FISCAL_OK) << submit.error_message;
  EXPECT_EQ(submit.sends, 1);
  EXPECT_NE(submit.request_body.find("TEST-202510-123"), std::string::npos);
  EXPECT_NE(submit.result.find(R"("outcome":"registered")"), std::string::npos);

  FakeCall server_fault;
  server_fault.response_status = 500;
  server_fault.response_body =
      fiscal::spain::testing::ReadFile(fiscal::spain::testing::SpainDataPath("josemmo-respuesta-soapfault-server.xml"));
  EXPECT_EQ(api_->submit_batch(instance_, batch.data(), batch.size(), Raw(server_fault)), FISCAL_ERR_TRANSPORT);

  std::string render = R"({"transaction":{},"location":{},"record":{"receipt":)" + [&] {
    rapidjson::StringBuffer receipt;
    rapidjson::Writer<rapidjson::StringBuffer> receipt_writer(receipt);
    record["receipt"].Accept(receipt_writer);
    return std::string(receipt.GetString());
  }() + "}}";
  FakeCall rendered;
  ASSERT_EQ(api_->render_receipt(instance_, render.data(), render.size(), Raw(rendered)), FISCAL_OK)
      << rendered.error_message;
  EXPECT_EQ(rendered.result,
            R"({"language":"es","title":"Factura simplificada","lines":["Perico de los Palotes, S.A.","NIF: A00000000",)"
            R"json("Número: TEST-202510-123","Fecha de expedición: 13-10-2025","1 x Pan","    12,10 = 12,10 (IVA 21 %)",)json"
            R"json("IVA 21 %: base 10,00, cuota 2,10","Cuota total: 2,10","TOTAL: 12,10 EUR"],)json"
            R"("qr_caption_before":"QR tributario:","qr_caption_after":"Factura verificable en la sede electrónica de la AEAT"})");
}

}  // namespace
