/*
 * passkeys.c
 *		Passkeys (WebAuthn): registration and login ceremonies verified in
 *		the database (docs/passkeys.md).
 *
 * The bytes (authenticator data, attestation objects, COSE keys,
 * signatures) are parsed and verified by webauthn.c; this file reads the
 * browser's JSON, checks the client data, keeps challenges and credentials,
 * and answers logins through acctsec.login_attempt.
 *
 * A challenge is a one-time token (tokens.c) of purpose 'passkey.register'
 * or 'passkey.login': the 60 characters of the token are the challenge's
 * bytes, so the browser's clientDataJSON carries the token back, and the
 * token machinery makes it single-use, short-lived and stored only as a
 * keyed hash.  One challenge per account and ceremony is live at a time (a
 * new begin replaces the earlier one).
 *
 * Registration errors are errors (22023 for anything wrong with the
 * response; the transaction rolls back, so a refused response leaves the
 * challenge as it was).  A login never raises for a bad response: once the
 * credential is known, every failed check consumes the challenge, records
 * a passkey.rejected event naming the check, and counts a failed login
 * through login_attempt; a response naming no registered credential is a
 * failed login counted against no account.
 */
#include "postgres.h"

#include <sodium.h>

#include "access/detoast.h"
#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "common/jsonapi.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "account.h"
#include "compat.h"
#include "events.h"
#include "login.h"
#include "passkeys.h"
#include "spi_util.h"
#include "tokens.h"
#include "webauthn.h"

PG_FUNCTION_INFO_V1(acctsec_passkey_register_begin);
PG_FUNCTION_INFO_V1(acctsec_passkey_register_finish);
PG_FUNCTION_INFO_V1(acctsec_passkey_login_begin);
PG_FUNCTION_INFO_V1(acctsec_passkey_login_finish);
PG_FUNCTION_INFO_V1(acctsec_passkey_remove);

/*
 * webauthn.c takes its memory from here: palloc in the current context,
 * answering NULL rather than raising when there is none (webauthn.h), so
 * the backend's memory is never the C heap and an error path leaks nothing.
 */
static void *
wa_palloc(void *ctx, size_t size)
{
	(void) ctx;
	return palloc_extended(size, MCXT_ALLOC_NO_OOM);
}

static void
wa_pfree(void *ctx, void *p)
{
	(void) ctx;
	pfree(p);
}

static const WaAllocator wa_mem = {wa_palloc, wa_pfree, NULL};

/* An allocation failure in webauthn.c is an error, not a refusal. */
static WaError
wa_check_memory(WaError err)
{
	if (err == WA_ERR_OUT_OF_MEMORY)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	return err;
}

static const char *
alg_name(int alg)
{
	switch (alg)
	{
		case WA_ALG_ES256:
			return "ES256";
		case WA_ALG_EDDSA:
			return "EdDSA";
		case WA_ALG_RS256:
			return "RS256";
	}
	return "unknown";
}

#define PURPOSE_REGISTER		"passkey.register"
#define PURPOSE_LOGIN			"passkey.login"

#define MAX_RESPONSE_BYTES		(64 * 1024) /* the whole response jsonb */
#define MAX_CLIENT_DATA_BYTES	4096
#define MAX_AUTH_DATA_BYTES		(WA_MAX_CBOR)
#define MAX_SIGNATURE_BYTES		WA_RSA_MAX_BYTES	/* RS256 with a 4096-bit
													 * key */
#define MAX_NAME_BYTES			200
#define USER_HANDLE_BYTES		32
#define MAX_USER_FIELD_BYTES	256

/* settings */
static char *passkey_rp_id = NULL;
static char *passkey_rp_name = NULL;
static char *passkey_origins = NULL;
static int	passkey_user_verification = 1;
static int	passkey_timeout = 300;

enum
{
	UV_REQUIRED,
	UV_PREFERRED,
	UV_DISCOURAGED
};

static const struct config_enum_entry uv_options[] = {
	{"required", UV_REQUIRED, false},
	{"preferred", UV_PREFERRED, false},
	{"discouraged", UV_DISCOURAGED, false},
	{NULL, 0, false}
};

