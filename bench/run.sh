#!/usr/bin/env bash
# Runs the benchmark suite and writes docs/benchmarks.md.
#
# Every figure is set against a baseline measured in the same run on the same machine, because
# absolute numbers from a shared machine mean little. The script installs missing Debian packages
# and builds a Release tree with the benchmarks under var/bench/build. It runs bench/hot_swap.sh
# (plugin ABI call cost and hot swaps). Then it starts its own PostgreSQL, Redis, AEAT emulator
# and host (loopback only, files under var/bench/run) and measures:
#   baselines  openssl speed (SHA-256, ECDSA P-256 signing); pgbench with a single-row INSERT
#              (a JSONB body and a 64-character hash), 64 clients; bench/trivial_server, a Pistache
#              server with the host's options that does nothing, under loadgen with the same
#              connections as the host's GET figure
#   figure 1   sustained POST /v1/transactions per country, against the pgbench baseline
#   figure 2   authenticated GET /v1/transactions/{id}, against the trivial GET
#   figure 3   latency at a fixed offered load of 1,000 requests/s (open loop, no coordinated omission)
#   figure 4   queue drain: a backlog of Spain records generated in SQL, sent to the emulator
#   figure 5   scale: list, fetch by id and a location-day audit with many transactions stored
#   figure 6   resident memory of the idle host, and its growth over a soak at half the peak rate
#   figure 7   plugin ABI call cost and hot swaps, from bench/hot_swap.sh
# For every target not met it records a profile (perf, else callgrind). Raw outputs go to
# var/bench/results. Everything it started is stopped on exit, also on Ctrl-C.
#
# Usage: bench/run.sh [--quick] [--scale-rows N] [--soak-seconds N] [--drain-records N] [--skip-build]
# usage() below lists the options and the environment variables (ports, directories).
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH_VAR_DIR=${FISCAL_BENCH_VAR_DIR:-$(dirname "$BENCH_DIR")/var/bench}
export FISCAL_BUILD_DIR=${FISCAL_BUILD_DIR:-$BENCH_VAR_DIR/build}
source "$BENCH_DIR/../scripts/lib.sh"
source "$BENCH_DIR/lib/countries.sh"
source "$BENCH_DIR/lib/measure.sh"
source "$BENCH_DIR/lib/report.sh"

usage() {
  cat <<'TXT'
Usage: bench/run.sh [options]
Runs the benchmark suite against servers it starts itself and writes docs/benchmarks.md.
  --quick            short runs and small data (about 5 minutes): for development and CI smoke
                     tests; its figures are not comparable with a full run
  --scale-rows N     transactions generated for the scale figure (default 1000000; the issue's
                     figure is 10000000, which takes about 40 GB of disk and 30 more minutes)
  --soak-seconds N   length of the memory soak at half the peak rate (default 240; 3600 for the
                     hour-long soak)
  --drain-records N  records queued for the drain figure (default 200000; 1000000 takes about
                     15 more minutes)
  --skip-build       use the existing build in FISCAL_BUILD_DIR (default var/bench/build)
  --help             this text
Environment: BENCH_HTTP_PORT (57080), BENCH_TRIVIAL_PORT (57081), BENCH_PROFILE_HTTP_PORT (57082),
BENCH_PG_PORT (57432), BENCH_REDIS_PORT (57379), BENCH_EMULATOR_PORT (57443) and
BENCH_EMULATOR_CONTROL_PORT (57444) move the servers; bench/hot_swap.sh uses 57090, 57433, 57380,
57445 and 57446. FISCAL_BENCH_VAR_DIR (var/bench) holds the servers' files and the results,
FISCAL_BUILD_DIR (var/bench/build) the build. BENCH_PROFILER (perf or callgrind) forces the
profiler, BENCH_SOURCE names the source tree in the docs.
TXT
}

# ---- Options --------------------------------------------------------------------------------------

QUICK=0
SKIP_BUILD=0
SCALE_ROWS=""
SOAK_SECONDS=""
DRAIN_RECORDS=""
COMMAND_LINE="bench/run.sh${*:+ $*}"
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --skip-build) SKIP_BUILD=1 ;;
    --scale-rows | --soak-seconds | --drain-records)
      [ $# -ge 2 ] || die "$1 needs a value; see --help"
      [[ $2 =~ ^[1-9][0-9]*$ ]] || die "$1 must be a positive whole number, got \"$2\""
      case "$1" in
        --scale-rows) SCALE_ROWS=$2 ;;
        --soak-seconds) SOAK_SECONDS=$2 ;;
        --drain-records) DRAIN_RECORDS=$2 ;;
      esac
      shift ;;
    --help | -h) usage; exit 0 ;;
    *) die "unknown option $1; see --help" ;;
  esac
  shift
done

if [ "$QUICK" = 1 ]; then
  SCALE_ROWS=${SCALE_ROWS:-20000}
  SOAK_SECONDS=${SOAK_SECONDS:-20}
  DRAIN_RECORDS=${DRAIN_RECORDS:-5000}
  THROUGHPUT_SECONDS=5      # each closed-loop throughput run and the baselines
  LATENCY_SECONDS=5         # each open-loop run at 1,000 requests/s
  SCALE_SECONDS=5           # each open-loop run of the scale figure
  PROFILE_SECONDS=3
  SPEED_SECONDS=1           # openssl speed, per algorithm and block size
  HOT_SWAP_DURATION=5
  HOT_SWAP_RATES="100"
  HOT_SWAP_RSS_SWAPS=20
  ABI_REPETITIONS=2
else
  SCALE_ROWS=${SCALE_ROWS:-1000000}
  SOAK_SECONDS=${SOAK_SECONDS:-240}
  DRAIN_RECORDS=${DRAIN_RECORDS:-200000}
  THROUGHPUT_SECONDS=30
  LATENCY_SECONDS=30
  SCALE_SECONDS=20
  PROFILE_SECONDS=10
  SPEED_SECONDS=3
  HOT_SWAP_DURATION=20
  HOT_SWAP_RATES="100 200"
  HOT_SWAP_RSS_SWAPS=100
  ABI_REPETITIONS=5
