/*
 * acctsec.h
 *		Prototypes shared between acctsec's C files.  No code here.
 */
#ifndef ACCTSEC_H
#define ACCTSEC_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "otp.h"

/* Longest secret the OTP functions accept (HMAC keys longer are hashed anyway). */
#define ACCTSEC_MAX_SECRET_BYTES	1024

/* acctsec.c: module start-up */
extern void _PG_init(void);

/* otp_sql.c: argument checks and the HMAC step shared with stateful TOTP */
extern OtpAlgorithm acctsec_algorithm_arg(text *name);
extern void acctsec_check_digits(int digits, int min_digits, int max_digits);
extern void acctsec_check_period(int period);
extern void acctsec_check_secret(size_t len);
extern int64 acctsec_unix_seconds(TimestampTz ts);
extern void acctsec_otp_code(const uint8 *secret, size_t secret_len,
							 uint64 counter, int digits, OtpAlgorithm alg,
							 char *out);
extern bool acctsec_totp_match(const uint8 *secret, size_t secret_len,
							   const char *code, size_t code_len,
							   int64 unix_time, int window, int digits,
							   int period, OtpAlgorithm alg,
							   int64 after_step, int64 *matched_step);

/* passwords.c: hashing and verification, shared with acctsec.login */
extern void acctsec_define_password_gucs(void);
extern char *acctsec_password_hash_cstring(const char *password, size_t len);
extern bool acctsec_password_check(const char *password, size_t password_len,
								   const char *hash, size_t hash_len);
extern bool acctsec_password_is_current(const char *hash, size_t len);

#endif							/* ACCTSEC_H */
