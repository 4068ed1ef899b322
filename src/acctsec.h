/*
 * acctsec.h
 *		Prototypes shared between acctsec's C files.  No code here.
 */
#ifndef ACCTSEC_H
#define ACCTSEC_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "utils/array.h"
#include "utils/jsonb.h"
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

/* audit.c: the audit trigger and its settings */
extern void acctsec_define_audit_gucs(void);
extern const char *acctsec_audit_actor(void);

/* audit_chain.c: the one writer of acctsec.audit_log rows */
typedef struct AcctsecAuditRow
{
	const char *relation;		/* schema-qualified; NULL for security events */
	const char *operation;		/* INSERT/UPDATE/DELETE/TRUNCATE or event name */
	const char *account;		/* security events: the account concerned */
	Jsonb *row_key;
	Jsonb *old_values;
	Jsonb *new_values;	/* security events: the details */
	ArrayType *changed_columns;
} AcctsecAuditRow;
extern int64 acctsec_audit_write(const AcctsecAuditRow *row);
extern Oid	acctsec_audit_log_relid(void);

#if defined(__GNUC__) || defined(__clang__)
#define acctsec_attribute_sentinel __attribute__((sentinel))
#else
#define acctsec_attribute_sentinel
#endif

/*
 * events.c: record a security event (see events.c for the calling
 * convention).  Details are key/value C string pairs ended by a NULL key;
 * never pass a secret.  Returns the audit row's id.
 */
extern int64 acctsec_security_event(const char *event, const char *account,...)
			acctsec_attribute_sentinel;
extern int64 acctsec_security_event_jsonb(const char *event, const char *account,
										  Jsonb *details);

#endif							/* ACCTSEC_H */