fi
[ "$SOAK_SECONDS" -le 3600 ] || die "--soak-seconds must be at most 3600 (loadgen's limit)"
[ "$DRAIN_RECORDS" -le 5000000 ] || die "--drain-records must be at most 5000000"
[ "$SCALE_ROWS" -le 100000000 ] || die "--scale-rows must be at most 100000000"

# Concurrency of every throughput figure and of the pgbench baseline.
CONNECTIONS=64
# Offered load of figure 3, in requests per second.
LATENCY_RATE=1000
# Figure 5: rows per generated location, and the days they spread over.
SCALE_ROWS_PER_LOCATION=100000
SCALE_DAYS=100

HTTP_PORT=${BENCH_HTTP_PORT:-57080}
TRIVIAL_PORT=${BENCH_TRIVIAL_PORT:-57081}
PROFILE_HTTP_PORT=${BENCH_PROFILE_HTTP_PORT:-57082}
PG_PORT=${BENCH_PG_PORT:-57432}
REDIS_PORT=${BENCH_REDIS_PORT:-57379}
EMULATOR_PORT=${BENCH_EMULATOR_PORT:-57443}
EMULATOR_CONTROL_PORT=${BENCH_EMULATOR_CONTROL_PORT:-57444}
HOT_SWAP_PORTS=(57090 57433 57380 57445 57446)

# lib.sh's server helpers keep their files under $VAR_DIR.
VAR_DIR="$BENCH_VAR_DIR/run"
RESULTS="$BENCH_VAR_DIR/results"
HOT_SWAP_VAR_DIR="$BENCH_VAR_DIR/hot-swap"
CONFIG="$VAR_DIR/fiscal.json"
BASE="http://127.0.0.1:$HTTP_PORT"
LOADGEN="$BUILD_DIR/bench/loadgen"
DOCS_FILE="$ROOT_DIR/docs/benchmarks.md"
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U fiscal)

HOST_PID=""
EMULATOR_PID=""
TRIVIAL_PID=""
LOADGEN_PID=""
SAMPLER_PID=""
HOT_SWAP_PID=""
PROFILE_HOST_PID=""
STARTED_POSTGRES=""
STARTED_REDIS=""

# stop_pid PID: sends SIGTERM and waits up to 30 s, then SIGKILL.
stop_pid() {
  local pid=$1
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 300); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  trap - INT TERM EXIT
  say "stopping what this script started"
  stop_pid "$SAMPLER_PID"
  stop_pid "$LOADGEN_PID"
  stop_pid "$HOT_SWAP_PID"
  stop_pid "$PROFILE_HOST_PID"
  stop_pid "$TRIVIAL_PID"
  stop_pid "$HOST_PID"
  stop_pid "$EMULATOR_PID"
  [ -n "$STARTED_REDIS" ] && stop_redis
  [ -n "$STARTED_POSTGRES" ] && stop_postgres
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

STARTED_AT=$(date +%s)
# elapsed: whole seconds since the script started.
elapsed() { echo $(($(date +%s) - STARTED_AT)); }

# ---- Set-up ---------------------------------------------------------------------------------------

check_ports() {
  local port
  for port in "$HTTP_PORT" "$TRIVIAL_PORT" "$PROFILE_HTTP_PORT" "$PG_PORT" "$REDIS_PORT" "$EMULATOR_PORT" \
    "$EMULATOR_CONTROL_PORT" "${HOT_SWAP_PORTS[@]}"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      die "port $port on 127.0.0.1 is already in use; stop that server or choose other BENCH_*_PORT values"
    fi
  done
}

# The scale rows take about 3.6 KB each with their fiscal record, the drain records about 5 KB with
# their outbox entry, and the WAL needs as much again until the next checkpoint.
check_disk() {
  local need_kib available_kib
  need_kib=$(((SCALE_ROWS * 8 + DRAIN_RECORDS * 10) + 2 * 1024 * 1024))
  mkdir -p "$BENCH_VAR_DIR"
  available_kib=$(df --output=avail -k "$BENCH_VAR_DIR" | tail -1 | tr -d ' ')
  [ "$available_kib" -ge "$need_kib" ] ||
    die "$BENCH_VAR_DIR has $((available_kib / 1048576)) GiB free, the run needs about $((need_kib / 1048576)) GiB; lower --scale-rows or --drain-records"
}

install_tools() {
  install_packages
  # pgbench ships in postgresql-15 (a dependency of the postgresql package above) under $PG_BIN.
  [ -x "$PG_BIN/pgbench" ] || die "$PG_BIN/pgbench is missing; install the Debian package postgresql-15"
  if ! command -v perf >/dev/null; then
    say "installing linux-perf for the profiles of unmet targets"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends linux-perf ||
      say "linux-perf could not be installed; the profiles will use valgrind's callgrind"
  fi
}

# Release with -g: symbols for the profiles without changing the generated code. FISCAL_WERROR is
# off because GCC 12 reports a false -Wrestrict in std::string at -O3 (host/src/common/decimal.cc).
# The tests stay on so that Spain 1.0.1 exists for the hot swaps, but only the targets below are
# built, never the test binaries.
build_release() {
  say "building Release with benchmarks into $BUILD_DIR"
  cmake -S "$ROOT_DIR" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS=-g \
    -DFISCAL_WERROR=OFF -DFISCAL_BUILD_BENCHMARKS=ON -DFISCAL_BUILD_TESTS=ON >"$RESULTS/cmake-configure.txt" ||
    die "cmake configure failed; see $RESULTS/cmake-configure.txt"
  cmake --build "$BUILD_DIR" -j "$(nproc)" --target host/all sandbox/all plugins/all bench/all \
    >"$RESULTS/cmake-build.txt" 2>&1 || die "the build failed; see $RESULTS/cmake-build.txt"
}

