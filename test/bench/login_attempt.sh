#!/usr/bin/env bash
# Benchmark: acctsec.login_attempt (C, SPI with saved plans) against the same
# policy written in PL/pgSQL the two ways applications write it, in the same
# run, with pgbench: 8 clients (-j 2) over 10,000 accounts, at production
# durability (fsync and synchronous_commit on, set for the run).
#
#   plpgsql_upsert  an upserted counter (INSERT ... ON CONFLICT DO UPDATE with
#                   the policy in CASE expressions) plus an attempts log
#   plpgsql_lock    SELECT ... FOR UPDATE, the policy in PL/pgSQL, UPDATE,
#                   plus an attempts log (the same steps as the C function)
#
# All three are SECURITY DEFINER with SET search_path, as acctsec's is, and
# have the same tables and indexes (account COLLATE "C", a BRIN index on the
# log's time).  acctsec's login_attempt writes security events into the
# audit log (login.refused, login.failed, login.locked); the PL/pgSQL
# versions write the same events through acctsec.audit_event, so that all
# three leave the same audit trail.
#
# Four workloads: the everyday mix (80% right passwords) and an attack mix
# (90% wrong), each with one client address for every call and with
# addresses from a pool of 2,000 (everyday: each account's home address 95%
# of the time; attack: any address of the pool).  acctsec tracks networks
# and applies smart lockout (the defaults); the peers only log the address.
# Every account has logged in once from home before each run, for every
# implementation.  The implementations take turns, ROUNDS times; medians.
#
# Besides tps, each run prints the server's CPU per transaction, the
# kernel's share of it, and the WAL written per transaction: the kernel's
# share (the round trip, the commit's flush) is the same for every
# implementation, and bounds the ratio any of them can reach in tps.
#
# Then a correctness check under the same concurrency: with lockout and
# network throttling off, the failures counted and the attempts logged must
# both equal the failing calls made (no lost update), for every
# implementation.  Not a test: it prints figures and ratios.
set -eu -o pipefail; [ -n "${BENCH_TRACE:-}" ] && set -x
. "$(dirname "$0")/../lib/bench.sh"
PGBENCH="$ACCTSEC_BIN/pgbench"
CLIENTS=${BENCH_CLIENTS:-8}
SECS=${BENCH_SECS:-5}
ROUNDS=${BENCH_ROUNDS:-3}
ACCOUNTS=10000
CHECK_TX=${BENCH_CHECK_TX:-2000}     # per client, in the lost-count check
bench_db acctsec_bench_login
"${PSQL[@]}" -d $DB <<'SQL'
CREATE SCHEMA pl;
CREATE TABLE pl.accounts (
    account text COLLATE "C" PRIMARY KEY, failed_attempts int NOT NULL DEFAULT 0,
    last_failed_at timestamptz, locked_until timestamptz, locked_at timestamptz,
    lockouts int NOT NULL DEFAULT 0, last_login_at timestamptz, last_login_ip inet,
    login_count bigint NOT NULL DEFAULT 0, totp_enabled boolean NOT NULL DEFAULT false,
    pending_login_at timestamptz, pending_login_ip inet,
    created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE pl.login_attempts (
    id bigserial PRIMARY KEY, account text COLLATE "C" NOT NULL,
    attempted_at timestamptz NOT NULL DEFAULT now(),
    outcome acctsec.login_status NOT NULL, ip inet, user_agent text);
CREATE INDEX ON pl.login_attempts (account, attempted_at);
CREATE INDEX ON pl.login_attempts USING brin (attempted_at) WITH (autosummarize = on);

-- Both take what acctsec.login_attempt takes, the lockout settings as
-- arguments (the C function reads them from its settings), and return its
-- result; psql puts the signature in where :login_attempt stands.
\set login_attempt '(p_account text, p_success boolean, p_ip inet DEFAULT NULL, p_ua text DEFAULT NULL, max_failed int DEFAULT 5, '
\set login_attempt :login_attempt 'lockout interval DEFAULT ''15 min'', backoff float8 DEFAULT 2.0, max_lockout interval DEFAULT ''24 h'', win interval DEFAULT ''1 h'') '
\set login_attempt :login_attempt 'RETURNS acctsec.login_result LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp'

-- 1. The upserted counter: one INSERT ... ON CONFLICT DO UPDATE applies the
-- policy (a locked account is left alone; a failure counts inside the
-- window; a success resets), a second UPDATE only when a failure reaches
-- the limit, then the log row.
CREATE FUNCTION pl.login_attempt_upsert :login_attempt AS $$
DECLARE
    a pl.accounts;
    st acctsec.login_status;
BEGIN
    INSERT INTO pl.accounts AS t (account, failed_attempts, last_failed_at,
                                  last_login_at, last_login_ip, login_count)
    VALUES (p_account, CASE WHEN p_success THEN 0 ELSE 1 END,
            CASE WHEN NOT p_success THEN now() END, CASE WHEN p_success THEN now() END,
            CASE WHEN p_success THEN p_ip END, CASE WHEN p_success THEN 1 ELSE 0 END)
    ON CONFLICT (account) DO UPDATE SET
        failed_attempts = CASE
            WHEN t.locked_until > now() OR (p_success AND t.totp_enabled) THEN t.failed_attempts
            WHEN p_success THEN 0
            WHEN t.failed_attempts > 0 AND now() - t.last_failed_at <= win THEN t.failed_attempts + 1
            ELSE 1 END,
        last_failed_at = CASE WHEN t.locked_until > now() OR p_success THEN t.last_failed_at ELSE now() END,
        locked_until = CASE WHEN t.locked_until > now() THEN t.locked_until END,
        locked_at = CASE WHEN t.locked_until > now() THEN t.locked_at END,
        lockouts = CASE WHEN p_success AND NOT t.totp_enabled AND NOT coalesce(t.locked_until > now(), false)
                        THEN 0 ELSE t.lockouts END,
        last_login_at = CASE WHEN p_success AND NOT t.totp_enabled AND NOT coalesce(t.locked_until > now(), false)
                             THEN now() ELSE t.last_login_at END,
        last_login_ip = CASE WHEN p_success AND NOT t.totp_enabled AND NOT coalesce(t.locked_until > now(), false)
                             THEN p_ip ELSE t.last_login_ip END,
        login_count = t.login_count + CASE WHEN p_success AND NOT t.totp_enabled
                             AND NOT coalesce(t.locked_until > now(), false) THEN 1 ELSE 0 END,
        pending_login_at = CASE WHEN t.locked_until > now() THEN t.pending_login_at
                                WHEN p_success AND t.totp_enabled THEN now() END,
        pending_login_ip = CASE WHEN t.locked_until > now() THEN t.pending_login_ip
                                WHEN p_success AND t.totp_enabled THEN p_ip END
    RETURNING t.* INTO a;

    IF a.locked_until > now() THEN
        st := 'locked';
        PERFORM acctsec.audit_event('app.login.refused', p_account,
                jsonb_build_object('ip', p_ip, 'locked_until', a.locked_until));
    ELSIF NOT p_success THEN
        IF max_failed > 0 AND a.failed_attempts >= max_failed THEN
            a.locked_until := now() + least(lockout * backoff ^ a.lockouts, max_lockout);
            UPDATE pl.accounts SET failed_attempts = 0, locked_until = a.locked_until,
                   locked_at = now(), lockouts = lockouts + 1
             WHERE account = p_account;
            PERFORM acctsec.audit_event('app.login.failed', p_account,
                    jsonb_build_object('ip', p_ip, 'failed_attempts', a.failed_attempts));
            PERFORM acctsec.audit_event('app.login.locked', p_account,
                    jsonb_build_object('ip', p_ip, 'locked_until', a.locked_until,
                                       'lockouts', a.lockouts + 1));
            a.failed_attempts := 0;
            st := 'locked';
        ELSE
            PERFORM acctsec.audit_event('app.login.failed', p_account,
                    jsonb_build_object('ip', p_ip, 'failed_attempts', a.failed_attempts));
            st := 'failed';
        END IF;
    ELSIF a.totp_enabled THEN
        st := 'second_factor_required';
    ELSE
        st := 'ok';
    END IF;

    INSERT INTO pl.login_attempts (account, attempted_at, outcome, ip, user_agent)
    VALUES (p_account, now(), st, p_ip, left(p_ua, 1024));
    RETURN ROW(st, st = 'ok', a.failed_attempts, a.locked_until,
               CASE WHEN a.locked_until > now() THEN a.locked_until - now() END)::acctsec.login_result;
END
$$;

-- 2. Lock, decide, update: the steps of the C function, in PL/pgSQL.
CREATE FUNCTION pl.login_attempt_lock :login_attempt AS $$
DECLARE
    a pl.accounts;
    st acctsec.login_status;
BEGIN
    SELECT * INTO a FROM pl.accounts WHERE account = p_account FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        INSERT INTO pl.accounts (account) VALUES (p_account) ON CONFLICT DO NOTHING;
        SELECT * INTO a FROM pl.accounts WHERE account = p_account FOR NO KEY UPDATE;
    END IF;

    IF a.locked_until > now() THEN
        st := 'locked';
        PERFORM acctsec.audit_event('app.login.refused', p_account,
                jsonb_build_object('ip', p_ip, 'locked_until', a.locked_until));
    ELSIF NOT p_success THEN
        IF a.failed_attempts > 0 AND now() - a.last_failed_at <= win THEN
            a.failed_attempts := a.failed_attempts + 1;
        ELSE
            a.failed_attempts := 1;
        END IF;
        IF max_failed > 0 AND a.failed_attempts >= max_failed THEN
            a.locked_until := now() + least(lockout * backoff ^ a.lockouts, max_lockout);
            a.failed_attempts := 0;
            a.lockouts := a.lockouts + 1;
            st := 'locked';
        ELSE
            a.locked_until := NULL;
            st := 'failed';
        END IF;
        UPDATE pl.accounts SET failed_attempts = a.failed_attempts, last_failed_at = now(),
               locked_until = a.locked_until,
               locked_at = CASE WHEN st = 'locked' THEN now() END, lockouts = a.lockouts,
               pending_login_at = NULL, pending_login_ip = NULL
         WHERE account = p_account;
        PERFORM acctsec.audit_event('app.login.failed', p_account,
                jsonb_build_object('ip', p_ip, 'failed_attempts',
                                   CASE WHEN st = 'locked' THEN max_failed ELSE a.failed_attempts END));
        IF st = 'locked' THEN
            PERFORM acctsec.audit_event('app.login.locked', p_account,
                    jsonb_build_object('ip', p_ip, 'locked_until', a.locked_until,
                                       'lockouts', a.lockouts));
        END IF;
    ELSIF a.totp_enabled THEN
        UPDATE pl.accounts SET pending_login_at = now(), pending_login_ip = p_ip
         WHERE account = p_account;
        st := 'second_factor_required';
    ELSE
        a.failed_attempts := 0;
        a.locked_until := NULL;
        UPDATE pl.accounts SET failed_attempts = 0, locked_until = NULL, locked_at = NULL,
               lockouts = 0, last_login_at = now(), last_login_ip = p_ip,
               login_count = login_count + 1, pending_login_at = NULL, pending_login_ip = NULL
         WHERE account = p_account;
        st := 'ok';
    END IF;

    INSERT INTO pl.login_attempts (account, attempted_at, outcome, ip, user_agent)
    VALUES (p_account, now(), st, p_ip, left(p_ua, 1024));
    RETURN ROW(st, st = 'ok', a.failed_attempts, a.locked_until,
               CASE WHEN a.locked_until > now() THEN a.locked_until - now() END)::acctsec.login_result;
END
$$;
SQL

S=$ACCTSEC_TMP/bench_login
mkdir -p "$S"
bench_durable

# The client address of a call, per address mode (pgbench variables :a, :r, :o).
ADDR_one="'192.0.2.1'"
ADDR_pool_normal="'10.1.0.0'::inet + CASE WHEN :r % 20 <> 0 THEN :a % 2000 ELSE :o END"
ADDR_pool_attack="'10.1.0.0'::inet + :o"
# script NAME FN SUCCESS-EXPRESSION ADDRESS-EXPRESSION [EXTRA-ARGS] -> a pgbench script
script() {
  cat >"$S/$1.sql" <<EOF
\\set a random(1, $ACCOUNTS)
\\set r random(1, 100)
\\set o random(0, 1999)
SELECT $2('user' || :a, $3, $4, 'Mozilla/5.0 (pgbench)'${5:-});
EOF
}
pgb() { # script-name [pgbench options...]; output in $S/script-name.log
  local f=$1; shift
  "$PGBENCH" -n -M prepared -c "$CLIENTS" -j 2 "$@" -f "$S/$f.sql" $DB >"$S/$f.log" 2>&1
}
logged_tx() { sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$S/$1.log"; }
# Fresh tables, every account logged in once from its home address (the
# rows written directly, as a login would have left them).  The emptied
# tables are not vacuumed: statistics saying "empty" would have the planner
# make its saved plans sequential scans of tables that grow during the run.
reset_state() {
  "${PSQL[@]}" -d $DB -c "SET client_min_messages = warning" \
    -c "TRUNCATE acctsec.accounts, acctsec.login_attempts, acctsec.networks, pl.accounts, pl.login_attempts CASCADE" \
    -c "INSERT INTO acctsec.accounts (account, last_login_at, last_login_ip, login_count)
        SELECT 'user' || a, now(), '10.1.0.0'::inet + (a % 2000), 1 FROM generate_series(1, $ACCOUNTS) a" \
    -c "INSERT INTO acctsec.familiar_networks (account, network, first_used_at, last_used_at)
        SELECT 'user' || a, '10.1.0.0'::cidr + (a % 2000), now(), now() FROM generate_series(1, $ACCOUNTS) a" \
    -c "INSERT INTO pl.accounts (account, last_login_at, last_login_ip, login_count)
        SELECT 'user' || a, now(), '10.1.0.0'::inet + (a % 2000), 1 FROM generate_series(1, $ACCOUNTS) a" \
    -c "VACUUM ANALYZE acctsec.accounts, acctsec.familiar_networks, pl.accounts" \
    -c "CHECKPOINT" >/dev/null
}

# The machine running this may be shared: besides pgbench's tps, count the
# CPU time the server's backends spent per transaction (the postmaster's
# reaped children's utime + stime, from /proc), which other load on the
# machine hardly changes.
HZ=$(getconf CLK_TCK)
PM=$("${PSQL[@]}" -d $DB -c "SELECT split_part(pg_read_file('/proc/self/stat'), ' ', 4)")  # our backend's parent
server_ticks() { awk '{ print $16 + $17, $17 }' "/proc/$PM/stat"; }
# the WAL written so far, in bytes (the insert position: autovacuum's included)
wal_mark() { "${PSQL[@]}" -d $DB -c "SELECT pg_current_wal_insert_lsn() - '0/0'"; }
# run script-name seconds -> "tps cpu_us_per_transaction kernel_us_per_transaction
# wal_bytes_per_transaction"
run() {
  local before after wb wa
  sleep 0.3; before=$(server_ticks); wb=$(wal_mark)
  pgb "$1" -T "$2"
  sleep 0.5; after=$(server_ticks); wa=$(wal_mark)
  awk -v t="$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$S/$1.log")" -v b="$before" -v a="$after" \
      -v wb="$wb" -v wa="$wa" -v n="$(logged_tx "$1")" -v hz="$HZ" 'BEGIN {
        split(b, B, " "); split(a, A, " ")
        printf "%.0f %.1f %.1f %.0f\n", t, (A[1] - B[1]) * 1e6 / hz / n, (A[2] - B[2]) * 1e6 / hz / n,
               (wa - wb) / n }'
}
median() { tr ' ' '\n' | sed '/^$/d' | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

IMPLS=(c:acctsec.login_attempt plpgsql_upsert:pl.login_attempt_upsert plpgsql_lock:pl.login_attempt_lock)
WORKLOADS=(${BENCH_WORKLOADS:-normal_one normal_pool attack_one attack_pool})
declare -A TPS CPU SYS WAL
for w in "${WORKLOADS[@]}"; do
  mix=${w%_*}; addr=${w#*_}
  case $mix in normal) ok=":r <= 80" ;; attack) ok=":r <= 10" ;; esac
  case $addr in one) ip=$ADDR_one ;; pool) v=ADDR_pool_$mix; ip=${!v} ;; esac
  for impl in "${IMPLS[@]}"; do
    script "${w}_${impl%%:*}" "${impl#*:}" "$ok" "$ip"
  done