void
acctsec_define_passkey_gucs(void)
{
	DefineCustomStringVariable("acctsec.passkey_rp_id",
							   "WebAuthn relying party id: the site's registrable domain, such as example.com.",
							   "Passkeys are bound to it; changing it orphans every registered passkey.",
							   &passkey_rp_id, "",
							   PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("acctsec.passkey_rp_name",
							   "WebAuthn relying party name shown by the authenticator.",
							   "Empty uses the relying party id.",
							   &passkey_rp_name, "",
							   PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("acctsec.passkey_origins",
							   "Comma-separated origins (scheme://host[:port]) passkey ceremonies may come from.",
							   NULL,
							   &passkey_origins, "",
							   PGC_SUSET, GUC_LIST_INPUT, NULL, NULL, NULL);
	DefineCustomEnumVariable("acctsec.passkey_user_verification",
							 "Whether passkey ceremonies require user verification (PIN, biometrics).",
							 "required: responses without the UV flag are refused.",
							 &passkey_user_verification, UV_PREFERRED, uv_options,
							 PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("acctsec.passkey_timeout",
							"How long a passkey challenge lives.",
							NULL,
							&passkey_timeout, 300, 10, 3600,
							PGC_SUSET, GUC_UNIT_S, NULL, NULL, NULL);
}

static const char *
rp_id(void)
{
	if (passkey_rp_id == NULL || passkey_rp_id[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("acctsec.passkey_rp_id is not set"),
				 errhint("Set it to the site's domain, for example ALTER DATABASE app SET acctsec.passkey_rp_id = 'example.com'.")));
	return passkey_rp_id;
}

static void
check_origins_set(void)
{
	if (passkey_origins == NULL || passkey_origins[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("acctsec.passkey_origins is not set"),
				 errhint("Set it to the site's origins, for example 'https://example.com'.")));
}

static const char *
uv_name(void)
{
	return uv_options[passkey_user_verification].name;
}

/* Is origin (len bytes) one of acctsec.passkey_origins? */
static bool
origin_allowed(const char *origin, size_t len)
{
	const char *p = passkey_origins;

	while (p != NULL && *p != '\0')
	{
		const char *end = strchr(p, ',');
		const char *s = p,
				   *e = end ? end : p + strlen(p);

		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if ((size_t) (e - s) == len && memcmp(s, origin, len) == 0)
			return true;
		p = end ? end + 1 : NULL;
	}
	return false;
}

static char *
b64url(const uint8 *p, size_t len)
{
	size_t		n = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	char	   *out = palloc(n);

	sodium_bin2base64(out, n, p, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return out;
}

/* ---------------------------------------------------------------------------
 * Reading the browser's response
 * ---------------------------------------------------------------------------
 */

/*
 * A failed check.  At registration it is an error; at login, the reason a
 * login fails (reported in the passkey.rejected event).
 */
typedef struct Ceremony
{
	bool		login;
	const char *reason;			/* set by the first failed check */
} Ceremony;

static bool
reject(Ceremony *c, const char *reason)
{
	if (!c->login)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("passkey response refused: %s", reason)));
	if (c->reason == NULL)
		c->reason = reason;
	return false;
}

static JsonbContainer *
response_container(Datum d, Ceremony *c)
{
	Jsonb	   *jb;

	/* the size before detoasting: a huge value is never read */
	if (toast_raw_datum_size(d) > VARHDRSZ + MAX_RESPONSE_BYTES)
	{
		reject(c, "response is larger than 64 kB");
		return NULL;
	}
	jb = DatumGetJsonbP(d);
	if (!JB_ROOT_IS_OBJECT(jb))
	{
		reject(c, "response must be a JSON object");
		return NULL;
	}
	return &jb->root;
}

/* The string member key of an object, or NULL (absent, or not a string). */
static bool
json_member_string(JsonbContainer *obj, const char *key, const char **s, int *len)
{
	JsonbValue	v;

	if (obj == NULL ||
		getKeyJsonValueFromContainer(obj, key, strlen(key), &v) == NULL ||
		v.type != jbvString)
		return false;
	*s = v.val.string.val;
	*len = v.val.string.len;
	return true;
}

static JsonbContainer *
json_member_object(JsonbContainer *obj, const char *key)
{
	JsonbValue	v;

	if (obj == NULL ||
		getKeyJsonValueFromContainer(obj, key, strlen(key), &v) == NULL ||
		v.type != jbvBinary || !JsonContainerIsObject(v.val.binary.data))
		return NULL;
	return v.val.binary.data;
}

/* The base64url string member key, decoded (palloc'd) into at most cap bytes. */
static uint8 *
json_member_bytes(JsonbContainer *obj, const char *key, size_t cap, size_t *len,
				  Ceremony *c, const char *what)
{
	const char *s;
	int			slen;
	uint8	   *out;

	if (!json_member_string(obj, key, &s, &slen))
	{
		reject(c, psprintf("%s is missing", what));
		return NULL;
	}
	out = palloc(cap + 1);
	if (!wa_base64url_decode(s, slen, out, cap, len) || *len == 0)
	{
		reject(c, psprintf("%s is not base64url of 1 to %zu bytes", what, cap));
		return NULL;
	}
	return out;
}

/* Accounts compare byte for byte (acctsec.accounts.account is COLLATE "C") */
static bool
same_account(const text *a, const text *b)
{
	return a != NULL && b != NULL &&
		VARSIZE_ANY_EXHDR(a) == VARSIZE_ANY_EXHDR(b) &&
		memcmp(VARDATA_ANY(a), VARDATA_ANY(b), VARSIZE_ANY_EXHDR(a)) == 0;
}

/* The client data: its hash, and its challenge's token if the checks pass. */
typedef struct ClientData
{
	uint8		hash[crypto_hash_sha256_BYTES];
	text	   *token;			/* the challenge's bytes, as a token */
} ClientData;

static bool
validate_json(const char *s, size_t len)
{
	JsonParseErrorType err;

#if PG_VERSION_NUM >= 170000
	JsonLexContext lexbuf;
	JsonLexContext *lex = makeJsonLexContextCstringLen(&lexbuf, s, len,
													   PG_UTF8, true);

	err = pg_parse_json(lex, &nullSemAction);
	freeJsonLexContext(lex);
#else
	JsonLexContext *lex = makeJsonLexContextCstringLen((char *) s, len,
													   PG_UTF8, true);

	err = pg_parse_json(lex, &nullSemAction);
#endif
	return err == JSON_SUCCESS;
}

static bool
check_client_data(JsonbContainer *resp, const char *type, Ceremony *c,
				  ClientData *cd)
{
	size_t		len;
	uint8	   *raw = json_member_bytes(resp, "clientDataJSON", MAX_CLIENT_DATA_BYTES,
										&len, c, "clientDataJSON");
	char	   *str;
	Jsonb	   *jb;
	const char *s;
	int			slen;
	uint8		challenge[ACCTSEC_TOKEN_CHARS + 1];
	size_t		challenge_len;
	JsonbValue	v;

	if (raw == NULL)
		return false;
	crypto_hash_sha256(cd->hash, raw, len);

	/* UTF-8 without NUL, then JSON, then an object: checked before jsonb_in */
	if (!pg_verify_mbstr(PG_UTF8, (const char *) raw, len, true) ||
		!validate_json((const char *) raw, len))
		return reject(c, "clientDataJSON is not JSON in UTF-8");
	str = pnstrdup((const char *) raw, len);
	jb = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(str)));
	if (!JB_ROOT_IS_OBJECT(jb))
		return reject(c, "clientDataJSON is not a JSON object");

	if (!json_member_string(&jb->root, "type", &s, &slen) ||
		(size_t) slen != strlen(type) || memcmp(s, type, slen) != 0)
		return reject(c, psprintf("clientDataJSON type is not \"%s\"", type));

	if (!json_member_string(&jb->root, "challenge", &s, &slen) ||
		!wa_base64url_decode(s, slen, challenge, sizeof(challenge),
							 &challenge_len) ||
		challenge_len != ACCTSEC_TOKEN_CHARS)
		return reject(c, "challenge was not issued by passkey_*_begin");
	cd->token = cstring_to_text_with_len((char *) challenge, challenge_len);
	sodium_memzero(challenge, sizeof(challenge));

	if (!json_member_string(&jb->root, "origin", &s, &slen) ||
		!origin_allowed(s, slen))
		return reject(c, "origin is not in acctsec.passkey_origins");

	/*
	 * An embedded cross-origin iframe is not accepted: neither crossOrigin
	 * true nor a topOrigin, which WebAuthn Level 3 (7.1 step 11, 7.2 step 14)
	 * lets through only for a relying party that expects iframes.
	 */
	if (getKeyJsonValueFromContainer(&jb->root, "crossOrigin", 11, &v) != NULL &&
		!(v.type == jbvBool && !v.val.boolean))
		return reject(c, "cross-origin ceremonies are not accepted");
	if (getKeyJsonValueFromContainer(&jb->root, "topOrigin", 9, &v) != NULL)
		return reject(c, "cross-origin ceremonies are not accepted (topOrigin)");
	return true;
}

