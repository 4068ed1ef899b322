/*
 * lockout.c
 *		The login decision: login_attempt, the lockout policy and the second
 *		factor's part in it (docs/accounts.md), and account_status.
 *
 * The policy (failure window, lockout length with backoff, smart lockout's
 * familiar networks) is C over an AcctsecAccount read from the locked row
 * (account.c), with the login's network looked up and counted by throttle.c
 * and, on a lockout that stops every login, the account's sessions and
 * tokens revoked (sessions.c).  login_attempt and the helpers in lockout.h
 * for the second factor share it: a wrong TOTP code counts exactly as a
 * wrong password does.
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
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "account.h"
#include "compat.h"
#include "events.h"
#include "lockout.h"
#include "sessions.h"
#include "spi_util.h"
#include "throttle.h"

PG_FUNCTION_INFO_V1(acctsec_login_attempt);
PG_FUNCTION_INFO_V1(acctsec_account_status);

/*
 * A user agent is whatever the client sent; it is stored cut to this many
 * bytes (at a character boundary) rather than refused, so that a login can
 * never fail on it.
 */
#define ACCTSEC_MAX_USER_AGENT_BYTES	1024

/* The end of the lock that stops a login (acctsec_account_locked_for). */
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
	AcctsecInet ip;
	text	   *user_agent;		/* NULL when none */
	Oid			status_type;	/* acctsec.login_status */
} LoginLog;

