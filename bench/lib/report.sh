# Writes docs/benchmarks.md from the results of bench/run.sh. Sourced by bench/run.sh, not executed;
# it uses the variables that run.sh sets.

# Lines from this marker to the end of docs/benchmarks.md are written by hand; every run keeps them.
REPORT_KEEP_MARKER='<!-- Everything below this line is written by hand; bench/run.sh keeps it. -->'

# describe_source: the measured source tree, for the docs. BENCH_SOURCE overrides it. The commit is
# read from .git directly, so no git command runs; whether the tree has uncommitted changes is not
# checked.
describe_source() {
  if [ -n "${BENCH_SOURCE:-}" ]; then
    echo "$BENCH_SOURCE"
    return 0
  fi
  local git_dir="$ROOT_DIR/.git" head commit=""
  if [ -f "$git_dir/HEAD" ]; then
    head=$(cat "$git_dir/HEAD")
    if [[ $head == "ref: "* ]]; then
      local ref=${head#ref: }
      if [ -f "$git_dir/$ref" ]; then
        commit=$(cat "$git_dir/$ref")
      elif [ -f "$git_dir/packed-refs" ]; then
        commit=$(awk -v ref="$ref" '$2 == ref { print $1 }' "$git_dir/packed-refs")
      fi
    else
      commit=$head
    fi
  fi
  if [ -n "$commit" ]; then
    echo "commit ${commit:0:7} (uncommitted changes, if any, not checked)"
  else
    echo "a source tree without git metadata"
  fi
}

# table_rows: the summary table's rows from $RESULTS/table.tsv: baselines first, then by figure
# number, in the order they were measured within a figure.
table_rows() {
  awk -F'\t' '{ print ($1 ~ /^B/ ? 0 : $1 + 0) "\t" $0 }' "$RESULTS/table.tsv" | sort -s -t $'\t' -k1,1n | cut -f2- |
    awk -F'\t' '{
      met = $7 == "no" ? "**no**" : $7
      printf "| %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, met
    }'
}

# unmet_sections: one paragraph per target not met, with the profile taken for it.
unmet_sections() {
  if [ ! -s "$RESULTS/unmet.tsv" ]; then
    echo "Every target with a set value was met in this run."
    return 0
  fi
  local id figure measured target profile name
  while IFS=$'\t' read -r id figure measured target; do
    echo "**$id. $figure**: reached $measured; the target is $target."
    echo
    case "$id" in
      1-*) name="post-${id#1-}" ;;
      2) name=get ;;
      3-post) name=latency-post ;;
      3-get) name=latency-get ;;
      5-list) name=scale-list ;;
      5-get) name=scale-get ;;
      *) name="" ;;
    esac
    profile="$RESULTS/profile-$name.txt"
    if [ -n "$name" ] && [ -s "$profile" ]; then
      echo "Profile taken under the same load right after the measurement:"
      echo
      echo '```'
      cat "$profile"
      echo '```'
    else
      echo "No CPU profile: this figure measures memory or a sequence of requests, not a load that a profile can repeat. See the raw samples in var/bench/results."
    fi
    echo
  done <"$RESULTS/unmet.tsv"
}

# kept_notes: the hand-written end of the current docs file, from the marker on.
kept_notes() {
  if [ -f "$DOCS_FILE" ] && grep -qxF "$REPORT_KEEP_MARKER" "$DOCS_FILE"; then
    sed -n "/^$(printf '%s' "$REPORT_KEEP_MARKER" | sed 's/[][\.*^$/]/\\&/g')\$/,\$p" "$DOCS_FILE"
  else
    echo "$REPORT_KEEP_MARKER"
  fi
}

