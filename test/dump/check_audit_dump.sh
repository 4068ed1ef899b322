#!/usr/bin/env bash
# pg_dump / pg_restore keep the audit log, its lanes and its sequence: the
# restored chain verifies, and new audit rows continue it.
set -eu -o pipefail
. "$(dirname "$0")/../lib/db.sh"
SRC=acctsec_dump_src
DST=acctsec_dump_dst
fresh_db $SRC acctsec
fresh_db $DST

"${PSQL[@]}" -d $SRC <<'SQL'
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

"$ACCTSEC_BIN/pg_dump" -Fc -f "$ACCTSEC_TMP/audit.dump" $SRC
"$ACCTSEC_BIN/pg_restore" -d $DST "$ACCTSEC_TMP/audit.dump"

dst_state=$("${PSQL[@]}" -d $DST -c "SELECT ok || ' ' || checked FROM acctsec.audit_verify()")
echo "restored: verify $dst_state"
same=$("${PSQL[@]}" -d $DST -c "SELECT count(*) FROM acctsec.audit_lanes WHERE last_seq > 0")
"${PSQL[@]}" -d $DST <<'SQL'
INSERT INTO users (id, email) VALUES (1000, 'after@example.com');
SELECT (acctsec.login_attempt('dump-user', false)).status;
SQL
after=$("${PSQL[@]}" -d $DST -c "SELECT ok || ' ' || checked || ' ' || (SELECT count(DISTINCT id) = count(*) FROM acctsec.audit_log) FROM acctsec.audit_verify()")
echo "restored, then written to: verify $after (lanes in use: $same)"

for db in $SRC $DST; do "${PSQL[@]}" -d postgres -c "DROP DATABASE $db"; done
[ "$src_state" = "true 288" ] && [ "$dst_state" = "$src_state" ] && [ "$after" = "true 290 true" ]
