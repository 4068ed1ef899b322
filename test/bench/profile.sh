#!/usr/bin/env bash
# Benchmark by instruction count: the hot paths (login_attempt, the audit
# trigger, session_check) against the PL/pgSQL peers of login_attempt.sh,
# audit.sh and sessions.sh, each run in one backend of a dedicated cluster
# whose postmaster runs under valgrind --tool=callgrind.  Instructions do not
# depend on the load of the machine, so the ratios hold on a shared one.
#
# The peers and tables are those of the other benches, taken from their
# scripts (their first heredoc), so the two cannot drift apart.  One psql
# session runs every path in turn: a warm-up of W calls (plans saved,
# PL/pgSQL compiled, caches filled), then `SELECT pg_sleep(0)`, M calls, and
# `SELECT pg_sleep(0)` again.  callgrind runs with --dump-before=pg_sleep:
# each marker dumps and zeroes the counters, so the dump between two markers
# holds the M calls alone, not the backend's start-up nor the warm-up; the
# cost of a marker itself (an empty segment) is subtracted.  Each call is a
# statement of its own (its own transaction, commit and WAL flush included,
# synchronous_commit on), EXECUTE of a prepared statement as pgbench -M
# prepared would send it.
#
#   BENCH_PROFILE_CALLS   M, calls measured per path (default 100)
#   BENCH_PROFILE_ONLY    a regex over path names: run only those
#   BENCH_PROFILE_PARTITIONS  an interval: the audit log gets hourly partitions
#                         from now on, that far ahead, before the fill, so
#                         that audit rows go to a partition among many (the
#                         default: every row in the default partition)
#   BENCH_PROFILE_KEEP    a directory: keep the callgrind files there, named
#                         after the paths, for callgrind_annotate
#   BENCH_PROFILE_KEYFILE 0: no key file (the default settings: tokens keyed
#                         by the database key, read once per transaction)
#   BENCH_PROFILE_SCALE   small (the default: 10,000 accounts, the logs
#                         holding what the set-up writes: 104,000 audit
#                         rows, no login attempts) or large: 1,000,000 accounts,
#                         10,000,000 login attempts and 10,000,000 audit rows
#                         in acctsec's tables and as many in the peers', filled
#                         before the set-up's VACUUM ANALYZE (see "the large
#                         scale" below and docs/benchmarks.md, 2026-12-03);
#                         the set-up then takes about 20 minutes on 2 cores
#                         and 23 GB of disk under $ACCTSEC_TMP
#   BENCH_PROFILE_SESSIONS  the sessions made (default 100,000; at the large
#                         scale 1,000,000)
# Not a test: it prints instructions per call and ratios.
set -eu -o pipefail; [ -n "${BENCH_TRACE:-}" ] && set -x
. "$(dirname "$0")/../lib/cluster.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
M=${BENCH_PROFILE_CALLS:-100}
W=$(( M / 10 > 10 ? M / 10 : 10 ))
ONLY=${BENCH_PROFILE_ONLY:-.}
case ${BENCH_PROFILE_SCALE:-small} in
  small) SCALE=small; ACCOUNTS=10000; ACCOUNTS_SHOWN=10,000 ;;
  large) SCALE=large; ACCOUNTS=1000000; ACCOUNTS_SHOWN=1,000,000 ;;
  *) echo "profile: BENCH_PROFILE_SCALE is small or large"; exit 1 ;;
esac
SESSIONS=${BENCH_PROFILE_SESSIONS:-$([ $SCALE = large ] && echo 1000000 || echo 100000)}
command -v valgrind >/dev/null || { echo "profile: valgrind is not installed"; exit 1; }

# the first quoted heredoc (<<'SQL' ... SQL) of a bench script: its set-up
setup_sql() { awk '/<<'"'"'SQL'"'"'$/ && !done { on = 1; next } on && /^SQL$/ { on = 0; done = 1 } on' "$HERE/$1"; }