/* rpIdHash, UP, UV and BE/BS consistency */
static bool
check_flags(const WaAuthData *ad, Ceremony *c)
{
	uint8		expected[crypto_hash_sha256_BYTES];
	const char *id = rp_id();

	crypto_hash_sha256(expected, (const uint8 *) id, strlen(id));
	if (sodium_memcmp(expected, ad->rp_id_hash, sizeof(expected)) != 0)
		return reject(c, "rpIdHash is not the hash of acctsec.passkey_rp_id");
	if (!(ad->flags & WA_FLAG_UP))
		return reject(c, "user presence (UP) flag is not set");
	if (passkey_user_verification == UV_REQUIRED && !(ad->flags & WA_FLAG_UV))
		return reject(c, "user verification (UV) is required but the flag is not set");
	if ((ad->flags & WA_FLAG_BS) && !(ad->flags & WA_FLAG_BE))
		return reject(c, "backed-up (BS) flag set without backup-eligible (BE)");
	return true;
}

/* ---------------------------------------------------------------------------
 * SPI
 * ---------------------------------------------------------------------------
 */

typedef enum PasskeyPlanId
{
	PLAN_USER_HANDLE_ENSURE,
	PLAN_USER_HANDLE,
	PLAN_ACCOUNT_CREDENTIALS,
	PLAN_CREDENTIAL_EXISTS,
	PLAN_INSERT,
	PLAN_FIND,
	PLAN_USE,
	PLAN_REMOVE,
	NUM_PASSKEY_PLANS
} PasskeyPlanId;

static AcctsecPlan passkey_plans[NUM_PASSKEY_PLANS] = {
	[PLAN_USER_HANDLE_ENSURE] = {
		"INSERT INTO acctsec.passkey_users (account, user_handle) VALUES ($1, $2)"
		" ON CONFLICT (account) DO NOTHING",
		ACCTSEC_PLAN_ARGS(TEXTOID, BYTEAOID), SPI_OK_INSERT, NULL
	},
	[PLAN_USER_HANDLE] = {
		"SELECT user_handle FROM acctsec.passkey_users"
		" WHERE account OPERATOR(pg_catalog.=) $1",
		ACCTSEC_PLAN_ARGS(TEXTOID), SPI_OK_SELECT, NULL
	},
	[PLAN_ACCOUNT_CREDENTIALS] = {
		"SELECT credential_id, transports FROM acctsec.passkey_credentials"
		" WHERE account OPERATOR(pg_catalog.=) $1 ORDER BY id",
		ACCTSEC_PLAN_ARGS(TEXTOID), SPI_OK_SELECT, NULL
	},
	[PLAN_CREDENTIAL_EXISTS] = {
		"SELECT 1 FROM acctsec.passkey_credentials"
		" WHERE credential_id OPERATOR(pg_catalog.=) $1",
		ACCTSEC_PLAN_ARGS(BYTEAOID), SPI_OK_SELECT, NULL
	},
	[PLAN_INSERT] = {
		"INSERT INTO acctsec.passkey_credentials (account, credential_id,"
		" public_key, alg, aaguid, sign_count, transports, backup_eligible,"
		" backed_up, name, created_at)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,"
		" pg_catalog.transaction_timestamp()) RETURNING id",
		ACCTSEC_PLAN_ARGS(TEXTOID, BYTEAOID, BYTEAOID, INT4OID, UUIDOID,
						  INT8OID, TEXTARRAYOID, BOOLOID, BOOLOID, TEXTOID),
		SPI_OK_INSERT_RETURNING, NULL
	},
	[PLAN_FIND] = {
		"SELECT c.id, c.account, c.public_key, c.sign_count, u.user_handle"
		" FROM acctsec.passkey_credentials c"
		" JOIN acctsec.passkey_users u USING (account)"
		" WHERE c.credential_id OPERATOR(pg_catalog.=) $1",
		ACCTSEC_PLAN_ARGS(BYTEAOID), SPI_OK_SELECT, NULL
	},
	[PLAN_USE] = {
		"UPDATE acctsec.passkey_credentials SET sign_count = $2,"
		" backed_up = $3, last_used_at = pg_catalog.transaction_timestamp()"
		" WHERE id OPERATOR(pg_catalog.=) $1",
		ACCTSEC_PLAN_ARGS(INT8OID, INT8OID, BOOLOID), SPI_OK_UPDATE, NULL
	},
	[PLAN_REMOVE] = {
		"DELETE FROM acctsec.passkey_credentials"
		" WHERE account OPERATOR(pg_catalog.=) $1 AND id OPERATOR(pg_catalog.=) $2",
		ACCTSEC_PLAN_ARGS(TEXTOID, INT8OID), SPI_OK_DELETE, NULL
	},
};

