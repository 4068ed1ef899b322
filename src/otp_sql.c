/*
 * otp_sql.c
 *		SQL-callable one-time-password functions (docs/totp.md, "pure
 *		functions"), the HMAC step shared with stateful TOTP, and the
 *		steps every second factor takes (TOTP, backup codes).
 *
 * The HMAC is PostgreSQL's own common/hmac.h (OpenSSL underneath in a
 * normal build); truncation, base32 and URI encoding live in otp.c.
 */
#include "postgres.h"

#include <sodium.h>

#include "common/hmac.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/memutils.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "account.h"
#include "compat.h"
#include "events.h"
#include "keys.h"
#include "lockout.h"
#include "otp.h"
#include "otp_sql.h"

PG_FUNCTION_INFO_V1(acctsec_hotp);
PG_FUNCTION_INFO_V1(acctsec_totp);
PG_FUNCTION_INFO_V1(acctsec_totp_check);
PG_FUNCTION_INFO_V1(acctsec_base32_encode);
PG_FUNCTION_INFO_V1(acctsec_base32_decode);
PG_FUNCTION_INFO_V1(acctsec_totp_uri);

/* A TOTP window wider than this accepts codes minutes old: refuse it. */
#define ACCTSEC_MAX_WINDOW			10
#define ACCTSEC_MAX_PERIOD			3600
#define ACCTSEC_MAX_LABEL_BYTES		1024
/* Longer than any code anyone types; longer input is simply not a match. */
#define ACCTSEC_MAX_CODE_INPUT		64

/*
 * An unknown algorithm name is shown in the error only if it looks like a
 * mistyped name: short printable ASCII.  Anything else is more likely some
 * other value passed in the wrong position (a base32 secret of 20 bytes is
 * 32 characters), and must not reach the log; nor may control characters
 * that would forge log lines.
 */
#define ACCTSEC_MAX_SHOWN_ALGORITHM	12

static const char *
shown_algorithm_name(const char *s, size_t len)
{
	if (len > ACCTSEC_MAX_SHOWN_ALGORITHM)
		return "(too long)";
	for (size_t i = 0; i < len; i++)
		if ((unsigned char) s[i] < ' ' || (unsigned char) s[i] > '~')
			return "(not printable ASCII)";
	return pnstrdup(s, len);
}

int32
acctsec_otp_int_arg(FunctionCallInfo fcinfo, int argno, const char *name)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be null", name)));
	return PG_GETARG_INT32(argno);
}

OtpAlgorithm
acctsec_otp_algorithm_arg(FunctionCallInfo fcinfo, int argno)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("algorithm must not be null")));
	return acctsec_algorithm_arg(PG_GETARG_TEXT_PP(argno));
}

/*
 * The first step of checking a second factor: the account's row lock, which
 * serialises this with login_attempt and every other second-factor check of
 * the account.  Returns false if the account is locked: then the code is
 * not even looked at.
 */
bool
acctsec_second_factor_lock(const text *account)
{
	acctsec_account_lock(account, NULL);
	return !acctsec_account_locked_now(account);
}

/*
 * The answer to a second factor checked after acctsec_second_factor_lock:
 * a right one completes the pending login; a wrong one where there was one
 * to guess (counted) is counted toward lockout, and the security event
 * failed_event says whether the account is locked now.
 */
void
acctsec_second_factor_answered(const text *account, bool right, bool counted,
							   const char *failed_event)
{
	bool		locked;

	if (right)
		acctsec_account_complete_second_factor(account);
	else if (counted)
	{
		locked = acctsec_account_second_factor_failed(account);
		acctsec_security_event(failed_event, text_to_cstring(account),
							   "locked", locked ? "true" : "false", NULL);
	}
}

OtpAlgorithm
acctsec_algorithm_arg(text *name)
{
	OtpAlgorithm alg;
	const char *s = VARDATA_ANY(name);
	size_t		len = VARSIZE_ANY_EXHDR(name);

	if (!otp_parse_algorithm(s, len, &alg))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unsupported OTP algorithm \"%s\"",
						shown_algorithm_name(s, len)),
				 errhint("Use SHA1, SHA256 or SHA512.")));
	return alg;
}

void
acctsec_check_digits(int digits, int min_digits, int max_digits)
{
	if (digits < min_digits || digits > max_digits)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("digits must be between %d and %d, not %d",
						min_digits, max_digits, digits)));
}

