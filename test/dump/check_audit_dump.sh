#!/usr/bin/env bash
# pg_dump / pg_restore keep the audit log, its lanes and its sequence: the
# restored chain verifies, and new audit rows continue it.  The log is
# partitioned: the partitions audit_create_partitions() made (not members of
# the extension) come back as partitions, with their rows, indexes and
# append-only guard, and the writer routes new rows into them.
set -eu -o pipefail
. "$(dirname "$0")/../lib/db.sh"
SRC=acctsec_dump_src
DST=acctsec_dump_dst
fresh_db $SRC acctsec
fresh_db $DST

"${PSQL[@]}" -d $SRC <<'SQL'
-- partitions of an hour, from the current one on: the rows below go there
SET acctsec.audit_partition_interval = '1 hour';
SELECT acctsec.audit_create_partitions('3 hours') > 0;
CREATE TABLE users (id int PRIMARY KEY, email text, password_hash text, score numeric,
                    ratio float8, tags text[], meta jsonb, seen timestamptz);
SELECT acctsec.audit_table('users');
BEGIN;
SET LOCAL acctsec.actor = 'dump-check';
INSERT INTO users SELECT g, 'u' || g || '@example.com', 'hash' || g, g / 3.0, g / 7.0,
       ARRAY['a', 'b' || g], jsonb_build_object('k', g, 'nested', jsonb_build_array(1.50, 'x', NULL)),
       '2024-05-06 07:08:09+00'::timestamptz + g * interval '1 hour'
FROM generate_series(1, 200) g;
COMMIT;
UPDATE users SET email = 'changed@example.com', score = score * 2 WHERE id % 3 = 0;
DELETE FROM users WHERE id % 10 = 0;
SELECT (acctsec.login_attempt('dump-user', false, '192.0.2.9')).status;
SELECT acctsec.audit_event('app.dump_check', 'dump-user', '{"n": 1.0e3, "s": "\u00e9"}');
SQL
src_state=$("${PSQL[@]}" -d $SRC -c "SELECT ok || ' ' || checked FROM acctsec.audit_verify()")
echo "source: verify $src_state"

# the partitions, their rows and their guard, as one line
layout_q="SELECT string_agg(c.relname || ':' || pg_get_expr(c.relpartbound, c.oid) || ':' ||
                            (SELECT count(*) FROM acctsec.audit_log l WHERE l.tableoid = c.oid) || ':' ||
                            coalesce((SELECT string_agg(t.tgname || '=' || t.tgenabled::text, ',') FROM pg_trigger t
                                      WHERE t.tgrelid = c.oid AND NOT t.tgisinternal), '') || ':' ||
                            (SELECT count(*) FROM pg_index i WHERE i.indrelid = c.oid), ' ' ORDER BY c.relname)
          FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
          WHERE i.inhparent = 'acctsec.audit_log'::regclass"
src_layout=$("${PSQL[@]}" -d $SRC -c "SET TimeZone = UTC" -c "$layout_q")
echo "source partitions: $src_layout"

"$ACCTSEC_BIN/pg_dump" -Fc -f "$ACCTSEC_TMP/audit.dump" $SRC
"$ACCTSEC_BIN/pg_restore" --exit-on-error -d $DST "$ACCTSEC_TMP/audit.dump"
dst_layout=$("${PSQL[@]}" -d $DST -c "SET TimeZone = UTC" -c "$layout_q")
if [ "$dst_layout" != "$src_layout" ]; then
  echo "FAIL: the restored partitions differ: $dst_layout"; exit 1
fi
echo "restored partitions: the same"

dst_state=$("${PSQL[@]}" -d $DST -c "SELECT ok || ' ' || checked FROM acctsec.audit_verify()")
echo "restored: verify $dst_state"
same=$("${PSQL[@]}" -d $DST -c "SELECT count(*) FROM acctsec.audit_lanes WHERE last_seq > 0")
"${PSQL[@]}" -d $DST <<'SQL'
INSERT INTO users (id, email) VALUES (1000, 'after@example.com');
SELECT (acctsec.login_attempt('dump-user', false)).status;
SQL
after=$("${PSQL[@]}" -d $DST -c "SELECT ok || ' ' || checked || ' ' || (SELECT count(DISTINCT id) = count(*) FROM acctsec.audit_log) FROM acctsec.audit_verify()")
echo "restored, then written to: verify $after (lanes in use: $same)"
# the new rows went into a partition of the restored log, not the default
routed=$("${PSQL[@]}" -d $DST -c "SELECT count(*) FROM acctsec.audit_log WHERE tableoid <> 'acctsec.audit_log_default'::regclass AND id > (SELECT max(id) - 2 FROM acctsec.audit_log)")
echo "new rows in a partition of the restored log: $routed of 2"
[ "$routed" = 2 ] || { echo "FAIL: new rows not routed into the restored partitions"; exit 1; }
# the restored partitions are still append-only
if "${PSQL[@]}" -d $DST -c "DELETE FROM acctsec.audit_log WHERE tableoid <> 'acctsec.audit_log_default'::regclass" 2>/dev/null; then
  echo "FAIL: a restored partition accepts a DELETE"; exit 1
fi

for db in $SRC $DST; do "${PSQL[@]}" -d postgres -c "DROP DATABASE $db"; done
[ "$src_state" = "true 288" ] && [ "$dst_state" = "$src_state" ] && [ "$after" = "true 290 true" ]
