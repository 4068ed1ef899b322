/*
 * sessions.c
 *		Sessions with refresh-token rotation and reuse detection, and the
 *		revocation rules shared with one-time tokens (docs/sessions.md).
 *
 * A session is a row of acctsec.account_sessions holding its current
 * token's selector (unique index) and the keyed hash of its verifier, in the
 * format of tokens.c ("acs_" prefix).  session_check is one index lookup, a
 * keyed hash and a constant-time comparison; it writes last_seen_at only
 * when the stored value is older than acctsec.session_touch_interval, so a
 * read-heavy application does not write on every request (and the write is
 * a HOT update: last_seen_at is in no index).  A transaction whose only
 * write is that touch commits without waiting for its WAL to reach disk
 * (see touch_xact_callback): a crash may forget the last touches, which can
 * only make a session look idle for longer, never keep one alive.
 *
 * session_rotate gives the session a new token and moves the old one to
 * acctsec.retired_session_tokens.  A retired token presented to
 * session_rotate again is a replay: within acctsec.session_reuse_grace of
 * its retirement (two tabs refreshing at once) it is refused; later, the
 * token was stolen or the client is broken, and the whole session is
 * revoked.  session_rotate never raises an error for a token it refuses,
 * since an error would roll that revocation back.  Concurrent rotations of
 * one token queue on the session's row lock: the first rotates, the others
 * find the token retired within the grace and get NULL.
 *
 * Revocation deletes the rows (a retired token of a revoked session is then
 * simply unknown).  Every table references acctsec.accounts ON DELETE
 * CASCADE, so forget_account erases everything; a lockout revokes
 * everything through acctsec_revoke_account_tokens, called by account.c.
 * Functions that revoke every session of an account (and session_start)
 * take the account's row lock first, so a session started concurrently is
 * either revoked too or starts after the revocation.
 */
#include "postgres.h"

#include <sodium.h>

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "account.h"
#include "compat.h"
#include "events.h"
#include "relation_util.h"
#include "row_lock.h"
#include "row_write.h"
#include "sessions.h"
#include "spi_util.h"
#include "tokens.h"

PG_FUNCTION_INFO_V1(acctsec_session_start);
PG_FUNCTION_INFO_V1(acctsec_session_check);
PG_FUNCTION_INFO_V1(acctsec_session_touch);
PG_FUNCTION_INFO_V1(acctsec_session_rotate);
PG_FUNCTION_INFO_V1(acctsec_session_end);
PG_FUNCTION_INFO_V1(acctsec_sessions);
PG_FUNCTION_INFO_V1(acctsec_session_revoke);
PG_FUNCTION_INFO_V1(acctsec_sessions_revoke_all);
PG_FUNCTION_INFO_V1(acctsec_credentials_changed);
PG_FUNCTION_INFO_V1(acctsec_prune_expired);

/* A user agent is stored cut to this many bytes, never refused. */
#define MAX_USER_AGENT_BYTES	1024
#define MAX_DURATION_S			(10 * 365 * 24 * 3600)

/* Settings; all PGC_SUSET, in seconds. */
static int	session_lifetime = 30 * 24 * 3600;
static int	session_idle_timeout = 7 * 24 * 3600;
static int	session_touch_interval = 60;
static int	session_reuse_grace = 10;

