/*
 * account.c
 *		Accounts and their login attempts: the state under the lockout
 *		policy (docs/accounts.md), its settings, and unlock, forget and prune.
 *
 * One row of acctsec.accounts per account is the per-account serialisation
 * point.  login_attempt (lockout.c) locks it (as SELECT ... FOR NO KEY
 * UPDATE would, through row_lock.h; creating it first on an account's first
 * use), applies the policy in C to the state read, and writes the new
 * state back and a row of acctsec.login_attempts, all in the caller's
 * transaction: concurrent calls for one account queue on the row lock, and
 * each sees the state the previous one committed, so no update is lost.
 *
 * The two writes go through the table AM (row_write.h) while nothing about
 * the tables needs the executor (no trigger that fires, rule, policy or
 * CHECK constraint), and otherwise as the same write made a statement:
 * each names its columns once, in ACCOUNT_COLUMNS and LOG_COLUMNS.  The
 * other queries are AcctsecPlans (spi_util.h), run with parameters in the
 * caller's SPI connection.  The query texts name every object with its
 * schema; the SQL functions run with search_path = pg_catalog, pg_temp.
 *
 * The lockout settings live here, below the policy, because network
 * throttling (throttle.c) is capped by acctsec.max_lockout_duration too.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "account.h"
#include "compat.h"
#include "events.h"
#include "relation_util.h"
#include "row_lock.h"
#include "row_write.h"
#include "spi_util.h"

PG_FUNCTION_INFO_V1(acctsec_unlock);
PG_FUNCTION_INFO_V1(acctsec_forget_account);
PG_FUNCTION_INFO_V1(acctsec_prune_login_attempts);

/* Upper bound of the duration settings: one year, in seconds. */
#define ACCTSEC_MAX_DURATION_S			(365 * 24 * 3600)

/* Settings (docs/accounts.md); all PGC_SUSET; read by lockout.c (account.h). */
int			acctsec_max_failed_attempts = 5;
int			acctsec_lockout_duration = 15 * 60;
double		acctsec_lockout_backoff = 2.0;
int			acctsec_max_lockout_duration = 24 * 3600;
int			acctsec_failure_window = 3600;
int			acctsec_second_factor_timeout = 10 * 60;

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

/*
 * An account's state: the columns the lock reads and the login writes, in
 * this order (row_from_values, row_to_values).  ACCOUNT_PLAN_CREATE and
 * ACCOUNT_PLAN_PEEK read the same, and ACCOUNT_PLAN_CREATE also gives the
 * ctid of the row version inserted, as the lock gives the one it locked:
 * while we hold the lock nobody else can update the row, so the write
 * (account_write) finds it by ctid rather than through the index again.
 */
#define ACCOUNT_COLUMNS \
	"failed_attempts, last_failed_at, locked_until, locked_at, lockouts, " \
	"last_login_at, last_login_ip, login_count, totp_enabled, " \
	"pending_login_at, pending_login_ip, familiar_failed_attempts, " \
	"familiar_last_failed_at, familiar_locked_until, familiar_lockouts, " \
	"pending_login_familiar"
#define NUM_ACCOUNT_COLUMNS 16
/* the ctid's column in ACCOUNT_PLAN_CREATE, after ACCOUNT_COLUMNS */
#define CTID_COLUMN		17

