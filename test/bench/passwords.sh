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
"${PSQL[@]}" -d postgres -c "DROP DATABASE $DB"