void
acctsec_define_sessions_gucs(void)
{
	DefineCustomIntVariable("acctsec.session_lifetime",
							"Absolute lifetime of a session, rotations included.",
							NULL,
							&session_lifetime,
							30 * 24 * 3600, 1, MAX_DURATION_S,
							PGC_SUSET, GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("acctsec.session_idle_timeout",
							"A session unused for this long ends (0: never).",
							NULL,
							&session_idle_timeout,
							7 * 24 * 3600, 0, MAX_DURATION_S,
							PGC_SUSET, GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("acctsec.session_touch_interval",
							"session_check writes a session's last-seen time at most this often.",
							"0 writes it on every check.",
							&session_touch_interval,
							60, 0, 24 * 3600,
							PGC_SUSET, GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("acctsec.session_reuse_grace",
							"A rotated-out token presented again within this time is refused; later it revokes its session.",
							NULL,
							&session_reuse_grace,
							10, 0, 3600,
							PGC_SUSET, GUC_UNIT_S,
							NULL, NULL, NULL);
}

/* ---------------------------------------------------------------------------
 * Saved plans
 * ---------------------------------------------------------------------------
 */

typedef enum SessionPlanId
{
	PLAN_START,
	PLAN_FIND,
	PLAN_FIND_FOR_UPDATE,
	PLAN_RETIRE,
	PLAN_ROTATE,
	PLAN_FIND_RETIRED,
	PLAN_DELETE,
	PLAN_LIST,
	PLAN_REVOKE_ONE,
	PLAN_REVOKE_ALL,
	PLAN_PRUNE,
	NUM_SESSION_PLANS
} SessionPlanId;

/* the session of selector $1 (PLAN_FIND...), these columns in this order */
#define SESSION_BY_SELECTOR \
	"SELECT session_id, account, verifier_hash, last_seen_at, expires_at" \
	" FROM acctsec.account_sessions" \
	" WHERE selector OPERATOR(pg_catalog.=) $1"

static AcctsecPlan session_plans[NUM_SESSION_PLANS] = {
	[PLAN_START] = {
		"INSERT INTO acctsec.account_sessions"
		" (account, selector, verifier_hash, started_at, last_seen_at,"
		" expires_at, ip, user_agent)"
		" VALUES ($1, $2, $3, $4, $4, $5, $6, $7) RETURNING session_id",
		ACCTSEC_PLAN_ARGS(TEXTOID, BYTEAOID, BYTEAOID, TIMESTAMPTZOID,
						  TIMESTAMPTZOID, INETOID, TEXTOID),
		SPI_OK_INSERT_RETURNING, NULL
	},
	[PLAN_FIND] = {
		SESSION_BY_SELECTOR,
		ACCTSEC_PLAN_ARGS(BYTEAOID), SPI_OK_SELECT, NULL
	},
	/* the new selector is in a unique index: the update needs FOR UPDATE */
	[PLAN_FIND_FOR_UPDATE] = {
		SESSION_BY_SELECTOR " FOR UPDATE",
		ACCTSEC_PLAN_ARGS(BYTEAOID), SPI_OK_SELECT, NULL
	},
	[PLAN_RETIRE] = {
		"INSERT INTO acctsec.retired_session_tokens"
		" (selector, session_id, verifier_hash, retired_at)"
		" SELECT selector, session_id, verifier_hash, $2"
		" FROM acctsec.account_sessions"
		" WHERE session_id OPERATOR(pg_catalog.=) $1",
		ACCTSEC_PLAN_ARGS(INT8OID, TIMESTAMPTZOID), SPI_OK_INSERT, NULL
	},
	[PLAN_ROTATE] = {
		"UPDATE acctsec.account_sessions SET selector = $2,"
		" verifier_hash = $3, last_seen_at = $4, rotated_at = $4"
		" WHERE session_id OPERATOR(pg_catalog.=) $1",
		ACCTSEC_PLAN_ARGS(INT8OID, BYTEAOID, BYTEAOID, TIMESTAMPTZOID),
		SPI_OK_UPDATE, NULL
	},
	[PLAN_FIND_RETIRED] = {
		"SELECT r.session_id, s.account, r.verifier_hash, r.retired_at"
		" FROM acctsec.retired_session_tokens r"
		" JOIN acctsec.account_sessions s"
		" ON s.session_id OPERATOR(pg_catalog.=) r.session_id"
		" WHERE r.selector OPERATOR(pg_catalog.=) $1 FOR UPDATE OF s",
		ACCTSEC_PLAN_ARGS(BYTEAOID), SPI_OK_SELECT, NULL
	},
	[PLAN_DELETE] = {
		"DELETE FROM acctsec.account_sessions"
		" WHERE session_id OPERATOR(pg_catalog.=) $1",
		ACCTSEC_PLAN_ARGS(INT8OID), SPI_OK_DELETE, NULL
	},

	/*
	 * live sessions: not past their lifetime, not idle ($3 is NULL: no idle
	 * timeout)
	 */
	[PLAN_LIST] = {
		"SELECT session_id, started_at, last_seen_at, expires_at, ip, user_agent"
		" FROM acctsec.account_sessions"
		" WHERE account OPERATOR(pg_catalog.=) $1"
		" AND expires_at OPERATOR(pg_catalog.>) $2"
		" AND ($3::pg_catalog.timestamptz IS NULL"
		" OR last_seen_at OPERATOR(pg_catalog.>) $3)"
		" ORDER BY started_at, session_id",
		ACCTSEC_PLAN_ARGS(TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID),
		SPI_OK_SELECT, NULL
	},
	[PLAN_REVOKE_ONE] = {
		"DELETE FROM acctsec.account_sessions"
		" WHERE account OPERATOR(pg_catalog.=) $1"
		" AND session_id OPERATOR(pg_catalog.=) $2",
		ACCTSEC_PLAN_ARGS(TEXTOID, INT8OID), SPI_OK_DELETE, NULL
	},
	/* $2: the session to keep, or NULL */
	[PLAN_REVOKE_ALL] = {
		"DELETE FROM acctsec.account_sessions"
		" WHERE account OPERATOR(pg_catalog.=) $1"
		" AND ($2::pg_catalog.int8 IS NULL"
		" OR session_id OPERATOR(pg_catalog.<>) $2)",
		ACCTSEC_PLAN_ARGS(TEXTOID, INT8OID), SPI_OK_DELETE, NULL
	},
	[PLAN_PRUNE] = {
		"DELETE FROM acctsec.account_sessions"
		" WHERE expires_at OPERATOR(pg_catalog.<=) $1"
		" OR last_seen_at OPERATOR(pg_catalog.<=) $2",
		ACCTSEC_PLAN_ARGS(TIMESTAMPTZOID, TIMESTAMPTZOID), SPI_OK_DELETE, NULL
	},
};

/* ---------------------------------------------------------------------------
 * Looking a token up
 * ---------------------------------------------------------------------------
 */

typedef struct SessionRow
{
	int64		session_id;
	text	   *account;		/* in the caller's memory context */
	TimestampTz last_seen_at;
	TimestampTz expires_at;
} SessionRow;

/* The moment before which a session's last use makes it idle. */
static inline bool
session_live(const SessionRow *s, TimestampTz now)
{
	if (s->expires_at <= now)
		return false;
	if (session_idle_timeout > 0 &&
		s->last_seen_at + (int64) session_idle_timeout * USECS_PER_SEC <= now)
		return false;
	return true;
}

/* When the session ends if it is not used again after last_seen. */
static TimestampTz
session_ends_at(const SessionRow *s, TimestampTz last_seen)
{
	TimestampTz idle_end;

	if (session_idle_timeout == 0)
		return s->expires_at;
	idle_end = last_seen + (int64) session_idle_timeout * USECS_PER_SEC;
	return Min(s->expires_at, idle_end);
}

/*
 * Run plan, a lookup by the token's selector whose third column is the
 * verifier's hash (SPI connected); the row found when tok's verifier
 * matches it, or NULL.
 */
static HeapTuple
find_by_selector(AcctsecPlan *plan, const AcctsecToken *tok, bool read_only)
{
	Datum		values[1] = {PointerGetDatum(acctsec_token_selector(tok))};
	HeapTuple	tuple;
	bool		isnull;

	if (acctsec_plan_run(plan, values, NULL, read_only, 1) != 1)
		return NULL;
	tuple = SPI_tuptable->vals[0];
	if (!acctsec_token_verify(ACCTSEC_TOKEN_SESSION, tok,
							  DatumGetByteaPP(SPI_getbinval(tuple, SPI_tuptable->tupdesc,
															3, &isnull))))
		return NULL;
	return tuple;
}

/*
 * Find the session whose current token this is (SPI connected; the parsed
 * token in tok).  True and *row filled when the token's verifier matches;
 * the session may be past its lifetime or idle (see session_live).
 */
static bool
find_session(const AcctsecToken *tok, bool for_update, MemoryContext outer,
			 SessionRow *row)
{
	HeapTuple	tuple;
	TupleDesc	desc;
	bool		isnull;
	MemoryContext spi;

	tuple = find_by_selector(&session_plans[for_update ? PLAN_FIND_FOR_UPDATE : PLAN_FIND],
							 tok, !for_update);
	if (tuple == NULL)
		return false;
	desc = SPI_tuptable->tupdesc;
	row->session_id = DatumGetInt64(SPI_getbinval(tuple, desc, 1, &isnull));
	row->last_seen_at = DatumGetTimestampTz(SPI_getbinval(tuple, desc, 4, &isnull));
	row->expires_at = DatumGetTimestampTz(SPI_getbinval(tuple, desc, 5, &isnull));
	spi = MemoryContextSwitchTo(outer);
	row->account = DatumGetTextPCopy(SPI_getbinval(tuple, desc, 2, &isnull));
	MemoryContextSwitchTo(spi);
	return true;
}

/*
 * session_check's lookup, without SPI: one probe of the selector's unique
 * index (acctsec_probe_unique).  A plan run through SPI costs an executor
 * start-up per call, several times the probe itself; the touch, too, is
 * written without one (touch_session).
 */
#define SESSION_PROBE_COLUMNS \
	"verifier_hash, session_id, last_seen_at, expires_at, account"
#define NUM_SESSION_PROBE_COLUMNS 5
static AcctsecColumns session_probe_columns =
ACCTSEC_COLUMNS(SESSION_PROBE_COLUMNS, NUM_SESSION_PROBE_COLUMNS);

static bool
find_session_by_index(const AcctsecToken *tok, SessionRow *row)
{
	Datum		key = PointerGetDatum(acctsec_token_selector(tok));
	Datum		v[NUM_SESSION_PROBE_COLUMNS];
	bool		isnull[NUM_SESSION_PROBE_COLUMNS];

	if (!acctsec_probe_unique("account_sessions", "account_sessions_selector_key",
							  1, &key, &session_probe_columns, v, isnull) ||
		isnull[0] ||
		!acctsec_token_verify(ACCTSEC_TOKEN_SESSION, tok, DatumGetByteaPP(v[0])))
		return false;
	row->session_id = DatumGetInt64(v[1]);
	row->last_seen_at = DatumGetTimestampTz(v[2]);
	row->expires_at = DatumGetTimestampTz(v[3]);
	row->account = DatumGetTextPCopy(v[4]);
	return true;
}

/*
 * The live session of the token argument (a session token datum, maybe
 * malformed), or false.  SPI connected.  The parsed token is wiped whatever
 * happens.
 */
static bool
live_session_of(Datum token, bool for_update, MemoryContext outer,
				SessionRow *row)
{
	AcctsecToken tok;
	volatile bool found = false;

	if (!acctsec_token_parse(ACCTSEC_TOKEN_SESSION, token, &tok))
		return false;
	PG_TRY();
	{
		found = find_session(&tok, for_update, outer, row) &&
			session_live(row, GetCurrentTransactionStartTimestamp());
	}
	PG_FINALLY();
	{
		acctsec_token_wipe(&tok);
	}
	PG_END_TRY();
	return found;
}

/* A session event: the account, the session and any further details. */
static void
session_event(const char *event, const text *account, int64 session_id,
			  const char *key, const char *value)
{
	char		id[32];

	snprintf(id, sizeof(id), INT64_FORMAT, session_id);
	acctsec_security_event(event, text_to_cstring(account),
						   "session_id", id, key, value, NULL);
}

/* Sessions (and tokens) revoked in bulk, and why; nothing when none was. */
static void
revoked_event(const text *account, const char *reason, uint64 count,
			  int64 kept)
{
	char		n[32];
	char		keep[32];

	snprintf(n, sizeof(n), UINT64_FORMAT, count);
	snprintf(keep, sizeof(keep), INT64_FORMAT, kept);
	acctsec_security_event("session.revoked", text_to_cstring(account),
						   "reason", reason, "revoked", n,
						   "kept_session_id", kept != 0 ? keep : NULL, NULL);
}

/* ---------------------------------------------------------------------------
 * Revocation (sessions.h)
 * ---------------------------------------------------------------------------
 */

/*
 * Revoke every session of the account but keep_session (0: none), and with
 * one_time_tokens every one-time token too.  The caller holds the account's
 * row lock, in its SPI connection.  Returns the number of sessions and
 * tokens revoked.
 */
static uint64
revoke_account(const text *account, int64 keep_session, bool one_time_tokens)
{
	Datum		values[2];
	char		nulls[2] = {' ', keep_session == 0 ? 'n' : ' '};
	uint64		n;

	values[0] = PointerGetDatum(account);
	values[1] = Int64GetDatum(keep_session);
	n = acctsec_plan_run(&session_plans[PLAN_REVOKE_ALL], values, nulls, false, 0);
	if (one_time_tokens)
		n += acctsec_tokens_revoke_account(account);
	return n;
}

uint64
acctsec_revoke_account_tokens(const text *account)
{
	uint64		n = revoke_account(account, 0, true);

	if (n > 0)
		revoked_event(account, "lockout", n, 0);
	return n;
}

/*
 * The session of token (a datum, may be NULL) if it is a live one of
 * account (SPI connected).
 */
static int64
own_session(const text *account, bool isnull, Datum token)
{
	SessionRow	row;

	if (isnull)
		return 0;
	if (live_session_of(token, false, CurrentMemoryContext, &row) &&
		VARSIZE_ANY_EXHDR(row.account) == VARSIZE_ANY_EXHDR(account) &&
		memcmp(VARDATA_ANY(row.account), VARDATA_ANY(account),
			   VARSIZE_ANY_EXHDR(account)) == 0)
		return row.session_id;
	return 0;
}

/* ---------------------------------------------------------------------------
 * SQL-callable functions
 * ---------------------------------------------------------------------------
 */

/*
 * A new session of account (SPI connected) with the token tok, whose
 * verifier's hash is hash, from ip (NULL: none) with user_agent (NULL:
 * none), ending at expires; returns its id.  The caller holds the account's
 * row lock.  Wipes tok.
 */
static int64
store_session(text *account, AcctsecToken *tok, bytea *hash, Datum ip,
			  bool ip_null, text *user_agent, TimestampTz now,
			  TimestampTz expires)
{
	Datum		args[7];
	char		nulls[7] = {' ', ' ', ' ', ' ', ' ', ' ', ' '};
	bool		isnull;

	args[0] = PointerGetDatum(account);
	args[1] = PointerGetDatum(acctsec_token_selector(tok));
	args[2] = PointerGetDatum(hash);
	args[3] = TimestampTzGetDatum(now);
	args[4] = TimestampTzGetDatum(expires);
	args[5] = ip;
	args[6] = PointerGetDatum(user_agent);
	nulls[5] = ip_null ? 'n' : ' ';
	nulls[6] = user_agent ? ' ' : 'n';
	acctsec_token_wipe(tok);

	if (acctsec_plan_run(&session_plans[PLAN_START], args, nulls, false, 1) != 1)
		elog(ERROR, "could not store a new session");
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
									   SPI_tuptable->tupdesc, 1, &isnull));
}

/*
 * session_start(account text, ip inet DEFAULT NULL, user_agent text DEFAULT NULL)
 *		RETURNS TABLE(session_id bigint, token text, expires_at timestamptz)
 */
Datum
acctsec_session_start(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	text	   *account = acctsec_account_arg(fcinfo, 0);
	bool		ip_null = PG_ARGISNULL(1);
	text	   *user_agent = NULL;
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	TimestampTz expires = now + (int64) session_lifetime * USECS_PER_SEC;
	AcctsecToken tok;
	bytea	   *hash;
	text	   *token;
	Datum		values[3];
	bool		result_nulls[3] = {false, false, false};
	int64		session_id;

	if (!PG_ARGISNULL(2))
	{
		text	   *ua = PG_GETARG_TEXT_PP(2);
		int			len = VARSIZE_ANY_EXHDR(ua);

		if (len > MAX_USER_AGENT_BYTES)
			len = pg_mbcliplen(VARDATA_ANY(ua), len, MAX_USER_AGENT_BYTES);
		user_agent = cstring_to_text_with_len(VARDATA_ANY(ua), len);
	}
	InitMaterializedSRF(fcinfo, 0);

	/* the token outlives the SPI connection: made before it */
	token = acctsec_token_new(ACCTSEC_TOKEN_SESSION, &tok, &hash);
	acctsec_spi_connect();
	/* the account's row: it must exist, and revoke_all queues behind us */
	acctsec_account_lock(account, NULL);
	session_id = store_session(account, &tok, hash,
							   ip_null ? (Datum) 0 : PG_GETARG_DATUM(1),
							   ip_null, user_agent, now, expires);
	acctsec_spi_finish();

	session_event("session.started", account, session_id, "ip",
				  ip_null ? NULL : DatumGetCString(DirectFunctionCall1(inet_out,
																	   PG_GETARG_DATUM(1))));

	values[0] = Int64GetDatum(session_id);
	values[1] = PointerGetDatum(token);
	values[2] = TimestampTzGetDatum(expires);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, result_nulls);
	return (Datum) 0;
}

