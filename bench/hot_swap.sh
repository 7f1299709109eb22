#!/usr/bin/env bash
# Measures the plugin ABI call cost and hot swaps of the Spain plugin under load, and writes the
# results into the section "Plugin ABI and hot swap" of docs/benchmarks.md.
#
#   1. plugin_abi_bench: one issue_record call directly, through the ABI with a minimal host, and
#      through the host's LoadedPlugin wrapper.
#   2. Starts its own PostgreSQL, Redis, AEAT emulator and host (files under var/bench/, loopback
#      only), with Spain 1.0.0 and 1.0.1 installed, and creates an account and a location.
#   3. For each rate in BENCH_RATES: a baseline, where loadgen posts sales at that fixed rate, and
#      the same load while the default version flips between 1.0.0 and 1.0.1 every SWAP_INTERVAL
#      seconds through the admin reload endpoint.
#   4. Memory: VmRSS of the host after 1 and after RSS_SWAPS swaps without traffic.
# Everything it started is stopped on exit, also on Ctrl-C. Besides the docs section it writes
# results/section.md and results/summary.json (the memory and reload figures) under its var dir;
# bench/run.sh reads both.
#
# Needs a build with benchmarks and tests (the tests build Spain 1.0.1):
#   cmake -S . -B build -G Ninja -DFISCAL_BUILD_BENCHMARKS=ON && cmake --build build
#   FISCAL_BUILD_DIR=build bench/hot_swap.sh
# Settings (environment variables, defaults in brackets):
#   BENCH_RATES ["100 200"] requests per second, one pair of runs each, BENCH_CONNECTIONS [4],
#   BENCH_DURATION [30] seconds per run,
#   BENCH_SWAP_INTERVAL [2] seconds, BENCH_RSS_SWAPS [100] swaps for the memory figures,
#   BENCH_ABI_REPETITIONS [5] and BENCH_ABI_MIN_TIME [0.5] seconds for plugin_abi_bench,
#   BENCH_WRITE_DOCS [1] (0 leaves docs/benchmarks.md unchanged),
#   BENCH_SOURCE [the git commit] names the measured source tree in the docs,
#   ports BENCH_HTTP_PORT [18090], BENCH_PG_PORT [55434], BENCH_REDIS_PORT [56381],
#   BENCH_EMULATOR_PORT [18445], BENCH_EMULATOR_CONTROL_PORT [18446],
#   FISCAL_BENCH_VAR_DIR [var/bench] for the servers' files and the raw results.
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"

VAR_DIR=${FISCAL_BENCH_VAR_DIR:-$ROOT_DIR/var/bench}
HTTP_PORT=${BENCH_HTTP_PORT:-18090}
PG_PORT=${BENCH_PG_PORT:-55434}
REDIS_PORT=${BENCH_REDIS_PORT:-56381}
EMULATOR_PORT=${BENCH_EMULATOR_PORT:-18445}
EMULATOR_CONTROL_PORT=${BENCH_EMULATOR_CONTROL_PORT:-18446}
RATES=${BENCH_RATES:-100 200}
CONNECTIONS=${BENCH_CONNECTIONS:-4}
DURATION=${BENCH_DURATION:-30}
SWAP_INTERVAL=${BENCH_SWAP_INTERVAL:-2}
RSS_SWAPS=${BENCH_RSS_SWAPS:-100}
ABI_REPETITIONS=${BENCH_ABI_REPETITIONS:-5}
ABI_MIN_TIME=${BENCH_ABI_MIN_TIME:-0.5}
WRITE_DOCS=${BENCH_WRITE_DOCS:-1}
DOCS_FILE="$ROOT_DIR/docs/benchmarks.md"
SECTION_TITLE="## Plugin ABI and hot swap"