void
acctsec_check_period(int period)
{
	if (period < 1 || period > ACCTSEC_MAX_PERIOD)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("period must be between 1 and %d seconds, not %d",
						ACCTSEC_MAX_PERIOD, period)));
}

void
acctsec_check_secret(size_t len)
{
	if (len == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("OTP secret must not be empty")));
	if (len > ACCTSEC_MAX_SECRET_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("OTP secret is too long"),
				 errdetail("The secret has %zu bytes; at most %d are accepted.",
						   len, ACCTSEC_MAX_SECRET_BYTES)));
}

static void
check_window(int window)
{
	if (window < 0 || window > ACCTSEC_MAX_WINDOW)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("window must be between 0 and %d time steps, not %d",
						ACCTSEC_MAX_WINDOW, window)));
}

/* Seconds since the Unix epoch, floored; TOTP has no step before 1970. */
int64
acctsec_unix_seconds(TimestampTz ts)
{
	int64		secs;

	if (TIMESTAMP_NOT_FINITE(ts))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("TOTP time must be finite")));

	/*
	 * Whole seconds first, then the epoch shift: shifting the microseconds
	 * overflows int64 for the last 30 millennia of the timestamp range.
	 */
	secs = ts / USECS_PER_SEC;
	if (ts < 0 && ts % USECS_PER_SEC != 0)
		secs--;
	secs += (int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY;
	if (secs < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("TOTP time must not be before 1970-01-01 00:00:00+00")));
	return secs;
}

static pg_cryptohash_type
hash_type(OtpAlgorithm alg)
{
	switch (alg)
	{
		case OTP_SHA256:
			return PG_SHA256;
		case OTP_SHA512:
			return PG_SHA512;
		case OTP_SHA1:
		default:
			return PG_SHA1;
	}
}

/*
 * An HMAC context for one secret, kept across the time steps of one check:
 * creating a context (allocation, resource-owner bookkeeping, the crypto
 * library's algorithm lookup) costs more than the HMAC of a counter itself.
 */
typedef struct OtpHmac
{
	pg_hmac_ctx *ctx;
	OtpAlgorithm alg;
	const uint8 *secret;
	size_t		secret_len;
	bool		keyed;			/* the context holds this secret's key state */
} OtpHmac;

/*
 * Re-keying: with OpenSSL underneath (every usual build), pg_hmac_init with
 * a NULL key reuses the key state already in the context, which skips the
 * algorithm lookup and the key hashing and halves the cost of a check.  That
 * is OpenSSL's documented HMAC_Init_ex behaviour, not a promise of
 * common/hmac.h, so it is used only once a known-answer test has shown that
 * it gives the same digest as full keying; otherwise every step re-keys.
 */
static int	hmac_key_reuse = -1;	/* -1 untested, 0 no, 1 yes */

