/*
 * totp.h
 *		totp.c: stateful TOTP credentials (docs/totp.md).
 */
#ifndef ACCTSEC_TOTP_H
#define ACCTSEC_TOTP_H

#include "otp.h"

/* The acctsec.totp_* settings; called once from _PG_init. */
extern void acctsec_define_totp_gucs(void);

/*
 * Store secret as the account's credential, sealed by the key module
 * (keys.c) with the account as associated data: pending confirmation, or
 * active at once when active is true (totp_import).  A pending credential
 * is replaced; an active one is an error
 * (ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE).  The caller holds the
 * account's row lock and is connected to SPI.  Only totp.c writes
 * acctsec.totp_credentials: enrolment and import both come here.
 */
extern void acctsec_totp_store_credential(text *account, const uint8 *secret,
										  size_t secret_len, OtpAlgorithm alg,
										  int digits, int period, bool active);

#endif							/* ACCTSEC_TOTP_H */