write_report() {
  local cpu_model memory_gib machine measured_on skipped="none" countries notes
  cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
  memory_gib=$(awk '/^MemTotal:/ { printf "%.1f", $2 / 1048576 }' /proc/meminfo)
  machine="$(nproc) CPUs ($cpu_model), $memory_gib GiB memory, Linux $(uname -r)"
  measured_on=$(date -u '+%Y-%m-%d %H:%M UTC')
  countries=$(printf '%s, ' "${POST_COUNTRIES[@]}")
  countries=${countries%, }
  if [ "${#SKIPPED_COUNTRIES[@]}" -gt 0 ]; then skipped=$(printf '%s; ' "${SKIPPED_COUNTRIES[@]}"); skipped=${skipped%; }; fi
  local mode="full run"
  [ "$QUICK" = 1 ] && mode="quick run (--quick): short runs and small data, for smoke tests only"
  notes=$(kept_notes)

  cat >"$DOCS_FILE.tmp" <<MD
# Benchmarks

Every figure on this page is produced by a script in \`bench/\` that anyone can rerun. Figures from
one machine say little about another, so each figure is set against a baseline that the same run
measures on the same machine, and runs should be compared only on the same machine.

## Results of bench/run.sh

- Command: \`$COMMAND_LINE\`, a $mode.
- Date: $measured_on. The run took $(elapsed) s.
- Machine: $machine. Load average (1, 5 and 15 minutes) at the start: $LOAD_BEFORE; at the end:
  $LOAD_AFTER. The load generator, the host, PostgreSQL, Redis, the emulator and anything else running
  on the machine share these CPUs.
- Source: $SOURCE_DESCRIPTION. Build: Release (-O3, with symbols) in var/bench/build.
- PostgreSQL: $(paste -sd' ' "$RESULTS/postgres-settings.txt" | sed 's/ /, /g'); otherwise the settings
  of \`scripts/lib.sh\`, which \`scripts/run.sh\` uses too.
- Countries measured: $countries. Skipped: $skipped.
- Raw outputs: var/bench/results.

"Ratio" is the measured figure divided by its baseline. "met" is n/a where no target is set.

| # | figure | measured | baseline | ratio | target | met |
|---|---|---|---|---:|---|---|
$(table_rows)

### How each figure is measured

- **Baselines.** B1 and B2: \`openssl speed -seconds $SPEED_SECONDS sha256 ecdsap256\`. B3: \`pgbench -c $CONNECTIONS
  -j $(nproc) -T $THROUGHPUT_SECONDS\` running \`bench/sql/pgbench_insert.sql\` (one INSERT of the sale's JSONB body and a
  64-character SHA-256 hex hash per transaction) against the host's own PostgreSQL cluster, so the
  settings are identical. B4: \`bench/trivial_server\` (Pistache with the host's endpoint options and
  thread count, answering a fixed 200) under \`loadgen --rate max\` with $CONNECTIONS keep-alive
  connections for $THROUGHPUT_SECONDS s.
- **1. POST throughput.** \`loadgen --rate max\` (closed loop: each connection sends its next request
  when the previous response arrived) with $CONNECTIONS connections for $THROUGHPUT_SECONDS s after a 3 s warm-up. The
  bodies cycle over $CONNECTIONS locations with distinct issuers, so that sales do not wait for each
  other's chain lock, as pgbench's clients do not. The one-location row posts the same sale to a
  single location, whose chain lock makes every sale wait for the previous one. Commits are durable
  (fsync, synchronous_commit and full_page_writes on), and the background senders deliver the
  records to the emulator during the run, as in production. No Idempotency-Key is sent.
- **2. GET throughput.** \`loadgen --rate max\`, $CONNECTIONS connections, $THROUGHPUT_SECONDS s, cycling over up to
  1,000 transactions of figure 1, with the API key checked on every request.
- **3. Latency.** \`loadgen --rate $LATENCY_RATE\` (open loop: requests are due at fixed intervals and
  latency counts from the due time, so waiting behind a slow response is included) for
  $LATENCY_SECONDS s, $CONNECTIONS connections. A request without an answer after 10 s counts as failed.
  When the offered load exceeds what the host sustains, the queue grows for the whole run and the
  percentiles measure that queue.
- **4. Queue drain.** The reference backlog is 1,000,000 records (\`--drain-records 1000000\`); this
  run used $DRAIN_TOTAL in $DRAIN_CHAINS chains. Each chain belongs to its own issuer (NIF) and starts with one sale posted
  through the API. With the host stopped, \`bench/sql/drain_chain.sql\` then writes the backlog
  behind it. Each queued sale gets a transaction, a fiscal record and an outbox entry, copied from
  the API's own rows. Its record has a new invoice number and chain position, and a VERI*FACTU
  Huella computed as AEAT specifies and chained to the previous record. The emulator checks each
  record's Huella and chain, and every record it accepted without error shows as registered. The
  host is then started. The figure is the time from its start until no entry of these chains is
  pending. The host sends batches of 1,000 records (its default), and the emulator asks for 2 s
  (TiempoEsperaEnvio) between two batches of one chain.
  The host's VmRSS is read every second. "Flat" compares the RSS once a quarter of the backlog is
  sent, when the allocator has grown to the working set of a batch, with the RSS at the end.
- **5. Scale.** The reference size is 10,000,000 transactions (\`--scale-rows 10000000\`); this run
  stored $SCALE_TOTAL, in locations of $SCALE_ROWS_PER_LOCATION sales each, one location per account, spread evenly over $SCALE_DAYS
  days. \`bench/sql/scale_location.sql\` copies each location's first API sale with new ids, numbers
  and timestamps, then the tables are vacuumed and analyzed as autovacuum would have. List and fetch
  by id: loadgen at 100 requests/s, open loop, 8 connections, $SCALE_SECONDS s, on the first location's
  account. There is no audit endpoint, so the audit is what it would run: every page of
  \`GET /v1/transactions?location_id=..&from=<day>&to=<next day>&limit=100\`, fetched in turn over
  one connection, for 10 days of the location; the figure is the sum of the pages' times.
- **6. Memory.** VmRSS of the host from \`/proc/<pid>/status\`. 6a: after start-up with every
  country plugin loaded, before any request. 6b: before and after $SOAK_SECONDS s of POST at half the
  peak rate of figure 1 (the reference soak lasts an hour: \`--soak-seconds 3600\`).
- **7. Plugin ABI and hot swap.** From \`bench/hot_swap.sh\`, run by this script with
  ${HOT_SWAP_DURATION} s per load run; its own section below has the details.

### Running the suite

\`bench/run.sh\` needs Debian 12, root or sudo for missing packages, and free loopback ports 57080
to 57082, 57090, 57379, 57380, 57432, 57433 and 57443 to 57446 (\`bench/run.sh --help\` lists the
variables that move them). It builds into var/bench/build and keeps its servers' files under
var/bench. With the defaults (\`--scale-rows 1000000 --drain-records 200000 --soak-seconds 240\`)
a run on 2 cores is estimated at 20 to 25 minutes, including a build with a warm ccache. The
reference sizes (\`--scale-rows 10000000 --drain-records 1000000 --soak-seconds 3600\`) need about
40 GB of free disk and take well over an hour. \`--quick\` runs everything with short runs and small
data in about 4 minutes, as a smoke test; its figures are not comparable with a full run.

### Targets not met

$(unmet_sections)

$(cat "$RESULTS/hot-swap/section.md")

$notes
MD
  mv -f "$DOCS_FILE.tmp" "$DOCS_FILE"
  cp "$DOCS_FILE" "$RESULTS/benchmarks.md"
}
