/*
 * account.c
 *		Accounts, login attempts and lockout (docs/accounts.md).
 *
 * One row of acctsec.accounts per account is the per-account serialisation
 * point.  login_attempt locks it (SELECT ... FOR NO KEY UPDATE, creating it
 * first on an account's first use), applies the policy in C and writes the
 * new state and a row of acctsec.login_attempts, all in the caller's
 * transaction: concurrent calls for one account queue on the row lock, and
 * each sees the state the previous one committed, so no update is lost.
 *
 * Every query goes through SPI with parameters, prepared once per backend
 * and kept (SPI_keepplan).  The query texts name every object with its
 * schema; the SQL functions run with search_path = pg_catalog, pg_temp.
 *
 * The policy (failure window, lockout length with backoff) is C over an
 * AcctsecAccount read from the locked row, and the SQL-callable functions
 * and the helpers exported in account.h for the other capabilities share
 * it: a wrong TOTP code counts exactly as a wrong password does.
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_enum.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "account.h"
#include "events.h"
#include "sessions.h"
#include "spi_util.h"
#include "throttle.h"

PG_FUNCTION_INFO_V1(acctsec_login_attempt);
PG_FUNCTION_INFO_V1(acctsec_account_status);
PG_FUNCTION_INFO_V1(acctsec_unlock);
PG_FUNCTION_INFO_V1(acctsec_forget_account);
PG_FUNCTION_INFO_V1(acctsec_prune_login_attempts);

/*
 * A user agent is whatever the client sent; it is stored cut to this many
 * bytes (at a character boundary) rather than refused, so that a login can
 * never fail on it.
 */
#define ACCTSEC_MAX_USER_AGENT_BYTES	1024

/* Upper bound of the duration settings: one year, in seconds. */
#define ACCTSEC_MAX_DURATION_S			(365 * 24 * 3600)

/* Settings (docs/accounts.md); all PGC_SUSET. */
static int	acctsec_max_failed_attempts = 5;
static int	acctsec_lockout_duration = 15 * 60;
static double acctsec_lockout_backoff = 2.0;
static int	acctsec_max_lockout_duration = 24 * 3600;
static int	acctsec_failure_window = 3600;
static int	acctsec_second_factor_timeout = 10 * 60;