static bytea *
bytes_datum(const uint8 *p, size_t len)
{
	bytea	   *b = palloc(VARHDRSZ + len);

	SET_VARSIZE(b, VARHDRSZ + len);
	memcpy(VARDATA(b), p, len);
	return b;
}

/*
 * A challenge for account: a one-time token of purpose, as base64url.  With
 * no account (a discoverable-credential login) the token belongs to none.
 */
static char *
new_challenge(text *account, const char *purpose)
{
	Interval	ttl = {0};
	text	   *token;
	char	   *out;

	ttl.time = (int64) passkey_timeout * USECS_PER_SEC;
	if (account == NULL)
		token = acctsec_one_time_token_issue_unbound(cstring_to_text(purpose), &ttl);
	else
		token = DatumGetTextPP(DirectFunctionCall3(acctsec_token_issue,
												   PointerGetDatum(account),
												   CStringGetTextDatum(purpose),
												   IntervalPGetDatum(&ttl)));
	out = b64url((const uint8 *) VARDATA_ANY(token), VARSIZE_ANY_EXHDR(token));
	sodium_memzero(VARDATA_ANY(token), VARSIZE_ANY_EXHDR(token));
	return out;
}

/* The account's credentials as a JSON array of descriptors, into buf (SPI connected). */
static void
append_credentials(StringInfo buf, text *account)
{
	Datum		values[1] = {PointerGetDatum(account)};
	uint64		n;

	appendStringInfoChar(buf, '[');
	n = acctsec_plan_run(&passkey_plans[PLAN_ACCOUNT_CREDENTIALS], values, NULL, true, 0);
	for (uint64 i = 0; i < n; i++)
	{
		HeapTuple	row = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		bytea	   *id = DatumGetByteaPP(SPI_getbinval(row, desc, 1, &isnull));
		ArrayType  *tr = DatumGetArrayTypeP(SPI_getbinval(row, desc, 2, &isnull));
		Datum	   *elems;
		int			nelems;

		deconstruct_array(tr, TEXTOID, -1, false, TYPALIGN_INT,
						  &elems, NULL, &nelems);
		if (i > 0)
			appendStringInfoChar(buf, ',');
		appendStringInfo(buf, "{\"type\":\"public-key\",\"id\":\"%s\",\"transports\":[",
						 b64url((const uint8 *) VARDATA_ANY(id), VARSIZE_ANY_EXHDR(id)));
		for (int j = 0; j < nelems; j++)
		{
			if (j > 0)
				appendStringInfoChar(buf, ',');
			escape_json(buf, TextDatumGetCString(elems[j]));
		}
		appendStringInfoString(buf, "]}");
	}
	appendStringInfoChar(buf, ']');
}

/*
 * The options built in buf (SPI connected) as the jsonb a ceremony's begin
 * returns: in the caller's memory, out of SPI's, which goes at SPI_finish.
 */
static Datum
options_jsonb(StringInfo buf)
{
	return SPI_datumTransfer(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf->data)),
							 false, -1);
}

static text *
optional_text_arg(FunctionCallInfo fcinfo, int argno, size_t max, const char *what)
{
	text	   *t;

	if (PG_ARGISNULL(argno))
		return NULL;
	t = PG_GETARG_TEXT_PP(argno);
	if (VARSIZE_ANY_EXHDR(t) == 0 || VARSIZE_ANY_EXHDR(t) > max)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must have 1 to %zu bytes", what, max)));
	return t;
}

/* ---------------------------------------------------------------------------
 * Registration
 * ---------------------------------------------------------------------------
 */

/*
 * The account's WebAuthn user handle, made at its first registration (SPI
 * connected).
 */
static bytea *
user_handle(text *account)
{
	uint8		handle[USER_HANDLE_BYTES];
	Datum		values[2];
	bool		isnull;

	randombytes_buf(handle, sizeof(handle));
	values[0] = PointerGetDatum(account);
	values[1] = PointerGetDatum(bytes_datum(handle, sizeof(handle)));
	acctsec_plan_run(&passkey_plans[PLAN_USER_HANDLE_ENSURE], values, NULL, false, 0);
	acctsec_plan_run(&passkey_plans[PLAN_USER_HANDLE], values, NULL, false, 1);
	return DatumGetByteaPCopy(SPI_getbinval(SPI_tuptable->vals[0],
											SPI_tuptable->tupdesc, 1, &isnull));
}

