# Measuring helpers of bench/run.sh: load runs, resident memory, results table and profiles.
# Sourced by bench/run.sh, not executed; it uses the variables that run.sh sets.

# ---- Load runs ------------------------------------------------------------------------------------

# run_load NAME ARGS...: runs loadgen with ARGS and stores its JSON line in $RESULTS/NAME.json.
# Loadgen bounds every run by --duration plus its --timeout.
run_load() {
  local name=$1
  shift
  "$LOADGEN" "$@" >"$RESULTS/$name.json" 2>"$RESULTS/$name.stderr" ||
    die "loadgen failed for $name; see $RESULTS/$name.stderr"
  local errors
  errors=$(jq -r .errors "$RESULTS/$name.json")
  if [ "$errors" != 0 ]; then
    say "warning: $name had $errors failed requests: $(jq -c '{status_counts, timeouts, first_transport_error}' "$RESULTS/$name.json")"
  fi
}

# result NAME JQ_FILTER: one value from $RESULTS/NAME.json.
result() { jq -r "$2" "$RESULTS/$1.json"; }

# ---- Numbers --------------------------------------------------------------------------------------

# calc EXPRESSION [FORMAT]: evaluates an awk expression, printed with FORMAT (default %.2f).
calc() { awk "BEGIN { printf \"${2:-%.2f}\", $1 }"; }

# at_least A B and at_most A B: exit status 0 when A >= B (or A <= B), for decimal numbers.
at_least() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
at_most() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }

# ---- Resident memory ------------------------------------------------------------------------------

# rss_kib PID: resident set size (VmRSS) of PID in KiB.
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# ---- Results table --------------------------------------------------------------------------------

# add_row ID FIGURE MEASURED BASELINE RATIO TARGET MET: one row of the summary table, kept in
# $RESULTS/table.tsv. MET is yes, no or n/a; every "no" also lands in $RESULTS/unmet.tsv.
add_row() {
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$RESULTS/table.tsv"
  if [ "$7" = no ]; then
    local reached=$3
    if [ -n "$5" ]; then reached="$3, a ratio of $5 to the baseline ($4)"; fi
    printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$reached" "$6" >>"$RESULTS/unmet.tsv"
  fi
}

# latency_text NAME: "p50 / p99 / p99.9 ms" of the loadgen run NAME, with one decimal.
latency_text() {
  jq -r '.latency_ms | [.p50, .p99, .p99_9] | map(. * 10 | round / 10 | tostring) | join(" / ") + " ms"' "$RESULTS/$1.json"
}

# met_if CONDITION_COMMAND...: prints yes when the command succeeds, else no.
met_if() { if "$@"; then echo yes; else echo no; fi; }

# ---- Profiles -------------------------------------------------------------------------------------

# choose_profiler: sets PROFILER to perf when a system-wide perf record works, else to callgrind
# when valgrind is installed, else to none. BENCH_PROFILER forces a choice.
choose_profiler() {
  PROFILER=${BENCH_PROFILER:-}
  if [ -n "$PROFILER" ]; then return 0; fi
  if command -v perf >/dev/null && perf record -e cpu-clock -a -o "$RESULTS/perf-check.data" -- true >/dev/null 2>&1; then
    PROFILER=perf
  elif command -v valgrind >/dev/null; then
    PROFILER=callgrind
  else
    PROFILER=none
  fi
  rm -f "$RESULTS/perf-check.data"
}

# profile_load NAME ARGS...: runs loadgen with ARGS (against the host on $BASE) while a profiler
# watches, and writes the top entries to $RESULTS/profile-NAME.txt.
#
# perf samples every CPU of the machine for PROFILE_SECONDS in the middle of the run, so the host,
# PostgreSQL, Redis, the emulator and loadgen all show, each under its process name.
# callgrind instead runs a second host under valgrind, on PROFILE_HTTP_PORT with no background
# senders, against the same database, and sends it the same requests for 3 x PROFILE_SECONDS.
# Only the host's own code shows then, running about 50 times slower than native.
profile_load() {
  local name=$1
  shift
  local out="$RESULTS/profile-$name.txt"
  case "$PROFILER" in
    perf) profile_with_perf "$name" "$out" "$@" ;;
    callgrind) profile_with_callgrind "$name" "$out" "$@" ;;
    *) echo "No profiler is available: perf and valgrind are both missing." >"$out" ;;
  esac
}

