/* Compiles the ABI header as strict C99, so that a C++-only construct in it breaks the build. */
#include <fiscal/plugin_abi.h>

FISCAL_PLUGIN_DECLARE("c-header-check", "XX", "0.0.1", 0);

size_t fiscal_abi_header_check_size(void) {
  return sizeof(fiscal_plugin_info) + sizeof(fiscal_host_api) + sizeof(fiscal_plugin_api) +
         sizeof(fiscal_host_access) + sizeof(fiscal_http_request) + sizeof(fiscal_http_response);
}