void
acctsec_define_account_gucs(void)
{
	DefineCustomIntVariable("acctsec.max_failed_attempts",
							"Failed login attempts that lock an account (0 never locks).",
							NULL,
							&acctsec_max_failed_attempts,
							5, 0, 1000000,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("acctsec.lockout_duration",
							"Length of an account's first lockout.",
							NULL,
							&acctsec_lockout_duration,
							15 * 60, 1, ACCTSEC_MAX_DURATION_S,
							PGC_SUSET, GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomRealVariable("acctsec.lockout_backoff",
							 "Factor applied to the lockout length for each further consecutive lockout.",
							 "1.0 keeps every lockout the same length.",
							 &acctsec_lockout_backoff,
							 2.0, 1.0, 100.0,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("acctsec.max_lockout_duration",
							"Longest lockout, whatever the backoff.",
							NULL,
							&acctsec_max_lockout_duration,
							24 * 3600, 1, ACCTSEC_MAX_DURATION_S,
							PGC_SUSET, GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("acctsec.failure_window",
							"Failed attempts further apart than this do not add up.",
							NULL,
							&acctsec_failure_window,
							3600, 1, ACCTSEC_MAX_DURATION_S,
							PGC_SUSET, GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("acctsec.second_factor_timeout",
							"Time a login answered second_factor_required waits for its second factor.",
							NULL,
							&acctsec_second_factor_timeout,
							10 * 60, 1, 24 * 3600,
							PGC_SUSET, GUC_UNIT_S,
							NULL, NULL, NULL);
}

/* ---------------------------------------------------------------------------
 * Account arguments
 * ---------------------------------------------------------------------------
 */

void
acctsec_check_account(const text *account)
{
	size_t		len = VARSIZE_ANY_EXHDR(account);

	if (len == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("account must not be empty")));
	if (len > ACCTSEC_MAX_ACCOUNT_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("account is too long"),
				 errdetail("The account has %zu bytes; at most %d are accepted.",
						   len, ACCTSEC_MAX_ACCOUNT_BYTES)));
}

text *
acctsec_account_arg(FunctionCallInfo fcinfo, int argno)
{
	text	   *account;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("account must not be null")));
	account = PG_GETARG_TEXT_PP(argno);
	acctsec_check_account(account);
	return account;
}

/* ---------------------------------------------------------------------------
 * Saved plans
 * ---------------------------------------------------------------------------
 */

typedef enum AccountPlanId
{
	PLAN_LOCK,
	PLAN_CREATE,
	PLAN_PEEK,
	/* the three state changes of a login, each also with its log row */
	PLAN_WRITE_FAILURE,
	PLAN_WRITE_FAILURE_FAMILIAR,
	PLAN_WRITE_LOGIN,
	PLAN_WRITE_LOGIN_FAMILIAR,
	PLAN_WRITE_PENDING,
	PLAN_LOGGED_FAILURE,
	PLAN_LOGGED_FAILURE_FAMILIAR,
	PLAN_LOGGED_LOGIN,
	PLAN_LOGGED_LOGIN_FAMILIAR,
	PLAN_LOGGED_PENDING,
	PLAN_LOG,
	PLAN_PENDING_IP,
	PLAN_WRITE_UNLOCK,
	PLAN_WRITE_TOTP,
	PLAN_STATUS,
	PLAN_FORGET_ACCOUNT,
	PLAN_FORGET_KEEP_LOCK,
	PLAN_FORGET_ATTEMPTS,
	PLAN_PRUNE,
	NUM_ACCOUNT_PLANS
} AccountPlanId;

#define MAX_PLAN_ARGS	9

typedef struct AccountPlanDef
{
	const char *sql;			/* NULL: "logged" variant of plan "write" */
	int			nargs;
	Oid			argtypes[MAX_PLAN_ARGS];
	AccountPlanId write;
} AccountPlanDef;

/*
 * The columns read by PLAN_LOCK and PLAN_PEEK, in this order (see
 * row_from_tuple).  PLAN_LOCK also returns the ctid of the row version it
 * locked: while we hold the lock nobody else can update the row, so the
 * write plans find it by ctid (a TID scan) rather than through the index
 * again.  $1 is still the account in every write plan, for the log row.
 */
#define ACCOUNT_COLUMNS \
	"failed_attempts, last_failed_at, locked_until, lockouts, totp_enabled, " \
	"pending_login_at, familiar_failed_attempts, familiar_last_failed_at, " \
	"familiar_locked_until, familiar_lockouts, pending_login_familiar"
#define CTID_COLUMN		12		/* after ACCOUNT_COLUMNS in PLAN_LOCK */

/*
 * The log row of a login attempt.  $1 is the account and $2 the time in
 * every write plan; the outcome, ip and user agent follow the write plan's
 * own parameters.  The outcome is passed as text and cast, so that the saved
 * plan names the enum type rather than holding its OID.
 */
#define LOG_INSERT \
	"INSERT INTO acctsec.login_attempts" \
	" (account, attempted_at, outcome, ip, user_agent)" \
	" VALUES ($1, $2, $%d::acctsec.login_status, $%d, $%d)"
#define LOG_NARGS	3

static const AccountPlanDef plan_defs[NUM_ACCOUNT_PLANS] = {
	[PLAN_LOCK] = {
		"SELECT " ACCOUNT_COLUMNS ", ctid FROM acctsec.accounts"
		" WHERE account OPERATOR(pg_catalog.=) $1 FOR NO KEY UPDATE",
		1, {TEXTOID}
	},
	/*
	 * An account's first use.  The row we insert is ours until we commit:
	 * a concurrent first use waits on it in the unique index, then finds it
	 * with PLAN_LOCK.
	 */
	[PLAN_CREATE] = {
		"INSERT INTO acctsec.accounts (account) VALUES ($1)"
		" ON CONFLICT (account) DO NOTHING RETURNING " ACCOUNT_COLUMNS ", ctid",
		1, {TEXTOID}
	},
	[PLAN_PEEK] = {
		"SELECT " ACCOUNT_COLUMNS " FROM acctsec.accounts"
		" WHERE account OPERATOR(pg_catalog.=) $1",
		1, {TEXTOID}
	},
	/*
	 * A counted failure at $2: the counter $3, the lock $4 (NULL: none; an
	 * expired one is cleared) and the backoff level $5.  It also ends any
	 * pending second-factor login.
	 */
	[PLAN_WRITE_FAILURE] = {
		"UPDATE acctsec.accounts SET failed_attempts = $3, last_failed_at = $2,"
		" locked_until = $4, locked_at = CASE WHEN $4 IS NOT NULL THEN $2 END,"
		" lockouts = $5, pending_login_at = NULL, pending_login_ip = NULL"
		" WHERE ctid OPERATOR(pg_catalog.=) $6",
		6, {TEXTOID, TIMESTAMPTZOID, INT4OID, TIMESTAMPTZOID, INT4OID, TIDOID}
	},
	/*
	 * The same for a failure from a familiar network (smart lockout,
	 * docs/throttling.md), in the familiar_* columns.
	 */
	[PLAN_WRITE_FAILURE_FAMILIAR] = {
		"UPDATE acctsec.accounts SET familiar_failed_attempts = $3,"
		" familiar_last_failed_at = $2, familiar_locked_until = $4,"
		" locked_at = CASE WHEN $4 IS NOT NULL THEN $2 ELSE locked_at END,"
		" familiar_lockouts = $5, pending_login_at = NULL, pending_login_ip = NULL"
		" WHERE ctid OPERATOR(pg_catalog.=) $6",
		6, {TEXTOID, TIMESTAMPTZOID, INT4OID, TIMESTAMPTZOID, INT4OID, TIDOID}
	},
	/*
	 * A completed login at $2 from ip $3; when $4 (completion of a pending
	 * login) the pending login's ip is the login's.  It resets the counter,
	 * lock and backoff of its own kind only: a login from a familiar network
	 * (PLAN_WRITE_LOGIN_FAMILIAR) leaves those earned from other networks as
	 * they are, or an attacker elsewhere would get a fresh count each time
	 * the user logs in.
	 */
#define WRITE_LOGIN_COMMON \
	" last_login_at = $2," \
	" last_login_ip = CASE WHEN $4 THEN pending_login_ip ELSE $3 END," \
	" login_count = login_count OPERATOR(pg_catalog.+) 1," \
	" pending_login_at = NULL, pending_login_ip = NULL" \
	" WHERE ctid OPERATOR(pg_catalog.=) $5"
	[PLAN_WRITE_LOGIN] = {
		"UPDATE acctsec.accounts SET failed_attempts = 0, locked_until = NULL,"
		" locked_at = NULL, lockouts = 0," WRITE_LOGIN_COMMON,
		5, {TEXTOID, TIMESTAMPTZOID, INETOID, BOOLOID, TIDOID}
	},
	[PLAN_WRITE_LOGIN_FAMILIAR] = {
		"UPDATE acctsec.accounts SET familiar_failed_attempts = 0,"
		" familiar_locked_until = NULL, familiar_lockouts = 0,"
		" locked_at = CASE WHEN locked_until OPERATOR(pg_catalog.>) $2"
		"  THEN locked_at END," WRITE_LOGIN_COMMON,
		5, {TEXTOID, TIMESTAMPTZOID, INETOID, BOOLOID, TIDOID}
	},
	/*
	 * A right password waiting for the second factor since $2, from $3, a
	 * network familiar to the account or not ($5).
	 */
	[PLAN_WRITE_PENDING] = {
		"UPDATE acctsec.accounts SET pending_login_at = $2, pending_login_ip = $3,"
		" pending_login_familiar = $5"
		" WHERE ctid OPERATOR(pg_catalog.=) $4",
		5, {TEXTOID, TIMESTAMPTZOID, INETOID, TIDOID, BOOLOID}
	},
	/* the same with the log row, in one statement (built by prepare_plan) */
	[PLAN_LOGGED_FAILURE] = {NULL, 0, {0}, PLAN_WRITE_FAILURE},
	[PLAN_LOGGED_FAILURE_FAMILIAR] = {NULL, 0, {0}, PLAN_WRITE_FAILURE_FAMILIAR},
	[PLAN_LOGGED_LOGIN] = {NULL, 0, {0}, PLAN_WRITE_LOGIN},
	[PLAN_LOGGED_LOGIN_FAMILIAR] = {NULL, 0, {0}, PLAN_WRITE_LOGIN_FAMILIAR},
	[PLAN_LOGGED_PENDING] = {NULL, 0, {0}, PLAN_WRITE_PENDING},
	/* the log row alone: a locked account's state does not change */
	[PLAN_LOG] = {
		"INSERT INTO acctsec.login_attempts"
		" (account, attempted_at, outcome, ip, user_agent)"
		" VALUES ($1, $2, $3::acctsec.login_status, $4, $5)",
		5, {TEXTOID, TIMESTAMPTZOID, TEXTOID, INETOID, TEXTOID}
	},
	/* the ip of the login waiting for its second factor (row locked) */
	[PLAN_PENDING_IP] = {
		"SELECT pending_login_ip FROM acctsec.accounts"
		" WHERE account OPERATOR(pg_catalog.=) $1",
		1, {TEXTOID}
	},
	[PLAN_WRITE_UNLOCK] = {
		"UPDATE acctsec.accounts SET failed_attempts = 0, locked_until = NULL,"
		" locked_at = NULL, lockouts = 0, familiar_failed_attempts = 0,"
		" familiar_locked_until = NULL, familiar_lockouts = 0"
		" WHERE account OPERATOR(pg_catalog.=) $1",
		1, {TEXTOID}
	},
	[PLAN_WRITE_TOTP] = {
		"UPDATE acctsec.accounts SET totp_enabled = $2,"
		" pending_login_at = CASE WHEN $2 THEN pending_login_at END,"
		" pending_login_ip = CASE WHEN $2 THEN pending_login_ip END"
		" WHERE account OPERATOR(pg_catalog.=) $1",
		2, {TEXTOID, BOOLOID}
	},
	[PLAN_STATUS] = {
		"SELECT failed_attempts, locked_until, lockouts, last_login_at,"
		" last_failed_at, login_count, totp_enabled,"
		" (SELECT pg_catalog.count(*)::pg_catalog.int4 FROM acctsec.backup_codes b"
		"   WHERE b.account OPERATOR(pg_catalog.=) a.account AND b.used_at IS NULL)"
		"   AS backup_codes_remaining,"
		/* smart lockout; $2: the oldest last use of a still familiar network */
		" familiar_failed_attempts, familiar_locked_until, familiar_lockouts,"
		" (SELECT pg_catalog.count(*)::pg_catalog.int4 FROM acctsec.familiar_networks f"
		"   WHERE f.account OPERATOR(pg_catalog.=) a.account"
		"   AND f.last_used_at OPERATOR(pg_catalog.>=) $2)"
		" FROM acctsec.accounts a WHERE account OPERATOR(pg_catalog.=) $1",
		2, {TEXTOID, TIMESTAMPTZOID}
	},
	[PLAN_FORGET_ACCOUNT] = {
		"DELETE FROM acctsec.accounts WHERE account OPERATOR(pg_catalog.=) $1",
		1, {TEXTOID}
	},
	/*
	 * The account's row goes (and every other capability's rows with it);
	 * a lock in force comes back at once in a bare row holding only what
	 * the lock needs (until when, since when, the backoff level).  The new
	 * row does not collide with the deleted one: a row this command deleted
	 * is no conflict for its unique index.  Answers how many rows went and
	 * until when a lock was kept (NULL: none).
	 */
	[PLAN_FORGET_KEEP_LOCK] = {
		"WITH gone AS (DELETE FROM acctsec.accounts"
		"  WHERE account OPERATOR(pg_catalog.=) $1 RETURNING *),"
		" kept AS (INSERT INTO acctsec.accounts (account, locked_until, locked_at,"
		"  lockouts, familiar_locked_until, familiar_lockouts)"
		"  SELECT g.account,"
		"   CASE WHEN g.locked_until OPERATOR(pg_catalog.>) pg_catalog.now() THEN g.locked_until END,"
		"   CASE WHEN g.locked_until OPERATOR(pg_catalog.>) pg_catalog.now() THEN g.locked_at END,"
		"   CASE WHEN g.locked_until OPERATOR(pg_catalog.>) pg_catalog.now() THEN g.lockouts ELSE 0 END,"
		"   CASE WHEN g.familiar_locked_until OPERATOR(pg_catalog.>) pg_catalog.now()"
		"    THEN g.familiar_locked_until END,"
		"   CASE WHEN g.familiar_locked_until OPERATOR(pg_catalog.>) pg_catalog.now()"
		"    THEN g.familiar_lockouts ELSE 0 END"
		"  FROM gone g WHERE g.locked_until OPERATOR(pg_catalog.>) pg_catalog.now()"
		"   OR g.familiar_locked_until OPERATOR(pg_catalog.>) pg_catalog.now()"
		"  RETURNING GREATEST(locked_until, familiar_locked_until) AS until)"
		" SELECT (SELECT pg_catalog.count(*) FROM gone), (SELECT k.until FROM kept k)",
		1, {TEXTOID}
	},
	[PLAN_FORGET_ATTEMPTS] = {
		"DELETE FROM acctsec.login_attempts WHERE account OPERATOR(pg_catalog.=) $1",
		1, {TEXTOID}
	},
	[PLAN_PRUNE] = {
		"DELETE FROM acctsec.login_attempts"
		" WHERE attempted_at OPERATOR(pg_catalog.<)"
		" (pg_catalog.now() OPERATOR(pg_catalog.-) $1)",
		1, {INTERVALOID}
	},
};

static SPIPlanPtr account_plans[NUM_ACCOUNT_PLANS];

/*
 * Prepare and keep a plan.  A "logged" plan is its write plan and the log
 * insert in one statement (WITH w AS (UPDATE ...) INSERT ...): one executor
 * run instead of two on the hot path.
 */
static void
prepare_plan(AccountPlanId id)
{
	const AccountPlanDef *def = &plan_defs[id];
	const char *sql = def->sql;
	int			nargs = def->nargs;
	Oid			argtypes[MAX_PLAN_ARGS];
	SPIPlanPtr	plan;

	memcpy(argtypes, def->argtypes, sizeof(argtypes));
	if (sql == NULL)
	{
		const AccountPlanDef *write = &plan_defs[def->write];
		char		insert[256];

		nargs = write->nargs;
		Assert(nargs + LOG_NARGS <= MAX_PLAN_ARGS);
		memcpy(argtypes, write->argtypes, sizeof(argtypes));
		argtypes[nargs] = TEXTOID;
		argtypes[nargs + 1] = INETOID;
		argtypes[nargs + 2] = TEXTOID;
		snprintf(insert, sizeof(insert), LOG_INSERT, nargs + 1, nargs + 2, nargs + 3);
		sql = psprintf("WITH w AS (%s) %s", write->sql, insert);
		nargs += LOG_NARGS;
	}

	plan = SPI_prepare(sql, nargs, argtypes);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed for \"%s\": %s",
			 sql, SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "SPI_keepplan failed");
	account_plans[id] = plan;
}

