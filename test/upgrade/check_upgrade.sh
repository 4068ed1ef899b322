#!/usr/bin/env bash
# Upgrades: every upgrade path ends in the same schema as a fresh install.
#
# For every released version A that has an update path to the default
# version (acctsec--A--B.sql scripts, as the server sees them):
# CREATE EXTENSION acctsec VERSION 'A', ALTER EXTENSION acctsec UPDATE, and
# compare the schema with a fresh install of the default version.  Always:
# the default version installs; ALTER EXTENSION acctsec UPDATE on it is a
# no-op; DROP EXTENSION leaves the database exactly as it was (no object,
# role or setting behind) and CREATE EXTENSION after it gives the same
# schema again.
#
# The schema of an extension is not in pg_dump's output (members are
# covered by CREATE EXTENSION), so the comparison detaches every member
# (ALTER EXTENSION ... DROP) in the scratch database and dumps them with
# pg_dump --schema-only, normalised; it adds what pg_dump cannot show: the
# extension's config-dump registrations, its version and its members' list.
set -u -o pipefail
PSQL=("$ACCTSEC_BIN/psql" -X -q -At -v ON_ERROR_STOP=1)
DB=acctsec_upgrade
OUT=$ACCTSEC_TMP/upgrade
mkdir -p "$OUT"
fail() { echo "FAILED: $*"; exit 1; }

# The install scripts of released versions are not shipped (as in contrib,
# a release ships the newest install script and the upgrade scripts: an
# installation of A needs only acctsec--A--B.sql).  They are kept here,
# frozen, to create an A to upgrade from; this check puts them into the
# private installation's extension directory for its run only.
EXTDIR=$("$ACCTSEC_BIN/pg_config" --sharedir)/extension
RELEASED=()
for f in "$(dirname "$0")"/released/acctsec--*.sql; do
  [ -e "$EXTDIR/$(basename "$f")" ] && fail "$(basename "$f") is installed: released install scripts are not shipped"
  cp "$f" "$EXTDIR/" || fail "copying $f"
  RELEASED+=("$EXTDIR/$(basename "$f")")
done
trap 'rm -f "${RELEASED[@]}"' EXIT
[ ${#RELEASED[@]} -gt 0 ] || fail "no released install script in $(dirname "$0")/released"

fresh_db() {
  "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" 2>/dev/null
  "${PSQL[@]}" -d postgres -c "CREATE DATABASE $DB" || fail "create database"
}

# schema FILE: the normalised schema of the installed acctsec into FILE
# (destructive: the members are detached afterwards)
schema() {
  local f=$1
  {
    echo "== extension"
    "${PSQL[@]}" -d $DB -c "SELECT extversion, extrelocatable, extnamespace::regnamespace FROM pg_extension WHERE extname = 'acctsec'"
    echo "== dumped tables (pg_extension_config_dump)"
    "${PSQL[@]}" -d $DB -c "SELECT c.oid::regclass || ' ' || coalesce(e.extcondition[x.n], '')
                            FROM pg_extension e, unnest(e.extconfig) WITH ORDINALITY AS x(oid, n)
                            JOIN pg_class c ON c.oid = x.oid
                            WHERE e.extname = 'acctsec' ORDER BY 1"
    echo "== members"
    "${PSQL[@]}" -d $DB -c "SELECT pg_describe_object(classid, objid, objsubid) FROM pg_depend
                            WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
                              AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'acctsec')
                            ORDER BY 1"
    echo "== privileges"
    "${PSQL[@]}" -d $DB -c "SELECT 'schema ' || nspname || ' ' || coalesce(nspacl::text, '-') FROM pg_namespace WHERE nspname = 'acctsec'
                            UNION ALL
                            SELECT 'function ' || oid::regprocedure || ' ' || coalesce(proacl::text, '-') FROM pg_proc WHERE pronamespace = 'acctsec'::regnamespace
                            UNION ALL
                            SELECT 'relation ' || oid::regclass || ' ' || coalesce(relacl::text, '-') FROM pg_class WHERE relnamespace = 'acctsec'::regnamespace
                            UNION ALL
                            SELECT 'type ' || oid::regtype || ' ' || coalesce(typacl::text, '-') FROM pg_type WHERE typnamespace = 'acctsec'::regnamespace
                            ORDER BY 1"
  } >"$f" || fail "describing the extension"
  "${PSQL[@]}" -d $DB >/dev/null <<'SQL' || fail "detaching the members"
SELECT format('ALTER EXTENSION acctsec DROP %s', pg_describe_object(classid, objid, objsubid))
FROM pg_depend
WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
  AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'acctsec')
  -- recent releases (17.x, 18) list array types and a table's row type as
  -- members too; they leave with their element type or table
  AND NOT (classid = 'pg_type'::regclass
           AND objid IN (SELECT typarray FROM pg_type WHERE typarray <> 0
                         UNION
                         SELECT t.oid FROM pg_type t JOIN pg_class c ON c.oid = t.typrelid
                         WHERE c.relkind <> 'c'))
ORDER BY 1 \gexec
SQL
  echo "== objects (pg_dump --schema-only)" >>"$f"
  "$ACCTSEC_BIN/pg_dump" --schema-only --no-comments $DB \
    | grep -vE '^(--|SET |SELECT pg_catalog.set_config|\\(un)?restrict )' | grep -v '^$' >>"$f" \
    || fail "pg_dump"
}

