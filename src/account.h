/*
 * account.h
 *		account.c: accounts, login attempts and lockout (docs/accounts.md).
 *
 * One row of acctsec.accounts per account is the per-account serialisation
 * point: every capability that changes an account's security state takes
 * that row's lock first (acctsec_account_lock), inside the caller's
 * transaction, and the lock is held until it ends.  The helpers below run
 * in their caller's SPI connection (the nesting rule, spi_util.h).
 */
#ifndef ACCTSEC_ACCOUNT_H
#define ACCTSEC_ACCOUNT_H

#include "datatype/timestamp.h"
#include "fmgr.h"
#include "storage/itemptr.h"

/* Longest account accepted, in bytes; longer is error 22023. */
#define ACCTSEC_MAX_ACCOUNT_BYTES	1024

/* An inet value, or NULL. */
typedef struct AcctsecInet
{
	Datum		value;
	bool		isnull;
} AcctsecInet;

/*
 * An account's state, as read by acctsec_account_lock: every column of its
 * row but the account and created_at.  A time is DT_NOBEGIN where the
 * column is NULL.
 */
typedef struct AcctsecAccount
{
	int32		failed_attempts;	/* failures inside the window */
	TimestampTz last_failed_at; /* DT_NOBEGIN when none */
	TimestampTz locked_until;	/* DT_NOBEGIN when never locked */
	TimestampTz locked_at;		/* when that lock began */
	int32		lockouts;		/* backoff level */
	TimestampTz last_login_at;
	AcctsecInet last_login_ip;
	int64		login_count;
	bool		totp_enabled;
	TimestampTz pending_login_at;	/* DT_NOBEGIN when no login is pending */
	AcctsecInet pending_login_ip;	/* where the pending login came from */

	/*
	 * Smart lockout (throttle.c): failures from the account's familiar
	 * networks are counted and locked apart; the fields above then count
	 * every other failure (NULL ip included).
	 */
	int32		familiar_failed_attempts;
	TimestampTz familiar_last_failed_at;
	TimestampTz familiar_locked_until;
	int32		familiar_lockouts;
	bool		pending_login_familiar; /* the pending login came from one */
} AcctsecAccount;

/* Define the acctsec.* lockout settings; called once from _PG_init. */
extern void acctsec_define_account_gucs(void);

/* The lockout settings (docs/accounts.md), read by the policy (lockout.c). */
extern int	acctsec_max_failed_attempts;
extern int	acctsec_lockout_duration;
extern double acctsec_lockout_backoff;
extern int	acctsec_max_lockout_duration;
extern int	acctsec_failure_window;
extern int	acctsec_second_factor_timeout;

/* acctsec.max_lockout_duration in seconds (it also caps network throttles). */
extern int	acctsec_max_lockout_duration_secs(void);

/*
 * The account argument argno of a SQL-callable function, checked: NULL,
 * empty and longer than ACCTSEC_MAX_ACCOUNT_BYTES are error 22023.
 */
extern text *acctsec_account_arg(FunctionCallInfo fcinfo, int argno);

/* The same check for an account already in hand (not NULL). */
extern void acctsec_check_account(const text *account);

/*
 * Lock the account's row (FOR NO KEY UPDATE), creating it first if it does
 * not exist, and fill *state (may be NULL) with its state.  Checks the
 * account.
 */
extern void acctsec_account_lock(const text *account, AcctsecAccount *state);

/*
 * Set acctsec.accounts.totp_enabled (creating the row if needed); turning it
 * off also drops a pending second-factor login.
 */
extern void acctsec_account_set_totp_enabled(const text *account, bool enabled);

/*
 * Erase the account's security state: its acctsec.accounts row (with every
 * row of other capabilities that references it) and its login attempts.
 * True if there was anything to erase.  Audit rows stay.
 */
extern bool acctsec_account_forget(const text *account);

/*
 * The same for a deleted row of a linked table (relation: its name, for the
 * security event), except that a lock in force is kept until it expires.
 */
extern bool acctsec_account_forget_row(const text *account,
									   const char *relation);

/*
 * The row's statements, for the policy (lockout.c), run in the caller's SPI
 * connection.  The login's writes are acctsec_account_write and
 * acctsec_account_log_attempt.
 */
typedef enum AccountPlanId
{
	ACCOUNT_PLAN_CREATE,
	ACCOUNT_PLAN_PEEK,
	ACCOUNT_PLAN_STATUS,
	ACCOUNT_PLAN_FORGET_ACCOUNT,
	ACCOUNT_PLAN_FORGET_KEEP_LOCK,
	ACCOUNT_PLAN_FORGET_ATTEMPTS,
	ACCOUNT_PLAN_PRUNE,
	NUM_ACCOUNT_PLANS
} AccountPlanId;

/* Run one (preparing it on first use); returns SPI_processed. */
extern uint64 acctsec_account_run_plan(AccountPlanId id, Datum *values,
									   const char *nulls, bool read_only,
									   long tcount);

/*
 * Write row, the account's whole state, to the row version at tid, which
 * the caller locked (acctsec_account_lock_row); and append a row to
 * acctsec.login_attempts (outcome: an acctsec.login_status value).  SPI
 * connected.  Through the table AM where nothing needs a statement
 * (row_write.h).
 */
extern void acctsec_account_write(const AcctsecAccount *row, ItemPointer tid);
extern void acctsec_account_log_attempt(const text *account, TimestampTz at,
										Datum outcome, const AcctsecInet *ip,
										const text *user_agent);

/*
 * Whether some linked table mirrors account state (linked_tables.c, set at
 * start-up): while none does, the mirroring trigger of acctsec.accounts
 * does nothing and a write need not be a statement for it.
 */
extern void acctsec_account_set_mirror_check(bool (*mirror_wanted) (void));

/*
 * Lock the account's row, creating it if needed, and read it and the ctid
 * of the version locked (SPI connected); read it without locking, false
 * when there is none.
 */
extern void acctsec_account_lock_row(const text *account, AcctsecAccount *row,
									 ItemPointer tid);
extern bool acctsec_account_peek_row(const text *account, AcctsecAccount *row);

/*
 * Does a lock stop a login at now?  A lock earned from a familiar network
 * stops every login; one earned from other networks does not stop a login
 * from a familiar network (familiar is false when smart lockout is off or
 * the call has no ip, and then either lock stops it).
 */
static inline bool
acctsec_account_locked_for(const AcctsecAccount *row, bool familiar, TimestampTz now)
{
	return row->familiar_locked_until > now ||
		(row->locked_until > now && !familiar);
}


#endif							/* ACCTSEC_ACCOUNT_H */
