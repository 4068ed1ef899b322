#!/usr/bin/env bash
# updated_at survives pg_dump and restore, plain and custom format, with
# errors fatal: tables tracked automatically, tracked on an explicit column,
# and opted out all come back exactly as they were (the restore's CREATE
# TABLE attaches the trigger, the dump's own CREATE TRIGGER replaces it, the
# restored opt-out row detaches it), and restored rows keep their values.
# Also: a table created by another extension's install script is left alone.
set -eu -o pipefail
. "$(dirname "$0")/../lib/db.sh"
SRC=acctsec_ua_dump_src
fresh_db $SRC acctsec
"${PSQL[@]}" -d $SRC <<'SQL'
CREATE TABLE auto_t (id int PRIMARY KEY, updated_at timestamptz);
CREATE TABLE explicit_t (id int PRIMARY KEY, modified timestamp(3), updated_at timestamptz);
SELECT acctsec.track_updated_at('explicit_t', 'modified');
CREATE TABLE optout_t (id int PRIMARY KEY, updated_at timestamptz);
SELECT acctsec.untrack_updated_at('optout_t');
CREATE TABLE parts (id int, updated_at timestamptz) PARTITION BY LIST (id);
CREATE TABLE parts_1 PARTITION OF parts FOR VALUES IN (1);
INSERT INTO auto_t VALUES (1, '2000-01-01+00');
INSERT INTO explicit_t VALUES (1, '2000-01-01', '2000-01-01+00');
INSERT INTO optout_t VALUES (1, NULL);
INSERT INTO parts VALUES (1, '2000-01-01+00');
SQL
state() {  # every acctsec trigger and opt-out, and the data
  "${PSQL[@]}" -d "$1" <<'SQL'
SELECT 'trigger ' || tgrelid::regclass || ' ' || pg_get_triggerdef(oid)
FROM pg_trigger WHERE tgname = 'acctsec_updated_at' ORDER BY tgrelid::regclass::text;
SELECT 'optout ' || tbl FROM acctsec.updated_at_optout ORDER BY 1;
SELECT 'row auto_t ' || updated_at FROM auto_t;
SELECT 'row explicit_t ' || modified || ' ' || updated_at FROM explicit_t;
SELECT 'row optout_t ' || coalesce(updated_at::text, 'NULL') FROM optout_t;
SELECT 'row parts ' || updated_at FROM parts;
SQL
}
want=$(state $SRC)
echo "$want"
rc=0
for fmt in plain custom; do
  DST=acctsec_ua_dump_$fmt
  fresh_db $DST
  if [ $fmt = plain ]; then
    "$ACCTSEC_BIN/pg_dump" -d $SRC -f "$ACCTSEC_TMP/ua.sql"
    "${PSQL[@]}" -d $DST -f "$ACCTSEC_TMP/ua.sql" >/dev/null
  else
    "$ACCTSEC_BIN/pg_dump" -Fc -d $SRC -f "$ACCTSEC_TMP/ua.dump"
    "$ACCTSEC_BIN/pg_restore" --exit-on-error -d $DST "$ACCTSEC_TMP/ua.dump"
  fi
  got=$(state $DST)
  if [ "$got" = "$want" ]; then
    echo "$fmt dump: restored the same"
  else
    echo "$fmt dump: differs:"; diff <(echo "$want") <(echo "$got") || true; rc=1
  fi
  "${PSQL[@]}" -d postgres -c "DROP DATABASE $DST"
done

# Another extension's install script creates a table with updated_at: not ours.
EXTDIR=$("$ACCTSEC_BIN/pg_config" --sharedir)/extension
cat >"$EXTDIR/acctsec_ua_probe.control" <<'CTL'
comment = 'acctsec test: an extension whose script creates a table with updated_at'
default_version = '1.0'
relocatable = true
CTL
cat >"$EXTDIR/acctsec_ua_probe--1.0.sql" <<'SQL'
CREATE TABLE probe_settings (k text PRIMARY KEY, updated_at timestamptz);
SQL
n=$("${PSQL[@]}" -d $SRC -c "CREATE EXTENSION acctsec_ua_probe" \
      -c "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'probe_settings'::regclass")
echo "triggers on another extension's table: $n"
[ "$n" = 0 ] || rc=1
rm -f "$EXTDIR/acctsec_ua_probe.control" "$EXTDIR/acctsec_ua_probe--1.0.sql"
"${PSQL[@]}" -d postgres -c "DROP DATABASE $SRC"
exit $rc
