#!/usr/bin/env bash
# A second opinion on fiscal-verify: checks a sample archive with openssl, jq and coreutils alone
# (python3 only unzips and edits files), following the steps that README.txt inside the archive
# gives. Then checks that tampered copies fail both here and in fiscal-verify, and that
# fiscal-verify's --key-id and --public-key reject an archive of another key.
#
# Usage: openssl_second_opinion.sh FIXTURE_TOOL FISCAL_VERIFY WORK_DIR
#   FIXTURE_TOOL   fiscal-archive-fixture, which writes the sample archive
#   FISCAL_VERIFY  the fiscal-verify binary
#   WORK_DIR       scratch directory, emptied first
# Exits 0 when every check behaves, 1 on the first surprise, 77 (skipped) when a tool is missing.
set -euo pipefail

if [ $# -ne 3 ]; then
  echo "usage: $0 FIXTURE_TOOL FISCAL_VERIFY WORK_DIR" >&2
  exit 2
fi
fixture=$1
verifier=$2
work=$3

for tool in openssl python3 jq basenc od; do
  if ! command -v "$tool" >/dev/null; then
    echo "skipped: $tool is not installed"
    exit 77
  fi
done

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# Prints what openssl reports, "Verified OK" when the DER signature in $2 verifies file $3 with
# $1/public_key.pem.
openssl_verify() {
  local dir=$1 signature=$2 data=$3
  openssl dgst -sha256 -verify "$dir/public_key.pem" -signature "$signature" "$data" 2>&1 || true
}

check_manifest_signature() {
  local dir=$1
  [ "$(openssl_verify "$dir" "$dir/manifest.sig" "$dir/manifest.json")" = "Verified OK" ]
}

check_key_id() {
  local dir=$1 computed expected
  computed=$(openssl pkey -pubin -in "$dir/public_key.pem" -outform DER | openssl dgst -sha256 -r |
             cut -c1-64)
  expected=$(jq -r .key_id "$dir/manifest.json")
  [ "$computed" = "$expected" ]
}

check_file_hashes() {
  local dir=$1 path hash
  while read -r path hash; do
    [ "$(openssl dgst -sha256 -r "$dir/$path" | cut -c1-64)" = "$hash" ] || {
      echo "file $path: SHA-256 differs from the manifest"
      return 1
    }
  done < <(jq -r '.files | to_entries[] | "\(.key) \(.value)"' "$dir/manifest.json")
}

# Converts a base64url r||s signature ($1) to DER in file $2 with asn1parse, as README.txt shows.
raw_signature_to_der() {
  local signature=$1 der=$2 hex
  hex=$(printf '%s==' "$signature" | basenc --base64url -d | od -An -v -tx1 | tr -d ' \n')
  [ ${#hex} -eq 128 ] || return 1
  printf 'asn1=SEQUENCE:sig\n[sig]\nr=INTEGER:0x%s\ns=INTEGER:0x%s\n' \
    "${hex:0:64}" "${hex:64:64}" > "$der.cnf"
  openssl asn1parse -genconf "$der.cnf" -out "$der" -noout
}

# Checks every record of every chain: the document digest and the chained signature. Prints the
# chain and sequence of the first record that fails.
check_records() {
  local dir=$1 scratch=$1/.check count=0
  mkdir -p "$scratch"
  local chain name file previous line sequence signature digest
  while read -r chain; do
    name=$(jq -r .name <<<"$chain")
    file=$(jq -r .file <<<"$chain")
    previous=$(jq -r '.anchor.signature // ""' <<<"$chain")
    while IFS= read -r line; do
      sequence=$(jq -r .sequence <<<"$line")
      jq -j .payload <<<"$line" > "$scratch/payload"
      jq -j .document <<<"$line" > "$scratch/document"
      signature=$(jq -j .signature <<<"$line")

      digest=$(openssl dgst -sha256 -binary "$scratch/document" | basenc --base64url | tr -d '=\n')
      if [ "$(sed 's/.*,//' "$scratch/payload")" != "$digest" ]; then
        echo "chain $name, sequence $sequence: document digest differs"
        return 1
      fi

      { cat "$scratch/payload"; printf ',%s' "$previous"; } > "$scratch/signed"
      if ! raw_signature_to_der "$signature" "$scratch/sig.der" ||
         [ "$(openssl_verify "$dir" "$scratch/sig.der" "$scratch/signed")" != "Verified OK" ]; then
        echo "chain $name, sequence $sequence: signature does not verify"
        return 1
      fi
      previous=$signature
      count=$((count + 1))
    done < "$dir/$file"
  done < <(jq -c '.chains[]' "$dir/manifest.json")
  echo "$count records verified"
}

rezip() {
  local dir=$1 zip=$2
  rm -f "$zip"
  (cd "$dir" &&
   python3 -m zipfile -c "$zip" README.txt manifest.json manifest.sig public_key.pem chains)
}

rm -rf "$work"
mkdir -p "$work"
"$fixture" "$work/archive.zip"
python3 -m zipfile -e "$work/archive.zip" "$work/original"
original=$work/original

echo "== the sample archive with openssl alone"
check_manifest_signature "$original" || fail "manifest.sig does not verify manifest.json"
check_key_id "$original" || fail "key_id is not the SHA-256 of the DER public key"
check_file_hashes "$original" || fail "file hashes"
report=$(check_records "$original") || fail "$report"
echo "$report"
[ "$report" = "10 records verified" ] || fail "expected 10 records, got: $report"

echo "== fiscal-verify agrees"
"$verifier" "$work/archive.zip" || fail "fiscal-verify rejects the sample archive"
# A zip written by another tool (Python's zipfile, with a directory entry) reads the same.
rezip "$original" "$work/python.zip"
"$verifier" "$work/python.zip" | tail -1 | grep -qx VALID ||
  fail "fiscal-verify rejects the Python zip"

echo "== a changed amount fails the record signature"
cp -r "$original" "$work/amount"
python3 - "$work/amount/chains/tickets.jsonl" <<'EOF'
import sys
path = sys.argv[1]
lines = open(path, encoding="utf-8").read().split("\n")
assert "1000:8.50,8.50," in lines[1], lines[1]
lines[1] = lines[1].replace("1000:8.50,8.50,", "1000:8.60,8.60,", 1)
open(path, "w", encoding="utf-8").write("\n".join(lines))
EOF
check_manifest_signature "$work/amount" || fail "the manifest signature should still verify"
if report=$(check_records "$work/amount"); then fail "openssl accepted a changed amount"; fi
[ "$report" = "chain tickets, sequence 2: signature does not verify" ] || fail "unexpected: $report"
echo "openssl: $report"
rezip "$work/amount" "$work/amount.zip"
status=0
output=$("$verifier" "$work/amount.zip") || status=$?
[ $status -eq 1 ] || fail "fiscal-verify exit status $status for a changed amount, expected 1"
expected="INVALID: chain tickets, sequence 2 (fiscal id CAISSE-01-T-000002): signature does not"
grep -qF "$expected verify" <<<"$output" || fail "fiscal-verify output: $output"
echo "fiscal-verify: $(tail -1 <<<"$output")"

echo "== a changed document fails its digest"
cp -r "$original" "$work/document"
python3 - "$work/document/chains/journal.jsonl" <<'EOF'
import json, sys
path = sys.argv[1]
lines = open(path, encoding="utf-8").read().split("\n")
record = json.loads(lines[1])
record["document"] = record["document"].replace("Dupont", "Durand")
lines[1] = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
open(path, "w", encoding="utf-8").write("\n".join(lines))
EOF
if report=$(check_records "$work/document"); then fail "openssl accepted a changed document"; fi
[ "$report" = "chain journal, sequence 43: document digest differs" ] || fail "unexpected: $report"
echo "openssl: $report"

echo "== a changed manifest fails the manifest signature"
cp -r "$original" "$work/manifest"
sed -i 's/"count": 4/"count": 5/' "$work/manifest/manifest.json"
grep -q '"count": 5' "$work/manifest/manifest.json" || fail "the manifest edit did not apply"
if check_manifest_signature "$work/manifest"; then fail "openssl accepted an edited manifest"; fi
rezip "$work/manifest" "$work/manifest.zip"
status=0
output=$("$verifier" "$work/manifest.zip") || status=$?
[ $status -eq 1 ] || fail "fiscal-verify exit status $status for an edited manifest, expected 1"
grep -q "^INVALID: file manifest.sig" <<<"$output" || fail "fiscal-verify output: $output"
echo "fiscal-verify: $(tail -1 <<<"$output")"

echo "== usage and read errors exit 2"
status=0
"$verifier" "$work/missing.zip" 2>/dev/null || status=$?
[ $status -eq 2 ] || fail "fiscal-verify exit status $status for a missing file, expected 2"
status=0
"$verifier" 2>/dev/null || status=$?
[ $status -eq 2 ] || fail "fiscal-verify exit status $status without arguments, expected 2"
status=0
"$verifier" --json "$work/amount.zip" > "$work/report.json" || status=$?
[ $status -eq 1 ] || fail "fiscal-verify --json exit status $status, expected 1"
failure=$(jq -r '.failure.chain + " " + (.failure.sequence | tostring)' "$work/report.json")
[ "$failure" = "tickets 2" ] ||
  fail "fiscal-verify --json: $(cat "$work/report.json")"

echo "== a pinned key"
key_id=$(openssl pkey -pubin -in "$original/public_key.pem" -outform DER | openssl dgst -sha256 -r |
         cut -c1-64)
note="note: key not pinned; compare the key id with the register's published key id (--key-id)"
output=$("$verifier" "$work/archive.zip") || fail "fiscal-verify rejects the sample archive"
grep -qxF "$note" <<<"$output" || fail "no note about the unpinned key: $output"
output=$("$verifier" --key-id "$key_id" "$work/archive.zip") ||
  fail "fiscal-verify --key-id rejects the archive's own key: $output"
grep -qx "ok pinned key $key_id" <<<"$output" || fail "fiscal-verify --key-id output: $output"
if grep -q "^note:" <<<"$output"; then fail "a note despite the pinned key: $output"; fi
output=$("$verifier" --public-key="$original/public_key.pem" "$work/archive.zip") ||
  fail "fiscal-verify --public-key rejects the archive's own key: $output"
grep -qx "ok pinned key $key_id" <<<"$output" || fail "fiscal-verify --public-key output: $output"

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/other.key" \
  2>/dev/null || fail "openssl could not generate a P-256 key"
openssl pkey -in "$work/other.key" -pubout -out "$work/other.pem"
other_id=$(openssl pkey -pubin -in "$work/other.pem" -outform DER | openssl dgst -sha256 -r |
           cut -c1-64)
expected="INVALID: file public_key.pem: the archive is signed by key $key_id, expected $other_id"
for option in "--key-id=$other_id" "--public-key=$work/other.pem"; do
  status=0
  output=$("$verifier" "$option" "$work/archive.zip") || status=$?
  [ $status -eq 1 ] || fail "fiscal-verify $option: exit status $status, expected 1"
  [ "$output" = "$expected" ] || fail "fiscal-verify $option output: $output"
done
echo "fiscal-verify: $expected"

echo "== key option errors exit 2"
expect_usage_error() {
  local status=0
  "$verifier" "$@" >/dev/null 2>&1 || status=$?
  [ $status -eq 2 ] || fail "fiscal-verify $*: exit status $status, expected 2"
}
expect_usage_error --key-id xyz "$work/archive.zip"
expect_usage_error "$work/archive.zip" --key-id
expect_usage_error --public-key "$work/missing.pem" "$work/archive.zip"
expect_usage_error --public-key "$work/archive.zip" "$work/archive.zip"
expect_usage_error --key-id "$other_id" --public-key "$original/public_key.pem" "$work/archive.zip"

echo "PASS: openssl and fiscal-verify agree on the sample archive and its tampered copies"
