#!/usr/bin/env bash
# Benchmark: session_check throughput with pgbench (8 clients, 100,000 live
# sessions), in the same run, against
#  - the PL/pgSQL peer applications write: look up sha256(token) with
#    pgcrypto's digest(), check expiry and idle time, UPDATE last_seen_at on
#    every request;
#  - (for reference) session_check when no session is due for its
#    last_seen_at write, i.e. the cost of the check itself;
#  - a bare indexed lookup of a precomputed token hash (no hashing, no
#    expiry logic, no write): the floor.
# Every variant reads its token from the same table by a random key, so the
# three scripts differ only in the check itself.  Run twice: with the
# harness's settings (fsync and synchronous_commit off) and with production
# durability (both on), where the peer's per-request write costs a WAL flush
# at every commit.  session_check runs in the steady state of its touch (see
# steady_state) and the share of checks that wrote is printed.
# a key is configured (acctsec.secret_key_file), as docs/keys.md recommends
# (without one, the database key is read once per transaction; the key file
# is looked at, one stat(), once per transaction, and read when it changed).
# Each setting runs BENCH_ROUNDS rounds (default 3) of every variant; the
# ratios are the medians of the rounds' own ratios.
# Prints transactions per second and the ratios.  Not a test.
set -eu -o pipefail
. "$(dirname "$0")/../lib/bench.sh"
DB=acctsec_bench_sessions
N=${BENCH_SESSIONS:-100000}
SECS=${BENCH_SECONDS:-10}
CLIENTS=${BENCH_CLIENTS:-8}
ROUNDS=${BENCH_ROUNDS:-3}
fresh_db $DB
KEYFILE=$("${PSQL[@]}" -d postgres -c "SHOW data_directory")/acctsec_bench_sessions.key
printf '%s\n' "LOAD 'acctsec';" "COPY (SELECT :'k') TO :'f';" "ALTER SYSTEM SET acctsec.secret_key_file = :'f';" "SELECT pg_reload_conf();" \
  | "${PSQL[@]}" -d postgres -v k="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" -v f="$KEYFILE" >/dev/null
chmod 0600 "$KEYFILE"   # COPY makes it 0644
sleep 1
"${PSQL[@]}" -d $DB <<SQL
CREATE EXTENSION acctsec;
CREATE EXTENSION pgcrypto;
-- what applications do: a sessions table keyed by sha256(token)
CREATE TABLE app_sessions (
    id           bigserial PRIMARY KEY,
    account      text NOT NULL,
    token_hash   bytea NOT NULL UNIQUE,
    started_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL DEFAULT now() + interval '30 days'
);
CREATE FUNCTION peer_session_check(p_token text)
RETURNS TABLE(account text, session_id bigint, expires_at timestamptz)
LANGUAGE plpgsql AS \$\$
DECLARE
    s app_sessions;
BEGIN
    SELECT * INTO s FROM app_sessions WHERE token_hash = digest(p_token, 'sha256');
    IF NOT FOUND OR s.expires_at <= now() OR s.last_seen_at <= now() - interval '7 days' THEN
        RETURN;
    END IF;
    UPDATE app_sessions SET last_seen_at = now() WHERE id = s.id;
    RETURN QUERY SELECT s.account, s.id, s.expires_at;
END \$\$;
-- the tokens, as clients would hold them
CREATE TABLE bench_tokens (i int PRIMARY KEY, acctsec_token text, peer_token text, peer_hash bytea);
INSERT INTO bench_tokens (i, acctsec_token)
SELECT i, (acctsec.session_start('bench_user_' || (i % 20000), '192.0.2.1', 'bench')).token
FROM generate_series(1, $N) i;
UPDATE bench_tokens SET peer_token = encode(gen_random_bytes(32), 'hex');
UPDATE bench_tokens SET peer_hash = digest(peer_token, 'sha256');
INSERT INTO app_sessions (account, token_hash) SELECT 'bench_user_' || (i % 20000), peer_hash FROM bench_tokens;
VACUUM ANALYZE;
SELECT 'sessions: acctsec ' || (SELECT count(*) FROM acctsec.account_sessions)
    || ', peer ' || (SELECT count(*) FROM app_sessions);
SQL
# every variant answers for a real token
"${PSQL[@]}" -d $DB -c "SELECT 'one check each: acctsec ' || (SELECT count(*) FROM acctsec.session_check((SELECT acctsec_token FROM bench_tokens WHERE i = 7)))
  || ', peer ' || (SELECT count(*) FROM peer_session_check((SELECT peer_token FROM bench_tokens WHERE i = 7)))
  || ', bare ' || (SELECT count(*) FROM app_sessions WHERE token_hash = (SELECT peer_hash FROM bench_tokens WHERE i = 7))"

S=$ACCTSEC_TMP/bench_sessions
mkdir -p "$S"
cat >"$S/acctsec.sql" <<PGB
\set i random(1, $N)
SELECT * FROM acctsec.session_check((SELECT acctsec_token FROM bench_tokens WHERE i = :i));
PGB
cat >"$S/peer.sql" <<PGB
\set i random(1, $N)
SELECT * FROM peer_session_check((SELECT peer_token FROM bench_tokens WHERE i = :i));
PGB
cat >"$S/bare.sql" <<PGB
\set i random(1, $N)
SELECT account, id, expires_at FROM app_sessions WHERE token_hash = (SELECT peer_hash FROM bench_tokens WHERE i = :i);
PGB