/*
 * The touch's commit.  last_seen_at decides when an idle session ends;
 * losing the latest touches in a crash ends such a session a little early,
 * never late.  So when the touch is all that a transaction writes, as for
 * the usual "SELECT ... FROM acctsec.session_check($1)" of a request, the
 * commit need not wait for its WAL to be flushed, just as after SET LOCAL
 * synchronous_commit = off, and the check costs about what a read does
 * (with synchronous_commit on, the flush is most of the cost of a write).
 *
 * "All that the transaction writes": it had no transaction id before the
 * touch (nothing transactional written yet), and at commit this backend has
 * inserted no WAL since the touch's (XactLastRecEnd has not moved).  Any
 * other write, before or after, keeps the commit synchronous.
 */
static bool touch_callback_registered = false;
static bool touch_alone = false;
static XLogRecPtr touch_end = InvalidXLogRecPtr;

static void
touch_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_PRE_COMMIT && touch_alone &&
		XactLastRecEnd == touch_end)
		(void) set_config_option("synchronous_commit", "off",
								 PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_LOCAL, true, 0, false);
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PREPARE || event == XACT_EVENT_PARALLEL_COMMIT ||
		event == XACT_EVENT_PARALLEL_ABORT)
		touch_alone = false;
}

/*
 * The touch: the session's row locked by its id, as UPDATE ... WHERE
 * session_id = $1 would lock it, and its last_seen_at written unless a
 * concurrent touch already wrote a later one; both through the table AM
 * (row_lock.h, row_write.h).
 */
