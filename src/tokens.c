/*
 * tokens.c
 *		The token format shared by sessions and one-time tokens, and the
 *		one-time tokens themselves (docs/sessions.md).
 *
 * A token is an opaque, URL-safe string of 60 characters:
 *
 *		prefix(4)  selector(12)  verifier(44)
 *
 *	- the prefix names the kind, so that secret scanners can recognise a
 *	  leaked token: "acs_" for a session, "act_" for a one-time token;
 *	- the selector is 9 random bytes (base64url): the lookup key, stored in
 *	  clear in a unique index;
 *	- the verifier is 33 random bytes (264 bits, base64url; a multiple of
 *	  three bytes, so each token has exactly one spelling).  Only a keyed
 *	  hash of it is stored, made by the key module (keys.c, purpose
 *	  ACCTSEC_KEY_TOKEN) over (prefix || selector, verifier), carrying the
 *	  fingerprint of the key it was made under.
 *
 * A lookup finds the row by its selector and compares the keyed hash in
 * constant time (acctsec_keyed_hash_verify).  The selector is not secret;
 * the verifier never leaves the function that made it, and what is stored
 * cannot be turned back into it, even by someone who has the key: nothing
 * in a dump of the database works as a token.  Tokens made under a key that
 * is no longer configured are invalid (rotating the key without keeping the
 * previous one revokes every token).
 *
 * Every malformed token (wrong prefix or length, a character outside the
 * alphabet, huge input) is simply invalid: the SQL functions answer NULL,
 * no row or false, and never raise an error that tells anything.
 *
 * One-time tokens (password reset, e-mail verification, magic links) live
 * in acctsec.one_time_tokens, at most one per account and purpose.  They
 * are consumed by deleting their row, under the row's lock, so that one
 * token gives its account exactly once however many transactions race.
 *
 * A passkey login challenge for a discoverable credential (the user not
 * known until the authenticator answers) is a one-time token of no
 * account, of purpose 'passkey.login' only (the table's CHECK): issued by
 * acctsec_one_time_token_issue_unbound, any number live at a time, consumed
 * like the others.  Only acctsec_one_time_token_check_unbound accepts it;
 * token_consume and token_peek answer NULL for it and leave it.
 */
#include "postgres.h"

#include <sodium.h>

#include "access/detoast.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "account.h"
#include "compat.h"
#include "events.h"
#include "keys.h"
#include "spi_util.h"
#include "tokens.h"

PG_FUNCTION_INFO_V1(acctsec_token_issue);
PG_FUNCTION_INFO_V1(acctsec_token_consume);
PG_FUNCTION_INFO_V1(acctsec_token_peek);

#define TOKEN_PREFIX_CHARS		4
#define TOKEN_SELECTOR_CHARS	12	/* 9 bytes in base64url */
#define TOKEN_VERIFIER_CHARS	44	/* 33 bytes in base64url */
#define TOKEN_CONTEXT_BYTES		(TOKEN_PREFIX_CHARS + ACCTSEC_TOKEN_SELECTOR_BYTES)

StaticAssertDecl(ACCTSEC_TOKEN_CHARS ==
				 TOKEN_PREFIX_CHARS + TOKEN_SELECTOR_CHARS + TOKEN_VERIFIER_CHARS,
				 "token length does not add up");
StaticAssertDecl(ACCTSEC_TOKEN_SELECTOR_BYTES % 3 == 0 &&
				 ACCTSEC_TOKEN_VERIFIER_BYTES % 3 == 0,
				 "token parts must be whole base64 groups");

static const char *const token_prefixes[] = {
	[ACCTSEC_TOKEN_SESSION] = "acs_",
	[ACCTSEC_TOKEN_ONE_TIME] = "act_",
};

/* One-time tokens: purposes up to this many bytes, lifetimes up to 30 days */
#define MAX_PURPOSE_BYTES		64
#define MAX_TOKEN_TTL_DAYS		30

/* ---------------------------------------------------------------------------
 * The token format
 * ---------------------------------------------------------------------------
 */

static void
token_context(AcctsecTokenKind kind, const AcctsecToken *tok, char *context)
{
	memcpy(context, token_prefixes[kind], TOKEN_PREFIX_CHARS);
	memcpy(context + TOKEN_PREFIX_CHARS, tok->selector,
		   ACCTSEC_TOKEN_SELECTOR_BYTES);
}