RESULTS="$VAR_DIR/results"
CONFIG="$VAR_DIR/fiscal.json"
BASE="http://127.0.0.1:$HTTP_PORT"
LOADGEN="$BUILD_DIR/bench/loadgen"
ABI_BENCH="$BUILD_DIR/bench/plugin_abi_bench"
HOST_PID=""
EMULATOR_PID=""
LOADGEN_PID=""
STARTED_POSTGRES=""
STARTED_REDIS=""

cleanup() {
  trap - INT TERM EXIT
  say "stopping what this script started"
  [ -n "$LOADGEN_PID" ] && kill "$LOADGEN_PID" 2>/dev/null && wait "$LOADGEN_PID" 2>/dev/null || true
  [ -n "$HOST_PID" ] && kill "$HOST_PID" 2>/dev/null && wait "$HOST_PID" 2>/dev/null || true
  [ -n "$EMULATOR_PID" ] && kill "$EMULATOR_PID" 2>/dev/null && wait "$EMULATOR_PID" 2>/dev/null || true
  [ -n "$STARTED_REDIS" ] && stop_redis
  [ -n "$STARTED_POSTGRES" ] && stop_postgres
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- Checks before starting anything -------------------------------------------------------------

for value in CONNECTIONS DURATION SWAP_INTERVAL RSS_SWAPS ABI_REPETITIONS; do
  [[ ${!value} =~ ^[1-9][0-9]*$ ]] || die "BENCH_$value must be a positive whole number, got \"${!value}\""
done
read -r -a rate_list <<<"$RATES"
[ "${#rate_list[@]}" -ge 1 ] && [ "${#rate_list[@]}" -le 4 ] || die "BENCH_RATES must list 1 to 4 rates, got \"$RATES\""
for rate in "${rate_list[@]}"; do
  [[ $rate =~ ^[1-9][0-9]*$ ]] || die "BENCH_RATES must contain positive whole numbers, got \"$rate\""
done
[ "$RSS_SWAPS" -ge 2 ] && [ "$RSS_SWAPS" -le 1000 ] || die "BENCH_RSS_SWAPS must be 2 to 1000"
[[ $ABI_MIN_TIME =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "BENCH_ABI_MIN_TIME must be a number of seconds, got \"$ABI_MIN_TIME\""
[ "$DURATION" -le 600 ] || die "BENCH_DURATION must be at most 600 seconds"
command -v jq >/dev/null || die "jq is missing; install the Debian package jq"

for file in "$BUILD_DIR/host/fiscal-host" "$BUILD_DIR/sandbox/aeat-emulator/aeat-emulator" "$LOADGEN" "$ABI_BENCH"; do
  [ -x "$file" ] || die "$file is missing; build with -DFISCAL_BUILD_BENCHMARKS=ON and set FISCAL_BUILD_DIR (now $BUILD_DIR)"
done
for version in 1.0.0 1.0.1; do
  compgen -G "$BUILD_DIR/plugins/spain-verifactu/$version/*.so" >/dev/null ||
    die "Spain plugin $version is not built under $BUILD_DIR/plugins/spain-verifactu/$version (1.0.1 needs FISCAL_BUILD_TESTS=ON)"
done

# Every port must be free, so that no request reaches a server this script did not start.
for port in "$HTTP_PORT" "$PG_PORT" "$REDIS_PORT" "$EMULATOR_PORT" "$EMULATOR_CONTROL_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    die "port $port on 127.0.0.1 is already in use; stop that server or choose other BENCH_*_PORT values"
  fi
done

mkdir -p "$VAR_DIR" "$RESULTS"
rm -f "$RESULTS"/*.json "$RESULTS"/*.txt "$RESULTS"/*.md
# The Redis port is free, so a Redis pid file left by an earlier run is stale; its pid may now
# belong to another process.
rm -f "$VAR_DIR/redis/redis.pid"
touch "$RESULTS/rss-reloads.txt"

# ---- 1. Plugin ABI call cost, before this script starts its servers ------------------------------

load_before_abi=$(cut -d' ' -f1-3 /proc/loadavg)
ABI_ARGS=(--benchmark_repetitions="$ABI_REPETITIONS" --benchmark_report_aggregates_only=true
  --benchmark_min_time="$ABI_MIN_TIME")
say "running plugin_abi_bench"
"$ABI_BENCH" "${ABI_ARGS[@]}" --benchmark_format=json --benchmark_out="$RESULTS/abi.json" \
  --benchmark_out_format=json >/dev/null 2>"$RESULTS/abi-stderr.txt" ||
  die "plugin_abi_bench failed; see $RESULTS/abi-stderr.txt"
if jq -e '[.benchmarks[] | select(.error_occurred == true)] | length > 0' "$RESULTS/abi.json" >/dev/null; then
  die "a plugin_abi_bench benchmark reported an error; see $RESULTS/abi.json"
fi

# median_ns NAME: the median real time per call of benchmark NAME, in nanoseconds.
median_ns() {
  jq -r --arg name "$1" '.benchmarks[] | select(.run_name == $name and .aggregate_name == "median")
    | .real_time * ({"ns": 1, "us": 1000, "ms": 1000000, "s": 1000000000}[.time_unit])' "$RESULTS/abi.json"
}

# ---- 2. Servers, account and location ------------------------------------------------------------

STARTED_POSTGRES=1
start_postgres
psql_admin -qc "DROP DATABASE IF EXISTS fiscal WITH (FORCE)" >/dev/null
psql_admin -qc "CREATE DATABASE fiscal" >/dev/null
STARTED_REDIS=1
start_redis
redis-cli -h 127.0.0.1 -p "$REDIS_PORT" FLUSHALL >/dev/null
make_certificates
start_emulator "$VAR_DIR/emulator.log"

ADMIN_TOKEN=$(openssl rand -hex 24)

# write_config VERSION: the host configuration with VERSION as the Spain default. Written to a
# temporary file and renamed, so that a reload never reads half a file.
write_config() {
  local pki="$VAR_DIR/dev/pki"
  cat >"$CONFIG.tmp" <<JSON
{
  "http": {"address": "127.0.0.1", "port": $HTTP_PORT, "threads": 8},
  "database": {"connection": "host=127.0.0.1 port=$PG_PORT dbname=fiscal user=fiscal", "pool_size": 16},
  "redis": {"host": "127.0.0.1", "port": $REDIS_PORT},
  "sql_dir": "$ROOT_DIR/sql",
  "plugin_dir": "$BUILD_DIR/plugins",
  "plugin_cache_dir": "$VAR_DIR/plugin-cache",
  "admin_token": "$ADMIN_TOKEN",
  "rate_limits": {"tiers": {"sandbox": {"requests_per_minute": 1000000, "burst": 1000000}}},
  "submission": {"workers": 2, "poll_interval_ms": 200},
  "plugins": [
    {
      "name": "spain-verifactu", "country": "ES", "system": "verifactu", "version": "$1",
      "config": {},
      "circuit_breaker": {"country": "spain", "authority": "aeat"},
      "endpoints": {
        "verifactu": {
          "test": {
            "url": "https://127.0.0.1:$EMULATOR_PORT/wlpl/TIKE-CONT/ws/SistemaFacturacion/VerifactuSOAP",
            "ca_file": "$pki/ca.pem", "client_cert": "$pki/client.pem", "client_key": "$pki/client-key.pem"
          }
        }
      }
    }
  ]
}
JSON
  mv -f "$CONFIG.tmp" "$CONFIG"
}

rm -rf "$VAR_DIR/plugin-cache"
write_config 1.0.0
say "starting the host on $BASE (log: $VAR_DIR/host.log)"
: >"$VAR_DIR/host.log"
"$BUILD_DIR/host/fiscal-host" --config "$CONFIG" --migrate 2>>"$VAR_DIR/host.log" &
HOST_PID=$!
for _ in $(seq 150); do
  curl -sf "$BASE/health" >/dev/null 2>&1 && break
  kill -0 "$HOST_PID" 2>/dev/null || die "the host exited; see $VAR_DIR/host.log"
  sleep 0.2
done
curl -sf "$BASE/health" >/dev/null || die "the host does not respond on $BASE; see $VAR_DIR/host.log"

account=$(curl -sf -X POST "$BASE/v1/accounts" -H 'Content-Type: application/json' \
  -d "{\"name\":\"Bench shop\",\"billing_email\":\"bench-$(date +%s)@example.com\"}") || die "could not create the account"
API_KEY=$(jq -r '.api_key.key' <<<"$account")
location=$(curl -sf -X POST "$BASE/v1/locations" -H "Authorization: Bearer $API_KEY" -H 'Content-Type: application/json' \
  -d '{"name":"Tienda Centro","country":"ES","country_config":{"system":"verifactu","nif":"89890001K","legal_name":"Empresa Ficticia SL","invoice_series":"B"}}') ||
  die "could not create the location"
LOCATION_ID=$(jq -r '.id' <<<"$location")

# The README's example sale: 2 x 2.50 + 1 x 3.00 at 10 % VAT.
cat >"$VAR_DIR/sale.json" <<JSON
{"location_id":"$LOCATION_ID","timestamp":"$(date -u +%Y-%m-%dT%H:%M:%SZ)",
 "items":[{"description":"Café","quantity":2,"unit_price":2.50,"tax_rate":0.10},
          {"description":"Bocadillo","quantity":1,"unit_price":3.00,"tax_rate":0.10}],
 "total_amount":8.00,"currency":"EUR","payment_method":"card"}
JSON
status=$(curl -s -o "$RESULTS/first-sale.txt" -w '%{http_code}' -X POST "$BASE/v1/transactions" \
  -H "Authorization: Bearer $API_KEY" -H 'Content-Type: application/json' --data-binary @"$VAR_DIR/sale.json")
[ "$status" = 201 ] || die "the first sale got HTTP $status: $(cat "$RESULTS/first-sale.txt")"

LOADGEN_ARGS=(--url "$BASE/v1/transactions" --connections "$CONNECTIONS"
  --header "Authorization: Bearer $API_KEY" --body-file "$VAR_DIR/sale.json" --timeout 10)

# ---- 3. Load without and with hot swaps ----------------------------------------------------------

say "warm-up: 5 s at ${rate_list[0]} requests/s"
"$LOADGEN" "${LOADGEN_ARGS[@]}" --rate "${rate_list[0]}" --duration 5 >"$RESULTS/warmup.json"

# reload VERSION OUTPUT: rewrites the configuration with VERSION as the default, sends the reload
# request, and appends "<http status> <seconds> <default_version>" to OUTPUT.
reload() {
  write_config "$1"
  local answer
  rm -f "$VAR_DIR/reload-answer.json"
  answer=$(curl -s -o "$VAR_DIR/reload-answer.json" -w '%{http_code} %{time_total}' -X POST \
    -H "Authorization: Bearer $ADMIN_TOKEN" "$BASE/v1/admin/plugins/spain-verifactu/reload") || answer="000 0"
  echo "$answer $(jq -r '.default_version // "none"' "$VAR_DIR/reload-answer.json" 2>/dev/null || echo none)" >>"$2"
}

version=1.0.0
next_version() { if [ "$version" = 1.0.0 ]; then version=1.0.1; else version=1.0.0; fi; }

for rate in "${rate_list[@]}"; do
  cut -d' ' -f1 /proc/loadavg >"$RESULTS/load-$rate.txt"
  say "baseline: $DURATION s at $rate requests/s over $CONNECTIONS connections"
  "$LOADGEN" "${LOADGEN_ARGS[@]}" --rate "$rate" --duration "$DURATION" >"$RESULTS/baseline-$rate.json"

  say "swaps: $DURATION s at $rate requests/s, swapping the Spain version every $SWAP_INTERVAL s"
  touch "$RESULTS/swap-reloads-$rate.txt"
  "$LOADGEN" "${LOADGEN_ARGS[@]}" --rate "$rate" --duration "$DURATION" >"$RESULTS/swaps-$rate.json" &
  LOADGEN_PID=$!
  swap_count=$(( (DURATION - 1) / SWAP_INTERVAL ))
  for ((swap = 1; swap <= swap_count; swap++)); do
    sleep "$SWAP_INTERVAL"
    kill -0 "$LOADGEN_PID" 2>/dev/null || break
    next_version
    reload "$version" "$RESULTS/swap-reloads-$rate.txt"
  done
  wait "$LOADGEN_PID" || die "loadgen failed during the swap run at $rate requests/s"
  LOADGEN_PID=""
done

# ---- 4. Resident memory over many swaps, without traffic -----------------------------------------

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$HOST_PID/status"; }
# Distinct plugin library files mapped into the host right now.
mapped_plugins() { awk '$6 ~ /plugin-cache\/.*\.so$/ { print $6 }' "/proc/$HOST_PID/maps" | sort -u | wc -l; }
# Generations the admin API lists: active ones plus retired ones still in use.
generations() {
  curl -sf -H "Authorization: Bearer $ADMIN_TOKEN" "$BASE/v1/admin/plugins" | jq '[.data[].generations[]] | length'
}

say "memory: $RSS_SWAPS swaps without traffic"
sleep 2  # lets the background senders drain what the load left queued
rss_before=$(rss_kib); mapped_before=$(mapped_plugins)
for ((swap = 1; swap <= RSS_SWAPS; swap++)); do
  next_version
  reload "$version" "$RESULTS/rss-reloads.txt"
  if [ "$swap" = 1 ]; then
    rss_after_1=$(rss_kib); mapped_after_1=$(mapped_plugins); generations_after_1=$(generations)
  fi
done
rss_after_n=$(rss_kib); mapped_after_n=$(mapped_plugins); generations_after_n=$(generations)

records_by_version=$(psql -X -h 127.0.0.1 -p "$PG_PORT" -U fiscal -d fiscal -tAc \
  "SELECT string_agg(plugin_version || ': ' || n, ', ' ORDER BY plugin_version) FROM
     (SELECT plugin_version, count(*) AS n FROM fiscal_records GROUP BY plugin_version) counts")

# ---- Results -------------------------------------------------------------------------------------

field() { jq -r "$2" "$RESULTS/$1.json"; }
ms() { printf '%.2f' "$(field "$1" ".latency_ms.$2")"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
ns() { awk -v value="$1" 'BEGIN { printf "%.0f", value }'; }

echo_direct=$(median_ns BM_EchoDirect); echo_minimal=$(median_ns BM_EchoMinimalHost); echo_loaded=$(median_ns BM_EchoLoadedPlugin)
spain_direct=$(median_ns BM_SpainDirect); spain_minimal=$(median_ns BM_SpainMinimalHost); spain_loaded=$(median_ns BM_SpainLoadedPlugin)

# load_rows: two table rows per rate, without and with swaps.
load_rows=""
for rate in "${rate_list[@]}"; do
  load=$(cat "$RESULTS/load-$rate.txt")
  swaps=$(grep -c '' "$RESULTS/swap-reloads-$rate.txt" || true)
  swaps_failed=$(awk '$1 != 200' "$RESULTS/swap-reloads-$rate.txt" | grep -c '' || true)
  for run in baseline swaps; do
    label="no swaps"
    [ "$run" = swaps ] && label="swap every $SWAP_INTERVAL s ($swaps swaps, $swaps_failed failed)"
    name="$run-$rate"
    load_rows+="| $rate | $label | $load | $(field "$name" .count) | $(field "$name" .errors) | $(ms "$name" p50) |"
    load_rows+=" $(ms "$name" p90) | $(ms "$name" p99) | $(ms "$name" p99_9) | $(ms "$name" max) |"$'\n'
  done
done
load_rows=${load_rows%$'\n'}
rss_reloads_failed=$(awk '$1 != 200' "$RESULTS/rss-reloads.txt" | grep -c '' || true)
reload_p50=$(awk '{ print $2 * 1000 }' "$RESULTS/rss-reloads.txt" | sort -n | awk '{ v[NR] = $1 } END { printf "%.0f", v[int((NR + 1) / 2)] }')
reload_max=$(awk '{ print $2 * 1000 }' "$RESULTS/rss-reloads.txt" | sort -n | tail -1 | awk '{ printf "%.0f", $1 }')
growth_kib=$((rss_after_n - rss_after_1))
per_swap_kib=$(awk -v g="$growth_kib" -v n="$RSS_SWAPS" 'BEGIN { printf "%.1f", g / (n - 1) }')

cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
memory_gib=$(awk '/^MemTotal:/ { printf "%.1f", $2 / 1048576 }' /proc/meminfo)
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt")
if [ -n "${BENCH_SOURCE:-}" ]; then
  source_description=$BENCH_SOURCE
elif commit=$(git -C "$ROOT_DIR" rev-parse --short HEAD 2>/dev/null); then
  source_description="commit $commit"
  git -C "$ROOT_DIR" diff-index --quiet HEAD -- 2>/dev/null || source_description="$source_description plus uncommitted changes"
else
  source_description="a source tree without git metadata"
fi
machine="$(nproc) CPUs ($cpu_model), $memory_gib GiB memory, Linux $(uname -r)"
measured_on=$(date -u +%Y-%m-%d)

section="$RESULTS/section.md"
cat >"$section" <<MD
$SECTION_TITLE

Measured on $measured_on by \`FISCAL_BUILD_DIR=<build> bench/hot_swap.sh\` (rates ${RATES// /, } requests/s,
$CONNECTIONS connections, $DURATION s per run, a swap every $SWAP_INTERVAL s, $RSS_SWAPS swaps for memory) on $machine. Build type
$build_type, source: $source_description. The load generator, the host, PostgreSQL, Redis and the
emulator share these CPUs with whatever else runs on the machine. Load average (1, 5 and 15 minutes)
before the ABI benchmark: $load_before_abi. Each figure comes from one run of the script, so rerun it
to compare on your machine.

### Cost of one issue_record call

\`<build>/bench/plugin_abi_bench ${ABI_ARGS[*]}\`, median real time per call of $ABI_REPETITIONS repetitions.
"Direct" calls the plugin's C++ function linked into the benchmark. "Minimal host" calls the
plugin's \`fiscal_plugin_api.issue_record\` through its function pointer, with a host API whose
\`set_result\` only copies the result. "LoadedPlugin" is the host's own wrapper
(\`plugins::LoadPlugin\`, \`LoadedPlugin::IssueRecord\`), as the transactions store calls it.
bench-echo is a plugin in \`bench/\` whose call does almost no work, so its row shows the cost of the
call path itself. Debian 12's libbenchmark warns that it was built as DEBUG; that concerns the
library's own code, and the measured code is built as $build_type.

| plugin | direct | minimal host | LoadedPlugin | minimal host / direct | LoadedPlugin / direct |
|---|---:|---:|---:|---:|---:|
| bench-echo | $(ns "$echo_direct") ns | $(ns "$echo_minimal") ns | $(ns "$echo_loaded") ns | $(ratio "$echo_minimal" "$echo_direct") | $(ratio "$echo_loaded" "$echo_direct") |
| spain-verifactu | $(ns "$spain_direct") ns | $(ns "$spain_minimal") ns | $(ns "$spain_loaded") ns | $(ratio "$spain_minimal" "$spain_direct") | $(ratio "$spain_loaded" "$spain_direct") |

### Sales under load, with and without hot swaps

\`<build>/bench/loadgen --url $BASE/v1/transactions --rate <rate> --connections $CONNECTIONS --duration $DURATION\`,
posting the README's example sale to one location (so every sale joins one chain) after a 5 s
warm-up. Requests are scheduled at fixed intervals and latency counts from each request's scheduled
time, so queueing behind a slow response is included. A failed request is a non-2xx answer, a
transport error or no answer within 10 s. "Load" is the 1-minute load average just before the
baseline run of that rate. A p90 far above the p50 means the rate is close to what the machine
sustains for one chain. There the queue dominates the tail and single runs vary widely, so compare
swaps against the baseline at a rate below that point.

| requests/s | run | load | requests | failed | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms |
|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|
$load_rows

Records by plugin version after all runs: $records_by_version.

### Host memory over $RSS_SWAPS swaps

VmRSS from \`/proc/<host pid>/status\`, with no traffic during the swaps. "Mapped plugin files" counts
the distinct plugin libraries in \`/proc/<host pid>/maps\`; "generations" is the number of plugin
generations \`GET /v1/admin/plugins\` lists (active ones plus retired ones still in use). One reload
took $reload_p50 ms at the median and $reload_max ms at most; $rss_reloads_failed of $RSS_SWAPS reloads failed.

| point | VmRSS KiB | mapped plugin files | generations |
|---|---:|---:|---:|
| before the swaps | $rss_before | $mapped_before | |
| after 1 swap | $rss_after_1 | $mapped_after_1 | $generations_after_1 |
| after $RSS_SWAPS swaps | $rss_after_n | $mapped_after_n | $generations_after_n |

Growth from swap 1 to swap $RSS_SWAPS: $growth_kib KiB, about $per_swap_kib KiB per swap. Growth from before
the swaps to after swap $RSS_SWAPS: $((rss_after_n - rss_before)) KiB. A retired generation stays mapped
until the last operation holding it (a request or a background sender) ends, so the "after 1 swap"
row may still include it.
MD

jq -n --argjson rss_before "$rss_before" --argjson rss_after_1 "$rss_after_1" --argjson rss_after_n "$rss_after_n" \
  --argjson swaps "$RSS_SWAPS" --argjson reload_p50_ms "$reload_p50" --argjson reload_max_ms "$reload_max" \
  --argjson reloads_failed "$rss_reloads_failed" --arg rates "$RATES" \
  '{rss_before_kib: $rss_before, rss_after_1_kib: $rss_after_1, rss_after_n_kib: $rss_after_n, swaps: $swaps,
    reload_p50_ms: $reload_p50_ms, reload_max_ms: $reload_max_ms, reloads_failed: $reloads_failed,
    rates: ($rates | split(" "))}' >"$RESULTS/summary.json"

if [ "$WRITE_DOCS" = 1 ]; then
  if [ ! -f "$DOCS_FILE" ]; then
    cat >"$DOCS_FILE" <<'MD'
# Benchmarks

Every figure on this page is produced by a script in `bench/` that anyone can rerun. Each section
names its command, the machine and the date. Figures from one machine say little about another,
so compare runs of the same script on the same machine.
MD
  fi
  # Replaces the section (up to the next "## " heading) or appends it.
  awk -v title="$SECTION_TITLE" -v section="$section" '
    function emit() { while ((getline line < section) > 0) print line; close(section); done = 1 }
    $0 == title { if (!done) emit(); skipping = 1; next }
    skipping && /^## / { skipping = 0; print "" }
    !skipping { print }
    END { if (!done) { print ""; emit() } }
  ' "$DOCS_FILE" >"$DOCS_FILE.tmp"
  mv -f "$DOCS_FILE.tmp" "$DOCS_FILE"
  say "wrote $DOCS_FILE"
fi

cat "$section"
echo
say "raw results in $RESULTS"