check_build() {
  local file
  for file in "$BUILD_DIR/host/fiscal-host" "$BUILD_DIR/sandbox/aeat-emulator/aeat-emulator" "$LOADGEN" \
    "$BUILD_DIR/bench/trivial_server" "$BUILD_DIR/bench/plugin_abi_bench"; do
    [ -x "$file" ] || die "$file is missing; run without --skip-build"
  done
}

# ---- Servers --------------------------------------------------------------------------------------

# write_bench_config: lib.sh's host configuration (the one scripts/run.sh uses), plus the plugin of
# every available country that it does not configure yet, an admin token, and a rate limit no run
# reaches: the default sandbox tier allows 100 requests per minute. The rate limiter still runs
# its Redis call on every request.
write_bench_config() {
  write_host_config "$CONFIG.base" "$HTTP_PORT"
  local extra="[]" country entry
  for country in "${AVAILABLE_COUNTRIES[@]}"; do
    entry=$("country_${country}_plugin_config")
    if [ -n "$entry" ] && ! jq -e --argjson entry "$entry" 'any(.plugins[]; .name == $entry.name)' "$CONFIG.base" >/dev/null; then
      extra=$(jq -c --argjson entry "$entry" '. + [$entry]' <<<"$extra")
    fi
  done
  jq --arg token "$(openssl rand -hex 24)" --argjson extra "$extra" \
    '.admin_token = $token
     | .rate_limits = {"tiers": {"sandbox": {"requests_per_minute": 10000000, "burst": 10000000}}}
     | .plugins += $extra' "$CONFIG.base" >"$CONFIG"
}

start_host() {
  say "starting the host on $BASE (log: $VAR_DIR/host.log)"
  "$BUILD_DIR/host/fiscal-host" --config "$CONFIG" --migrate 2>>"$VAR_DIR/host.log" &
  HOST_PID=$!
  for _ in $(seq 300); do
    curl -sf "$BASE/health" >/dev/null 2>&1 && return 0
    kill -0 "$HOST_PID" 2>/dev/null || die "the host exited; see $VAR_DIR/host.log"
    sleep 0.2
  done
  die "the host does not respond on $BASE after 60 s; see $VAR_DIR/host.log"
}

stop_host() {
  stop_pid "$HOST_PID"
  HOST_PID=""
}

start_servers() {
  # A fresh cluster every run, so that the data of an earlier run changes no figure.
  stop_postgres
  rm -rf "$VAR_DIR"
  mkdir -p "$VAR_DIR"
  STARTED_POSTGRES=1
  start_postgres
  STARTED_REDIS=1
  start_redis
  make_certificates
  EMULATOR_WAIT_SECONDS=2 start_emulator "$VAR_DIR/emulator.log"
  write_bench_config
  start_host
  "${PSQL[@]}" -d fiscal -tAc "SELECT name || '=' || current_setting(name) FROM pg_settings WHERE name IN
    ('fsync', 'synchronous_commit', 'full_page_writes', 'shared_buffers', 'max_connections', 'wal_level', 'max_wal_size')
    ORDER BY name" >"$RESULTS/postgres-settings.txt"
  grep -qx 'fsync=on' "$RESULTS/postgres-settings.txt" && grep -qx 'synchronous_commit=on' "$RESULTS/postgres-settings.txt" &&
    grep -qx 'full_page_writes=on' "$RESULTS/postgres-settings.txt" ||
    die "PostgreSQL does not commit durably; see $RESULTS/postgres-settings.txt"
}

sql() { "${PSQL[@]}" -d fiscal -tAc "$1"; }