text *
acctsec_token_new(AcctsecTokenKind kind, AcctsecToken *tok, bytea **hash)
{
	char		buf[ACCTSEC_TOKEN_CHARS + 1];
	char		context[TOKEN_CONTEXT_BYTES];
	text	   *result;

	randombytes_buf(tok->selector, ACCTSEC_TOKEN_SELECTOR_BYTES);
	randombytes_buf(tok->verifier, ACCTSEC_TOKEN_VERIFIER_BYTES);

	memcpy(buf, token_prefixes[kind], TOKEN_PREFIX_CHARS);
	sodium_bin2base64(buf + TOKEN_PREFIX_CHARS, TOKEN_SELECTOR_CHARS + 1,
					  tok->selector, ACCTSEC_TOKEN_SELECTOR_BYTES,
					  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_bin2base64(buf + TOKEN_PREFIX_CHARS + TOKEN_SELECTOR_CHARS,
					  TOKEN_VERIFIER_CHARS + 1,
					  tok->verifier, ACCTSEC_TOKEN_VERIFIER_BYTES,
					  sodium_base64_VARIANT_URLSAFE_NO_PADDING);

	token_context(kind, tok, context);
	PG_TRY();
	{
		*hash = acctsec_keyed_hash(ACCTSEC_KEY_TOKEN, context, sizeof(context),
								   tok->verifier, ACCTSEC_TOKEN_VERIFIER_BYTES);
	}
	PG_CATCH();
	{
		sodium_memzero(buf, sizeof(buf));
		sodium_memzero(tok->verifier, ACCTSEC_TOKEN_VERIFIER_BYTES);
		PG_RE_THROW();
	}
	PG_END_TRY();

	result = cstring_to_text_with_len(buf, ACCTSEC_TOKEN_CHARS);
	sodium_memzero(buf, sizeof(buf));
	sodium_memzero(tok->verifier, ACCTSEC_TOKEN_VERIFIER_BYTES);
	return result;
}

/*
 * Branch-free comparisons of bytes (libsodium's, codecs.c): 0xFF when the
 * condition holds, else 0.
 */
#define CT_EQ(x, y) \
	((((0U - ((unsigned int) (x) ^ (unsigned int) (y))) >> 8) & 0xFF) ^ 0xFF)
#define CT_GT(x, y) ((((unsigned int) (y) - (unsigned int) (x)) >> 8) & 0xFF)
#define CT_GE(x, y) (CT_GT(y, x) ^ 0xFF)
#define CT_LE(x, y) CT_GE(y, x)

/*
 * The value of a base64url character, or 0xFF for any other byte, with no
 * branch or table lookup on the character: the verifier is secret.
 */
static inline unsigned int
base64url_value(unsigned int c)
{
	unsigned int x =
		(CT_GE(c, 'A') & CT_LE(c, 'Z') & (c - 'A')) |
		(CT_GE(c, 'a') & CT_LE(c, 'z') & (c - ('a' - 26))) |
		(CT_GE(c, '0') & CT_LE(c, '9') & (c - ('0' - 52))) |
		(CT_EQ(c, '-') & 62) | (CT_EQ(c, '_') & 63);

	return x | (CT_EQ(x, 0) & (CT_EQ(c, 'A') ^ 0xFF));
}

/*
 * Decode in_len base64url characters (whole groups of four, no padding)
 * into in_len / 4 * 3 bytes.  False when a character is outside the
 * alphabet; the work done does not depend on which.  What
 * sodium_base642bin() does for these lengths, in a third of its
 * instructions (it is a quarter of a session_check's own work otherwise).
 */
static bool
decode_part(const char *in, size_t in_len, uint8 *out, size_t out_len)
{
	unsigned int bad = 0;

	if (in_len % 4 != 0 || out_len != in_len / 4 * 3)
		return false;
	for (size_t i = 0, o = 0; i < in_len; i += 4, o += 3)
	{
		unsigned int a = base64url_value((unsigned char) in[i]);
		unsigned int b = base64url_value((unsigned char) in[i + 1]);
		unsigned int c = base64url_value((unsigned char) in[i + 2]);
		unsigned int d = base64url_value((unsigned char) in[i + 3]);
		uint32		v = (a << 18) | (b << 12) | (c << 6) | d;

		bad |= CT_EQ(a, 0xFF) | CT_EQ(b, 0xFF) | CT_EQ(c, 0xFF) | CT_EQ(d, 0xFF);
		out[o] = (uint8) (v >> 16);
		out[o + 1] = (uint8) (v >> 8);
		out[o + 2] = (uint8) v;
	}
	return bad == 0;
}

bool
acctsec_token_parse(AcctsecTokenKind kind, Datum token, AcctsecToken *tok)
{
	text	   *t;
	const char *p;
	bool		ok;

	/* the size before detoasting: a huge value is never read */
	if (toast_raw_datum_size(token) != VARHDRSZ + ACCTSEC_TOKEN_CHARS)
		return false;
	t = DatumGetTextPP(token);
	if (VARSIZE_ANY_EXHDR(t) != ACCTSEC_TOKEN_CHARS)
		return false;
	p = VARDATA_ANY(t);
	if (memcmp(p, token_prefixes[kind], TOKEN_PREFIX_CHARS) != 0)
		return false;
	/* both parts decoded whatever the first gives: no early exit */
	ok = decode_part(p + TOKEN_PREFIX_CHARS, TOKEN_SELECTOR_CHARS,
					 tok->selector, ACCTSEC_TOKEN_SELECTOR_BYTES);
	ok = decode_part(p + TOKEN_PREFIX_CHARS + TOKEN_SELECTOR_CHARS,
					 TOKEN_VERIFIER_CHARS,
					 tok->verifier, ACCTSEC_TOKEN_VERIFIER_BYTES) && ok;
	if (!ok)
		acctsec_token_wipe(tok);
	return ok;
}

bool
acctsec_token_verify(AcctsecTokenKind kind, const AcctsecToken *tok,
					 const bytea *stored)
{
	char		context[TOKEN_CONTEXT_BYTES];

	/* made under a key that is no longer configured: not a valid token */
	if (!acctsec_keyed_hash_usable(stored))
		return false;
	token_context(kind, tok, context);
	return acctsec_keyed_hash_verify(ACCTSEC_KEY_TOKEN, stored,
									 context, sizeof(context),
									 tok->verifier,
									 ACCTSEC_TOKEN_VERIFIER_BYTES);
}

bytea *
acctsec_token_selector(const AcctsecToken *tok)
{
	bytea	   *b = palloc(VARHDRSZ + ACCTSEC_TOKEN_SELECTOR_BYTES);

	SET_VARSIZE(b, VARHDRSZ + ACCTSEC_TOKEN_SELECTOR_BYTES);
	memcpy(VARDATA(b), tok->selector, ACCTSEC_TOKEN_SELECTOR_BYTES);
	return b;
}

void
acctsec_token_wipe(AcctsecToken *tok)
{
	sodium_memzero(tok, sizeof(AcctsecToken));
}

/* ---------------------------------------------------------------------------
 * One-time tokens
 * ---------------------------------------------------------------------------
 */

typedef enum TokenPlanId
{
	PLAN_ISSUE,
	PLAN_FIND,
	PLAN_FIND_FOR_UPDATE,
	PLAN_CONSUME,
	PLAN_REVOKE_ACCOUNT,
	PLAN_PRUNE,
	NUM_TOKEN_PLANS
} TokenPlanId;

/* the token of selector $1, as check_token() reads it (PLAN_FIND...) */
#define TOKEN_BY_SELECTOR \
	"SELECT account, purpose, verifier_hash, expires_at" \
	" FROM acctsec.one_time_tokens" \
	" WHERE selector OPERATOR(pg_catalog.=) $1"

static AcctsecPlan token_plans[NUM_TOKEN_PLANS] = {
	/* issuing again for an account and purpose replaces the earlier token */
	[PLAN_ISSUE] = {
		"INSERT INTO acctsec.one_time_tokens AS t"
		" (selector, account, purpose, verifier_hash, issued_at, expires_at)"
		" VALUES ($1, $2, $3, $4, $5, $6)"
		" ON CONFLICT (account, purpose) DO UPDATE"
		" SET selector = excluded.selector,"
		" verifier_hash = excluded.verifier_hash,"
		" issued_at = excluded.issued_at, expires_at = excluded.expires_at",
		ACCTSEC_PLAN_ARGS(BYTEAOID, TEXTOID, TEXTOID, BYTEAOID, TIMESTAMPTZOID,
						  TIMESTAMPTZOID),
		SPI_OK_INSERT, NULL
	},
	[PLAN_FIND] = {
		TOKEN_BY_SELECTOR,
		ACCTSEC_PLAN_ARGS(BYTEAOID), SPI_OK_SELECT, NULL
	},

	/*
	 * Concurrent consumers queue on the row lock; when the first one has
	 * deleted the row, the others find nothing (READ COMMITTED) or fail to
	 * serialise (REPEATABLE READ and above).
	 */
	[PLAN_FIND_FOR_UPDATE] = {
		TOKEN_BY_SELECTOR " FOR UPDATE",
		ACCTSEC_PLAN_ARGS(BYTEAOID), SPI_OK_SELECT, NULL
	},
	[PLAN_CONSUME] = {
		"DELETE FROM acctsec.one_time_tokens"
		" WHERE selector OPERATOR(pg_catalog.=) $1",
		ACCTSEC_PLAN_ARGS(BYTEAOID), SPI_OK_DELETE, NULL
	},
	[PLAN_REVOKE_ACCOUNT] = {
		"DELETE FROM acctsec.one_time_tokens"
		" WHERE account OPERATOR(pg_catalog.=) $1",
		ACCTSEC_PLAN_ARGS(TEXTOID), SPI_OK_DELETE, NULL
	},
	[PLAN_PRUNE] = {
		"DELETE FROM acctsec.one_time_tokens"
		" WHERE expires_at OPERATOR(pg_catalog.<=) $1",
		ACCTSEC_PLAN_ARGS(TIMESTAMPTZOID), SPI_OK_DELETE, NULL
	},
};

static text *
purpose_arg(FunctionCallInfo fcinfo, int argno)
{
	text	   *purpose;
	size_t		len;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("purpose must not be null")));
	purpose = PG_GETARG_TEXT_PP(argno);
	len = VARSIZE_ANY_EXHDR(purpose);
	if (len == 0 || len > MAX_PURPOSE_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("purpose must have 1 to %d bytes", MAX_PURPOSE_BYTES),
				 errhint("Name what the token is for, for example 'password_reset'.")));

	/*
	 * A purpose is a name, written into security events: lower-case letters,
	 * digits and _ . : - only.  That keeps a token or other secret passed in
	 * the wrong position (tokens are mixed-case) out of the audit log, and
	 * keeps control characters out of it too.  The text is not echoed.
	 */
	for (size_t i = 0; i < len; i++)
	{
		char		c = VARDATA_ANY(purpose)[i];

		if (!((c >= 'a' && c <= 'z') || (i > 0 && ((c >= '0' && c <= '9') ||
												   c == '_' || c == '.' ||
												   c == ':' || c == '-'))))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("purpose must be a lower-case name"),
					 errdetail("The character at position %zu is not allowed.", i + 1),
					 errhint("Use lower-case letters, digits and _ . : -, starting with a letter, for example 'password_reset'.")));
	}
	/* the purpose is recorded in security events: never a token there */
	if (len >= TOKEN_PREFIX_CHARS &&
		(memcmp(VARDATA_ANY(purpose), token_prefixes[ACCTSEC_TOKEN_ONE_TIME], TOKEN_PREFIX_CHARS) == 0 ||
		 memcmp(VARDATA_ANY(purpose), token_prefixes[ACCTSEC_TOKEN_SESSION], TOKEN_PREFIX_CHARS) == 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("purpose must not be a token"),
				 errhint("Name what the token is for, for example 'password_reset'.")));
	return purpose;
}

