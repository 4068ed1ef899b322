#!/usr/bin/env bash
# Nothing in a dump works as a token.  Issue one-time tokens and sessions
# (some rotated), dump the database, and check that
#  - no token, verifier or hex spelling of a verifier appears in the dump;
#  - after a restore (custom format, errors fatal) every token still works,
#    so the dump did keep the state;
#  - no value stored in the restored tables, put together as a token in
#    every plausible way (selector + any 33 bytes of the stored hash), is
#    accepted by session_check, session_rotate, token_peek or token_consume.
set -eu -o pipefail
. "$(dirname "$0")/../lib/db.sh"
SRC=acctsec_tokens_dump_src
TOKENS=$ACCTSEC_TMP/tokens.txt
fresh_db $SRC acctsec

# the tokens exist only here, outside the database
: >"$TOKENS"
for i in $(seq 1 20); do
  "${PSQL[@]}" -d $SRC -c "SELECT 'one_time ' || acctsec.token_issue('dump_user_$i', 'password_reset')" >>"$TOKENS"
  "${PSQL[@]}" -d $SRC -c "SELECT 'session ' || token FROM acctsec.session_start('dump_user_$i', '192.0.2.$i', 'agent $i')" >>"$TOKENS"
done
# rotate five sessions: their new tokens are current, the old ones retired
for t in $(grep '^session ' "$TOKENS" | head -5 | cut -d' ' -f2); do
  "${PSQL[@]}" -d $SRC -c "SELECT 'rotated ' || acctsec.session_rotate('$t')" >>"$TOKENS"
done
echo "tokens issued: $(wc -l <"$TOKENS") ($(grep -c '^one_time ' "$TOKENS") one-time, $(grep -c '^session ' "$TOKENS") sessions, $(grep -c '^rotated ' "$TOKENS") rotated)"

"$ACCTSEC_BIN/pg_dump" -d $SRC -f "$ACCTSEC_TMP/tokens.sql"
"$ACCTSEC_BIN/pg_dump" -d $SRC -Fc -f "$ACCTSEC_TMP/tokens.dump"
grep -q 'COPY acctsec.account_sessions' "$ACCTSEC_TMP/tokens.sql" || { echo "sessions are not in the dump"; exit 1; }
grep -q 'COPY acctsec.one_time_tokens' "$ACCTSEC_TMP/tokens.sql" || { echo "one-time tokens are not in the dump"; exit 1; }
grep -q 'COPY acctsec.retired_session_tokens' "$ACCTSEC_TMP/tokens.sql" || { echo "retired tokens are not in the dump"; exit 1; }
grep -q "account_sessions_session_id_seq" "$ACCTSEC_TMP/tokens.sql" || { echo "the sequence is not in the dump"; exit 1; }

# 1. no token, verifier or its hex form in the dump
found=0
while read -r kind token; do
  verifier=${token: -44}
  hex=$(printf '%s' "$verifier" | tr -- '-_' '+/' | base64 -d | od -An -tx1 | tr -d ' \n')
  for needle in "$token" "$verifier" "$hex"; do
    if grep -qiF -- "$needle" "$ACCTSEC_TMP/tokens.sql"; then
      echo "a $kind token (or its verifier) appears in the dump"; found=1
    fi
  done
done <"$TOKENS"
[ $found -eq 0 ] || exit 1
echo "no token, verifier or hex verifier in the plain dump"

# 2. restore; every token still works
DST=acctsec_tokens_dump_dst
fresh_db $DST
"$ACCTSEC_BIN/pg_restore" --exit-on-error -d $DST "$ACCTSEC_TMP/tokens.dump"
"${PSQL[@]}" -d $DST -c "CREATE TABLE t (kind text, token text)"
"${PSQL[@]}" -d $DST -c "\\copy t FROM '$TOKENS' (FORMAT text, DELIMITER ' ')"
working=$("${PSQL[@]}" -d $DST <<'SQL'
SELECT count(*) FILTER (WHERE kind = 'one_time' AND acctsec.token_peek(token, 'password_reset') IS NOT NULL)
       || ' ' || count(*) FILTER (WHERE kind IN ('session', 'rotated')
                                  AND EXISTS (SELECT FROM acctsec.session_check(token)))
FROM t;
SQL
)
echo "after restore: one-time tokens working, sessions working: $working"
[ "$working" = "20 20" ] || { echo "expected 20 one-time tokens and 20 sessions (15 original + 5 rotated) to work"; exit 1; }
"${PSQL[@]}" -d $DST -c "DROP TABLE t"

# 3. no stored value works as a token
accepted=$("${PSQL[@]}" -d $DST <<'SQL'
CREATE FUNCTION pg_temp.b64url(b bytea) RETURNS text LANGUAGE sql
  AS $$ SELECT translate(replace(encode(b, 'base64'), E'\n', ''), '+/=', '-_') $$;
CREATE TEMP TABLE stored AS
  SELECT 'acs_' AS prefix, selector, verifier_hash FROM acctsec.account_sessions
  UNION ALL SELECT 'acs_', selector, verifier_hash FROM acctsec.retired_session_tokens
  UNION ALL SELECT 'act_', selector, verifier_hash FROM acctsec.one_time_tokens;
CREATE TEMP TABLE candidates AS
  SELECT p.prefix || pg_temp.b64url(s.selector) || pg_temp.b64url(substr(s.verifier_hash, k, 33)) AS token
  FROM stored s, generate_series(1, 5) k, (VALUES ('acs_'), ('act_')) p(prefix)
  UNION ALL
  SELECT s.prefix || pg_temp.b64url(s.selector) || pg_temp.b64url(substr(s.verifier_hash || s.verifier_hash, k, 33))
  FROM stored s, generate_series(6, 37) k;
SELECT count(*) FILTER (WHERE length(token) = 60) || ' '
    || (count(*) FILTER (WHERE EXISTS (SELECT FROM acctsec.session_check(token)))
      + count(*) FILTER (WHERE acctsec.token_peek(token, 'password_reset') IS NOT NULL)
      + count(*) FILTER (WHERE acctsec.token_consume(token, 'password_reset') IS NOT NULL)
      + count(*) FILTER (WHERE acctsec.session_rotate(token) IS NOT NULL))
FROM candidates;
SQL
)
echo "candidates built from stored values (well-formed), accepted: $accepted"
set -- $accepted
[ "$1" -gt 1000 ] && [ "$2" -eq 0 ] || { echo "a stored value worked as a token, or too few candidates"; exit 1; }
"${PSQL[@]}" -d postgres -c "DROP DATABASE $SRC" -c "DROP DATABASE $DST"
echo "ok"
