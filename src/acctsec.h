/*
 * acctsec.h
 *		Prototypes shared between acctsec's C files.  No code here.
 */
#ifndef ACCTSEC_H
#define ACCTSEC_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/jsonb.h"
#include "otp.h"
#include "compat.h"

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
struct AcctsecSecret;
extern struct AcctsecSecret *acctsec_totp_uri_build(const uint8 *secret, size_t secret_len,
													const char *label, size_t label_len,
													const char *issuer, size_t issuer_len,
													int digits, int period, OtpAlgorithm alg);

/*
 * account.c: accounts, login attempts and lockout (docs/accounts.md).
 *
 * One row of acctsec.accounts per account is the per-account serialisation
 * point: every capability that changes an account's security state takes
 * that row's lock first (acctsec_account_lock), inside the caller's
 * transaction, and the lock is held until it ends.  Each helper below runs
 * its own SPI connection, so callers may or may not be connected to SPI.
 */

/* Longest account accepted, in bytes; longer is error 22023. */
#define ACCTSEC_MAX_ACCOUNT_BYTES	1024

/* An account's lockout state, as read by acctsec_account_lock. */
typedef struct AcctsecAccount
{
	int32		failed_attempts;	/* failures inside the window */
	TimestampTz last_failed_at; /* DT_NOBEGIN when none */
	TimestampTz locked_until;	/* DT_NOBEGIN when never locked */
	int32		lockouts;		/* backoff level */
	bool		totp_enabled;
	TimestampTz pending_login_at;	/* DT_NOBEGIN when no login is pending */

	/*
	 * Smart lockout (throttle.c): failures from the account's familiar
	 * networks are counted and locked apart; the fields above then count
	 * every other failure (NULL ip included).
	 */
	int32		familiar_failed_attempts;
	TimestampTz familiar_last_failed_at;
	TimestampTz familiar_locked_until;
	int32		familiar_lockouts;
	bool		pending_login_familiar; /* the pending login came from one */
} AcctsecAccount;

/*
 * The account argument argno of a SQL-callable function, checked: NULL,
 * empty and longer than ACCTSEC_MAX_ACCOUNT_BYTES are error 22023.
 */
extern text *acctsec_account_arg(FunctionCallInfo fcinfo, int argno);

/* The same check for an account already in hand (not NULL). */
extern void acctsec_check_account(const text *account);

/*
 * Lock the account's row (FOR NO KEY UPDATE), creating it first if it does
 * not exist, and fill *state (may be NULL) with its state.  Checks the
 * account.
 */
extern void acctsec_account_lock(const text *account, AcctsecAccount *state);

/* Is the account locked now?  An unknown account is not.  Takes no lock. */
extern bool acctsec_account_locked_now(const text *account);

/*
 * A failed second factor (wrong TOTP or backup code): lock the row and count
 * a failure toward lockout exactly as a failed login_attempt does (window,
 * max_failed_attempts, lockout_duration with backoff, cap), and clear any
 * pending login.  Returns true if the account is locked afterwards (locked
 * by this failure, or already locked, in which case nothing is counted).
 */
extern bool acctsec_account_second_factor_failed(const text *account);

/*
 * A correct second factor: if a login is pending (login_attempt answered
 * second_factor_required less than acctsec.second_factor_timeout ago) and
 * the account is not locked, complete it as a successful login does: reset
 * the failure counter and backoff level, set last_login_at (and
 * last_login_ip to the pending login's ip), add one to login_count.  Returns
 * whether a login was completed; otherwise nothing changes.
 */
extern bool acctsec_account_complete_second_factor(const text *account);

/*
 * Set acctsec.accounts.totp_enabled (creating the row if needed); turning it
 * off also drops a pending second-factor login.
 */
extern void acctsec_account_set_totp_enabled(const text *account, bool enabled);

/*
 * Erase the account's security state: its acctsec.accounts row (with every
 * row of other capabilities that references it) and its login attempts.
 * True if there was anything to erase.  Audit rows stay.
 */
extern bool acctsec_account_forget(const text *account);

/*
 * The same for a deleted row of a linked table (relation: its name, for the
 * security event), except that a lock in force is kept until it expires.
 */
extern bool acctsec_account_forget_row(const text *account,
									   const char *relation);

