/*
 * backup_codes.c
 *		Single-use backup codes (docs/backup_codes.md).
 *
 * A code is 12 symbols from a 31-symbol alphabet with no look-alikes (no 0,
 * 1, i, l, o), drawn with libsodium's randombytes_uniform: 12 * log2(31),
 * about 59 bits, shown as two groups of six, "k7m2qp-x9dh4w".  Only keyed
 * hashes are stored (keys.c, purpose ACCTSEC_KEY_BACKUP_CODE, the account
 * bound in), one row per code in acctsec.backup_codes.
 *
 * Single use under concurrency: verification takes the account's row lock
 * (account.c) and then locks its unused codes (FOR UPDATE); a second session
 * presenting the same code waits, and then no longer sees that code as
 * unused.  A wrong code counts toward lockout (when the account has unused
 * codes at all), a right one completes a pending second-factor login, and
 * while the account is locked the code is not looked at.  Security events:
 * backup_codes.generated, backup_codes.used, backup_codes.failed.
 */
#include "postgres.h"

#include <sodium.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "account.h"
#include "backup_codes.h"
#include "compat.h"
#include "events.h"
#include "keys.h"
#include "otp.h"
#include "otp_sql.h"
#include "spi_util.h"

PG_FUNCTION_INFO_V1(acctsec_backup_codes_generate);
PG_FUNCTION_INFO_V1(acctsec_backup_code_verify);
PG_FUNCTION_INFO_V1(acctsec_backup_codes_remaining);

static const char code_alphabet[] = "23456789abcdefghjkmnpqrstuvwxyz";
#define ALPHABET_SIZE		((uint32) (sizeof(code_alphabet) - 1))	/* 31 */
#define CODE_GROUP			6
#define CODE_SYMBOLS		(2 * CODE_GROUP)
#define CODE_TEXT_LEN		(CODE_SYMBOLS + 1)	/* with the dash */
#define MAX_CODES			100

/* The statements on acctsec.backup_codes, which only this file writes. */
enum
{
	PLAN_UPSERT,
	PLAN_TRIM,
	PLAN_UNUSED,
	PLAN_USE,
	PLAN_REMAINING
};

static AcctsecPlan plans[] = {
	[PLAN_UPSERT] = {"INSERT INTO acctsec.backup_codes AS b"
		" (account, code_no, code_hash)"
		" VALUES ($1, $2, $3)"
		" ON CONFLICT (account, code_no) DO UPDATE"
		" SET code_hash = excluded.code_hash,"
		" created_at = pg_catalog.now(),"
		" used_at = NULL",
	ACCTSEC_PLAN_ARGS(TEXTOID, INT4OID, BYTEAOID), SPI_OK_INSERT, NULL},
	[PLAN_TRIM] = {"DELETE FROM acctsec.backup_codes"
		" WHERE account OPERATOR(pg_catalog.=) $1"
		" AND code_no OPERATOR(pg_catalog.>) $2",
	ACCTSEC_PLAN_ARGS(TEXTOID, INT4OID), SPI_OK_DELETE, NULL},
	[PLAN_UNUSED] = {"SELECT code_no, code_hash"
		" FROM acctsec.backup_codes"
		" WHERE account OPERATOR(pg_catalog.=) $1"
		" AND used_at IS NULL"
		" ORDER BY code_no FOR UPDATE",
	ACCTSEC_PLAN_ARGS(TEXTOID), SPI_OK_SELECT, NULL},
	[PLAN_USE] = {"UPDATE acctsec.backup_codes"
		" SET used_at = pg_catalog.now()"
		" WHERE account OPERATOR(pg_catalog.=) $1"
		" AND code_no OPERATOR(pg_catalog.=) $2",
	ACCTSEC_PLAN_ARGS(TEXTOID, INT4OID), SPI_OK_UPDATE, NULL},
	[PLAN_REMAINING] = {"SELECT pg_catalog.count(*)::int4"
		" FROM acctsec.backup_codes"
		" WHERE account OPERATOR(pg_catalog.=) $1"
		" AND used_at IS NULL",
	ACCTSEC_PLAN_ARGS(TEXTOID), SPI_OK_SELECT, NULL},
};