/* Revoke every one-time token of the account; returns how many. */
uint64
acctsec_tokens_revoke_account(const text *account)
{
	Datum		arg = PointerGetDatum(account);

	return acctsec_plan_run(&token_plans[PLAN_REVOKE_ACCOUNT], &arg, NULL, false, 0);
}

/* Delete one-time tokens expired at now; returns how many. */
uint64
acctsec_tokens_prune(TimestampTz now)
{
	Datum		arg = TimestampTzGetDatum(now);

	return acctsec_plan_run(&token_plans[PLAN_PRUNE], &arg, NULL, false, 0);
}

/*
 * The ttl is bounded as PostgreSQL compares intervals (a month is 30 days, a
 * day 24 hours), so whether a ttl is accepted never depends on today's date;
 * the expiry itself is calendar arithmetic (now() + ttl), as everywhere else.
 */
static bool
token_ttl_in_range(Interval *ttl)
{
	Interval	zero = {0};
	Interval	cap = {0};

	cap.day = MAX_TOKEN_TTL_DAYS;
	return DatumGetInt32(DirectFunctionCall2(interval_cmp,
											 IntervalPGetDatum(ttl),
											 IntervalPGetDatum(&zero))) > 0 &&
		DatumGetInt32(DirectFunctionCall2(interval_cmp,
										  IntervalPGetDatum(ttl),
										  IntervalPGetDatum(&cap))) <= 0;
}