static AcctsecPlan account_plans[NUM_ACCOUNT_PLANS] = {

	/*
	 * An account's first use.  The row we insert is ours until we commit: a
	 * concurrent first use waits on it in the unique index, then finds it
	 * with the lock (lock_row_by_key).
	 */
	[ACCOUNT_PLAN_CREATE] = {
		"INSERT INTO acctsec.accounts (account) VALUES ($1)"
		" ON CONFLICT (account) DO NOTHING RETURNING " ACCOUNT_COLUMNS ", ctid",
		ACCTSEC_PLAN_ARGS(TEXTOID), SPI_OK_INSERT_RETURNING, NULL
	},
	[ACCOUNT_PLAN_PEEK] = {
		"SELECT " ACCOUNT_COLUMNS " FROM acctsec.accounts"
		" WHERE account OPERATOR(pg_catalog.=) $1",
		ACCTSEC_PLAN_ARGS(TEXTOID), SPI_OK_SELECT, NULL
	},
	[ACCOUNT_PLAN_STATUS] = {
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
		ACCTSEC_PLAN_ARGS(TEXTOID, TIMESTAMPTZOID), SPI_OK_SELECT, NULL
	},
	[ACCOUNT_PLAN_FORGET_ACCOUNT] = {
		"DELETE FROM acctsec.accounts WHERE account OPERATOR(pg_catalog.=) $1",
		ACCTSEC_PLAN_ARGS(TEXTOID), SPI_OK_DELETE, NULL
	},

	/*
	 * The account's row goes (and every other capability's rows with it); a
	 * lock in force comes back at once in a bare row holding only what the
	 * lock needs (until when, since when, the backoff level).  The new row
	 * does not collide with the deleted one: a row this command deleted is no
	 * conflict for its unique index.  Answers how many rows went and until
	 * when a lock was kept (NULL: none).
	 */
	[ACCOUNT_PLAN_FORGET_KEEP_LOCK] = {
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
		ACCTSEC_PLAN_ARGS(TEXTOID), SPI_OK_SELECT, NULL
	},
	[ACCOUNT_PLAN_FORGET_ATTEMPTS] = {
		"DELETE FROM acctsec.login_attempts WHERE account OPERATOR(pg_catalog.=) $1",
		ACCTSEC_PLAN_ARGS(TEXTOID), SPI_OK_DELETE, NULL
	},
	[ACCOUNT_PLAN_PRUNE] = {
		"DELETE FROM acctsec.login_attempts"
		" WHERE attempted_at OPERATOR(pg_catalog.<)"
		" (pg_catalog.now() OPERATOR(pg_catalog.-) $1)",
		ACCTSEC_PLAN_ARGS(INTERVALOID), SPI_OK_DELETE, NULL
	},
};

/* Run one of the statements (SPI connected); returns SPI_processed. */
uint64
acctsec_account_run_plan(AccountPlanId id, Datum *values, const char *nulls,
						 bool read_only, long tcount)
{
	return acctsec_plan_run(&account_plans[id], values, nulls, read_only, tcount);
}

/* ---------------------------------------------------------------------------
 * The login's writes
 * ---------------------------------------------------------------------------
 */

static bool (*mirror_wanted_check) (void) = NULL;

void
acctsec_account_set_mirror_check(bool (*mirror_wanted) (void))
{
	mirror_wanted_check = mirror_wanted;
}

/*
 * acctsec.accounts' own trigger, acctsec_mirror, does nothing while no
 * linked table mirrors account state (its WHEN condition is false), so a
 * write need not be a statement for it.
 */
static bool
accounts_trigger_idle(const Trigger *trigger)
{
	return strcmp(trigger->tgname, "acctsec_mirror") == 0 &&
		mirror_wanted_check != NULL && !mirror_wanted_check();
}

/* The state of the locked row version (row_write.h: through the table AM). */
static AcctsecRowWrite account_write = {
	.relname = "accounts",
	.cmd = CMD_UPDATE,
	.columns = ACCOUNT_COLUMNS,
	.trigger_idle = accounts_trigger_idle
};

/*
 * A login attempt's row of the log.  id is given (from its sequence, as its
 * default would), so that every column is: a direct insert then stores what
 * the statement would.
 */
#define LOG_COLUMNS "id, account, attempted_at, outcome, ip, user_agent"
#define NUM_LOG_COLUMNS 6

static AcctsecRowWrite log_write = {
	.relname = "login_attempts",
	.cmd = CMD_INSERT,
	.columns = LOG_COLUMNS
};

/* ---------------------------------------------------------------------------
 * Row state
 * ---------------------------------------------------------------------------
 */

/* An inet column's value, NULL or copied from the row. */
static inline void
inet_value(Datum v, bool isnull, AcctsecInet *out)
{
	out->isnull = isnull;
	out->value = isnull ? (Datum) 0 : v;
}

/* The row state from the values of ACCOUNT_COLUMNS, in that order. */
static void
row_from_values(const Datum *v, const bool *isnull, AcctsecAccount *row)
{
	row->failed_attempts = DatumGetInt32(v[0]);
	row->last_failed_at = acctsec_timestamp_value(v[1], isnull[1]);
	row->locked_until = acctsec_timestamp_value(v[2], isnull[2]);
	row->locked_at = acctsec_timestamp_value(v[3], isnull[3]);
	row->lockouts = DatumGetInt32(v[4]);
	row->last_login_at = acctsec_timestamp_value(v[5], isnull[5]);
	inet_value(v[6], isnull[6], &row->last_login_ip);
	row->login_count = DatumGetInt64(v[7]);
	row->totp_enabled = DatumGetBool(v[8]);
	row->pending_login_at = acctsec_timestamp_value(v[9], isnull[9]);
	inet_value(v[10], isnull[10], &row->pending_login_ip);
	row->familiar_failed_attempts = DatumGetInt32(v[11]);
	row->familiar_last_failed_at = acctsec_timestamp_value(v[12], isnull[12]);
	row->familiar_locked_until = acctsec_timestamp_value(v[13], isnull[13]);
	row->familiar_lockouts = DatumGetInt32(v[14]);
	row->pending_login_familiar = DatumGetBool(v[15]);
}