cluster_new prof
cat >>"$ACCTSEC_TMP/prof/data/postgresql.conf" <<CONF
synchronous_commit = on
autovacuum = off
shared_buffers = 128MB
log_min_messages = warning
CONF
# autovacuum off: an ANALYZE by it in the middle of a segment would
# invalidate saved plans and count a replan; the set-up analyzes instead.
cluster_start prof
P() { cluster_psql prof -q -v ON_ERROR_STOP=1 "$@"; }
if [ "${BENCH_PROFILE_KEYFILE:-1}" != 0 ]; then
  KEYFILE=$ACCTSEC_TMP/prof/data/acctsec_profile.key
  # a key file, as sessions.sh has (and docs/keys.md recommends): without
  # one, tokens are keyed by the database key, read once per transaction
  printf '%s\n' "LOAD 'acctsec';" "COPY (SELECT :'k') TO :'f';" "ALTER SYSTEM SET acctsec.secret_key_file = :'f';" "SELECT pg_reload_conf();" \
    | P -d postgres -v k="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" -v f="$KEYFILE" >/dev/null
  chmod 0600 "$KEYFILE"
  sleep 1
  [ "$(P -d postgres -At -c "LOAD 'acctsec'" -c "SHOW acctsec.secret_key_file")" = "$KEYFILE" ] \
    || { echo "profile: the key file is not in force"; exit 1; }
fi
P -d postgres -c "CREATE DATABASE prof" >/dev/null
t_setup=$SECONDS
# the benches make their databases with the extension (bench_db); their
# set-up heredocs assume it
P -d prof -c "CREATE EXTENSION acctsec" >/dev/null

# login_attempt.sh's peers and tables, and its state: every account logged
# in once from its home address
setup_sql login_attempt.sh | P -d prof >/dev/null
P -d prof >/dev/null <<SQL
INSERT INTO acctsec.accounts (account, last_login_at, last_login_ip, login_count)
SELECT 'user' || a, now(), '10.1.0.0'::inet + (a % 2000), 1 FROM generate_series(1, $ACCOUNTS) a;
INSERT INTO acctsec.familiar_networks (account, network, first_used_at, last_used_at)
SELECT 'user' || a, '10.1.0.0'::cidr + (a % 2000), now(), now() FROM generate_series(1, $ACCOUNTS) a;
INSERT INTO pl.accounts (account, last_login_at, last_login_ip, login_count)
SELECT 'user' || a, now(), '10.1.0.0'::inet + (a % 2000), 1 FROM generate_series(1, $ACCOUNTS) a;
SQL
# audit.sh's peer (its reader indexes) and the minimal one: the same
# trigger into a log with only a primary key
setup_sql audit.sh | sed '/^CREATE EXTENSION acctsec;/d' | P -d prof >/dev/null
P -d prof >/dev/null <<'SQL'
CREATE TABLE plpgsql_audit_min_log (LIKE plpgsql_audit_log INCLUDING DEFAULTS);
ALTER TABLE plpgsql_audit_min_log ADD PRIMARY KEY (id);
DO $$ BEGIN
  EXECUTE replace(replace(pg_get_functiondef('plpgsql_audit'::regproc),
                          'INSERT INTO plpgsql_audit_log', 'INSERT INTO plpgsql_audit_min_log'),
                  'plpgsql_audit()', 'plpgsql_audit_min()');
END $$;
CREATE TABLE t_plmin (LIKE t_none INCLUDING ALL);
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON t_plmin FOR EACH ROW EXECUTE FUNCTION plpgsql_audit_min();
-- the same table partitioned (one partition), without and with acctsec.audit()
CREATE TABLE t_pnone (LIKE t_none INCLUDING DEFAULTS, PRIMARY KEY (id)) PARTITION BY RANGE (id);
CREATE TABLE t_pnone_1 PARTITION OF t_pnone FOR VALUES FROM (MINVALUE) TO (MAXVALUE);
CREATE TABLE t_pacctsec (LIKE t_pnone INCLUDING DEFAULTS, PRIMARY KEY (id)) PARTITION BY RANGE (id);
CREATE TABLE t_pacctsec_1 PARTITION OF t_pacctsec FOR VALUES FROM (MINVALUE) TO (MAXVALUE);
SELECT acctsec.audit_table('t_pacctsec');
SQL
# sessions.sh's peer and tokens (its heredoc expands $N)
N=$SESSIONS
eval "cat <<SQL
$(sed -n '/<<SQL$/,/^SQL$/p' "$HERE/sessions.sh" | sed '1d;$d')
SQL" | sed '/^CREATE EXTENSION acctsec;/d' | P -d prof >/dev/null
if [ -n "${BENCH_PROFILE_PARTITIONS:-}" ]; then
  P -d prof -At -c "SET acctsec.audit_partition_interval = '1 hour'" \
    -c "SELECT 'audit log partitions made: ' || acctsec.audit_create_partitions('$BENCH_PROFILE_PARTITIONS')"
