/* ABI probe for scripts/check-abi.sh. Built with -g as a shared library, it exports one function per
 * boundary type of fiscal/plugin_abi.h, so that the library's DWARF describes every struct, member
 * and function pointer type of the header. abidw turns that into plugin-api/abi/baseline.abi.
 *
 * When a new struct or function pointer type is added to the header, add a probe function for it
 * here and regenerate the baseline (scripts/check-abi.sh --update). */
#include <fiscal/plugin_abi.h>

#define FISCAL_PROBE_EXPORT __attribute__((visibility("default"), noinline))

FISCAL_PROBE_EXPORT size_t fiscal_abi_probe_plugin_info(const fiscal_plugin_info* info) {
  return info == NULL ? 0 : info->struct_size;
}

FISCAL_PROBE_EXPORT size_t fiscal_abi_probe_http_request(const fiscal_http_request* request) {
  return request == NULL ? 0 : request->struct_size;
}

FISCAL_PROBE_EXPORT size_t fiscal_abi_probe_http_response(const fiscal_http_response* response) {
  return response == NULL ? 0 : response->struct_size;
}

FISCAL_PROBE_EXPORT size_t fiscal_abi_probe_host_api(const fiscal_host_api* api) {
  return api == NULL ? 0 : api->struct_size;
}

FISCAL_PROBE_EXPORT size_t fiscal_abi_probe_host_access(const fiscal_host_access* access) {
  return access == NULL ? 0 : access->struct_size;
}

FISCAL_PROBE_EXPORT size_t fiscal_abi_probe_plugin_api(const fiscal_plugin_api* api) {
  return api == NULL ? 0 : api->struct_size;
}

FISCAL_PROBE_EXPORT fiscal_status fiscal_abi_probe_entry(fiscal_plugin_entry_fn entry,
                                                         const fiscal_host_access* access,
                                                         const fiscal_plugin_api** out_api) {
  return entry == NULL ? FISCAL_ERR_INCOMPATIBLE : entry(access, out_api);
}

FISCAL_PROBE_EXPORT void fiscal_abi_probe_handles(fiscal_call* call, fiscal_instance* instance) {
  (void)call;
  (void)instance;
}

FISCAL_PROBE_EXPORT size_t fiscal_abi_probe_sign_request(const fiscal_sign_request* request) {
  return request == NULL ? 0 : request->struct_size;
}

FISCAL_PROBE_EXPORT size_t fiscal_abi_probe_sign_result(const fiscal_sign_result* result) {
  return result == NULL ? 0 : result->struct_size;
}
