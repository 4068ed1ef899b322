/*
 * import.c
 *		Moving an application's existing second factors into acctsec
 *		(docs/linked_tables.md): totp_import and backup_codes_import.
 *
 * Both store exactly what the TOTP and backup-code capabilities store for
 * credentials made in acctsec, and through them: each capability owns its
 * table, so the secret, sealed with the account as associated data, goes to
 * acctsec_totp_store_credential (totp.c) and the codes' keyed hashes to
 * acctsec_backup_codes_store (backup_codes.c).  Each takes the account's
 * row lock first, like every other change to the account.
 * Nothing imported (secret, code) reaches an error or a security event.
 */
#include "postgres.h"

#include <sodium.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "account.h"
#include "backup_codes.h"
#include "compat.h"
#include "events.h"
#include "keys.h"
#include "otp.h"
#include "otp_sql.h"
#include "spi_util.h"
#include "totp.h"

PG_FUNCTION_INFO_V1(acctsec_totp_import);
PG_FUNCTION_INFO_V1(acctsec_backup_codes_import);

/* 80 bits: the shortest secrets authenticator apps have handed out */
#define ACCTSEC_MIN_IMPORTED_SECRET		10
/* as many as backup_codes_generate makes at most */
#define ACCTSEC_MAX_IMPORTED_CODES		100

/*
 * The secret an application hands over, decoded from base32 (spaces and
 * padding allowed) into an AcctsecSecret the caller frees, and checked.
 */
static AcctsecSecret *
imported_secret(text *secret_b32, size_t *secret_len)
{
	AcctsecSecret *secret;
	size_t		bad_pos;
	Base32Status st;

	if (VARSIZE_ANY_EXHDR(secret_b32) > 4 * ACCTSEC_MAX_SECRET_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("TOTP secret is too long")));
	secret = acctsec_secret_alloc(base32_max_decoded_length(VARSIZE_ANY_EXHDR(secret_b32)) + 1);
	st = base32_decode(VARDATA_ANY(secret_b32), VARSIZE_ANY_EXHDR(secret_b32),
					   secret->data, secret_len, &bad_pos);
	if (st == BASE32_BAD_CHARACTER)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("TOTP secret is not base32"),
				 errdetail("The character at position %zu is not in the base32 alphabet.",
						   bad_pos + 1)));
	if (st != BASE32_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("TOTP secret is not base32"),
				 errdetail("Its length leaves a partial byte at the end.")));
	if (*secret_len < ACCTSEC_MIN_IMPORTED_SECRET)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("TOTP secret is too short"),
				 errdetail("It has %zu bytes; at least %d are required.",
						   *secret_len, ACCTSEC_MIN_IMPORTED_SECRET)));
	acctsec_check_secret(*secret_len);
	return secret;
}

/*
 * totp_import(account text, secret text, digits int, period int,
 *			   algorithm text) RETURNS void
 *
 * A base32 secret (spaces and padding allowed), active at once.  An account
 * with an active credential is an error: disable it first.
 */
Datum
acctsec_totp_import(PG_FUNCTION_ARGS)
{
	text	   *account = acctsec_account_arg(fcinfo, 0);
	int32		digits;
	int32		period;
	OtpAlgorithm alg;
	AcctsecSecret *secret;
	size_t		secret_len;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("secret must not be null")));
	digits = acctsec_otp_int_arg(fcinfo, 2, "digits");
	period = acctsec_otp_int_arg(fcinfo, 3, "period");
	alg = acctsec_otp_algorithm_arg(fcinfo, 4);
	acctsec_check_digits(digits, 6, 8);
	acctsec_check_period(period);

	secret = imported_secret(PG_GETARG_TEXT_PP(1), &secret_len);
	acctsec_spi_connect();
	acctsec_account_lock(account, NULL);
	acctsec_totp_store_credential(account, secret->data, secret_len, alg,
								  digits, period, true);
	acctsec_secret_free(secret);
	acctsec_account_set_totp_enabled(account, true);
	acctsec_security_event("totp.imported", text_to_cstring(account),
						   "algorithm", otp_algorithm_name(alg), NULL);
	acctsec_spi_finish();
	PG_RETURN_VOID();
}