static bool
hmac_key_reuse_works(void)
{
	static const uint8 key[] = "12345678901234567890";
	uint8		c0[8],
				c1[8];
	uint8		reused[20],
				fresh[20];
	pg_hmac_ctx *ctx;
	bool		ok;

	otp_counter_bytes(0, c0);
	otp_counter_bytes(1, c1);
	ctx = pg_hmac_create(PG_SHA1);
	if (ctx == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	ok = pg_hmac_init(ctx, key, 20) == 0 &&
		pg_hmac_update(ctx, c0, 8) == 0 &&
		pg_hmac_final(ctx, reused, 20) == 0 &&
		pg_hmac_init(ctx, NULL, 0) == 0 &&
		pg_hmac_update(ctx, c1, 8) == 0 &&
		pg_hmac_final(ctx, reused, 20) == 0 &&
		pg_hmac_init(ctx, key, 20) == 0 &&
		pg_hmac_update(ctx, c1, 8) == 0 &&
		pg_hmac_final(ctx, fresh, 20) == 0 &&
		memcmp(reused, fresh, 20) == 0;
	pg_hmac_free(ctx);
	return ok;
}

static void
otp_hmac_begin(OtpHmac *h, const uint8 *secret, size_t secret_len,
			   OtpAlgorithm alg)
{
	h->ctx = pg_hmac_create(hash_type(alg));
	if (h->ctx == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	h->alg = alg;
	h->secret = secret;
	h->secret_len = secret_len;
	h->keyed = false;
	if (hmac_key_reuse < 0)
		hmac_key_reuse = hmac_key_reuse_works() ? 1 : 0;
}

static void
otp_hmac_end(OtpHmac *h)
{
	pg_hmac_free(h->ctx);
	h->ctx = NULL;
}

/* HOTP of one counter as "digits" characters plus NUL into out. */
static void
otp_hmac_code(OtpHmac *h, uint64 counter, int digits, char *out)
{
	uint8		message[8];
	uint8		digest[OTP_MAX_DIGEST_LENGTH];
	size_t		digest_len = otp_digest_length(h->alg);
	bool		reuse = h->keyed && hmac_key_reuse == 1;

	otp_counter_bytes(counter, message);
	if (pg_hmac_init(h->ctx, reuse ? NULL : h->secret,
					 reuse ? 0 : h->secret_len) < 0 ||
		pg_hmac_update(h->ctx, message, sizeof(message)) < 0 ||
		pg_hmac_final(h->ctx, digest, digest_len) < 0)
	{
		const char *reason = pg_hmac_error(h->ctx);

		sodium_memzero(digest, sizeof(digest));
		otp_hmac_end(h);
		elog(ERROR, "could not compute HMAC: %s", reason);
	}
	h->keyed = true;

	if (!otp_code_from_digest(digest, digest_len, digits, out))
		elog(ERROR, "could not truncate HMAC digest");
	sodium_memzero(digest, sizeof(digest));
}

/* HOTP(secret, counter) as "digits" characters plus NUL into out. */
void
acctsec_otp_code(const uint8 *secret, size_t secret_len, uint64 counter,
				 int digits, OtpAlgorithm alg, char *out)
{
	OtpHmac		h;

	otp_hmac_begin(&h, secret, secret_len, alg);
	otp_hmac_code(&h, counter, digits, out);
	otp_hmac_end(&h);
}

/*
 * Does code match a time step within "window" of unix_time, counting only
 * steps after after_step (the replay guard of stateful TOTP)?  Every
 * candidate step is computed and compared in constant time, with no early
 * exit, so the time taken says nothing about which step matched.  On a match
 * *matched_step is the latest matching step.
 */
bool
acctsec_totp_match(const uint8 *secret, size_t secret_len,
				   const char *code, size_t code_len,
				   int64 unix_time, int window, int digits, int period,
				   OtpAlgorithm alg, int64 after_step, int64 *matched_step)
{
	char		given[ACCTSEC_MAX_CODE_INPUT + 1];
	char		expected[OTP_MAX_DIGITS + 1];
	int64		now_step = unix_time / period;
	bool		found = false;
	int			n;
	OtpHmac		h;

	if (code_len > ACCTSEC_MAX_CODE_INPUT)
		return false;
	n = otp_normalize_code(code, code_len, given, sizeof(given));
	if (n != digits)
	{
		sodium_memzero(given, sizeof(given));
		return false;
	}

	otp_hmac_begin(&h, secret, secret_len, alg);
	for (int64 step = now_step - window; step <= now_step + window; step++)
	{
		bool		equal;

		if (step < 0)
			continue;
		otp_hmac_code(&h, (uint64) step, digits, expected);
		equal = (sodium_memcmp(expected, given, digits) == 0);
		if (equal && step > after_step)
		{
			found = true;
			*matched_step = step;
		}
	}
	otp_hmac_end(&h);
	sodium_memzero(expected, sizeof(expected));
	sodium_memzero(given, sizeof(given));
	return found;
}

/* hotp(secret bytea, counter bigint, digits int, algorithm text) */
Datum
acctsec_hotp(PG_FUNCTION_ARGS)
{
	bytea	   *secret = PG_GETARG_BYTEA_PP(0);
	int64		counter = PG_GETARG_INT64(1);
	int32		digits = PG_GETARG_INT32(2);
	OtpAlgorithm alg = acctsec_algorithm_arg(PG_GETARG_TEXT_PP(3));
	char		code[OTP_MAX_DIGITS + 1];

	acctsec_check_secret(VARSIZE_ANY_EXHDR(secret));
	acctsec_check_digits(digits, OTP_MIN_DIGITS, OTP_MAX_DIGITS);
	if (counter < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("HOTP counter must not be negative")));

	acctsec_otp_code((uint8 *) VARDATA_ANY(secret), VARSIZE_ANY_EXHDR(secret),
					 (uint64) counter, digits, alg, code);
	PG_RETURN_TEXT_P(cstring_to_text(code));
}

/* totp(secret bytea, at timestamptz, digits int, period int, algorithm text) */
Datum
acctsec_totp(PG_FUNCTION_ARGS)
{
	bytea	   *secret = PG_GETARG_BYTEA_PP(0);
	TimestampTz at = PG_GETARG_TIMESTAMPTZ(1);
	int32		digits = PG_GETARG_INT32(2);
	int32		period = PG_GETARG_INT32(3);
	OtpAlgorithm alg = acctsec_algorithm_arg(PG_GETARG_TEXT_PP(4));
	char		code[OTP_MAX_DIGITS + 1];
	int64		unix_time;

	acctsec_check_secret(VARSIZE_ANY_EXHDR(secret));
	acctsec_check_digits(digits, OTP_MIN_DIGITS, OTP_MAX_DIGITS);
	acctsec_check_period(period);
	unix_time = acctsec_unix_seconds(at);

	acctsec_otp_code((uint8 *) VARDATA_ANY(secret), VARSIZE_ANY_EXHDR(secret),
					 (uint64) (unix_time / period), digits, alg, code);
	PG_RETURN_TEXT_P(cstring_to_text(code));
}

/*
 * totp_check(secret bytea, code text, window int, at timestamptz,
 *			  digits int, period int, algorithm text)
 *
 * A code that is not "digits" digits (after removing spaces and dashes) is
 * simply false: it is user input, not a caller's mistake.
 */
Datum
acctsec_totp_check(PG_FUNCTION_ARGS)
{
	bytea	   *secret = PG_GETARG_BYTEA_PP(0);
	text	   *code = PG_GETARG_TEXT_PP(1);
	int32		window = PG_GETARG_INT32(2);
	TimestampTz at = PG_GETARG_TIMESTAMPTZ(3);
	int32		digits = PG_GETARG_INT32(4);
	int32		period = PG_GETARG_INT32(5);
	OtpAlgorithm alg = acctsec_algorithm_arg(PG_GETARG_TEXT_PP(6));
	int64		unix_time;
	int64		matched;

	acctsec_check_secret(VARSIZE_ANY_EXHDR(secret));
	acctsec_check_digits(digits, 6, 8);
	acctsec_check_period(period);
	check_window(window);
	unix_time = acctsec_unix_seconds(at);

	PG_RETURN_BOOL(acctsec_totp_match((uint8 *) VARDATA_ANY(secret),
									  VARSIZE_ANY_EXHDR(secret),
									  VARDATA_ANY(code),
									  VARSIZE_ANY_EXHDR(code),
									  unix_time, window, digits, period, alg,
									  PG_INT64_MIN, &matched));
}

Datum
acctsec_base32_encode(PG_FUNCTION_ARGS)
{
	bytea	   *data = PG_GETARG_BYTEA_PP(0);
	size_t		len = VARSIZE_ANY_EXHDR(data);
	size_t		out_len = base32_encoded_length(len);
	text	   *result;

	if (out_len > MaxAllocSize - VARHDRSZ - 1)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("input is too long to encode as base32")));

	result = (text *) palloc(VARHDRSZ + out_len + 1);
	base32_encode((uint8 *) VARDATA_ANY(data), len, VARDATA(result));
	SET_VARSIZE(result, VARHDRSZ + out_len);
	PG_RETURN_TEXT_P(result);
}

