-- Backup codes: generation, format, single use, replacement, storage,
-- privileges and every error.  Codes are kept in a temporary table and only
-- their properties are printed.
\set VERBOSITY terse
-- Wrong codes count toward lockout; this file tries many on purpose, so the
-- lockout is off here (sql/second_factor.sql tests the two together).
SET acctsec.max_failed_attempts = 0;

-- ten by default: two groups of six from an alphabet without 0, 1, i, l, o
CREATE TEMP TABLE codes AS
  SELECT row_number() OVER () AS n, c AS code FROM acctsec.backup_codes_generate('bc-alice') AS c;
SELECT count(*) AS generated,
       bool_and(code ~ '^[2-9a-hjkmnp-z]{6}-[2-9a-hjkmnp-z]{6}$') AS format_ok,
       count(DISTINCT code) AS distinct_codes
FROM codes;
SELECT acctsec.backup_codes_remaining('bc-alice') AS remaining;
-- each code works once
SELECT acctsec.backup_code_verify('bc-alice', code) AS first_use FROM codes WHERE n = 1;
SELECT acctsec.backup_code_verify('bc-alice', code) AS second_use FROM codes WHERE n = 1;
SELECT acctsec.backup_codes_remaining('bc-alice') AS remaining;
-- case, spaces and dashes do not matter
SELECT acctsec.backup_code_verify('bc-alice', upper(code)) AS upper_case FROM codes WHERE n = 2;
SELECT acctsec.backup_code_verify('bc-alice', ' ' || replace(code, '-', ' ') || ' ') AS spaces FROM codes WHERE n = 3;
SELECT acctsec.backup_code_verify('bc-alice', replace(code, '-', '')) AS no_dash FROM codes WHERE n = 4;
SELECT acctsec.backup_code_verify('bc-alice', regexp_replace(code, '(..)(..)(..)-', '\1-\2-\3--')) AS more_dashes FROM codes WHERE n = 5;
SELECT acctsec.backup_codes_remaining('bc-alice') AS remaining;
-- wrong, malformed or foreign codes are false
SELECT acctsec.backup_code_verify('bc-alice', 'aaaaaa-aaaaaa') AS wrong,
       acctsec.backup_code_verify('bc-alice', '') AS empty,
       acctsec.backup_code_verify('bc-alice', 'abc') AS short,
       acctsec.backup_code_verify('bc-alice', repeat('a', 100000)) AS huge,
       acctsec.backup_code_verify('bc-alice', 'ooo111-iiilll') AS look_alikes,
       acctsec.backup_code_verify('bc-nobody', 'aaaaaa-aaaaaa') AS unknown_account,
       acctsec.backup_code_verify('bc-alice', NULL) IS NULL AS null_code;
-- one character changed, or one more, is not a match
SELECT acctsec.backup_code_verify('bc-alice', overlay(code placing CASE substr(code, 1, 1) WHEN 'a' THEN 'b' ELSE 'a' END from 1 for 1)) AS one_changed,
       acctsec.backup_code_verify('bc-alice', code || 'a') AS one_more
FROM codes WHERE n = 6;
-- another account's code is not this account's
SELECT count(*) AS bob_codes FROM acctsec.backup_codes_generate('bc-bob', 3);
SELECT acctsec.backup_code_verify('bc-bob', code) AS alice_code_for_bob FROM codes WHERE n = 7;
-- a hash moved to another account's row does not verify either (the account is hashed in)
BEGIN;
UPDATE acctsec.backup_codes b SET code_hash = a.code_hash
FROM acctsec.backup_codes a
WHERE a.account = 'bc-alice' AND a.code_no = 7 AND b.account = 'bc-bob' AND b.code_no = 1;
SELECT acctsec.backup_code_verify('bc-bob', code) AS moved_hash FROM codes WHERE n = 7;
ROLLBACK;

-- stored only as keyed hashes: version, key id, 32-byte BLAKE2b; no code inside
SELECT count(*) AS rows, min(length(code_hash)) AS min_bytes, max(length(code_hash)) AS max_bytes,
       bool_and(get_byte(code_hash, 0) = 1) AS version_1
FROM acctsec.backup_codes WHERE account = 'bc-alice';
SELECT count(*) AS hashes_holding_a_code
FROM acctsec.backup_codes b, codes c
WHERE b.account = 'bc-alice'
  AND (position(convert_to(c.code, 'UTF8') IN b.code_hash) > 0
       OR position(convert_to(replace(c.code, '-', ''), 'UTF8') IN b.code_hash) > 0);
