#!/usr/bin/env bash
# Runs a command (the conformance kit with --no-fork) under valgrind's leak checker.
#
# Usage: run-under-valgrind.sh [--expect-leak TEXT] -- COMMAND...
#   Without --expect-leak, passes when valgrind finds no error and COMMAND succeeds.
#   With --expect-leak, passes only when COMMAND's own checks all pass (GoogleTest prints no
#   "[  FAILED  ]" line) and valgrind reports a definite leak whose report contains TEXT (e.g. the
#   leaking function's name). This proves that the leak alone fails the run.
# Exits with 77 (a skip for CTest) when valgrind is not installed.
set -euo pipefail

expect_leak=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --expect-leak) expect_leak=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "run-under-valgrind.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
if ! command -v valgrind >/dev/null; then
  echo "SKIP: valgrind not found; install the Debian package valgrind to run the leak checks"
  exit 77
fi

output=$(mktemp)
trap 'rm -f "$output"' EXIT
status=0
valgrind --leak-check=full --error-exitcode=1 "$@" >"$output" 2>&1 || status=$?
cat "$output"
echo "----- run-under-valgrind.sh: exit status $status"

if [[ -z $expect_leak ]]; then
  exit "$status"
fi

problems=0
if [[ $status -ne 1 ]]; then
  echo "expected exit status 1 from valgrind's --error-exitcode, got $status"
  problems=$((problems + 1))
fi
if grep -q '^\[  FAILED  \]' "$output"; then
  echo "a conformance check failed; the leak must be the only fault"
  problems=$((problems + 1))
fi
if ! grep -q 'definitely lost in' "$output"; then
  echo "valgrind reported no definite leak"
  problems=$((problems + 1))
fi
# Not a pipe into grep -q: under pipefail, grep -q exiting at the first match makes the writer die
# of SIGPIPE, and the pipeline then fails although the text was found.
leak_reports=$(grep -A 12 'definitely lost in' "$output" || true)
if ! grep -qF -- "$expect_leak" <<<"$leak_reports"; then
  echo "no leak report mentions $expect_leak"
  problems=$((problems + 1))
fi
if [[ $problems -ne 0 ]]; then
  echo "run-under-valgrind.sh: FAIL: $problems expectation(s) not met"
  exit 1
fi
echo "run-under-valgrind.sh: OK: valgrind failed the run on the expected leak"
