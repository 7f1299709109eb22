/*
 * fiscal/plugin_abi.h: the whole contract between the fiscalization host and a country plugin.
 *
 * This is a C header on purpose. The host and the plugins are C++ inside, but nothing C++ crosses
 * this boundary: no exceptions, no STL types, no classes, no RTTI. Every value is a fixed-width
 * integer, a pointer to a size-prefixed struct, or a byte range given as (pointer, length).
 * Structured data travels as UTF-8 JSON documents given as (pointer, length).
 *
 * Division of work. The plugin contains the country's fiscal logic: it turns a sale into the
 * authority's record (XML, hash, QR payload, fiscal id), builds the authority's request for a batch of
 * records and reads the authority's response. The host owns everything with side effects: storage,
 * the HTTP API, the outbox queue, secrets (certificates and keys) and network I/O. A plugin that
 * needs to reach its authority asks the host to send the request (fiscal_host_api.http_send), and a
 * plugin that needs a signature has the host sign with fiscal_host_api.sign (ABI 1.1). The plugin
 * never receives private key material.
 *
 * Versioning.
 *   - FISCAL_ABI_MAJOR changes only on an incompatible change. Host and plugin majors must be equal.
 *   - FISCAL_ABI_MINOR grows when a function is appended to a table. A plugin built against minor N
 *     loads in every host of the same major with minor >= N.
 *   - Function tables are append-only. A member is never removed, reordered or retyped; a retired
 *     function keeps its slot. Every boundary struct starts with `uint32_t struct_size`, and the reader
 *     uses only the members that fit inside the size the writer declared.
 *
 * Loading sequence, as the host performs it:
 *   1. Read the static compatibility block (fiscal_plugin_info) from the ELF section named
 *      FISCAL_PLUGIN_INFO_SECTION of the library file, before dlopen, so that no plugin code (not even
 *      a static constructor) runs for an incompatible library. Every field is compared and a mismatch
 *      is reported by field name.
 *   2. dlopen(RTLD_NOW | RTLD_LOCAL) and look up the one entry point, FISCAL_PLUGIN_ENTRY_SYMBOL.
 *   3. Runtime handshake: the host calls the entry point with a fiscal_host_access. The plugin asks
 *      for the minimum host API it needs with get_host_api(major, minor) and returns its own table.
 *   4. The host calls create() with the plugin's configuration, then self_test().
 *
 * Ownership naming. A pointer documented "host-owned" is allocated and freed by the host; the plugin
 * may read it only for the duration stated. A pointer documented "plugin-owned" is the reverse.
 * Output of a plugin call is always copied by the host through fiscal_host_api.set_result, so the
 * plugin never has to hand memory across the boundary.
 *
 * Threading. The host may call one plugin instance from many threads at once. Unless a function says
 * otherwise, plugin functions must be reentrant and must not keep mutable global state. Host API
 * functions are thread-safe unless they say otherwise; a fiscal_call handle belongs to one thread.
 */
#ifndef FISCAL_PLUGIN_ABI_H
#define FISCAL_PLUGIN_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------------
 * Versions and constants
 * ---------------------------------------------------------------------------------------------- */

#define FISCAL_ABI_MAJOR 1
#define FISCAL_ABI_MINOR 1

/* Marks the compatibility block: the bytes 'F' 'I' 'S' 'C' read as a little-endian uint32. */
#define FISCAL_PLUGIN_MAGIC 0x43534946u
/* Written by the plugin in its own byte order; the host rejects a block whose value reads
 * differently, which catches a library built for the other endianness. */
#define FISCAL_BYTE_ORDER_MARK 0x01020304u

#define FISCAL_PLUGIN_INFO_SECTION "fiscal_plugin_info"
#define FISCAL_PLUGIN_INFO_SYMBOL "fiscal_plugin_info_block"
#define FISCAL_PLUGIN_ENTRY_SYMBOL "fiscal_plugin_entry"

#define FISCAL_NAME_SIZE 32
#define FISCAL_COUNTRY_SIZE 8
#define FISCAL_VERSION_SIZE 32

/* ------------------------------------------------------------------------------------------------
 * Status codes, returned by every fallible function on both sides
 * ---------------------------------------------------------------------------------------------- */

typedef int32_t fiscal_status;

/* Success. */
#define FISCAL_OK 0
/* The input is wrong (a field is missing, malformed or not allowed). The error names the field. The
 * host returns 400 with the message to the API client. */
