#!/usr/bin/env bash
# Independent TOTP implementations accept acctsec's enrolments and acctsec
# accepts their codes: for each algorithm, digit count and period, enrol an
# account, confirm it with oathtool's code (from the secret in the URI) and
# verify the next step's code from the Node package otpauth (from the URI
# alone, as an authenticator app scanning the QR code would).  Secrets and
# codes go through pipes and files in $ACCTSEC_TMP, never on a command line
# or into the log.
set -eu -o pipefail
command -v oathtool >/dev/null || { echo "oathtool is not installed"; exit 1; }
command -v node >/dev/null || { echo "node is not installed"; exit 1; }
HERE=$(cd "$(dirname "$0")" && pwd)
if [ ! -d "$HERE/node_modules/otpauth" ]; then
  (cd "$HERE" && npm install --no-audit --no-fund --silent >/dev/null) \
    || { echo "npm install failed"; exit 1; }
fi

. "$(dirname "$0")/../lib/db.sh"
DB=acctsec_totp_clients
fresh_db $DB acctsec
W=$ACCTSEC_TMP/totp_clients
mkdir -p "$W"; chmod 700 "$W"

# psql interpolates :'variables' only in what it reads, not in -c
sql() { local q=$1; shift; printf '%s\n' "$q" | "${PSQL[@]}" -d $DB "$@"; }

pass=0; fail=0
check() { # name expected actual
  if [ "$2" = "$3" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1 (expected $2, got $3)"; fi
}

# Start each case early in a time step, so that oathtool, otpauth and the
# server (seconds apart under load) all see the same current step.
fresh_step() {
  local p=$1 left
  left=$(( p - $(date +%s) % p ))
  if [ $left -lt $(( p / 2 )) ]; then sleep $(( left + 1 )); fi
}

for spec in "SHA1 6 30" "SHA256 8 60" "SHA512 7 30" "SHA1 8 15" "sha256 6 30"; do
  read -r alg digits period <<<"$spec"
  fresh_step "$period"
  acct="client-$alg-$digits-$period@example.com"
  # The issuer and label take percent-encoding; the account goes in as a psql
  # variable, never pasted into SQL.
  sql "SELECT uri FROM acctsec.totp_enroll(:'acct', 'Ex Corp & tests', NULL, :digits, :period, :'alg')" \
    -v acct="$acct" -v alg="$alg" -v digits="$digits" -v period="$period" >"$W/uri"
  # oathtool, from the secret parameter of the URI
  sed -n 's/.*[?&]secret=\([A-Z2-7]*\).*/\1/p' "$W/uri" >"$W/secret"
  ualg=$(sed -n 's/.*[?&]algorithm=\([A-Z0-9]*\).*/\1/p' "$W/uri")
  oathtool --totp="${ualg,,}" --digits="$digits" --time-step-size="${period}s" -b - <"$W/secret" >"$W/oath_code"
  confirmed=$(sql "SELECT acctsec.totp_confirm(:'acct', :'code')" -v acct="$acct" -v code="$(cat "$W/oath_code")")
  check "$spec: oathtool code confirms" t "$confirmed"
  # otpauth (Node), from the URI alone: current step (spent) and next step
  node "$HERE/totp_codes.mjs" <"$W/uri" >"$W/node_codes"
  same=$([ "$(head -1 "$W/node_codes")" = "$(cat "$W/oath_code")" ] && echo t || echo f)
  check "$spec: otpauth and oathtool agree on the current code" t "$same"
  replay=$(sql "SELECT acctsec.totp_verify(:'acct', :'code')" -v acct="$acct" -v code="$(head -1 "$W/node_codes")")
  check "$spec: the confirming code is not accepted again" f "$replay"
  next=$(sql "SELECT acctsec.totp_verify(:'acct', :'code')" -v acct="$acct" -v code="$(sed -n 2p "$W/node_codes")")
  check "$spec: otpauth's next-step code verifies" t "$next"
  # URI parameters as otpauth read them
  params=$(sed -n 3p "$W/node_codes")
  check "$spec: otpauth reads issuer, label and parameters" \
    "Ex Corp & tests|$acct|${alg^^}|$digits|$period" "$params"
done
rm -rf "$W"
echo "$pass checks passed, $fail failed"
"${PSQL[@]}" -d postgres -c "DROP DATABASE $DB"
[ "$fail" -eq 0 ]
