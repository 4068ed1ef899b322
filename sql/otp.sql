-- One-time-password pure functions: RFC vectors, base32, URIs, bad input.
\set VERBOSITY terse

-- RFC 4226 Appendix D: HOTP, secret "12345678901234567890", counters 0..9
SELECT c AS counter, acctsec.hotp('12345678901234567890'::bytea, c) AS code,
       acctsec.hotp('12345678901234567890'::bytea, c) = (ARRAY['755224','287082','359152','969429',
         '338314','254676','287922','162583','399871','520489'])[c + 1] AS rfc_ok
FROM generate_series(0, 9) AS c;

-- RFC 6238 Appendix B: TOTP, 8 digits, period 30, each algorithm
WITH seeds(alg, seed) AS (VALUES
  ('SHA1',   '12345678901234567890'::bytea),
  ('SHA256', '12345678901234567890123456789012'::bytea),
  ('SHA512', '1234567890123456789012345678901234567890123456789012345678901234'::bytea)),
vectors(t, alg, expect) AS (VALUES
  (59, 'SHA1', '94287082'), (59, 'SHA256', '46119246'), (59, 'SHA512', '90693936'),
  (1111111109, 'SHA1', '07081804'), (1111111109, 'SHA256', '68084774'), (1111111109, 'SHA512', '25091201'),
  (1111111111, 'SHA1', '14050471'), (1111111111, 'SHA256', '67062674'), (1111111111, 'SHA512', '99943326'),
  (1234567890, 'SHA1', '89005924'), (1234567890, 'SHA256', '91819424'), (1234567890, 'SHA512', '93441116'),
  (2000000000, 'SHA1', '69279037'), (2000000000, 'SHA256', '90698825'), (2000000000, 'SHA512', '38618901'),
  (20000000000, 'SHA1', '65353130'), (20000000000, 'SHA256', '77737706'), (20000000000, 'SHA512', '47863826'))
SELECT v.t, v.alg, acctsec.totp(s.seed, to_timestamp(v.t), 8, 30, v.alg) AS code,
       acctsec.totp(s.seed, to_timestamp(v.t), 8, 30, v.alg) = v.expect AS rfc_ok
FROM vectors v JOIN seeds s USING (alg)
ORDER BY v.t, v.alg;

-- algorithm names are case-insensitive
SELECT acctsec.totp('12345678901234567890'::bytea, to_timestamp(59), 8, 30, 'sha1') AS lower_case;
-- default digits and period: the last 6 digits of the 8-digit code
SELECT acctsec.totp('12345678901234567890'::bytea, to_timestamp(59)) AS six_digits;
-- 1 and 10 digits are allowed for hotp and totp
SELECT acctsec.hotp('12345678901234567890'::bytea, 0, 1) AS one_digit,
       acctsec.hotp('12345678901234567890'::bytea, 0, 10) AS ten_digits;

-- totp_check: the current step and its neighbours within the window
SELECT acctsec.totp_check('12345678901234567890'::bytea, '14050471', 0, to_timestamp(1111111111), 8) AS exact,
       acctsec.totp_check('12345678901234567890'::bytea, '07081804', 1, to_timestamp(1111111111), 8) AS previous_step,
       acctsec.totp_check('12345678901234567890'::bytea, '07081804', 0, to_timestamp(1111111111), 8) AS outside_window,
       acctsec.totp_check('12345678901234567890'::bytea, '1405 0471', 0, to_timestamp(1111111111), 8) AS spaced,
       acctsec.totp_check('12345678901234567890'::bytea, '1405-0471', 0, to_timestamp(1111111111), 8) AS dashed,
       acctsec.totp_check('12345678901234567890'::bytea, '14050472', 1, to_timestamp(1111111111), 8) AS wrong,
       acctsec.totp_check('12345678901234567890'::bytea, '1405047', 1, to_timestamp(1111111111), 8) AS too_short,
       acctsec.totp_check('12345678901234567890'::bytea, '14O50471', 1, to_timestamp(1111111111), 8) AS letter,
       acctsec.totp_check('12345678901234567890'::bytea, '', 1, to_timestamp(1111111111), 8) AS empty,
       acctsec.totp_check('12345678901234567890'::bytea, repeat('1', 1000000), 1, to_timestamp(1111111111), 8) AS huge;
-- a code from now, checked against now, with defaults
SELECT acctsec.totp_check('secret-key-bytes'::bytea, acctsec.totp('secret-key-bytes'::bytea)) AS now_ok;
-- at step 0, a window reaching before the epoch is fine
SELECT acctsec.totp_check('12345678901234567890'::bytea, acctsec.totp('12345678901234567890'::bytea, to_timestamp(1)), 2, to_timestamp(1)) AS epoch_ok;

