/*
 * passkeys.h
 *		passkeys.c: WebAuthn passkeys (docs/passkeys.md).
 */
#ifndef ACCTSEC_PASSKEYS_H
#define ACCTSEC_PASSKEYS_H

/* The acctsec.passkey_* settings; called once from _PG_init. */
extern void acctsec_define_passkey_gucs(void);

#endif							/* ACCTSEC_PASSKEYS_H */