static AcctsecKeyedTable sessions_table = {
	.relname = "account_sessions",
	.key_eq = F_INT8EQ,
	.columns = ACCTSEC_COLUMNS("last_seen_at", 1)
};
static AcctsecRowWrite touch_write = {
	.relname = "account_sessions",
	.cmd = CMD_UPDATE,
	.columns = "last_seen_at"
};

/* Write the session's last use at now (SPI connected). */
static void
touch_session(int64 session_id, TimestampTz now)
{
	bool		first_write = !FullTransactionIdIsValid(GetTopFullTransactionIdIfAny());
	Datum		seen;
	bool		seen_null;
	ItemPointerData tid;

	if (acctsec_row_lock_by_key(&sessions_table, Int64GetDatum(session_id),
								&seen, &seen_null, &tid) &&
		(seen_null || DatumGetTimestampTz(seen) < now))
	{
		Datum		value = TimestampTzGetDatum(now);
		bool		isnull = false;

		acctsec_row_write(&touch_write, &tid, &value, &isnull);
	}
	if (first_write)
	{
		if (!touch_callback_registered)
		{
			RegisterXactCallback(touch_xact_callback, NULL);
			touch_callback_registered = true;
		}
		touch_alone = true;
		touch_end = XactLastRecEnd;
	}
	else
		touch_alone = false;
}