/*
 * A new one-time token's row (account NULL: a token of no account), SPI
 * connected; the token is made in outer, so that it outlives the
 * connection without a copy left behind in SPI's memory.
 */
static text *
insert_token(text *account, text *purpose, TimestampTz now, TimestampTz expires,
			 MemoryContext outer)
{
	AcctsecToken tok;
	bytea	   *hash;
	text	   *token;
	Datum		values[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};
	MemoryContext spi = MemoryContextSwitchTo(outer);

	token = acctsec_token_new(ACCTSEC_TOKEN_ONE_TIME, &tok, &hash);
	MemoryContextSwitchTo(spi);
	values[0] = PointerGetDatum(acctsec_token_selector(&tok));
	values[1] = PointerGetDatum(account);
	if (account == NULL)
		nulls[1] = 'n';
	values[2] = PointerGetDatum(purpose);
	values[3] = PointerGetDatum(hash);
	values[4] = TimestampTzGetDatum(now);
	values[5] = TimestampTzGetDatum(expires);
	acctsec_token_wipe(&tok);

	acctsec_plan_run(&token_plans[PLAN_ISSUE], values, nulls, false, 0);
	return token;
}

/*
 * A one-time token of no account, for passkeys.c (a discoverable-credential
 * login challenge; the table admits no other purpose).  No event: there is
 * no account to record it under, and anyone opening a login page makes one.
 * SPI connected.
 */
