# CTest tests of the conformance kit (plugin-api/conformance): the kit passes the template, the Spain
# plugin and the conformant corpus plugin, and fails each faulty corpus plugin on the check its fault
# breaks (expect-conformance.sh), including a leak that only valgrind sees (run-under-valgrind.sh).
if(NOT TARGET fiscal-plugin-conformance)
  message(STATUS "Conformance kit tests not registered: the kit is not built")
  return()
endif()

set(kit $<TARGET_FILE:fiscal-plugin-conformance>)
set(corpus ${FISCAL_PLUGIN_OUTPUT_DIR}/corpus)
set(expect ${CMAKE_CURRENT_SOURCE_DIR}/expect-conformance.sh)
set(valgrind ${CMAKE_CURRENT_SOURCE_DIR}/run-under-valgrind.sh)
set(spain_samples ${PROJECT_SOURCE_DIR}/plugin-api/conformance/samples/spain/samples.json)
# Under valgrind the kit runs in one process (no fork) and without the latency budget.
set(valgrind_kit_args --no-fork --issue-record-budget-ms=0 --threads=4 --calls-per-thread=5)

add_test(NAME plugin_conformance_template COMMAND ${kit} $<TARGET_FILE:fiscal_template_plugin>)
add_test(NAME plugin_conformance_spain
         COMMAND ${kit} --samples ${spain_samples} $<TARGET_FILE:fiscal_spain_verifactu>)
add_test(NAME plugin_conformance_france
         COMMAND ${kit} --samples ${PROJECT_SOURCE_DIR}/plugins/france/conformance/samples.json
                 $<TARGET_FILE:fiscal_france_nf525>)
add_test(NAME plugin_conformance_corpus_conformant COMMAND ${kit} ${corpus}/conformant.so)
# The template's copy of the built-in samples must stay equal to the kit's.
add_test(NAME plugin_conformance_template_samples_in_sync
         COMMAND ${CMAKE_COMMAND} -E compare_files ${PROJECT_SOURCE_DIR}/plugin-api/conformance/samples/template.json
                 ${PROJECT_SOURCE_DIR}/plugins/template/samples.json)

# Faulty plugins. Each run is narrowed with --gtest_filter to the checks around the fault, and
# --only asserts that exactly the listed checks fail.
set(crash_failures)
foreach(kind empty not_json truncated not_an_object deeply_nested ten_megabytes invalid_utf8)
  list(APPEND crash_failures --fail AllFunctions/HostileInputTest.Rejected/issue_record_${kind})
endforeach()
add_test(NAME plugin_conformance_catches_crash
         COMMAND ${expect} --only ${crash_failures}
                 --output "the plugin crashed during issue_record(not_json): the process was killed by signal 11"
                 -- ${kit} "--gtest_filter=AllFunctions/HostileInputTest.Rejected/issue_record_*:Samples.*"
                 ${corpus}/crashes.so)
add_test(NAME plugin_conformance_catches_sdk_exception
         COMMAND ${expect} --only --fail Samples.IssueRecordAccepts
                 --output "plugin exception: corpus plugin: issue_record always throws"
                 -- ${kit} "--gtest_filter=Samples.IssueRecordAccepts:Lifecycle.*:Handshake.*" ${corpus}/throws.so)
add_test(NAME plugin_conformance_catches_exception_across_abi
         COMMAND ${expect} --only --fail Samples.IssueRecordAccepts --fail Determinism.IssueRecordIsByteIdentical
                 --output "issue_record(sample) let an exception cross the ABI: corpus plugin: issue_record throws across the ABI"
                 -- ${kit} "--gtest_filter=Samples.*:Determinism.*:Lifecycle.*" ${corpus}/throws_across_abi.so)
add_test(NAME plugin_conformance_catches_null_function
         COMMAND ${expect} --only --fail FunctionTable.EveryAbi10SlotSet --output "the validate_location slot is NULL"
                 -- ${kit} "--gtest_filter=CompatibilityBlock.*:Handshake.*:FunctionTable.*" ${corpus}/null_function.so)
add_test(NAME plugin_conformance_catches_null_table
         COMMAND ${expect} --only --fail Handshake.RequestsSupportedVersion --fail FunctionTable.SizeAndVersion
                 --fail FunctionTable.EveryAbi10SlotSet
                 --output "the entry point returned FISCAL_OK but stored no function table"
                 -- ${kit} "--gtest_filter=CompatibilityBlock.*:Handshake.*:FunctionTable.*" ${corpus}/null_table.so)
add_test(NAME plugin_conformance_catches_blocking_call
         COMMAND ${expect} --only --fail Samples.IssueRecordAccepts
                 --output "the check did not finish within 2000 ms during issue_record(sample)"
                 -- ${kit} --timeout-ms=2000 "--gtest_filter=Samples.*:Lifecycle.*" ${corpus}/blocks.so)
add_test(NAME plugin_conformance_catches_missing_result
         COMMAND ${expect} --only --fail Samples.IssueRecordAccepts
                 --output "issue_record(sample) returned FISCAL_OK without calling set_result"
                 -- ${kit} "--gtest_filter=Samples.IssueRecordAccepts:Lifecycle.*" ${corpus}/no_result.so)
add_test(NAME plugin_conformance_catches_missing_error
         COMMAND ${expect} --only --fail ErrorReporting.IssueRecordNamesField
                 --output "issue_record(invalid sample) returned status 1 without calling set_error"
                 -- ${kit} "--gtest_filter=ErrorReporting.IssueRecordNamesField:Lifecycle.*"
                 ${corpus}/error_without_message.so)

# Leaks, under valgrind.
add_test(NAME plugin_conformance_valgrind_template
         COMMAND ${valgrind} -- ${kit} ${valgrind_kit_args} $<TARGET_FILE:fiscal_template_plugin>)
add_test(NAME plugin_conformance_valgrind_spain
         COMMAND ${valgrind} -- ${kit} ${valgrind_kit_args} --samples ${spain_samples}
                 $<TARGET_FILE:fiscal_spain_verifactu>)
add_test(NAME plugin_conformance_valgrind_catches_leak
         COMMAND ${valgrind} --expect-leak "(conformance_plugin.cc:"
                 -- ${kit} ${valgrind_kit_args} "--gtest_filter=Samples.*:Determinism.*" ${corpus}/leaks.so)

set_tests_properties(
  plugin_conformance_template plugin_conformance_spain plugin_conformance_corpus_conformant
  plugin_conformance_template_samples_in_sync plugin_conformance_catches_crash
  plugin_conformance_catches_sdk_exception plugin_conformance_catches_exception_across_abi
  plugin_conformance_catches_null_function plugin_conformance_catches_null_table
  plugin_conformance_catches_blocking_call plugin_conformance_catches_missing_result
  plugin_conformance_catches_missing_error
  PROPERTIES LABELS "unit;conformance" TIMEOUT 120)
set_tests_properties(
  plugin_conformance_valgrind_template plugin_conformance_valgrind_spain plugin_conformance_valgrind_catches_leak
  PROPERTIES LABELS "unit;conformance;valgrind" TIMEOUT 900 SKIP_RETURN_CODE 77)
