/*
 * import.c
 *		Moving an application's existing second factors into acctsec
 *		(docs/linked_tables.md): totp_import and backup_codes_import.
 *
 * Both store exactly what the TOTP and backup-code capabilities store for
 * credentials made in acctsec, through the same key module: a TOTP secret
 * sealed with the account as associated data into acctsec.totp_credentials,
 * backup codes as keyed hashes into acctsec.backup_codes.  Each takes the
 * account's row lock first, like every other change to the account.
 * Nothing imported (secret, code) reaches an error or a security event.
 */
#include "postgres.h"

#include <sodium.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "account.h"
#include "backup_codes.h"
#include "compat.h"
#include "events.h"
#include "keys.h"
#include "otp.h"
#include "otp_sql.h"
#include "spi_util.h"

PG_FUNCTION_INFO_V1(acctsec_totp_import);
PG_FUNCTION_INFO_V1(acctsec_backup_codes_import);

/* 80 bits: the shortest secrets authenticator apps have handed out */
#define ACCTSEC_MIN_IMPORTED_SECRET		10
/* as many as backup_codes_generate makes at most */
#define ACCTSEC_MAX_IMPORTED_CODES		100

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
	text	   *secret_b32;
	int32		digits;
	int32		period;
	OtpAlgorithm alg;
	AcctsecSecret *secret;
	size_t		secret_len;
	size_t		bad_pos;
	Base32Status st;
	bytea	   *sealed;
	Oid			argtypes[5] = {TEXTOID, BYTEAOID, TEXTOID, INT4OID, INT4OID};
	Datum		args[5];
	int			rc;

	for (int i = 1; i <= 4; i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s must not be null",
							i == 1 ? "secret" : i == 2 ? "digits" : i == 3 ? "period" : "algorithm")));
	secret_b32 = PG_GETARG_TEXT_PP(1);
	digits = PG_GETARG_INT32(2);
	period = PG_GETARG_INT32(3);
	alg = acctsec_algorithm_arg(PG_GETARG_TEXT_PP(4));
	acctsec_check_digits(digits, 6, 8);
	acctsec_check_period(period);

	if (VARSIZE_ANY_EXHDR(secret_b32) > 4 * ACCTSEC_MAX_SECRET_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("TOTP secret is too long")));
	secret = acctsec_secret_alloc(base32_max_decoded_length(VARSIZE_ANY_EXHDR(secret_b32)) + 1);
	st = base32_decode(VARDATA_ANY(secret_b32), VARSIZE_ANY_EXHDR(secret_b32),
					   secret->data, &secret_len, &bad_pos);
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
	if (secret_len < ACCTSEC_MIN_IMPORTED_SECRET)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("TOTP secret is too short"),
				 errdetail("It has %zu bytes; at least %d are required.",
						   secret_len, ACCTSEC_MIN_IMPORTED_SECRET)));
	acctsec_check_secret(secret_len);

	sealed = acctsec_seal(ACCTSEC_KEY_TOTP_SECRET, secret->data, secret_len,
						  VARDATA_ANY(account), VARSIZE_ANY_EXHDR(account));
	acctsec_secret_free(secret);

	acctsec_account_lock(account, NULL);
	acctsec_spi_connect();
	args[0] = PointerGetDatum(account);
	args[1] = PointerGetDatum(sealed);
	args[2] = CStringGetTextDatum(otp_algorithm_name(alg));
	args[3] = Int32GetDatum(digits);
	args[4] = Int32GetDatum(period);
	/* a pending enrolment is replaced; an active credential stays */
	rc = SPI_execute_with_args("INSERT INTO acctsec.totp_credentials AS c"
							   " (account, secret, algorithm, digits, period, confirmed_at)"
							   " VALUES ($1, $2, $3, $4, $5, pg_catalog.now())"
							   " ON CONFLICT (account) DO UPDATE"
							   " SET secret = excluded.secret, algorithm = excluded.algorithm,"
							   " digits = excluded.digits, period = excluded.period,"
							   " created_at = pg_catalog.now(), confirmed_at = pg_catalog.now(),"
							   " last_step = NULL, last_used_at = NULL"
							   " WHERE c.confirmed_at IS NULL",
							   5, argtypes, args, NULL, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "could not store the TOTP credential: %s", SPI_result_code_string(rc));
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("account already has an active TOTP credential"),
				 errhint("Disable it with acctsec.totp_disable() before importing another.")));
	SPI_finish();
	acctsec_account_set_totp_enabled(account, true);
	acctsec_security_event("totp.imported", text_to_cstring(account),
						   "algorithm", otp_algorithm_name(alg), NULL);
	PG_RETURN_VOID();
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
	const char *acct = VARDATA_ANY(account);
	size_t		acct_len = VARSIZE_ANY_EXHDR(account);
	ArrayType  *codes;
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	Oid			argtypes[3] = {TEXTOID, INT4OID, BYTEAOID};
	int			rc;
	bytea	  **stored;
	int			nstored = 0;
	AcctsecSecret *typed;

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

	stored = palloc(n * sizeof(bytea *));
	/* the code being hashed: wiped when freed, or on an error by its context */
	typed = acctsec_secret_alloc(ACCTSEC_BACKUP_CODE_MAX_INPUT);
	acctsec_account_lock(account, NULL);
	acctsec_spi_connect();
	for (int i = 0; i < n; i++)
	{
		char	   *symbols = (char *) typed->data;
		int			nsymbols = 0;
		text	   *code;
		bytea	   *hash;
		bool		duplicate = false;
		Datum		args[3];

		if (!nulls[i])
		{
			code = DatumGetTextPP(elems[i]);
			nsymbols = acctsec_backup_code_normalize(VARDATA_ANY(code),
													 VARSIZE_ANY_EXHDR(code),
													 symbols);
		}
		if (nsymbols == 0)
		{
			sodium_memzero(symbols, ACCTSEC_BACKUP_CODE_MAX_INPUT);
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("backup code %d of %d is not a code", i + 1, n),
					 errdetail("A code has %d to %d letters and digits; spaces and dashes are ignored.",
							   ACCTSEC_BACKUP_CODE_MIN_SYMBOLS,
							   ACCTSEC_BACKUP_CODE_MAX_INPUT)));
		}
		hash = acctsec_keyed_hash(ACCTSEC_KEY_BACKUP_CODE, acct, acct_len,
								  (uint8 *) symbols, nsymbols);
		sodium_memzero(symbols, ACCTSEC_BACKUP_CODE_MAX_INPUT);

		/*
		 * Codes that normalise alike ('abcdef12', 'ABCD-EF12') are one code:
		 * stored twice, it would work twice.  The keyed hash is the same for
		 * the same normalised code, so compare hashes.
		 */
		for (int j = 0; j < nstored && !duplicate; j++)
			duplicate = VARSIZE_ANY_EXHDR(stored[j]) == VARSIZE_ANY_EXHDR(hash) &&
				sodium_memcmp(VARDATA_ANY(stored[j]), VARDATA_ANY(hash),
							  VARSIZE_ANY_EXHDR(hash)) == 0;
		if (duplicate)
			continue;
		stored[nstored++] = hash;
		args[0] = PointerGetDatum(account);
		args[1] = Int32GetDatum(nstored);
		args[2] = PointerGetDatum(hash);
		rc = SPI_execute_with_args("INSERT INTO acctsec.backup_codes AS b"
								   " (account, code_no, code_hash) VALUES ($1, $2, $3)"
								   " ON CONFLICT (account, code_no) DO UPDATE"
								   " SET code_hash = excluded.code_hash,"
								   " created_at = pg_catalog.now(), used_at = NULL",
								   3, argtypes, args, NULL, false, 0);
		if (rc != SPI_OK_INSERT)
			elog(ERROR, "could not store a backup code: %s", SPI_result_code_string(rc));
	}
	acctsec_secret_free(typed);
	{
		Datum		args[2] = {PointerGetDatum(account), Int32GetDatum(nstored)};

		rc = SPI_execute_with_args("DELETE FROM acctsec.backup_codes"
								   " WHERE account OPERATOR(pg_catalog.=) $1"
								   " AND code_no OPERATOR(pg_catalog.>) $2",
								   2, argtypes, args, NULL, false, 0);
		if (rc != SPI_OK_DELETE)
			elog(ERROR, "could not remove the previous backup codes: %s",
				 SPI_result_code_string(rc));
	}
	SPI_finish();
	{
		char		count_s[16];

		snprintf(count_s, sizeof(count_s), "%d", nstored);
		acctsec_security_event("backup_codes.imported", text_to_cstring(account),
							   "count", count_s, NULL);
	}
	PG_RETURN_INT32(nstored);
}