fi
# A database in use holds many seals: a saved plan made while audit_seals
# is nearly empty reads it sequentially (see docs/performance.md).
printf '%s\n' "SELECT acctsec.audit_event('app.profile.fill');" >"$ACCTSEC_TMP/prof/fill.sql"
"$ACCTSEC_BIN/pgbench" -n -c 2 -j 2 -t 2000 -f "$ACCTSEC_TMP/prof/fill.sql" \
  -h "$SOCK_prof" -p "$PORT_prof" -U postgres prof >/dev/null 2>&1
[ "$(P -d prof -At -c "SELECT count(*) >= 4000 FROM acctsec.audit_seals")" = t ] \
  || { echo "profile: the seals were not written"; exit 1; }
# the sessions are numbered as their tokens are (session_start in order)
[ "$(P -d prof -At -c "SELECT count(*) FROM acctsec.account_sessions WHERE session_id BETWEEN 1 AND $SESSIONS")" = "$SESSIONS" ] \
  || { echo "profile: the sessions are not numbered 1..$SESSIONS"; exit 1; }
# --- the large scale (BENCH_PROFILE_SCALE=large) ------------------------------
# The logs as a database in use for a while holds them: 10,000,000 login
# attempts in acctsec's log and as many in the peers', 10,000,000 audit rows
# written through the audit chain itself (the trigger and audit_event(), in
# transactions of a few rows each, each sealed, by FILL_CHUNKS backends one
# after another, so on many lanes) and the same rows in both PL/pgSQL logs.
if [ "$SCALE" = large ]; then
  ATTEMPTS=10000000
  FILL_ROWS=1000000      # rows of the audited fill table: 1 INSERT and FILL_PASSES UPDATEs each
  FILL_PASSES=7
  FILL_EVENTS=2          # security events per account (app.login.failed), one a transaction
  FILL_TX=5              # the table's rows changed per transaction
  FILL_CHUNKS=64         # backends writing the audit rows, two at a time
  FILL_SLICE=10000       # rows per CALL: logged_at is the CALL's start
  t_fill=$SECONDS
  # login attempts: appended in time order over 30 days, spread over the
  # accounts (each 10 times), one in five a failure from elsewhere; a plain
  # log without a chain, written directly, the same rows into both logs
  pids=()
  for t in acctsec.login_attempts pl.login_attempts; do
    P -d prof >/dev/null <<SQL &
INSERT INTO $t (account, attempted_at, outcome, ip, user_agent)
SELECT 'user' || a, now() - interval '30 days' + g * (interval '30 days' / $ATTEMPTS),
       CASE WHEN g % 5 = 0 THEN 'failed' ELSE 'ok' END::acctsec.login_status,
       CASE WHEN g % 5 = 0 THEN '198.51.100.0'::inet + (g % 256) ELSE '10.1.0.0'::inet + (a % 2000) END,
       'Mozilla/5.0 (pgbench)'
FROM generate_series(1, $ATTEMPTS) g, LATERAL (SELECT (g * 7919::bigint) % $ACCOUNTS + 1 AS a) x;
SQL
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done    # a failed fill stops the script
  echo "profile: large scale: $ATTEMPTS login attempts in each log ($((SECONDS - t_fill)) s)"
  # audit rows: an audited table's rows inserted and updated, FILL_TX per
  # transaction, and security events naming the accounts, one per
  # transaction as a failed login writes it; one seal per transaction
  t_audit=$SECONDS
  audit_before=$(P -d prof -At -c "SELECT coalesce(max(id), 0) FROM acctsec.audit_log")
  P -d prof >/dev/null <<'SQL'
CREATE TABLE audit_fill (LIKE t_none INCLUDING ALL);
SELECT acctsec.audit_table('audit_fill');
CREATE PROCEDURE audit_fill(kind text, lo int, hi int, per_tx int, pass int, accounts int)
LANGUAGE plpgsql AS $$
DECLARE
  b int := lo;
  e int;