/* A timestamptz column's value: -infinity ("never") is stored as NULL. */
static inline void
timestamp_datum(TimestampTz t, Datum *v, bool *isnull)
{
	*isnull = t == DT_NOBEGIN;
	*v = TimestampTzGetDatum(t);
}

/* The values of ACCOUNT_COLUMNS, in that order, from the row state. */
static void
row_to_values(const AcctsecAccount *row, Datum *v, bool *isnull)
{
	memset(isnull, false, NUM_ACCOUNT_COLUMNS * sizeof(bool));
	v[0] = Int32GetDatum(row->failed_attempts);
	timestamp_datum(row->last_failed_at, &v[1], &isnull[1]);
	timestamp_datum(row->locked_until, &v[2], &isnull[2]);
	timestamp_datum(row->locked_at, &v[3], &isnull[3]);
	v[4] = Int32GetDatum(row->lockouts);
	timestamp_datum(row->last_login_at, &v[5], &isnull[5]);
	v[6] = row->last_login_ip.value;
	isnull[6] = row->last_login_ip.isnull;
	v[7] = Int64GetDatum(row->login_count);
	v[8] = BoolGetDatum(row->totp_enabled);
	timestamp_datum(row->pending_login_at, &v[9], &isnull[9]);
	v[10] = row->pending_login_ip.value;
	isnull[10] = row->pending_login_ip.isnull;
	v[11] = Int32GetDatum(row->familiar_failed_attempts);
	timestamp_datum(row->familiar_last_failed_at, &v[12], &isnull[12]);
	timestamp_datum(row->familiar_locked_until, &v[13], &isnull[13]);
	v[14] = Int32GetDatum(row->familiar_lockouts);
	v[15] = BoolGetDatum(row->pending_login_familiar);
}

void
acctsec_account_write(const AcctsecAccount *row, ItemPointer tid)
{
	Datum		v[NUM_ACCOUNT_COLUMNS];
	bool		isnull[NUM_ACCOUNT_COLUMNS];

	row_to_values(row, v, isnull);
	acctsec_row_write(&account_write, tid, v, isnull);
}

void
acctsec_account_log_attempt(const text *account, TimestampTz at, Datum outcome,
							const AcctsecInet *ip, const text *user_agent)
{
	Oid			seq = acctsec_relid("login_attempts_id_seq");
	Datum		v[NUM_LOG_COLUMNS];
	bool		isnull[NUM_LOG_COLUMNS] = {false, false, false, false, false, false};

	if (!OidIsValid(seq))
		elog(ERROR, "acctsec.login_attempts_id_seq is missing");
	v[0] = Int64GetDatum(nextval_internal(seq, true));
	v[1] = PointerGetDatum(account);
	v[2] = TimestampTzGetDatum(at);
	v[3] = outcome;
	v[4] = ip->value;
	isnull[4] = ip->isnull;
	v[5] = PointerGetDatum(user_agent);
	isnull[5] = user_agent == NULL;
	acctsec_row_write(&log_write, NULL, v, isnull);
}

/* A row of a statement whose first columns are ACCOUNT_COLUMNS. */
static void
row_from_tuple(HeapTuple tuple, TupleDesc desc, AcctsecAccount *row)
{
	Datum		v[NUM_ACCOUNT_COLUMNS];
	bool		isnull[NUM_ACCOUNT_COLUMNS];

	acctsec_spi_row_values(tuple, desc, NUM_ACCOUNT_COLUMNS, v, isnull);
	row_from_values(v, isnull, row);
}

/* The account's row, locked by the hot paths without a statement. */
static AcctsecKeyedTable accounts_table = {
	.relname = "accounts",
	.key_eq = F_TEXTEQ,
	.columns = ACCTSEC_COLUMNS(ACCOUNT_COLUMNS, NUM_ACCOUNT_COLUMNS)
};

/*
 * Lock the account's row as SELECT ... FOR NO KEY UPDATE would, without
 * the statement's executor run (row_lock.h): the row every login locks
 * first.  False when there is no row.
 */
static bool
lock_row_by_key(const text *account, AcctsecAccount *row, ItemPointer tid)
{
	Datum		v[NUM_ACCOUNT_COLUMNS];
	bool		isnull[NUM_ACCOUNT_COLUMNS];

	if (!acctsec_row_lock_by_key(&accounts_table, PointerGetDatum(account), v, isnull, tid))
		return false;
	row_from_values(v, isnull, row);
	return true;
}

