/*
 * account.h
 *		account.c: accounts, login attempts and lockout (docs/accounts.md).
 *
 * One row of acctsec.accounts per account is the per-account serialisation
 * point: every capability that changes an account's security state takes
 * that row's lock first (acctsec_account_lock), inside the caller's
 * transaction, and the lock is held until it ends.  Each helper below runs
 * its own SPI connection, so callers may or may not be connected to SPI.
 */
#ifndef ACCTSEC_ACCOUNT_H
#define ACCTSEC_ACCOUNT_H

#include "datatype/timestamp.h"
#include "fmgr.h"

/* Longest account accepted, in bytes; longer is error 22023. */
#define ACCTSEC_MAX_ACCOUNT_BYTES	1024

/* An account's lockout state, as read by acctsec_account_lock. */
typedef struct AcctsecAccount
{
	int32		failed_attempts;	/* failures inside the window */
	TimestampTz last_failed_at; /* DT_NOBEGIN when none */
	TimestampTz locked_until;	/* DT_NOBEGIN when never locked */
	int32		lockouts;		/* backoff level */
	bool		totp_enabled;
	TimestampTz pending_login_at;	/* DT_NOBEGIN when no login is pending */

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

/* Is the account locked now?  An unknown account is not.  Takes no lock. */
extern bool acctsec_account_locked_now(const text *account);

/*
 * A failed second factor (wrong TOTP or backup code): lock the row and count
 * a failure toward lockout exactly as a failed login_attempt does (window,
 * max_failed_attempts, lockout_duration with backoff, cap), and clear any
 * pending login.  Returns true if the account is locked afterwards (locked
 * by this failure, or already locked, in which case nothing is counted).
 */
extern bool acctsec_account_second_factor_failed(const text *account);

/*
 * A correct second factor: if a login is pending (login_attempt answered
 * second_factor_required less than acctsec.second_factor_timeout ago) and
 * the account is not locked, complete it as a successful login does: reset
 * the failure counter and backoff level, set last_login_at (and
 * last_login_ip to the pending login's ip), add one to login_count.  Returns
 * whether a login was completed; otherwise nothing changes.
 */
extern bool acctsec_account_complete_second_factor(const text *account);

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

#endif							/* ACCTSEC_ACCOUNT_H */
