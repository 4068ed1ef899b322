#!/usr/bin/env bash
# Benchmark: acctsec.totp_check (window 1) against the same check written in
# PL/pgSQL over pgcrypto's hmac(), and against three bare hmac() calls, in the
# same run.  Prints calls per second and the ratios.  Not a test.
set -eu -o pipefail
. "$(dirname "$0")/../lib/bench.sh"
N=${BENCH_N:-100000}
bench_db acctsec_bench_totp pgcrypto
"${PSQL[@]}" -d $DB -v baseline="$ACCTSEC_REPO/test/bench/plpgsql_totp.sql" <<'SQL'
\i :baseline
CREATE FUNCTION plpgsql_totp_check_b32(secret text, code text, win int, at timestamptz) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
BEGIN
  RETURN plpgsql_totp_check(plpgsql_base32_decode(secret), code, win, at);
END $$;
SQL
time_ms() { # run a query N times in one statement, print elapsed ms
  "${PSQL[@]}" -d $DB -c "\\timing on" -c "$1" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p'
}
SECRET="'12345678901234567890'::bytea"
# A code that never matches, so every variant computes all three steps.
Q_ACCTSEC="SELECT count(*) FILTER (WHERE acctsec.totp_check($SECRET, '000000', 1, to_timestamp(1111111111 + i))) FROM generate_series(1, $N) i"
Q_PLPGSQL="SELECT count(*) FILTER (WHERE plpgsql_totp_check($SECRET, '000000', 1, to_timestamp(1111111111 + i))) FROM generate_series(1, $N) i"
B32=$("${PSQL[@]}" -d $DB -c "SELECT acctsec.base32_encode($SECRET)")
Q_ACCTSEC_B32="SELECT count(*) FILTER (WHERE acctsec.totp_check(acctsec.base32_decode(b.s), '000000', 1, to_timestamp(1111111111 + i))) FROM generate_series(1, $N) i, (SELECT '$B32'::text AS s OFFSET 0) b"
Q_PLPGSQL_B32="SELECT count(*) FILTER (WHERE plpgsql_totp_check_b32(b.s, '000000', 1, to_timestamp(1111111111 + i))) FROM generate_series(1, $N / 10) i, (SELECT '$B32'::text AS s OFFSET 0) b"
Q_HMAC3="SELECT count(*) FILTER (WHERE hmac(int8send(i), $SECRET, 'sha1') IS NULL OR hmac(int8send(i + 1), $SECRET, 'sha1') IS NULL OR hmac(int8send(i + 2), $SECRET, 'sha1') IS NULL) FROM generate_series(1, $N) i"
Q_EMPTY="SELECT count(*) FILTER (WHERE i < 0) FROM generate_series(1, $N) i"
time_ms "$Q_ACCTSEC" >/dev/null   # warm-up
a=$(time_ms "$Q_ACCTSEC"); p=$(time_ms "$Q_PLPGSQL"); h=$(time_ms "$Q_HMAC3"); e=$(time_ms "$Q_EMPTY")
ab=$(time_ms "$Q_ACCTSEC_B32"); pb=$(time_ms "$Q_PLPGSQL_B32")
awk -v n=$N -v a=$a -v p=$p -v h=$h -v e=$e -v ab=$ab -v pb=$pb 'BEGIN {
  printf "totp_check, window 1, %d calls (loop overhead %.1f ms subtracted)\n", n, e;
  printf "  acctsec.totp_check            %9.0f calls/s  (%.2f us/call)\n", n/((a-e)/1000), (a-e)*1000/n;
  printf "  PL/pgSQL + pgcrypto hmac()    %9.0f calls/s  (%.2f us/call)\n", n/((p-e)/1000), (p-e)*1000/n;
  printf "  three bare pgcrypto hmac()    %9.0f calls/s  (%.2f us/call)\n", n/((h-e)/1000), (h-e)*1000/n;
  printf "  ratio acctsec / PL/pgSQL: %.1fx faster; acctsec / 3 x hmac(): %.2fx faster\n", (p-e)/(a-e), (h-e)/(a-e);
  printf "secret stored as base32 text (decoded on every check):\n";
  printf "  acctsec base32_decode + totp_check %9.0f calls/s  (%.2f us/call)\n", n/((ab-e)/1000), (ab-e)*1000/n;
  printf "  PL/pgSQL base32 + hmac()           %9.0f calls/s  (%.2f us/call)\n", (n/10)/(pb/1000), pb*1000/(n/10);
  printf "  ratio: %.1fx faster\n", (pb*10)/(ab-e);
}'
"${PSQL[@]}" -d postgres -c "DROP DATABASE $DB"