# api METHOD PATH KEY [BODY]: sends one request to the host and prints the response body; fails
# unless the status is 2xx.
api() {
  local method=$1 path=$2 key=$3 body=${4:-}
  local args=(-sS -X "$method" "$BASE$path" -H 'Content-Type: application/json' -w '\n%{http_code}')
  [ -n "$key" ] && args+=(-H "Authorization: Bearer $key")
  [ -n "$body" ] && args+=(--data-binary "$body")
  local response status
  response=$(curl "${args[@]}") || return 1
  status=${response##*$'\n'}
  response=${response%$'\n'*}
  if [[ $status != 2?? ]]; then
    printf 'HTTP %s from %s %s: %s\n' "$status" "$method" "$path" "$response" >&2
    return 1
  fi
  printf '%s\n' "$response"
}

# create_account NAME: prints the new account's API key.
create_account() {
  api POST /v1/accounts "" "{\"name\":\"$1\",\"billing_email\":\"$1-$(date +%s%N)@example.com\"}" | jq -r .api_key.key
}

# ---- Steps ----------------------------------------------------------------------------------------

step_hot_swap() {
  say "figure 7: plugin ABI call cost and hot swaps (bench/hot_swap.sh)"
  rm -rf "$HOT_SWAP_VAR_DIR"
  FISCAL_BENCH_VAR_DIR="$HOT_SWAP_VAR_DIR" BENCH_WRITE_DOCS=0 BENCH_SOURCE="$SOURCE_DESCRIPTION" \
    BENCH_RATES="$HOT_SWAP_RATES" BENCH_DURATION="$HOT_SWAP_DURATION" BENCH_RSS_SWAPS="$HOT_SWAP_RSS_SWAPS" \
    BENCH_ABI_REPETITIONS="$ABI_REPETITIONS" BENCH_HTTP_PORT="${HOT_SWAP_PORTS[0]}" BENCH_PG_PORT="${HOT_SWAP_PORTS[1]}" \
    BENCH_REDIS_PORT="${HOT_SWAP_PORTS[2]}" BENCH_EMULATOR_PORT="${HOT_SWAP_PORTS[3]}" \
    BENCH_EMULATOR_CONTROL_PORT="${HOT_SWAP_PORTS[4]}" bash "$BENCH_DIR/hot_swap.sh" \
    >"$RESULTS/hot-swap.txt" 2>&1 &
  HOT_SWAP_PID=$!
  wait "$HOT_SWAP_PID" || die "bench/hot_swap.sh failed; see $RESULTS/hot-swap.txt"
  HOT_SWAP_PID=""
  rm -rf "$RESULTS/hot-swap"
  cp -r "$HOT_SWAP_VAR_DIR/results" "$RESULTS/hot-swap"
  rm -rf "$HOT_SWAP_VAR_DIR/pg"

  local abi="$RESULTS/hot-swap/abi.json" summary="$RESULTS/hot-swap/summary.json" rate
  local direct loaded
  direct=$(jq -r '.benchmarks[] | select(.run_name == "BM_EchoDirect" and .aggregate_name == "median") | .real_time' "$abi")
  loaded=$(jq -r '.benchmarks[] | select(.run_name == "BM_EchoLoadedPlugin" and .aggregate_name == "median") | .real_time' "$abi")
  add_row 7a "Plugin ABI: bench-echo issue_record through LoadedPlugin" "$(calc "$loaded" %.0f) ns" \
    "$(calc "$direct" %.0f) ns direct call" "$(calc "$loaded / $direct")" "none set" n/a
  direct=$(jq -r '.benchmarks[] | select(.run_name == "BM_SpainDirect" and .aggregate_name == "median") | .real_time' "$abi")
  loaded=$(jq -r '.benchmarks[] | select(.run_name == "BM_SpainLoadedPlugin" and .aggregate_name == "median") | .real_time' "$abi")
  add_row 7b "Plugin ABI: Spain issue_record through LoadedPlugin" "$(calc "$loaded / 1000" %.1f) µs" \
    "$(calc "$direct / 1000" %.1f) µs direct call" "$(calc "$loaded / $direct")" "none set" n/a
  rate=${HOT_SWAP_RATES%% *}
  add_row 7c "Hot swap every 2 s at $rate POST/s: p99" "$(jq -r '.latency_ms.p99' "$RESULTS/hot-swap/swaps-$rate.json") ms" \
    "$(jq -r '.latency_ms.p99' "$RESULTS/hot-swap/baseline-$rate.json") ms without swaps" \
    "$(calc "$(jq -r '.latency_ms.p99' "$RESULTS/hot-swap/swaps-$rate.json") / $(jq -r '.latency_ms.p99' "$RESULTS/hot-swap/baseline-$rate.json")")" \
    "none set" n/a
  add_row 7d "Hot swap: host RSS growth over $(jq -r .swaps "$summary") swaps" \
    "$(jq -r '.rss_after_n_kib - .rss_after_1_kib' "$summary") KiB" "$(jq -r .rss_after_1_kib "$summary") KiB after 1 swap" \
    "$(calc "$(jq -r .rss_after_n_kib "$summary") / $(jq -r .rss_after_1_kib "$summary")" %.3f)" "none set" n/a
}

step_crypto_baseline() {
  say "baseline: openssl speed sha256 ecdsap256 ($SPEED_SECONDS s per measurement)"
  openssl speed -seconds "$SPEED_SECONDS" sha256 >"$RESULTS/openssl-sha256.txt" 2>/dev/null ||
    die "openssl speed sha256 failed"
  openssl speed -seconds "$SPEED_SECONDS" ecdsap256 >"$RESULTS/openssl-ecdsap256.txt" 2>/dev/null ||
    die "openssl speed ecdsap256 failed"
  # Columns: 16, 64, 256, 1024, 8192 and 16384-byte blocks, in thousands of bytes per second.
  SHA256_MBPS=$(awk '$1 == "sha256" { sub(/k$/, "", $5); printf "%.0f", $5 / 1000 }' "$RESULTS/openssl-sha256.txt")
  SHA256_256_PER_S=$(awk '$1 == "sha256" { sub(/k$/, "", $4); printf "%.0f", $4 * 1000 / 256 }' "$RESULTS/openssl-sha256.txt")
  ECDSA_SIGN_PER_S=$(awk '/ecdsa \(nistp256\)/ { printf "%.0f", $(NF - 1) }' "$RESULTS/openssl-ecdsap256.txt")
  [ -n "$SHA256_MBPS" ] && [ -n "$ECDSA_SIGN_PER_S" ] || die "could not read the openssl speed output in $RESULTS"
  add_row B1 "Baseline: SHA-256 (openssl speed)" "$SHA256_MBPS MB/s on 1 KiB blocks, $SHA256_256_PER_S hashes/s of 256 bytes" "" "" "" n/a
  add_row B2 "Baseline: ECDSA P-256 signing (openssl speed)" "$ECDSA_SIGN_PER_S signatures/s" "" "" "" n/a
}

step_pgbench_baseline() {
  say "baseline: pgbench, single-row INSERT, $CONNECTIONS clients, $THROUGHPUT_SECONDS s"
  "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS pgbench_baseline" -c "CREATE DATABASE pgbench_baseline"
  "${PSQL[@]}" -d pgbench_baseline -c "CREATE TABLE sales (id bigserial PRIMARY KEY, body jsonb NOT NULL,
    hash text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())"
  "$PG_BIN/pgbench" -h 127.0.0.1 -p "$PG_PORT" -U fiscal -n -c "$CONNECTIONS" -j "$(nproc)" -T "$THROUGHPUT_SECONDS" \
    -f "$BENCH_DIR/sql/pgbench_insert.sql" pgbench_baseline >"$RESULTS/pgbench.txt" 2>&1 ||
    die "pgbench failed; see $RESULTS/pgbench.txt"
  PGBENCH_TPS=$(awk -F'= ' '/^tps = / { printf "%.0f", $2 }' "$RESULTS/pgbench.txt")
  [ -n "$PGBENCH_TPS" ] || die "no tps line in $RESULTS/pgbench.txt"
  "${PSQL[@]}" -d postgres -c "DROP DATABASE pgbench_baseline"
  add_row B3 "Baseline: pgbench single-row INSERT, $CONNECTIONS clients" "$PGBENCH_TPS inserts/s" "" "" "" n/a
}

