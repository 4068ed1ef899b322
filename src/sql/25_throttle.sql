
-- ---------------------------------------------------------------------------
-- Throttling across accounts, and smart lockout (docs/throttling.md;
-- src/throttle.c).  login_attempt consults both; the tables below are
-- written only through it.
--
-- acctsec.networks: one row per network (an IPv4 address, an IPv6 prefix)
-- that failed recently.  A failed login locks its network's row after the
-- account's row (always in that order), so concurrent failures from one
-- network are all counted.  Rows expire (expires_at) when their window is
-- over and, after a throttle, when as long again has passed; each new row
-- deletes a few expired ones, so the table holds about one window's worth of
-- failing networks however many addresses an attacker rotates through.
-- ---------------------------------------------------------------------------

CREATE TABLE acctsec.networks (
    network             cidr PRIMARY KEY,
    window_started_at   timestamptz NOT NULL,   -- the current window's start
    failures            int NOT NULL DEFAULT 0, -- failures in the window
    -- hashes of the distinct accounts failed on in the window (at most
    -- acctsec.network_max_accounts of them)
    accounts            bigint[] NOT NULL DEFAULT '{}',
    throttled_until     timestamptz,            -- throttled while > now()
    throttles           int NOT NULL DEFAULT 0, -- doubling level
    expires_at          timestamptz NOT NULL    -- the row may go after this
) WITH (fillfactor = 70);
-- Every failure from a network updates its row, and inside a window none of
-- its indexed columns changes (expires_at moves only with a new window or a
-- throttle): the room a page keeps lets those updates stay HOT, with no new
-- index entries.

-- opportunistic pruning and prune_networks, oldest first
CREATE INDEX networks_expires_at_idx ON acctsec.networks (expires_at);

COMMENT ON TABLE acctsec.networks IS
    'acctsec: failed logins per network, and network throttles';

-- Networks an account logged in from: at most acctsec.max_familiar_networks
-- per account, valid for acctsec.familiar_network_ttl after the last use.
CREATE TABLE acctsec.familiar_networks (
    account         text NOT NULL REFERENCES acctsec.accounts ON DELETE CASCADE,
    network         cidr NOT NULL,
    first_used_at   timestamptz NOT NULL,
    last_used_at    timestamptz NOT NULL,
    PRIMARY KEY (account, network)
);

-- prune_networks
CREATE INDEX familiar_networks_last_used_at_idx
    ON acctsec.familiar_networks (last_used_at);

COMMENT ON TABLE acctsec.familiar_networks IS
    'acctsec: networks each account logged in from (smart lockout)';

SELECT pg_catalog.pg_extension_config_dump('acctsec.networks', '');
SELECT pg_catalog.pg_extension_config_dump('acctsec.familiar_networks', '');

CREATE FUNCTION acctsec.network_status(ip inet,
    OUT network cidr, OUT failures int, OUT accounts int,
    OUT throttled_until timestamptz)
RETURNS record
AS 'MODULE_PATHNAME', 'acctsec_network_status'
LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;

-- administrative: not granted by grant_app_role
CREATE FUNCTION acctsec.unthrottle(ip inet)
RETURNS boolean
AS 'MODULE_PATHNAME', 'acctsec_unthrottle'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

-- administrative: deletes expired network rows and familiar networks
CREATE FUNCTION acctsec.prune_networks()
RETURNS bigint
AS 'MODULE_PATHNAME', 'acctsec_prune_networks'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