/*
 * Look up a session token and, when its last-seen time is due to be written
 * (older than acctsec.session_touch_interval, or always with force), set
 * *touch_now: the caller writes it (touch_session).  Where writing is
 * impossible (a read-only transaction, a hot standby) *touch_due tells the
 * caller instead that a touch is owed: an application reading from a
 * standby calls session_touch on the primary, so the idle timeout stays
 * right.  True when the token is the current one of a live session;
 * row->expires_at is then when it ends unless used again.  Runs no
 * statement: a session_check that need not write connects to nothing.
 */
static bool
check_session(Datum token, bool force, SessionRow *row, bool *touch_due,
			  bool *touch_now)
{
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	volatile bool found = false;
	TimestampTz seen;
	AcctsecToken tok;

	*touch_due = false;
	*touch_now = false;
	if (!acctsec_token_parse(ACCTSEC_TOKEN_SESSION, token, &tok))
		return false;
	PG_TRY();
	{
		found = find_session_by_index(&tok, row) && session_live(row, now);
	}
	PG_FINALLY();
	{
		acctsec_token_wipe(&tok);
	}
	PG_END_TRY();
	if (!found)
		return false;

	seen = row->last_seen_at;
	if (force || now - row->last_seen_at >= (int64) session_touch_interval * USECS_PER_SEC)
	{
		if (XactReadOnly || RecoveryInProgress())
			*touch_due = true;
		else
		{
			*touch_now = true;
			seen = now;
		}
	}
	row->expires_at = session_ends_at(row, seen);
	return true;
}

