/*
 * otp_sql.h
 *		otp_sql.c: the stateless OTP functions' argument checks, the HMAC
 *		step shared with stateful TOTP (totp.c) and imports (import.c), and
 *		the steps of every second factor (totp.c, backup_codes.c).
 */
#ifndef ACCTSEC_OTP_SQL_H
#define ACCTSEC_OTP_SQL_H

#include "datatype/timestamp.h"
#include "fmgr.h"
#include "otp.h"

/* Longest secret the OTP functions accept (HMAC keys longer are hashed anyway). */
#define ACCTSEC_MAX_SECRET_BYTES	1024

struct AcctsecSecret;

extern OtpAlgorithm acctsec_algorithm_arg(text *name);

/* Argument argno, an error naming it if it is null. */
extern int32 acctsec_otp_int_arg(FunctionCallInfo fcinfo, int argno,
								 const char *name);
extern OtpAlgorithm acctsec_otp_algorithm_arg(FunctionCallInfo fcinfo,
											  int argno);

/*
 * Checking a second factor: acctsec_second_factor_lock takes the account's
 * row lock first and returns false if the account is locked (the code is
 * then not looked at); acctsec_second_factor_answered completes the
 * pending login on a right code, or counts a wrong one (when there was one
 * to guess) toward lockout and emits failed_event, with "locked".  Both in
 * the caller's SPI connection.
 */
extern bool acctsec_second_factor_lock(const text *account);
extern void acctsec_second_factor_answered(const text *account, bool right,
										   bool counted,
										   const char *failed_event);
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
extern struct AcctsecSecret *acctsec_totp_uri_build(const uint8 *secret, size_t secret_len,
													const char *label, size_t label_len,
													const char *issuer, size_t issuer_len,
													int digits, int period, OtpAlgorithm alg);

#endif							/* ACCTSEC_OTP_SQL_H */