/*
 * passkey_register_begin(account text, user_name text, display_name text)
 *		RETURNS jsonb (PublicKeyCredentialCreationOptions)
 */
Datum
acctsec_passkey_register_begin(PG_FUNCTION_ARGS)
{
	text	   *account = acctsec_account_arg(fcinfo, 0);
	text	   *user_name = optional_text_arg(fcinfo, 1, MAX_USER_FIELD_BYTES, "user_name");
	text	   *display_name = optional_text_arg(fcinfo, 2, MAX_USER_FIELD_BYTES, "display_name");
	const char *id = rp_id();
	char	   *name;
	bytea	   *stored;
	StringInfoData buf;
	char	   *challenge;
	Datum		result;

	check_origins_set();
	PreventCommandIfReadOnly("passkey_register_begin()");
	if (user_name == NULL)
		user_name = account;
	if (display_name == NULL)
		display_name = user_name;

	acctsec_spi_connect();
	/* the challenge first: it locks (and creates) the account row */
	challenge = new_challenge(account, PURPOSE_REGISTER);
	stored = user_handle(account);

	name = passkey_rp_name[0] != '\0' ? passkey_rp_name : (char *) id;
	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"challenge\":\"%s\",\"rp\":{\"id\":", challenge);
	escape_json(&buf, id);
	appendStringInfoString(&buf, ",\"name\":");
	escape_json(&buf, name);
	appendStringInfo(&buf, "},\"user\":{\"id\":\"%s\",\"name\":",
					 b64url((const uint8 *) VARDATA_ANY(stored), VARSIZE_ANY_EXHDR(stored)));
	escape_json(&buf, text_to_cstring(user_name));
	appendStringInfoString(&buf, ",\"displayName\":");
	escape_json(&buf, text_to_cstring(display_name));
	appendStringInfo(&buf, "},\"pubKeyCredParams\":[{\"type\":\"public-key\",\"alg\":%d},"
					 "{\"type\":\"public-key\",\"alg\":%d},"
					 "{\"type\":\"public-key\",\"alg\":%d}],"
					 "\"timeout\":%d,\"attestation\":\"none\","
					 "\"authenticatorSelection\":{\"residentKey\":\"preferred\","
					 "\"userVerification\":\"%s\"},\"excludeCredentials\":",
					 WA_ALG_ES256, WA_ALG_EDDSA, WA_ALG_RS256,
					 passkey_timeout * 1000, uv_name());
	append_credentials(&buf, account);
	appendStringInfoChar(&buf, '}');
	result = options_jsonb(&buf);
	acctsec_spi_finish();
	PG_RETURN_DATUM(result);
}

/* The transports the browser reported (getTransports()), as text[] */
static Datum
transports_datum(JsonbContainer *resp)
{
	JsonbValue	v;
	Datum		elems[8];
	int			n = 0;

	if (getKeyJsonValueFromContainer(resp, "transports", 10, &v) != NULL &&
		v.type == jbvBinary && JsonContainerIsArray(v.val.binary.data))
	{
		int			size = JsonContainerSize(v.val.binary.data);

		for (int i = 0; i < size; i++)
		{
			JsonbValue *e = getIthJsonbValueFromContainer(v.val.binary.data, i);
			static const char *const known[] = {
				"usb", "nfc", "ble", "internal", "hybrid", "smart-card", NULL
			};

			if (e == NULL || e->type != jbvString)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("passkey response refused: transports must be strings")));
			for (int k = 0; known[k] != NULL; k++)
				if ((size_t) e->val.string.len == strlen(known[k]) &&
					memcmp(e->val.string.val, known[k], e->val.string.len) == 0 &&
					n < (int) lengthof(elems))
				{
					elems[n++] = CStringGetTextDatum(known[k]);
					break;
				}
		}
	}
	return PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false,
										   TYPALIGN_INT));
}

/*
 * The registration's attestation object and the authenticator data in it,
 * which must name a new credential and carry the flags required.
 */
static void
read_attestation(JsonbContainer *resp, Ceremony *c, WaAttestation *att,
				 WaAuthData *ad)
{
	uint8	   *att_raw;
	size_t		att_len;
	WaError		err;

	att_raw = json_member_bytes(resp, "attestationObject", WA_MAX_CBOR, &att_len, c,
								"attestationObject");
	/* att->auth_data is palloc'd: an error from here on leaks nothing */
	err = wa_check_memory(wa_parse_attestation(&wa_mem, att_raw, att_len, att));
	if (err != WA_OK)
		reject(c, wa_error_message(err));
	err = wa_parse_auth_data(att->auth_data, att->auth_data_len, ad);
	if (err != WA_OK)
		reject(c, wa_error_message(err));
	if (!ad->has_credential)
		reject(c, wa_error_message(WA_ERR_AUTHDATA_NO_CREDENTIAL));
	check_flags(ad, c);
}

/* The id the browser reports must be the one in the authenticator data. */
static void
check_raw_id(JsonbContainer *top, const WaAuthData *ad, Ceremony *c)
{
	const char *s = NULL;
	int			slen = 0;
	uint8		raw_id[WA_MAX_CREDENTIAL_ID + 1];
	size_t		raw_len;

	if (!json_member_string(top, "rawId", &s, &slen) &&
		!json_member_string(top, "id", &s, &slen))
		reject(c, "rawId is missing");
	if (!wa_base64url_decode(s, slen, raw_id, sizeof(raw_id), &raw_len) ||
		raw_len != ad->credential_id_len ||
		memcmp(raw_id, ad->credential_id, raw_len) != 0)
		reject(c, "rawId is not the credential id of the authenticator data");
}