-- RFC 4648 section 10 base32 vectors, without padding
SELECT v AS input, acctsec.base32_encode(v::bytea) AS encoded,
       convert_from(acctsec.base32_decode(acctsec.base32_encode(v::bytea)), 'UTF8') = v AS round_trip
FROM unnest(ARRAY['', 'f', 'fo', 'foo', 'foob', 'fooba', 'foobar']) AS v;
-- decoding ignores case, spaces and padding
SELECT convert_from(acctsec.base32_decode('mzxw 6ytb oi======'), 'UTF8') AS decoded;
-- round trip over every length 0..64 of random bytes
SELECT bool_and(acctsec.base32_decode(acctsec.base32_encode(b)) = b) AS all_round_trip
FROM (SELECT decode(substr(md5(i::text) || md5((i + 1)::text) || md5((i + 2)::text) || md5((i + 3)::text), 1, 2 * i), 'hex') AS b
      FROM generate_series(0, 64) AS i) s;

-- the otpauth:// URI (Key URI Format): issuer prefix, percent-encoding
SELECT acctsec.totp_uri('12345678901234567890'::bytea, 'alice@example.com', 'ACME Co');
SELECT acctsec.totp_uri('12345678901234567890'::bytea, 'bob', NULL, 8, 60, 'sha256');
SELECT acctsec.totp_uri('12345678901234567890'::bytea, 'a:b/c?d&e=f é', 'x:y&z');
SELECT acctsec.totp_uri(NULL, 'bob') IS NULL AS null_secret, acctsec.totp_uri('k'::bytea, NULL) IS NULL AS null_label;

-- NULLs: strict functions give NULL
SELECT acctsec.hotp(NULL, 0) IS NULL AS a, acctsec.totp(NULL) IS NULL AS b,
       acctsec.totp_check('k'::bytea, NULL) IS NULL AS c, acctsec.base32_decode(NULL) IS NULL AS d;

-- bad input: each a clear error with its SQLSTATE
SELECT regress.error_of(s) AS outcome, s AS statement FROM unnest(ARRAY[
  $$SELECT acctsec.hotp('k'::bytea, 0, 6, 'MD5')$$,
  $$SELECT acctsec.hotp('k'::bytea, 0, 6, repeat('x', 100))$$,
  $$SELECT acctsec.hotp('k'::bytea, 0, 0)$$,
  $$SELECT acctsec.hotp('k'::bytea, 0, 11)$$,
  $$SELECT acctsec.hotp('k'::bytea, -1)$$,
  $$SELECT acctsec.hotp(''::bytea, 0)$$,
  $$SELECT acctsec.hotp(convert_to(repeat('k', 1025), 'UTF8'), 0)$$,
  $$SELECT acctsec.totp('k'::bytea, now(), 6, 0)$$,
  $$SELECT acctsec.totp('k'::bytea, now(), 6, 3601)$$,
  $$SELECT acctsec.totp('k'::bytea, 'infinity')$$,
  $$SELECT acctsec.totp('k'::bytea, '1969-12-31 23:59:59+00')$$,
  $$SELECT acctsec.totp_check('k'::bytea, '123456', -1)$$,
  $$SELECT acctsec.totp_check('k'::bytea, '123456', 11)$$,
  $$SELECT acctsec.totp_check('k'::bytea, '12345', 1, now(), 5)$$,
  $$SELECT acctsec.totp_check('k'::bytea, '123456789', 1, now(), 9)$$,
  $$SELECT acctsec.totp_check('k'::bytea, '123456', 1, now(), 6, 30, 'SHA3')$$,
  $$SELECT acctsec.base32_decode('MZXW1')$$,
  $$SELECT acctsec.base32_decode('MZXW6YTBO')$$,
  $$SELECT acctsec.base32_decode('M')$$,
  $$SELECT acctsec.totp_uri('k'::bytea, '')$$,
  $$SELECT acctsec.totp_uri('k'::bytea, repeat('x', 1025))$$,
  $$SELECT acctsec.totp_uri('k'::bytea, 'bob', 'x', 5)$$,
  $$SELECT acctsec.totp_uri('k'::bytea, 'bob', 'x', 6, 30, 'sha384')$$
]) AS s;

-- volatility and parallel safety as declared
SELECT proname, provolatile, proparallel, proisstrict
FROM pg_proc WHERE pronamespace = 'acctsec'::regnamespace
  AND proname IN ('hotp', 'totp', 'totp_check', 'base32_encode', 'base32_decode', 'totp_uri')
ORDER BY proname;