done
# a warm-up run each, then ROUNDS rounds in which the implementations take turns
for impl in "${IMPLS[@]}"; do reset_state; pgb "${WORKLOADS[0]}_${impl%%:*}" -T 1; done
for round in $(seq 1 "$ROUNDS"); do
  for w in "${WORKLOADS[@]}"; do
    for impl in "${IMPLS[@]}"; do
      label=${w}_${impl%%:*}
      reset_state
      read -r t c k b < <(run "$label" "$SECS")
      TPS[$label]+=" $t"; CPU[$label]+=" $c"; SYS[$label]+=" $k"; WAL[$label]+=" $b"
    done
  done
done

echo "login_attempt, pgbench -M prepared, $CLIENTS clients -j 2, fsync on, $ACCOUNTS accounts, median of $ROUNDS runs of ${SECS}s"
for w in "${WORKLOADS[@]}"; do
  for label in c plpgsql_upsert plpgsql_lock; do
    eval "t_$label=\$(median <<<\"\${TPS[${w}_$label]}\")"
    eval "c_$label=\$(median <<<\"\${CPU[${w}_$label]}\")"
  done
  awk -v n="$w" -v tc=$t_c -v tu=$t_plpgsql_upsert -v tl=$t_plpgsql_lock \
      -v cc=$c_c -v cu=$c_plpgsql_upsert -v cl=$c_plpgsql_lock 'BEGIN {
    printf "  %-11s tps:           acctsec (C) %6.0f | PL/pgSQL upsert %6.0f | PL/pgSQL lock+update %6.0f | C/upsert %.2fx, C/lock %.2fx\n",
           n, tc, tu, tl, tc / tu, tc / tl
    printf "  %-11s server CPU/tx: acctsec (C) %6.1f | PL/pgSQL upsert %6.1f | PL/pgSQL lock+update %6.1f us | C/upsert %.2fx, C/lock %.2fx\n",
           n, cc, cu, cl, cu / cc, cl / cc }'
  # where server time goes besides the instructions profile.sh counts: the
  # kernel's share of it, and the WAL each transaction writes and flushes
  for label in c plpgsql_upsert plpgsql_lock; do
    printf -v "k_$label" '%s' "$(median <<<"${SYS[${w}_$label]}")"
    printf -v "b_$label" '%s' "$(median <<<"${WAL[${w}_$label]}")"
  done
  printf '  %-11s kernel CPU/tx: acctsec (C) %6.1f | PL/pgSQL upsert %6.1f | PL/pgSQL lock+update %6.1f us\n' \
    "$w" "$k_c" "$k_plpgsql_upsert" "$k_plpgsql_lock"
  printf '  %-11s WAL/tx:        acctsec (C) %6s | PL/pgSQL upsert %6s | PL/pgSQL lock+update %6s bytes\n' \
    "$w" "$b_c" "$b_plpgsql_upsert" "$b_plpgsql_lock"
  echo "              tps runs: C${TPS[${w}_c]} | upsert${TPS[${w}_plpgsql_upsert]} | lock${TPS[${w}_plpgsql_lock]}"