text *
acctsec_one_time_token_issue_unbound(text *purpose, Interval *ttl)
{
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	TimestampTz expires;

	if (!token_ttl_in_range(ttl))
		elog(ERROR, "one-time token ttl out of range");
	expires = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_pl_interval,
													  TimestampTzGetDatum(now),
													  IntervalPGetDatum(ttl)));
	return insert_token(NULL, purpose, now, expires, CurrentMemoryContext);
}

/*
 * token_issue(account text, purpose text, ttl interval DEFAULT '1 hour')
 *		RETURNS text
 */
Datum
acctsec_token_issue(PG_FUNCTION_ARGS)
{
	text	   *account = acctsec_account_arg(fcinfo, 0);
	text	   *purpose = purpose_arg(fcinfo, 1);
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	TimestampTz expires;
	text	   *token;
	MemoryContext outer = CurrentMemoryContext;

	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ttl must not be null")));
	if (!token_ttl_in_range(PG_GETARG_INTERVAL_P(2)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ttl must be positive and at most 30 days"),
				 errdetail("A month counts as 30 days, as when PostgreSQL compares intervals.")));
	expires = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_pl_interval,
													  TimestampTzGetDatum(now),
													  PG_GETARG_DATUM(2)));
	if (expires <= now || TIMESTAMP_NOT_FINITE(expires))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ttl must be positive and at most 30 days")));

	acctsec_spi_connect();
	/* the account's row lock serialises issuing with revocation */
	acctsec_account_lock(account, NULL);
	token = insert_token(account, purpose, now, expires, outer);
	acctsec_security_event("token.issued", text_to_cstring(account),
						   "purpose", text_to_cstring(purpose),
						   "expires_at", timestamptz_to_str(expires),
						   NULL);
	acctsec_spi_finish();
	PG_RETURN_TEXT_P(token);
}