SELECT bool_and(substr(encode(code_hash, 'hex'), 3, 8) = k.key_id) AS under_current_key
FROM acctsec.backup_codes, acctsec.key_status() k WHERE k.is_current;
-- an altered hash, or one naming a key that is not configured
BEGIN;
UPDATE acctsec.backup_codes SET code_hash = set_byte(code_hash, 20, get_byte(code_hash, 20) # 1)
WHERE account = 'bc-alice' AND code_no = 8;
SELECT acctsec.backup_code_verify('bc-alice', code) AS altered_hash FROM codes WHERE n = 8;
ROLLBACK;
BEGIN;
UPDATE acctsec.backup_codes SET code_hash = set_byte(code_hash, 1, get_byte(code_hash, 1) # 1)
WHERE account = 'bc-alice' AND code_no = 8;
SELECT regress.error_of($$SELECT acctsec.backup_code_verify('bc-alice', 'aaaaaa-aaaaaa')$$) AS unknown_key;
ROLLBACK;

-- a new set replaces the old one: no old code works any more
SELECT count(*) AS new_set FROM acctsec.backup_codes_generate('bc-alice', 5);
SELECT acctsec.backup_codes_remaining('bc-alice') AS remaining;
SELECT count(*) FILTER (WHERE acctsec.backup_code_verify('bc-alice', code)) AS old_codes_accepted FROM codes;
SELECT count(*) AS rows_for_alice, count(*) FILTER (WHERE used_at IS NOT NULL) AS used
FROM acctsec.backup_codes WHERE account = 'bc-alice';
-- the largest set, and a smaller one after it: the rows beyond it go
SELECT count(*) AS hundred FROM acctsec.backup_codes_generate('bc-carol', 100);
SELECT count(*) AS one FROM acctsec.backup_codes_generate('bc-carol', 1);
SELECT acctsec.backup_codes_remaining('bc-carol') AS remaining, count(*) AS rows
FROM acctsec.backup_codes WHERE account = 'bc-carol';
-- randomness: 100 codes (1200 symbols), all distinct, every symbol of the alphabet used
SELECT count(DISTINCT c) AS distinct_codes,
       count(DISTINCT s) AS symbols_seen
FROM acctsec.backup_codes_generate('bc-dave', 100) AS c,
     regexp_split_to_table(replace(c, '-', ''), '') AS s;

-- bad arguments
SELECT regress.error_of(s) AS outcome, s AS statement FROM unnest(ARRAY[
  $$SELECT acctsec.backup_codes_generate('bc-erin', 0)$$,
  $$SELECT acctsec.backup_codes_generate('bc-erin', 101)$$,
  $$SELECT acctsec.backup_codes_generate('bc-erin', -5)$$,
  $$SELECT acctsec.backup_codes_generate('', 10)$$,
  $$SELECT acctsec.backup_code_verify(repeat('x', 1025), 'aaaaaa-aaaaaa')$$,
  $$SELECT acctsec.backup_codes_remaining('')$$
]) AS s;
SELECT count(*) AS erin_rows FROM acctsec.backup_codes WHERE account = 'bc-erin';
SELECT acctsec.backup_codes_remaining('bc-nobody') AS unknown_account_remaining,
       (SELECT count(*) FROM acctsec.backup_codes_generate(NULL)) AS null_account,
       (SELECT count(*) FROM acctsec.backup_codes_generate('bc-erin', NULL)) AS null_how_many;

-- privileges
SELECT * FROM regress.declared('backup_codes_generate', 'backup_code_verify', 'backup_codes_remaining');
SELECT regress.dumped('acctsec.backup_codes') AS dumped;
CREATE ROLE regress_backup_app;
SET ROLE regress_backup_app;
SELECT regress.error_of($$SELECT acctsec.backup_code_verify('bc-alice', 'aaaaaa-aaaaaa')$$) AS not_granted;
RESET ROLE;
GRANT EXECUTE ON FUNCTION acctsec.backup_code_verify(text, text) TO regress_backup_app;
SET ROLE regress_backup_app;
SELECT acctsec.backup_code_verify('bc-alice', 'aaaaaa-aaaaaa') AS granted_verify;
SELECT regress.error_of($$SELECT * FROM acctsec.backup_codes$$) AS read_table;
RESET ROLE;
REVOKE ALL ON FUNCTION acctsec.backup_code_verify(text, text) FROM regress_backup_app;
DROP ROLE regress_backup_app;