tps() {
  "$ACCTSEC_BIN/pgbench" -n -M prepared -c "$CLIENTS" -j 2 -T "$SECS" -f "$S/$1.sql" $DB 2>&1 \
    | sed -n 's/^tps = \([0-9.]*\) .*/\1/p'
}
# Steady state for session_check's touch: each session's last write spread
# evenly over the last touch interval (60 s), as after minutes of traffic, so
# that in any window 1/60 of the sessions per second fall due for a write.
steady_state() {
  "${PSQL[@]}" -d $DB -c "UPDATE acctsec.account_sessions
                           SET last_seen_at = now() - random() * interval '60 seconds'" \
    -c "VACUUM acctsec.account_sessions" -c "SELECT pg_stat_force_next_flush()" >/dev/null
}
updates() {
  sleep 1
  "${PSQL[@]}" -d $DB -c "SELECT n_tup_upd FROM pg_stat_user_tables WHERE relid = 'acctsec.account_sessions'::regclass"
}
# Rounds: each runs every variant once, acctsec and the bare lookup next to
# each other (their order swapped every round), so that a burst of load from
# elsewhere hits the pair alike; the ratios printed are the medians of the
# rounds' own ratios (the figures to read on a shared machine), beside the
# best round of each variant.
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
run() {
  local label=$1 round a p b r u0 u1 wrote=0 checks=0
  tps acctsec >/dev/null   # warm-up
  : >"$S/rounds"
  for round in $(seq 1 "$ROUNDS"); do
    if [ $((round % 2)) -eq 0 ]; then b=$(tps bare); fi
    steady_state
    u0=$(updates); a=$(tps acctsec); u1=$(updates)
    if [ $((round % 2)) -eq 1 ]; then b=$(tps bare); fi
    p=$(tps peer)
    # and the check alone: every session just seen, no write due in the window
    "${PSQL[@]}" -d $DB -c "UPDATE acctsec.account_sessions SET last_seen_at = now()" \
      -c "VACUUM acctsec.account_sessions" >/dev/null
    r=$(tps acctsec)
    echo "$a $p $b $r" >>"$S/rounds"
    wrote=$((wrote + u1 - u0)); checks=$(awk -v c="$checks" -v a="$a" -v s="$SECS" 'BEGIN { printf "%.0f", c + a * s }')
    echo "  round $round: acctsec $a, peer $p, bare $b, no write due $r tps"
  done
  local best ap ab rp rb
  best=$(awk '{ for (i = 1; i <= 4; i++) if ($i > m[i]) m[i] = $i } END { print m[1], m[2], m[3], m[4] }' "$S/rounds")
  ap=$(awk '{ print $1 / $2 }' "$S/rounds" | median); ab=$(awk '{ print $1 / $3 }' "$S/rounds" | median)
  rp=$(awk '{ print $4 / $2 }' "$S/rounds" | median); rb=$(awk '{ print $4 / $3 }' "$S/rounds" | median)
  awk -v l="$label" -v best="$best" -v c="$CLIENTS" -v n="$N" -v s="$SECS" -v k="$ROUNDS" \
      -v w="$wrote" -v t="$checks" -v ap="$ap" -v ab="$ab" -v rp="$rp" -v rb="$rb" 'BEGIN {
    split(best, m, " ");
    printf "%s: %d clients, %d sessions, %d rounds of %d s per variant\n", l, c, n, k, s;
    printf "  acctsec.session_check            %10.0f tps  (best round; %.1f%% of checks wrote last_seen_at)\n", m[1], 100 * w / t;
    printf "  PL/pgSQL peer (digest, UPDATE)   %10.0f tps\n", m[2];
    printf "  bare indexed lookup of the hash  %10.0f tps\n", m[3];
    printf "  acctsec.session_check, no write due %7.0f tps\n", m[4];
    printf "  acctsec / peer: %.2fx (target >= 3.5x)   acctsec / bare: %.0f%% (target >= 85%%)   (medians of the rounds)\n", ap, 100 * ab;
    printf "  with no write due: acctsec / peer: %.2fx   acctsec / bare: %.0f%%\n", rp, 100 * rb;
  }'
}
run "harness settings (fsync off, synchronous_commit off)"
"${PSQL[@]}" -d postgres -c "ALTER SYSTEM SET fsync = on" -c "ALTER SYSTEM SET synchronous_commit = on" \
  -c "SELECT pg_reload_conf()" >/dev/null
sleep 1
run "production durability (fsync on, synchronous_commit on)"
"${PSQL[@]}" -d postgres -c "LOAD 'acctsec'" -c "ALTER SYSTEM RESET fsync" -c "ALTER SYSTEM RESET synchronous_commit" \
  -c "ALTER SYSTEM RESET acctsec.secret_key_file" -c "SELECT pg_reload_conf()" >/dev/null
"${PSQL[@]}" -d postgres -c "DROP DATABASE $DB"