step_http_baseline() {
  local threads
  threads=$(jq -r '.http.threads // 8' "$CONFIG")
  say "baseline: trivial Pistache GET, $CONNECTIONS connections, $THROUGHPUT_SECONDS s"
  "$BUILD_DIR/bench/trivial_server" --port "$TRIVIAL_PORT" --threads "$threads" 2>"$RESULTS/trivial-server.log" &
  TRIVIAL_PID=$!
  for _ in $(seq 50); do
    curl -sf "http://127.0.0.1:$TRIVIAL_PORT/" >/dev/null 2>&1 && break
    sleep 0.1
  done
  local args=(--url "http://127.0.0.1:$TRIVIAL_PORT/" --method GET --rate max --connections "$CONNECTIONS")
  run_load trivial-get-warmup "${args[@]}" --duration 2
  run_load trivial-get "${args[@]}" --duration "$THROUGHPUT_SECONDS"
  stop_pid "$TRIVIAL_PID"
  TRIVIAL_PID=""
  TRIVIAL_RPS=$(calc "$(result trivial-get .throughput_rps)" %.0f)
  add_row B4 "Baseline: trivial Pistache GET, $CONNECTIONS keep-alive connections" "$TRIVIAL_RPS requests/s" "" "" "" n/a
}

# Creates, for each available country, $CONNECTIONS locations with distinct issuers plus one more
# for the single-chain run, all in the account BENCH_KEY, and the bodies files loadgen cycles
# through. A country whose first location the host rejects is skipped.
step_locations() {
  BENCH_KEY=$(create_account bench) || die "could not create the bench account"
  local country index location
  POST_COUNTRIES=()
  for country in "${AVAILABLE_COUNTRIES[@]}"; do
    : >"$VAR_DIR/sales-$country.jsonl"
    for ((index = 0; index <= CONNECTIONS; index++)); do
      if ! location=$(api POST /v1/locations "$BENCH_KEY" "$("country_${country}_location" "$index")" 2>"$RESULTS/location-$country.err"); then
        [ "$index" = 0 ] || die "creating location $index of $country failed: $(cat "$RESULTS/location-$country.err")"
        SKIPPED_COUNTRIES+=("$country: the host rejected its location ($(head -c 300 "$RESULTS/location-$country.err"))")
        continue 2
      fi
      location=$(jq -r .id <<<"$location")
      if [ "$index" = "$CONNECTIONS" ]; then
        "country_${country}_sale" "$location" >"$VAR_DIR/sale-single-$country.json"
      else
        "country_${country}_sale" "$location" >>"$VAR_DIR/sales-$country.jsonl"
        echo >>"$VAR_DIR/sales-$country.jsonl"
      fi
    done
    if ! api POST /v1/transactions "$BENCH_KEY" "$(head -1 "$VAR_DIR/sales-$country.jsonl")" >"$RESULTS/first-sale-$country.json" \
      2>"$RESULTS/first-sale-$country.err"; then
      SKIPPED_COUNTRIES+=("$country: the host rejected its first sale ($(head -c 300 "$RESULTS/first-sale-$country.err"))")
      continue
    fi
    POST_COUNTRIES+=("$country")
  done
  [ "${#POST_COUNTRIES[@]}" -ge 1 ] || die "no country could post a sale; see $RESULTS/location-*.err and first-sale-*.err"
}

step_idle_memory() {
  sleep 2
  IDLE_RSS_KIB=$(rss_kib "$HOST_PID")
  local plugins
  plugins=$(curl -sf "$BASE/health" | jq -r '[.plugins[] | select(.loaded) | .name] | join(", ")')
  add_row 6a "Memory: RSS of the idle host, plugins loaded: $plugins" "$(calc "$IDLE_RSS_KIB / 1024" %.1f) MiB" "" "" \
    "under 64 MiB" "$(met_if at_most "$IDLE_RSS_KIB" 65536)"
}

# post_args COUNTRY: sets POST_ARGS to loadgen's arguments for sales of COUNTRY spread over its
# $CONNECTIONS locations.
post_args() {
  POST_ARGS=(--url "$BASE/v1/transactions" --header "Authorization: Bearer $BENCH_KEY" --connections "$CONNECTIONS"
    --bodies-file "$VAR_DIR/sales-$1.jsonl")
}

step_post_throughput() {
  local country rps single ratio met
  PEAK_POST_RPS=""
  for country in "${POST_COUNTRIES[@]}"; do
    post_args "$country"
    say "figure 1: POST /v1/transactions for $country, $CONNECTIONS connections over $CONNECTIONS locations, $THROUGHPUT_SECONDS s"
    run_load "post-$country-warmup" "${POST_ARGS[@]}" --rate max --duration 3
    run_load "post-$country" "${POST_ARGS[@]}" --rate max --duration "$THROUGHPUT_SECONDS"
    say "figure 1: POST /v1/transactions for $country, $CONNECTIONS connections to one location, $THROUGHPUT_SECONDS s"
    run_load "post-$country-single" --url "$BASE/v1/transactions" --header "Authorization: Bearer $BENCH_KEY" \
      --connections "$CONNECTIONS" --body-file "$VAR_DIR/sale-single-$country.json" --rate max --duration "$THROUGHPUT_SECONDS"
    rps=$(calc "$(result "post-$country" .throughput_rps)" %.0f)
    single=$(calc "$(result "post-$country-single" .throughput_rps)" %.0f)
    ratio=$(calc "$rps / $PGBENCH_TPS")
    met=$(met_if at_least "$ratio" 0.40)
    add_row "1-$country" "POST /v1/transactions, $country, $CONNECTIONS locations" "$rps sales/s" \
      "$PGBENCH_TPS pgbench inserts/s" "$ratio" "at least 0.40" "$met"
    add_row "1-$country-single" "POST /v1/transactions, $country, one location (one chain)" "$single sales/s" \
      "$PGBENCH_TPS pgbench inserts/s" "$(calc "$single / $PGBENCH_TPS")" "none set" n/a
    if [ "$met" = no ]; then profile_load "post-$country" "${POST_ARGS[@]}" --rate max; fi
    if [ -z "$PEAK_POST_RPS" ]; then PEAK_POST_RPS=$rps; fi
  done
}

