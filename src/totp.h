/*
 * totp.h
 *		totp.c: stateful TOTP credentials (docs/totp.md).
 */
#ifndef ACCTSEC_TOTP_H
#define ACCTSEC_TOTP_H

/* The acctsec.totp_* settings; called once from _PG_init. */
extern void acctsec_define_totp_gucs(void);

#endif							/* ACCTSEC_TOTP_H */