BEGIN
  WHILE b <= hi LOOP
    e := least(b + per_tx - 1, hi);
    -- the application user acting: an account of the fill's
    PERFORM set_config('acctsec.actor', 'user' || (b % accounts + 1), false);
    IF kind = 'insert' THEN
      INSERT INTO audit_fill SELECT g, 'user' || g || '@example.com', 'User ' || g, g, true, now()
        FROM generate_series(b, e) g;
    ELSIF kind = 'update' THEN
      UPDATE audit_fill SET n = n + 1, email = 'changed' || pass || '.' || id || '@example.com',
             updated_at = now() WHERE id BETWEEN b AND e;
    ELSE
      PERFORM acctsec.audit_event('app.login.failed', 'user' || a,
                jsonb_build_object('ip', '198.51.100.0'::inet + (a % 256), 'failed_attempts', pass))
        FROM generate_series(b, e) a;
    END IF;
    COMMIT;
    b := e + 1;
  END LOOP;
END $$;
SQL
  # chunk c: its share of the table's rows and of the accounts
  fill_chunk() {
    local c=$1 lo hi alo ahi p s
    lo=$(( c * FILL_ROWS / FILL_CHUNKS + 1 )); hi=$(( (c + 1) * FILL_ROWS / FILL_CHUNKS ))
    alo=$(( c * ACCOUNTS / FILL_CHUNKS + 1 )); ahi=$(( (c + 1) * ACCOUNTS / FILL_CHUNKS ))
    {
      for ((s = lo; s <= hi; s += FILL_SLICE)); do
        echo "CALL audit_fill('insert', $s, $(( s + FILL_SLICE - 1 < hi ? s + FILL_SLICE - 1 : hi )), $FILL_TX, 0, $ACCOUNTS);"
      done
      for ((p = 1; p <= FILL_PASSES + FILL_EVENTS; p++)); do
        if [ $p -le $FILL_PASSES ]; then k=update; a=$lo; z=$hi; else k=event; a=$alo; z=$ahi; fi
        for ((s = a; s <= z; s += FILL_SLICE)); do
          echo "CALL audit_fill('$k', $s, $(( s + FILL_SLICE - 1 < z ? s + FILL_SLICE - 1 : z )), $([ $k = update ] && echo $FILL_TX || echo 1), $p, $ACCOUNTS);"
        done
      done
    } | P -d prof >/dev/null
  }
  for ((c = 0; c < FILL_CHUNKS; c++)); do
    while [ "$(jobs -rp | wc -l)" -ge 2 ]; do wait -n || true; done
    fill_chunk $c &
  done
  wait
  audit_rows=$(P -d prof -At -c "SELECT count(*) FROM acctsec.audit_log WHERE id > $audit_before")
  [ "$audit_rows" = $(( FILL_ROWS * (1 + FILL_PASSES) + ACCOUNTS * FILL_EVENTS )) ] \
    || { echo "profile: the audit fill wrote $audit_rows rows"; exit 1; }
  echo "profile: large scale: $audit_rows audit rows, $(P -d prof -At -c "SELECT count(*) || ' seals on ' || count(DISTINCT lane) || ' lanes' FROM acctsec.audit_seals") ($((SECONDS - t_audit)) s)"
  # the peers' logs: the same rows, in the same order (their triggers'
  # one INSERT a row, here one INSERT of them all)
  t_peer=$SECONDS
  pids=()
  for t in plpgsql_audit_log plpgsql_audit_min_log; do
    P -d prof >/dev/null <<SQL &
INSERT INTO $t (logged_at, txid, db_user, actor, client_addr, relation, operation, row_key, old_values, new_values, changed_columns)
SELECT logged_at, txid, db_user, actor, client_addr, relation, operation, row_key, old_values, new_values, changed_columns
FROM acctsec.audit_log WHERE id > $audit_before ORDER BY id;
SQL
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
  echo "profile: large scale: the same rows in both PL/pgSQL logs ($((SECONDS - t_peer)) s)"
fi
P -d prof -c "VACUUM ANALYZE" -c "CHECKPOINT" >/dev/null
[ "$SCALE" = large ] && echo "profile: large scale: set-up with the fill and VACUUM ANALYZE $((SECONDS - t_setup)) s ($(du -sh "$ACCTSEC_TMP/prof/data" | cut -f1) on disk)"

