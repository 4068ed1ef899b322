#!/usr/bin/env bash
# Scenario: two attacks run against real sessions at once while the real user
# keeps logging in from her familiar network.
#
#   spraying   one network (an IPv4 address, and an IPv6 /64 rotating its
#              addresses) tries one password on thousands of accounts;
#   lockout    many networks (addresses all over 10.0.0.0/8) hammer one
#              account with wrong passwords, to lock its owner out.
#
# Passes when: the real user is allowed on every one of her logins, the
# attackers are never allowed, the spraying networks are throttled after
# network_max_accounts (10) accounts, so almost none of their guesses are
# even checked, and the lockout attack locks the account for every network
# but hers.
set -eu -o pipefail
PSQL=("$ACCTSEC_BIN/psql" -X -q -At -v ON_ERROR_STOP=1)
PGBENCH="$ACCTSEC_BIN/pgbench"
DB=acctsec_attacks
W=$ACCTSEC_TMP/attacks
mkdir -p "$W"
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
"${PSQL[@]}" -d $DB -c "CREATE EXTENSION acctsec"

# alice has logged in from home before: home is familiar
"${PSQL[@]}" -d $DB -c "SELECT (acctsec.login_attempt('alice', true, '198.51.100.10')).status" >/dev/null

cat >"$W/spray4.sql" <<'SQL'
\set n random(1, 5000)
SELECT acctsec.login_attempt('user' || :n, false, '203.0.113.50');
SQL
cat >"$W/spray6.sql" <<'SQL'
\set h random(1, 1000000)
SELECT acctsec.login_attempt('user' || (:h % 5000), false, ('2001:db8:666:1::'::inet + :h));
SQL
cat >"$W/lockout.sql" <<'SQL'
\set a random(1, 16000000)
SELECT acctsec.login_attempt('alice', false, '10.0.0.0'::inet + :a);
SQL
# the real user: 60 logins from home while the attacks run, one of them
# with a typo first
{
  for i in $(seq 1 60); do
    [ "$i" -eq 30 ] && echo "SELECT 'typo', (acctsec.login_attempt('alice', false, '198.51.100.10')).status;"
    echo "SELECT 'home', (acctsec.login_attempt('alice', true, '198.51.100.10')).status;"
    echo "SELECT pg_sleep(0.02);"
  done
} >"$W/alice.sql"

"$PGBENCH" -n -c 2 -t 1500 -f "$W/spray4.sql" $DB >"$W/spray4.log" 2>&1 &
p1=$!
"$PGBENCH" -n -c 2 -t 1500 -f "$W/spray6.sql" $DB >"$W/spray6.log" 2>&1 &
p2=$!
"$PGBENCH" -n -c 2 -t 1500 -f "$W/lockout.sql" $DB >"$W/lockout.log" 2>&1 &
p3=$!
sleep 0.3
"${PSQL[@]}" -d $DB -f "$W/alice.sql" >"$W/alice.out"
wait $p1 || { cat "$W/spray4.log"; exit 1; }
wait $p2 || { cat "$W/spray6.log"; exit 1; }
wait $p3 || { cat "$W/lockout.log"; exit 1; }
echo "alice's logins from home: $(grep -c '^home|ok$' "$W/alice.out") ok of $(grep -c '^home' "$W/alice.out")"

# the attacker, at last, has the right password (from a fresh address) and
# alice, travelling, logs in from a new network: both are refused
"${PSQL[@]}" -d $DB <<'SQL'
\set QUIET on
CREATE TEMP TABLE late AS
SELECT (acctsec.login_attempt('alice', true, '10.200.0.1')).status AS attacker_right_password,
       (acctsec.login_attempt('alice', true, '192.0.2.77')).status AS alice_travelling;