/*
 * The keyed hashes of codes[0 .. n-1] (NULL elements: not a code), codes
 * that normalise alike stored once; returns how many there are.
 */
static int
imported_code_hashes(text *account, Datum *codes, bool *nulls, int n,
					 bytea **hashes)
{
	int			nhashes = 0;

	/* the code being hashed: wiped when freed, or on an error by its context */
	AcctsecSecret *typed = acctsec_secret_alloc(OTP_BACKUP_CODE_MAX_INPUT);
	char	   *symbols = (char *) typed->data;

	for (int i = 0; i < n; i++)
	{
		int			nsymbols = 0;
		bytea	   *hash;
		bool		duplicate = false;

		if (!nulls[i])
			nsymbols = otp_normalize_backup_code(VARDATA_ANY(DatumGetTextPP(codes[i])),
												 VARSIZE_ANY_EXHDR(DatumGetTextPP(codes[i])),
												 symbols);
		if (nsymbols == 0)
		{
			sodium_memzero(symbols, OTP_BACKUP_CODE_MAX_INPUT);
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("backup code %d of %d is not a code", i + 1, n),
					 errdetail("A code has %d to %d letters and digits; spaces and dashes are ignored.",
							   OTP_BACKUP_CODE_MIN_SYMBOLS,
							   OTP_BACKUP_CODE_MAX_INPUT)));
		}
		hash = acctsec_keyed_hash(ACCTSEC_KEY_BACKUP_CODE, VARDATA_ANY(account),
								  VARSIZE_ANY_EXHDR(account),
								  (uint8 *) symbols, nsymbols);
		sodium_memzero(symbols, OTP_BACKUP_CODE_MAX_INPUT);

		/*
		 * Codes that normalise alike ('abcdef12', 'ABCD-EF12') are one code:
		 * stored twice, it would work twice.  The keyed hash is the same for
		 * the same normalised code, so compare hashes.
		 */
		for (int j = 0; j < nhashes && !duplicate; j++)
			duplicate = VARSIZE_ANY_EXHDR(hashes[j]) == VARSIZE_ANY_EXHDR(hash) &&
				sodium_memcmp(VARDATA_ANY(hashes[j]), VARDATA_ANY(hash),
							  VARSIZE_ANY_EXHDR(hash)) == 0;
		if (!duplicate)
			hashes[nhashes++] = hash;
	}
	acctsec_secret_free(typed);
	return nhashes;
}

/*
 * backup_codes_import(account text, codes text[]) RETURNS int
 *
 * The application's unused codes become the account's set (the previous set
 * stops working, as with backup_codes_generate), stored as keyed hashes of
 * their normalised form: letters and digits, case, spaces and dashes not
 * mattering, 6 to 64 symbols.  Codes that normalise alike are stored once.
 * Returns how many were stored.
 */
Datum
acctsec_backup_codes_import(PG_FUNCTION_ARGS)
{
	text	   *account = acctsec_account_arg(fcinfo, 0);
	ArrayType  *codes;
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	bytea	  **hashes;
	int			nhashes;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("codes must not be null")));
	codes = PG_GETARG_ARRAYTYPE_P(1);
	if (ARR_NDIM(codes) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("codes must be a one-dimensional array")));
	deconstruct_array(codes, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	if (n < 1 || n > ACCTSEC_MAX_IMPORTED_CODES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("between 1 and %d codes can be imported, not %d",
						ACCTSEC_MAX_IMPORTED_CODES, n)));

	acctsec_spi_connect();
	acctsec_account_lock(account, NULL);
	hashes = palloc(n * sizeof(bytea *));
	nhashes = imported_code_hashes(account, elems, nulls, n, hashes);
	acctsec_backup_codes_store(account, hashes, nhashes);
	acctsec_security_event("backup_codes.imported", text_to_cstring(account),
						   "count", acctsec_event_int(nhashes), NULL);
	acctsec_spi_finish();
	PG_RETURN_INT32(nhashes);
}