# --- the script one backend runs -------------------------------------------------
S=$ACCTSEC_TMP/prof/script.sql
LABELS=()          # the label of the segment each marker closes ("-": not measured)
marker() { echo "SELECT pg_sleep(0);" >>"$S"; LABELS+=("$1"); }
# path NAME GENERATOR: W warm-up calls, then M measured calls, GENERATOR i -> one statement
path() {
  local name=$1 gen=$2 i
  [[ $name =~ $ONLY ]] || return 0
  echo "\\qecho == warm-up $name" >>"$S"
  for ((i = 1; i <= W; i++)); do $gen $((i + 100000)); done >>"$S"
  marker -
  echo "\\qecho == $name" >>"$S"
  for ((i = 1; i <= M; i++)); do $gen "$i"; done >>"$S"
  marker "$name"
}
: >"$S"
cat >>"$S" <<SQL
SET acctsec.actor = 'bench';
PREPARE c(text, boolean, inet) AS SELECT acctsec.login_attempt(\$1, \$2, \$3, 'Mozilla/5.0 (pgbench)');
PREPARE u(text, boolean, inet) AS SELECT pl.login_attempt_upsert(\$1, \$2, \$3, 'Mozilla/5.0 (pgbench)');
PREPARE l(text, boolean, inet) AS SELECT pl.login_attempt_lock(\$1, \$2, \$3, 'Mozilla/5.0 (pgbench)');
PREPARE nop(int) AS SELECT \$1;
SQL
for t in none plpgsql plmin acctsec; do
  cat >>"$S" <<SQL
PREPARE ins_$t(int) AS INSERT INTO t_$t VALUES (\$1, 'user' || \$1 || '@example.com', 'User ' || \$1, \$1, true, now());
PREPARE upd_$t(int) AS UPDATE t_$t SET n = n + 1, email = 'changed' || id || '@example.com', updated_at = now() WHERE id = \$1;
SQL
done
cat >>"$S" <<'SQL'
PREPARE sc(int) AS SELECT * FROM acctsec.session_check((SELECT acctsec_token FROM bench_tokens WHERE i = $1));
PREPARE sp(int) AS SELECT * FROM peer_session_check((SELECT peer_token FROM bench_tokens WHERE i = $1));
PREPARE sb(int) AS SELECT account, id, expires_at FROM app_sessions WHERE token_hash = (SELECT peer_hash FROM bench_tokens WHERE i = $1);
SQL
marker -            # start-up and preparation
marker empty        # the cost of a marker alone

acct() { echo "user$(( ($1 * 7919) % ACCOUNTS + 1 ))"; }   # an account per call, spread
gen_nop() { echo "EXECUTE nop($1);"; }
for impl in c u l; do
  eval "gen_${impl}_fail_one() { echo \"EXECUTE $impl('\$(acct \$1)', false, '192.0.2.1');\"; }"
  # the same from another address, with acctsec's throttle off (below), on
  # other accounts, so that the counts the other paths meet do not change
  eval "gen_${impl}_fail_counted() { echo \"EXECUTE $impl('\$(acct \$((\$1 + 5000)))', false, '192.0.2.2');\"; }"
  eval "gen_${impl}_fail_pool() { echo \"EXECUTE $impl('\$(acct \$1)', false, '10.1.0.0'::inet + \$(( (\$1 * 613) % 2000 )));\"; }"
  # a right password from the account's home address (a familiar network)
  eval "gen_${impl}_ok_home() { local a=\$(( (\$1 * 7919) % ACCOUNTS + 1 )); echo \"EXECUTE $impl('user\$a', true, '10.1.0.0'::inet + \$(( a % 2000 )));\"; }"
  # the same with no address (no network tracking), and from an address the
  # account has not used (it becomes familiar), on other accounts
  eval "gen_${impl}_ok_noip() { echo \"EXECUTE $impl('\$(acct \$((\$1 + 2000)))', true, NULL);\"; }"
  eval "gen_${impl}_ok_new() { echo \"EXECUTE $impl('\$(acct \$((\$1 + 3000)))', true, '10.3.0.0'::inet + \$1);\"; }"
done
path nop gen_nop
# fail_one: acctsec throttles the address once it has tried 10 accounts, so
# its calls are refused, not counted, while the peers count every one.
# fail_counted: the same with the throttle's limits off (0), so acctsec
# counts each failure against the account and the network as the peers
# count theirs (the SET and RESET in segments not measured).
THROTTLE_OFF="SET acctsec.network_max_failures = 0; SET acctsec.network_max_accounts = 0;"
THROTTLE_ON="RESET acctsec.network_max_failures; RESET acctsec.network_max_accounts;"
for impl in c u l; do
  for w in fail_one fail_counted fail_pool ok_home ok_noip ok_new; do
    counted=$([ $w = fail_counted ] && [[ login_${w}_$impl =~ $ONLY ]] && echo 1 || true)
    [ -n "$counted" ] && { echo "$THROTTLE_OFF" >>"$S"; marker -; }
    path "login_${w}_$impl" "gen_${impl}_$w"
    [ -n "$counted" ] && { echo "$THROTTLE_ON" >>"$S"; marker -; }
  done
