-- Throttling across accounts (SPEC section 11): networks, their counters,
-- throttles with doubling and cap, trusted networks, network_status and
-- unthrottle.  Smart lockout has its own file (smart_lockout.sql).
\set VERBOSITY terse

CREATE FUNCTION pg_temp.net(ip inet)
RETURNS TABLE(network cidr, failures int, accounts int, throttled_min numeric)
LANGUAGE sql AS $$
  SELECT s.network, s.failures, s.accounts, regress.mins(s.throttled_until - now())
  FROM acctsec.network_status(ip) AS s
$$;
-- pretend time has passed for a network: shift its timestamps back
CREATE PROCEDURE pg_temp.age_net(ip inet, by interval) LANGUAGE sql AS $$
  UPDATE acctsec.networks SET window_started_at = window_started_at - by,
         throttled_until = throttled_until - by, expires_at = expires_at - by
  WHERE network = (acctsec.network_status(ip)).network
$$;

-- the settings: PGC_SUSET, durations in seconds
SELECT (acctsec.network_status('192.0.2.1')).failures;  -- loads the library
SELECT name, setting, unit, vartype, context, min_val, max_val, boot_val
FROM pg_settings
WHERE name IN ('acctsec.ipv6_prefix_length', 'acctsec.network_failure_window',
               'acctsec.network_max_failures', 'acctsec.network_max_accounts',
               'acctsec.network_throttle_duration', 'acctsec.trusted_networks',
               'acctsec.smart_lockout', 'acctsec.familiar_network_ttl',
               'acctsec.max_familiar_networks')
ORDER BY name;

-- Networks: an IPv4 address is its own; IPv6 is grouped by its /64 (the
-- setting), an IPv4-mapped IPv6 address is the IPv4 address; the mask
-- given with an address does not matter
SELECT ip, (acctsec.network_status(ip)).network FROM unnest(ARRAY[
  '192.0.2.1', '192.0.2.1/24', '2001:db8:1:2:3:4:5:6', '2001:db8:1:2:ffff::1/128',
  '2001:db8:1:3::1', '::ffff:198.51.100.7', '::1']::inet[]) AS ip;
SET acctsec.ipv6_prefix_length = 48;
SELECT (acctsec.network_status('2001:db8:1:2:3:4:5:6')).network AS prefix_48;
SET acctsec.ipv6_prefix_length = 128;
SELECT (acctsec.network_status('2001:db8:1:2:3:4:5:6')).network AS prefix_128;
RESET acctsec.ipv6_prefix_length;
-- a network never seen: no failures, not throttled, and no row is made
SELECT * FROM pg_temp.net('203.0.113.200');
SELECT count(*) AS network_rows FROM acctsec.networks WHERE network = '203.0.113.200/32';

-- Spraying: failing on network_max_accounts (10) distinct accounts within
-- the window throttles the network for network_throttle_duration (15 min);
-- the failure that reaches the limit is counted and answers throttled
SELECT n, (regress.attempt('spray' || n, false, '192.0.2.10')).*
FROM generate_series(1, 10) AS n;
SELECT * FROM pg_temp.net('192.0.2.10');
-- the same account again does not add an account
SELECT * FROM regress.attempt('spray1', false, '192.0.2.11');
SELECT * FROM regress.attempt('spray1', false, '192.0.2.11');
SELECT * FROM pg_temp.net('192.0.2.11');

