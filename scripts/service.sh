#!/usr/bin/env bash
# Stops and starts the servers of a test set-up, for fault tests: service.sh ACTION where ACTION is
# stop-postgres, start-postgres, stop-redis or start-redis. Reads the set-up from the variables
# scripts/test.sh exports (FISCAL_TEST_VAR_DIR, FISCAL_TEST_PG_PORT, FISCAL_TEST_REDIS_PORT).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

VAR_DIR=${FISCAL_TEST_VAR_DIR:?FISCAL_TEST_VAR_DIR is not set; run the tests through scripts/test.sh}
PG_PORT=${FISCAL_TEST_PG_PORT:?FISCAL_TEST_PG_PORT is not set}
REDIS_PORT=${FISCAL_TEST_REDIS_PORT:?FISCAL_TEST_REDIS_PORT is not set}

case "${1:-}" in
  stop-postgres) stop_postgres ;;
  start-postgres) start_postgres ;;
  stop-redis) stop_redis; for _ in $(seq 50); do redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1 || exit 0; sleep 0.1; done ;;
  start-redis) start_redis ;;
  *) die "usage: service.sh stop-postgres|start-postgres|stop-redis|start-redis" ;;
esac