step_get_throughput() {
  sql "SELECT '/v1/transactions/' || t.id FROM transactions t JOIN api_keys k ON k.account_id = t.account_id
       WHERE k.key_hash = encode(sha256('$BENCH_KEY'::bytea), 'hex') ORDER BY random() LIMIT 1000" >"$VAR_DIR/get-paths.txt"
  local args=(--url "$BASE/" --method GET --header "Authorization: Bearer $BENCH_KEY" --paths-file "$VAR_DIR/get-paths.txt"
    --connections "$CONNECTIONS")
  say "figure 2: GET /v1/transactions/{id} over $(wc -l <"$VAR_DIR/get-paths.txt") ids, $CONNECTIONS connections, $THROUGHPUT_SECONDS s"
  run_load get-warmup "${args[@]}" --rate max --duration 2
  run_load get "${args[@]}" --rate max --duration "$THROUGHPUT_SECONDS"
  local rps ratio met
  rps=$(calc "$(result get .throughput_rps)" %.0f)
  ratio=$(calc "$rps / $TRIVIAL_RPS" %.3f)
  met=$(met_if at_least "$ratio" 0.25)
  add_row 2 "GET /v1/transactions/{id}, authenticated" "$rps requests/s" "$TRIVIAL_RPS trivial GET/s" "$ratio" \
    "at least 0.25" "$met"
  if [ "$met" = no ]; then profile_load get "${args[@]}" --rate max; fi
  GET_ARGS=("${args[@]}")
}

# Waits until the host responds to /health within 50 ms three times in a row (at most 120 s), so that a
# step never measures the backlog an overloaded step before it left in the host's queues.
wait_host_idle() {
  local calm=0 seconds
  for _ in $(seq 240); do
    seconds=$(curl -s -o /dev/null -w '%{time_total}' "$BASE/health" || echo 9)
    if [ "$(calc "$seconds < 0.05" %.0f)" = 1 ]; then calm=$((calm + 1)); else calm=0; fi
    [ "$calm" -ge 3 ] && return 0
    sleep 0.5
  done
  say "warning: the host still answers /health slowly after 120 s"
}

step_latency() {
  local country=${POST_COUNTRIES[0]} name met args label
  post_args "$country"
  say "figure 3: latency at $LATENCY_RATE requests/s, open loop, $LATENCY_SECONDS s each"
  # GET first: the POST run offers more than the host's peak and leaves a backlog behind it.
  for name in latency-get latency-post; do
    wait_host_idle
    if [ "$name" = latency-post ]; then
      args=("${POST_ARGS[@]}")
      label="POST /v1/transactions ($country)"
    else
      args=("${GET_ARGS[@]}")
      label="GET /v1/transactions/{id}"
    fi
    run_load "$name" "${args[@]}" --rate "$LATENCY_RATE" --duration "$LATENCY_SECONDS"
    met=$(met_if at_most "$(result "$name" .latency_ms.p99)" 10)
    local measured
    measured="$(latency_text "$name") ($(result "$name" .errors) failed of $(result "$name" .count))"
    if [ "$name" = latency-post ] && [ "$PEAK_POST_RPS" -lt "$LATENCY_RATE" ]; then
      measured+="; the offered load exceeds the peak of figure 1 ($PEAK_POST_RPS/s)"
    fi
    add_row "3-${name#latency-}" "Latency at $LATENCY_RATE/s, $label: p50 / p99 / p99.9" "$measured" "" "" \
      "p99 under 10 ms" "$met"
    if [ "$met" = no ]; then profile_load "$name" "${args[@]}" --rate "$LATENCY_RATE"; fi
  done
}

# Half the peak POST rate for SOAK_SECONDS, open loop, sampling the host's RSS every 5 s.
step_soak() {
  local country=${POST_COUNTRIES[0]} rate
  rate=$(calc "$PEAK_POST_RPS / 2" %.0f)
  if [ "$rate" -lt 1 ]; then rate=1; fi
  post_args "$country"
  say "figure 6: soak at $rate POST/s (half the peak) for $SOAK_SECONDS s"
  local rss_start rss_end growth met
  rss_start=$(rss_kib "$HOST_PID")
  echo "seconds rss_kib" >"$RESULTS/soak-rss.txt"
  (
    for ((second = 0; second <= SOAK_SECONDS + 30; second += 5)); do
      echo "$second $(rss_kib "$HOST_PID" 2>/dev/null || echo 0)"
      sleep 5
    done
  ) >>"$RESULTS/soak-rss.txt" &
  SAMPLER_PID=$!
  run_load soak "${POST_ARGS[@]}" --rate "$rate" --duration "$SOAK_SECONDS"
  stop_pid "$SAMPLER_PID"
  SAMPLER_PID=""
  rss_end=$(rss_kib "$HOST_PID")
  growth=$(calc "100 * ($rss_end - $rss_start) / $rss_start" %.1f)
  met=$(met_if at_most "$growth" 5)
  add_row 6b "Memory: RSS growth over a ${SOAK_SECONDS} s soak at $rate POST/s" \
    "$growth % ($(calc "$rss_start / 1024" %.1f) to $(calc "$rss_end / 1024" %.1f) MiB; latency $(latency_text soak))" \
    "" "" "under 5 %" "$met"
  SOAK_RATE=$rate
}

