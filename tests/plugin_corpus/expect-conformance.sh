#!/usr/bin/env bash
# Runs the conformance kit on a faulty plugin and passes only when the kit fails in the expected
# way, so that a test of the kit cannot pass because of some unrelated failure.
#
# Usage: expect-conformance.sh [--fail TEST]... [--output TEXT]... [--only] -- KIT ARGS...
#   --fail TEST    TEST (a full GoogleTest name) must be among the failed tests
#   --output TEXT  TEXT must appear in the kit's output (e.g. the failure message of TEST)
#   --only         no test other than those given with --fail may fail
set -euo pipefail

expected_failures=()
expected_output=()
only=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --fail) expected_failures+=("$2"); shift 2 ;;
    --output) expected_output+=("$2"); shift 2 ;;
    --only) only=1; shift ;;
    --) shift; break ;;
    *) echo "expect-conformance.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [[ $# -eq 0 || ${#expected_failures[@]} -eq 0 ]]; then
  echo "expect-conformance.sh: give at least one --fail TEST and the kit command after --" >&2
  exit 2
fi

output=$(mktemp)
trap 'rm -f "$output"' EXIT
status=0
"$@" >"$output" 2>&1 || status=$?
cat "$output"
echo "----- expect-conformance.sh: the kit exited with status $status"

# Test names from GoogleTest's "[  FAILED  ] Suite.Test" lines, without parameter descriptions.
failed=$(sed -n -E 's/^\[  FAILED  \] ([A-Za-z_][A-Za-z0-9_/.]*).*/\1/p' "$output" | sort -u)

problems=0
if [[ $status -ne 1 ]]; then
  echo "expected exit status 1 (a check failed), got $status"
  problems=$((problems + 1))
fi
for name in "${expected_failures[@]}"; do
  if ! grep -qxF -- "$name" <<<"$failed"; then
    echo "expected test $name to fail, but it did not"
    problems=$((problems + 1))
  fi
done
for text in "${expected_output[@]}"; do
  if ! grep -qF -- "$text" "$output"; then
    echo "expected the output to contain: $text"
    problems=$((problems + 1))
  fi
done
if [[ $only -eq 1 ]]; then
  while read -r name; do
    [[ -z $name ]] && continue
    if ! printf '%s\n' "${expected_failures[@]}" | grep -qxF -- "$name"; then
      echo "test $name failed, but only the tests given with --fail may fail"
      problems=$((problems + 1))
    fi
  done <<<"$failed"
fi

if [[ $problems -ne 0 ]]; then
  echo "expect-conformance.sh: FAIL: $problems expectation(s) not met"
  exit 1
fi
echo "expect-conformance.sh: OK: the kit failed exactly as expected"