/* Run a saved plan (preparing it on first use); returns SPI_processed. */
static uint64
run_plan(AccountPlanId id, Datum *values, const char *nulls, bool read_only,
		 long tcount)
{
	int			rc;

	if (account_plans[id] == NULL)
		prepare_plan(id);

	rc = SPI_execute_plan(account_plans[id], values, nulls, read_only, tcount);
	if (rc < 0)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
	return SPI_processed;
}

/* ---------------------------------------------------------------------------
 * Row state and the policy
 * ---------------------------------------------------------------------------
 */

static TimestampTz
timestamp_column(HeapTuple tuple, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tuple, desc, col, &isnull);

	return isnull ? DT_NOBEGIN : DatumGetTimestampTz(d);
}

static void
row_from_tuple(HeapTuple tuple, TupleDesc desc, AcctsecAccount *row)
{
	bool		isnull;

	row->failed_attempts = DatumGetInt32(SPI_getbinval(tuple, desc, 1, &isnull));
	row->last_failed_at = timestamp_column(tuple, desc, 2);
	row->locked_until = timestamp_column(tuple, desc, 3);
	row->lockouts = DatumGetInt32(SPI_getbinval(tuple, desc, 4, &isnull));
	row->totp_enabled = DatumGetBool(SPI_getbinval(tuple, desc, 5, &isnull));
	row->pending_login_at = timestamp_column(tuple, desc, 6);
	row->familiar_failed_attempts = DatumGetInt32(SPI_getbinval(tuple, desc, 7, &isnull));
	row->familiar_last_failed_at = timestamp_column(tuple, desc, 8);
	row->familiar_locked_until = timestamp_column(tuple, desc, 9);
	row->familiar_lockouts = DatumGetInt32(SPI_getbinval(tuple, desc, 10, &isnull));
	row->pending_login_familiar = DatumGetBool(SPI_getbinval(tuple, desc, 11, &isnull));
}

