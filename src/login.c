/*
 * login.c
 *		acctsec.login: the one-call login (docs/linked_tables.md).
 *
 * It reads the account's password hash from the linked table that maps
 * password_hash, verifies the password (passwords.c), and applies the
 * login_attempt policy with that outcome by calling acctsec.login_attempt
 * itself through fmgr, so lockout, throttling and every later policy
 * change apply unchanged.  On success an outdated hash is replaced in the
 * same transaction by Argon2id in the framework's own wrapping, or left
 * alone, as the link's password_rehash option says
 * (acctsec_password_rehash_wrapped in passwords.c).  A stored hash that
 * cannot be verified answers "failed" (passwords.c), never an error.  The
 * rehash replaces only the hash that was verified (a password changed
 * meanwhile wins), and the table is read and written as its owner
 * (linked_tables.c).
 *
 * An unknown account (no row, or no password) costs what a known one costs:
 * the password is verified against a dummy Argon2id hash made at the current
 * settings, and the policy runs with success = false, so the answer is
 * "failed" (and locks after as many failures) exactly as for a wrong
 * password.  The dummy hash is made on the first call in a backend, before
 * either path, and again whenever the settings change.
 */
#include "postgres.h"

#include <sodium.h>

#include "access/htup_details.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/regproc.h"

#include "account.h"
#include "linked_tables.h"
#include "login.h"
#include "passwords.h"
#include "spi_util.h"

PG_FUNCTION_INFO_V1(acctsec_login);

static char dummy_hash[crypto_pwhash_STRBYTES];

static void
ensure_dummy_hash(void)
{
	uint8		random[32];
	char		hex[sizeof(random) * 2 + 1];
	char	   *h;

	if (dummy_hash[0] != '\0' &&
		acctsec_password_is_current(dummy_hash, strlen(dummy_hash)))
		return;
	randombytes_buf(random, sizeof(random));
	sodium_bin2hex(hex, sizeof(hex), random, sizeof(random));
	h = acctsec_password_hash_datum(PointerGetDatum(cstring_to_text(hex)));
	strlcpy(dummy_hash, h, sizeof(dummy_hash));
	sodium_memzero(random, sizeof(random));
	sodium_memzero(hex, sizeof(hex));
}

/*
 * acctsec.login_attempt(account, success, ip, user_agent), through fmgr:
 * the one way other login paths (login, passkey_login_finish) apply the
 * policy.  ip and user_agent are passed as the caller received them.
 */
Datum
acctsec_call_login_attempt(text *account, bool success, NullableDatum ip,
						   NullableDatum user_agent)
{
	Oid			fn;
	FmgrInfo	flinfo;

	LOCAL_FCINFO(fc, 4);
	Datum		result;

	fn = DatumGetObjectId(DirectFunctionCall1(regprocedurein,
											  CStringGetDatum("acctsec.login_attempt(pg_catalog.text,pg_catalog.bool,pg_catalog.inet,pg_catalog.text)")));
	fmgr_info(fn, &flinfo);
	InitFunctionCallInfoData(*fc, &flinfo, 4, InvalidOid, NULL, NULL);
	fc->args[0].value = PointerGetDatum(account);
	fc->args[0].isnull = false;
	fc->args[1].value = BoolGetDatum(success);
	fc->args[1].isnull = false;
	fc->args[2] = ip;
	fc->args[3] = user_agent;
	result = FunctionCallInvoke(fc);
	if (fc->isnull)
		elog(ERROR, "acctsec.login_attempt returned null");
	return result;
}

/*
 * login()'s right password (fcinfo's second argument) under an outdated
 * hash: store a current one, unless the policy's answer (result) refused
 * the login (locked, throttled), whose answer must not depend on the
 * password.
 */
static void
rehash(FunctionCallInfo fcinfo, text *account, Datum result, const char *hash,
	   size_t hash_len)
{
	HeapTupleHeader th = DatumGetHeapTupleHeader(result);
	bool		isnull;
	Datum		status = GetAttributeByNum(th, 1, &isnull);
	char	   *label = isnull ? "" :
		DatumGetCString(DirectFunctionCall1(enum_out, status));
	char	   *rehashed;

	if (strcmp(label, "ok") != 0 && strcmp(label, "second_factor_required") != 0)
		return;
	acctsec_spi_connect();
	rehashed = acctsec_password_rehash_wrapped(PG_GETARG_DATUM(1), hash, hash_len,
											   acctsec_linked_password_rehash_mode());
	/* only over the hash verified: a concurrent password change wins */
	if (rehashed != NULL)
		(void) acctsec_linked_password_replace(account, hash, rehashed);
	acctsec_spi_finish();
}

/*
 * login(account text, password text, ip inet, user_agent text)
 *		RETURNS acctsec.login_result
 */
Datum
acctsec_login(PG_FUNCTION_ARGS)
{
	text	   *account = acctsec_account_arg(fcinfo, 0);
	char	   *hash = NULL;
	size_t		hash_len = 0;
	bool		known;
	bool		ok;
	Datum		result;
	MemoryContext outer = CurrentMemoryContext;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("password must not be null")));
	/* a login writes (state, audit, rehash): refuse it up front on a standby */
	PreventCommandIfReadOnly("login()");

	ensure_dummy_hash();
	acctsec_spi_connect();
	known = acctsec_linked_password(account, outer, &hash, &hash_len);
	acctsec_spi_finish();
	if (known)
		ok = acctsec_password_verify_for(PG_GETARG_DATUM(1), hash, hash_len,
										 text_to_cstring(account));
	else
	{
		(void) acctsec_password_verify_datum(PG_GETARG_DATUM(1), dummy_hash,
											 strlen(dummy_hash));
		ok = false;
	}

	result = acctsec_call_login_attempt(account, ok, fcinfo->args[2],
										fcinfo->args[3]);

	if (ok && acctsec_password_needs_rehash_str(hash, hash_len))
		rehash(fcinfo, account, result, hash, hash_len);
	PG_RETURN_DATUM(result);
}