#define FISCAL_ERR_INVALID_INPUT 1
/* The plugin does not support this operation or this kind of record. */
#define FISCAL_ERR_UNSUPPORTED 2
/* A bug or an unexpected state inside the plugin. The host logs it and returns 500. */
#define FISCAL_ERR_INTERNAL 3
/* The authority could not be reached, timed out or returned something unreadable. The outcome of
 * the submission is unknown; the host keeps the records queued and retries. */
#define FISCAL_ERR_TRANSPORT 4
/* A version, size or capability does not match. */
#define FISCAL_ERR_INCOMPATIBLE 5
/* Memory could not be allocated. */
#define FISCAL_ERR_NO_MEMORY 6
/* A resource the call needs, such as a signing key, is unavailable. The host rejects the whole
 * operation, writes nothing, and returns 503 with the message so that an operator can fix it. */
#define FISCAL_ERR_UNAVAILABLE 7

/* Log levels for fiscal_host_api.log. */
#define FISCAL_LOG_DEBUG 0
#define FISCAL_LOG_INFO 1
#define FISCAL_LOG_WARNING 2
#define FISCAL_LOG_ERROR 3

/* ------------------------------------------------------------------------------------------------
 * Static compatibility block
 *
 * Every plugin defines exactly one of these with FISCAL_PLUGIN_DECLARE below. It lives in its own ELF
 * section so that the host can read and check it from the file before loading the library. The
 * layout has no padding (all members are 4-byte integers or char arrays whose sizes are multiples of
 * 4), so two blocks can be compared byte for byte.
 * ---------------------------------------------------------------------------------------------- */

typedef struct fiscal_plugin_info {
  uint32_t magic;           /* FISCAL_PLUGIN_MAGIC */
  uint32_t struct_size;     /* sizeof(fiscal_plugin_info) as the plugin was built */
  uint32_t byte_order_mark; /* FISCAL_BYTE_ORDER_MARK */
  uint32_t pointer_size;    /* sizeof(void*) of the plugin build */
  uint32_t abi_major;       /* FISCAL_ABI_MAJOR the plugin was built against */
  uint32_t abi_minor;       /* minimum host minor the plugin needs */
  uint32_t host_api_size;   /* sizeof(fiscal_host_api) in the header the plugin was built with */
  uint32_t plugin_api_size; /* sizeof(fiscal_plugin_api) in the header the plugin was built with */
  char name[FISCAL_NAME_SIZE];          /* plugin name, NUL-terminated, [a-z0-9_-], e.g. "spain-verifactu" */
  char country[FISCAL_COUNTRY_SIZE];    /* ISO 3166-1 alpha-2, NUL-terminated, e.g. "ES" */
  char version[FISCAL_VERSION_SIZE];    /* plugin version, NUL-terminated, semantic version "1.2.3" */
} fiscal_plugin_info;

/* ------------------------------------------------------------------------------------------------
 * Opaque handles
 * ---------------------------------------------------------------------------------------------- */

/* One call from the host into the plugin. Host-owned; valid only until the plugin function that
 * received it returns. The plugin passes it back to host API functions to return results, report
 * errors, log, and send requests. Not thread-safe: use it only on the thread of the call. */
typedef struct fiscal_call fiscal_call;

/* A configured plugin instance. Plugin-owned; created by fiscal_plugin_api.create and freed by
 * fiscal_plugin_api.destroy. The host never looks inside. */
typedef struct fiscal_instance fiscal_instance;

/* ------------------------------------------------------------------------------------------------
 * Network requests the host sends on behalf of the plugin
 * ---------------------------------------------------------------------------------------------- */

typedef struct fiscal_http_request {
  uint32_t struct_size; /* sizeof(fiscal_http_request) */
  /* Logical endpoint name, NUL-terminated, e.g. "verifactu". The host maps it, for the tenant and
   * environment of the current call, to a URL, a CA bundle and the client certificate. The plugin
   * never receives certificates or keys. Plugin-owned; read during http_send only. */
  const char* endpoint;
  /* HTTP method, NUL-terminated ("POST"). Plugin-owned; read during http_send only. */
  const char* method;
  /* Content-Type header value, NUL-terminated. Plugin-owned; read during http_send only. */
  const char* content_type;
  /* Extra header lines "Name: value", separated by "\n", NUL-terminated, or NULL. */
  const char* extra_headers;
  /* Request body. Plugin-owned; read during http_send only. */
  const uint8_t* body;
  size_t body_size;
  /* Upper bound for the whole exchange, in milliseconds. The host may lower it. */
  uint32_t timeout_ms;
} fiscal_http_request;

