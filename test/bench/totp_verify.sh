#!/usr/bin/env bash
# Benchmark: stateful second-factor checks under concurrency, with pgbench
# (8 clients, many enrolled accounts), beside the PL/pgSQL + pgcrypto TOTP
# check of totp_check.sh.  Every call presents a wrong code, so each one does
# the whole work: acctsec.totp_verify locks the account, opens the sealed
# secret (XChaCha20-Poly1305), computes every step of the window and counts
# the failure; backup_code_verify compares against every unused code's keyed
# hash.  The PL/pgSQL variants read a plain base32 secret; the second also
# locks and counts failures, as an application doing the same job would.
# Prints calls per second and ratios.  Not a test.
set -eu -o pipefail
. "$(dirname "$0")/../lib/bench.sh"
ACCOUNTS=${BENCH_ACCOUNTS:-2000}
SECONDS_EACH=${BENCH_SECONDS:-10}
CLIENTS=${BENCH_CLIENTS:-8}
W=$ACCTSEC_TMP/bench_verify
mkdir -p "$W"
bench_db acctsec_bench_verify pgcrypto
# failures are counted but never lock, so every call keeps doing the full check
"${PSQL[@]}" -d postgres -c "ALTER DATABASE $DB SET acctsec.max_failed_attempts = 0"
"${PSQL[@]}" -d $DB -v accounts=$ACCOUNTS -v baseline="$ACCTSEC_REPO/test/bench/plpgsql_totp.sql" <<'SQL'
-- acctsec: enrolled and confirmed accounts, ten backup codes each
SELECT count(*) FILTER (WHERE acctsec.totp_confirm(e.account, acctsec.totp(acctsec.base32_decode(e.secret))))
FROM (SELECT 'bench' || i AS account, (acctsec.totp_enroll('bench' || i)).secret
      FROM generate_series(1, :accounts) i) e \gset
SELECT count(*) FROM (SELECT acctsec.backup_codes_generate('bench' || i)
                      FROM generate_series(1, :accounts) i) g \gset
-- the PL/pgSQL + pgcrypto check of totp_check.sh, over a plain table of
-- base32 secrets, as applications usually keep them
\i :baseline
CREATE TABLE app_users (account text PRIMARY KEY, totp_secret text NOT NULL,
                        failed_attempts int NOT NULL DEFAULT 0, last_step bigint);
INSERT INTO app_users (account, totp_secret)
SELECT 'bench' || i, acctsec.base32_encode(gen_random_bytes(20)) FROM generate_series(1, :accounts) i;
-- the same job done by hand: lock the user's row, check, count the failure
CREATE FUNCTION app_totp_verify(acct text, code text) RETURNS boolean
LANGUAGE plpgsql VOLATILE STRICT AS $$
DECLARE
  u app_users;
  ok boolean;
BEGIN
  SELECT * INTO u FROM app_users WHERE account = acct FOR NO KEY UPDATE;
  IF NOT FOUND THEN RETURN false; END IF;
  ok := plpgsql_totp_check(plpgsql_base32_decode(u.totp_secret), code, 1, clock_timestamp());
  IF ok THEN
    UPDATE app_users SET failed_attempts = 0 WHERE account = acct;
  ELSE
    UPDATE app_users SET failed_attempts = failed_attempts + 1 WHERE account = acct;
  END IF;
  RETURN ok;
END $$;
VACUUM ANALYZE;
SQL

cat >"$W/acctsec_totp.sql" <<EOF
\set i random(1, $ACCOUNTS)
SELECT acctsec.totp_verify('bench' || :i, '000000');
EOF
cat >"$W/acctsec_backup.sql" <<EOF
\set i random(1, $ACCOUNTS)
SELECT acctsec.backup_code_verify('bench' || :i, 'aaaaaa-aaaaaa');
EOF
cat >"$W/plpgsql_check.sql" <<EOF
\set i random(1, $ACCOUNTS)
SELECT plpgsql_totp_check(plpgsql_base32_decode(totp_secret), '000000', 1, clock_timestamp()) FROM app_users WHERE account = 'bench' || :i;
EOF
cat >"$W/plpgsql_verify.sql" <<EOF
\set i random(1, $ACCOUNTS)
SELECT app_totp_verify('bench' || :i, '000000');
EOF

tps() { # script: transactions per second (one call each)
  "$ACCTSEC_BIN/pgbench" -n -c "$CLIENTS" -j 2 -T "$SECONDS_EACH" -M prepared -f "$1" -d $DB 2>&1 \
    | sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p'
}
tps "$W/acctsec_totp.sql" >/dev/null   # warm-up
at=$(tps "$W/acctsec_totp.sql")
ab=$(tps "$W/acctsec_backup.sql")
pc=$(tps "$W/plpgsql_check.sql")
pv=$(tps "$W/plpgsql_verify.sql")
counted=$("${PSQL[@]}" -d $DB -c "SELECT sum(failed_attempts) > 0 FROM acctsec.accounts")
awk -v n=$ACCOUNTS -v c=$CLIENTS -v s=$SECONDS_EACH -v at=$at -v ab=$ab -v pc=$pc -v pv=$pv 'BEGIN {
  printf "pgbench, %d clients, %d s each, %d enrolled accounts, a wrong code every call (full work)\n", c, s, n;
  printf "  acctsec.totp_verify                  %9.0f calls/s  (lock, open sealed secret, window 1, count failure)\n", at;
  printf "  acctsec.backup_code_verify           %9.0f calls/s  (lock, 10 keyed hashes, count failure)\n", ab;
  printf "  PL/pgSQL + pgcrypto check (totp_check.sh), base32 secret in a plain table\n";
  printf "    check only                         %9.0f calls/s\n", pc;
  printf "    lock + check + count failure       %9.0f calls/s\n", pv;
  printf "  ratio totp_verify / PL/pgSQL check only: %.1fx; / PL/pgSQL lock+check+count: %.1fx\n", at/pc, at/pv;
}'
echo "  (failures were counted in acctsec.accounts: $counted)"
"${PSQL[@]}" -d postgres -c "DROP DATABASE $DB"
