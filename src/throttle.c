/*
 * throttle.c
 *		Throttling across accounts, and smart lockout (docs/throttling.md).
 *
 * Networks.  An IPv4 address is its own network (a /32); an IPv6 address
 * belongs to its acctsec.ipv6_prefix_length prefix (a /64 by default), and
 * an IPv4-mapped IPv6 address (::ffff:a.b.c.d) is the IPv4 address it maps.
 * A call without an address belongs to no network.
 *
 * Network counters.  acctsec.networks has one row per network that failed
 * recently: failures and the distinct accounts failed on (as 64-bit hashes,
 * at most acctsec.network_max_accounts of them) inside a fixed window of
 * acctsec.network_failure_window starting at the window's first failure, and
 * the throttle.  A failed login locks its network's row (FOR NO KEY UPDATE),
 * so concurrent failures from one network queue and are all counted, and
 * the one that reaches a limit throttles the network exactly once.  Lock
 * order: login_attempt always locks the account row first and the network
 * row second; nothing locks them the other way round (pruning never waits:
 * SKIP LOCKED), so the two locks cannot deadlock.
 *
 * Bounded state.  A network row expires when its window is over and, once
 * throttled, when as long again as its last throttle has passed without a
 * new one (the doubling level is forgotten with it).  Each new row deletes
 * up to PRUNE_BATCH expired rows, oldest first (a backend does so for
 * PRUNE_EVERY new rows at a time), so expired rows go faster than new ones
 * come: under an attack from any number of addresses the table holds the
 * networks that failed within one window (plus throttled ones), never
 * more.  acctsec.prune_networks() empties all expired rows.
 *
 * Familiar networks.  acctsec.familiar_networks has one row per account and
 * network a login succeeded from, at most acctsec.max_familiar_networks per
 * account (least recently used dropped first), valid for
 * acctsec.familiar_network_ttl after its last use.  Only a successful login
 * adds a row, under the account's row lock.
 *
 * Everything here runs inside its caller's SPI connection (login_attempt's,
 * or the SQL functions' own), through saved plans with parameters.
 */
#include "postgres.h"

#include <math.h>
#include <sys/socket.h>

#include "access/genam.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/inet.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "account.h"
#include "compat.h"
#include "events.h"
#include "relation_util.h"
#include "row_lock.h"
#include "row_write.h"
#include "spi_util.h"
#include "throttle.h"

PG_FUNCTION_INFO_V1(acctsec_network_status);
PG_FUNCTION_INFO_V1(acctsec_unthrottle);
PG_FUNCTION_INFO_V1(acctsec_prune_networks);

/* Upper bound of the duration settings: one year, in seconds. */
#define THROTTLE_MAX_DURATION_S		(365 * 24 * 3600)

/*
 * Expired network rows deleted for each new network row, PRUNE_EVERY new
 * rows' worth at a time: one pruning statement for every PRUNE_EVERY new
 * networks a backend counts, rather than one for each.
 */
#define PRUNE_BATCH					4
#define PRUNE_EVERY					8

/* Most entries accepted in acctsec.trusted_networks. */
#define MAX_TRUSTED_NETWORKS		256

/*
 * A familiar network's last use is written at most this often (and at most
 * a quarter of the TTL), so that a user's every login is not a write.
 */
#define FAMILIAR_TOUCH_S			3600

/* Settings (docs/throttling.md); all PGC_SUSET. */
static int	acctsec_ipv6_prefix_length = 64;
static int	acctsec_network_failure_window = 15 * 60;
static int	acctsec_network_max_failures = 50;
static int	acctsec_network_max_accounts = 10;
static int	acctsec_network_throttle_duration = 15 * 60;
static char *acctsec_trusted_networks = NULL;
static bool acctsec_smart_lockout = true;
static int	acctsec_familiar_network_ttl = 30 * 24 * 3600;
static int	acctsec_max_familiar_networks = 10;

/* ---------------------------------------------------------------------------
 * acctsec.trusted_networks: a comma-separated list of CIDRs
 * ---------------------------------------------------------------------------
 */

typedef struct TrustedNetwork
{
	unsigned char family;		/* PGSQL_AF_INET or PGSQL_AF_INET6 */
	unsigned char bits;
	unsigned char addr[16];
} TrustedNetwork;

/* The parsed list, rebuilt from the setting after each change. */
static TrustedNetwork *trusted = NULL;
static int	num_trusted = 0;
static bool trusted_valid = false;

/*
 * Parse one CIDR (s, len bytes, no surrounding spaces) into *out.  Host bits
 * must be zero, as for the cidr type.  Returns false when it is not one.
 */
static bool
parse_cidr(const char *s, size_t len, TrustedNetwork *out)
{
	char		buf[64];
	int			bits;
	int			maxbits;

	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';

	memset(out, 0, sizeof(*out));
	out->family = strchr(buf, ':') ? PGSQL_AF_INET6 : PGSQL_AF_INET;
	maxbits = out->family == PGSQL_AF_INET ? 32 : 128;
	bits = pg_inet_net_pton(out->family, buf, out->addr,
							out->family == PGSQL_AF_INET ? 4 : 16);
	if (bits < 0 || bits > maxbits)
		return false;
	out->bits = (unsigned char) bits;

	/* no bit set right of the mask */
	for (int i = bits; i < maxbits; i++)
		if (out->addr[i / 8] & (0x80 >> (i % 8)))
			return false;
	return true;
}