Datum
acctsec_base32_decode(PG_FUNCTION_ARGS)
{
	text	   *data = PG_GETARG_TEXT_PP(0);
	size_t		len = VARSIZE_ANY_EXHDR(data);
	bytea	   *result;
	AcctsecSecret *decoded;
	size_t		out_len = 0;
	size_t		bad_pos = 0;

	/*
	 * The input is usually a TOTP secret: decode into a buffer that is wiped
	 * when freed or when an error resets its memory context, so that a partly
	 * decoded secret is never left in freed memory.
	 */
	decoded = acctsec_secret_alloc(base32_max_decoded_length(len));
	switch (base32_decode(VARDATA_ANY(data), len, decoded->data,
						  &out_len, &bad_pos))
	{
		case BASE32_OK:
			break;
		case BASE32_BAD_CHARACTER:
			/* name the position, never the text: it may be a secret */
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid base32 character at position %zu",
							bad_pos + 1),
					 errhint("Base32 uses the letters A to Z and the digits 2 to 7.")));
			break;
		case BASE32_BAD_LENGTH:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid base32 length"),
					 errdetail("The last group of symbols does not encode a whole byte.")));
			break;
	}
	result = (bytea *) palloc(VARHDRSZ + out_len);
	SET_VARSIZE(result, VARHDRSZ + out_len);
	memcpy(VARDATA(result), decoded->data, out_len);
	acctsec_secret_free(decoded);
	PG_RETURN_BYTEA_P(result);
}