# Figure 4. The host is stopped while the backlog is written, so that the drain starts from a full
# queue. Then it is started again and timed until the queue is empty.
step_drain() {
  local chain_size=1000
  [ "$DRAIN_RECORDS" -ge 25000 ] && chain_size=5000
  local chains=$(((DRAIN_RECORDS + chain_size - 1) / chain_size))
  local per_chain=$((DRAIN_RECORDS / chains))
  local total=$((per_chain * chains))
  say "figure 4: queue drain of $total Spain records in $chains chains"

  local key index location
  key=$(create_account drain) || die "could not create the drain account"
  DRAIN_LOCATIONS=()
  for ((index = 0; index < chains; index++)); do
    location=$(api POST /v1/locations "$key" "$(country_spain_location "$index" 89910000)") ||
      die "could not create drain location $index"
    location=$(jq -r .id <<<"$location")
    api POST /v1/transactions "$key" "$(country_spain_sale "$location")" >/dev/null || die "the first sale of drain location $index failed"
    DRAIN_LOCATIONS+=("$location")
  done
  local location_array
  location_array="{$(IFS=,; echo "${DRAIN_LOCATIONS[*]}")}"
  # The chains' first records reach the emulator before the backlog is written behind them.
  for _ in $(seq 120); do
    if [ "$(sql "SELECT count(*) FROM transactions WHERE location_id = ANY('$location_array') AND status = 'pending'")" = 0 ]; then
      break
    fi
    sleep 0.5
  done

  stop_host
  say "writing $total queued records in SQL (bench/sql/drain_chain.sql)"
  local statements="SET session_replication_role = replica;"
  for location in "${DRAIN_LOCATIONS[@]}"; do statements+="SELECT pg_temp.bench_drain_chain('$location', $per_chain);"; done
  local generate_started
  generate_started=$(date +%s)
  "${PSQL[@]}" -d fiscal -o /dev/null -f "$BENCH_DIR/sql/clone_rows.sql" -f "$BENCH_DIR/sql/drain_chain.sql" \
    -c "$statements" 2>"$RESULTS/drain-generate.err" || die "generating the backlog failed; see $RESULTS/drain-generate.err"
  # Autovacuum would analyze the tables by the time such a backlog exists. Without statistics the
  # claim query's plan scans the outbox once per queued entry (see docs/benchmarks.md).
  "${PSQL[@]}" -d fiscal -c "ANALYZE outbox, fiscal_records, transactions, submission_streams"
  echo "generated in $(($(date +%s) - generate_started)) s" >"$RESULTS/drain-generate.txt"

  local chain_array remaining_sql
  chain_array=$(sql "SELECT '{' || string_agg(DISTINCT chain_id::text, ',') || '}' FROM transactions WHERE location_id = ANY('$location_array')")
  remaining_sql="SELECT count(*) FROM outbox WHERE chain_id = ANY('$chain_array') AND status IN ('pending', 'processing', 'failed')"
  local started now remaining rss rss_at_quarter="" rss_max=0 deadline
  # At most 20 records/s on average, or the drain counts as stalled.
  deadline=$(($(date +%s) + 120 + total / 20))
  started=$(date +%s.%N)
  start_host
  echo "seconds remaining rss_kib" >"$RESULTS/drain-progress.txt"
  while true; do
    remaining=$(sql "$remaining_sql")
    rss=$(rss_kib "$HOST_PID")
    now=$(date +%s.%N)
    echo "$(calc "$now - $started" %.1f) $remaining $rss" >>"$RESULTS/drain-progress.txt"
    if [ "$rss" -gt "$rss_max" ]; then rss_max=$rss; fi
    # The first quarter lets the allocator reach the working set of a batch. Memory that still
    # grows after it grows with the backlog.
    if [ -z "$rss_at_quarter" ] && [ "$remaining" -le $((total * 3 / 4)) ]; then rss_at_quarter=$rss; fi
    if [ "$remaining" = 0 ]; then break; fi
    [ "$(date +%s)" -lt "$deadline" ] || die "the drain stalled: $remaining records still queued; see $RESULTS/drain-progress.txt"
    sleep 1
  done
  local seconds rate statuses rss_end growth met
  seconds=$(calc "$now - $started" %.1f)
  rate=$(calc "$total / $seconds" %.0f)
  rss_end=$(rss_kib "$HOST_PID")
  statuses=$(sql "SELECT string_agg(status || ' ' || n, ', ' ORDER BY status) FROM (SELECT r.status, count(*) AS n
    FROM fiscal_records r JOIN transactions t ON t.id = r.transaction_id WHERE t.location_id = ANY('$location_array')
    GROUP BY r.status) s")
  echo "$statuses" >"$RESULTS/drain-statuses.txt"
  growth=$(calc "100 * ($rss_end - $rss_at_quarter) / $rss_at_quarter" %.1f)
  met=$(met_if at_most "$growth" 5)
  add_row 4 "Queue drain: $total Spain records to the emulator, batches of 1,000" \
    "$rate records/s ($seconds s); records: $statuses" "" "" "none set" n/a
  add_row 4m "Queue drain: host RSS from 25 % of the drain to its end" \
    "$growth % ($(calc "$rss_at_quarter / 1024" %.1f) to $(calc "$rss_end / 1024" %.1f) MiB, at most $(calc "$rss_max / 1024" %.1f) MiB)" \
    "" "" "flat: under 5 %" "$met"
  DRAIN_CHAINS=$chains
  DRAIN_TOTAL=$total
}