# fingerprint FILE: everything in the database and cluster an extension
# could leave behind
fingerprint() {
  {
    "$ACCTSEC_BIN/pg_dump" --schema-only $DB | grep -vE '^(--|SET |SELECT pg_catalog.set_config|\\(un)?restrict )' | grep -v '^$'
    "${PSQL[@]}" -d $DB -c "SELECT 'role ' || rolname FROM pg_roles ORDER BY 1"
    "${PSQL[@]}" -d $DB -c "SELECT 'schema ' || nspname FROM pg_namespace ORDER BY 1"
    "${PSQL[@]}" -d $DB -c "SELECT 'object ' || pg_describe_object(classid, objid, objsubid) FROM pg_depend
                            WHERE deptype = 'e' ORDER BY 1"
    "${PSQL[@]}" -d $DB -c "SELECT 'setting ' || setdatabase || ' ' || setrole || ' ' || array_to_string(setconfig, ',')
                            FROM pg_db_role_setting ORDER BY 1"
    "${PSQL[@]}" -d $DB -c "SELECT 'event trigger ' || evtname FROM pg_event_trigger ORDER BY 1"
  } >"$1"
}

DEFAULT=$("${PSQL[@]}" -d postgres -c "SELECT default_version FROM pg_available_extensions WHERE name = 'acctsec'")
[ -n "$DEFAULT" ] || fail "acctsec is not installed"
echo "default version: $DEFAULT"
echo "installed versions: $("${PSQL[@]}" -d postgres -c "SELECT string_agg(version, ' ' ORDER BY version) FROM pg_available_extension_versions WHERE name = 'acctsec'")"

# 1. a fresh install of the default version, its schema the reference
fresh_db
fingerprint "$OUT/empty.fp"
"${PSQL[@]}" -d $DB -c "CREATE EXTENSION acctsec" || fail "CREATE EXTENSION acctsec"
[ "$("${PSQL[@]}" -d $DB -c "SELECT extversion FROM pg_extension WHERE extname = 'acctsec'")" = "$DEFAULT" ] \
  || fail "CREATE EXTENSION did not install the default version"
schema "$OUT/fresh.schema"
echo "fresh install of $DEFAULT: $(grep -c '^CREATE' "$OUT/fresh.schema") CREATE statements, $(sed -n '/^== members/,/^== privileges/p' "$OUT/fresh.schema" | grep -vc '^==') members"

# 2. ALTER EXTENSION UPDATE on the default version changes nothing
fresh_db
"${PSQL[@]}" -d $DB -c "CREATE EXTENSION acctsec" || fail "CREATE EXTENSION acctsec"
notice=$("$ACCTSEC_BIN/psql" -X -q -At -d $DB -c "ALTER EXTENSION acctsec UPDATE" 2>&1) || fail "ALTER EXTENSION acctsec UPDATE: $notice"
schema "$OUT/noop.schema"
diff -u "$OUT/fresh.schema" "$OUT/noop.schema" || fail "ALTER EXTENSION acctsec UPDATE on $DEFAULT changed the schema"
echo "ALTER EXTENSION UPDATE on $DEFAULT is a no-op (${notice#NOTICE:  })"

