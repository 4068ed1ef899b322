-- acctsec demonstration: run by "bash test/run demo" against a throwaway cluster.
\pset footer off
\set ECHO queries
CREATE EXTENSION acctsec;

\echo
\echo '== One-time passwords (RFC 4226 / RFC 6238), pure functions'
-- The RFC 6238 test secret, and its code at the RFC's test time:
SELECT acctsec.totp('12345678901234567890'::bytea, to_timestamp(59), 8) AS rfc6238_code;
-- A secret as an authenticator app shows it, and back:
SELECT acctsec.base32_encode('12345678901234567890'::bytea) AS base32_secret;
-- The QR-code URI an authenticator app scans:
SELECT acctsec.totp_uri('12345678901234567890'::bytea, 'alice@example.com', 'ACME');
-- Checking what the user typed (spaces allowed), one step either side:
SELECT acctsec.totp_check('12345678901234567890'::bytea,
                          acctsec.totp('12345678901234567890'::bytea), 1) AS accepted,
       acctsec.totp_check('12345678901234567890'::bytea, '000 000', 1) AS wrong_code;