typedef struct fiscal_http_response {
  uint32_t struct_size; /* set by the plugin to sizeof(fiscal_http_response) before the call */
  /* HTTP status code, or 0 when no response arrived (see transport_error). */
  int32_t status_code;
  /* Response body. Host-owned; valid until the plugin function that received the fiscal_call
   * returns. Not NUL-terminated. */
  const uint8_t* body;
  size_t body_size;
  /* Response Content-Type, NUL-terminated, or "" when absent. Host-owned, same lifetime as body. */
  const char* content_type;
  /* Why no response arrived, NUL-terminated ("" when a response arrived). Host-owned, same lifetime
   * as body. A timeout is reported here; the host cannot know whether the authority processed the
   * request. */
  const char* transport_error;
  /* 1 when the exchange ended by timeout, else 0. */
  uint32_t timed_out;
} fiscal_http_response;

/* ------------------------------------------------------------------------------------------------
 * Signatures the host makes on behalf of the plugin (ABI 1.1)
 * ---------------------------------------------------------------------------------------------- */

typedef struct fiscal_sign_request {
  uint32_t struct_size; /* sizeof(fiscal_sign_request) */
  /* Name of the signing key, NUL-terminated, [A-Za-z0-9._-]{1,128} not starting with '.', usually
   * taken from the location config. The host looks it up within the account of the current call, so
   * tenants never share keys. Plugin-owned; read during sign only. */
  const char* key_ref;
  /* Signature algorithm, NUL-terminated. ABI 1.1 defines only "ES256": ECDSA on P-256 over the
   * SHA-256 of `data`. Plugin-owned; read during sign only. */
  const char* algorithm;
  /* Bytes to sign; the host hashes them. Plugin-owned; read during sign only. */
  const uint8_t* data;
  size_t data_size;
} fiscal_sign_request;

/* Every pointer below is host-owned and valid until the plugin function that received the fiscal_call
 * returns. */
typedef struct fiscal_sign_result {
  uint32_t struct_size; /* set by the plugin to sizeof(fiscal_sign_result) before the call */
  /* The signature. For ES256: 64 bytes, r then s, each big-endian and zero-padded to 32 bytes. */
  const uint8_t* signature;
  size_t signature_size;
  /* Lowercase hex SHA-256 of the DER SubjectPublicKeyInfo of the key, NUL-terminated. */
  const char* key_id;
  /* The public key as a PEM "PUBLIC KEY" block, NUL-terminated. */
  const char* public_key_pem;
  /* The key's certificate chain as PEM blocks, leaf first, NUL-terminated; "" when the key has no
   * certificate. Reserved for TicketBAI XAdES signatures. */
  const char* certificate_chain_pem;
} fiscal_sign_result;

/* ------------------------------------------------------------------------------------------------
 * Host API: functions the host implements for the plugin
 * ---------------------------------------------------------------------------------------------- */

typedef struct fiscal_host_api {
  uint32_t struct_size; /* sizeof(fiscal_host_api) of the host */
  uint32_t abi_minor;   /* FISCAL_ABI_MINOR of the host */

  /* --- ABI 1.0 --- */

  /* Stores the result document (UTF-8 JSON unless the function's contract specifies otherwise) of the
   * current call. The host copies the bytes before returning, so `data` stays plugin-owned. Calling it
   * again replaces the earlier result. Returns FISCAL_ERR_NO_MEMORY if the copy failed. */
  fiscal_status (*set_result)(fiscal_call* call, const char* data, size_t size);

  /* Reports why the current call failed. `field` names the offending input field in JSON-path style
   * ("items[2].tax_rate") or is NULL; `message` is a human sentence in English saying what is wrong
   * and what to do. Both are copied; both stay plugin-owned and need not be NUL-terminated beyond
   * the given sizes. The plugin still returns the matching non-zero status from its function. */
  void (*set_error)(fiscal_call* call, const char* field, size_t field_size, const char* message,
                    size_t message_size);

  /* Writes one structured log line with the ids of the current call attached. `message` is copied.
   * Never pass secrets or personal data. `call` may be NULL outside a call (the line then has no
   * ids). */
  void (*log)(fiscal_call* call, int32_t level, const char* message, size_t message_size);

  /* Sends an HTTP request to the authority on behalf of the plugin and waits for the answer. Only
   * allowed during submit_batch; other functions get FISCAL_ERR_UNSUPPORTED. Returns FISCAL_OK when
   * an HTTP response arrived (whatever its status code), FISCAL_ERR_TRANSPORT when none did (details
   * in response->transport_error), FISCAL_ERR_INVALID_INPUT for a malformed request or an unknown
   * endpoint name. `request` is plugin-owned and read only during the call; `response` is
   * plugin-owned and filled with host-owned pointers valid until the plugin function returns. */
  fiscal_status (*http_send)(fiscal_call* call, const fiscal_http_request* request,
                             fiscal_http_response* response);

  /* --- ABI 1.1 --- */

  /* Signs request->data with the key named request->key_ref in the account of the current call.
   * Only allowed during issue_record; other functions get FISCAL_ERR_UNSUPPORTED. Returns FISCAL_OK
   * with `result` filled, FISCAL_ERR_INVALID_INPUT for a null or short struct, a malformed key_ref
   * or an unknown algorithm, and FISCAL_ERR_UNAVAILABLE when the key is missing or unreadable. On an
   * error the host keeps the reason as the call's last host error. The plugin should fail the call
   * with the same status, so that the host rejects the whole operation and writes nothing. The
   * plugin never receives private key material. `request` is plugin-owned and read only during the
   * call; `result` is plugin-owned and filled with host-owned pointers valid until the plugin
   * function returns. A plugin that calls sign declares needed minor 1 and requests minor 1 in the
   * handshake, and must not call it when the host table's struct_size does not cover it. */
  fiscal_status (*sign)(fiscal_call* call, const fiscal_sign_request* request,
                        fiscal_sign_result* result);
} fiscal_host_api;