done
for t in none plmin plpgsql acctsec; do
  eval "gen_ins_$t() { echo \"EXECUTE ins_$t(\$1);\"; }"
  eval "gen_upd_$t() { echo \"EXECUTE upd_$t(\$1);\"; }"
  path "audit_insert_$t" "gen_ins_$t"
  path "audit_update_$t" "gen_upd_$t"
done
# one statement of M rows (the bulk case of audit.sh), per table
for t in none plmin plpgsql acctsec pnone pacctsec; do
  [[ bulk_$t =~ $ONLY ]] || continue
  cat >>"$S" <<SQL
INSERT INTO t_$t SELECT g, 'w', 'w', 0, true, now() FROM generate_series(1000001, 1000000 + $W) g;
UPDATE t_$t SET n = n + 1 WHERE id > 1000000;
SQL
  marker -
  echo "INSERT INTO t_$t SELECT g, 'user' || g || '@example.com', 'User ' || g, g, true, now() FROM generate_series(2000001, 2000000 + $M) g;" >>"$S"
  marker "bulk_insert_$t"
  echo "UPDATE t_$t SET n = n + 1, email = 'changed' || id || '@example.com', updated_at = now() WHERE id > 2000000;" >>"$S"
  marker "bulk_update_$t"
done
# session_check: every session just seen (no last-seen write due), then
# every session due for its write (as one check in 60 s per session is)
sess() { echo $(( ($1 * 7919) % SESSIONS + 1 )); }
gen_sc() { echo "EXECUTE sc($(sess "$1"));"; }
gen_sp() { echo "EXECUTE sp($(sess "$1"));"; }
gen_sb() { echo "EXECUTE sb($(sess "$1"));"; }
gen_sc_due() { echo "EXECUTE sc($(sess $(( $1 + 50000 ))));"; }
# the sessions a path checks: its warm-up's and its own (offset o)
ids() { local o=$1 i; { for ((i = 1; i <= W; i++)); do sess $((i + 100000 + o)); done
                        for ((i = 1; i <= M; i++)); do sess $((i + o)); done; } | paste -sd, -; }
echo "UPDATE acctsec.account_sessions SET last_seen_at = now() WHERE session_id IN ($(ids 0));" >>"$S"
path session_check_nowrite gen_sc
path session_peer gen_sp
path session_bare gen_sb
echo "UPDATE acctsec.account_sessions SET last_seen_at = now() - interval '2 minutes' WHERE session_id IN ($(ids 50000));" >>"$S"
path session_check_write gen_sc_due

# --- run it in one backend under callgrind ----------------------------------------
cluster_stop prof
OUT=$ACCTSEC_TMP/prof/cg
mkdir -p "$OUT"; [ "$(id -u)" -eq 0 ] && chown postgres "$OUT"
"${CLUSTER_RUNAS[@]}" valgrind --tool=callgrind --trace-children=yes --dump-before=pg_sleep \
  --callgrind-out-file="$OUT/cg.%p" "$ACCTSEC_BIN/postgres" -D "$ACCTSEC_TMP/prof/data" \
  >"$ACCTSEC_TMP/prof/valgrind.log" 2>&1 &
for _ in $(seq 1 240); do
  "$ACCTSEC_BIN/pg_isready" -q -h "$SOCK_prof" -p "$PORT_prof" && break; sleep 0.5
done
CLUSTERS_STARTED+=(prof)
P -d prof -At -o "$ACCTSEC_TMP/prof/results.txt" -f "$S"
cluster_stop prof