-- while throttled: throttled, not allowed, whatever success says, and
-- nothing counts against the account (no row is even made for a new one)
SELECT * FROM regress.attempt('spray1', true, '192.0.2.10');
SELECT * FROM regress.attempt('spray1', false, '192.0.2.10');
SELECT * FROM regress.attempt('bystander', true, '192.0.2.10');
SELECT failed_attempts, login_count, last_failed_at IS NOT NULL AS failed_before
FROM acctsec.account_status('spray1');
SELECT count(*) AS bystander_rows FROM acctsec.accounts WHERE account = 'bystander';
SELECT outcome, ip FROM acctsec.login_attempts WHERE account = 'bystander';
-- the throttle is not extended by refused calls, and the neighbour address
-- (another IPv4 network) is not throttled
SELECT * FROM pg_temp.net('192.0.2.10');
SELECT * FROM regress.attempt('bystander', true, '192.0.2.12');
-- calls without an address belong to no network
SELECT * FROM regress.attempt('spray2', false);

-- Failures: network_max_failures failures throttle too, on one account
SET acctsec.network_max_failures = 3;
SELECT n, (regress.attempt('target', false, '192.0.2.20')).* FROM generate_series(1, 3) AS n;
SELECT failed_attempts FROM acctsec.account_status('target');
RESET acctsec.network_max_failures;

-- The window: failures further back than network_failure_window (15 min)
-- from the window's start do not add up
SET acctsec.network_max_failures = 3;
SELECT (regress.attempt('w' || n, false, '192.0.2.30')).status FROM generate_series(1, 2) AS n;
CALL pg_temp.age_net('192.0.2.30', '14 min');
SELECT * FROM pg_temp.net('192.0.2.30');
CALL pg_temp.age_net('192.0.2.30', '1 min');
SELECT * FROM pg_temp.net('192.0.2.30');
SELECT (regress.attempt('w3', false, '192.0.2.30')).status;
SELECT (regress.attempt('w4', false, '192.0.2.30')).status;
SELECT * FROM pg_temp.net('192.0.2.30');
SELECT (regress.attempt('w5', false, '192.0.2.30')).status;

-- Doubling: each further throttle is twice as long (15, 30, 60 min) ...
-- (the account itself never locks here: max_failed_attempts 0)
SET acctsec.network_max_failures = 2;
SET acctsec.max_failed_attempts = 0;
SELECT (regress.attempt('d', false, '192.0.2.40')).* FROM generate_series(1, 2) OFFSET 1;
CALL pg_temp.age_net('192.0.2.40', '16 min');
SELECT * FROM pg_temp.net('192.0.2.40');
SELECT (regress.attempt('d', false, '192.0.2.40')).* FROM generate_series(1, 2) OFFSET 1;
CALL pg_temp.age_net('192.0.2.40', '31 min');
SELECT (regress.attempt('d', false, '192.0.2.40')).* FROM generate_series(1, 2) OFFSET 1;
-- ... capped at max_lockout_duration
SET acctsec.max_lockout_duration = '70min';
CALL pg_temp.age_net('192.0.2.40', '61 min');
SELECT (regress.attempt('d', false, '192.0.2.40')).* FROM generate_series(1, 2) OFFSET 1;
SELECT throttles FROM acctsec.networks WHERE network = '192.0.2.40/32';
RESET acctsec.max_lockout_duration;
-- the level is forgotten once as long again as the last throttle has
-- passed: the row expires, and the next throttle is 15 min again
CALL pg_temp.age_net('192.0.2.40', '139 min');
SELECT expires_at > now() AS still_remembered FROM acctsec.networks WHERE network = '192.0.2.40/32';
CALL pg_temp.age_net('192.0.2.40', '2 min');
SELECT expires_at > now() AS still_remembered FROM acctsec.networks WHERE network = '192.0.2.40/32';
SELECT (regress.attempt('d', false, '192.0.2.40')).* FROM generate_series(1, 2) OFFSET 1;
RESET acctsec.network_max_failures;
RESET acctsec.max_failed_attempts;

-- 0 never throttles: neither failures nor accounts
SET acctsec.network_max_failures = 0;
SET acctsec.network_max_accounts = 0;
SELECT count(*) FILTER (WHERE r.status = 'throttled') AS throttled, count(*) AS calls
FROM generate_series(1, 60) AS n, regress.attempt('z' || n, false, '192.0.2.50') AS r;
SELECT * FROM pg_temp.net('192.0.2.50');
RESET acctsec.network_max_failures;
RESET acctsec.network_max_accounts;