/*
 * The Key URI Format that authenticator apps read,
 * otpauth://totp/Issuer:label?secret=...&issuer=Issuer&algorithm=...
 * with issuer and label percent-encoded; issuer may be NULL or empty (no
 * issuer).  Returns the URI as a NUL-terminated string in an AcctsecSecret,
 * since it holds the secret in base32: the caller frees it with
 * acctsec_secret_free() once it has copied it out, and an error on the way
 * wipes it with its memory context.  The buffer is sized exactly up front
 * (no StringInfo, whose growth would free copies of the secret unwiped).
 */
AcctsecSecret *
acctsec_totp_uri_build(const uint8 *secret, size_t secret_len,
					   const char *label, size_t label_len,
					   const char *issuer, size_t issuer_len,
					   int digits, int period, OtpAlgorithm alg)
{
	AcctsecSecret *secret_b32;
	AcctsecSecret *uri;
	char	   *label_enc;
	char	   *issuer_enc = NULL;
	int			len;

#define TOTP_URI_FORMAT "otpauth://totp/%s%s%s?secret=%s%s%s&algorithm=%s&digits=%d&period=%d"
#define TOTP_URI_ARGS(b32) \
	issuer_enc ? issuer_enc : "", issuer_enc ? ":" : "", label_enc, (b32), \
	issuer_enc ? "&issuer=" : "", issuer_enc ? issuer_enc : "", \
	otp_algorithm_name(alg), digits, period

	acctsec_check_secret(secret_len);
	acctsec_check_digits(digits, 6, 8);
	acctsec_check_period(period);

	if (label_len == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("TOTP label must not be empty")));
	if (issuer == NULL)
		issuer_len = 0;
	if (label_len > ACCTSEC_MAX_LABEL_BYTES || issuer_len > ACCTSEC_MAX_LABEL_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("TOTP label and issuer must be at most %d bytes each",
						ACCTSEC_MAX_LABEL_BYTES)));

	label_enc = palloc(3 * label_len + 1);
	otp_percent_encode(label, label_len, label_enc);
	if (issuer_len > 0)
	{
		issuer_enc = palloc(3 * issuer_len + 1);
		otp_percent_encode(issuer, issuer_len, issuer_enc);
	}

	secret_b32 = acctsec_secret_alloc(base32_encoded_length(secret_len) + 1);
	base32_encode(secret, secret_len, (char *) secret_b32->data);

	/* the length first, then the URI into a buffer of exactly that size */
	len = snprintf(NULL, 0, TOTP_URI_FORMAT, TOTP_URI_ARGS((char *) secret_b32->data));
	if (len < 0)
		elog(ERROR, "could not format the TOTP URI");
	uri = acctsec_secret_alloc((size_t) len + 1);
	snprintf((char *) uri->data, uri->len, TOTP_URI_FORMAT,
			 TOTP_URI_ARGS((char *) secret_b32->data));
	acctsec_secret_free(secret_b32);
	return uri;
#undef TOTP_URI_FORMAT
#undef TOTP_URI_ARGS
}

/*
 * totp_uri(secret bytea, label text, issuer text, digits int, period int,
 *			algorithm text).
 * Not strict (issuer may be NULL); a NULL secret or label gives NULL.
 */
Datum
acctsec_totp_uri(PG_FUNCTION_ARGS)
{
	bytea	   *secret;
	text	   *label;
	text	   *issuer = NULL;
	OtpAlgorithm alg;
	AcctsecSecret *uri;
	text	   *result;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(3) ||
		PG_ARGISNULL(4) || PG_ARGISNULL(5))
		PG_RETURN_NULL();

	secret = PG_GETARG_BYTEA_PP(0);
	label = PG_GETARG_TEXT_PP(1);
	if (!PG_ARGISNULL(2))
		issuer = PG_GETARG_TEXT_PP(2);
	alg = acctsec_algorithm_arg(PG_GETARG_TEXT_PP(5));

	uri = acctsec_totp_uri_build((uint8 *) VARDATA_ANY(secret),
								 VARSIZE_ANY_EXHDR(secret),
								 VARDATA_ANY(label), VARSIZE_ANY_EXHDR(label),
								 issuer ? VARDATA_ANY(issuer) : NULL,
								 issuer ? VARSIZE_ANY_EXHDR(issuer) : 0,
								 PG_GETARG_INT32(3), PG_GETARG_INT32(4), alg);
	result = cstring_to_text((char *) uri->data);
	acctsec_secret_free(uri);
	PG_RETURN_TEXT_P(result);
}