/*
 * Lock the account's row, creating it if needed, and read it and the ctid
 * of the version locked.  SPI must be connected.  Either the row exists and
 * we lock it, or we insert it; when a concurrent first use inserted it
 * first (our insert then does nothing), or a concurrent forget_account
 * deleted it after we looked, we simply look again.
 */
static void
lock_row(const text *account, AcctsecAccount *row, ItemPointer tid)
{
	Datum		values[1] = {PointerGetDatum(account)};

	for (int tries = 0; tries < 10; tries++)
	{
		if (run_plan(PLAN_LOCK, values, NULL, false, 1) == 1 ||
			run_plan(PLAN_CREATE, values, NULL, false, 0) == 1)
		{
			HeapTuple	tuple = SPI_tuptable->vals[0];
			bool		isnull;
			Datum		ctid;

			row_from_tuple(tuple, SPI_tuptable->tupdesc, row);
			ctid = SPI_getbinval(tuple, SPI_tuptable->tupdesc, CTID_COLUMN, &isnull);
			ItemPointerCopy((ItemPointer) DatumGetPointer(ctid), tid);
			return;
		}
	}
	elog(ERROR, "could not lock the account row after repeated concurrent deletions");
}

/* Read the account's row without locking it; false when there is none. */
static bool
peek_row(const text *account, AcctsecAccount *row)
{
	Datum		values[1] = {PointerGetDatum(account)};

	if (run_plan(PLAN_PEEK, values, NULL, true, 1) != 1)
		return false;
	row_from_tuple(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, row);
	return true;
}

/*
 * Does a lock stop a login at now?  A lock earned from a familiar network
 * stops every login; one earned from other networks does not stop a login
 * from a familiar network (familiar is false when smart lockout is off or
 * the call has no ip, and then either lock stops it).
 */
static inline bool
locked_for(const AcctsecAccount *row, bool familiar, TimestampTz now)
{
	return row->familiar_locked_until > now ||
		(row->locked_until > now && !familiar);
}

/* The end of the lock that stops a login (locked_for is true). */
static inline TimestampTz
lock_end(const AcctsecAccount *row, bool familiar, TimestampTz now)
{
	if (row->familiar_locked_until > now &&
		(familiar || row->familiar_locked_until > row->locked_until))
		return row->familiar_locked_until;
	return row->locked_until;
}

/*
 * Did the login now waiting for its second factor come from a network
 * familiar to the account?
 */
static inline bool
pending_familiar(const AcctsecAccount *row, TimestampTz now)
{
	return row->pending_login_familiar &&
		row->pending_login_at != DT_NOBEGIN &&
		now - row->pending_login_at <=
		(int64) acctsec_second_factor_timeout * USECS_PER_SEC;
}

int
acctsec_max_lockout_duration_secs(void)
{
	return acctsec_max_lockout_duration;
}

/* lockout_duration * lockout_backoff ^ lockouts, capped, in microseconds */
static int64
lockout_usecs(int32 lockouts)
{
	double		secs;

	secs = (double) acctsec_lockout_duration *
		pow(acctsec_lockout_backoff, (double) lockouts);
	if (isnan(secs) || secs > (double) acctsec_max_lockout_duration)
		secs = (double) acctsec_max_lockout_duration;
	return (int64) (secs * USECS_PER_SEC);
}

/*
 * The outcome of a login_attempt call, as stored in acctsec.login_attempts
 * and returned in acctsec.login_result (the labels of acctsec.login_status).
 */
typedef enum LoginStatus
{
	LOGIN_OK,
	LOGIN_FAILED,
	LOGIN_LOCKED,
	LOGIN_SECOND_FACTOR,
	LOGIN_THROTTLED
} LoginStatus;

static const char *const status_labels[] = {
	"ok", "failed", "locked", "second_factor_required", "throttled"
};

/* What login_attempt logs besides the account, the time and the outcome. */
typedef struct LoginLog
{
	Datum		ip;
	bool		ip_null;
	text	   *user_agent;		/* NULL when none */
} LoginLog;

/*
 * Run write plan "write" with its nargs parameters in values/nulls, and
 * when log is not NULL append the login_attempts row for "status" in the
 * same statement.  values and nulls have room for MAX_PLAN_ARGS.
 */
static void
write_state(AccountPlanId write, AccountPlanId logged, Datum *values,
			char *nulls, const LoginLog *log, LoginStatus status)
{
	int			n = plan_defs[write].nargs;

	if (log == NULL)
	{
		run_plan(write, values, nulls, false, 0);
		return;
	}
	values[n] = CStringGetTextDatum(status_labels[status]);
	nulls[n] = ' ';
	values[n + 1] = log->ip;
	nulls[n + 1] = log->ip_null ? 'n' : ' ';
	values[n + 2] = PointerGetDatum(log->user_agent);
	nulls[n + 2] = log->user_agent ? ' ' : 'n';
	run_plan(logged, values, nulls, false, 0);
}