# Figure 5. Locations of SCALE_ROWS_PER_LOCATION sales each, one per account, spread over
# SCALE_DAYS days. The first account is measured.
step_scale() {
  local locations=$(((SCALE_ROWS + SCALE_ROWS_PER_LOCATION - 1) / SCALE_ROWS_PER_LOCATION))
  local per_location=$((SCALE_ROWS / locations))
  say "figure 5: generating $((per_location * locations)) transactions in $locations locations (bench/sql/scale_location.sql)"
  local index key location generate_started
  generate_started=$(date +%s)
  SCALE_LOCATION=""
  for ((index = 0; index < locations; index++)); do
    key=$(create_account "scale$index") || die "could not create scale account $index"
    location=$(api POST /v1/locations "$key" "$(country_spain_location "$index" 89920000)") || die "could not create scale location $index"
    location=$(jq -r .id <<<"$location")
    api POST /v1/transactions "$key" "$(country_spain_sale "$location")" >/dev/null || die "the first sale of scale location $index failed"
    "${PSQL[@]}" -d fiscal -o /dev/null -v rows="$per_location" -v days="$SCALE_DAYS" -v location_id="$location" \
      -f "$BENCH_DIR/sql/clone_rows.sql" -f "$BENCH_DIR/sql/scale_location.sql" 2>>"$RESULTS/scale-generate.err" ||
      die "generating the rows of scale location $index failed; see $RESULTS/scale-generate.err"
    if [ -z "$SCALE_LOCATION" ]; then
      SCALE_LOCATION=$location
      SCALE_KEY=$key
    fi
    say "scale: $((index + 1)) of $locations locations written ($(($(date +%s) - generate_started)) s)"
  done
  # Autovacuum would have vacuumed and analyzed such old rows long ago. The visibility map it sets
  # lets count(*) use index-only scans.
  "${PSQL[@]}" -d fiscal -c "VACUUM (ANALYZE) transactions, fiscal_records"
  SCALE_TOTAL=$(sql "SELECT count(*) FROM transactions")
  echo "generated and vacuumed in $(($(date +%s) - generate_started)) s; $SCALE_TOTAL transactions in the database" \
    >"$RESULTS/scale-generate.txt"
  sql "SELECT pg_size_pretty(pg_database_size('fiscal'))" >>"$RESULTS/scale-generate.txt"

  sql "SELECT '/v1/transactions/' || id FROM transactions WHERE location_id = '$SCALE_LOCATION' ORDER BY random() LIMIT 1000" \
    >"$VAR_DIR/scale-paths.txt"
  say "figure 5: list and fetch by id, 100 requests/s for $SCALE_SECONDS s each"
  local name met args label
  for name in scale-list scale-get; do
    args=(--method GET --rate 100 --header "Authorization: Bearer $SCALE_KEY" --connections 8)
    if [ "$name" = scale-list ]; then
      args+=(--url "$BASE/v1/transactions?limit=20")
      label="list (GET /v1/transactions?limit=20) of an account with $per_location transactions"
    else
      args+=(--url "$BASE/" --paths-file "$VAR_DIR/scale-paths.txt")
      label="fetch by id"
    fi
    run_load "$name" "${args[@]}" --duration "$SCALE_SECONDS"
    met=$(met_if at_most "$(result "$name" .latency_ms.p99)" 10)
    add_row "5-${name#scale-}" "Scale, $SCALE_TOTAL transactions stored: $label, p50 / p99" \
      "$(latency_text "$name" | sed 's| / [^/]* ms$| ms|')" "" "" "p99 under 10 ms" "$met"
    if [ "$met" = no ]; then profile_load "$name" "${args[@]}"; fi
  done
  step_audit "$per_location"
}

# The audit of one location-day: every page of GET /v1/transactions?location_id=..&from=..&to=..
# (100 per page), fetched in turn over one keep-alive connection, for 10 days.
step_audit() {
  local per_day=$((($1 + SCALE_DAYS - 1) / SCALE_DAYS))
  local pages=$(((per_day + 99) / 100))
  local day offset urls times total
  : >"$RESULTS/audit.txt"
  for day in 5 15 25 35 45 55 65 75 85 95; do
    local date_from date_to
    date_from=$(date -u -d "$((SCALE_DAYS - day)) days ago" +%Y-%m-%d)
    date_to=$(date -u -d "$((SCALE_DAYS - day - 1)) days ago" +%Y-%m-%d)
    urls=()
    for ((offset = 0; offset < pages * 100; offset += 100)); do
      urls+=(-o /dev/null "$BASE/v1/transactions?location_id=$SCALE_LOCATION&from=${date_from}T00:00:00Z&to=${date_to}T00:00:00Z&limit=100&offset=$offset")
    done
    total=$(api GET "/v1/transactions?location_id=$SCALE_LOCATION&from=${date_from}T00:00:00Z&to=${date_to}T00:00:00Z&limit=1" \
      "$SCALE_KEY" | jq .total) || die "the audit's count request for $date_from failed"
    times=$(curl -sf -H "Authorization: Bearer $SCALE_KEY" -w '%{time_total}\n' "${urls[@]}" |
      awk '{ s += $1 } END { printf "%.3f", s }') || die "an audit page request for $date_from failed"
    echo "$date_from $total $pages $times" >>"$RESULTS/audit.txt"
  done
  local median max met
  median=$(awk '{ print $4 }' "$RESULTS/audit.txt" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
  max=$(awk '{ print $4 }' "$RESULTS/audit.txt" | sort -n | tail -1)
  met=$(met_if at_most "$max" 1)
  add_row 5-audit "Scale: audit of a location-day ($(head -1 "$RESULTS/audit.txt" | cut -d' ' -f2) sales, $pages pages of 100), 10 days" \
    "median $median s, max $max s" "" "" "under 1 s" "$met"
}

# ---- Main -----------------------------------------------------------------------------------------

mkdir -p "$RESULTS"
rm -rf "${RESULTS:?}"/*
check_ports
check_disk
SOURCE_DESCRIPTION=$(describe_source)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
say "bench/run.sh: results in $RESULTS, docs in $DOCS_FILE"

install_tools
[ "$SKIP_BUILD" = 1 ] || build_release
check_build
choose_profiler

AVAILABLE_COUNTRIES=()
SKIPPED_COUNTRIES=()
for country in "${BENCH_COUNTRIES[@]}"; do
  if "country_${country}_available"; then
    AVAILABLE_COUNTRIES+=("$country")
  else
    SKIPPED_COUNTRIES+=("$country: its plugin module is not built")
  fi
done

step_hot_swap
step_crypto_baseline
start_servers
step_idle_memory
step_pgbench_baseline
step_http_baseline
step_locations
step_post_throughput
step_get_throughput
step_latency
wait_host_idle
step_soak
step_drain
step_scale

LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
write_report
say "done in $(elapsed) s; wrote $DOCS_FILE"
