# CMake functions for building a country plugin against the fiscal plugin SDK. Included by the
# installed FiscalPluginSDKConfig.cmake and by plugin-api/CMakeLists.txt in the server's tree.

# fiscal_plugin.map sits next to this file, in the source tree and when installed. The path is a
# cache entry because the function also runs in directory scopes other than the one including this.
set(FISCAL_PLUGIN_SDK_VERSION_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/fiscal_plugin.map CACHE INTERNAL
    "Linker version script of fiscal_plugin_sdk_add_plugin")

# fiscal_plugin_sdk_add_plugin(<target> <plugin name> <plugin version> <sources>...)
#
# Builds <sources> as a plugin module in the host's layout,
# ${FISCAL_PLUGIN_OUTPUT_DIR}/<plugin name>/<plugin version>/lib<target>.so, where
# FISCAL_PLUGIN_OUTPUT_DIR defaults to ${CMAKE_BINARY_DIR}/plugins. <plugin name> and
# <plugin version> must equal the name and version in FISCAL_SDK_DEFINE_PLUGIN or
# FISCAL_PLUGIN_DECLARE, because the host reads the compatibility block and this path separately.
#
# The module exports only the compatibility block and the entry point (hidden visibility plus the
# linker version script fiscal_plugin.map). It has no GNU unique symbols, which would keep the
# library mapped after dlclose. It links with --no-undefined, so that a missing symbol fails the
# build instead of the host's dlopen, and hides the symbols of the static libraries it links.
function(fiscal_plugin_sdk_add_plugin target plugin_name plugin_version)
  # The compatibility block stores the name in 32 bytes, NUL included.
  string(LENGTH "${plugin_name}" name_length)
  if(NOT plugin_name MATCHES "^[a-z0-9_-]+$" OR name_length GREATER 31)
    message(FATAL_ERROR "fiscal_plugin_sdk_add_plugin(${target}): invalid plugin name \"${plugin_name}\": "
                        "use 1 to 31 characters from a-z, 0-9, '_' and '-'")
  endif()
  if(NOT plugin_version MATCHES "^[0-9]+\\.[0-9]+\\.[0-9]+([-+][0-9A-Za-z.+-]*)?$")
    message(FATAL_ERROR "fiscal_plugin_sdk_add_plugin(${target}): invalid plugin version \"${plugin_version}\": "
                        "use a semantic version such as 1.0.0")
  endif()
  if(NOT ARGN)
    message(FATAL_ERROR "fiscal_plugin_sdk_add_plugin(${target}): no source files given")
  endif()

  if(DEFINED FISCAL_PLUGIN_OUTPUT_DIR)
    set(output_root ${FISCAL_PLUGIN_OUTPUT_DIR})
  else()
    set(output_root ${CMAKE_BINARY_DIR}/plugins)
  endif()

  add_library(${target} MODULE ${ARGN})
  target_link_libraries(${target} PRIVATE FiscalPluginSDK::plugin_api)
  set_target_properties(${target} PROPERTIES
    PREFIX "lib"
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LIBRARY_OUTPUT_DIRECTORY ${output_root}/${plugin_name}/${plugin_version}
    FISCAL_PLUGIN_NAME ${plugin_name}
    FISCAL_PLUGIN_VERSION ${plugin_version})
  target_compile_options(${target} PRIVATE $<$<COMPILE_LANG_AND_ID:CXX,GNU>:-fno-gnu-unique>)
  target_link_options(${target} PRIVATE -Wl,--no-undefined -Wl,--exclude-libs,ALL
                      -Wl,--version-script=${FISCAL_PLUGIN_SDK_VERSION_SCRIPT})
  set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS ${FISCAL_PLUGIN_SDK_VERSION_SCRIPT})
endfunction()

# fiscal_plugin_sdk_add_conformance_test(<target> [SAMPLES <file>] [NAME <test name>] [ARGS <args>...])
#
# Registers a CTest test that runs the conformance kit on the module built by <target>. SAMPLES
# names a JSON file of valid inputs in the plugin's format (see fiscal-plugin-conformance --help);
# without it the kit uses its built-in samples, which suit the template plugin only.
function(fiscal_plugin_sdk_add_conformance_test target)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "SAMPLES;NAME" "ARGS")
  if(NOT TARGET FiscalPluginSDK::conformance)
    message(FATAL_ERROR "fiscal_plugin_sdk_add_conformance_test(${target}): the conformance kit "
                        "(FiscalPluginSDK::conformance) is not installed with this SDK")
  endif()
  if(NOT arg_NAME)
    set(arg_NAME ${target}_conformance)
  endif()
  set(samples_args)
  if(arg_SAMPLES)
    get_filename_component(samples_path ${arg_SAMPLES} ABSOLUTE BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
    set(samples_args --samples ${samples_path})
  endif()
  add_test(NAME ${arg_NAME}
           COMMAND FiscalPluginSDK::conformance ${samples_args} ${arg_ARGS} $<TARGET_FILE:${target}>)
endfunction()
