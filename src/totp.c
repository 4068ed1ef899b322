/*
 * totp.c
 *		Stateful TOTP credentials (docs/totp.md): enrol, confirm, verify
 *		with replay refusal, disable.
 *
 * One credential per account in acctsec.totp_credentials.  The secret is
 * stored only sealed by the key module (keys.c), with the account as
 * associated data.  Every function first takes the account's row lock
 * (account.c), then the credential row's, so that the replay guard (a
 * code's time step must be after the last accepted one) holds under
 * concurrency: of two sessions presenting the same code, the second waits
 * for the first and then sees its accepted step.
 *
 * With accounts and lockout: a wrong code at totp_verify counts toward
 * lockout and a right one completes a login left at second_factor_required;
 * while the account is locked the code is not looked at.  Confirmation sets
 * accounts.totp_enabled (what login_attempt reads), disabling clears it; a
 * wrong code at confirmation is not counted: the user is setting up.
 * Security events: totp.enrolled, totp.confirmed, totp.failed (a counted
 * wrong code), totp.disabled; never a secret or a code in them.
 */
#include "postgres.h"

#include <sodium.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "account.h"
#include "compat.h"
#include "events.h"
#include "keys.h"
#include "otp.h"
#include "otp_sql.h"
#include "spi_util.h"
#include "totp.h"

PG_FUNCTION_INFO_V1(acctsec_totp_enroll);
PG_FUNCTION_INFO_V1(acctsec_totp_confirm);
PG_FUNCTION_INFO_V1(acctsec_totp_verify);
PG_FUNCTION_INFO_V1(acctsec_totp_disable);
PG_FUNCTION_INFO_V1(acctsec_rotate_secrets);

/* Settings */
static int	totp_window = 1;
static char *totp_issuer = NULL;

void
acctsec_define_totp_gucs(void)
{
	DefineCustomIntVariable("acctsec.totp_window",
							"Time steps either side of now in which a TOTP code is accepted.",
							NULL,
							&totp_window,
							1, 0, 10,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);
	DefineCustomStringVariable("acctsec.totp_issuer",
							   "Issuer named in enrolment URIs when totp_enroll is given none.",
							   "Empty: no issuer.",
							   &totp_issuer,
							   "",
							   PGC_SUSET,
							   0,
							   NULL, NULL, NULL);
}

/* A credential as read for confirmation or verification. */
typedef struct TotpCredential
{
	bytea	   *sealed;
	OtpAlgorithm alg;
	int			digits;
	int			period;
	int64		last_step;		/* PG_INT64_MIN when no code was accepted */
} TotpCredential;

/* The statements on acctsec.totp_credentials, which only this file writes. */
enum
{
	PLAN_STORE,
	PLAN_SELECT_PENDING,
	PLAN_SELECT_ACTIVE,
	PLAN_ACCEPT,
	PLAN_DISABLE,
	PLAN_RESEAL_SELECT,
	PLAN_RESEAL_UPDATE
};

#define CREDENTIAL_SELECT \
	"SELECT secret, algorithm, digits, period, last_step" \
	" FROM acctsec.totp_credentials" \
	" WHERE account OPERATOR(pg_catalog.=) $1 AND confirmed_at IS "

