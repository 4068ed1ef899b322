-- Smart lockout (SPEC section 11): familiar networks, failures counted and
-- locked apart for familiar and unfamiliar networks, TTL, the per-account
-- limit with least-recently-used eviction.
\set VERBOSITY terse

-- the split as account_status shows it: the columns for every other network
-- (NULL ip included), then the familiar ones
CREATE FUNCTION pg_temp.split(acct text)
RETURNS TABLE(failed int, locked_min numeric, lockouts int,
              fam_failed int, fam_locked_min numeric, fam_lockouts int,
              familiar_networks int, login_count bigint)
LANGUAGE sql AS $$
  SELECT s.failed_attempts, regress.mins(s.locked_until - now()), s.lockouts,
         s.familiar_failed_attempts, regress.mins(s.familiar_locked_until - now()),
         s.familiar_lockouts, s.familiar_networks, s.login_count
  FROM acctsec.account_status(acct) AS s
$$;
CREATE FUNCTION pg_temp.familiar(acct text)
RETURNS TABLE(network cidr, last_used_min_ago numeric)
LANGUAGE sql AS $$
  SELECT f.network, round(extract(epoch FROM now() - f.last_used_at) / 60)
  FROM acctsec.familiar_networks f WHERE f.account = acct ORDER BY f.last_used_at DESC, f.network
$$;
CREATE PROCEDURE pg_temp.age_familiar(acct text, by interval) LANGUAGE sql AS $$
  UPDATE acctsec.familiar_networks SET first_used_at = first_used_at - by,
         last_used_at = last_used_at - by
  WHERE account = acct;
$$;

-- the user logs in from home: home becomes familiar
SELECT * FROM regress.attempt('sam', true, '198.51.100.10');
SELECT * FROM pg_temp.familiar('sam');
SELECT * FROM pg_temp.split('sam');

-- Targeted lockout: an attacker who knows the name fails five times from
-- elsewhere.  That locks the account for unfamiliar networks ...
SELECT n, (regress.attempt('sam', false, '203.0.113.5')).* FROM generate_series(1, 5) AS n;
SELECT * FROM pg_temp.split('sam');
-- ... for every other network, and for calls without an address, the right
-- password included ...
SELECT * FROM regress.attempt('sam', true, '203.0.113.99');
SELECT * FROM regress.attempt('sam', true);
-- ... but not for the user at home: allowed, and the lock earned elsewhere
-- (and its backoff level) stays for the others
SELECT * FROM regress.attempt('sam', true, '198.51.100.10');
SELECT * FROM pg_temp.split('sam');
SELECT * FROM regress.attempt('sam', true, '203.0.113.99');
-- a mistyped password at home counts in the familiar counter only
SELECT * FROM regress.attempt('sam', false, '198.51.100.10');
SELECT * FROM pg_temp.split('sam');
SELECT * FROM regress.attempt('sam', true, '198.51.100.10');
SELECT * FROM pg_temp.split('sam');

-- A lockout earned from a familiar network stops every login
SELECT n, (regress.attempt('sam', false, '198.51.100.10')).* FROM generate_series(1, 5) AS n;
SELECT * FROM pg_temp.split('sam');
SELECT * FROM regress.attempt('sam', true, '198.51.100.10');
SELECT * FROM regress.attempt('sam', true, '192.0.2.200');
SELECT * FROM regress.attempt('sam', true);
-- the familiar set has its own backoff: the next familiar lockout doubles
CALL regress.age_account('sam', '16 min');
SELECT (regress.attempt('sam', false, '198.51.100.10')).* FROM generate_series(1, 5) OFFSET 4;
SELECT fam_lockouts, lockouts FROM pg_temp.split('sam');

-- unlock clears both sets; the familiar networks stay
SELECT acctsec.unlock('sam') AS was_locked;
SELECT * FROM pg_temp.split('sam');

-- a success from a new network (nothing locked) makes it familiar too, and
-- resets the counter of its own kind only
SELECT (regress.attempt('sam', false, '198.51.100.10')).failed_attempts AS familiar_failure,
       (regress.attempt('sam', false, '203.0.113.5')).failed_attempts AS other_failure;
SELECT * FROM regress.attempt('sam', true, '192.0.2.201');
SELECT * FROM pg_temp.split('sam');
SELECT * FROM pg_temp.familiar('sam');