/* Define the acctsec.* lockout settings; called once from _PG_init. */
extern void acctsec_define_account_gucs(void);

/* passkeys.c: the acctsec.passkey_* settings; called once from _PG_init */
extern void acctsec_define_passkey_gucs(void);

/* login.c: apply acctsec.login_attempt through fmgr (returns its result) */
extern Datum acctsec_call_login_attempt(text *account, bool success,
										NullableDatum ip,
										NullableDatum user_agent);

/*
 * tokens.c: the account of a live one-time token of this purpose, or NULL;
 * with consume, the token is deleted (under its row lock) when it matches.
 * Runs its own SPI connection.
 */
extern text *acctsec_one_time_token_check(Datum token, text *purpose,
										  bool consume);

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
/* Install the utility hook (closes the writer before DDL); from _PG_init. */
extern void acctsec_audit_chain_init(void);

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
/* Detail values: a number, a time (palloc'd strings). */
extern char *acctsec_event_int(int64 n);
extern char *acctsec_event_time(TimestampTz t);
extern int64 acctsec_security_event_jsonb(const char *event, const char *account,
										  Jsonb *details);
/* Define acctsec.notify_channel; called once from _PG_init. */
extern void acctsec_define_event_gucs(void);

/* acctsec.max_lockout_duration in seconds (it also caps network throttles). */
extern int	acctsec_max_lockout_duration_secs(void);

/*
 * throttle.c: throttling across accounts and smart lockout
 * (docs/throttling.md).  The helpers that read or write tables run inside the
 * caller's SPI connection.  Lock order: the account row first, then the
 * network row.
 */

/* The network a login comes from. */
typedef struct AcctsecNetwork
{
	bool		valid;			/* the call had an ip, so it has a network */
	bool		trusted;		/* in acctsec.trusted_networks: never throttled */
	Datum		network;		/* a cidr, when valid */
	bool		no_row;			/* acctsec_network_lookup found no row of it */
} AcctsecNetwork;

typedef enum AcctsecNetworkVerdict
{
	NETWORK_NOT_TRACKED,		/* no ip, or a trusted network */
	NETWORK_COUNTED,			/* the failure was counted */
	NETWORK_THROTTLED_NOW,		/* ... and it throttled the network */
	NETWORK_THROTTLED			/* already throttled: nothing counted */
} AcctsecNetworkVerdict;

extern void acctsec_define_throttle_gucs(void);

/* The network of an ip (IPv4: itself; IPv6: its prefix); no SPI needed. */
extern void acctsec_network_of(Datum ip, bool ip_null, AcctsecNetwork *net);

/* Is smart lockout on, and does the call have a network? */
extern bool acctsec_smart_lockout_applies(const AcctsecNetwork *net);
/*
 * Could a login from a familiar network get past a lock earned elsewhere
 * (smart lockout on, and a network still familiar to the account)?
 */
extern bool acctsec_familiar_login_possible(const text *account, TimestampTz now);

/*
 * One look at the network of a login, before the account's row is locked
 * (a throttled network is refused without touching the account): sets
 * *throttled_until to the end of its throttle when it is throttled at now
 * (else DT_NOBEGIN), *last_used to its last use by the account (DT_NOBEGIN
 * when none, or smart lockout does not apply), and returns whether it is
 * familiar to the account.
 */
extern bool acctsec_network_lookup(const text *account,
								   AcctsecNetwork *net, TimestampTz now,
								   TimestampTz *throttled_until,
								   TimestampTz *last_used);

/*
 * Count a failed login on account from net: locks the network's row
 * (creating it), counts the failure and the account, and throttles the
 * network on reaching a limit.  Call with the account row locked already.
 * *throttled_until is set when the network is throttled (now or before).
 */
extern AcctsecNetworkVerdict acctsec_network_failure(const AcctsecNetwork *net,
													 const text *account,
													 TimestampTz now,
													 TimestampTz *throttled_until);

/*
 * A login from net succeeded: make it familiar to the account (or note its
 * use), keeping at most acctsec.max_familiar_networks.  Account row locked.
 */
extern void acctsec_network_make_familiar(const text *account,
										  const AcctsecNetwork *net,
										  TimestampTz now,
										  TimestampTz last_used);