/* The log row alone, for an attempt that changes no state. */
static void
write_log(const text *account, TimestampTz now, const LoginLog *log,
		  LoginStatus status)
{
	Datum		values[5];
	char		nulls[5] = {' ', ' ', ' ', log->ip_null ? 'n' : ' ',
	log->user_agent ? ' ' : 'n'};

	values[0] = PointerGetDatum(account);
	values[1] = TimestampTzGetDatum(now);
	values[2] = CStringGetTextDatum(status_labels[status]);
	values[3] = log->ip;
	values[4] = PointerGetDatum(log->user_agent);
	run_plan(PLAN_LOG, values, nulls, false, 0);
}

/*
 * Count a failure against an unlocked account at time now: the counter
 * restarts at 1 when the previous failure is more than failure_window old,
 * and reaching max_failed_attempts locks the account (the counter restarts,
 * the backoff level goes up).  A failure from a familiar network counts in
 * the familiar_* set instead (smart lockout), by the same rules.  Writes the
 * new state (and the log row for status, or for the lock, when log is
 * given); returns true if this failure locked the account.
 */
static bool
count_failure(const text *account, AcctsecAccount *row, ItemPointer tid,
			  TimestampTz now, bool familiar, const LoginLog *log,
			  LoginStatus status)
{
	int32	   *failed_attempts = familiar ? &row->familiar_failed_attempts : &row->failed_attempts;
	TimestampTz *last_failed_at = familiar ? &row->familiar_last_failed_at : &row->last_failed_at;
	TimestampTz *locked_until = familiar ? &row->familiar_locked_until : &row->locked_until;
	int32	   *lockouts = familiar ? &row->familiar_lockouts : &row->lockouts;
	Datum		values[MAX_PLAN_ARGS];
	char		nulls[MAX_PLAN_ARGS];
	bool		locks = false;

	if (*failed_attempts > 0 &&
		now - *last_failed_at <= (int64) acctsec_failure_window * USECS_PER_SEC)
		(*failed_attempts)++;
	else
		*failed_attempts = 1;
	*last_failed_at = now;
	row->pending_login_at = DT_NOBEGIN;

	if (acctsec_max_failed_attempts > 0 &&
		*failed_attempts >= acctsec_max_failed_attempts)
	{
		locks = true;
		*locked_until = now + lockout_usecs(*lockouts);
		*failed_attempts = 0;
		if (*lockouts < PG_INT32_MAX)
			(*lockouts)++;
	}
	else
		*locked_until = DT_NOBEGIN; /* an expired lock is cleared */

	memset(nulls, ' ', sizeof(nulls));
	values[0] = PointerGetDatum(account);
	values[1] = TimestampTzGetDatum(now);
	values[2] = Int32GetDatum(*failed_attempts);
	values[3] = TimestampTzGetDatum(*locked_until);
	if (!locks)
		nulls[3] = 'n';
	values[4] = Int32GetDatum(*lockouts);
	values[5] = PointerGetDatum(tid);
	write_state(familiar ? PLAN_WRITE_FAILURE_FAMILIAR : PLAN_WRITE_FAILURE,
				familiar ? PLAN_LOGGED_FAILURE_FAMILIAR : PLAN_LOGGED_FAILURE,
				values, nulls, log, locks ? LOGIN_LOCKED : status);

	/*
	 * A lockout that stops every login ends every session and one-time token
	 * (sessions.c).  Under smart lockout a lock earned from other networks
	 * does not stop the real user on a familiar one, so it must not log them
	 * out either: otherwise an attacker could end their sessions at will.
	 */
	if (locks && (familiar || !acctsec_familiar_login_possible(account, now)))
		acctsec_revoke_account_tokens(account);
	return locks;
}

/*
 * Record a completed login: counter and backoff reset (of its own kind, see
 * PLAN_WRITE_LOGIN), one more login, from ip (or, completing a pending
 * login, from the pending login's ip).
 */
static void
write_login(const text *account, AcctsecAccount *row, ItemPointer tid,
			TimestampTz now, Datum ip, bool ip_null, bool from_pending,
			bool familiar, const LoginLog *log)
{
	Datum		values[MAX_PLAN_ARGS];
	char		nulls[MAX_PLAN_ARGS];

	memset(nulls, ' ', sizeof(nulls));
	values[0] = PointerGetDatum(account);
	values[1] = TimestampTzGetDatum(now);
	values[2] = ip;
	nulls[2] = ip_null ? 'n' : ' ';
	values[3] = BoolGetDatum(from_pending);
	values[4] = PointerGetDatum(tid);
	write_state(familiar ? PLAN_WRITE_LOGIN_FAMILIAR : PLAN_WRITE_LOGIN,
				familiar ? PLAN_LOGGED_LOGIN_FAMILIAR : PLAN_LOGGED_LOGIN,
				values, nulls, log, LOGIN_OK);

	if (familiar)
	{
		row->familiar_failed_attempts = 0;
		row->familiar_locked_until = DT_NOBEGIN;
		row->familiar_lockouts = 0;
	}
	else
	{
		row->failed_attempts = 0;
		row->locked_until = DT_NOBEGIN;
		row->lockouts = 0;
	}
	row->pending_login_at = DT_NOBEGIN;
}

/*
 * Security events (events.c) for this file: the account's name, the client's
 * address and the lock's end; never a password or anything derived from one.
 */
static char *
event_ip(Datum ip, bool ip_null)
{
	return ip_null ? NULL : DatumGetCString(DirectFunctionCall1(inet_out, ip));
}


/* A right password on a TOTP account: the login waits for the second factor. */
static void
write_pending(const text *account, AcctsecAccount *row, ItemPointer tid,
			  TimestampTz now, bool familiar, const LoginLog *log)
{
	Datum		values[MAX_PLAN_ARGS];
	char		nulls[MAX_PLAN_ARGS];

	memset(nulls, ' ', sizeof(nulls));
	values[0] = PointerGetDatum(account);
	values[1] = TimestampTzGetDatum(now);
	values[2] = log->ip;
	nulls[2] = log->ip_null ? 'n' : ' ';
	values[3] = PointerGetDatum(tid);
	values[4] = BoolGetDatum(familiar);
	write_state(PLAN_WRITE_PENDING, PLAN_LOGGED_PENDING, values, nulls, log,
				LOGIN_SECOND_FACTOR);
	row->pending_login_at = now;
	row->pending_login_familiar = familiar;
}

