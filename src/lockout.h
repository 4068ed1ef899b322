/*
 * lockout.h
 *		lockout.c: the login decision (acctsec.login_attempt) and the lockout
 *		policy over an account's row (account.c) and the login's network
 *		(throttle.c); docs/accounts.md, docs/throttling.md.
 *
 * The second-factor helpers below are how totp.c and backup_codes.c apply
 * the same policy, in their caller's SPI connection (spi_util.h).
 */
#ifndef ACCTSEC_LOCKOUT_H
#define ACCTSEC_LOCKOUT_H

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

#endif							/* ACCTSEC_LOCKOUT_H */
