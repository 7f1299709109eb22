#!/usr/bin/env bash
# Signs a plugin build for certification, or creates a certifier key pair.
#
#   sign-plugin.sh LIB PRIVATE_KEY_PEM [CERTIFICATION_JSON_FILE]
#       Writes LIB.manifest.json and LIB.manifest.sig next to LIB. The manifest takes name,
#       country, version and ABI version from LIB's compatibility block (ELF section
#       fiscal_plugin_info), the SHA-256 of LIB, the "certification" object from
#       CERTIFICATION_JSON_FILE ({} when omitted) and the signer's key id. The signature covers the
#       exact bytes of the manifest file: raw 64 bytes for an Ed25519 key, DER for an ECDSA P-256
#       key (signed over SHA-256).
#
#   sign-plugin.sh --new-key DIR
#       Creates DIR/plugin-signing.key (Ed25519 private key, mode 600) and
#       DIR/plugin-signing.pub (public key for plugin_trust.trusted_keys), and prints the key id.
#
# Needs openssl (3.x), objcopy (binutils) and python3. docs/certification.md describes the format.
set -euo pipefail

readonly INFO_SECTION="fiscal_plugin_info"

die() {
  echo "sign-plugin.sh: error: $*" >&2
  exit 1
}

usage() {
  cat >&2 <<'EOF'
usage: sign-plugin.sh LIB PRIVATE_KEY_PEM [CERTIFICATION_JSON_FILE]
       sign-plugin.sh --new-key DIR
EOF
  exit 2
}

need_tool() {
  command -v "$1" >/dev/null 2>&1 || die "$1 not found: install $2"
}

# Prints the key id of a PEM key (private or public): the first 16 hex digits of the SHA-256 of
# the DER SubjectPublicKeyInfo.
key_id() {
  local key=$1 pubin=()
  if grep -q -- '-----BEGIN PUBLIC KEY-----' "$key"; then pubin=(-pubin); fi
  openssl pkey "${pubin[@]}" -in "$key" -pubout -outform DER |
    openssl dgst -sha256 -r | cut -c1-16
}

new_key() {
  local dir=$1
  local private="$dir/plugin-signing.key" public="$dir/plugin-signing.pub"
  need_tool openssl "the openssl package"
  mkdir -p -- "$dir"
  [[ -e $private || -e $public ]] && die "$private or $public already exists: remove the old key pair first or choose another DIR"

  # umask 077 makes the private key file 600 from the moment it exists.
  (umask 077 && openssl genpkey -algorithm ed25519 -out "$private") ||
    die "openssl genpkey failed to create $private"
  chmod 600 -- "$private"
  openssl pkey -in "$private" -pubout -out "$public" || die "cannot write the public key $public"

  echo "private key: $private (keep it secret; mode 600)"
  echo "public key:  $public (operators list it in plugin_trust.trusted_keys)"
  echo "key id:      $(key_id "$public")"
}

# Prints "ed25519" or "p256" for a private key, or fails.
key_type() {
  local key=$1 text
  text=$(openssl pkey -in "$key" -noout -text 2>/dev/null) || die "$key is not a readable PEM private key"
  if [[ $text == ED25519* ]]; then
    echo ed25519
  elif grep -q 'ASN1 OID: prime256v1' <<<"$text"; then
    echo p256
  else
    die "$key: unsupported key type: use an Ed25519 (sign-plugin.sh --new-key) or ECDSA P-256 key"
  fi
}

