// One small plugin in C-style C++, compiled into several corpus libraries. Each CORPUS_* macro (set
// by CMakeLists.txt) breaks one thing the host checks; with none set it is a working plugin.
//
// NOTE: this file is C++ only because fiscal/plugin_abi.h does not compile as C yet:
// fiscal_host_access refers to its own typedef name inside its definition.
//
// The working plugin:
//   create            stores an instance. When the configuration contains "marker":"/path", it
//                     remembers the path, and destroy appends the line "destroyed" to that file.
//   self_test         returns {"checks":1}
//   validate_location requires "nif" in the configuration, else FISCAL_ERR_INVALID_INPUT on
//                     country_config.nif
//   issue_record      logs one line and returns {"fiscal_id":"ECHO-<input size>","input_size":N}
//   submit_batch      sends the input to the endpoint "authority" (or "nowhere" when the input
//                     contains "unknown_endpoint") and returns {"status_code":N,"body":"<body>"}
//   render_receipt    returns {"language":"en","lines":[]}
#include <fiscal/plugin_abi.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

// Variants leave some functions unreferenced on purpose.
#pragma GCC diagnostic ignored "-Wunused-function"

#define CORPUS_STRING(x) CORPUS_STRING_EXPANDED(x)
#define CORPUS_STRING_EXPANDED(x) #x

#ifndef CORPUS_NAME
#define CORPUS_NAME "corpus-good"
#endif
#ifndef CORPUS_MAGIC
#define CORPUS_MAGIC FISCAL_PLUGIN_MAGIC
#endif
#ifndef CORPUS_POINTER_SIZE
#define CORPUS_POINTER_SIZE ((uint32_t)sizeof(void*))
#endif
#ifndef CORPUS_ABI_MAJOR
#define CORPUS_ABI_MAJOR FISCAL_ABI_MAJOR
#endif
#ifndef CORPUS_ABI_MINOR
#define CORPUS_ABI_MINOR 0
#endif
// The host API minor the entry point requests.
#ifndef CORPUS_REQUESTED_MINOR
#define CORPUS_REQUESTED_MINOR 0
#endif

#define CORPUS_INFO_INITIALIZER(version)                                                             \
  {CORPUS_MAGIC,          (uint32_t)sizeof(fiscal_plugin_info), FISCAL_BYTE_ORDER_MARK,              \
   CORPUS_POINTER_SIZE,   CORPUS_ABI_MAJOR,                     CORPUS_ABI_MINOR,                    \
   (uint32_t)sizeof(fiscal_host_api), (uint32_t)sizeof(fiscal_plugin_api), CORPUS_NAME, "XX", version}

#if defined(CORPUS_NO_INFO)
// No compatibility section and no exported block.
#elif defined(CORPUS_EXPORTED_INFO_DIFFERS)
// The section holds one block, and the exported symbol another one outside the section.
__attribute__((section(FISCAL_PLUGIN_INFO_SECTION), used)) static const fiscal_plugin_info
    section_block = CORPUS_INFO_INITIALIZER("1.0.0");
FISCAL_EXTERN_C FISCAL_EXPORT const fiscal_plugin_info fiscal_plugin_info_block =
    CORPUS_INFO_INITIALIZER("9.9.9");
#else
FISCAL_EXTERN_C FISCAL_INFO_ATTRIBUTES const fiscal_plugin_info fiscal_plugin_info_block =
    CORPUS_INFO_INITIALIZER("1.0.0");
#endif

static const fiscal_host_api* host;

struct fiscal_instance {
  char marker[256];
};

static fiscal_status Fail(fiscal_call* call, fiscal_status status, const char* field, const char* message) {
  host->set_error(call, field, field == NULL ? 0 : strlen(field), message, strlen(message));
  return status;
}

static fiscal_status Result(fiscal_call* call, const char* json) {
  return host->set_result(call, json, strlen(json));
}

// Returns 1 when `needle` occurs in the first `size` bytes of `text`.
static int Contains(const char* text, size_t size, const char* needle) {
  size_t length = strlen(needle);
  for (size_t i = 0; i + length <= size; ++i) {
    if (memcmp(text + i, needle, length) == 0) return 1;
  }
  return 0;
}

#if defined(CORPUS_UNDEFINED_SYMBOL)
// Defined nowhere, so dlopen with RTLD_NOW fails.
extern "C" void corpus_symbol_that_does_not_exist(void);
#endif

static fiscal_status Create(const char* config, size_t size, fiscal_call* call, fiscal_instance** out) {
#if defined(CORPUS_UNDEFINED_SYMBOL)
  corpus_symbol_that_does_not_exist();
#endif
#if defined(CORPUS_CREATE_FAILS)
  (void)config;
  (void)size;
  (void)out;
  return Fail(call, FISCAL_ERR_INVALID_INPUT, "api_key", "corpus plugin: create always fails");
#else
  static const char kKey[] = "\"marker\":\"";
  fiscal_instance* instance = static_cast<fiscal_instance*>(calloc(1, sizeof(fiscal_instance)));
  if (instance == NULL) return Fail(call, FISCAL_ERR_NO_MEMORY, NULL, "out of memory");

  for (size_t i = 0; i + sizeof(kKey) - 1 <= size; ++i) {
    if (memcmp(config + i, kKey, sizeof(kKey) - 1) != 0) continue;
    size_t start = i + sizeof(kKey) - 1;
    size_t end = start;
    while (end < size && config[end] != '"' && end - start < sizeof(instance->marker) - 1) ++end;
    memcpy(instance->marker, config + start, end - start);
    break;
  }
  *out = instance;
  return FISCAL_OK;
#endif
}