-- IPv6: the whole /64 is one network, another /64 is another
SELECT n, (regress.attempt('v6_' || n, false, ('2001:db8:aa:1::' || to_hex(n))::inet)).status
FROM generate_series(1, 10) AS n OFFSET 8;
SELECT * FROM pg_temp.net('2001:db8:aa:1:ffff:ffff:ffff:ffff');
SELECT (regress.attempt('v6_1', true, '2001:db8:aa:1::9999')).status AS same_64,
       (regress.attempt('v6_1', true, '2001:db8:aa:2::1')).status AS next_64;

-- Trusted networks are never throttled (nor counted)
SET acctsec.trusted_networks = '192.0.2.64/28, 2001:db8:bb::/48';
SHOW acctsec.trusted_networks;
SELECT count(*) FILTER (WHERE r.status = 'throttled') AS throttled, count(*) AS calls
FROM generate_series(1, 60) AS n, regress.attempt('t' || n, false, '192.0.2.70') AS r;
SELECT count(*) FILTER (WHERE r.status = 'throttled') AS throttled, count(*) AS calls
FROM generate_series(1, 20) AS n, regress.attempt('t' || n, false, '2001:db8:bb:cc::1') AS r;
SELECT * FROM pg_temp.net('192.0.2.70');
-- one address outside the list is throttled as usual
SELECT n, (regress.attempt('t' || n, false, '192.0.2.80')).status FROM generate_series(1, 10) AS n OFFSET 8;
-- an already throttled network stops being refused once it is trusted
SET acctsec.trusted_networks = '192.0.2.80/32';
SELECT (regress.attempt('t1', true, '192.0.2.80')).status AS trusted_now;
RESET acctsec.trusted_networks;
SELECT (regress.attempt('t1', true, '192.0.2.80')).status AS untrusted_again;
-- the list is checked: CIDRs only, no bits right of the mask, no empty entry
SELECT regress.error_of(s) AS outcome, s AS statement FROM unnest(ARRAY[
  $$SET acctsec.trusted_networks = '10.0.0.1/8'$$,
  $$SET acctsec.trusted_networks = 'intranet'$$,
  $$SET acctsec.trusted_networks = '10.0.0.0/33'$$,
  $$SET acctsec.trusted_networks = '10.0.0.0/8,,192.168.0.0/16'$$,
  $$SET acctsec.trusted_networks = '2001:db8::1/32'$$,
  $$SET acctsec.ipv6_prefix_length = 0$$,
  $$SET acctsec.network_max_accounts = 1001$$,
  $$SET acctsec.network_throttle_duration = 0$$
]) AS s;
SET acctsec.trusted_networks = ' 10.0.0.0/8 ,192.168.0.0/16,::1/128 ';
SHOW acctsec.trusted_networks;
SET acctsec.trusted_networks = '';
SELECT (acctsec.network_status('10.1.2.3')).failures AS empty_list_ok;
RESET acctsec.trusted_networks;

-- unthrottle: true when the network was throttled; it forgets the counters
-- and the doubling level too; false for a network that is not throttled
SELECT acctsec.unthrottle('192.0.2.10') AS was_throttled,
       acctsec.unthrottle('192.0.2.10') AS again,
       acctsec.unthrottle('192.0.2.11') AS counted_only,
       acctsec.unthrottle('203.0.113.250') AS unknown;
SELECT * FROM pg_temp.net('192.0.2.10');
SELECT * FROM regress.attempt('spray1', true, '192.0.2.10');