static AcctsecPlan plans[] = {
	/*
	 * Insert, or replace a pending enrolment; an active credential stays and
	 * the statement changes nothing.  $6: active at once (an import).
	 */
	[PLAN_STORE] = {"INSERT INTO acctsec.totp_credentials AS c"
		" (account, secret, algorithm, digits, period, confirmed_at)"
		" VALUES ($1, $2, $3, $4, $5,"
		" CASE WHEN $6 THEN pg_catalog.now() END)"
		" ON CONFLICT (account) DO UPDATE"
		" SET secret = excluded.secret,"
		" algorithm = excluded.algorithm,"
		" digits = excluded.digits,"
		" period = excluded.period,"
		" created_at = pg_catalog.now(),"
		" confirmed_at = excluded.confirmed_at, last_step = NULL,"
		" last_used_at = NULL"
		" WHERE c.confirmed_at IS NULL",
		ACCTSEC_PLAN_ARGS(TEXTOID, BYTEAOID, TEXTOID, INT4OID, INT4OID, BOOLOID),
	SPI_OK_INSERT, NULL},
	[PLAN_SELECT_PENDING] = {CREDENTIAL_SELECT "NULL FOR UPDATE",
	ACCTSEC_PLAN_ARGS(TEXTOID), SPI_OK_SELECT, NULL},
	[PLAN_SELECT_ACTIVE] = {CREDENTIAL_SELECT "NOT NULL FOR UPDATE",
	ACCTSEC_PLAN_ARGS(TEXTOID), SPI_OK_SELECT, NULL},
	[PLAN_ACCEPT] = {"UPDATE acctsec.totp_credentials"
		" SET last_step = $2,"
		" last_used_at = pg_catalog.now(),"
		" confirmed_at = CASE WHEN $3"
		" THEN pg_catalog.now() ELSE confirmed_at END"
		" WHERE account OPERATOR(pg_catalog.=) $1",
	ACCTSEC_PLAN_ARGS(TEXTOID, INT8OID, BOOLOID), SPI_OK_UPDATE, NULL},
	[PLAN_DISABLE] = {"DELETE FROM acctsec.totp_credentials"
		" WHERE account OPERATOR(pg_catalog.=) $1",
	ACCTSEC_PLAN_ARGS(TEXTOID), SPI_OK_DELETE, NULL},
	[PLAN_RESEAL_SELECT] = {"SELECT account, secret"
		" FROM acctsec.totp_credentials"
		" ORDER BY account FOR UPDATE",
	0, {0}, SPI_OK_SELECT, NULL},
	[PLAN_RESEAL_UPDATE] = {"UPDATE acctsec.totp_credentials"
		" SET secret = $2"
		" WHERE account OPERATOR(pg_catalog.=) $1",
	ACCTSEC_PLAN_ARGS(TEXTOID, BYTEAOID), SPI_OK_UPDATE, NULL},
};

/*
 * Read the account's credential, pending or active, and lock its row.
 * Returns false if there is none.  Caller is connected to SPI; the result
 * is copied into the caller's memory context (upper executor context).
 */
static bool
lock_credential(text *account, bool active, TotpCredential *cred)
{
	Datum		args[1] = {PointerGetDatum(account)};
	HeapTuple	tup;
	TupleDesc	desc;
	bool		isnull;
	char	   *alg_name;

	if (acctsec_plan_run(&plans[active ? PLAN_SELECT_ACTIVE : PLAN_SELECT_PENDING],
						 args, NULL, false, 1) == 0)
		return false;

	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	cred->sealed = DatumGetByteaPCopy(SPI_getbinval(tup, desc, 1, &isnull));
	alg_name = TextDatumGetCString(SPI_getbinval(tup, desc, 2, &isnull));
	if (!otp_parse_algorithm(alg_name, strlen(alg_name), &cred->alg))
		elog(ERROR, "unexpected algorithm in acctsec.totp_credentials");
	cred->digits = DatumGetInt32(SPI_getbinval(tup, desc, 3, &isnull));
	cred->period = DatumGetInt32(SPI_getbinval(tup, desc, 4, &isnull));
	cred->last_step = DatumGetInt64(SPI_getbinval(tup, desc, 5, &isnull));
	if (isnull)
		cred->last_step = PG_INT64_MIN;
	return true;
}

/*
 * Does code match the credential now, at a step after its last accepted
 * one?  The secret is opened, used and wiped here.
 */
static bool
credential_matches(text *account, TotpCredential *cred, text *code,
				   int64 *matched_step)
{
	AcctsecSecret *secret;
	bool		ok;

	secret = acctsec_open(ACCTSEC_KEY_TOTP_SECRET, cred->sealed,
						  VARDATA_ANY(account), VARSIZE_ANY_EXHDR(account));
	ok = acctsec_totp_match(secret->data, secret->len,
							VARDATA_ANY(code), VARSIZE_ANY_EXHDR(code),
							acctsec_unix_seconds(GetCurrentTimestamp()),
							totp_window, cred->digits, cred->period, cred->alg,
							cred->last_step, matched_step);
	acctsec_secret_free(secret);
	return ok;
}

