/*
 * tokens.h
 *		tokens.c: the token format shared by sessions and one-time tokens
 *		(docs/sessions.md), and one-time tokens themselves.
 *
 * A token is a prefix, a selector (lookup key, stored in clear) and a
 * verifier (stored only as a keyed hash, purpose ACCTSEC_KEY_TOKEN).
 */
#ifndef ACCTSEC_TOKENS_H
#define ACCTSEC_TOKENS_H

#include "datatype/timestamp.h"
#include "fmgr.h"

#define ACCTSEC_TOKEN_CHARS				60
#define ACCTSEC_TOKEN_SELECTOR_BYTES	9
#define ACCTSEC_TOKEN_VERIFIER_BYTES	33

typedef enum AcctsecTokenKind
{
	ACCTSEC_TOKEN_SESSION,		/* "acs_" */
	ACCTSEC_TOKEN_ONE_TIME		/* "act_" */
} AcctsecTokenKind;

/* A parsed token; wipe it with acctsec_token_wipe when done. */
typedef struct AcctsecToken
{
	uint8		selector[ACCTSEC_TOKEN_SELECTOR_BYTES];
	uint8		verifier[ACCTSEC_TOKEN_VERIFIER_BYTES];
} AcctsecToken;

/*
 * A new random token of this kind: returns its text, fills tok's selector
 * (the verifier is wiped) and *hash with the keyed hash to store.
 */
extern text *acctsec_token_new(AcctsecTokenKind kind, AcctsecToken *tok,
							   bytea **hash);

/* Parse a text datum (maybe huge, never detoasted then); false if malformed. */
extern bool acctsec_token_parse(AcctsecTokenKind kind, Datum token,
								AcctsecToken *tok);

/* Constant-time check of a parsed token against its stored hash. */
extern bool acctsec_token_verify(AcctsecTokenKind kind, const AcctsecToken *tok,
								 const bytea *stored);
extern bytea *acctsec_token_selector(const AcctsecToken *tok);
extern void acctsec_token_wipe(AcctsecToken *tok);

/*
 * The account of a live one-time token of this purpose, or NULL; with
 * consume, the token is deleted (under its row lock) when it matches.  These
 * and the functions below run in the caller's SPI connection.
 */
extern text *acctsec_one_time_token_check(Datum token, text *purpose,
										  bool consume);

/*
 * One-time tokens of no account, purpose 'passkey.login' only
 * (discoverable-credential passkey challenges); the check that also
 * accepts them sets *valid and answers the account, NULL for none.
 */
extern text *acctsec_one_time_token_issue_unbound(text *purpose, Interval *ttl);
extern text *acctsec_one_time_token_check_unbound(Datum token, text *purpose,
												  bool consume, bool *valid);

/* token_issue(account, purpose, ttl), for a C caller through fmgr (passkeys.c) */
extern Datum acctsec_token_issue(PG_FUNCTION_ARGS);

/* One-time tokens: revoke an account's, prune expired ones (counts). */
extern uint64 acctsec_tokens_revoke_account(const text *account);
extern uint64 acctsec_tokens_prune(TimestampTz now);

#endif							/* ACCTSEC_TOKENS_H */
