
-- ---------------------------------------------------------------------------
-- One-time passwords: pure functions (docs/totp.md).  No state, so they are
-- IMMUTABLE and usable by anyone; the defaults such as now() are evaluated
-- by the caller.
-- ---------------------------------------------------------------------------

CREATE FUNCTION acctsec.hotp(secret bytea, counter bigint, digits int DEFAULT 6,
                             algorithm text DEFAULT 'SHA1')
RETURNS text
AS 'MODULE_PATHNAME', 'acctsec_hotp'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION acctsec.totp(secret bytea, at timestamptz DEFAULT now(),
                             digits int DEFAULT 6, period int DEFAULT 30,
                             algorithm text DEFAULT 'SHA1')
RETURNS text
AS 'MODULE_PATHNAME', 'acctsec_totp'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION acctsec.totp_check(secret bytea, code text, "window" int DEFAULT 1,
                                   at timestamptz DEFAULT now(),
                                   digits int DEFAULT 6, period int DEFAULT 30,
                                   algorithm text DEFAULT 'SHA1')
RETURNS boolean
AS 'MODULE_PATHNAME', 'acctsec_totp_check'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION acctsec.base32_encode(data bytea)
RETURNS text
AS 'MODULE_PATHNAME', 'acctsec_base32_encode'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION acctsec.base32_decode(data text)
RETURNS bytea
AS 'MODULE_PATHNAME', 'acctsec_base32_decode'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION acctsec.totp_uri(secret bytea, label text, issuer text DEFAULT NULL,
                                 digits int DEFAULT 6, period int DEFAULT 30,
                                 algorithm text DEFAULT 'SHA1')
RETURNS text
AS 'MODULE_PATHNAME', 'acctsec_totp_uri'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