\pset footer off
\pset tuples_only off
\pset format aligned
SELECT * FROM late;
SELECT outcome, count(*) FROM acctsec.login_attempts
WHERE account = 'alice' AND ip = '198.51.100.10' GROUP BY outcome ORDER BY outcome;
SELECT CASE WHEN ip << '10.0.0.0/8' THEN 'lockout attack on alice'
            WHEN family(ip) = 6 THEN 'spraying from one IPv6 /64'
            ELSE 'spraying from one IPv4 address' END AS attack,
       count(*) AS attempts,
       count(*) FILTER (WHERE outcome = 'failed') AS checked_and_failed,
       count(*) FILTER (WHERE outcome = 'locked') AS locked,
       count(*) FILTER (WHERE outcome = 'throttled') AS throttled,
       count(*) FILTER (WHERE outcome = 'ok') AS allowed
FROM acctsec.login_attempts
WHERE ip << '10.0.0.0/8' OR ip = '203.0.113.50' OR ip << '2001:db8:666:1::/64'
GROUP BY 1 ORDER BY 1;
SELECT network, failures, accounts, throttled_until > now() AS throttled
FROM acctsec.network_status('203.0.113.50')
UNION ALL SELECT network, failures, accounts, throttled_until > now()
FROM acctsec.network_status('2001:db8:666:1::abcd');
SELECT failed_attempts, locked_until > now() AS locked_for_others, lockouts,
       familiar_failed_attempts, familiar_locked_until, familiar_networks
FROM acctsec.account_status('alice');
SELECT max(failed_attempts) AS most_failures_on_one_sprayed_account,
       count(*) FILTER (WHERE locked_until > now()) AS sprayed_accounts_locked
FROM acctsec.accounts WHERE account LIKE 'user%';

DO $$
DECLARE
  home_total int; home_ok int; bad int;
BEGIN
  SELECT count(*), count(*) FILTER (WHERE outcome = 'ok') INTO home_total, home_ok
  FROM acctsec.login_attempts WHERE account = 'alice' AND ip = '198.51.100.10' AND outcome <> 'failed';
  IF home_total < 61 OR home_ok <> home_total THEN
    RAISE EXCEPTION 'the real user was refused: % of % logins from home allowed', home_ok, home_total;
  END IF;
  SELECT count(*) INTO bad FROM acctsec.login_attempts
  WHERE outcome = 'ok' AND (ip << '10.0.0.0/8' OR ip = '203.0.113.50' OR ip << '2001:db8:666:1::/64');
  IF bad > 0 THEN RAISE EXCEPTION 'an attacker was allowed % times', bad; END IF;
  IF (SELECT attacker_right_password <> 'locked' OR alice_travelling <> 'locked' FROM late) THEN
    RAISE EXCEPTION 'the lockout did not hold for unfamiliar networks';
  END IF;
  -- spraying: each network checks at most network_max_accounts guesses
  SELECT count(*) INTO bad FROM acctsec.login_attempts
  WHERE outcome = 'failed' AND (ip = '203.0.113.50' OR ip << '2001:db8:666:1::/64');
  IF bad > 20 THEN RAISE EXCEPTION 'spraying networks had % guesses checked (at most 20 expected)', bad; END IF;
  IF NOT (SELECT throttled_until > now() FROM acctsec.network_status('203.0.113.50'))
     OR NOT (SELECT throttled_until > now() FROM acctsec.network_status('2001:db8:666:1::1')) THEN
    RAISE EXCEPTION 'a spraying network is not throttled';
  END IF;
  -- lockout: the account is locked for unfamiliar networks, not for home
  IF NOT (SELECT locked_until > now() AND familiar_locked_until IS NULL
          FROM acctsec.account_status('alice')) THEN
    RAISE EXCEPTION 'alice is not locked for unfamiliar networks only';
  END IF;
  RAISE NOTICE 'attacks stopped, the real user got through';
END $$;
SQL
rc=$?
"${PSQL[@]}" -d postgres -c "DROP DATABASE $DB"
exit $rc