/*
 * Make the account's set of backup codes hashes[0 .. n-1], numbered from 1:
 * upserted row by row, then the rows beyond n go, so the previous set stops
 * working.  The caller holds the account's row lock and is connected.
 */
void
acctsec_backup_codes_store(text *account, bytea *const *hashes, int n)
{
	Datum		args[3];

	args[0] = PointerGetDatum(account);
	for (int i = 0; i < n; i++)
	{
		args[1] = Int32GetDatum(i + 1);
		args[2] = PointerGetDatum(hashes[i]);
		acctsec_plan_run(&plans[PLAN_UPSERT], args, NULL, false, 0);
	}
	args[1] = Int32GetDatum(n);
	acctsec_plan_run(&plans[PLAN_TRIM], args, NULL, false, 0);
}

/*
 * Draw how_many new codes, each put in the result as shown and its keyed
 * hash into hashes[].
 */
static void
draw_codes(ReturnSetInfo *rsinfo, text *account, int how_many, bytea **hashes)
{
	AcctsecSecret *buf;
	char	   *symbols;
	text	   *shown;

	/*
	 * One code at a time, in a buffer wiped when freed and, on an error
	 * anywhere below, when its memory context is reset: the symbols, and the
	 * code as shown (a text datum, so no other copy is made before the
	 * tuplestore's, which is the result).
	 */
	buf = acctsec_secret_alloc(MAXALIGN(CODE_SYMBOLS) + VARHDRSZ + CODE_TEXT_LEN);
	symbols = (char *) buf->data;
	shown = (text *) (buf->data + MAXALIGN(CODE_SYMBOLS));
	for (int i = 0; i < how_many; i++)
	{
		Datum		value;
		bool		isnull = false;

		for (int j = 0; j < CODE_SYMBOLS; j++)
			symbols[j] = code_alphabet[randombytes_uniform(ALPHABET_SIZE)];

		hashes[i] = acctsec_keyed_hash(ACCTSEC_KEY_BACKUP_CODE,
									   VARDATA_ANY(account),
									   VARSIZE_ANY_EXHDR(account),
									   (uint8 *) symbols, CODE_SYMBOLS);
		SET_VARSIZE(shown, VARHDRSZ + CODE_TEXT_LEN);
		memcpy(VARDATA(shown), symbols, CODE_GROUP);
		VARDATA(shown)[CODE_GROUP] = '-';
		memcpy(VARDATA(shown) + CODE_GROUP + 1, symbols + CODE_GROUP, CODE_GROUP);
		sodium_memzero(symbols, CODE_SYMBOLS);

		value = PointerGetDatum(shown);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &value, &isnull);
		sodium_memzero(VARDATA(shown), CODE_TEXT_LEN);
	}
	acctsec_secret_free(buf);
}

/*
 * backup_codes_generate(account text, how_many int) RETURNS SETOF text
 *
 * The new set replaces the old one row by row (upsert, then the rows beyond
 * the new count go), under the account's row lock.
 */
Datum
acctsec_backup_codes_generate(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	text	   *account = PG_GETARG_TEXT_PP(0);
	int32		how_many = PG_GETARG_INT32(1);
	bytea	  **hashes;

	if (how_many < 1 || how_many > MAX_CODES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("how_many must be between 1 and %d, not %d",
						MAX_CODES, how_many)));

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	acctsec_spi_connect();
	acctsec_account_lock(account, NULL);
	hashes = palloc(how_many * sizeof(bytea *));
	draw_codes(rsinfo, account, how_many, hashes);
	acctsec_backup_codes_store(account, hashes, how_many);
	acctsec_security_event("backup_codes.generated", text_to_cstring(account),
						   "count", acctsec_event_int(how_many), NULL);
	acctsec_spi_finish();
	return (Datum) 0;
}