/*
 * The account of a live token of this purpose, in outer, or NULL; with
 * consume, the token is deleted (under its row lock) when it matches.  A
 * token of no account matches only with unbound (and answers NULL, *valid
 * true).  SPI connected.
 */
static text *
check_token(Datum token, text *purpose, bool consume, bool unbound,
			MemoryContext outer, bool *valid)
{
	AcctsecToken tok;
	Datum		values[1];
	text	   *volatile result = NULL;

	*valid = false;
	if (!acctsec_token_parse(ACCTSEC_TOKEN_ONE_TIME, token, &tok))
		return NULL;
	values[0] = PointerGetDatum(acctsec_token_selector(&tok));

	PG_TRY();
	{
		if (acctsec_plan_run(&token_plans[consume ? PLAN_FIND_FOR_UPDATE : PLAN_FIND],
							 values, NULL, !consume, 1) == 1)
		{
			HeapTuple	row = SPI_tuptable->vals[0];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			bool		isnull;
			bool		no_account;
			Datum		row_account = SPI_getbinval(row, desc, 1, &no_account);
			text	   *row_purpose = DatumGetTextPP(SPI_getbinval(row, desc, 2, &isnull));
			bytea	   *row_hash = DatumGetByteaPP(SPI_getbinval(row, desc, 3, &isnull));
			TimestampTz row_expires = DatumGetTimestampTz(SPI_getbinval(row, desc, 4, &isnull));

			if ((!no_account || unbound) &&
				acctsec_token_verify(ACCTSEC_TOKEN_ONE_TIME, &tok, row_hash) &&
				row_expires > GetCurrentTransactionStartTimestamp() &&
				VARSIZE_ANY_EXHDR(row_purpose) == VARSIZE_ANY_EXHDR(purpose) &&
				memcmp(VARDATA_ANY(row_purpose), VARDATA_ANY(purpose),
					   VARSIZE_ANY_EXHDR(purpose)) == 0)
			{
				MemoryContext spi = MemoryContextSwitchTo(outer);

				if (!no_account)
					result = DatumGetTextPCopy(row_account);
				MemoryContextSwitchTo(spi);
				*valid = true;
				if (consume)
					acctsec_plan_run(&token_plans[PLAN_CONSUME], values, NULL, false, 0);
			}
		}
	}
	PG_FINALLY();
	{
		acctsec_token_wipe(&tok);
	}
	PG_END_TRY();
	return result;
}

/* check_token for other modules (passkey challenges, passkeys.c) */
text *
acctsec_one_time_token_check(Datum token, text *purpose, bool consume)
{
	bool		valid;

	return check_token(token, purpose, consume, false, CurrentMemoryContext,
					   &valid);
}

/*
 * The same, also accepting a token of no account: *valid says whether the
 * token matched, the answer is its account (NULL for one of no account).
 */
text *
acctsec_one_time_token_check_unbound(Datum token, text *purpose, bool consume,
									 bool *valid)
{
	return check_token(token, purpose, consume, true, CurrentMemoryContext,
					   valid);
}

/* token_consume(token text, purpose text) RETURNS text: the account, once */
Datum
acctsec_token_consume(PG_FUNCTION_ARGS)
{
	text	   *purpose = PG_GETARG_TEXT_PP(1);
	MemoryContext outer = CurrentMemoryContext;
	bool		valid;
	text	   *account;

	acctsec_spi_connect();
	account = check_token(PG_GETARG_DATUM(0), purpose, true, false, outer, &valid);
	acctsec_spi_finish();
	if (account == NULL)
		PG_RETURN_NULL();
	acctsec_security_event("token.consumed", text_to_cstring(account),
						   "purpose", text_to_cstring(purpose),
						   NULL);
	PG_RETURN_TEXT_P(account);
}

/* token_peek(token text, purpose text) RETURNS text: the same, not consumed */
Datum
acctsec_token_peek(PG_FUNCTION_ARGS)
{
	MemoryContext outer = CurrentMemoryContext;
	bool		valid;
	text	   *account;

	acctsec_spi_connect();
	account = check_token(PG_GETARG_DATUM(0), PG_GETARG_TEXT_PP(1), false, false,
						  outer, &valid);
	acctsec_spi_finish();
	if (account == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(account);
}