done

# No lost counts: lockout and network throttling off and a window of a year,
# every call a failure; the failures counted and the attempts logged must
# both equal the calls.  (With throttling on, the first failures from the
# one address throttle it, and the calls after are refused uncounted.)
echo "lost-count check: $CLIENTS clients x $CHECK_TX failing calls over $ACCOUNTS accounts"
"${PSQL[@]}" -d $DB -c "ALTER DATABASE $DB SET acctsec.max_failed_attempts = 0" \
                    -c "ALTER DATABASE $DB SET acctsec.failure_window = '365d'" \
                    -c "ALTER DATABASE $DB SET acctsec.network_max_failures = 0" \
                    -c "ALTER DATABASE $DB SET acctsec.network_max_accounts = 0"
script check_c acctsec.login_attempt false "$ADDR_one"
script check_plpgsql_upsert pl.login_attempt_upsert false "$ADDR_one" ", max_failed => 0, win => '365 days'"
script check_plpgsql_lock pl.login_attempt_lock false "$ADDR_one" ", max_failed => 0, win => '365 days'"
rc=0
for impl in c plpgsql_upsert plpgsql_lock; do
  "${PSQL[@]}" -d $DB -c "SET client_min_messages = warning" \
    -c "TRUNCATE acctsec.accounts, acctsec.login_attempts, acctsec.networks, pl.accounts, pl.login_attempts CASCADE"
  pgb check_$impl -t "$CHECK_TX"
  done_tx=$(logged_tx check_$impl)
  failed_tx=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$S/check_$impl.log")
  case $impl in c) sch=acctsec ;; *) sch=pl ;; esac
  # one value per query: an empty table's NULL sum cannot shift the other
  counted=$("${PSQL[@]}" -d $DB -c "SELECT coalesce(sum(failed_attempts), 0) FROM $sch.accounts")
  logged=$("${PSQL[@]}" -d $DB -c "SELECT count(*) FROM $sch.login_attempts")
  verdict=ok
  [ "$counted" = "$done_tx" ] && [ "$logged" = "$done_tx" ] || { verdict=LOST; rc=1; }
  printf '  %-15s calls %s (failed transactions: %s), failures counted %s, attempts logged %s: %s\n' \
    "$impl" "$done_tx" "${failed_tx:-0}" "$counted" "$logged" "$verdict"
done
"${PSQL[@]}" -d postgres -c "DROP DATABASE $DB"
exit $rc