-- IPv6: familiarity is per network (the /64), not per address
SELECT (regress.attempt('ivy', true, '2001:db8:5:6::1')).status;
SELECT (regress.attempt('ivy', false, '2001:db8:7::1')).status FROM generate_series(1, 5);
SELECT (regress.attempt('ivy', true, '2001:db8:5:6:aaaa:bbbb:cccc:dddd')).status AS same_64,
       (regress.attempt('ivy', true, '2001:db8:5:7::1')).status AS other_64;

-- TTL: a network not used for familiar_network_ttl (30 days) is no longer
-- familiar; the unfamiliar lock then stops the login from it
SELECT (regress.attempt('tom', true, '198.51.100.20')).status;
SELECT (regress.attempt('tom', false, '203.0.113.7')).status FROM generate_series(1, 5);
CALL pg_temp.age_familiar('tom', '719 hours');  -- 30 days less one hour
SELECT familiar_networks FROM pg_temp.split('tom');
CALL pg_temp.age_familiar('tom', '1 hour');
SELECT familiar_networks FROM pg_temp.split('tom');
SELECT * FROM regress.attempt('tom', true, '198.51.100.20');
-- a shorter TTL applies at once
SELECT acctsec.unlock('tom');
SELECT (regress.attempt('tom', true, '198.51.100.20')).status;
SET acctsec.familiar_network_ttl = '1h';
CALL pg_temp.age_familiar('tom', '61 min');
SELECT familiar_networks FROM pg_temp.split('tom');
RESET acctsec.familiar_network_ttl;
SELECT familiar_networks FROM pg_temp.split('tom');

-- The last use is noted at most once an hour (a user's every login is not
-- a write); after that the login moves it
SELECT (regress.attempt('una', true, '198.51.100.30')).status;
CALL regress.age_account('una', '30 min');
SELECT (regress.attempt('una', true, '198.51.100.30')).status;
SELECT * FROM pg_temp.familiar('una');
CALL regress.age_account('una', '31 min');
SELECT (regress.attempt('una', true, '198.51.100.30')).status;
SELECT * FROM pg_temp.familiar('una');

-- At most max_familiar_networks per account: the least recently used goes;
-- expired ones go first
SET acctsec.max_familiar_networks = 3;
SELECT (regress.attempt('vic', true, '198.51.100.41')).status;
CALL pg_temp.age_familiar('vic', '24 hours');
SELECT (regress.attempt('vic', true, '198.51.100.42')).status;
CALL pg_temp.age_familiar('vic', '24 hours');
SELECT (regress.attempt('vic', true, '198.51.100.43')).status;
SELECT * FROM pg_temp.familiar('vic');
SELECT (regress.attempt('vic', true, '198.51.100.41')).status;   -- 41 used again
SELECT * FROM pg_temp.familiar('vic');
SELECT (regress.attempt('vic', true, '198.51.100.44')).status;   -- 42 goes
SELECT * FROM pg_temp.familiar('vic');
UPDATE acctsec.familiar_networks SET last_used_at = now() - interval '31 days'
WHERE account = 'vic' AND network = '198.51.100.41/32';
SELECT (regress.attempt('vic', true, '198.51.100.45')).status;   -- expired 41 goes, 43 stays
SELECT * FROM pg_temp.familiar('vic');
SELECT familiar_networks FROM pg_temp.split('vic');
RESET acctsec.max_familiar_networks;

-- Smart lockout off: every failure counts together, as in section 3, and
-- any lock stops every login
SELECT (regress.attempt('wes', true, '198.51.100.50')).status;
SET acctsec.smart_lockout = off;
SELECT (regress.attempt('wes', false, '198.51.100.50')).failed_attempts AS from_home,
       (regress.attempt('wes', false, '203.0.113.8')).failed_attempts AS from_elsewhere;
SELECT (regress.attempt('wes', false, '203.0.113.8')).status FROM generate_series(1, 3);
SELECT * FROM regress.attempt('wes', true, '198.51.100.50');
SELECT * FROM pg_temp.split('wes');
-- nothing new becomes familiar while it is off
SELECT (regress.attempt('wes_new', true, '198.51.100.51')).status;
SELECT count(*) AS familiar_rows FROM acctsec.familiar_networks WHERE account = 'wes_new';
RESET acctsec.smart_lockout;
-- on again, that lock counts as earned elsewhere: home gets through
SELECT * FROM regress.attempt('wes', true, '198.51.100.50');
SELECT * FROM regress.attempt('wes', true, '203.0.113.8');
-- and a familiar lock stops everything, also once smart lockout is off
SELECT (regress.attempt('wes', false, '198.51.100.50')).status FROM generate_series(1, 5) OFFSET 4;
SET acctsec.smart_lockout = off;
SELECT (regress.attempt('wes', true, '198.51.100.50')).status AS home_off,
       (regress.attempt('wes', true)).status AS no_ip_off;
