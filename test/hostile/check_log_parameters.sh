#!/usr/bin/env bash
# Passwords sent as bound parameters stay out of the server log when the
# application role was set up by grant_app_role (hide_parameters, the
# default), and appear in it without that setting (so the check can fail).
#
# A real client sends the password as a bound parameter (npm pg, pinned in
# test/clients/package.json, extended query protocol), from two application
# roles: acctsec_logp_hidden (grant_app_role(role)) and acctsec_logp_shown
# (grant_app_role(role, hide_parameters => false)).  Both roles have
# log_min_duration_statement = 0, as a slow password hash would trip a real
# threshold, and the server logs parameters of failing statements
# (log_parameter_max_length_on_error = -1, set server-wide here), so both of
# PostgreSQL's paths into the log are open: the duration line of a statement
# that worked ("DETAIL:  parameters: $1 = '...'") and the context of one that
# failed ("CONTEXT:  unnamed portal with parameters: ...").
set -eu -o pipefail
HERE=$(cd "$(dirname "$0")/../clients" && pwd)
. "$(dirname "$0")/../lib/clients.sh"
npm_install
LOG=$ACCTSEC_TMP/server.log
DB=acctsec_log_parameters
cleanup() {
  "${PSQL[@]}" -d postgres -c "ALTER SYSTEM RESET log_parameter_max_length_on_error" -c "SELECT pg_reload_conf()" >/dev/null 2>&1 || true
  "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "DROP ROLE IF EXISTS acctsec_logp_hidden" \
    -c "DROP ROLE IF EXISTS acctsec_logp_shown" >/dev/null 2>&1 || true
}
trap cleanup EXIT
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "DROP ROLE IF EXISTS acctsec_logp_hidden" \
  -c "DROP ROLE IF EXISTS acctsec_logp_shown" -c "CREATE DATABASE $DB" \
  -c "CREATE ROLE acctsec_logp_hidden LOGIN" -c "CREATE ROLE acctsec_logp_shown LOGIN" >/dev/null 2>&1
"${PSQL[@]}" -d $DB -c "CREATE EXTENSION acctsec" \
  -c "SELECT acctsec.grant_app_role('acctsec_logp_hidden')" \
  -c "SELECT acctsec.grant_app_role('acctsec_logp_shown', hide_parameters => false)" \
  -c "ALTER ROLE acctsec_logp_hidden SET log_min_duration_statement = 0" \
  -c "ALTER ROLE acctsec_logp_shown SET log_min_duration_statement = 0" >/dev/null
"${PSQL[@]}" -d postgres -c "ALTER SYSTEM SET log_parameter_max_length_on_error = -1" -c "SELECT pg_reload_conf()" >/dev/null
sleep 1
HASH=$("${PSQL[@]}" -d $DB -c "SELECT acctsec.password_hash('not-the-password')")
tag=$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')
before=$(wc -c <"$LOG")

rc=0
ACCTSEC_DB=$DB HASH=$HASH TAG=$tag NODE_PATH="$HERE/node_modules" node - <<'JSEOF' || rc=$?
const { Client } = require('pg');
(async () => {
  console.log('pg', require('pg/package.json').version);
  for (const role of ['acctsec_logp_hidden', 'acctsec_logp_shown']) {
    const c = new Client({ host: process.env.ACCTSEC_TCP_HOST, port: process.env.PGPORT,
                           user: role, database: process.env.ACCTSEC_DB });
    await c.connect();
    const pw = (path) => `pw-${role}-${path}-${process.env.TAG}`;
    const r = await c.query('SELECT acctsec.password_verify($1, $2) AS ok', [pw('verified'), process.env.HASH]);
    console.log(role, 'password_verify (wrong password):', r.rows[0].ok);
    try {
      await c.query('SELECT acctsec.password_verify($1, $2), 1 / 0', [pw('failed'), process.env.HASH]);
      console.log('FAIL: the failing statement did not fail'); process.exit(1);
    } catch (e) {
      console.log(role, 'failing statement:', e.code);
    }
    await c.end();
  }
})().catch((e) => { console.log('FAIL:', e.message); process.exit(1); });
JSEOF
[ $rc -eq 0 ] || exit $rc
sleep 1
new=$(tail -c +$((before + 1)) "$LOG")
. "$(dirname "$0")/../lib/expect.sh"
has() { grep -cF -- "$1" <<<"$new" || true; }
expect "the hidden role's statements were logged (duration lines)" yes \
  "$(grep -q 'acctsec_logp_hidden@acctsec_log_parameters LOG:  duration:' <<<"$new" && echo yes || echo no)"
expect "without its password (statement that worked)" 0 "$(has "pw-acctsec_logp_hidden-verified-$tag")"
expect "without its password (statement that failed)" 0 "$(has "pw-acctsec_logp_hidden-failed-$tag")"
present() { [ "$(has "$1")" -ge 1 ] && echo yes || echo no; }
expect "the shown role's password appears (statement that worked)" yes "$(present "pw-acctsec_logp_shown-verified-$tag")"
expect "the shown role's password appears (statement that failed)" yes "$(present "pw-acctsec_logp_shown-failed-$tag")"
grep -F -- "pw-acctsec_logp_shown-" <<<"$new" | sed 's/^/server log: /' | head -2
exit $fail