/* The oldest last use of a network still familiar at now. */
extern TimestampTz acctsec_familiar_since(TimestampTz now);

/*
 * Delete expired network rows and familiar networks; returns how many.
 * Runs its own SPI connection.
 */
extern int64 acctsec_prune_network_state(void);

/*
 * keys.c: the one key module behind every AEAD and keyed hash.
 *
 * Each purpose has its own subkey derived from the master key; never reuse
 * a purpose number for something else (stored values name it implicitly).
 * Stored values carry the fingerprint of the key they were made under, so
 * they keep working after a rotation while that key is still configured.
 */
#define ACCTSEC_KEY_ID_BYTES	4

typedef enum AcctsecKeyPurpose
{
	ACCTSEC_KEY_TOTP_SECRET = 1,	/* AEAD of TOTP secrets */
	ACCTSEC_KEY_BACKUP_CODE = 2,	/* keyed hash of backup codes */
	ACCTSEC_KEY_TOKEN = 3,		/* keyed hash of session/one-time tokens */
	ACCTSEC_KEY_AUDIT_SIGN = 4	/* seed of the Ed25519 key of audit checkpoints */
} AcctsecKeyPurpose;

/*
 * Plaintext handed out by acctsec_open: wiped by acctsec_secret_free, or
 * when the memory context it was allocated in is reset or deleted (abort
 * included).
 */
typedef struct AcctsecSecret
{
	uint8	   *data;
	size_t		len;
	MemoryContextCallback wipe;
} AcctsecSecret;

extern void acctsec_define_keys_gucs(void);
extern AcctsecSecret *acctsec_secret_alloc(size_t len);
extern void acctsec_secret_free(AcctsecSecret *s);
/*
 * Audit checkpoints (audit_chain.c): Ed25519 signature of msg under the
 * current key's signing key (its public key into pk, 32 bytes; the
 * signature into sig, 64 bytes); the current public key; is pk the public
 * key of a key in the ring?
 */
extern void acctsec_audit_sign(const uint8 *msg, size_t msg_len, uint8 *pk, uint8 *sig);
extern void acctsec_audit_signing_key(uint8 *pk);
extern bool acctsec_audit_public_key_known(const uint8 *pk);
/* Fingerprint of the current key (ACCTSEC_KEY_ID_BYTES bytes into id). */
extern void acctsec_current_key_id(uint8 *id);
/* Hex fingerprint of the key a sealed or hashed value names (palloc'd). */
extern char *acctsec_key_id_text(const bytea *stored);
/*
 * AEAD (XChaCha20-Poly1305) under the current key; context (the account) is
 * bound in as associated data.  acctsec_open raises one deliberately vague
 * error (SQLSTATE 39000) for a missing key, a wrong key, a changed value or
 * a different context.
 */
extern bytea *acctsec_seal(AcctsecKeyPurpose purpose, const uint8 *plain,
						   size_t plain_len, const char *context,
						   size_t context_len);
extern AcctsecSecret *acctsec_open(AcctsecKeyPurpose purpose,
								   const bytea *sealed, const char *context,
								   size_t context_len);
/* Was this sealed value made under the current key? */
extern bool acctsec_sealed_is_current(const bytea *sealed);
/*
 * Keyed BLAKE2b-256 of (context, msg) under the current key, and its
 * constant-time verification under the key the stored value names (a key
 * that is not configured is the same error as acctsec_open's).
 */
extern bytea *acctsec_keyed_hash(AcctsecKeyPurpose purpose,
								 const char *context, size_t context_len,
								 const uint8 *msg, size_t msg_len);
extern bool acctsec_keyed_hash_verify(AcctsecKeyPurpose purpose,
									  const bytea *stored,
									  const char *context, size_t context_len,
									  const uint8 *msg, size_t msg_len);

/* totp.c: stateful TOTP credentials */
extern void acctsec_define_totp_gucs(void);
/* Re-seal every TOTP secret not under the current key; returns how many. */
extern int64 acctsec_totp_reseal_all(void);

/*
 * keys.c: can this stored keyed hash be verified (well-formed, made under a
 * key that is in the ring)?  Lets a caller treat a value made under a key
 * no longer configured as simply not matching.
 */
