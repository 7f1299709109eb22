#!/usr/bin/env bash
# Checks that plugin-api/include/fiscal/plugin_abi.h is still binary compatible with the committed
# baseline, plugin-api/abi/baseline.abi, using abidw and abidiff from Debian's abigail-tools.
#
# Usage: scripts/check-abi.sh [--header FILE] [--baseline FILE] [--update]
#   --header FILE    check FILE instead of plugin-api/include/fiscal/plugin_abi.h
#   --baseline FILE  compare with FILE instead of plugin-api/abi/baseline.abi
#   --update         write the baseline from the header instead of comparing (after an intended,
#                    reviewed change, e.g. a function appended to a table)
#
# How it works: plugin-api/abi/abi_probe.c exports one function per boundary type of the header.
# It is compiled with -g into a shared library, abidw writes the library's ABI (types, sizes,
# member offsets) as XML, and abidiff compares that XML with the baseline. The numeric #define
# constants (magic, byte order mark, status codes, ...) are not in the DWARF, so they are compared
# as text with plugin-api/abi/baseline-constants.txt.
#
# What passes and what fails:
#   - A member appended at the end of a fiscal_* struct is allowed, because every boundary struct
#     carries its struct_size and readers use only the members inside the size the writer declared.
#     abidiff --leaf-changes-only reports such a change as
#         'struct fiscal_plugin_api' changed:
#           type size changed from 512 to 576 (in bits)
#           1 data member insertion:
#             '<member declaration>', at offset 512 (in bits)
#     and sets only the ABIDIFF_ABI_CHANGE bit (4) of its exit status. The script accepts a report
#     made only of such blocks, where the size grew and every insertion sits at or after the old
#     size.
#   - Every other reported change fails: a removed, reordered, retyped or inserted-in-the-middle
#     member, a shrunk struct, a changed function pointer type. abidiff sets only ABIDIFF_ABI_CHANGE
#     (4) for these too: ABIDIFF_ABI_INCOMPATIBLE_CHANGE (8) is set only for removed symbols (here a
#     removed probe function, i.e. a type that disappeared). So the script cannot rely on bit 8 and
#     reads the report instead.
#     NOTE: abidiff's own suppression "has_data_member_inserted_at = end" is not used: with
#     abigail-tools 2.2 it also hid a member retyped from int32_t to int64_t, because that change
#     grew the struct too.
#   - New probe functions (new types) are ignored with --no-added-syms.
#   - A changed or removed constant fails; FISCAL_ABI_MINOR may only grow; new constants pass.
#
# Exit status: 0 compatible, 1 incompatible, 2 tool or usage error, 77 abigail-tools missing (the
# CTest tests treat 77 as a skip).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
header=$root/plugin-api/include/fiscal/plugin_abi.h
baseline=$root/plugin-api/abi/baseline.abi
update=0

while [[ $# -gt 0 ]]; do
  case $1 in
    --header) header=$2; shift 2 ;;
    --baseline) baseline=$2; shift 2 ;;
    --update) update=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "check-abi.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
constants_baseline=${baseline%.abi}-constants.txt
probe_source=$root/plugin-api/abi/abi_probe.c

for tool in abidw abidiff; do
  if ! command -v "$tool" >/dev/null; then
    echo "check-abi.sh: SKIP: $tool not found; install the Debian package abigail-tools" >&2
    exit 77
  fi
done
if [[ ! -f $header ]]; then
  echo "check-abi.sh: header $header not found" >&2
  exit 2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The probe includes <fiscal/plugin_abi.h>, so the header under test goes into its own include tree.
mkdir -p "$work/include/fiscal"
cp "$header" "$work/include/fiscal/plugin_abi.h"
"${CC:-cc}" -std=c99 -g -O0 -shared -fPIC -fvisibility=hidden -I"$work/include" \
  "$probe_source" -o "$work/libfiscal_abi_probe.so"
# No paths and no line numbers in the XML, so that the baseline does not depend on the checkout or
# on comment edits.
abidw --no-corpus-path --no-comp-dir-path --no-show-locs --out-file "$work/current.abi" \
  "$work/libfiscal_abi_probe.so"

