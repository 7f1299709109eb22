#!/usr/bin/env bash
# Sets up what the tests need (packages, build, a private PostgreSQL and Redis under var/test, test
# certificates, the AEAT emulator) and runs every test through ctest. Integration tests start their
# own host processes against these servers. Extra arguments go to ctest, e.g. -L unit.
#
# Ports: FISCAL_TEST_PG_PORT (15433), FISCAL_TEST_REDIS_PORT (16380),
# FISCAL_TEST_EMULATOR_PORT (18443), FISCAL_TEST_EMULATOR_CONTROL_PORT (18444).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

VAR_DIR=${FISCAL_TEST_VAR_DIR:-$ROOT_DIR/var/test}
PG_PORT=${FISCAL_TEST_PG_PORT:-15433}
REDIS_PORT=${FISCAL_TEST_REDIS_PORT:-16380}
EMULATOR_PORT=${FISCAL_TEST_EMULATOR_PORT:-18443}
EMULATOR_CONTROL_PORT=${FISCAL_TEST_EMULATOR_CONTROL_PORT:-18444}
EMULATOR_WAIT_SECONDS=0
EMULATOR_PID=""

cleanup() {
  [ -n "$EMULATOR_PID" ] && kill "$EMULATOR_PID" 2>/dev/null && wait "$EMULATOR_PID" 2>/dev/null || true
  stop_redis
  stop_postgres
}
trap cleanup EXIT

started=$(date +%s)
install_packages
build_project
mkdir -p "$VAR_DIR/dev"
start_postgres
start_redis
make_certificates
start_emulator "$VAR_DIR/emulator.log"

export FISCAL_TEST_VAR_DIR="$VAR_DIR" FISCAL_TEST_PG_PORT="$PG_PORT"
export FISCAL_TEST_PG="host=127.0.0.1 port=$PG_PORT user=fiscal"
export FISCAL_TEST_REDIS_PORT="$REDIS_PORT"
export FISCAL_TEST_EMULATOR_URL="https://127.0.0.1:$EMULATOR_PORT/wlpl/TIKE-CONT/ws/SistemaFacturacion/VerifactuSOAP"
export FISCAL_TEST_EMULATOR_CONTROL="http://127.0.0.1:$EMULATOR_CONTROL_PORT"
export FISCAL_TEST_PKI="$VAR_DIR/dev/pki"
export FISCAL_TEST_WORK_DIR="$VAR_DIR/work"
mkdir -p "$FISCAL_TEST_WORK_DIR"

say "running the tests"
status=0
(cd "$BUILD_DIR" && ctest --output-on-failure --timeout 600 "$@") || status=$?
say "set-up, build and tests took $(( $(date +%s) - started )) s"
exit $status