profile_with_perf() {
  local name=$1 out=$2
  shift 2
  local data="$RESULTS/profile-$name.perf.data"
  say "profiling $name with perf for $PROFILE_SECONDS s"
  "$LOADGEN" "$@" --duration $((PROFILE_SECONDS + 2)) >"$RESULTS/profile-$name.load.json" 2>/dev/null &
  LOADGEN_PID=$!
  sleep 1
  perf record -e cpu-clock -F 499 -a -o "$data" -- sleep "$PROFILE_SECONDS" >/dev/null 2>"$RESULTS/profile-$name.perf.stderr" || true
  wait "$LOADGEN_PID" || true
  LOADGEN_PID=""
  if [ ! -s "$data" ]; then
    echo "perf record wrote no samples; see $RESULTS/profile-$name.perf.stderr" >"$out"
    return 0
  fi
  {
    echo "perf record -e cpu-clock -F 499 -a, $PROFILE_SECONDS s; share of all samples on the machine"
    echo
    echo "By process:"
    perf_top "$data" --sort comm --percent-limit 2 | head -8
    for comm in fiscal-host postgres; do
      echo
      echo "$comm by library:"
      perf_top "$data" --comms "$comm" --sort dso --percent-limit 0.5 | head -8
      echo
      echo "Top functions in $comm:"
      perf_top "$data" --comms "$comm" --sort dso,symbol --percent-limit 0.4 | head -12
    done
  } >"$out"
  rm -f "$data"
}

# perf_top DATA REPORT_ARGS...: the entry lines of perf report, or nothing when it has none.
perf_top() {
  local data=$1
  shift
  # perf pads its columns to the terminal width and ends symbol lines with empty columns ("-  -").
  perf report -i "$data" --stdio "$@" 2>/dev/null | grep -E '^ +[0-9.]+%' |
    sed -E 's/[[:space:]]+$//; s/^[[:space:]]+//; s/[[:space:]]{2,}/  /g; s/(  -)+$//' || true
}

profile_with_callgrind() {
  local name=$1 out=$2
  shift 2
  local config="$VAR_DIR/profile-host.json" callgrind_out="$RESULTS/profile-$name.callgrind"
  jq --argjson port "$PROFILE_HTTP_PORT" '.http.port = $port | .submission.workers = 0' "$CONFIG" >"$config"

  say "profiling $name with callgrind for $((3 * PROFILE_SECONDS)) s (a second host on port $PROFILE_HTTP_PORT)"
  # Counting starts once the host answers, so start-up (plugin loading and hashing) stays out.
  valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$callgrind_out" "$BUILD_DIR/host/fiscal-host" \
    --config "$config" 2>"$RESULTS/profile-$name.valgrind.log" &
  PROFILE_HOST_PID=$!
  local base="http://127.0.0.1:$PROFILE_HTTP_PORT" ready=""
  for _ in $(seq 300); do
    if curl -sf "$base/health" >/dev/null 2>&1; then ready=1; break; fi
    kill -0 "$PROFILE_HOST_PID" 2>/dev/null || break
    sleep 0.2
  done

  if [ -n "$ready" ]; then
    callgrind_control -i on "$PROFILE_HOST_PID" >/dev/null 2>&1 || true
    # The same loadgen arguments, pointed at the second host; a later --duration overrides.
    local args=() arg
    for arg in "$@"; do args+=("${arg//$BASE/$base}"); done
    "$LOADGEN" "${args[@]}" --duration $((3 * PROFILE_SECONDS)) --timeout 30 >"$RESULTS/profile-$name.load.json" 2>/dev/null || true
  fi
  kill "$PROFILE_HOST_PID" 2>/dev/null || true
  wait "$PROFILE_HOST_PID" 2>/dev/null || true
  PROFILE_HOST_PID=""

  if [ ! -s "$callgrind_out" ]; then
    echo "callgrind wrote no profile; see $RESULTS/profile-$name.valgrind.log" >"$out"
    return 0
  fi
  {
    echo "valgrind --tool=callgrind on a second host, $((3 * PROFILE_SECONDS)) s of the same requests after start-up; instructions (Ir) by function"
    echo
    { callgrind_annotate --inclusive=no "$callgrind_out" 2>/dev/null | grep -E '^ *[0-9,]+ +\(' || true; } | head -20 |
      sed -E 's/[[:space:]]+$//'
  } >"$out"
}
