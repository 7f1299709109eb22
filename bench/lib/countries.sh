# Country entries of bench/run.sh: what the POST figures need to know about each country plugin.
# Sourced by bench/run.sh, not executed.
#
# To add a country, append its name to BENCH_COUNTRIES and define four functions:
#   country_<name>_available        exit status 0 when its plugin module is built under $BUILD_DIR
#   country_<name>_plugin_config    prints the host configuration's "plugins" entry; bench/run.sh
#                                   adds it unless scripts/lib.sh's write_host_config already
#                                   configures a plugin of that name
#   country_<name>_location INDEX   prints the body of POST /v1/locations for location INDEX (0 to
#                                   9999); distinct indexes must give distinct issuers, so that the
#                                   locations share neither a chain nor an invoice counter
#   country_<name>_sale LOCATION    prints the body of one sale for that location, on one line
# A country whose module is missing, or whose first location the host rejects, is reported as
# skipped with the reason, and the run goes on.

BENCH_COUNTRIES=(spain france)

# ---- Spain VERI*FACTU ---------------------------------------------------------------------------

country_spain_available() { compgen -G "$BUILD_DIR/plugins/spain-verifactu/1.0.0/*.so" >/dev/null; }

country_spain_plugin_config() { :; }

# spain_nif NUMBER: a Spanish NIF of the DNI form, NUMBER (8 digits) and its check letter.
spain_nif() {
  local letters=TRWAGMYFPDXBNJZSQVHLCKE
  printf '%s%s' "$1" "${letters:$(($1 % 23)):1}"
}

# The NIF ranges 8990xxxx (figures 1 to 3), 8991xxxx (queue drain) and 8992xxxx (scale) keep the
# issuers of the steps apart; INDEX picks one inside a range.
country_spain_location() {
  local index=$1 base=${2:-89900000}
  printf '{"name":"Tienda %s","country":"ES","country_config":{"system":"verifactu","nif":"%s","legal_name":"Empresa Banco %s SL","invoice_series":"B"}}' \
    "$index" "$(spain_nif $((base + index)))" "$index"
}

# The README's example sale: 2 x 2.50 + 1 x 3.00 at 10 % VAT.
country_spain_sale() {
  printf '{"location_id":"%s","timestamp":"%s","items":[{"description":"Café","quantity":2,"unit_price":2.50,"tax_rate":0.10},{"description":"Bocadillo","quantity":1,"unit_price":3.00,"tax_rate":0.10}],"total_amount":8.00,"currency":"EUR","payment_method":"card"}' \
    "$1" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
}

# ---- France NF525 --------------------------------------------------------------------------------
# From docs/france.md: a register's location needs a SIRET and a register id, and its records are
# signed in the host, so they never reach the outbox.

france_plugin_version() {
  local dir
  dir=$(compgen -G "$BUILD_DIR/plugins/france-nf525/*/*.so" | sort -V | tail -1) || return 1
  basename "$(dirname "$dir")"
}

country_france_available() { france_plugin_version >/dev/null 2>&1; }

country_france_plugin_config() {
  printf '{"name":"france-nf525","country":"FR","system":"nf525","version":"%s","config":{}}' "$(france_plugin_version)"
}

# france_siret NUMBER: a 14-digit SIRET, NUMBER (13 digits) followed by its Luhn check digit.
france_siret() {
  local digits=$1 sum=0 i digit
  for ((i = 0; i < 13; i++)); do
    digit=${digits:12-i:1}
    # The check digit will sit at the right, so the doubled digits are those at even offsets from it.
    if ((i % 2 == 0)); then
      digit=$((digit * 2))
      ((digit > 9)) && digit=$((digit - 9))
    fi
    sum=$((sum + digit))
  done
  printf '%s%s' "$digits" "$(((10 - sum % 10) % 10))"
}

country_france_location() {
  local index=$1 base=${2:-8990000000000}
  printf '{"name":"Caisse %s","country":"FR","country_config":{"system":"nf525","siret":"%s","register_id":"R%s"}}' \
    "$index" "$(france_siret $((base + index)))" "$index"
}

# A sale at the French standard rate: 2 x 2.50 + 1 x 3.00 at 20 % VAT.
country_france_sale() {
  printf '{"location_id":"%s","timestamp":"%s","items":[{"description":"Café","quantity":2,"unit_price":2.50,"tax_rate":0.20},{"description":"Sandwich","quantity":1,"unit_price":3.00,"tax_rate":0.20}],"total_amount":8.00,"currency":"EUR","payment_method":"card"}' \
    "$1" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
}