/* Record an accepted step; confirm activates a pending credential. */
static void
accept_step(text *account, int64 step, bool confirm)
{
	Datum		args[3] = {PointerGetDatum(account), Int64GetDatum(step),
	BoolGetDatum(confirm)};

	if (acctsec_plan_run(&plans[PLAN_ACCEPT], args, NULL, false, 0) != 1)
		elog(ERROR, "could not record the accepted TOTP step");
}

/*
 * Store secret as the account's credential, sealed with the account as
 * associated data: pending confirmation (totp_enroll), or active at once
 * (active, totp_import).  A pending credential is replaced; an active one
 * is an error.  The caller holds the account's row lock and is connected.
 */
void
acctsec_totp_store_credential(text *account, const uint8 *secret,
							  size_t secret_len, OtpAlgorithm alg,
							  int digits, int period, bool active)
{
	Datum		args[6];

	args[0] = PointerGetDatum(account);
	args[1] = PointerGetDatum(acctsec_seal(ACCTSEC_KEY_TOTP_SECRET,
										   secret, secret_len,
										   VARDATA_ANY(account),
										   VARSIZE_ANY_EXHDR(account)));
	args[2] = CStringGetTextDatum(otp_algorithm_name(alg));
	args[3] = Int32GetDatum(digits);
	args[4] = Int32GetDatum(period);
	args[5] = BoolGetDatum(active);
	if (acctsec_plan_run(&plans[PLAN_STORE], args, NULL, false, 0) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("account already has an active TOTP credential"),
				 active ?
				 errhint("Disable it with acctsec.totp_disable() before importing another.") :
				 errhint("Disable it with acctsec.totp_disable() before enrolling again.")));
}

/*
 * A new pending credential for account: a fresh secret of the RFC 6238 size
 * for the algorithm, sealed and stored.  Returns its base32 form and its
 * enrolment URI in AcctsecSecrets (the caller frees them): wiped when freed,
 * and by their memory context's reset on every error path (a bad label, an
 * active credential already there, a key that cannot be used).  SPI
 * connected.
 */
static void
totp_enroll_new(text *account, text *label, const char *issuer,
				size_t issuer_len, int digits, int period, OtpAlgorithm alg,
				AcctsecSecret **secret_b32, AcctsecSecret **uri)
{
	AcctsecSecret *secret;

	secret = acctsec_secret_alloc(otp_secret_length(alg));
	randombytes_buf(secret->data, secret->len);

	/* The URI first: it checks label and issuer before anything is stored. */
	*uri = acctsec_totp_uri_build(secret->data, secret->len,
								  VARDATA_ANY(label), VARSIZE_ANY_EXHDR(label),
								  issuer, issuer_len, digits, period, alg);
	*secret_b32 = acctsec_secret_alloc(base32_encoded_length(secret->len) + 1);
	base32_encode(secret->data, secret->len, (char *) (*secret_b32)->data);

	/*
	 * The account's row lock, taken first, serialises this with every other
	 * change to the account.
	 */
	acctsec_account_lock(account, NULL);
	acctsec_totp_store_credential(account, secret->data, secret->len, alg,
								  digits, period, false);
	acctsec_secret_free(secret);
	acctsec_security_event("totp.enrolled", text_to_cstring(account),
						   "algorithm", otp_algorithm_name(alg),
						   "digits", acctsec_event_int(digits),
						   "period", acctsec_event_int(period),
						   NULL);
}

/*
 * The issuer an enrolment URI names: the argument, else acctsec.totp_issuer.
 * The Key URI Format separates issuer and label with a colon, and
 * authenticator apps split the decoded path at the first one: an issuer
 * with a colon would show up as a different issuer and account.
 */