typedef struct fiscal_host_access fiscal_host_access;

/* Passed to the entry point; host-owned and valid only during the entry point call. */
struct fiscal_host_access {
  uint32_t struct_size; /* sizeof(fiscal_host_access) of the host */
  /* Returns the host API table when the host implements `major` with a minor >= `min_minor`, or NULL.
   * The returned table is host-owned and stays valid until the host destroys the plugin instance and
   * unloads the library. The plugin should keep the pointer for later calls. */
  const fiscal_host_api* (*get_host_api)(const fiscal_host_access* access, uint32_t major,
                                         uint32_t min_minor);
  /* Reports why the entry point failed. The message is copied. */
  void (*set_error)(const fiscal_host_access* access, const char* message, size_t message_size);
  /* Host context for the two callbacks above. The plugin must not touch it. */
  void* host_context;
};

/* ------------------------------------------------------------------------------------------------
 * Plugin API: functions the plugin implements for the host
 *
 * Every function that takes a fiscal_call writes its output with host->set_result and reports
 * failures with host->set_error plus a non-zero status. Input documents are host-owned and valid only
 * during the call; they are UTF-8 JSON, not NUL-terminated. Every JSON amount is a decimal string
 * ("12.30"), never a JSON number, so that no value passes through binary floating point.
 * ---------------------------------------------------------------------------------------------- */