/* The OID of an acctsec.login_status label (enum values are OIDs). */
static Datum
status_datum(Oid enum_type, LoginStatus status)
{
	static Oid	cached_type = InvalidOid;
	static Oid	cached_labels[lengthof(status_labels)];

	if (cached_type != enum_type)
	{
		for (int i = 0; i < (int) lengthof(status_labels); i++)
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

/* The attempt's row of acctsec.login_attempts, with outcome status. */
static void
write_log(const text *account, TimestampTz now, const LoginLog *log,
		  LoginStatus status)
{
	acctsec_account_log_attempt(account, now, status_datum(log->status_type, status),
								&log->ip, log->user_agent);
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
	bool		locks = false;

	if (*failed_attempts > 0 &&
		now - *last_failed_at <= (int64) acctsec_failure_window * USECS_PER_SEC)
		(*failed_attempts)++;
	else
		*failed_attempts = 1;
	*last_failed_at = now;
	/* a failure ends any pending second-factor login */
	row->pending_login_at = DT_NOBEGIN;
	row->pending_login_ip.isnull = true;

	if (acctsec_max_failed_attempts > 0 &&
		*failed_attempts >= acctsec_max_failed_attempts)
	{
		locks = true;
		*locked_until = now + lockout_usecs(*lockouts);
		row->locked_at = now;
		*failed_attempts = 0;
		if (*lockouts < PG_INT32_MAX)
			(*lockouts)++;
	}
	else
	{
		*locked_until = DT_NOBEGIN; /* an expired lock is cleared */
		if (!familiar)
			row->locked_at = DT_NOBEGIN;
	}
	acctsec_account_write(row, tid);
	if (log != NULL)
		write_log(account, now, log, locks ? LOGIN_LOCKED : status);

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
 * Record a completed login: counter, lock and backoff reset, of its own
 * kind only: a login from a familiar network leaves those earned from other
 * networks as they are, or an attacker elsewhere would get a fresh count
 * each time the user logs in.  One more login, from ip (or, completing a
 * pending login, from the pending login's ip).
 */
static void
write_login(const text *account, AcctsecAccount *row, ItemPointer tid,
			TimestampTz now, const AcctsecInet *ip, bool from_pending,
			bool familiar, const LoginLog *log)
{
	if (familiar)
	{
		row->familiar_failed_attempts = 0;
		row->familiar_locked_until = DT_NOBEGIN;
		row->familiar_lockouts = 0;
		if (row->locked_until <= now)
			row->locked_at = DT_NOBEGIN;
	}
	else
	{
		row->failed_attempts = 0;
		row->locked_until = DT_NOBEGIN;
		row->locked_at = DT_NOBEGIN;
		row->lockouts = 0;
	}
	row->last_login_at = now;
	row->last_login_ip = from_pending ? row->pending_login_ip : *ip;
	row->login_count++;
	row->pending_login_at = DT_NOBEGIN;
	row->pending_login_ip.isnull = true;
	acctsec_account_write(row, tid);
	if (log != NULL)
		write_log(account, now, log, LOGIN_OK);
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
	row->pending_login_at = now;
	row->pending_login_ip = log->ip;
	row->pending_login_familiar = familiar;
	acctsec_account_write(row, tid);
	write_log(account, now, log, LOGIN_SECOND_FACTOR);
}

/* ---------------------------------------------------------------------------
 * The second factor, for totp.c and backup_codes.c (lockout.h)
 * ---------------------------------------------------------------------------
 */

bool
acctsec_account_locked_now(const text *account)
{
	AcctsecAccount row;
	bool		found;
	TimestampTz now = GetCurrentTransactionStartTimestamp();

	acctsec_check_account(account);
	found = acctsec_account_peek_row(account, &row);
	/* a login waiting for its second factor is judged by where it came from */
	return found && acctsec_account_locked_for(&row, pending_familiar(&row, now), now);
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
	acctsec_account_lock_row(account, &row, &tid);
	/* a wrong second factor counts where its password login came from */
	familiar = pending_familiar(&row, now);
	if (acctsec_account_locked_for(&row, familiar, now))
		locked = true;
	else
	{
		locked = count_failure(account, &row, &tid, now, familiar, NULL,
							   LOGIN_FAILED);
		if (locked)
		{
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
	acctsec_account_lock_row(account, &row, &tid);
	familiar = pending_familiar(&row, now);
	if (!acctsec_account_locked_for(&row, familiar, now) &&
		row.pending_login_at != DT_NOBEGIN &&
		now - row.pending_login_at <=
		(int64) acctsec_second_factor_timeout * USECS_PER_SEC)
	{
		/* the login succeeded: its network becomes familiar (smart lockout) */
		if (!row.pending_login_ip.isnull)
		{
			AcctsecNetwork net;
			TimestampTz throttled_until;
			TimestampTz last_used;

			acctsec_network_of(row.pending_login_ip.value, false, &net);
			acctsec_network_lookup(account, &net, now, &throttled_until,
								   &last_used);
			acctsec_network_make_familiar(account, &tid, &net, now, last_used);
		}
		write_login(account, &row, &tid, now, NULL, true, familiar, NULL);
		completed = true;
	}
	return completed;
}

/* ---------------------------------------------------------------------------
 * SQL-callable functions
 * ---------------------------------------------------------------------------
 */

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
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	char	   *acct;
	char	   *ip;
	char	   *network;
	bool		smart;

	/* a login let through with nothing to report: nothing to format */
	if ((status == LOGIN_OK || status == LOGIN_SECOND_FACTOR) &&
		verdict != NETWORK_THROTTLED_NOW && !was_locked && !new_network &&
		!(familiar && row->locked_until > now))
		return;
	acct = text_to_cstring(account);
	ip = event_ip(log->ip.value, log->ip.isnull);
	network = net->valid ?
		DatumGetCString(DirectFunctionCall1(cidr_out, net->network)) : NULL;
	smart = acctsec_smart_lockout_applies(net);

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

/* What one login_attempt call decided, for its events and its result. */
typedef struct LoginOutcome
{
	LoginStatus status;
	AcctsecAccount row;			/* all zeros when the row was not looked at */
	AcctsecNetworkVerdict verdict;
	bool		familiar;
	bool		new_network;
	bool		was_locked;
	TimestampTz refused_until;
	TimestampTz throttled_until;
} LoginOutcome;

/*
 * Apply the policy to one login attempt at now (SPI connected): look at the
 * network, lock the account's row, decide, and write the new state and the
 * log row.  Fills *out.
 */
static void
login_apply(const text *account, bool success, const LoginLog *log,
			AcctsecNetwork *net, TimestampTz now, LoginOutcome *out)
{
	ItemPointerData tid;
	TimestampTz last_used;

	memset(&out->row, 0, sizeof(out->row));
	out->verdict = NETWORK_NOT_TRACKED;
	out->new_network = false;
	out->was_locked = false;
	out->throttled_until = DT_NOBEGIN;

	/*
	 * A throttled network is refused before the account row is touched, so an
	 * attacker's refused calls never queue on a victim's row lock.  The same
	 * look tells whether the network is familiar to the account (a network
	 * made familiar by a concurrent login of the account that commits
	 * meanwhile counts as unfamiliar for this one call).
	 */
	out->familiar = acctsec_network_lookup(account, net, now,
										   &out->refused_until, &last_used);
	if (out->refused_until != DT_NOBEGIN)
	{
		/* whatever success says; nothing counts against the account */
		out->status = LOGIN_THROTTLED;
		out->familiar = false;
		write_log(account, now, log, out->status);
		return;
	}

	/* lock, decide, and write the new state and the log row together */
	acctsec_account_lock_row(account, &out->row, &tid);

	/* every failure counts toward its network, the account locked or not */
	if (!success)
		out->verdict = acctsec_network_failure(net, account, now,
											   &out->throttled_until);

	out->was_locked = acctsec_account_locked_for(&out->row, out->familiar, now);
	if (out->verdict == NETWORK_THROTTLED)
	{
		/* throttled while this call waited for the network's row */
		out->status = LOGIN_THROTTLED;
		out->refused_until = out->throttled_until;
		write_log(account, now, log, out->status);
	}
	else if (out->was_locked)
	{
		/* whatever success says; the lock is neither extended nor counted */
		out->status = LOGIN_LOCKED;
		out->refused_until = lock_end(&out->row, out->familiar, now);
		write_log(account, now, log, out->status);
	}
	else if (!success)
	{
		/* the failure that throttles its network answers throttled */
		LoginStatus unlocked = out->verdict == NETWORK_THROTTLED_NOW ?
			LOGIN_THROTTLED : LOGIN_FAILED;

		if (count_failure(account, &out->row, &tid, now, out->familiar, log,
						  unlocked))
		{
			out->status = LOGIN_LOCKED;
			out->refused_until = lock_end(&out->row, out->familiar, now);
		}
		else
		{
			out->status = unlocked;
			out->refused_until = out->throttled_until;
		}
	}
	else
	{
		out->new_network = net->valid && last_used == DT_NOBEGIN &&
			acctsec_smart_lockout_applies(net);
		if (out->row.totp_enabled)
		{
			write_pending(account, &out->row, &tid, now, out->familiar, log);
			out->status = LOGIN_SECOND_FACTOR;
			out->new_network = false;	/* familiar once the login completes */
		}
		else
		{
			acctsec_network_make_familiar(account, &tid, net, now, last_used);
			write_login(account, &out->row, &tid, now, &log->ip, false,
						out->familiar, log);
			out->status = LOGIN_OK;
		}
	}
}

/* login_attempt's ip and user_agent arguments, the user agent clipped. */
static void
login_log_args(FunctionCallInfo fcinfo, LoginLog *log)
{
	log->ip.isnull = PG_ARGISNULL(2);
	log->ip.value = log->ip.isnull ? (Datum) 0 : PG_GETARG_DATUM(2);
	log->user_agent = NULL;
	if (!PG_ARGISNULL(3))
	{
		text	   *ua = PG_GETARG_TEXT_PP(3);
		int			len = VARSIZE_ANY_EXHDR(ua);

		if (len > ACCTSEC_MAX_USER_AGENT_BYTES)
			len = pg_mbcliplen(VARDATA_ANY(ua), len, ACCTSEC_MAX_USER_AGENT_BYTES);
		log->user_agent = cstring_to_text_with_len(VARDATA_ANY(ua), len);
	}
}

/*
 * login_attempt's row type, blessed, kept for the backend: get_call_result_type
 * rebuilds it from the function's OUT arguments in pg_proc on every call.
 * Keyed by the function's OID: an existing function's OUT arguments cannot
 * change (CREATE OR REPLACE refuses), and a function made again is another
 * OID.
 */
static TupleDesc
login_result_desc(FunctionCallInfo fcinfo)
{
	static Oid	cached_fn = InvalidOid;
	static TupleDesc cached_desc = NULL;
	Oid			fn = fcinfo->flinfo != NULL ? fcinfo->flinfo->fn_oid : InvalidOid;
	TupleDesc	desc;
	MemoryContext old;

	if (OidIsValid(fn) && fn == cached_fn)
		return cached_desc;
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "login_attempt must return a composite type");
	desc = BlessTupleDesc(desc);
	if (!OidIsValid(fn))
		return desc;
	old = MemoryContextSwitchTo(TopMemoryContext);
	if (cached_desc != NULL)
		FreeTupleDesc(cached_desc);
	cached_desc = CreateTupleDescCopy(desc);
	MemoryContextSwitchTo(old);
	cached_fn = fn;
	return cached_desc;
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
	AcctsecNetwork net;
	LoginOutcome out;
	TupleDesc	desc;
	Datum		result[5];
	bool		result_null[5] = {false, false, false, false, false};

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("login outcome must not be null"),
				 errhint("Pass true when the password was right, false otherwise.")));
	success = PG_GETARG_BOOL(1);
	login_log_args(fcinfo, &log);
	desc = login_result_desc(fcinfo);
	log.status_type = TupleDescAttr(desc, 0)->atttypid;
	acctsec_network_of(log.ip.value, log.ip.isnull, &net);

	acctsec_spi_connect();
	login_apply(account, success, &log, &net, now, &out);
	acctsec_spi_finish();

	login_events(account, &log, &net, &out.row, out.status, out.was_locked,
				 out.verdict, out.familiar, out.new_network, out.refused_until,
				 out.throttled_until);

	result[0] = status_datum(TupleDescAttr(desc, 0)->atttypid, out.status);
	result[1] = BoolGetDatum(out.status == LOGIN_OK);

	/*
	 * The counter of the kind this login counts in (0 when a throttled
	 * network was refused before the account was looked at).
	 */
	result[2] = Int32GetDatum(out.familiar ? out.row.familiar_failed_attempts :
							  out.row.failed_attempts);
	if (out.status == LOGIN_LOCKED || out.status == LOGIN_THROTTLED)
	{
		Interval   *retry = palloc0(sizeof(Interval));

		retry->time = out.refused_until - now;
		result[3] = TimestampTzGetDatum(out.refused_until);
		result[4] = IntervalPGetDatum(retry);
	}
	else
	{
		result_null[3] = true;
		result_null[4] = true;
	}

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
	if (acctsec_account_run_plan(ACCOUNT_PLAN_STATUS, args, NULL, true, 1) == 1)
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