/* Packed self attestation: signed by the credential's own key. */
static void
check_self_attestation(const WaAttestation *att, const WaAuthData *ad,
					   const ClientData *cd, Ceremony *c)
{
	WaError		err;

	if (att->packed_alg != ad->key.alg)
		reject(c, "packed attestation alg is not the credential's algorithm");
	err = wa_check_memory(wa_verify_signature(&wa_mem, &ad->key,
											  att->auth_data, att->auth_data_len,
											  cd->hash, att->packed_sig,
											  att->packed_sig_len));
	if (err != WA_OK)
		reject(c, "packed attestation signature does not verify");
}

/*
 * Store the account's new credential (SPI connected); returns its id.  A
 * credential id already registered is error 23505.
 */
static int64
store_credential(text *account, const WaAuthData *ad, JsonbContainer *resp,
				 text *name)
{
	Datum		values[10];
	char		nulls[10];
	pg_uuid_t  *u = palloc(sizeof(pg_uuid_t));
	bool		isnull;

	values[0] = PointerGetDatum(bytes_datum(ad->credential_id, ad->credential_id_len));
	if (acctsec_plan_run(&passkey_plans[PLAN_CREDENTIAL_EXISTS], values, NULL, false, 1) > 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 errmsg("passkey response refused: this credential is already registered")));
	memset(nulls, ' ', sizeof(nulls));
	memcpy(u->data, ad->aaguid, UUID_LEN);
	values[0] = PointerGetDatum(account);
	values[1] = PointerGetDatum(bytes_datum(ad->credential_id, ad->credential_id_len));
	values[2] = PointerGetDatum(bytes_datum(ad->cose_key, ad->cose_key_len));
	values[3] = Int32GetDatum(ad->key.alg);
	values[4] = UUIDPGetDatum(u);
	values[5] = Int64GetDatum((int64) ad->sign_count);
	values[6] = transports_datum(resp);
	values[7] = BoolGetDatum((ad->flags & WA_FLAG_BE) != 0);
	values[8] = BoolGetDatum((ad->flags & WA_FLAG_BS) != 0);
	values[9] = name ? PointerGetDatum(name) : (Datum) 0;
	nulls[9] = name ? ' ' : 'n';
	acctsec_plan_run(&passkey_plans[PLAN_INSERT], values, nulls, false, 1);
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
									   1, &isnull));
}

/*
 * passkey_register_finish(account text, response jsonb, name text)
 *		RETURNS bigint
 */
Datum
acctsec_passkey_register_finish(PG_FUNCTION_ARGS)
{
	text	   *account = acctsec_account_arg(fcinfo, 0);
	text	   *name = optional_text_arg(fcinfo, 2, MAX_NAME_BYTES, "name");
	Ceremony	c = {false, NULL};
	JsonbContainer *top,
			   *resp;
	ClientData	cd;
	WaAttestation att;
	WaAuthData	ad;
	text	   *owner;
	int64		id;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("response must not be null")));
	rp_id();
	check_origins_set();
	PreventCommandIfReadOnly("passkey_register_finish()");

	top = response_container(PG_GETARG_DATUM(1), &c);
	resp = json_member_object(top, "response");
	if (resp == NULL)
		reject(&c, "response.response is missing");
	check_client_data(resp, "webauthn.create", &c, &cd);

	acctsec_spi_connect();
	owner = acctsec_one_time_token_check(PointerGetDatum(cd.token),
										 cstring_to_text(PURPOSE_REGISTER), true);
	if (!same_account(owner, account))
		reject(&c, "challenge is not a live registration challenge of this account");

	read_attestation(resp, &c, &att, &ad);

	check_raw_id(top, &ad, &c);
	if (att.fmt == WA_FMT_PACKED)
		check_self_attestation(&att, &ad, &cd, &c);

	id = store_credential(account, &ad, resp, name);
	acctsec_security_event("passkey.registered", text_to_cstring(account),
						   "credential", acctsec_event_int(id),
						   "alg", alg_name(ad.key.alg),
						   "attestation", att.fmt == WA_FMT_PACKED ? "packed" : "none",
						   NULL);
	acctsec_spi_finish();
	PG_RETURN_INT64(id);
}

/* ---------------------------------------------------------------------------
 * Login
 * ---------------------------------------------------------------------------
 */

/*
 * passkey_login_begin(account text) RETURNS jsonb (PublicKeyCredentialRequestOptions)
 *
 * With a NULL account, a discoverable-credential ("usernameless") login:
 * allowCredentials is empty, so the authenticator offers the site's
 * passkeys, and the challenge is a token of no account; passkey_login_finish
 * then learns the account from the credential.
 */
Datum
acctsec_passkey_login_begin(PG_FUNCTION_ARGS)
{
	text	   *account = PG_ARGISNULL(0) ? NULL : acctsec_account_arg(fcinfo, 0);
	const char *id = rp_id();
	StringInfoData buf;
	char	   *challenge;
	Datum		result;

	check_origins_set();
	PreventCommandIfReadOnly("passkey_login_begin()");
	acctsec_spi_connect();
	challenge = new_challenge(account, PURPOSE_LOGIN);

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"challenge\":\"%s\",\"rpId\":", challenge);
	escape_json(&buf, id);
	appendStringInfo(&buf, ",\"timeout\":%d,\"userVerification\":\"%s\","
					 "\"allowCredentials\":",
					 passkey_timeout * 1000, uv_name());
	if (account != NULL)
		append_credentials(&buf, account);
	else
		appendStringInfoString(&buf, "[]");
	appendStringInfoChar(&buf, '}');
	result = options_jsonb(&buf);
	acctsec_spi_finish();
	PG_RETURN_DATUM(result);
}