# 3. DROP EXTENSION leaves nothing behind; CREATE again is the same schema
fresh_db
fingerprint "$OUT/before.fp"
"${PSQL[@]}" -d $DB -c "CREATE EXTENSION acctsec" -c "DROP EXTENSION acctsec" || fail "CREATE + DROP EXTENSION"
fingerprint "$OUT/after-drop.fp"
# The one thing PostgreSQL itself leaves: the schema named in the control
# file, which CREATE EXTENSION creates before the extension exists, so it is
# not a member (and a schema holding its extension cannot be made one).  It
# must be empty; DROP SCHEMA acctsec removes it.
left=$("${PSQL[@]}" -d $DB -c "SELECT (SELECT count(*) FROM pg_class WHERE relnamespace = n.oid)
                                  + (SELECT count(*) FROM pg_proc WHERE pronamespace = n.oid)
                                  + (SELECT count(*) FROM pg_type WHERE typnamespace = n.oid)
                                  + (SELECT count(*) FROM pg_operator WHERE oprnamespace = n.oid)
                                  + (SELECT count(*) FROM pg_collation WHERE collnamespace = n.oid)
                                  + (SELECT count(*) FROM pg_conversion WHERE connamespace = n.oid)
                                  + (SELECT count(*) FROM pg_ts_config WHERE cfgnamespace = n.oid)
                                  + (SELECT count(*) FROM pg_opfamily WHERE opfnamespace = n.oid)
                           FROM pg_namespace n WHERE nspname = 'acctsec'")
[ "${left:-0}" = 0 ] || fail "DROP EXTENSION left $left objects in schema acctsec"
grep -vE '^(CREATE SCHEMA acctsec;|ALTER SCHEMA acctsec OWNER TO .*;|(GRANT|REVOKE) .* ON SCHEMA acctsec .*;|schema acctsec)$' \
  "$OUT/after-drop.fp" >"$OUT/after-drop.fp.cmp"
diff -u "$OUT/before.fp" "$OUT/after-drop.fp.cmp" || fail "DROP EXTENSION left something behind"
"${PSQL[@]}" -d $DB -c "CREATE EXTENSION acctsec" || fail "CREATE EXTENSION after DROP"
schema "$OUT/recreated.schema"
diff -u "$OUT/fresh.schema" "$OUT/recreated.schema" || fail "CREATE after DROP differs from a fresh install"
echo "DROP EXTENSION leaves nothing behind but the empty schema acctsec ($(wc -l <"$OUT/before.fp") catalog lines compared); CREATE after it is identical"

# 4. every upgrade path to the default version
paths=$("${PSQL[@]}" -d postgres -c "SELECT source || ' ' || path FROM pg_extension_update_paths('acctsec')
                                      WHERE target = '$DEFAULT' AND source <> '$DEFAULT' AND path IS NOT NULL
                                      ORDER BY source")
n=0
while read -r from path; do
  [ -n "$from" ] || continue
  fresh_db
  "${PSQL[@]}" -d $DB -c "CREATE EXTENSION acctsec VERSION '$from'" || fail "CREATE EXTENSION acctsec VERSION '$from'"
  "${PSQL[@]}" -d $DB -c "ALTER EXTENSION acctsec UPDATE" || fail "ALTER EXTENSION acctsec UPDATE from $from"
  schema "$OUT/from-$from.schema"
  if ! diff -u "$OUT/fresh.schema" "$OUT/from-$from.schema"; then
    fail "upgrade from $from ($path) does not give the schema of a fresh $DEFAULT"
  fi
  echo "upgrade $path: same schema as a fresh $DEFAULT"
  n=$((n + 1))
done <<<"$paths"
echo "$n upgrade path(s) checked"

# 5. from 1.0, whose audit log is one table, with rows in it: the update
# makes that table the default partition of the partitioned log, rows and
# chain kept; the log goes on from there, partitions and purge included
[ -n "$("${PSQL[@]}" -d postgres -c "SELECT 1 FROM pg_available_extension_versions WHERE name = 'acctsec' AND version = '1.0'")" ] \
  || fail "version 1.0 is not available"
{
  fresh_db
  "${PSQL[@]}" -d $DB >/dev/null <<'SQL' || fail "writing audit rows on 1.0"
CREATE EXTENSION acctsec VERSION '1.0';
CREATE ROLE acctsec_upgrade_auditor;
GRANT SELECT ON acctsec.audit_log TO acctsec_upgrade_auditor;
CREATE TABLE up_users (id int PRIMARY KEY, email text);
SELECT acctsec.audit_table('up_users');
INSERT INTO up_users SELECT g, 'u' || g || '@example.com' FROM generate_series(1, 50) g;
UPDATE up_users SET email = 'x@example.com' WHERE id <= 10;
SELECT acctsec.login_attempt('up-user', false);
SQL
  before=$("${PSQL[@]}" -d $DB -c "SELECT ok || ' ' || checked FROM acctsec.audit_verify()")
  rows=$("${PSQL[@]}" -d $DB -c "SELECT md5(string_agg(id || ':' || encode(hash, 'hex'), ',' ORDER BY id)) FROM acctsec.audit_log")
  cp=$("${PSQL[@]}" -d $DB -c "SELECT acctsec.audit_checkpoint()")
  "${PSQL[@]}" -d $DB -c "ALTER EXTENSION acctsec UPDATE" || fail "ALTER EXTENSION acctsec UPDATE with rows"
  got=$("${PSQL[@]}" -d $DB -c "SELECT c.relkind::text || ' ' || (SELECT count(*) FROM acctsec.audit_log_default) || ' ' ||
                                        has_table_privilege('acctsec_upgrade_auditor', 'acctsec.audit_log', 'SELECT')
                                 FROM pg_class c WHERE c.oid = 'acctsec.audit_log'::regclass")
  echo "1.0 with $before rows (verify), updated: log relkind, rows in the default partition, auditor reads: $got"
  [ "$got" = "p ${before#true } true" ] || fail "the 1.0 log was not converted: $got"
  [ "$("${PSQL[@]}" -d $DB -c "SELECT ok || ' ' || checked FROM acctsec.audit_verify()")" = "$before" ] \
    || fail "the converted log does not verify as before"
  [ "$("${PSQL[@]}" -d $DB -c "SELECT md5(string_agg(id || ':' || encode(hash, 'hex'), ',' ORDER BY id)) FROM acctsec.audit_log")" = "$rows" ] \
    || fail "the converted log's rows differ"
  [ "$("${PSQL[@]}" -d $DB -v cp="$cp" <<<"SELECT ok FROM acctsec.audit_verify(ARRAY[:'cp']);")" = t ] \
    || fail "the checkpoint taken on 1.0 does not verify after the update"
  cat >"$OUT/converted.sql" <<'SQL'
SET acctsec.audit_partition_interval = '1 day';
SELECT acctsec.audit_create_partitions('2 days') > 0;
INSERT INTO up_users VALUES (100, 'after@example.com');
SELECT acctsec.audit_purge('0') > 0;
SELECT ok FROM acctsec.audit_verify();
-- left in the default partition: only the purge's own event (partitions start tomorrow, after the rows of today it holds)
SELECT count(*) FROM acctsec.audit_log_default;
SELECT ok FROM acctsec.audit_verify(ARRAY[:'cp', (SELECT statement FROM acctsec.audit_checkpoints WHERE statement ~ ' kind=purge ' ORDER BY no DESC LIMIT 1)]);
SQL
  out=$("${PSQL[@]}" -d $DB -v cp="$cp" -f "$OUT/converted.sql") || fail "using the converted log"
  echo "after the update: partitions made, written, purged, verified (with the 1.0 checkpoint and the purge's): $(echo $out)"
  [ "$(echo $out)" = "t t t 1 t" ] || fail "the converted log does not go on: $out"
  "${PSQL[@]}" -d $DB -c "DROP TABLE up_users" -c "DROP EXTENSION acctsec" -c "DROP ROLE acctsec_upgrade_auditor" \
    || fail "cleaning up after the 1.0 log"
}

"${PSQL[@]}" -d postgres -c "DROP DATABASE $DB"
echo "upgrades: ok"
