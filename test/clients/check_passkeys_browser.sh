#!/usr/bin/env bash
# Passkeys in a real browser: Debian's Chromium, headless, driven by
# playwright-core (npm, pinned in test/clients/webauthn; never a downloaded
# browser) with the DevTools virtual authenticator, runs the browser code of
# docs/passkeys.md on a page that a Node server (node's http, npm pg) serves
# on loopback and backs with acctsec, as an application role.  Register, log
# in, a replayed login, a page on an origin not allowed, a cloned
# authenticator's counter; then every response, real and mutated, verified by
# both acctsec and @simplewebauthn/server, which must agree (the table in
# the log).  Runs on the host only (HOST_ONLY_CHECKS in test/run).
set -eu -o pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
command -v node >/dev/null || { echo "node is not installed"; exit 1; }
[ -x /usr/bin/chromium ] || { echo "/usr/bin/chromium is not installed (Debian's chromium)"; exit 1; }
(cd "$HERE/webauthn" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
PSQL=("$ACCTSEC_BIN/psql" -X -q -At -v ON_ERROR_STOP=1)
export PGOPTIONS="-c client_min_messages=warning"
DB=acctsec_passkeys_browser
ROLES="acctsec_browser_app acctsec_browser_strict"
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" \
  -c "DROP ROLE IF EXISTS acctsec_browser_app" -c "DROP ROLE IF EXISTS acctsec_browser_strict" \
  -c "CREATE DATABASE $DB" \
  -c "CREATE ROLE acctsec_browser_app LOGIN" -c "CREATE ROLE acctsec_browser_strict LOGIN"
# acctsec.passkey_origins is set by the check once its two ports are known;
# the second role sees user verification required, for the cases that need it
"${PSQL[@]}" -d $DB -c "CREATE EXTENSION acctsec" \
  -c "SELECT acctsec.grant_app_role('acctsec_browser_app')" \
  -c "SELECT acctsec.grant_app_role('acctsec_browser_strict')" \
  -c "ALTER DATABASE $DB SET acctsec.passkey_rp_id = 'localhost'" \
  -c "ALTER DATABASE $DB SET acctsec.passkey_rp_name = 'acctsec check'" \
  -c "ALTER DATABASE $DB SET acctsec.max_failed_attempts = 1000" \
  -c "ALTER ROLE acctsec_browser_strict IN DATABASE $DB SET acctsec.passkey_user_verification = 'required'"

PROFILE=$(mktemp -d "${ACCTSEC_TMP:-/tmp}/chromium-profile.XXXXXX")
rc=0
ACCTSEC_DB=$DB ACCTSEC_CHROMIUM_PROFILE=$PROFILE node "$HERE/webauthn/browser_check.js" || rc=$?
rm -rf "$PROFILE"
"${PSQL[@]}" -d postgres -c "DROP DATABASE $DB" \
  -c "DROP ROLE acctsec_browser_app" -c "DROP ROLE acctsec_browser_strict"
exit $rc