/*
 * Lock the account's row, creating it if needed, and read it and the ctid
 * of the version locked.  SPI must be connected.  Either the row exists and
 * we lock it, or we insert it; when a concurrent first use inserted it
 * first (our insert then does nothing), or a concurrent forget_account
 * deleted it after we looked, we simply look again.
 */
void
acctsec_account_lock_row(const text *account, AcctsecAccount *row, ItemPointer tid)
{
	Datum		values[1] = {PointerGetDatum(account)};

	for (int tries = 0; tries < 10; tries++)
	{
		if (lock_row_by_key(account, row, tid))
			return;
		if (acctsec_account_run_plan(ACCOUNT_PLAN_CREATE, values, NULL, false, 0) == 1)
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
bool
acctsec_account_peek_row(const text *account, AcctsecAccount *row)
{
	Datum		values[1] = {PointerGetDatum(account)};

	if (acctsec_account_run_plan(ACCOUNT_PLAN_PEEK, values, NULL, true, 1) != 1)
		return false;
	row_from_tuple(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, row);
	return true;
}

int
acctsec_max_lockout_duration_secs(void)
{
	return acctsec_max_lockout_duration;
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
	acctsec_account_lock_row(account, &row, &tid);
	if (state)
		*state = row;
}

void
acctsec_account_set_totp_enabled(const text *account, bool enabled)
{
	AcctsecAccount row;
	ItemPointerData tid;

	acctsec_check_account(account);
	acctsec_account_lock_row(account, &row, &tid);
	row.totp_enabled = enabled;
	if (!enabled)
	{
		row.pending_login_at = DT_NOBEGIN;
		row.pending_login_ip.isnull = true;
	}
	acctsec_account_write(&row, &tid);
}

/* ---------------------------------------------------------------------------
 * SQL-callable functions
 * ---------------------------------------------------------------------------
 */

/* unlock(account text): true if the account was locked */
Datum
acctsec_unlock(PG_FUNCTION_ARGS)
{
	text	   *account = acctsec_account_arg(fcinfo, 0);
	AcctsecAccount row;
	ItemPointerData tid;
	bool		was_locked = false;
	bool		known = false;

	acctsec_spi_connect();
	/* lock the row if there is one; an unknown account is not created */
	if (lock_row_by_key(account, &row, &tid))
	{
		was_locked = acctsec_account_locked_for(&row, false, GetCurrentTransactionStartTimestamp());
		row.failed_attempts = row.familiar_failed_attempts = 0;
		row.locked_until = row.familiar_locked_until = row.locked_at = DT_NOBEGIN;
		row.lockouts = row.familiar_lockouts = 0;
		acctsec_account_write(&row, &tid);
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
	erased = acctsec_account_run_plan(ACCOUNT_PLAN_FORGET_ACCOUNT, values, NULL, false, 0);
	erased += acctsec_account_run_plan(ACCOUNT_PLAN_FORGET_ATTEMPTS, values, NULL, false, 0);
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
 * again is no way to unlock).  Only the lock stays: no attempt, address,
 * credential, session or token.
 */
bool
acctsec_account_forget_row(const text *account, const char *relation)
{
	Datum		values[1] = {PointerGetDatum(account)};
	uint64		erased;
	bool		isnull;
	TimestampTz kept_until = DT_NOBEGIN;

	acctsec_check_account(account);
	if (acctsec_account_run_plan(ACCOUNT_PLAN_FORGET_KEEP_LOCK, values, NULL, false, 0) != 1)
		elog(ERROR, "could not erase the account's state");
	erased = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
										 SPI_tuptable->tupdesc, 1, &isnull));
	{
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0],
									  SPI_tuptable->tupdesc, 2, &isnull);

		if (!isnull)
			kept_until = DatumGetTimestampTz(d);
	}
	erased += acctsec_account_run_plan(ACCOUNT_PLAN_FORGET_ATTEMPTS, values, NULL, false, 0);
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
	text	   *account = acctsec_account_arg(fcinfo, 0);
	bool		erased;

	acctsec_spi_connect();
	erased = acctsec_account_forget(account);
	acctsec_spi_finish();
	PG_RETURN_BOOL(erased);
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
	deleted = acctsec_account_run_plan(ACCOUNT_PLAN_PRUNE, values, NULL, false, 0);
	acctsec_spi_finish();
	PG_RETURN_INT64((int64) deleted);
}
