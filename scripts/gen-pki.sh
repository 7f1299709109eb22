#!/usr/bin/env bash
# Generates a throwaway PKI for development and tests of the AEAT emulator and the host's mutual
# TLS client. Never use these files outside development: the keys are not protected.
#
# Usage: scripts/gen-pki.sh DIR
#
# Creates in DIR (EC P-256 keys, mode 600; certificates valid for 2 years):
#   ca.pem, ca-key.pem                  test CA that the emulator trusts (--ca)
#   server.pem, server-key.pem          CN=localhost, SAN DNS:localhost, IP:127.0.0.1, IP:::1
#   client.pem, client-key.pem          CN="89890001K FISCAL TEST CLIENT", serialNumber=89890001K
#   untrusted-ca.pem, untrusted-ca-key.pem
#   untrusted-client.pem, untrusted-client-key.pem
#                                       client certificate from a second CA, for negative tests
#
# Running it again keeps the existing files when all of them are present, chain correctly and stay
# valid for more than 30 days. Otherwise it regenerates the whole set.

set -euo pipefail

readonly VALIDITY_DAYS=730
readonly MIN_REMAINING_SECONDS=$((30 * 24 * 3600))
readonly CLIENT_NIF="89890001K"

die() {
  echo "gen-pki: error: $*" >&2
  exit 1
}

if [[ $# -ne 1 ]]; then
  echo "Usage: $0 DIR" >&2
  exit 2
fi
command -v openssl >/dev/null || die "the openssl command is missing; install the Debian package 'openssl'"

readonly dir="$1"
mkdir -p "$dir"

readonly certificates=(ca.pem server.pem client.pem untrusted-ca.pem untrusted-client.pem)
readonly keys=(ca-key.pem server-key.pem client-key.pem untrusted-ca-key.pem untrusted-client-key.pem)

# Returns 0 when every file exists, each certificate stays valid for more than 30 days and the
# leaf certificates chain to their CA.
existing_set_is_valid() {
  local file
  for file in "${certificates[@]}" "${keys[@]}"; do
    [[ -s "$dir/$file" ]] || return 1
  done
  for file in "${certificates[@]}"; do
    openssl x509 -in "$dir/$file" -noout -checkend "$MIN_REMAINING_SECONDS" >/dev/null 2>&1 || return 1
  done
  openssl verify -CAfile "$dir/ca.pem" "$dir/server.pem" "$dir/client.pem" >/dev/null 2>&1 || return 1
  openssl verify -CAfile "$dir/untrusted-ca.pem" "$dir/untrusted-client.pem" >/dev/null 2>&1 || return 1
  return 0
}

if existing_set_is_valid; then
  echo "gen-pki: keeping the existing certificates in $dir (valid for more than 30 days)"
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

new_key() {
  # umask 077 makes the key file mode 600 from the moment it is created.
  (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null)
  chmod 600 "$1"
}

random_serial() {
  echo "0x$(openssl rand -hex 16)"
}

# new_ca NAME SUBJECT
new_ca() {
  local name="$1" subject="$2"
  new_key "$dir/$name-key.pem"
  openssl req -x509 -new -sha256 -days "$VALIDITY_DAYS" -key "$dir/$name-key.pem" \
    -subj "$subject" -set_serial "$(random_serial)" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" \
    -out "$dir/$name.pem"
}

# new_leaf NAME CA SUBJECT EXTENSIONS
new_leaf() {
  local name="$1" ca="$2" subject="$3" extensions="$4"
  new_key "$dir/$name-key.pem"
  openssl req -new -sha256 -key "$dir/$name-key.pem" -subj "$subject" -out "$work/$name.csr"
  printf '%s\n' "$extensions" >"$work/$name.ext"
  openssl x509 -req -sha256 -days "$VALIDITY_DAYS" -in "$work/$name.csr" \
    -CA "$dir/$ca.pem" -CAkey "$dir/$ca-key.pem" -set_serial "$(random_serial)" \
    -extfile "$work/$name.ext" -out "$dir/$name.pem" 2>/dev/null
}

readonly server_extensions="basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1
authorityKeyIdentifier=keyid"

readonly client_extensions="basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth
authorityKeyIdentifier=keyid"

echo "gen-pki: generating a test PKI in $dir"
new_ca ca "/C=ES/O=Fiscal Server Test/CN=Fiscal Server Test CA"
new_leaf server ca "/C=ES/O=Fiscal Server Test/CN=localhost" "$server_extensions"
new_leaf client ca "/C=ES/O=Fiscal Server Test/serialNumber=$CLIENT_NIF/CN=$CLIENT_NIF FISCAL TEST CLIENT" \
  "$client_extensions"

new_ca untrusted-ca "/C=ES/O=Untrusted Test/CN=Untrusted Test CA"
new_leaf untrusted-client untrusted-ca \
  "/C=ES/O=Untrusted Test/serialNumber=$CLIENT_NIF/CN=$CLIENT_NIF UNTRUSTED TEST CLIENT" \
  "$client_extensions"

existing_set_is_valid || die "the generated certificates in $dir failed verification"
echo "gen-pki: done: ca.pem, server.pem, client.pem and untrusted-client.pem (with keys) in $dir"