extern bool acctsec_keyed_hash_usable(const bytea *stored);

/*
 * tokens.c: the token format shared by sessions and one-time tokens
 * (docs/sessions.md): prefix, selector (lookup key, stored in clear) and
 * verifier (stored only as a keyed hash, purpose ACCTSEC_KEY_TOKEN).
 */
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
/* One-time tokens: revoke an account's, prune expired ones (counts). */
extern uint64 acctsec_tokens_revoke_account(const text *account);
extern uint64 acctsec_tokens_prune(TimestampTz now);

/*
 * sessions.c: sessions.  acctsec_revoke_account_tokens revokes every
 * session and one-time token of the account (a lockout calls it, holding
 * the account's row lock); returns how many.
 */
extern uint64 acctsec_revoke_account_tokens(const text *account);
extern void acctsec_define_sessions_gucs(void);

/* updated_at.c: settings of the updated_at trigger and its attachment */
extern void acctsec_define_updated_at_gucs(void);

/* linked_tables.c: the password column of the linked table, for login.c */
extern bool acctsec_linked_password(const text *account, char **hash,
									size_t *hash_len);
extern bool acctsec_linked_password_replace(const text *account,
											const char *verified,
											const char *hash);

/*
 * backup_codes.c: a typed or imported backup code as the symbols that are
 * hashed (lower-case letters and digits, spaces and dashes dropped); out has
 * room for ACCTSEC_BACKUP_CODE_MAX_INPUT bytes.  0: not a code.
 */
#define ACCTSEC_BACKUP_CODE_MAX_INPUT	64
#define ACCTSEC_BACKUP_CODE_MIN_SYMBOLS	6
extern int	acctsec_backup_code_normalize(const char *in, size_t len, char *out);

/* passwords.c: hashing and verification, shared with acctsec.login */
extern void acctsec_define_password_gucs(void);
extern char *acctsec_password_hash_datum(Datum password);
extern bool acctsec_password_verify_datum(Datum password, const char *hash,
										  size_t hash_len);
extern bool acctsec_password_is_current(const char *hash, size_t len);
extern bool acctsec_password_verify_for(Datum password, const char *hash,
										size_t hash_len, const char *account);
extern bool acctsec_password_needs_rehash_str(const char *hash, size_t len);

/* How acctsec.login rewrites an outdated hash (passwords.c) */
typedef enum AcctsecRehashMode
{
	ACCTSEC_REHASH_FRAMEWORK,	/* in the framework's wrapping, if it reads Argon2id */
	ACCTSEC_REHASH_ARGON2ID,	/* also bare $argon2id$ for every other format */
	ACCTSEC_REHASH_NEVER
} AcctsecRehashMode;
extern char *acctsec_password_rehash_wrapped(Datum password, const char *stored,
											 size_t len, AcctsecRehashMode mode);
extern AcctsecRehashMode acctsec_linked_password_rehash_mode(void);

/* spi_util.c: SPI plumbing shared by every capability */
extern void acctsec_spi_connect(void);
extern void acctsec_spi_finish(void);
extern SPIPlanPtr acctsec_keep_plan(SPIPlanPtr *slot, const char *sql,
									int nargs, const Oid *argtypes);
extern uint64 acctsec_run_saved_plan(SPIPlanPtr *slot, const char *sql,
									 int nargs, const Oid *argtypes,
									 Datum *values, const char *nulls,
									 bool read_only, long tcount);
extern bool acctsec_probe_unique(const char *table, const char *index,
								 int nkeys, const Datum *keys, int natts,
								 const char *const *attnames, Datum *values,
								 bool *nulls);

/*
 * spi_util.c: the one privilege switch.  Between the two calls the backend
 * acts as role, in a security-restricted operation with search_path
 * pg_catalog, pg_temp; an error in between is undone by transaction abort.
 */
typedef struct AcctsecRoleSwitch
{
	Oid			save_userid;
	int			save_sec_context;
	int			save_nestlevel;
} AcctsecRoleSwitch;

extern void acctsec_become_role(Oid role, AcctsecRoleSwitch *sw);
extern void acctsec_restore_role(AcctsecRoleSwitch *sw);

#endif							/* ACCTSEC_H */