/*
 * Split the setting and parse every entry into out (may be NULL: only
 * check).  Returns the number of entries, or -1 with *bad and *badlen naming the
 * first entry that is not a CIDR.
 */
static int
parse_trusted_list(const char *value, TrustedNetwork *out,
				   const char **bad, int *badlen)
{
	const char *p = value;
	int			n = 0;

	while (*p)
	{
		const char *start;
		const char *end;
		TrustedNetwork net;

		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		start = p;
		while (*p && *p != ',')
			p++;
		end = p;
		while (end > start && (end[-1] == ' ' || end[-1] == '\t' ||
							   end[-1] == '\n' || end[-1] == '\r'))
			end--;
		if (*p == ',')
			p++;
		if (end == start)
		{
			if (*p == '\0' && n == 0 && start == value + strlen(value))
				break;			/* only spaces: an empty list */
			*bad = start;
			*badlen = 0;
			return -1;
		}
		if (n >= MAX_TRUSTED_NETWORKS || !parse_cidr(start, end - start, &net))
		{
			*bad = start;
			*badlen = (int) (end - start);
			return -1;
		}
		if (out)
			out[n] = net;
		n++;
	}
	return n;
}

static bool
check_trusted_networks(char **newval, void **extra, GucSource source)
{
	const char *bad;
	int			badlen;

	if (*newval == NULL)
		return true;
	if (parse_trusted_list(*newval, NULL, &bad, &badlen) < 0)
	{
		if (badlen == 0)
			GUC_check_errdetail("An entry of the list is empty.");
		else if (badlen > 64)
			GUC_check_errdetail("An entry is not a network in CIDR notation.");
		else
			GUC_check_errdetail("\"%.*s\" is not a network in CIDR notation, or has bits set right of its mask.",
								badlen, bad);
		GUC_check_errhint("List networks such as 10.0.0.0/8, 2001:db8::/32, separated by commas; at most %d.",
						  MAX_TRUSTED_NETWORKS);
		return false;
	}
	return true;
}

static void
assign_trusted_networks(const char *newval, void *extra)
{
	trusted_valid = false;		/* parsed again on next use */
}

/* The parsed list (checked by the check hook already). */
static void
load_trusted(void)
{
	const char *bad;
	int			badlen;
	const char *value = acctsec_trusted_networks ? acctsec_trusted_networks : "";

	if (trusted_valid)
		return;
	if (trusted == NULL)
		trusted = MemoryContextAlloc(TopMemoryContext,
									 sizeof(TrustedNetwork) * MAX_TRUSTED_NETWORKS);
	num_trusted = parse_trusted_list(value, trusted, &bad, &badlen);
	if (num_trusted < 0)
		elog(ERROR, "acctsec.trusted_networks passed its check but does not parse");
	trusted_valid = true;
}