-- Pruning: expired rows are deleted by prune_networks, and a few at a time
-- (4 for each new network row, done by a backend for 8 new rows at a time,
-- so 8 new rows always delete up to 32); live rows stay
UPDATE acctsec.networks SET expires_at = now() - interval '1 s'
WHERE network IN ('192.0.2.20/32', '192.0.2.30/32', '192.0.2.40/32', '192.0.2.50/32',
                  '192.0.2.80/32', '2001:db8:aa:1::/64');
SELECT count(*) AS live_rows FROM acctsec.networks WHERE expires_at > now() \gset
SELECT count(*) AS expired_rows FROM acctsec.networks WHERE expires_at <= now();
SELECT a.status, count(*) FROM generate_series(1, 8) i,
       regress.attempt('p' || i, false, ('198.51.100.' || (240 + i))::inet) a
 GROUP BY a.status;
SELECT count(*) AS expired_rows FROM acctsec.networks WHERE expires_at <= now();
SELECT count(*) = :live_rows + 8 AS live_rows_kept FROM acctsec.networks;
UPDATE acctsec.networks SET expires_at = now() - interval '1 s'
WHERE network IN ('198.51.100.241/32', '198.51.100.242/32');
SELECT acctsec.prune_networks() AS pruned, acctsec.prune_networks() AS again;
SELECT count(*) = :live_rows + 6 AS live_rows_kept FROM acctsec.networks;

-- Security events: each throttle, each refused call, each unthrottle
SELECT operation, account, new_values - 'throttled_until' AS details,
       round(extract(epoch FROM (new_values->>'throttled_until')::timestamptz - logged_at) / 60) AS throttled_min
FROM acctsec.audit_log
WHERE operation IN ('network.throttled', 'login.throttled', 'network.unthrottled')
  AND new_values->>'network' = '192.0.2.10/32'
ORDER BY id;

-- network_status and unthrottle are STRICT; NULL gives NULL
SELECT acctsec.network_status(NULL) IS NULL AS status_null, acctsec.unthrottle(NULL) IS NULL AS unthrottle_null;

-- privileges: an application role may read network_status, not unthrottle
-- or prune, and not the tables
CREATE ROLE regress_throttle_app;
SELECT acctsec.grant_app_role('regress_throttle_app');
SET ROLE regress_throttle_app;
SELECT network, failures FROM acctsec.network_status('192.0.2.11');
SELECT regress.error_of(s) AS outcome, s AS statement FROM unnest(ARRAY[
  $$SELECT acctsec.unthrottle('192.0.2.11')$$,
  $$SELECT acctsec.prune_networks()$$,
  $$SELECT * FROM acctsec.networks$$,
  $$DELETE FROM acctsec.networks$$,
  $$SELECT * FROM acctsec.familiar_networks$$,
  $$INSERT INTO acctsec.familiar_networks VALUES ('x', '10.0.0.0/8', now(), now())$$,
  $$SET acctsec.trusted_networks = '0.0.0.0/0'$$,
  $$SET acctsec.network_max_accounts = 0$$,
  $$SET acctsec.smart_lockout = off$$
]) AS s;
RESET ROLE;
SELECT acctsec.revoke_app_role('regress_throttle_app');
DROP ROLE regress_throttle_app;

-- volatility, parallel safety, strictness and security of the functions
SELECT p.oid::regprocedure AS function, provolatile, proparallel, proisstrict, prosecdef, proconfig
FROM pg_proc p WHERE pronamespace = 'acctsec'::regnamespace
  AND proname IN ('network_status', 'unthrottle', 'prune_networks')
ORDER BY p.oid::regprocedure::text;
-- both tables are dumped with the extension
SELECT c.relname FROM pg_extension e, unnest(e.extconfig) AS t(oid) JOIN pg_class c ON c.oid = t.oid
WHERE e.extname = 'acctsec' AND c.relname IN ('networks', 'familiar_networks') ORDER BY 1;

-- clean up
SELECT count(acctsec.forget_account(account)) > 0 AS forgotten FROM acctsec.accounts;
TRUNCATE acctsec.networks;