static void Destroy(fiscal_instance* instance) {
  if (instance->marker[0] != '\0') {
    FILE* file = fopen(instance->marker, "a");
    if (file != NULL) {
      fputs("destroyed\n", file);
      fclose(file);
    }
  }
  free(instance);
}

static fiscal_status SelfTest(fiscal_instance* instance, fiscal_call* call) {
  (void)instance;
#if defined(CORPUS_SELF_TEST_FAILS)
  return Fail(call, FISCAL_ERR_INTERNAL, NULL, "corpus plugin: known-answer test 3 does not match");
#elif defined(CORPUS_SELF_TEST_CRASHES)
  (void)call;
  volatile int* null_pointer = NULL;
  return *null_pointer;  // a segmentation fault, as a buggy plugin would have
#else
  return Result(call, "{\"checks\":1}");
#endif
}

static fiscal_status ValidateLocation(fiscal_instance* instance, const char* json, size_t size,
                                      fiscal_call* call) {
  (void)instance;
  if (!Contains(json, size, "\"nif\"")) {
    return Fail(call, FISCAL_ERR_INVALID_INPUT, "country_config.nif", "nif is missing");
  }
  return Result(call, "{\"config\":{},\"chain_key\":\"corpus\"}");
}

static fiscal_status IssueRecord(fiscal_instance* instance, const char* json, size_t size,
                                 fiscal_call* call) {
  (void)instance;
  (void)json;
#if defined(CORPUS_ERROR_WITHOUT_MESSAGE)
  (void)size;
  (void)call;
  return FISCAL_ERR_INVALID_INPUT;
#elif defined(CORPUS_NO_RESULT)
  (void)size;
  (void)call;
  return FISCAL_OK;
#else
  char buffer[128];
  static const char kLog[] = "corpus plugin issues a record";
  host->log(call, FISCAL_LOG_INFO, kLog, sizeof(kLog) - 1);
  snprintf(buffer, sizeof(buffer), "{\"fiscal_id\":\"ECHO-%zu\",\"input_size\":%zu}", size, size);
  return Result(call, buffer);
#endif
}

static fiscal_status SubmitBatch(fiscal_instance* instance, const char* json, size_t size,
                                 fiscal_call* call) {
  fiscal_http_request request;
  fiscal_http_response response;
  char message[512];
  char* result;
  size_t result_size;
  fiscal_status status;
  (void)instance;

  memset(&request, 0, sizeof(request));
  request.struct_size = sizeof(request);
  request.endpoint = Contains(json, size, "\"unknown_endpoint\"") ? "nowhere" : "authority";
  request.method = "POST";
  request.content_type = "application/json";
  request.extra_headers = "X-Corpus: 1";
  request.body = (const uint8_t*)json;
  request.body_size = size;
  request.timeout_ms = 2000;
  memset(&response, 0, sizeof(response));
  response.struct_size = sizeof(response);

  status = host->http_send(call, &request, &response);
  if (status != FISCAL_OK) {
    snprintf(message, sizeof(message), "http_send failed with status %d: %s", (int)status,
             response.transport_error == NULL ? "(null)" : response.transport_error);
    return Fail(call, status, NULL, message);
  }

  // The response body is copied as is, because the tests send bodies without quotes or backslashes.
  result_size = response.body_size + 64;
  result = static_cast<char*>(malloc(result_size));
  if (result == NULL) return Fail(call, FISCAL_ERR_NO_MEMORY, NULL, "out of memory");
  snprintf(result, result_size, "{\"status_code\":%d,\"body\":\"%.*s\"}", (int)response.status_code,
           (int)response.body_size, (const char*)response.body);
  status = Result(call, result);
  free(result);
  return status;
}

static fiscal_status RenderReceipt(fiscal_instance* instance, const char* json, size_t size,
                                   fiscal_call* call) {
  (void)instance;
  (void)json;
  (void)size;
  return Result(call, "{\"language\":\"en\",\"lines\":[]}");
}

#if !defined(CORPUS_NO_ENTRY)
FISCAL_PLUGIN_ENTRY {
  static const fiscal_plugin_api table = {
      sizeof(fiscal_plugin_api),
      FISCAL_ABI_MINOR,
      &Create,
      &Destroy,
      &SelfTest,
#if defined(CORPUS_NULL_FUNCTION)
      NULL,
#else
      &ValidateLocation,
#endif
      &IssueRecord,
      &SubmitBatch,
      &RenderReceipt,
  };
  host = access->get_host_api(access, FISCAL_ABI_MAJOR, CORPUS_REQUESTED_MINOR);
  if (host == NULL) {
    static const char kMessage[] = "corpus plugin needs host API 1." CORPUS_STRING(CORPUS_REQUESTED_MINOR);
    access->set_error(access, kMessage, sizeof(kMessage) - 1);
    return FISCAL_ERR_INCOMPATIBLE;
  }
  *out_api = &table;
  return FISCAL_OK;
}
#endif