typedef struct StoredCredential
{
	int64		id;
	text	   *account;
	bytea	   *public_key;
	int64		sign_count;
	bytea	   *user_handle;
} StoredCredential;

/* The credential of this id, copied out of the statement's result (SPI connected). */
static bool
find_credential(Datum credential_id, StoredCredential *row)
{
	Datum		values[1] = {credential_id};
	HeapTuple	tup;
	TupleDesc	desc;
	bool		isnull;

	if (acctsec_plan_run(&passkey_plans[PLAN_FIND], values, NULL, false, 1) != 1)
		return false;
	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	row->id = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
	row->account = DatumGetTextPCopy(SPI_getbinval(tup, desc, 2, &isnull));
	row->public_key = DatumGetByteaPCopy(SPI_getbinval(tup, desc, 3, &isnull));
	row->sign_count = DatumGetInt64(SPI_getbinval(tup, desc, 4, &isnull));
	row->user_handle = DatumGetByteaPCopy(SPI_getbinval(tup, desc, 5, &isnull));
	return true;
}

/* A failed login counted against no account (no registered credential). */
static Datum
failed_result(FunctionCallInfo fcinfo)
{
	TupleDesc	desc;
	Datum		values[5] = {0};
	bool		nulls[5] = {false, false, false, true, true};

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "passkey_login_finish must return a composite type");
	desc = BlessTupleDesc(desc);
	values[0] = DirectFunctionCall2(enum_in, CStringGetDatum("failed"),
									ObjectIdGetDatum(TupleDescAttr(desc, 0)->atttypid));
	values[1] = BoolGetDatum(false);
	values[2] = Int32GetDatum(0);
	return HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
}

/*
 * The stored credential the response names, and its account, whose row is
 * then locked; NULL when there is none (no account to answer for).  SPI
 * connected.
 */
static text *
login_credential(JsonbContainer *top, Ceremony *c, StoredCredential *row)
{
	uint8	   *cred_id;
	size_t		cred_id_len;
	Datum		credential;

	cred_id = top ? json_member_bytes(top, "rawId", WA_MAX_CREDENTIAL_ID, &cred_id_len,
									  c, "rawId") : NULL;
	if (cred_id == NULL)
		return NULL;
	credential = PointerGetDatum(bytes_datum(cred_id, cred_id_len));
	if (!find_credential(credential, row))
		return NULL;

	/*
	 * The account's row lock serialises this login with the account's other
	 * logins, and with passkey_remove; the row is read again under it, so the
	 * counter compared is the latest one.
	 */
	acctsec_account_lock(row->account, NULL);
	if (!find_credential(credential, row))
		return NULL;
	return row->account;
}

/*
 * The login's clientDataJSON and its challenge, consumed; sets *resp to the
 * response object (NULL when missing) and returns whether the challenge is
 * one of no account (a discoverable login).  Failures go to c.
 */
static bool
check_login_challenge(JsonbContainer *top, text *account, Ceremony *c,
					  ClientData *cd, JsonbContainer **resp)
{
	bool		client_data_ok;
	bool		valid;
	bool		discoverable;
	text	   *owner;

	*resp = json_member_object(top, "response");
	if (*resp == NULL)
	{
		reject(c, "response.response is missing");
		return false;
	}
	client_data_ok = check_client_data(*resp, "webauthn.get", c, cd);

	/*
	 * The challenge, once read, is consumed whatever the outcome (a wrong
	 * origin included), so that no response built on it is tried twice.  A
	 * challenge of no account (passkey_login_begin(NULL)) serves any
	 * credential; one of an account, only that account's.
	 */
	if (cd->token == NULL)
		return false;
	owner = acctsec_one_time_token_check_unbound(PointerGetDatum(cd->token),
												 cstring_to_text(PURPOSE_LOGIN),
												 true, &valid);
	discoverable = valid && owner == NULL;
	if (client_data_ok && !discoverable &&
		!(valid && same_account(owner, account)))
		reject(c, "challenge is not a live login challenge of this account");
	return discoverable;
}

/*
 * A userHandle, when sent, must be the credential's account's; a
 * discoverable login must send it (WebAuthn 7.2 step 6: the authenticator
 * names the user the credential was made for).
 */
static void
check_user_handle(JsonbContainer *resp, const StoredCredential *row,
				  bool discoverable, Ceremony *c)
{
	const char *s;
	int			slen;

	if (json_member_string(resp, "userHandle", &s, &slen))
	{
		uint8		h[USER_HANDLE_BYTES + 1];
		size_t		hlen;

		if (!wa_base64url_decode(s, slen, h, sizeof(h), &hlen) ||
			hlen != VARSIZE_ANY_EXHDR(row->user_handle) ||
			sodium_memcmp(h, VARDATA_ANY(row->user_handle), hlen) != 0)
			reject(c, "userHandle is not the credential's user");
	}
	else if (discoverable)
		reject(c, "userHandle is missing (a discoverable login must name its user)");
}

/*
 * The assertion: authenticator data, flags, the signature under the stored
 * key and a sign counter that went up.  True when it holds; fills *ad, and
 * sets *clone when only the counter failed.  Failures go to c.
 */