/* ---------------------------------------------------------------------------
 * C API for the other capabilities (account.h)
 * ---------------------------------------------------------------------------
 */

void
acctsec_account_lock(const text *account, AcctsecAccount *state)
{
	AcctsecAccount row;
	ItemPointerData tid;

	acctsec_check_account(account);
	acctsec_spi_connect();
	lock_row(account, &row, &tid);
	acctsec_spi_finish();
	if (state)
		*state = row;
}

bool
acctsec_account_locked_now(const text *account)
{
	AcctsecAccount row;
	bool		found;
	TimestampTz now = GetCurrentTransactionStartTimestamp();

	acctsec_check_account(account);
	acctsec_spi_connect();
	found = peek_row(account, &row);
	acctsec_spi_finish();
	/* a login waiting for its second factor is judged by where it came from */
	return found && locked_for(&row, pending_familiar(&row, now), now);
}

bool
acctsec_account_second_factor_failed(const text *account)
{
	AcctsecAccount row;
	ItemPointerData tid;
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	bool		locked;
	bool		familiar;

	acctsec_check_account(account);
	acctsec_spi_connect();
	lock_row(account, &row, &tid);
	/* a wrong second factor counts where its password login came from */
	familiar = pending_familiar(&row, now);
	if (locked_for(&row, familiar, now))
		locked = true;
	else
	{
		locked = count_failure(account, &row, &tid, now, familiar, NULL,
							   LOGIN_FAILED);
		if (locked)
		{
			acctsec_spi_finish();
			acctsec_security_event("login.locked", text_to_cstring(account),
								   "via", "second_factor",
								   "locked_until",
								   acctsec_event_time(lock_end(&row, familiar, now)),
								   "lockouts",
								   acctsec_event_int(familiar ? row.familiar_lockouts : row.lockouts),
								   familiar ? "networks" : NULL, "familiar",
								   NULL);
			return true;
		}
	}
	acctsec_spi_finish();
	return locked;
}

bool
acctsec_account_complete_second_factor(const text *account)
{
	AcctsecAccount row;
	ItemPointerData tid;
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	bool		completed = false;

	bool		familiar;

	acctsec_check_account(account);
	acctsec_spi_connect();
	lock_row(account, &row, &tid);
	familiar = pending_familiar(&row, now);
	if (!locked_for(&row, familiar, now) &&
		row.pending_login_at != DT_NOBEGIN &&
		now - row.pending_login_at <=
		(int64) acctsec_second_factor_timeout * USECS_PER_SEC)
	{
		Datum		values[1] = {PointerGetDatum(account)};
		bool		ip_null = true;
		Datum		ip = (Datum) 0;

		/* the login succeeded: its network becomes familiar (smart lockout) */
		if (run_plan(PLAN_PENDING_IP, values, NULL, true, 1) == 1)
			ip = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
							   1, &ip_null);
		if (!ip_null)
		{
			AcctsecNetwork net;
			TimestampTz throttled_until;
			TimestampTz last_used;

			acctsec_network_of(ip, false, &net);
			acctsec_network_lookup(account, &net, now, &throttled_until,
								   &last_used);
			acctsec_network_make_familiar(account, &net, now, last_used);
		}
		write_login(account, &row, &tid, now, (Datum) 0, true, true, familiar,
					NULL);
		completed = true;
	}
	acctsec_spi_finish();
	return completed;
}

void
acctsec_account_set_totp_enabled(const text *account, bool enabled)
{
	AcctsecAccount row;
	ItemPointerData tid;
	Datum		values[2];

	acctsec_check_account(account);
	acctsec_spi_connect();
	lock_row(account, &row, &tid);
	values[0] = PointerGetDatum(account);
	values[1] = BoolGetDatum(enabled);
	run_plan(PLAN_WRITE_TOTP, values, NULL, false, 0);
	acctsec_spi_finish();
}

/* ---------------------------------------------------------------------------
 * SQL-callable functions
 * ---------------------------------------------------------------------------
 */

/* The OID of an acctsec.login_status label (enum values are OIDs). */
static Datum
status_datum(Oid enum_type, LoginStatus status)
{
	static Oid	cached_type = InvalidOid;
	static Oid	cached_labels[lengthof(status_labels)];

	if (cached_type != enum_type)
	{
		for (int i = 0; i < lengthof(status_labels); i++)
		{
			cached_labels[i] = GetSysCacheOid2(ENUMTYPOIDNAME, Anum_pg_enum_oid,
											   ObjectIdGetDatum(enum_type),
											   CStringGetDatum(status_labels[i]));
			if (!OidIsValid(cached_labels[i]))
				elog(ERROR, "acctsec.login_status has no label \"%s\"",
					 status_labels[i]);
		}
		cached_type = enum_type;
	}
	return ObjectIdGetDatum(cached_labels[status]);
}

/*
 * The security events of one login_attempt call (docs/audit.md,
 * docs/throttling.md), written once the state is: a refusal (locked, or from a
 * throttled network), a counted failure, a new lock, a network throttled by
 * this failure, a login let through from a familiar network despite a lock
 * earned elsewhere, and a first login from a new network.
 */
