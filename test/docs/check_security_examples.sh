#!/usr/bin/env bash
# The SQL examples of docs/security.md run as written, in order, in a fresh
# database, and say what the page says: the application's trigger on the
# linked table runs as the table's owner (never as the superuser running
# the extension), and deleting and inserting a locked user's row again
# leaves the account locked.
set -u -o pipefail
PSQL=("$ACCTSEC_BIN/psql" -X)
QUIET=(env PGOPTIONS="-c client_min_messages=warning" "${PSQL[@]}" -q)
DB=acctsec_security_doc
DOC=$ACCTSEC_REPO/docs/security.md
OUT=$ACCTSEC_RESULTS/security_doc.out
ROLE=webapp

"${QUIET[@]}" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null || exit 1
cleanup() {
  "${QUIET[@]}" -c "DROP DATABASE IF EXISTS $DB" -c "DROP ROLE IF EXISTS $ROLE" >/dev/null 2>&1
}
trap cleanup EXIT
"${QUIET[@]}" -c "DROP ROLE IF EXISTS $ROLE" >/dev/null 2>&1

# every ```sql block, in order, after the extension is created
{
  echo 'CREATE EXTENSION acctsec;'
  awk '/^```sql$/ {on = 1; next} /^```$/ {on = 0; next} on' "$DOC"
} > "$ACCTSEC_TMP/security_doc.sql"
"${PSQL[@]}" -d "$DB" -v ON_ERROR_STOP=1 -f "$ACCTSEC_TMP/security_doc.sql" >"$OUT" 2>&1
rc=$?
fail=0
if [ $rc -ne 0 ]; then
  echo "the examples stopped with an error:"; tail -5 "$OUT"; fail=1
fi
as_owner=$(grep -c 'NOTICE:  app.users trigger runs as webapp' "$OUT")
as_other=$(grep 'NOTICE:  app.users trigger runs as' "$OUT" | grep -vc 'as webapp$')
[ "$as_owner" -ge 2 ] || { echo "the trigger ran as webapp $as_owner times, expected at least 2"; fail=1; }
[ "$as_other" -eq 0 ] || { echo "the trigger ran as another role $as_other times"; fail=1; }
# the login after the delete and re-insert is refused: locked
after=$(grep -n '^INSERT 0 1$' "$OUT" | tail -1 | cut -d: -f1)
[ -n "$after" ] && [ "$(sed -n "$((after + 3))p" "$OUT")" = " locked" ] \
  || { echo "the login after deleting and inserting the row again is not refused as locked"; fail=1; }
grep -q '"lock_kept_until"' "$OUT" || { echo "no account.forgotten event with lock_kept_until"; fail=1; }
[ $fail -eq 0 ] && echo "docs/security.md: every example ran; the trigger ran as the table's owner $as_owner times"
exit $fail
