#!/usr/bin/env bash
# Proves that scripts/check-abi.sh catches incompatible header changes and lets an appended member
# pass. Each case edits a copy of plugin_abi.h in a temporary directory; the real header is not
# touched. Usage: test-check-abi.sh <path of check-abi.sh>
set -euo pipefail

check_abi=$1
root=$(cd "$(dirname "$check_abi")/.." && pwd)
header=$root/plugin-api/include/fiscal/plugin_abi.h
for tool in abidw abidiff python3; do
  if ! command -v "$tool" >/dev/null; then
    echo "SKIP: $tool not found (abidw and abidiff come with the Debian package abigail-tools)"
    exit 77
  fi
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# edit <name> <old text> <new text>: writes $work/<name>.h, a copy of the header with the one
# occurrence of <old text> replaced.
edit() {
  python3 - "$header" "$work/$1.h" "$2" "$3" <<'PY'
import sys
source, target, old, new = sys.argv[1:]
text = open(source).read()
if text.count(old) != 1:
    sys.exit(f"test-check-abi.sh: expected exactly one occurrence of {old!r} in {source}")
open(target, "w").write(text.replace(old, new))
PY
}

failures=0
# expect <name> <exit status> <text in the output>
expect() {
  local status=0
  "$check_abi" --header "$work/$1.h" >"$work/$1.out" 2>&1 || status=$?
  if [[ $status -ne $2 ]] || ! grep -q -- "$3" "$work/$1.out"; then
    echo "FAIL: case $1: expected exit status $2 and output containing \"$3\", got exit status $status:"
    sed 's/^/    /' "$work/$1.out"
    failures=$((failures + 1))
  else
    echo "ok: case $1 (exit status $status)"
  fi
}

edit removed_member "  uint32_t timed_out;
} fiscal_http_response;" "} fiscal_http_response;"
expect removed_member 1 "FAIL"

edit retyped_member "  int32_t status_code;" "  int64_t status_code;"
expect retyped_member 1 "FAIL"

edit retyped_sign_member "  size_t signature_size;" "  uint32_t signature_size;"
expect retyped_sign_member 1 "FAIL"

edit removed_sign_slot "  fiscal_status (*sign)(fiscal_call* call, const fiscal_sign_request* request,
                        fiscal_sign_result* result);
" ""
expect removed_sign_slot 1 "FAIL"

edit reordered_slots "  void (*destroy)(fiscal_instance* instance);
" ""
expect reordered_slots 1 "FAIL"

edit inserted_in_middle "  void (*destroy)(fiscal_instance* instance);
" "  void (*inserted_function)(fiscal_instance* instance);
  void (*destroy)(fiscal_instance* instance);
"
expect inserted_in_middle 1 "FAIL"

edit changed_magic "#define FISCAL_PLUGIN_MAGIC 0x43534946u" "#define FISCAL_PLUGIN_MAGIC 0x43534947u"
expect changed_magic 1 "constant FISCAL_PLUGIN_MAGIC changed"

edit appended_slot "                                  size_t input_size, fiscal_call* call);
} fiscal_plugin_api;" "                                  size_t input_size, fiscal_call* call);
  fiscal_status (*appended_function)(fiscal_instance* instance, fiscal_call* call);
} fiscal_plugin_api;"
expect appended_slot 0 "allowed by the struct_size rule"

if [[ $failures -ne 0 ]]; then
  echo "$failures case(s) failed"
  exit 1
fi
echo "all cases passed"
