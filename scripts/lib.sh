# Shared set-up steps for run.sh and test.sh: packages, build, PostgreSQL, Redis, certificates and
# the AEAT emulator. Every server listens on loopback only and keeps its files under $VAR_DIR.
# Sourced, not executed.

ROOT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${FISCAL_BUILD_DIR:-$ROOT_DIR/build}
PG_BIN=${FISCAL_PG_BIN:-/usr/lib/postgresql/15/bin}

# Debian 12 packages the build, the servers and the tests need.
PACKAGES=(build-essential cmake ninja-build ccache pkg-config git curl openssl ca-certificates
  libpistache-dev libboost-dev libsoci-dev libpq-dev libhiredis-dev libssl-dev rapidjson-dev
  libxml2-dev libxml2-utils libcurl4-openssl-dev libqrencode-dev libgtest-dev libgmock-dev
  libbenchmark-dev libarchive-dev postgresql redis-server valgrind abigail-tools binutils jq python3)

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    die "installing packages needs root; run as root or install sudo"; fi
}

install_packages() {
  local missing=()
  for package in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing Debian packages: ${missing[*]}"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

build_project() {
  say "building into $BUILD_DIR"
  cmake -S "$ROOT_DIR" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="${FISCAL_BUILD_TYPE:-RelWithDebInfo}" >/dev/null
  cmake --build "$BUILD_DIR" -j "$(nproc)"
}

# PostgreSQL refuses to run as root, so as root the cluster belongs to the postgres user.
pg_run() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_postgres() {
  local data="$VAR_DIR/pg/data"
  mkdir -p "$VAR_DIR/pg/run"
  [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$VAR_DIR/pg"
  if [ ! -f "$data/PG_VERSION" ]; then
    say "creating a PostgreSQL cluster in $data"
    pg_run "$PG_BIN/initdb" -D "$data" -U fiscal --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  if ! pg_run "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    say "starting PostgreSQL on 127.0.0.1:$PG_PORT"
    # fsync, synchronous_commit and full_page_writes stay on: acknowledged sales must survive a crash.
    pg_run "$PG_BIN/pg_ctl" -D "$data" -l "$VAR_DIR/pg/postgres.log" -w -t 60 start \
      -o "-c listen_addresses=127.0.0.1 -c port=$PG_PORT -c unix_socket_directories=$VAR_DIR/pg/run -c max_connections=300" \
      >/dev/null || die "PostgreSQL did not start; see $VAR_DIR/pg/postgres.log"
  fi
  psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = 'fiscal'" | grep -q 1 ||
    psql_admin -qc "CREATE DATABASE fiscal" >/dev/null
}

psql_admin() { psql -X -h 127.0.0.1 -p "$PG_PORT" -U fiscal -d postgres "$@"; }

stop_postgres() {
  [ -f "$VAR_DIR/pg/data/PG_VERSION" ] || return 0
  pg_run "$PG_BIN/pg_ctl" -D "$VAR_DIR/pg/data" -m fast -w stop >/dev/null 2>&1 || true
}

start_redis() {
  mkdir -p "$VAR_DIR/redis"
  if [ -f "$VAR_DIR/redis/redis.pid" ] && kill -0 "$(cat "$VAR_DIR/redis/redis.pid")" 2>/dev/null; then return 0; fi
  say "starting Redis on 127.0.0.1:$REDIS_PORT"
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --daemonize yes --dir "$VAR_DIR/redis" \
    --pidfile "$VAR_DIR/redis/redis.pid" --logfile "$VAR_DIR/redis/redis.log" --save "" --appendonly no ||
    die "Redis did not start; see $VAR_DIR/redis/redis.log"
  for _ in $(seq 50); do redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1 && return 0; sleep 0.1; done
  die "Redis does not respond on port $REDIS_PORT; see $VAR_DIR/redis/redis.log"
}

stop_redis() {
  local pidfile="$VAR_DIR/redis/redis.pid"
  [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
}

make_certificates() {
  bash "$ROOT_DIR/scripts/gen-pki.sh" "$VAR_DIR/dev/pki" >/dev/null
}

# start_emulator LOGFILE: the AEAT emulator on $EMULATOR_PORT (mutual TLS) and $EMULATOR_CONTROL_PORT.
start_emulator() {
  local pki="$VAR_DIR/dev/pki"
  say "starting the AEAT emulator on https://127.0.0.1:$EMULATOR_PORT"
  "$BUILD_DIR/sandbox/aeat-emulator/aeat-emulator" --listen 127.0.0.1 --port "$EMULATOR_PORT" \
    --control-port "$EMULATOR_CONTROL_PORT" --cert "$pki/server.pem" --key "$pki/server-key.pem" --ca "$pki/ca.pem" \
    --xsd-dir "$ROOT_DIR/plugins/spain/xsd" --wait-seconds "${EMULATOR_WAIT_SECONDS:-2}" 2>>"$1" &
  EMULATOR_PID=$!
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$EMULATOR_CONTROL_PORT/control/health" >/dev/null 2>&1 && return 0
    kill -0 "$EMULATOR_PID" 2>/dev/null || die "the emulator exited; see $1"
    sleep 0.1
  done
  die "the emulator does not respond on port $EMULATOR_CONTROL_PORT; see $1"
}

# write_host_config FILE PORT: the host configuration for this set-up.
write_host_config() {
  local pki="$VAR_DIR/dev/pki"
  cat >"$1" <<JSON
{
  "http": {"address": "127.0.0.1", "port": $2, "threads": 8},
  "database": {"connection": "host=127.0.0.1 port=$PG_PORT dbname=fiscal user=fiscal", "pool_size": 8},
  "redis": {"host": "127.0.0.1", "port": $REDIS_PORT},
  "sql_dir": "$ROOT_DIR/sql",
  "plugin_dir": "$BUILD_DIR/plugins",
  "plugin_cache_dir": "$VAR_DIR/plugin-cache",
  "submission": {"workers": 2, "poll_interval_ms": 200},
  "plugins": [
    {
      "name": "spain-verifactu", "country": "ES", "system": "verifactu",
      "path": "$BUILD_DIR/plugins/spain-verifactu/1.0.0/libfiscal_spain_verifactu.so",
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
    },
    {
      "name": "france-nf525", "country": "FR", "system": "nf525",
      "path": "$BUILD_DIR/plugins/france-nf525/1.0.0/libfiscal_france_nf525.so"
    }
  ],
  "signing_keys": {"directory": "$VAR_DIR/keys"}
}
JSON
}
