#!/usr/bin/env bash
# Follows docs/plugin-guide.md literally: extracts its ```sh blocks and runs them in order, in one
# bash process (so variables and `cd` carry over), on a fresh copy of the template in a temporary
# folder outside the tree. The guide's folder variables are set to that folder first, and the
# guide's own defaults (${VAR:-...}) keep them. When a command in the guide goes stale, this fails.
#
# Usage: tests/guide/run-guide.sh [--keep]
#   --keep  leave the temporary folder in place for inspection
#
# The signing block is skipped, with a message, while packaging/sign-plugin.sh does not exist.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
guide=$root/docs/plugin-guide.md
keep=0
[[ ${1:-} == --keep ]] && keep=1

work=$(mktemp -d "${TMPDIR:-/tmp}/fiscal-plugin-guide.XXXXXX")
if [[ $keep -eq 0 ]]; then
  trap 'rm -rf "$work"' EXIT
else
  echo "run-guide.sh: keeping $work"
fi

export FISCAL_SRC=$root
export SDK_BUILD=$work/sdk-build
export SDK_PREFIX=$work/sdk
export PLUGIN_SRC=$work/fiscal-plugin-demo
export PLUGIN_DIR=$work/plugins

# Writes each ```sh block to $work/blocks/NN.sh, with its first line number in NN.line.
mkdir -p "$work/blocks"
awk -v dir="$work/blocks" '
  /^```sh[[:space:]]*$/ { count++; file = sprintf("%s/%02d.sh", dir, count); print NR + 1 > (file ".line"); inside = 1; next }
  /^```/ && inside { inside = 0; close(file); next }
  inside { print > file }
' "$guide"
blocks=("$work"/blocks/*.sh)
if [[ ! -e ${blocks[0]} ]]; then
  echo "run-guide.sh: $guide has no \`\`\`sh blocks" >&2
  exit 1
fi

# One script for the whole guide; each block is announced with its line in the guide.
script=$work/guide.sh
{
  echo "set -euo pipefail"
  for block in "${blocks[@]}"; do
    line=$(cat "$block.line")
    echo "echo; echo \"===== docs/plugin-guide.md, block at line $line\""
    if grep -q 'packaging/sign-plugin.sh' "$block" && [[ ! -x $root/packaging/sign-plugin.sh ]]; then
      echo "echo 'SKIP: packaging/sign-plugin.sh does not exist yet; the signing step is not run'"
      continue
    fi
    echo "cat <<'GUIDE_BLOCK_END'"
    cat "$block"
    echo "GUIDE_BLOCK_END"
    cat "$block"
  done
} >"$script"

cd "$work"
bash "$script"
echo
echo "run-guide.sh: OK: every block of docs/plugin-guide.md ran"