/*
 * session_check(token text)
 *		RETURNS TABLE(account text, session_id bigint, expires_at timestamptz,
 *					  touch_due boolean)
 *
 * No row for anything but the current token of a live session.  expires_at
 * is when the session ends unless it is used again (its lifetime or its
 * idle timeout, whichever comes first).  touch_due is true where the
 * last-seen time was due but could not be written here (docs/replication.md).
 *
 * The one function of the security state that is not SECURITY DEFINER, as
 * it runs on every request: setting search_path for the call (the
 * definer's SET) and putting it back cost more than the lookup itself.  It
 * needs no rights of its own: the lookup is a probe of the index, which
 * checks no privileges (it reads for the caller what the caller's
 * EXECUTE privilege lets it ask, as the definer function did) and runs no
 * code but the index's own; the one write, the touch, runs through the
 * privilege switch, as the table's owner with search_path pinned
 * (docs/security.md).
 */
Datum
acctsec_session_check(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	SessionRow	row;
	bool		touch_due;
	bool		touch_now;

	/*
	 * The executor has the result's row type already (expectedDesc, in FROM
	 * and in a select list alike); rebuilding it from the function's OUT
	 * arguments in pg_proc, as InitMaterializedSRF does without the flag,
	 * costs more than the rest of the call's set-up.
	 */
	InitMaterializedSRF(fcinfo,
						rsinfo != NULL && IsA(rsinfo, ReturnSetInfo) &&
						rsinfo->expectedDesc != NULL ?
						MAT_SRF_USE_EXPECTED_DESC : 0);
	if (check_session(PG_GETARG_DATUM(0), false, &row, &touch_due, &touch_now))
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		if (touch_now)
		{
			AcctsecRoleSwitch sw;

			acctsec_spi_connect();
			acctsec_become_role(acctsec_rel_owner(acctsec_relid("account_sessions")),
								&sw);
			touch_session(row.session_id, GetCurrentTransactionStartTimestamp());
			acctsec_restore_role(&sw);
			acctsec_spi_finish();
		}

		values[0] = PointerGetDatum(row.account);
		values[1] = Int64GetDatum(row.session_id);
		values[2] = TimestampTzGetDatum(row.expires_at);
		values[3] = BoolGetDatum(touch_due);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * session_touch(token text) RETURNS boolean
 *
 * Records that a live session was just used, on the primary: what an
 * application does when session_check on a standby answered touch_due.
 * False for anything but the current token of a live session.  On a
 * standby it fails with PostgreSQL's read-only error.
 */
Datum
acctsec_session_touch(PG_FUNCTION_ARGS)
{
	SessionRow	row;
	bool		touch_due;
	bool		touch_now;

	PreventCommandIfReadOnly("session_touch()");
	if (!check_session(PG_GETARG_DATUM(0), true, &row, &touch_due, &touch_now))
		PG_RETURN_BOOL(false);
	if (touch_now)
	{
		acctsec_spi_connect();
		touch_session(row.session_id, GetCurrentTransactionStartTimestamp());
		acctsec_spi_finish();
	}
	PG_RETURN_BOOL(true);
}

/*
 * Retire the current token of the live session session_id and give it a new
 * one (SPI connected); returns the new token, in outer.
 */
static text *
rotate_token(int64 session_id, TimestampTz now, MemoryContext outer)
{
	AcctsecToken fresh;
	bytea	   *hash;
	text	   *token;
	Datum		args[4];
	MemoryContext spi;

	args[0] = Int64GetDatum(session_id);
	args[1] = TimestampTzGetDatum(now);
	acctsec_plan_run(&session_plans[PLAN_RETIRE], args, NULL, false, 0);

	token = acctsec_token_new(ACCTSEC_TOKEN_SESSION, &fresh, &hash);
	args[1] = PointerGetDatum(acctsec_token_selector(&fresh));
	args[2] = PointerGetDatum(hash);
	args[3] = TimestampTzGetDatum(now);
	acctsec_token_wipe(&fresh);
	acctsec_plan_run(&session_plans[PLAN_ROTATE], args, NULL, false, 0);
	/* out of SPI's memory, which goes at SPI_finish */
	spi = MemoryContextSwitchTo(outer);
	token = DatumGetTextPCopy(PointerGetDatum(token));
	MemoryContextSwitchTo(spi);
	return token;
}

/*
 * When tok is a retired token of a session presented after the grace, the
 * token was stolen: revoke its session (SPI connected).  Returns the
 * session's account, in outer, and sets *session_id; NULL otherwise.
 */
static text *
revoke_if_reused(const AcctsecToken *tok, TimestampTz now, MemoryContext outer,
				 int64 *session_id)
{
	HeapTuple	tuple;
	TupleDesc	desc;
	bool		isnull;
	TimestampTz retired_at;
	Datum		del[1];
	MemoryContext spi;
	text	   *account;

	/* a retired token?  Lock its session, then look at it */
	tuple = find_by_selector(&session_plans[PLAN_FIND_RETIRED], tok, false);
	if (tuple == NULL)
		return NULL;
	desc = SPI_tuptable->tupdesc;
	retired_at = DatumGetTimestampTz(SPI_getbinval(tuple, desc, 4, &isnull));
	if (now - retired_at < (int64) session_reuse_grace * USECS_PER_SEC)
		return NULL;

	*session_id = DatumGetInt64(SPI_getbinval(tuple, desc, 1, &isnull));
	del[0] = Int64GetDatum(*session_id);
	acctsec_plan_run(&session_plans[PLAN_DELETE], del, NULL, false, 0);
	spi = MemoryContextSwitchTo(outer);
	account = DatumGetTextPCopy(SPI_getbinval(tuple, desc, 2, &isnull));
	MemoryContextSwitchTo(spi);
	return account;
}

/*
 * session_rotate(token text) RETURNS text
 *
 * The new token of the session whose current token this is, or NULL.  A
 * retired token presented after the grace revokes its session.
 */
Datum
acctsec_session_rotate(PG_FUNCTION_ARGS)
{
	MemoryContext outer = CurrentMemoryContext;
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	AcctsecToken tok;
	SessionRow	row;
	text	   *volatile result = NULL;
	text	   *volatile reused_account = NULL;
	volatile int64 event_session = 0;

	if (!acctsec_token_parse(ACCTSEC_TOKEN_SESSION, PG_GETARG_DATUM(0), &tok))
		PG_RETURN_NULL();

	acctsec_spi_connect();
	PG_TRY();
	{
		int64		session_id = 0;

		if (find_session(&tok, true, outer, &row))
		{
			if (session_live(&row, now))
			{
				result = rotate_token(row.session_id, now, outer);
				event_session = row.session_id;
			}
		}
		else
		{
			reused_account = revoke_if_reused(&tok, now, outer, &session_id);
			event_session = session_id;
		}
	}
	PG_FINALLY();
	{
		acctsec_token_wipe(&tok);
	}
	PG_END_TRY();
	acctsec_spi_finish();

	if (reused_account != NULL)
		session_event("session.reuse_detected", reused_account, event_session,
					  "revoked", "true");
	if (result == NULL)
		PG_RETURN_NULL();
	session_event("session.rotated", row.account, event_session, NULL, NULL);
	PG_RETURN_TEXT_P(result);
}

/* session_end(token text) RETURNS boolean: true if a live session ended */
Datum
acctsec_session_end(PG_FUNCTION_ARGS)
{
	MemoryContext outer = CurrentMemoryContext;
	SessionRow	row;
	bool		ended = false;

	if (PG_ARGISNULL(0))
		PG_RETURN_BOOL(false);
	acctsec_spi_connect();
	if (live_session_of(PG_GETARG_DATUM(0), true, outer, &row))
	{
		Datum		args[1] = {Int64GetDatum(row.session_id)};

		ended = acctsec_plan_run(&session_plans[PLAN_DELETE], args, NULL, false, 0) == 1;
	}
	acctsec_spi_finish();
	if (ended)
		session_event("session.ended", row.account, row.session_id, NULL, NULL);
	PG_RETURN_BOOL(ended);
}

/*
 * sessions(account text) RETURNS TABLE(session_id bigint, started_at
 *		timestamptz, last_seen_at timestamptz, expires_at timestamptz, ip inet,
 *		user_agent text)
 *
 * The account's live sessions, oldest first, for a "your devices" page.
 * expires_at is the session's absolute end; last_seen_at is exact to
 * acctsec.session_touch_interval.
 */
Datum
acctsec_sessions(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	text	   *account = acctsec_account_arg(fcinfo, 0);
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	Datum		args[3];
	char		nulls[3] = {' ', ' ', ' '};
	uint64		n;

	InitMaterializedSRF(fcinfo, 0);
	args[0] = PointerGetDatum(account);
	args[1] = TimestampTzGetDatum(now);
	if (session_idle_timeout > 0)
		args[2] = TimestampTzGetDatum(now - (int64) session_idle_timeout * USECS_PER_SEC);
	else
		nulls[2] = 'n';

	acctsec_spi_connect();
	n = acctsec_plan_run(&session_plans[PLAN_LIST], args, nulls, true, 0);
	for (uint64 i = 0; i < n; i++)
	{
		Datum		values[6];
		bool		isnull[6];

		for (int c = 0; c < 6; c++)
			values[c] = SPI_getbinval(SPI_tuptable->vals[i],
									  SPI_tuptable->tupdesc, c + 1, &isnull[c]);
		/* the tuplestore copies the values into its own memory */
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, isnull);
	}
	acctsec_spi_finish();
	return (Datum) 0;
}

