#!/usr/bin/env bash
# The SQL examples of docs/passwords.md run as written: every ```sql block,
# in order, in a fresh database with the extension, stopping at the first
# error; and the answers the page promises hold (each framework hash
# verifies, the refusals are false, the Django rehash keeps Django's
# wrapping).
set -eu -o pipefail
REPO=${ACCTSEC_REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
PSQL=("$ACCTSEC_BIN/psql" -X -q -At -v ON_ERROR_STOP=1)
DB=acctsec_docs_passwords
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
"${PSQL[@]}" -d $DB -c "CREATE EXTENSION acctsec"
sql=$(awk '/^```sql$/ {on = 1; next} /^```$/ {on = 0} on' "$REPO/docs/passwords.md")
[ -n "$sql" ] || { echo "no SQL examples in docs/passwords.md"; exit 1; }
out=$(printf '%s\n' "$sql" | "${PSQL[@]}" -d $DB -F ' ' 2>&1)
rc=0
expect() { grep -qxF -- "$1" <<<"$out" || { echo "FAIL: expected the line '$1'"; rc=1; }; }
expect "t"                                   # the new hash is Argon2id
for f in "Django PBKDF2" "Werkzeug PBKDF2" "Argon2" "WordPress bcrypt" "phpass" "ASP.NET Core Identity" "Spring bcrypt"; do
  expect "$f t f"
done
expect "Django PBKDF2 2"
expect " 1"                                  # the unknown {SSHA} hash
expect "f f f"                               # unknown, malformed, over cap
expect "f t"                                 # needs_rehash: PHP default, Django PBKDF2
expect "ok"
[ $rc -eq 0 ] && echo "docs/passwords.md: $(grep -c '^```sql$' "$REPO/docs/passwords.md") SQL examples ran as written"
[ $rc -eq 0 ] || printf '%s\n' "$out"
"${PSQL[@]}" -d postgres -c "DROP DATABASE $DB"
exit $rc