/*
 * Compare code with every unused code of the account (keyed hash, constant
 * time), with no early exit, and mark a match used.  Returns the matched
 * code's number, or 0; *unused: how many unused codes there were.  The
 * caller holds the account's row lock, in its SPI connection.
 */
static int32
use_code(text *account, text *code, uint64 *unused)
{
	AcctsecSecret *typed;
	char	   *symbols;
	int			nsymbols;
	int32		matched = 0;
	Datum		args[2];

	/* wiped when freed, or by its memory context's reset on an error */
	typed = acctsec_secret_alloc(OTP_BACKUP_CODE_MAX_INPUT);
	symbols = (char *) typed->data;
	nsymbols = otp_normalize_backup_code(VARDATA_ANY(code),
										 VARSIZE_ANY_EXHDR(code), symbols);

	args[0] = PointerGetDatum(account);
	*unused = acctsec_plan_run(&plans[PLAN_UNUSED], args, NULL, false, 0);
	if (nsymbols > 0)
	{
		SPITupleTable *rows = SPI_tuptable;

		for (uint64 i = 0; i < *unused; i++)
		{
			bool		isnull;
			int32		code_no = DatumGetInt32(SPI_getbinval(rows->vals[i],
															  rows->tupdesc, 1,
															  &isnull));
			bytea	   *hash = DatumGetByteaPP(SPI_getbinval(rows->vals[i],
															 rows->tupdesc, 2,
															 &isnull));

			if (acctsec_keyed_hash_verify(ACCTSEC_KEY_BACKUP_CODE, hash,
										  VARDATA_ANY(account),
										  VARSIZE_ANY_EXHDR(account),
										  (uint8 *) symbols, nsymbols))
				matched = code_no;
		}
	}
	acctsec_secret_free(typed);

	if (matched > 0)
	{
		args[1] = Int32GetDatum(matched);
		if (acctsec_plan_run(&plans[PLAN_USE], args, NULL, false, 0) != 1)
			elog(ERROR, "could not mark a backup code used");
	}
	return matched;
}

/*
 * backup_code_verify(account text, code text) RETURNS boolean
 *
 * Every unused code of the account is compared, and a match is marked used.
 */
Datum
acctsec_backup_code_verify(PG_FUNCTION_ARGS)
{
	text	   *account = PG_GETARG_TEXT_PP(0);
	text	   *code = PG_GETARG_TEXT_PP(1);
	uint64		unused = 0;
	int32		matched = 0;

	acctsec_spi_connect();
	if (acctsec_second_factor_lock(account))
		matched = use_code(account, code, &unused);
	/* an account without unused codes has nothing to guess: not counted */
	acctsec_second_factor_answered(account, matched > 0, unused > 0,
								   "backup_codes.failed");
	if (matched > 0)
		acctsec_security_event("backup_codes.used", text_to_cstring(account),
							   "remaining", acctsec_event_int((int) unused - 1),
							   NULL);
	acctsec_spi_finish();
	PG_RETURN_BOOL(matched > 0);
}

/* backup_codes_remaining(account text) RETURNS int */
Datum
acctsec_backup_codes_remaining(PG_FUNCTION_ARGS)
{
	text	   *account = PG_GETARG_TEXT_PP(0);
	Datum		args[1] = {PointerGetDatum(account)};
	bool		isnull;
	int32		n;

	acctsec_check_account(account);
	acctsec_spi_connect();
	if (acctsec_plan_run(&plans[PLAN_REMAINING], args, NULL, true, 1) != 1)
		elog(ERROR, "could not count the backup codes");
	n = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0],
									SPI_tuptable->tupdesc, 1, &isnull));
	acctsec_spi_finish();
	PG_RETURN_INT32(n);
}