/* session_revoke(account text, session_id bigint) RETURNS boolean */
Datum
acctsec_session_revoke(PG_FUNCTION_ARGS)
{
	text	   *account = acctsec_account_arg(fcinfo, 0);
	Datum		args[2];
	bool		revoked;

	if (PG_ARGISNULL(1))
		PG_RETURN_BOOL(false);
	args[0] = PointerGetDatum(account);
	args[1] = PG_GETARG_DATUM(1);
	acctsec_spi_connect();
	revoked = acctsec_plan_run(&session_plans[PLAN_REVOKE_ONE], args, NULL, false, 0) == 1;
	acctsec_spi_finish();
	if (revoked)
		session_event("session.revoked", account, PG_GETARG_INT64(1),
					  "reason", "session_revoke");
	PG_RETURN_BOOL(revoked);
}

/*
 * The body of sessions_revoke_all and credentials_changed (account, then
 * the caller's token): revoke the account's sessions but the caller's, and
 * with one_time_tokens its one-time tokens; the number revoked.
 */
static Datum
revoke_but_caller(FunctionCallInfo fcinfo, bool one_time_tokens,
				  const char *reason)
{
	text	   *account = acctsec_account_arg(fcinfo, 0);
	int64		keep;
	uint64		n;

	acctsec_spi_connect();
	acctsec_account_lock(account, NULL);
	keep = own_session(account, PG_ARGISNULL(1), PG_GETARG_DATUM(1));
	n = revoke_account(account, keep, one_time_tokens);
	acctsec_spi_finish();
	revoked_event(account, reason, n, keep);
	PG_RETURN_INT32((int32) n);
}