sign() {
  local lib=$1 key=$2 certification=${3:-}
  need_tool openssl "the openssl package"
  need_tool objcopy "the binutils package"
  need_tool python3 "the python3 package"
  [[ -f $lib ]] || die "library $lib not found"
  [[ -r $key ]] || die "private key $key not found or not readable"
  [[ -z $certification || -r $certification ]] || die "certification file $certification not found"

  local type signer work
  type=$(key_type "$key")
  signer=$(key_id "$key")
  work=$(mktemp -d)
  # shellcheck disable=SC2064  # expand $work now, while it is set
  trap "rm -rf -- '$work'" EXIT

  objcopy -O binary --only-section="$INFO_SECTION" -- "$lib" "$work/block.bin" ||
    die "objcopy could not read $lib"
  [[ -s $work/block.bin ]] ||
    die "$lib has no $INFO_SECTION section; build it with FISCAL_PLUGIN_DECLARE or FISCAL_SDK_DEFINE_PLUGIN"

  # Decodes the compatibility block (struct fiscal_plugin_info in fiscal/plugin_abi.h: eight
  # little-endian uint32, then name[32], country[8], version[32]) and writes the manifest.
  python3 - "$lib" "$work/block.bin" "$signer" "$certification" >"$work/manifest.json" <<'EOF' ||
import hashlib, json, struct, sys

lib, block_path, signer, certification_path = sys.argv[1:5]
MAGIC = 0x43534946
LAYOUT = "<8I32s8s32s"

with open(block_path, "rb") as f:
    block = f.read()
if len(block) < struct.calcsize(LAYOUT):
    sys.exit(f"compatibility block of {lib} is {len(block)} bytes, expected at least "
             f"{struct.calcsize(LAYOUT)}")
fields = struct.unpack_from(LAYOUT, block)
if fields[0] != MAGIC:
    sys.exit(f"compatibility block of {lib} has magic {fields[0]:#010x}, expected {MAGIC:#010x} "
             "(not a little-endian fiscal plugin)")

def text(raw, what):
    if b"\0" not in raw:
        sys.exit(f"compatibility block of {lib}: {what} is not NUL-terminated")
    return raw.split(b"\0", 1)[0].decode("ascii")

certification = {}
if certification_path:
    with open(certification_path, encoding="utf-8") as f:
        try:
            certification = json.load(f)
        except json.JSONDecodeError as error:
            sys.exit(f"certification file {certification_path} is not valid JSON: {error}")
    if not isinstance(certification, dict):
        sys.exit(f"certification file {certification_path} must contain a JSON object")

sha256 = hashlib.sha256()
with open(lib, "rb") as f:
    for chunk in iter(lambda: f.read(1 << 16), b""):
        sha256.update(chunk)

manifest = {
    "name": text(fields[8], "name"),
    "country": text(fields[9], "country"),
    "version": text(fields[10], "version"),
    "abi_major": fields[4],
    "abi_minor": fields[5],
    "library_sha256": sha256.hexdigest(),
    "certification": certification,
    "signed_by": signer,
}
sys.stdout.write(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
EOF
    die "cannot build the manifest for $lib"

  openssl pkey -in "$key" -pubout -out "$work/public.pem" || die "cannot derive the public key of $key"
  if [[ $type == ed25519 ]]; then
    openssl pkeyutl -sign -inkey "$key" -rawin -in "$work/manifest.json" -out "$work/manifest.sig" ||
      die "openssl pkeyutl failed to sign the manifest"
    openssl pkeyutl -verify -pubin -inkey "$work/public.pem" -rawin -in "$work/manifest.json" \
      -sigfile "$work/manifest.sig" >/dev/null || die "the new signature does not verify"
  else
    openssl dgst -sha256 -sign "$key" -out "$work/manifest.sig" "$work/manifest.json" ||
      die "openssl dgst failed to sign the manifest"
    openssl dgst -sha256 -verify "$work/public.pem" -signature "$work/manifest.sig" \
      "$work/manifest.json" >/dev/null || die "the new signature does not verify"
  fi

  # Copied to temporary names next to the library first, so each final rename is atomic.
  cp -- "$work/manifest.json" "$lib.manifest.json.tmp"
  cp -- "$work/manifest.sig" "$lib.manifest.sig.tmp"
  mv -f -- "$lib.manifest.json.tmp" "$lib.manifest.json"
  mv -f -- "$lib.manifest.sig.tmp" "$lib.manifest.sig"

  echo "wrote $lib.manifest.json and $lib.manifest.sig (key id $signer)"
}

[[ $# -ge 1 ]] || usage
case $1 in
  -h | --help) usage ;;
  --new-key)
    [[ $# -eq 2 ]] || usage
    new_key "$2"
    ;;
  *)
    [[ $# -eq 2 || $# -eq 3 ]] || usage
    sign "$@"
    ;;
esac