typedef struct fiscal_plugin_api {
  uint32_t struct_size; /* sizeof(fiscal_plugin_api) of the plugin */
  uint32_t abi_minor;   /* FISCAL_ABI_MINOR the plugin was built against */

  /* --- ABI 1.0 --- */

  /* Creates an instance from the plugin's configuration (a JSON object from the host's config file,
   * "{}" when empty). On success stores the instance in *out_instance and returns FISCAL_OK. Called
   * once per loaded generation, on one thread, before any other function. */
  fiscal_status (*create)(const char* config_json, size_t config_size, fiscal_call* call,
                          fiscal_instance** out_instance);

  /* Frees an instance. Called once, after every other call on it has returned. Must not fail. */
  void (*destroy)(fiscal_instance* instance);

  /* Runs the plugin's own known-answer tests (for example its hash against the authority's published
   * vectors) without network access. The host calls it after create and refuses to publish a plugin
   * whose self-test fails. The result is a JSON object {"checks": N}. */
  fiscal_status (*self_test)(fiscal_instance* instance, fiscal_call* call);

  /* Validates a location's country_config (a JSON object) when a location is created or changed.
   * Returns FISCAL_ERR_INVALID_INPUT with the field named when it is wrong. Result (JSON object):
   *   {"config": {normalised country_config, stored by the host},
   *    "chain_key": "..." (records of locations sharing a key form one chain and one ordered
   *                        submission stream, e.g. issuer tax id plus installation number)} */
  fiscal_status (*validate_location)(fiscal_instance* instance, const char* config_json,
                                     size_t config_size, fiscal_call* call);

  /* Turns one sale, refund or cancellation into the authority's record. The host calls it inside the
   * database transaction that holds the lock on the record's chain, so it must be quick and must not
   * block. Input (JSON object):
   *   {"operation": "sale" | "refund" | "cancel", "environment": "test" | "live",
   *    "now": RFC 3339 UTC time of generation, "location": {normalised country_config},
   *    "transaction": {the validated API transaction, amounts as decimal strings},
   *    "original": {the stored record of the original sale, for refund and cancel} | null,
   *    "chain": {"key": chain key, "sequence": sequence of the new record,
   *              "previous": state returned with the previous record | null}}
   * Result (JSON object):
   *   {"fiscal_id", "record_type", "document" (the exact record to send), "document_type"
   *    ("application/xml"), "hash", "qr_payload", "chain_state" (stored and passed back as
   *    chain.previous for the next record), "receipt": {country-specific receipt fields}}
   * The same input must give byte-identical output. */
  fiscal_status (*issue_record)(fiscal_instance* instance, const char* input_json,
                                size_t input_size, fiscal_call* call);

  /* Sends a batch of records of one chain to the authority through host->http_send and reads the
   * answer. Input (JSON object):
   *   {"environment", "location": {normalised country_config}, "late": true | false,
   *    "records": [{"id", "record_type", "document", "hash", "attempt"}] in chain order}
   * Result (JSON object):
   *   {"results": [{"id", "outcome": "registered" | "registered_with_errors" | "rejected" | "retry",
   *                 "code", "message", "authority_reference"}],
   *    "retry_after_seconds": N (minimum wait before the next batch of this chain, or 0),
   *    "authority_response": the raw answer, for the audit trail}
   * Returns FISCAL_ERR_TRANSPORT when the outcome is unknown (no answer, timeout, server fault); the
   * host then retries the same records unchanged. */
  fiscal_status (*submit_batch)(fiscal_instance* instance, const char* input_json,
                                size_t input_size, fiscal_call* call);

  /* Builds the printable receipt's text in the country's language. Input: {"transaction", "record",
   * "location"} as stored. Result: {"language": "es", "title", "lines": ["..."],
   * "qr_caption_before", "qr_caption_after"}. The host lays it out and draws the QR code from
   * record.qr_payload. */
  fiscal_status (*render_receipt)(fiscal_instance* instance, const char* input_json,
                                  size_t input_size, fiscal_call* call);
} fiscal_plugin_api;

/* The single exported entry point. Performs the runtime handshake: requests from `access->get_host_api` for the
 * host API the plugin needs, keeps it, and stores the plugin's table in *out_api (plugin-owned, static,
 * valid until the library is unloaded). Returns FISCAL_OK, or FISCAL_ERR_INCOMPATIBLE after
 * access->set_error when the host is too old. Called once per load, before any other function. */
typedef fiscal_status (*fiscal_plugin_entry_fn)(const fiscal_host_access* access,
                                                const fiscal_plugin_api** out_api);

/* ------------------------------------------------------------------------------------------------
 * Declaring a plugin
 * ---------------------------------------------------------------------------------------------- */

#if defined(__GNUC__)
#define FISCAL_EXPORT __attribute__((visibility("default")))
#define FISCAL_INFO_ATTRIBUTES \
  __attribute__((section(FISCAL_PLUGIN_INFO_SECTION), used, visibility("default")))
#else
#error "fiscal/plugin_abi.h needs GCC or Clang (ELF sections and visibility attributes)"
#endif

#ifdef __cplusplus
#define FISCAL_EXTERN_C extern "C"
#else
#define FISCAL_EXTERN_C
#endif

/* Defines the compatibility block. Use once per plugin, at file scope, with string literals. The
 * entry point itself is declared with FISCAL_PLUGIN_ENTRY. */
#define FISCAL_PLUGIN_DECLARE(plugin_name, country_code, plugin_version, needed_minor)          \
  FISCAL_EXTERN_C FISCAL_INFO_ATTRIBUTES const fiscal_plugin_info fiscal_plugin_info_block = { \
      FISCAL_PLUGIN_MAGIC,                                                                     \
      (uint32_t)sizeof(fiscal_plugin_info),                                                    \
      FISCAL_BYTE_ORDER_MARK,                                                                  \
      (uint32_t)sizeof(void*),                                                                 \
      FISCAL_ABI_MAJOR,                                                                        \
      (needed_minor),                                                                          \
      (uint32_t)sizeof(fiscal_host_api),                                                       \
      (uint32_t)sizeof(fiscal_plugin_api),                                                     \
      plugin_name,                                                                             \
      country_code,                                                                            \
      plugin_version}

#define FISCAL_PLUGIN_ENTRY                                                                 \
  FISCAL_EXTERN_C FISCAL_EXPORT fiscal_status fiscal_plugin_entry(const fiscal_host_access* access, \
                                                                  const fiscal_plugin_api** out_api)

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* FISCAL_PLUGIN_ABI_H */