RESET acctsec.smart_lockout;

-- Calls without an address are never familiar: section 3 exactly
SELECT (regress.attempt('xan', true)).status;
SELECT n, (regress.attempt('xan', false)).* FROM generate_series(1, 5) AS n;
SELECT * FROM pg_temp.split('xan');

-- TOTP with smart lockout: the second factor is judged by where its
-- password login came from
SET acctsec.totp_window = 2;   -- two logins here, each needs a later time step
SELECT (regress.attempt('yul', true, '198.51.100.60')).status AS from_home;
SELECT secret AS yul FROM acctsec.totp_enroll('yul') \gset
SELECT acctsec.totp_confirm('yul', regress.code(:'yul')) AS confirmed;
SELECT (regress.attempt('yul', false, '203.0.113.9')).status FROM generate_series(1, 5);
-- from home the password asks for the code, and the code completes the
-- login although the account is locked for other networks
SELECT * FROM regress.attempt('yul', true, '198.51.100.60');
SELECT pending_login_familiar, pending_login_ip FROM acctsec.accounts WHERE account = 'yul';
SELECT acctsec.totp_verify('yul', regress.code(:'yul', 1)) AS verified_at_home;
SELECT failed, locked_min, fam_failed, login_count FROM pg_temp.split('yul');
-- a wrong code after a password from home counts in the familiar set
SELECT (regress.attempt('yul', true, '198.51.100.60')).status;
SELECT acctsec.totp_verify('yul', lpad(((regress.code(:'yul', 2)::int + 1) % 1000000)::text, 6, '0')) AS wrong_code;
SELECT failed, locked_min, fam_failed FROM pg_temp.split('yul');
-- from elsewhere the lock holds, the right password included
SELECT * FROM regress.attempt('yul', true, '203.0.113.9');
-- once unlocked, a login from a new network completed by its code makes
-- that network familiar
SELECT acctsec.unlock('yul') AS unlocked;
SELECT (regress.attempt('yul', true, '192.0.2.210')).status;
SELECT familiar_networks FROM pg_temp.split('yul');
SELECT acctsec.totp_verify('yul', regress.code(:'yul', 2)) AS verified_on_the_road;
SELECT * FROM pg_temp.familiar('yul');
RESET acctsec.totp_window;

-- A throttled network refuses even a user to whom it is familiar (an
-- attacker sharing the network would otherwise go on): trust it instead
SET acctsec.network_max_failures = 2;
SELECT (regress.attempt('zed', true, '198.51.100.70')).status;
SELECT (regress.attempt('zed_' || n, false, '198.51.100.70')).status FROM generate_series(1, 2) AS n;
SELECT (regress.attempt('zed', true, '198.51.100.70')).status;
SET acctsec.trusted_networks = '198.51.100.70/32';
SELECT (regress.attempt('zed', true, '198.51.100.70')).status;
RESET acctsec.trusted_networks;
RESET acctsec.network_max_failures;

-- Security events of the smart-lockout decisions, for sam (before forget)
SELECT operation, new_values - ARRAY['locked_until', 'unfamiliar_locked_until'] AS details
FROM acctsec.audit_log WHERE account = 'sam' AND operation LIKE 'login.%' ORDER BY id;

-- forget_account erases the familiar networks with the account
SELECT count(*) AS before FROM acctsec.familiar_networks WHERE account = 'sam';
SELECT acctsec.forget_account('sam');
SELECT count(*) AS after FROM acctsec.familiar_networks WHERE account = 'sam';

-- prune_networks removes expired familiar networks (and nothing else)
UPDATE acctsec.familiar_networks SET last_used_at = now() - interval '31 days' WHERE account = 'vic';
SELECT count(*) AS familiar_rows FROM acctsec.familiar_networks \gset
SELECT acctsec.prune_networks() >= 2 AS pruned;
SELECT :familiar_rows - count(*) AS familiar_pruned FROM acctsec.familiar_networks;

-- clean up
SELECT count(acctsec.forget_account(account)) > 0 AS forgotten FROM acctsec.accounts;
TRUNCATE acctsec.networks;
