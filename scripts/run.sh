#!/usr/bin/env bash
# Sets up everything on this machine and runs the server in the foreground: installs missing
# Debian packages, builds, starts a private PostgreSQL and Redis under var/, creates test
# certificates, starts the AEAT emulator and the host on 127.0.0.1:8080, creates a test account and
# location, and prints a curl example. Ctrl-C stops everything it started.
#
# Ports: FISCAL_HTTP_PORT (8080), FISCAL_PG_PORT (55432), FISCAL_REDIS_PORT (56379),
# FISCAL_EMULATOR_PORT (8443), FISCAL_EMULATOR_CONTROL_PORT (8444).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

VAR_DIR=${FISCAL_VAR_DIR:-$ROOT_DIR/var}
HTTP_PORT=${FISCAL_HTTP_PORT:-8080}
PG_PORT=${FISCAL_PG_PORT:-55432}
REDIS_PORT=${FISCAL_REDIS_PORT:-56379}
EMULATOR_PORT=${FISCAL_EMULATOR_PORT:-8443}
EMULATOR_CONTROL_PORT=${FISCAL_EMULATOR_CONTROL_PORT:-8444}
DEV_DIR="$VAR_DIR/dev"
HOST_PID=""
EMULATOR_PID=""

cleanup() {
  trap - INT TERM EXIT
  say "stopping"
  [ -n "$HOST_PID" ] && kill "$HOST_PID" 2>/dev/null && wait "$HOST_PID" 2>/dev/null || true
  [ -n "$EMULATOR_PID" ] && kill "$EMULATOR_PID" 2>/dev/null && wait "$EMULATOR_PID" 2>/dev/null || true
  stop_redis
  stop_postgres
  say "stopped"
}
trap cleanup INT TERM EXIT

install_packages
build_project
mkdir -p "$DEV_DIR"
start_postgres
start_redis
make_certificates
start_emulator "$DEV_DIR/emulator.log"

write_host_config "$DEV_DIR/fiscal.json" "$HTTP_PORT"
say "starting the host on http://127.0.0.1:$HTTP_PORT (log: $DEV_DIR/host.log)"
"$BUILD_DIR/host/fiscal-host" --config "$DEV_DIR/fiscal.json" --migrate 2>>"$DEV_DIR/host.log" &
HOST_PID=$!
BASE="http://127.0.0.1:$HTTP_PORT"
for _ in $(seq 150); do
  curl -sf "$BASE/health" >/dev/null 2>&1 && break
  kill -0 "$HOST_PID" 2>/dev/null || die "the host exited; see $DEV_DIR/host.log"
  sleep 0.2
done
curl -sf "$BASE/health" >/dev/null || die "the host does not respond on $BASE; see $DEV_DIR/host.log"

# A test account and a Spanish location, kept across runs.
key_file="$DEV_DIR/api-key"
if [ ! -s "$key_file" ] || ! curl -sf -H "Authorization: Bearer $(cat "$key_file")" "$BASE/v1/api-keys" >/dev/null; then
  account=$(curl -sf -X POST "$BASE/v1/accounts" -H 'Content-Type: application/json' \
    -d "{\"name\":\"Dev shop\",\"billing_email\":\"dev-$(date +%s)@example.com\"}") || die "could not create the test account"
  printf '%s' "$account" | sed -n 's/.*"key":"\([^"]*\)".*/\1/p' >"$key_file"
  chmod 600 "$key_file"
  rm -f "$DEV_DIR/location-id" "$DEV_DIR/france-location-id"
fi
API_KEY=$(cat "$key_file")
if [ ! -s "$DEV_DIR/location-id" ]; then
  location=$(curl -sf -X POST "$BASE/v1/locations" -H "Authorization: Bearer $API_KEY" -H 'Content-Type: application/json' \
    -d '{"name":"Tienda Centro","country":"ES","country_config":{"system":"verifactu","nif":"89890001K","legal_name":"Empresa Ficticia SL","invoice_series":"A"}}') ||
    die "could not create the test location"
  printf '%s' "$location" | sed -n 's/^{"id":"\([^"]*\)".*/\1/p' >"$DEV_DIR/location-id"
fi
LOCATION_ID=$(cat "$DEV_DIR/location-id")
if [ ! -s "$DEV_DIR/france-location-id" ]; then
  location=$(curl -sf -X POST "$BASE/v1/locations" -H "Authorization: Bearer $API_KEY" -H 'Content-Type: application/json' \
    -d '{"name":"Boulangerie","country":"FR","country_config":{"system":"nf525","siret":"73282932000074","register_id":"CAISSE-01"}}') ||
    die "could not create the French test location"
  printf '%s' "$location" | sed -n 's/^{"id":"\([^"]*\)".*/\1/p' >"$DEV_DIR/france-location-id"
fi
FRANCE_LOCATION_ID=$(cat "$DEV_DIR/france-location-id")

cat <<TXT

The server is running on $BASE with the Spain VERI*FACTU plugin, the AEAT emulator and the France
NF525 plugin.
Test API key: $DEV_DIR/api-key    Spanish location: $LOCATION_ID    French register: $FRANCE_LOCATION_ID

Post a sale:

  curl -s -X POST $BASE/v1/transactions \\
    -H "Authorization: Bearer \$(cat $DEV_DIR/api-key)" -H 'Content-Type: application/json' \\
    -d '{"location_id":"$LOCATION_ID","timestamp":"$(date -u +%Y-%m-%dT%H:%M:%SZ)",
         "items":[{"description":"Café","quantity":2,"unit_price":2.50,"tax_rate":0.10},
                  {"description":"Bocadillo","quantity":1,"unit_price":3.00,"tax_rate":0.10}],
         "total_amount":8.00,"currency":"EUR","payment_method":"card"}'

Then fetch it again (status turns "registered" with the emulator's CSV in authority_reference):

  curl -s $BASE/v1/transactions/<id> -H "Authorization: Bearer \$(cat $DEV_DIR/api-key)"

and open the receipt: $BASE/v1/transactions/<id>/receipt (same header).

In France the same sale (with "location_id":"$FRANCE_LOCATION_ID" and "tax_rate":0.055) comes back
signed at once ("status":"signed", "signature_extract"). Close the day and take its archive:

  curl -s -X POST $BASE/v1/locations/$FRANCE_LOCATION_ID/closures -d '{"period":"day"}' \\
    -H "Authorization: Bearer \$(cat $DEV_DIR/api-key)"
  curl -s -X POST $BASE/v1/locations/$FRANCE_LOCATION_ID/archives \\
    -d '{"from":"$(TZ=Europe/Paris date +%Y-%m-%d)","to":"$(TZ=Europe/Paris date +%Y-%m-%d)"}' \\
    -H "Authorization: Bearer \$(cat $DEV_DIR/api-key)"

then download it from the answer's download_url and check it offline:
  $BUILD_DIR/plugins/france/verifier/fiscal-verify archive.zip
Press Ctrl-C to stop everything.
TXT

wait "$HOST_PID"
