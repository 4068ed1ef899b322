#!/usr/bin/env bash
# Benchmark: acctsec.password_verify of a bcrypt cost-10 hash beside
# pgcrypto's crypt() on the same hash, in the same run; and Argon2id
# password_hash / password_verify per second at the default settings
# (19456 kB, 2 passes).  Prints calls per second and the ratio.  Not a test.
set -eu -o pipefail
PSQL=("$ACCTSEC_BIN/psql" -X -q -At -v ON_ERROR_STOP=1)
DB=acctsec_bench_passwords
N=${BENCH_N:-40}
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" 2>/dev/null
"${PSQL[@]}" -d $DB -c "CREATE EXTENSION acctsec" -c "CREATE EXTENSION pgcrypto"
BCRYPT=$("${PSQL[@]}" -d $DB -c "SELECT crypt('correct horse battery staple', gen_salt('bf', 10))")
ARGON=$("${PSQL[@]}" -d $DB -c "SELECT acctsec.password_hash('correct horse battery staple')")
time_ms() { # run a query in one statement, print elapsed ms
  "${PSQL[@]}" -d $DB -c "\\timing on" -c "$1" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p'
}
ROWS="generate_series(1, $N) i, (SELECT '$BCRYPT'::text AS h OFFSET 0) b"
Q_ACCTSEC_BF="SELECT count(*) FILTER (WHERE acctsec.password_verify('correct horse battery staple', h)) FROM $ROWS"
Q_PGCRYPTO_BF="SELECT count(*) FILTER (WHERE crypt('correct horse battery staple', h) = h) FROM $ROWS"
Q_HASH="SELECT count(acctsec.password_hash('correct horse battery staple' || i)) FROM generate_series(1, $N) i"
Q_VERIFY="SELECT count(*) FILTER (WHERE acctsec.password_verify('correct horse battery staple', h)) FROM generate_series(1, $N) i, (SELECT '$ARGON'::text AS h OFFSET 0) a"
# both must agree before timing means anything
ok=$("${PSQL[@]}" -d $DB -c "SELECT acctsec.password_verify('correct horse battery staple', '$BCRYPT') AND crypt('correct horse battery staple', '$BCRYPT') = '$BCRYPT'")
[ "$ok" = t ] || { echo "acctsec and pgcrypto disagree on the bcrypt hash"; exit 1; }
time_ms "$Q_ACCTSEC_BF" >/dev/null   # warm-up
a=$(time_ms "$Q_ACCTSEC_BF"); p=$(time_ms "$Q_PGCRYPTO_BF")
a2=$(time_ms "$Q_ACCTSEC_BF"); p2=$(time_ms "$Q_PGCRYPTO_BF")
h=$(time_ms "$Q_HASH"); v=$(time_ms "$Q_VERIFY")
awk -v n=$N -v a=$a -v p=$p -v a2=$a2 -v p2=$p2 -v h=$h -v v=$v 'BEGIN {
  a = (a + a2) / 2; p = (p + p2) / 2;
  printf "bcrypt cost 10, %d verifications each, two rounds interleaved\n", n;
  printf "  acctsec.password_verify (libxcrypt)   %7.2f verifications/s  (%.1f ms each)\n", n/(a/1000), a/n;
  printf "  pgcrypto crypt(pw, h) = h             %7.2f verifications/s  (%.1f ms each)\n", n/(p/1000), p/n;
  printf "  ratio pgcrypto time / acctsec time: %.2f\n", p/a;
  printf "Argon2id at the defaults (m=19456 kB, t=2, p=1), %d calls each\n", n;
  printf "  acctsec.password_hash                 %7.2f hashes/s  (%.1f ms each)\n", n/(h/1000), h/n;
  printf "  acctsec.password_verify               %7.2f verifications/s  (%.1f ms each)\n", n/(v/1000), v/n;
}'
# acctsec.login on a linked table: a known account (wrong password, so the
# row is not rewritten) and an unknown one, beside the two calls an
# application would otherwise make (password_verify, then login_attempt)
"${PSQL[@]}" -d $DB <<SQL2
CREATE TABLE users (id serial PRIMARY KEY, password_hash text);
INSERT INTO users (password_hash) VALUES ('$ARGON');
SELECT acctsec.link_account_table('users', 'id', '{"password_hash": "password_hash"}');
ALTER DATABASE $DB SET acctsec.max_failed_attempts = 0;
SQL2
L_KNOWN="SELECT count((acctsec.login('1', 'wrong' || i)).status) FROM generate_series(1, $N) i"
L_UNKNOWN="SELECT count((acctsec.login('424242', 'wrong' || i)).status) FROM generate_series(1, $N) i"
L_TWO="SELECT count((acctsec.login_attempt('1', acctsec.password_verify('wrong' || i, u.password_hash))).status) FROM generate_series(1, $N) i, users u WHERE u.id = 1"
time_ms "$L_KNOWN" >/dev/null
k=$(time_ms "$L_KNOWN"); u=$(time_ms "$L_UNKNOWN"); t=$(time_ms "$L_TWO")
k2=$(time_ms "$L_KNOWN"); u2=$(time_ms "$L_UNKNOWN"); t2=$(time_ms "$L_TWO")
awk -v n=$N -v k=$k -v u=$u -v t=$t -v k2=$k2 -v u2=$u2 -v t2=$t2 'BEGIN {
  k = (k + k2) / 2; u = (u + u2) / 2; t = (t + t2) / 2;
  printf "acctsec.login at the defaults, %d calls each, two rounds interleaved\n", n;
  printf "  known account, wrong password         %7.2f logins/s  (%.1f ms each)\n", n/(k/1000), k/n;
  printf "  unknown account                       %7.2f logins/s  (%.1f ms each)\n", n/(u/1000), u/n;
  printf "  password_verify + login_attempt       %7.2f logins/s  (%.1f ms each)\n", n/(t/1000), t/n;
  printf "  ratio unknown / known: %.3f\n", u/k;
}'
"${PSQL[@]}" -d postgres -c "DROP DATABASE $DB"