# the backend is the one process that dumped at the markers
dumps=$(ls "$OUT" | sed -n 's/^cg\.\([0-9]*\)\.1$/\1/p')
[ "$(echo "$dumps" | wc -w)" = 1 ] || { echo "profile: expected one backend's dumps, found: $dumps"; exit 1; }
declare -A IR
for ((k = 1; k <= ${#LABELS[@]}; k++)); do
  f=$OUT/cg.$dumps.$k
  [ -f "$f" ] || f=$(ls "$OUT"/cg."$dumps".$k-* 2>/dev/null | head -1)
  [ -f "$f" ] || { echo "profile: no dump $k"; exit 1; }
  l=${LABELS[$((k - 1))]}
  [ "$l" = - ] && continue
  IR[$l]=$(sed -n 's/^summary: *\([0-9]*\).*/\1/p;s/^totals: *\([0-9]*\).*/\1/p' "$f" | head -1)
  if [ -n "${BENCH_PROFILE_KEEP:-}" ]; then mkdir -p "$BENCH_PROFILE_KEEP"; cp "$f" "$BENCH_PROFILE_KEEP/$l.callgrind"; fi
done
# outcomes of the login calls, per path
outcomes() {
  awk -v p="== $1" '$0 == p { on = 1; next } /^== / { on = 0 }
    on && $0 != "" { s = $0; sub(/^\(/, "", s); sub(/,.*/, "", s); n[s]++ }
    END { for (k in n) { printf "%s%s %d", sep, k, n[k]; sep = ", " } }' "$ACCTSEC_TMP/prof/results.txt"
}
per() { # label -> instructions per call (marker cost subtracted)
  [ -n "${IR[$1]:-}" ] || { echo 0; return; }
  awk -v s="${IR[$1]}" -v e="${IR[empty]}" -v m="$M" 'BEGIN { printf "%.0f", (s - e) / m }'
}
echo "instructions per call (valgrind --tool=callgrind, one backend, $M calls per path, each its own transaction; synchronous_commit on)"
printf '  EXECUTE of a prepared SELECT $1 (the floor of a call): %s\n' "$(per nop)"
echo "login_attempt ($ACCOUNTS_SHOWN accounts, each logged in once from home):"
for w in fail_one fail_counted fail_pool ok_home ok_noip ok_new; do
  [ -n "${IR[login_${w}_c]:-}" ] || continue
  c=$(per login_${w}_c); u=$(per login_${w}_u); l=$(per login_${w}_l)
  awk -v w=$w -v c=$c -v u=$u -v l=$l 'BEGIN {
    printf "  %-12s acctsec %8d | PL/pgSQL upsert %8d | PL/pgSQL lock+update %8d | upsert/C %.2fx, lock/C %.2fx\n",
           w, c, u, l, u / c, l / c }'
  printf '               outcomes: C: %s | upsert: %s | lock: %s\n' \
    "$(outcomes login_${w}_c)" "$(outcomes login_${w}_u)" "$(outcomes login_${w}_l)"
done
echo "audit, one row per statement and a statement of $M rows (added = over the table with no trigger):"
for kind in audit_insert audit_update bulk_insert bulk_update; do
  [ -n "${IR[${kind}_none]:-}" ] || continue
  n=$(per ${kind}_none); mn=$(per ${kind}_plmin); p=$(per ${kind}_plpgsql); a=$(per ${kind}_acctsec)
  awk -v k=$kind -v n=$n -v mn=$mn -v p=$p -v a=$a 'BEGIN {
    printf "  %-12s none %7d | added: acctsec %7d | PL/pgSQL minimal log %7d | PL/pgSQL reader indexes %7d | acctsec/minimal %.2f (target <= 0.4), acctsec/indexed %.2f (target <= 0.25)\n",
           k, n, a - n, mn - n, p - n, (a - n) / (mn - n), (a - n) / (p - n) }'
done
for kind in bulk_insert bulk_update; do
  [ -n "${IR[${kind}_pnone]:-}" ] || continue
  n=$(per ${kind}_pnone); a=$(per ${kind}_pacctsec)
  awk -v k=$kind -v n=$n -v a=$a 'BEGIN {
    printf "  %-12s of a partitioned table: none %7d | added: acctsec %7d\n", k, n, a - n }'
done
if [ -n "${IR[session_peer]:-}" ]; then
  a=$(per session_check_nowrite); aw=$(per session_check_write); p=$(per session_peer); b=$(per session_bare)
  awk -v a=$a -v aw=$aw -v p=$p -v b=$b 'BEGIN {
    printf "session_check: no write due %d | write due %d | PL/pgSQL peer (digest, UPDATE) %d | bare indexed lookup %d\n", a, aw, p, b;
    printf "  peer/acctsec %.2fx (target >= 3.5x), bare/acctsec %.2f (target >= 0.85); with the write: %.2fx, %.2f\n",
           p / a, b / a, p / aw, b / aw }'
fi