static void
login_events(const text *account, const LoginLog *log,
			 const AcctsecNetwork *net, const AcctsecAccount *row,
			 LoginStatus status, bool was_locked, AcctsecNetworkVerdict verdict,
			 bool familiar, bool new_network, TimestampTz refused_until,
			 TimestampTz throttled_until)
{
	char	   *acct = text_to_cstring(account);
	char	   *ip = event_ip(log->ip, log->ip_null);
	char	   *network = net->valid ?
	DatumGetCString(DirectFunctionCall1(cidr_out, net->network)) : NULL;
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	bool		smart = acctsec_smart_lockout_applies(net);

	if (verdict == NETWORK_THROTTLED_NOW)
		acctsec_security_event("network.throttled", acct,
							   "ip", ip, "network", network,
							   "throttled_until", acctsec_event_time(throttled_until),
							   NULL);
	if (status == LOGIN_THROTTLED && verdict != NETWORK_THROTTLED_NOW)
	{
		acctsec_security_event("login.throttled", acct,
							   "ip", ip, "network", network,
							   "throttled_until", acctsec_event_time(refused_until),
							   NULL);
		return;
	}
	if (was_locked)
	{
		acctsec_security_event("login.refused", acct,
							   "ip", ip,
							   "locked_until", acctsec_event_time(refused_until),
							   NULL);
		return;
	}
	if (status == LOGIN_FAILED || status == LOGIN_LOCKED ||
		status == LOGIN_THROTTLED)
	{
		/* a failure that locks restarts the counter: name the count reached */
		acctsec_security_event("login.failed", acct,
							   "ip", ip,
							   "failed_attempts",
							   acctsec_event_int(status == LOGIN_LOCKED ? acctsec_max_failed_attempts :
										 familiar ? row->familiar_failed_attempts :
										 row->failed_attempts),
							   /* with smart lockout only: which count it went to */
							   smart ? "networks" : NULL,
							   familiar ? "familiar" : "unfamiliar",
							   NULL);

		/*
		 * A lock earned from familiar networks (or with smart lockout not
		 * applying) stops every login: login.locked.  One earned from other
		 * networks stops those only: login.locked_unfamiliar.
		 */
		if (status == LOGIN_LOCKED)
			acctsec_security_event(smart && !familiar ?
								   "login.locked_unfamiliar" : "login.locked",
								   acct,
								   "ip", ip,
								   "locked_until", acctsec_event_time(refused_until),
								   "lockouts",
								   acctsec_event_int(familiar ? row->familiar_lockouts : row->lockouts),
								   NULL);
		return;
	}
	if (status == LOGIN_OK || status == LOGIN_SECOND_FACTOR)
	{
		if (familiar && row->locked_until > now)
			acctsec_security_event("login.allowed_familiar", acct,
								   "ip", ip, "network", network,
								   "unfamiliar_locked_until",
								   acctsec_event_time(row->locked_until),
								   NULL);
		if (new_network)
			acctsec_security_event("login.new_network", acct,
								   "ip", ip, "network", network,
								   NULL);
	}
}

/*
 * login_attempt(account text, success boolean, ip inet, user_agent text)
 *		RETURNS acctsec.login_result
 *
 * With an ip, the network's throttle and smart lockout apply
 * (docs/throttling.md, throttle.c): a throttled network is refused before the
 * account's row is touched; a failure is counted against the network (its row
 * locked after the account's) and, from a network familiar to the account, in
 * the account's familiar set.
 */
Datum
acctsec_login_attempt(PG_FUNCTION_ARGS)
{
	text	   *account = acctsec_account_arg(fcinfo, 0);
	bool		success;
	LoginLog	log;
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	AcctsecAccount row = {0};
	ItemPointerData tid;
	AcctsecNetwork net;
	AcctsecNetworkVerdict verdict = NETWORK_NOT_TRACKED;
	bool		familiar;
	bool		new_network = false;
	TimestampTz refused_until;
	TimestampTz throttled_until = DT_NOBEGIN;
	TimestampTz last_used;
	LoginStatus status;
	bool		was_locked = false;
	TupleDesc	desc;
	Datum		result[5];
	bool		result_null[5] = {false, false, false, false, false};

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("login outcome must not be null"),
				 errhint("Pass true when the password was right, false otherwise.")));
	success = PG_GETARG_BOOL(1);
	log.ip_null = PG_ARGISNULL(2);
	log.ip = log.ip_null ? (Datum) 0 : PG_GETARG_DATUM(2);
	log.user_agent = NULL;
	if (!PG_ARGISNULL(3))
	{
		text	   *ua = PG_GETARG_TEXT_PP(3);
		int			len = VARSIZE_ANY_EXHDR(ua);

		if (len > ACCTSEC_MAX_USER_AGENT_BYTES)
			len = pg_mbcliplen(VARDATA_ANY(ua), len, ACCTSEC_MAX_USER_AGENT_BYTES);
		log.user_agent = cstring_to_text_with_len(VARDATA_ANY(ua), len);
	}
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "login_attempt must return a composite type");
	acctsec_network_of(log.ip, log.ip_null, &net);

	acctsec_spi_connect();

	/*
	 * A throttled network is refused before the account row is touched, so
	 * an attacker's refused calls never queue on a victim's row lock.  The
	 * same look tells whether the network is familiar to the account (a
	 * network made familiar by a concurrent login of the account that
	 * commits meanwhile counts as unfamiliar for this one call).
	 */
	familiar = acctsec_network_lookup(account, &net, now, &refused_until,
									  &last_used);
	if (refused_until != DT_NOBEGIN)
	{
		/* whatever success says; nothing counts against the account */
		status = LOGIN_THROTTLED;
		familiar = false;
		write_log(account, now, &log, status);
	}
	else
	{
		/* lock, decide, and write the new state and the log row together */
		lock_row(account, &row, &tid);

		/* every failure counts toward its network, the account locked or not */
		if (!success)
			verdict = acctsec_network_failure(&net, account, now,
											  &throttled_until);

		was_locked = locked_for(&row, familiar, now);
		if (verdict == NETWORK_THROTTLED)
		{
			/* throttled while this call waited for the network's row */
			status = LOGIN_THROTTLED;
			refused_until = throttled_until;
			write_log(account, now, &log, status);
		}
		else if (was_locked)
		{
			/* whatever success says; the lock is neither extended nor counted */
			status = LOGIN_LOCKED;
			refused_until = lock_end(&row, familiar, now);
			write_log(account, now, &log, status);
		}
		else if (!success)
		{
			/* the failure that throttles its network answers throttled */
			LoginStatus unlocked = verdict == NETWORK_THROTTLED_NOW ?
				LOGIN_THROTTLED : LOGIN_FAILED;

			if (count_failure(account, &row, &tid, now, familiar, &log, unlocked))
			{
				status = LOGIN_LOCKED;
				refused_until = lock_end(&row, familiar, now);
			}
			else
			{
				status = unlocked;
				refused_until = throttled_until;
			}
		}
		else
		{
			new_network = net.valid && last_used == DT_NOBEGIN &&
				acctsec_smart_lockout_applies(&net);
			if (row.totp_enabled)
			{
				write_pending(account, &row, &tid, now, familiar, &log);
				status = LOGIN_SECOND_FACTOR;
				new_network = false;	/* familiar once the login completes */
			}
			else
			{
				acctsec_network_make_familiar(account, &net, now, last_used);
				write_login(account, &row, &tid, now, log.ip, log.ip_null,
							false, familiar, &log);
				status = LOGIN_OK;
			}
		}
	}
	acctsec_spi_finish();

	login_events(account, &log, &net, &row, status, was_locked, verdict,
				 familiar, new_network, refused_until, throttled_until);

	result[0] = status_datum(TupleDescAttr(desc, 0)->atttypid, status);
	result[1] = BoolGetDatum(status == LOGIN_OK);

	/*
	 * The counter of the kind this login counts in (0 when a throttled
	 * network was refused before the account was looked at).
	 */
	result[2] = Int32GetDatum(familiar ? row.familiar_failed_attempts :
							  row.failed_attempts);
	if (status == LOGIN_LOCKED || status == LOGIN_THROTTLED)
	{
		Interval   *retry = palloc0(sizeof(Interval));

		retry->time = refused_until - now;
		result[3] = TimestampTzGetDatum(refused_until);
		result[4] = IntervalPGetDatum(retry);
	}
	else
	{
		result_null[3] = true;
		result_null[4] = true;
	}

	desc = BlessTupleDesc(desc);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, result, result_null)));
}