/* Do the first bits bits of a and b agree? */
static bool
prefix_matches(const unsigned char *a, const unsigned char *b, int bits)
{
	int			bytes = bits / 8;
	int			rest = bits % 8;

	if (memcmp(a, b, bytes) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((a[bytes] ^ b[bytes]) & (0xFF << (8 - rest))) == 0;
}

static bool
address_trusted(unsigned char family, const unsigned char *addr)
{
	load_trusted();
	for (int i = 0; i < num_trusted; i++)
		if (trusted[i].family == family &&
			prefix_matches(trusted[i].addr, addr, trusted[i].bits))
			return true;
	return false;
}

void
acctsec_define_throttle_gucs(void)
{
	DefineCustomIntVariable("acctsec.ipv6_prefix_length",
							"Length of the prefix that groups IPv6 addresses into one network.",
							"An IPv4 address is always a network of its own.",
							&acctsec_ipv6_prefix_length,
							64, 1, 128,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("acctsec.network_failure_window",
							"Window over which a network's failed logins add up.",
							NULL,
							&acctsec_network_failure_window,
							15 * 60, 1, THROTTLE_MAX_DURATION_S,
							PGC_SUSET, GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("acctsec.network_max_failures",
							"Failed logins from one network within the window that throttle it (0 never throttles).",
							NULL,
							&acctsec_network_max_failures,
							50, 0, 1000000,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("acctsec.network_max_accounts",
							"Distinct accounts failed on from one network within the window that throttle it (0 never throttles).",
							NULL,
							&acctsec_network_max_accounts,
							10, 0, 1000,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("acctsec.network_throttle_duration",
							"Length of a network's first throttle; each further one is twice as long.",
							"Capped at acctsec.max_lockout_duration.",
							&acctsec_network_throttle_duration,
							15 * 60, 1, THROTTLE_MAX_DURATION_S,
							PGC_SUSET, GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomStringVariable("acctsec.trusted_networks",
							   "Networks never throttled (comma-separated CIDRs).",
							   "For shared egress addresses such as a reverse proxy or an office NAT.",
							   &acctsec_trusted_networks,
							   "",
							   PGC_SUSET, GUC_LIST_INPUT,
							   check_trusted_networks, assign_trusted_networks, NULL);
	DefineCustomBoolVariable("acctsec.smart_lockout",
							 "Count and lock failures from an account's familiar networks apart from all others.",
							 NULL,
							 &acctsec_smart_lockout,
							 true,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("acctsec.familiar_network_ttl",
							"Time a network stays familiar to an account after its last successful login.",
							NULL,
							&acctsec_familiar_network_ttl,
							30 * 24 * 3600, 1, THROTTLE_MAX_DURATION_S,
							PGC_SUSET, GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("acctsec.max_familiar_networks",
							"Familiar networks kept per account; the least recently used goes first.",
							NULL,
							&acctsec_max_familiar_networks,
							10, 1, 1000,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
}

/* ---------------------------------------------------------------------------
 * Networks
 * ---------------------------------------------------------------------------
 */

void
acctsec_network_of(Datum ip, bool ip_null, AcctsecNetwork *net)
{
	inet	   *addr;
	inet	   *cidr;
	unsigned char family;
	unsigned char bytes[16];
	int			bits;

	memset(net, 0, sizeof(*net));
	net->network = (Datum) 0;
	if (ip_null)
		return;

	addr = DatumGetInetPP(ip);
	family = ip_family(addr);
	memcpy(bytes, ip_addr(addr), ip_addrsize(addr));

	if (family == PGSQL_AF_INET6)
	{
		static const unsigned char v4mapped[12] =
		{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};

		if (memcmp(bytes, v4mapped, sizeof(v4mapped)) == 0)
		{
			family = PGSQL_AF_INET;
			memmove(bytes, bytes + 12, 4);
		}
	}

	if (family == PGSQL_AF_INET)
		bits = 32;
	else
	{
		bits = acctsec_ipv6_prefix_length;
		for (int i = bits; i < 128; i++)
			bytes[i / 8] &= ~(0x80 >> (i % 8));
	}

	cidr = (inet *) palloc0(sizeof(inet));
	ip_family(cidr) = family;
	ip_bits(cidr) = (unsigned char) bits;
	memcpy(ip_addr(cidr), bytes, family == PGSQL_AF_INET ? 4 : 16);
	SET_INET_VARSIZE(cidr);

	net->valid = true;
	net->trusted = address_trusted(family, bytes);
	net->network = InetPGetDatum(cidr);
}

bool
acctsec_smart_lockout_applies(const AcctsecNetwork *net)
{
	return acctsec_smart_lockout && net->valid;
}

/* ---------------------------------------------------------------------------
 * Saved plans
 * ---------------------------------------------------------------------------
 */

typedef enum ThrottlePlanId
{
	PLAN_NET_PEEK,
	PLAN_NET_PRUNE_SOME,
	PLAN_NET_DELETE,
	PLAN_NET_PRUNE_ALL,
	PLAN_FAM_GET,
	PLAN_FAM_TRIM,
	PLAN_FAM_TOUCH,
	PLAN_FAM_PRUNE_ALL,
	PLAN_FAM_ANY,
	NUM_THROTTLE_PLANS
} ThrottlePlanId;

/*
 * The columns read by PLAN_NET_PEEK, in this order; network_lock() reads
 * the same (networks_table), network_create and network_write write them.
 */
#define NETWORK_COLUMNS \
	"window_started_at, failures, accounts, throttled_until, throttles, expires_at"
#define NUM_NETWORK_COLUMNS 6

static AcctsecPlan throttle_plans[NUM_THROTTLE_PLANS] = {
	[PLAN_NET_PEEK] = {
		"SELECT " NETWORK_COLUMNS " FROM acctsec.networks"
		" WHERE network OPERATOR(pg_catalog.=) $1",
		ACCTSEC_PLAN_ARGS(CIDROID), SPI_OK_SELECT, NULL
	},

	/* bounded opportunistic pruning; never waits for a locked row */
	[PLAN_NET_PRUNE_SOME] = {
		"DELETE FROM acctsec.networks WHERE ctid OPERATOR(pg_catalog.=) ANY (ARRAY("
		"SELECT ctid FROM acctsec.networks"
		" WHERE expires_at OPERATOR(pg_catalog.<=) $1"
		" ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED))",
		ACCTSEC_PLAN_ARGS(TIMESTAMPTZOID, INT4OID), SPI_OK_DELETE, NULL
	},
	[PLAN_NET_DELETE] = {
		"DELETE FROM acctsec.networks WHERE network OPERATOR(pg_catalog.=) $1"
		" RETURNING throttled_until",
		ACCTSEC_PLAN_ARGS(CIDROID), SPI_OK_DELETE_RETURNING, NULL
	},
	[PLAN_NET_PRUNE_ALL] = {
		"DELETE FROM acctsec.networks WHERE ctid OPERATOR(pg_catalog.=) ANY (ARRAY("
		"SELECT ctid FROM acctsec.networks"
		" WHERE expires_at OPERATOR(pg_catalog.<=) $1 FOR UPDATE SKIP LOCKED))",
		ACCTSEC_PLAN_ARGS(TIMESTAMPTZOID), SPI_OK_DELETE, NULL
	},
	[PLAN_FAM_GET] = {
		"SELECT last_used_at FROM acctsec.familiar_networks"
		" WHERE account OPERATOR(pg_catalog.=) $1"
		" AND network OPERATOR(pg_catalog.=) $2",
		ACCTSEC_PLAN_ARGS(TEXTOID, CIDROID), SPI_OK_SELECT, NULL
	},

	/*
	 * Before a new familiar network is added, the account's others trimmed:
	 * its expired ones go ($4 is the oldest last use still valid), and all
	 * but the $3 - 1 most recently used others, the new one being the most
	 * recent.  Run only when familiar_trim_due says it deletes something.
	 */
	[PLAN_FAM_TRIM] = {
		"DELETE FROM acctsec.familiar_networks"
		" WHERE account OPERATOR(pg_catalog.=) $1"
		" AND network OPERATOR(pg_catalog.<>) $2"
		" AND (last_used_at OPERATOR(pg_catalog.<) $4"
		"  OR network OPERATOR(pg_catalog.=) ANY (ARRAY("
		"   SELECT network FROM acctsec.familiar_networks"
		"   WHERE account OPERATOR(pg_catalog.=) $1"
		"   AND network OPERATOR(pg_catalog.<>) $2"
		"   ORDER BY last_used_at DESC, network"
		"   OFFSET $3 OPERATOR(pg_catalog.-) 1)))",
		ACCTSEC_PLAN_ARGS(TEXTOID, CIDROID, INT4OID, TIMESTAMPTZOID),
		SPI_OK_DELETE, NULL
	},
	[PLAN_FAM_TOUCH] = {
		"UPDATE acctsec.familiar_networks SET last_used_at = $3"
		" WHERE account OPERATOR(pg_catalog.=) $1"
		" AND network OPERATOR(pg_catalog.=) $2",
		ACCTSEC_PLAN_ARGS(TEXTOID, CIDROID, TIMESTAMPTZOID), SPI_OK_UPDATE, NULL
	},
	[PLAN_FAM_PRUNE_ALL] = {
		"DELETE FROM acctsec.familiar_networks WHERE ctid OPERATOR(pg_catalog.=) ANY (ARRAY("
		"SELECT ctid FROM acctsec.familiar_networks"
		" WHERE last_used_at OPERATOR(pg_catalog.<) $1 FOR UPDATE SKIP LOCKED))",
		ACCTSEC_PLAN_ARGS(TIMESTAMPTZOID), SPI_OK_DELETE, NULL
	},
	/* does the account have a network still familiar ($2: oldest valid use)? */
	[PLAN_FAM_ANY] = {
		"SELECT 1 FROM acctsec.familiar_networks"
		" WHERE account OPERATOR(pg_catalog.=) $1"
		" AND last_used_at OPERATOR(pg_catalog.>=) $2 LIMIT 1",
		ACCTSEC_PLAN_ARGS(TEXTOID, TIMESTAMPTZOID), SPI_OK_SELECT, NULL
	},
};

/*
 * A network's failure, written through the table AM (row_write.h): to the
 * locked row by its ctid, or, for a network's first failure, as a row
 * inserted with that failure already counted, so that a new network costs
 * one write, not an insert, a lock and a write.  The inserted row is ours
 * until we commit; when a concurrent first failure inserted it first,
 * nothing is inserted and the caller locks it.
 */
static AcctsecRowWrite network_write = {
	.relname = "networks",
	.cmd = CMD_UPDATE,
	.columns = NETWORK_COLUMNS
};
static AcctsecRowWrite network_create = {
	.relname = "networks",
	.cmd = CMD_INSERT,
	.columns = "network, " NETWORK_COLUMNS,
	.on_conflict_nothing = true
};

/* ---------------------------------------------------------------------------
 * Network counters
 * ---------------------------------------------------------------------------
 */

typedef struct NetworkRow
{
	TimestampTz window_started_at;
	int32		failures;
	int			naccounts;
	int64	   *accounts;		/* hashes, palloc'd in the caller's context */
	TimestampTz throttled_until;	/* DT_NOBEGIN when never throttled */
	int32		throttles;
	TimestampTz expires_at;
	ItemPointerData tid;		/* the version locked (lock_network) */
} NetworkRow;

/*
 * Read the values of NETWORK_COLUMNS, in that order.  The account hashes
 * are copied into memory that outlives SPI (the caller's context) only
 * when wanted.
 */
static void
network_from_values(const Datum *v, const bool *isnull, NetworkRow *row,
					bool want_accounts)
{
	row->window_started_at = acctsec_timestamp_value(v[0], isnull[0]);
	row->failures = DatumGetInt32(v[1]);
	row->naccounts = 0;
	row->accounts = NULL;
	if (!isnull[2])
	{
		ArrayType  *arr = DatumGetArrayTypeP(v[2]);
		Datum	   *elems;
		int			n;

		deconstruct_array(arr, INT8OID, sizeof(int64), FLOAT8PASSBYVAL,
						  TYPALIGN_DOUBLE, &elems, NULL, &n);
		row->naccounts = n;
		if (want_accounts && n > 0)
		{
			row->accounts = SPI_palloc(sizeof(int64) * n);
			for (int i = 0; i < n; i++)
				row->accounts[i] = DatumGetInt64(elems[i]);
		}
	}
	row->throttled_until = acctsec_timestamp_value(v[3], isnull[3]);
	row->throttles = DatumGetInt32(v[4]);
	row->expires_at = acctsec_timestamp_value(v[5], isnull[5]);
}

/* A row of a statement whose first columns are NETWORK_COLUMNS. */
static void
network_from_tuple(HeapTuple tuple, TupleDesc desc, NetworkRow *row,
				   bool want_accounts)
{
	Datum		v[NUM_NETWORK_COLUMNS];
	bool		isnull[NUM_NETWORK_COLUMNS];

	acctsec_spi_row_values(tuple, desc, NUM_NETWORK_COLUMNS, v, isnull);
	network_from_values(v, isnull, row, want_accounts);
}

/* The network's row, locked on every failure without a statement. */
static AcctsecKeyedTable networks_table = {
	.relname = "networks",
	.key_eq = F_NETWORK_EQ,
	.columns = ACCTSEC_COLUMNS(NETWORK_COLUMNS, NUM_NETWORK_COLUMNS)
};

/*
 * Lock the network's row as SELECT ... FOR NO KEY UPDATE would, without
 * the statement's executor run (row_lock.h), and read it; false when there
 * is none.
 */
static bool
network_lock(Datum network, NetworkRow *row)
{
	Datum		v[NUM_NETWORK_COLUMNS];
	bool		isnull[NUM_NETWORK_COLUMNS];

	if (!acctsec_row_lock_by_key(&networks_table, network, v, isnull, &row->tid))
		return false;
	network_from_values(v, isnull, row, true);
	return true;
}

/* The network's counters as they stand at now: an ended window counts 0. */
static void
network_current(NetworkRow *row, TimestampTz now)
{
	if (row->expires_at <= now)
	{
		/* expired: a fresh start, the doubling level forgotten */
		row->failures = 0;
		row->naccounts = 0;
		row->throttles = 0;
		row->throttled_until = DT_NOBEGIN;
		row->window_started_at = now;
	}
	else if (row->window_started_at +
			 (int64) acctsec_network_failure_window * USECS_PER_SEC <= now)
	{
		row->failures = 0;
		row->naccounts = 0;
		row->window_started_at = now;
	}
}

/* network_throttle_duration * 2 ^ throttles, capped, in microseconds */
static int64
throttle_usecs(int32 throttles)
{
	double		secs;
	int			cap = acctsec_max_lockout_duration_secs();

	secs = ldexp((double) acctsec_network_throttle_duration, Min(throttles, 64));
	if (secs > (double) cap)
		secs = (double) cap;
	return (int64) (secs * USECS_PER_SEC);
}

/* The state of a new network at now. */
static void
network_fresh(TimestampTz now, NetworkRow *row)
{
	memset(row, 0, sizeof(*row));
	row->window_started_at = now;
	row->throttled_until = DT_NOBEGIN;
	row->expires_at = now + (int64) acctsec_network_failure_window * USECS_PER_SEC;
}

/*
 * A network with no row yet: expired rows go first (each new row makes
 * room for PRUNE_BATCH, PRUNE_EVERY new rows at a time), and *row is its
 * state at now, for the caller to insert with its first failure.  Returns
 * false (no row locked).
 */
static bool
new_network(TimestampTz now, NetworkRow *row)
{
	static int	new_rows = 0;

	if (new_rows++ % PRUNE_EVERY == 0)
	{
		Datum		prune[2] = {TimestampTzGetDatum(now),
		Int32GetDatum(PRUNE_BATCH * PRUNE_EVERY)};

		acctsec_plan_run(&throttle_plans[PLAN_NET_PRUNE_SOME], prune, NULL, false, 0);
	}
	network_fresh(now, row);
	return false;
}

/*
 * Lock the network's row and read it; true when there is one.  When there
 * is none, *row is the state of a new network at now (the caller inserts
 * it with its first failure), and on the first miss up to PRUNE_BATCH
 * expired rows go first: each new row makes room.
 */
static bool
lock_network(const AcctsecNetwork *net, TimestampTz now, NetworkRow *row,
			 bool first_try)
{
	if (network_lock(net->network, row))
		return true;
	if (first_try)
		return new_network(now, row);
	network_fresh(now, row);
	return false;
}

static int64
account_hash(const text *account)
{
	return (int64) hash_bytes_extended((const unsigned char *) VARDATA_ANY(account),
									   VARSIZE_ANY_EXHDR(account), 0);
}

AcctsecNetworkVerdict
acctsec_network_failure(const AcctsecNetwork *net, const text *account,
						TimestampTz now, TimestampTz *throttled_until)
{
	NetworkRow	row;
	int64		h = account_hash(account);
	bool		throttles = false;
	Datum	   *elems;
	Datum		values[1 + NUM_NETWORK_COLUMNS];
	bool		nulls[1 + NUM_NETWORK_COLUMNS] = {false};
	int			nelems;

	*throttled_until = DT_NOBEGIN;
	if (!net->valid || net->trusted)
		return NETWORK_NOT_TRACKED;

	for (int tries = 0;; tries++)
	{
		bool		found;
		bool		known = false;

		if (tries >= 10)
			elog(ERROR, "could not lock the network row after repeated concurrent deletions");

		/*
		 * A network the lookup of this call found no row of is not locked
		 * first: the lock would find nothing.  Its row is inserted with this
		 * failure counted, and a concurrent first failure that inserted it
		 * meanwhile makes the insert do nothing, so the next try locks it, as
		 * after a lock that found nothing.
		 */
		if (tries == 0 && net->no_row)
			found = new_network(now, &row);
		else
			found = lock_network(net, now, &row, tries == 0);
		if (found && row.throttled_until > now)
		{
			/* throttled while this call waited for the lock: nothing counts */
			*throttled_until = row.throttled_until;
			return NETWORK_THROTTLED;
		}
		network_current(&row, now);
		throttles = false;
		*throttled_until = DT_NOBEGIN;

		if (row.failures < PG_INT32_MAX)
			row.failures++;
		for (int i = 0; i < row.naccounts && row.accounts; i++)
			if (row.accounts[i] == h)
				known = true;
		nelems = row.naccounts;
		elems = palloc(sizeof(Datum) * (nelems + 1));
		for (int i = 0; i < row.naccounts && row.accounts; i++)
			elems[i] = Int64GetDatum(row.accounts[i]);
		if (!known && (acctsec_network_max_accounts == 0 ||
					   nelems < acctsec_network_max_accounts))
			elems[nelems++] = Int64GetDatum(h);

		if ((acctsec_network_max_failures > 0 &&
			 row.failures >= acctsec_network_max_failures) ||
			(acctsec_network_max_accounts > 0 &&
			 nelems >= acctsec_network_max_accounts))
		{
			int64		len = throttle_usecs(row.throttles);

			throttles = true;
			row.throttled_until = now + len;
			if (row.throttles < PG_INT32_MAX)
				row.throttles++;
			/* counting starts afresh when the throttle ends */
			row.window_started_at = row.throttled_until;
			row.failures = 0;
			nelems = 0;
			/* the level is remembered for as long again as this throttle */
			row.expires_at = row.throttled_until + len;
			*throttled_until = row.throttled_until;
		}
		else
		{
			TimestampTz window_end = row.window_started_at +
				(int64) acctsec_network_failure_window * USECS_PER_SEC;

			if (row.expires_at < window_end)
				row.expires_at = window_end;
		}

		/*
		 * With network_max_accounts = 0 (distinct accounts never throttle)
		 * the hashes are not kept: the list would have no bound.
		 */
		if (acctsec_network_max_accounts == 0)
			nelems = 0;

		/* the locked row by its ctid, or a new network's row */
		values[0] = net->network;
		values[1] = TimestampTzGetDatum(row.window_started_at);
		values[2] = Int32GetDatum(row.failures);
		values[3] = PointerGetDatum(construct_array(elems, nelems, INT8OID,
													sizeof(int64), FLOAT8PASSBYVAL,
													TYPALIGN_DOUBLE));
		values[4] = TimestampTzGetDatum(row.throttled_until);
		values[5] = Int32GetDatum(row.throttles);
		values[6] = TimestampTzGetDatum(row.expires_at);
		nulls[4] = row.throttled_until == DT_NOBEGIN;
		if (found)
		{
			acctsec_row_write(&network_write, &row.tid, values + 1, nulls + 1);
			break;
		}

		/*
		 * inserted with this failure counted, unless a concurrent first
		 * failure was first
		 */
		if (acctsec_row_write(&network_create, NULL, values, nulls))
			break;
	}

	return throttles ? NETWORK_THROTTLED_NOW : NETWORK_COUNTED;
}

/* ---------------------------------------------------------------------------
 * Familiar networks
 * ---------------------------------------------------------------------------
 */

/* The oldest last use of a network that is still familiar at now. */
static TimestampTz
familiar_since(TimestampTz now)
{
	return now - (int64) acctsec_familiar_network_ttl * USECS_PER_SEC;
}

TimestampTz
acctsec_familiar_since(TimestampTz now)
{
	return familiar_since(now);
}

/*
 * Could a login from a familiar network get past a lock earned elsewhere?
 * Only while smart lockout is on and the account has a network still
 * familiar.  Runs inside the caller's SPI connection.
 */
bool
acctsec_familiar_login_possible(const text *account, TimestampTz now)
{
	Datum		values[2];

	if (!acctsec_smart_lockout)
		return false;
	values[0] = PointerGetDatum(account);
	values[1] = TimestampTzGetDatum(familiar_since(now));
	return acctsec_plan_run(&throttle_plans[PLAN_FAM_ANY], values, NULL, true, 1) > 0;
}

bool
acctsec_network_lookup(const text *account, AcctsecNetwork *net,
					   TimestampTz now, TimestampTz *throttled_until,
					   TimestampTz *last_used)
{
	bool		isnull;
	Datum		d;
	bool		smart = acctsec_smart_lockout_applies(net);

	*throttled_until = DT_NOBEGIN;
	*last_used = DT_NOBEGIN;
	if (!net->valid || (net->trusted && !smart))
		return false;

	/*
	 * Two probes of primary keys, without the executor: the network's
	 * throttle (when it is tracked) and the account's last use of it (when
	 * smart lockout applies).
	 */
	if (!net->trusted)
	{
		static AcctsecColumns cols = ACCTSEC_COLUMNS("throttled_until", 1);

		if (!acctsec_probe_unique("networks", "networks_pkey", 1, &net->network,
								  &cols, &d, &isnull))
			net->no_row = true;
		else if (!isnull && DatumGetTimestampTz(d) > now)
			*throttled_until = DatumGetTimestampTz(d);
	}
	if (smart)
	{
		static AcctsecColumns cols = ACCTSEC_COLUMNS("last_used_at", 1);
		Datum		keys[2] = {PointerGetDatum(account), net->network};

		if (acctsec_probe_unique("familiar_networks", "familiar_networks_pkey",
								 2, keys, &cols, &d, &isnull) &&
			!isnull)
			*last_used = DatumGetTimestampTz(d);
	}
	return *last_used != DT_NOBEGIN && *last_used >= familiar_since(now);
}

/*
 * A new familiar network's row, through the table AM where nothing needs a
 * statement (row_write.h).  Its foreign key's check would look the account
 * up and lock its row FOR KEY SHARE; acctsec_network_make_familiar's caller
 * already holds that row locked FOR NO KEY UPDATE in this transaction (a
 * stronger lock on the same row, which nobody else can delete or re-key
 * until it ends), and hands in the locked version's ctid to show it.  So
 * the check would find what is known, and it alone is passed over.
 */
static bool
familiar_trigger_idle(const Trigger *trigger)
{
	return RI_FKey_trigger_type(trigger->tgfoid) == RI_TRIGGER_FK &&
		trigger->tgconstrrelid == acctsec_relid("accounts");
}

static AcctsecRowWrite familiar_add = {
	.relname = "familiar_networks",
	.cmd = CMD_INSERT,
	.columns = "account, network, first_used_at, last_used_at",
	.on_conflict_nothing = true,
	.trigger_idle = familiar_trigger_idle
};

/* familiar_trim_due's look at the account's familiar networks, one row at a time */
static AcctsecColumns trim_columns = ACCTSEC_COLUMNS("network, last_used_at", 2);

typedef struct TrimLook
{
	Datum		network;		/* the network about to be added */
	TimestampTz since;
	AttrNumber	network_att;
	AttrNumber	last_used_att;
	int			others;
	bool		due;
} TrimLook;

static bool
trim_look(TupleTableSlot *slot, void *arg)
{
	TrimLook   *t = (TrimLook *) arg;
	bool		isnull;
	Datum		other = slot_getattr(slot, t->network_att, &isnull);
	Datum		last_used;

	if (isnull || DatumGetBool(DirectFunctionCall2(network_eq, other, t->network)))
		return true;
	last_used = slot_getattr(slot, t->last_used_att, &isnull);
	t->due = (!isnull && DatumGetTimestampTz(last_used) < t->since) ||
		++t->others >= acctsec_max_familiar_networks;
	return !t->due;
}

/*
 * Would PLAN_FAM_TRIM delete anything before network is added to the
 * account's familiar networks: has the account another one last used
 * before since, or acctsec.max_familiar_networks others already?  Read
 * from the primary key's index (account first), as a volatile function's
 * next statement would see the table, without a statement.
 */
static bool
familiar_trim_due(const text *account, Datum network, TimestampTz since)
{
	Oid			relid = acctsec_relid("familiar_networks");
	Relation	rel;
	Relation	index;
	Datum		key = PointerGetDatum(account);
	Snapshot	snapshot;
	const AttrNumber *attnums;
	TrimLook	look;

	if (!OidIsValid(relid))
		elog(ERROR, "acctsec.familiar_networks is missing");
	rel = table_open(relid, AccessShareLock);
	list_free(RelationGetIndexList(rel));	/* sets rd_pkindex */
	if (!OidIsValid(rel->rd_pkindex))
		elog(ERROR, "acctsec.familiar_networks has no primary key");
	index = index_open(rel->rd_pkindex, AccessShareLock);
	attnums = acctsec_columns(&trim_columns, rel);
	look.network = network;
	look.since = since;
	look.network_att = attnums[0];
	look.last_used_att = attnums[1];
	look.others = 0;
	look.due = false;
	snapshot = acctsec_statement_snapshot();
	acctsec_index_scan_equal(rel, index, 1, &key, snapshot, trim_look, &look);
	UnregisterSnapshot(snapshot);
	index_close(index, NoLock);
	table_close(rel, NoLock);
	return look.due;
}

void
acctsec_network_make_familiar(const text *account, ItemPointer account_row,
							  const AcctsecNetwork *net, TimestampTz now,
							  TimestampTz last_used)
{
	Datum		values[3] = {PointerGetDatum(account), net->network,
	TimestampTzGetDatum(now)};
	int64		touch = Min((int64) FAMILIAR_TOUCH_S,
							(int64) acctsec_familiar_network_ttl / 4) * USECS_PER_SEC;

	if (account_row == NULL || !ItemPointerIsValid(account_row))
		elog(ERROR, "a familiar network is added only with its account's row locked");
	if (!acctsec_smart_lockout_applies(net))
		return;
	if (last_used != DT_NOBEGIN)
	{
		/* known already: note the use, at most once per touch interval */
		if (now - last_used > touch)
			acctsec_plan_run(&throttle_plans[PLAN_FAM_TOUCH], values, NULL, false, 0);
		return;
	}

	if (familiar_trim_due(account, net->network, familiar_since(now)))
	{
		Datum		trim[4] = {PointerGetDatum(account), net->network,
			Int32GetDatum(acctsec_max_familiar_networks),
		TimestampTzGetDatum(familiar_since(now))};

		acctsec_plan_run(&throttle_plans[PLAN_FAM_TRIM], trim, NULL, false, 0);
	}
	{
		Datum		add[4] = {PointerGetDatum(account), net->network,
		TimestampTzGetDatum(now), TimestampTzGetDatum(now)};
		bool		add_null[4] = {false, false, false, false};

		/*
		 * a login of the account from the same network that committed after
		 * this call's lookup made it familiar already: note this use
		 */
		if (!acctsec_row_write(&familiar_add, NULL, add, add_null))
			acctsec_plan_run(&throttle_plans[PLAN_FAM_TOUCH], values, NULL, false, 0);
	}
}

/* ---------------------------------------------------------------------------
 * SQL-callable functions
 * ---------------------------------------------------------------------------
 */

/*
 * network_status(ip inet) RETURNS (network cidr, failures int, accounts int,
 *		throttled_until timestamptz)
 */
Datum
acctsec_network_status(PG_FUNCTION_ARGS)
{
	AcctsecNetwork net;
	TupleDesc	desc;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, true};
	TimestampTz now = GetCurrentTransactionStartTimestamp();

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "network_status must return a composite type");
	desc = BlessTupleDesc(desc);

	acctsec_network_of(PG_GETARG_DATUM(0), false, &net);
	values[0] = net.network;
	values[1] = Int32GetDatum(0);
	values[2] = Int32GetDatum(0);

	acctsec_spi_connect();
	if (!net.trusted &&
		acctsec_plan_run(&throttle_plans[PLAN_NET_PEEK], &net.network, NULL, true, 1) == 1)
	{
		NetworkRow	row;

		network_from_tuple(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
						   &row, false);
		network_current(&row, now);
		values[1] = Int32GetDatum(row.failures);
		values[2] = Int32GetDatum(row.naccounts);
		if (row.throttled_until > now)
		{
			values[3] = TimestampTzGetDatum(row.throttled_until);
			nulls[3] = false;
		}
	}
	acctsec_spi_finish();

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

/*
 * unthrottle(ip inet) RETURNS boolean: forget the network's counters, its
 * throttle and its doubling level; true if it was throttled.
 */
Datum
acctsec_unthrottle(PG_FUNCTION_ARGS)
{
	AcctsecNetwork net;
	bool		was_throttled = false;

	bool		known = false;

	acctsec_network_of(PG_GETARG_DATUM(0), false, &net);
	acctsec_spi_connect();
	if (acctsec_plan_run(&throttle_plans[PLAN_NET_DELETE], &net.network, NULL, false, 0) == 1)
	{
		bool		isnull;
		Datum		until = SPI_getbinval(SPI_tuptable->vals[0],
										  SPI_tuptable->tupdesc, 1, &isnull);

		known = true;
		was_throttled = acctsec_timestamp_value(until, isnull) > GetCurrentTransactionStartTimestamp();
	}
	acctsec_spi_finish();
	if (known)
		acctsec_security_event("network.unthrottled", NULL,
							   "network",
							   DatumGetCString(DirectFunctionCall1(cidr_out, net.network)),
							   "was_throttled", was_throttled ? "true" : "false",
							   NULL);
	PG_RETURN_BOOL(was_throttled);
}

/* prune_networks(): expired network rows and familiar networks deleted */
Datum
acctsec_prune_networks(PG_FUNCTION_ARGS)
{
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	Datum		net_values[1] = {TimestampTzGetDatum(now)};
	Datum		fam_values[1] = {TimestampTzGetDatum(familiar_since(now))};
	uint64		deleted;

	acctsec_spi_connect();
	deleted = acctsec_plan_run(&throttle_plans[PLAN_NET_PRUNE_ALL], net_values, NULL, false, 0);
	deleted += acctsec_plan_run(&throttle_plans[PLAN_FAM_PRUNE_ALL], fam_values, NULL, false, 0);
	acctsec_spi_finish();
	PG_RETURN_INT64((int64) deleted);
}