/*
 * sessions_revoke_all(account text, except_token text DEFAULT NULL)
 *		RETURNS int
 *
 * Every session of the account but the one except_token belongs to (when it
 * is a live session of this account); the number revoked.
 */
Datum
acctsec_sessions_revoke_all(PG_FUNCTION_ARGS)
{
	return revoke_but_caller(fcinfo, false, "sessions_revoke_all");
}

/*
 * credentials_changed(account text, keep_token text DEFAULT NULL) RETURNS int
 *
 * After a password or e-mail change: every session but the caller's (the one
 * keep_token belongs to) and every one-time token of the account; the
 * number of sessions and tokens revoked.
 */
Datum
acctsec_credentials_changed(PG_FUNCTION_ARGS)
{
	return revoke_but_caller(fcinfo, true, "credentials_changed");
}

/* prune_expired() RETURNS bigint: expired sessions and one-time tokens deleted */
Datum
acctsec_prune_expired(PG_FUNCTION_ARGS)
{
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	Datum		args[2];
	uint64		n;

	args[0] = TimestampTzGetDatum(now);
	/* with no idle timeout, a time before every session */
	args[1] = TimestampTzGetDatum(session_idle_timeout > 0 ?
								  now - (int64) session_idle_timeout * USECS_PER_SEC :
								  DT_NOBEGIN);
	acctsec_spi_connect();
	n = acctsec_plan_run(&session_plans[PLAN_PRUNE], args, NULL, false, 0);
	n += acctsec_tokens_prune(now);
	acctsec_spi_finish();
	PG_RETURN_INT64((int64) n);
}