/*
 * account_status(account text): one row; an unknown account is all zeros.
 * The columns after backup_codes_remaining are smart lockout's familiar
 * set (docs/throttling.md); the ones before count every other failure.
 */
#define STATUS_COLUMNS 13

Datum
acctsec_account_status(PG_FUNCTION_ARGS)
{
	text	   *account = acctsec_account_arg(fcinfo, 0);
	TupleDesc	desc;
	Datum		values[STATUS_COLUMNS];
	bool		nulls[STATUS_COLUMNS];
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	Datum		args[2] = {PointerGetDatum(account),
	TimestampTzGetDatum(acctsec_familiar_since(now))};

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "account_status must return a composite type");
	desc = BlessTupleDesc(desc);

	values[0] = PointerGetDatum(account);
	nulls[0] = false;

	acctsec_spi_connect();
	if (run_plan(PLAN_STATUS, args, NULL, true, 1) == 1)
	{
		HeapTuple	tuple = SPI_tuptable->vals[0];
		TupleDesc	tdesc = SPI_tuptable->tupdesc;

		/* copy out of SPI's memory: these are all by-value types */
		for (int i = 1; i < STATUS_COLUMNS; i++)
			values[i] = SPI_getbinval(tuple, tdesc, i, &nulls[i]);
	}
	else
	{
		/* counters 0, times NULL, totp_enabled false */
		for (int i = 1; i < STATUS_COLUMNS; i++)
		{
			Oid			type = TupleDescAttr(desc, i)->atttypid;

			nulls[i] = (type == TIMESTAMPTZOID);
			values[i] = type == INT8OID ? Int64GetDatum(0) :
				type == BOOLOID ? BoolGetDatum(false) : Int32GetDatum(0);
		}
	}
	acctsec_spi_finish();

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

/* unlock(account text): true if the account was locked */
Datum
acctsec_unlock(PG_FUNCTION_ARGS)
{
	text	   *account = acctsec_account_arg(fcinfo, 0);
	Datum		values[1] = {PointerGetDatum(account)};
	AcctsecAccount row;
	bool		was_locked = false;
	bool		known = false;

	acctsec_spi_connect();
	/* lock the row if there is one; an unknown account is not created */
	if (run_plan(PLAN_LOCK, values, NULL, false, 1) == 1)
	{
		row_from_tuple(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, &row);
		was_locked = locked_for(&row, false, GetCurrentTransactionStartTimestamp());
		run_plan(PLAN_WRITE_UNLOCK, values, NULL, false, 0);
		known = true;
	}
	acctsec_spi_finish();
	if (known)
		acctsec_security_event("account.unlocked", text_to_cstring(account),
							   "was_locked", was_locked ? "true" : "false",
							   NULL);
	PG_RETURN_BOOL(was_locked);
}

/*
 * Erase the account's state: its row (the other capabilities' rows go with
 * it, ON DELETE CASCADE) and its login attempts.
 */
bool
acctsec_account_forget(const text *account)
{
	Datum		values[1] = {PointerGetDatum(account)};
	uint64		erased;

	acctsec_check_account(account);
	acctsec_spi_connect();
	erased = run_plan(PLAN_FORGET_ACCOUNT, values, NULL, false, 0);
	erased += run_plan(PLAN_FORGET_ATTEMPTS, values, NULL, false, 0);
	acctsec_spi_finish();
	/* the audit log keeps its rows about the account (docs/accounts.md) */
	acctsec_security_event("account.forgotten", text_to_cstring(account),
						   "erased", erased > 0 ? "true" : "false",
						   NULL);
	return erased > 0;
}

/*
 * The row of a linked table that was the account is gone: erase the
 * account's state as acctsec_account_forget does, except a lock in force,
 * which outlives the row until it expires (deleting and inserting the row
 * again is no way to unlock; SPEC section 2).  Only the lock stays: no
 * attempt, address, credential, session or token.
 */
bool
acctsec_account_forget_row(const text *account, const char *relation)
{
	Datum		values[1] = {PointerGetDatum(account)};
	uint64		erased;
	bool		isnull;
	TimestampTz kept_until = DT_NOBEGIN;

	acctsec_check_account(account);
	acctsec_spi_connect();
	if (run_plan(PLAN_FORGET_KEEP_LOCK, values, NULL, false, 0) != 1)
		elog(ERROR, "could not erase the account's state");
	erased = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
										 SPI_tuptable->tupdesc, 1, &isnull));
	{
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0],
									  SPI_tuptable->tupdesc, 2, &isnull);

		if (!isnull)
			kept_until = DatumGetTimestampTz(d);
	}
	erased += run_plan(PLAN_FORGET_ATTEMPTS, values, NULL, false, 0);
	acctsec_spi_finish();
	if (kept_until == DT_NOBEGIN)
		acctsec_security_event("account.forgotten", text_to_cstring(account),
							   "erased", erased > 0 ? "true" : "false",
							   "table", relation,
							   NULL);
	else
		acctsec_security_event("account.forgotten", text_to_cstring(account),
							   "erased", "true",
							   "table", relation,
							   "lock_kept_until", acctsec_event_time(kept_until),
							   NULL);
	return erased > 0;
}

/* forget_account(account text): true if there was anything to erase */
Datum
acctsec_forget_account(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(acctsec_account_forget(acctsec_account_arg(fcinfo, 0)));
}

/* prune_login_attempts(older_than interval): rows deleted */
Datum
acctsec_prune_login_attempts(PG_FUNCTION_ARGS)
{
	Interval   *older_than = PG_GETARG_INTERVAL_P(0);
	Datum		values[1] = {IntervalPGetDatum(older_than)};
	Interval	zero = {0};
	uint64		deleted;

	if (DatumGetBool(DirectFunctionCall2(interval_lt,
										 IntervalPGetDatum(older_than),
										 IntervalPGetDatum(&zero))))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("older_than must not be negative")));

	acctsec_spi_connect();
	deleted = run_plan(PLAN_PRUNE, values, NULL, false, 0);
	acctsec_spi_finish();
	PG_RETURN_INT64((int64) deleted);
}