static bool
verify_assertion(JsonbContainer *resp, const StoredCredential *row,
				 const ClientData *cd, Ceremony *c, WaAuthData *ad, bool *clone)
{
	uint8	   *auth_data = NULL;
	size_t		auth_data_len = 0;
	uint8	   *sig = NULL;
	size_t		sig_len = 0;
	WaCoseKey	key;
	WaError		err;

	if (c->reason == NULL)
		auth_data = json_member_bytes(resp, "authenticatorData", MAX_AUTH_DATA_BYTES,
									  &auth_data_len, c, "authenticatorData");
	if (c->reason == NULL)
		sig = json_member_bytes(resp, "signature", MAX_SIGNATURE_BYTES, &sig_len, c,
								"signature");
	if (c->reason == NULL)
	{
		err = wa_parse_auth_data(auth_data, auth_data_len, ad);
		if (err != WA_OK)
			reject(c, wa_error_message(err));
	}
	if (c->reason == NULL)
		(void) check_flags(ad, c);
	if (c->reason == NULL)
	{
		err = wa_parse_cose_key((const uint8 *) VARDATA_ANY(row->public_key),
								VARSIZE_ANY_EXHDR(row->public_key), &key);
		if (err != WA_OK)
			reject(c, "the stored public key does not parse");
		else if (wa_check_memory(wa_verify_signature(&wa_mem, &key,
													 auth_data, auth_data_len,
													 cd->hash, sig, sig_len)) != WA_OK)
			reject(c, "signature does not verify");
	}
	if (c->reason != NULL)
		return false;
	/* a counter that does not increase: a cloned authenticator */
	if ((ad->sign_count != 0 || row->sign_count != 0) &&
		(int64) ad->sign_count <= row->sign_count)
	{
		*clone = true;
		reject(c, "sign counter did not increase");
		return false;
	}
	return true;
}

/*
 * Record the login's outcome (SPI connected): the credential's use, or the
 * event of its failure.
 */
static void
login_outcome(text *account, const StoredCredential *row, const WaAuthData *ad,
			  bool ok, bool clone, const char *reason)
{
	if (ok)
	{
		Datum		use[3];

		use[0] = Int64GetDatum(row->id);
		use[1] = Int64GetDatum((int64) ad->sign_count);
		use[2] = BoolGetDatum((ad->flags & WA_FLAG_BS) != 0);
		acctsec_plan_run(&passkey_plans[PLAN_USE], use, NULL, false, 0);
	}
	else if (clone)
		acctsec_security_event("passkey.clone_detected", text_to_cstring(account),
							   "credential", acctsec_event_int(row->id),
							   "row.sign_count", acctsec_event_int(row->sign_count),
							   "presented_count", acctsec_event_int(ad->sign_count),
							   NULL);
	else
		acctsec_security_event("passkey.rejected", text_to_cstring(account),
							   "credential", acctsec_event_int(row->id),
							   "reason", reason,
							   NULL);
}

/*
 * passkey_login_finish(response jsonb, ip inet, user_agent text)
 *		RETURNS acctsec.login_result
 */
Datum
acctsec_passkey_login_finish(PG_FUNCTION_ARGS)
{
	Ceremony	c = {true, NULL};
	JsonbContainer *top,
			   *resp;
	StoredCredential row;
	text	   *account;
	ClientData	cd;
	WaAuthData	ad;
	bool		ok = false;
	bool		clone = false;
	bool		discoverable;
	Datum		result;

	memset(&cd, 0, sizeof(cd));
	memset(&ad, 0, sizeof(ad));
	memset(&row, 0, sizeof(row));

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("response must not be null")));
	rp_id();
	check_origins_set();
	PreventCommandIfReadOnly("passkey_login_finish()");

	/* find the credential; without it there is no account to answer for */
	top = response_container(PG_GETARG_DATUM(0), &c);
	acctsec_spi_connect();
	account = login_credential(top, &c, &row);
	if (account == NULL)
		result = failed_result(fcinfo);
	else
	{
		/* from here on every failure is a failed login of this account */
		discoverable = check_login_challenge(top, account, &c, &cd, &resp);
		if (c.reason == NULL)
			check_user_handle(resp, &row, discoverable, &c);
		ok = verify_assertion(resp, &row, &cd, &c, &ad, &clone);
		login_outcome(account, &row, &ad, ok, clone, c.reason);
		result = acctsec_call_login_attempt(account, ok, fcinfo->args[1],
											fcinfo->args[2]);
	}
	/* the result row, out of SPI's memory */
	result = SPI_datumTransfer(result, false, -1);
	acctsec_spi_finish();
	PG_RETURN_DATUM(result);
}

/* passkey_remove(account text, credential_id bigint) RETURNS boolean */
Datum
acctsec_passkey_remove(PG_FUNCTION_ARGS)
{
	text	   *account = acctsec_account_arg(fcinfo, 0);
	Datum		values[2];
	uint64		n;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("credential_id must not be null")));
	acctsec_spi_connect();
	acctsec_account_lock(account, NULL);
	values[0] = PointerGetDatum(account);
	values[1] = PG_GETARG_DATUM(1);
	n = acctsec_plan_run(&passkey_plans[PLAN_REMOVE], values, NULL, false, 0);
	if (n > 0)
		acctsec_security_event("passkey.removed", text_to_cstring(account),
							   "credential", acctsec_event_int(PG_GETARG_INT64(1)),
							   NULL);
	acctsec_spi_finish();
	PG_RETURN_BOOL(n > 0);
}