static const char *
enroll_issuer(text *issuer, size_t *len)
{
	const char *s;

	if (issuer != NULL)
	{
		s = VARDATA_ANY(issuer);
		*len = VARSIZE_ANY_EXHDR(issuer);
	}
	else
	{
		s = totp_issuer ? totp_issuer : "";
		*len = strlen(s);
	}
	if (memchr(s, ':', *len) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("TOTP issuer must not contain a colon"),
				 errdetail("Authenticator apps split \"issuer:account\" at the first colon.")));
	return s;
}

/*
 * totp_enroll(account text, issuer text, label text, digits int,
 *			   period int, algorithm text) RETURNS TABLE(secret text, uri text)
 */
Datum
acctsec_totp_enroll(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	text	   *account = acctsec_account_arg(fcinfo, 0);
	text	   *issuer = PG_ARGISNULL(1) ? NULL : PG_GETARG_TEXT_PP(1);
	text	   *label = PG_ARGISNULL(2) ? account : PG_GETARG_TEXT_PP(2);
	int32		digits = acctsec_otp_int_arg(fcinfo, 3, "digits");
	int32		period = acctsec_otp_int_arg(fcinfo, 4, "period");
	OtpAlgorithm alg = acctsec_otp_algorithm_arg(fcinfo, 5);
	const char *issuer_s;
	size_t		issuer_len;
	AcctsecSecret *secret_b32;
	AcctsecSecret *uri;
	Datum		values[2];
	bool		nulls[2] = {false, false};

	acctsec_check_digits(digits, 6, 8);
	acctsec_check_period(period);
	issuer_s = enroll_issuer(issuer, &issuer_len);

	InitMaterializedSRF(fcinfo, 0);
	acctsec_spi_connect();
	totp_enroll_new(account, label, issuer_s, issuer_len, digits, period, alg,
					&secret_b32, &uri);

	values[0] = CStringGetTextDatum((char *) secret_b32->data);
	values[1] = CStringGetTextDatum((char *) uri->data);
	acctsec_secret_free(secret_b32);
	acctsec_secret_free(uri);
	PG_TRY();
	{
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	PG_FINALLY();
	{
		sodium_memzero(VARDATA(DatumGetPointer(values[0])),
					   VARSIZE(DatumGetPointer(values[0])) - VARHDRSZ);
		sodium_memzero(VARDATA(DatumGetPointer(values[1])),
					   VARSIZE(DatumGetPointer(values[1])) - VARHDRSZ);
	}
	PG_END_TRY();
	acctsec_spi_finish();
	return (Datum) 0;
}

/*
 * Lock the account's credential, pending or active, and check code against
 * it, recording the step on a match (confirm: and activating it).  *found:
 * was there such a credential?  Caller holds the account's row lock, in
 * its SPI connection.
 */
static bool
check_code(text *account, text *code, bool active, bool *found)
{
	TotpCredential cred;
	int64		step;
	bool		ok = false;

	*found = lock_credential(account, active, &cred);
	if (*found && credential_matches(account, &cred, code, &step))
	{
		accept_step(account, step, !active);
		ok = true;
	}
	return ok;
}

/* totp_confirm(account text, code text) RETURNS boolean */
Datum
acctsec_totp_confirm(PG_FUNCTION_ARGS)
{
	text	   *account = PG_GETARG_TEXT_PP(0);
	text	   *code = PG_GETARG_TEXT_PP(1);
	bool		found;
	bool		ok;

	acctsec_spi_connect();
	acctsec_account_lock(account, NULL);
	ok = check_code(account, code, false, &found);
	if (ok)
	{
		acctsec_account_set_totp_enabled(account, true);
		acctsec_security_event("totp.confirmed", text_to_cstring(account), NULL);
	}
	acctsec_spi_finish();
	PG_RETURN_BOOL(ok);
}

/* totp_verify(account text, code text) RETURNS boolean */
Datum
acctsec_totp_verify(PG_FUNCTION_ARGS)
{
	text	   *account = PG_GETARG_TEXT_PP(0);
	text	   *code = PG_GETARG_TEXT_PP(1);
	bool		found = false;
	bool		ok;

	acctsec_spi_connect();
	ok = acctsec_second_factor_lock(account) &&
		check_code(account, code, true, &found);
	/* no active credential: false, and nothing to count */
	acctsec_second_factor_answered(account, ok, found, "totp.failed");
	acctsec_spi_finish();
	PG_RETURN_BOOL(ok);
}

/* totp_disable(account text) RETURNS boolean: was there a credential? */
Datum
acctsec_totp_disable(PG_FUNCTION_ARGS)
{
	text	   *account = PG_GETARG_TEXT_PP(0);
	Datum		args[1] = {PointerGetDatum(account)};
	bool		found;

	acctsec_spi_connect();
	acctsec_account_lock(account, NULL);
	found = acctsec_plan_run(&plans[PLAN_DISABLE], args, NULL, false, 0) > 0;
	if (found)
	{
		acctsec_account_set_totp_enabled(account, false);
		acctsec_security_event("totp.disabled", text_to_cstring(account), NULL);
	}
	acctsec_spi_finish();
	PG_RETURN_BOOL(found);
}

/*
 * Re-seal every TOTP secret not sealed under the current key (for
 * acctsec.rotate_secrets, below).  Returns how many were re-sealed.  Each
 * row's plaintext lives in a per-row memory context, wiped when it is reset.
 * Caller is connected.
 */
static int64
totp_reseal_all(void)
{
	MemoryContext row_context;
	MemoryContext old;
	SPITupleTable *rows;
	uint64		nrows;
	int64		count = 0;

	nrows = acctsec_plan_run(&plans[PLAN_RESEAL_SELECT], NULL, NULL, false, 0);
	rows = SPI_tuptable;

	row_context = AllocSetContextCreate(CurrentMemoryContext,
										"acctsec reseal row",
										ALLOCSET_SMALL_SIZES);
	for (uint64 i = 0; i < nrows; i++)
	{
		bool		isnull;
		text	   *account;
		bytea	   *sealed;
		AcctsecSecret *secret;
		Datum		args[2];

		CHECK_FOR_INTERRUPTS();
		old = MemoryContextSwitchTo(row_context);
		account = DatumGetTextPP(SPI_getbinval(rows->vals[i], rows->tupdesc, 1, &isnull));
		sealed = DatumGetByteaPP(SPI_getbinval(rows->vals[i], rows->tupdesc, 2, &isnull));
		if (!acctsec_sealed_is_current(sealed))
		{
			secret = acctsec_open(ACCTSEC_KEY_TOTP_SECRET, sealed,
								  VARDATA_ANY(account), VARSIZE_ANY_EXHDR(account));
			args[0] = PointerGetDatum(account);
			args[1] = PointerGetDatum(acctsec_seal(ACCTSEC_KEY_TOTP_SECRET,
												   secret->data, secret->len,
												   VARDATA_ANY(account),
												   VARSIZE_ANY_EXHDR(account)));
			acctsec_secret_free(secret);
			acctsec_plan_run(&plans[PLAN_RESEAL_UPDATE], args, NULL, false, 0);
			count++;
		}
		MemoryContextSwitchTo(old);
		MemoryContextReset(row_context);
	}
	return count;
}

/*
 * SQL: acctsec.rotate_secrets() RETURNS bigint
 * Re-encrypt every stored secret that is not under the current key, and say
 * how many were.  Keyed hashes (backup codes, tokens) cannot be re-made
 * without what they hash: they keep naming their key, which must stay
 * configured (as acctsec.secret_key_previous) until they are replaced or
 * expire.  It lives here, over keys.c, because TOTP secrets are the only
 * sealed values.  Superuser only (EXECUTE revoked from PUBLIC).
 */
Datum
acctsec_rotate_secrets(PG_FUNCTION_ARGS)
{
	int64		count = 0;
	uint8		current[ACCTSEC_KEY_ID_BYTES];

	/* fail before touching anything if the current key is unusable */
	acctsec_current_key_id(current);
	acctsec_spi_connect();
	count += totp_reseal_all();
	acctsec_spi_finish();
	PG_RETURN_INT64(count);
}