# Numeric constants of the header, one "NAME VALUE" line each, sorted.
extract_constants() {
  sed -n -E 's/^#define (FISCAL_[A-Z0-9_]+) +([0-9][0-9A-Fa-fxXuU]*)[[:space:]]*(\/\*.*)?$/\1 \2/p' "$1" | sort
}
extract_constants "$work/include/fiscal/plugin_abi.h" >"$work/current-constants.txt"

if [[ $update -eq 1 ]]; then
  cp "$work/current.abi" "$baseline"
  cp "$work/current-constants.txt" "$constants_baseline"
  echo "check-abi.sh: wrote $baseline and $constants_baseline"
  exit 0
fi

for file in "$baseline" "$constants_baseline"; do
  if [[ ! -f $file ]]; then
    echo "check-abi.sh: baseline $file not found (create it with --update)" >&2
    exit 2
  fi
done

# Reads abidiff's leaf report on stdin and prints each line that is not part of an allowed change
# (a struct that grew by members inserted at or after its old end). Prints nothing when all changes
# are allowed.
disallowed_changes() {
  awk '
    /^Leaf changes summary:/ || /^Changed leaf types summary:/ || /^[[:space:]]*$/ { next }
    /^Removed\/Changed\/Added (functions|variables) summary: 0 Removed, 0 Changed/ { next }
    /^.struct fiscal_[A-Za-z0-9_]+. changed:$/ { old_size = -1; in_insertions = 0; next }
    /^  type size changed from [0-9]+ to [0-9]+ \(in bits\)$/ {
      old_size = $5 + 0
      if ($7 + 0 > old_size) next
    }
    /^  [0-9]+ data member insertions?:$/ { if (old_size >= 0) { in_insertions = 1; next } }
    in_insertions && /^    .*, at offset [0-9]+ \(in bits\)$/ {
      offset = $(NF - 2) + 0
      if (offset >= old_size) next
    }
    { print }
  '
}

failed=0
set +e
abidiff --no-added-syms --leaf-changes-only "$baseline" "$work/current.abi" >"$work/abidiff.txt" 2>&1
abidiff_status=$?
set -e
if (( abidiff_status & 3 )); then
  cat "$work/abidiff.txt" >&2
  echo "check-abi.sh: abidiff failed (exit status $abidiff_status)" >&2
  exit 2
fi
if (( abidiff_status & 12 )); then
  cat "$work/abidiff.txt"
  disallowed_changes <"$work/abidiff.txt" >"$work/disallowed.txt"
  if (( abidiff_status & 8 )); then
    echo "check-abi.sh: FAIL: abidiff found an incompatible change (ABIDIFF_ABI_INCOMPATIBLE_CHANGE): a type of the header was removed"
    failed=1
  elif [[ -s $work/disallowed.txt ]]; then
    echo "check-abi.sh: FAIL: incompatible change against $baseline; only members appended at the end of a struct are allowed. Not allowed:"
    sed 's/^/    /' "$work/disallowed.txt"
    failed=1
  else
    echo "check-abi.sh: members appended at the end of a struct only; allowed by the struct_size rule"
  fi
fi

# Every baseline constant must keep its value; FISCAL_ABI_MINOR may grow.
while read -r name value; do
  current=$(awk -v name="$name" '$1 == name { print $2 }' "$work/current-constants.txt")
  if [[ -z $current ]]; then
    echo "check-abi.sh: FAIL: constant $name (baseline $value) was removed"
    failed=1
  elif [[ $name == FISCAL_ABI_MINOR ]]; then
    if (( ${current%u} < ${value%u} )); then
      echo "check-abi.sh: FAIL: FISCAL_ABI_MINOR went down from $value to $current"
      failed=1
    fi
  elif [[ $current != "$value" ]]; then
    echo "check-abi.sh: FAIL: constant $name changed from $value to $current"
    failed=1
  fi
done <"$constants_baseline"

if [[ $failed -eq 0 ]]; then
  echo "check-abi.sh: OK: $header is compatible with $baseline"
fi
exit $failed
