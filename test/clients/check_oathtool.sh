#!/usr/bin/env bash
# Cross-check acctsec.hotp/totp against oathtool, an independent
# implementation, on 300 random secrets, times, digit counts and algorithms.
set -eu -o pipefail
command -v oathtool >/dev/null || { echo "oathtool is not installed"; exit 1; }
. "$(dirname "$0")/../lib/db.sh"
DB=acctsec_oathtool
fresh_db $DB acctsec

cases=$ACCTSEC_TMP/oath.cases
: >"$cases"
algs=(SHA1 SHA256 SHA512)
for i in $(seq 1 300); do
  keylen=$((1 + RANDOM % 64))
  key=$(head -c $keylen /dev/urandom | od -An -tx1 | tr -d ' \n')
  alg=${algs[$((RANDOM % 3))]}
  digits=$((6 + RANDOM % 3))
  if [ $((i % 3)) -eq 0 ]; then
    counter=$(( (RANDOM << 15 | RANDOM) ))
    code=$(oathtool --hotp --digits=$digits -c $counter "$key")
    [ "$alg" = SHA1 ] || alg=SHA1   # oathtool's HOTP is SHA1 only
    echo "hotp|$key|$counter|$digits|30|$alg|$code" >>"$cases"
  else
    t=$(( (RANDOM << 15 | RANDOM) + 946684800 ))
    period=$((1 + RANDOM % 120))
    code=$(oathtool --totp=${alg,,} --digits=$digits --time-step-size=${period}s \
                    --now="@$t" "$key")
    echo "totp|$key|$t|$digits|$period|$alg|$code" >>"$cases"
  fi
done

"${PSQL[@]}" -d $DB <<SQL
CREATE TABLE cases (kind text, key text, n bigint, digits int, period int, alg text, code text);
\copy cases FROM '$cases' (FORMAT text, DELIMITER '|')
SELECT count(*) AS cases,
       count(*) FILTER (WHERE CASE kind
         WHEN 'hotp' THEN acctsec.hotp(decode(key, 'hex'), n, digits, alg)
         ELSE acctsec.totp(decode(key, 'hex'), to_timestamp(n), digits, period, alg) END = code) AS agree,
       count(*) FILTER (WHERE kind = 'totp' AND acctsec.totp_check(decode(key, 'hex'), code, 0,
                         to_timestamp(n), digits, period, alg)) AS totp_check_accepts
FROM cases \gset
\echo cases :cases agree :agree totp_check_accepts :totp_check_accepts
SELECT :cases = 300 AND :agree = :cases AS all_agree \gset
\if :all_agree
\else
SELECT * FROM cases WHERE CASE kind
  WHEN 'hotp' THEN acctsec.hotp(decode(key, 'hex'), n, digits, alg)
  ELSE acctsec.totp(decode(key, 'hex'), to_timestamp(n), digits, period, alg) END <> code LIMIT 5;
DO \$\$BEGIN RAISE EXCEPTION 'acctsec and oathtool disagree'; END\$\$;
\endif
SQL
rc=$?
"${PSQL[@]}" -d postgres -c "DROP DATABASE $DB"
exit $rc
