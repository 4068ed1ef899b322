/*
 * sessions.h
 *		sessions.c: sessions (docs/sessions.md).
 */
#ifndef ACCTSEC_SESSIONS_H
#define ACCTSEC_SESSIONS_H

/* The acctsec.session_* settings; called once from _PG_init. */
extern void acctsec_define_sessions_gucs(void);

/*
 * Revoke every session and one-time token of the account (a lockout calls
 * it, holding the account's row lock, in its SPI connection); returns how
 * many.
 */
extern uint64 acctsec_revoke_account_tokens(const text *account);

#endif							/* ACCTSEC_SESSIONS_H */
