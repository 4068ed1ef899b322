/*
 * keys.h
 *		keys.c: the one key module behind every AEAD and keyed hash
 *		(docs/keys.md).
 *
 * Each purpose has its own subkey derived from the master key; never reuse
 * a purpose number for something else (stored values name it implicitly).
 * Stored values carry the fingerprint of the key they were made under, so
 * they keep working after a rotation while that key is still configured.
 */
#ifndef ACCTSEC_KEYS_H
#define ACCTSEC_KEYS_H

#define ACCTSEC_KEY_ID_BYTES	4

typedef enum AcctsecKeyPurpose
{
	ACCTSEC_KEY_TOTP_SECRET = 1,	/* AEAD of TOTP secrets */
	ACCTSEC_KEY_BACKUP_CODE = 2,	/* keyed hash of backup codes */
	ACCTSEC_KEY_TOKEN = 3,		/* keyed hash of session/one-time tokens */
	ACCTSEC_KEY_AUDIT_SIGN = 4	/* seed of the Ed25519 key of audit
								 * checkpoints */
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

/* The acctsec.secret_key* settings; called once from _PG_init. */
extern void acctsec_define_keys_gucs(void);

extern AcctsecSecret *acctsec_secret_alloc(size_t len);
extern void acctsec_secret_free(AcctsecSecret *s);

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

/*
 * Can this stored keyed hash be verified (well-formed, made under a key
 * that is in the ring)?  Lets a caller treat a value made under a key no
 * longer configured as simply not matching.
 */
extern bool acctsec_keyed_hash_usable(const bytea *stored);

/*
 * Audit checkpoints (audit_chain.c): Ed25519 signature of msg under the
 * current key's signing key (its public key into pk, 32 bytes; the
 * signature into sig, 64 bytes); the current public key; is pk the public
 * key of a key in the ring?
 */
extern void acctsec_audit_sign(const uint8 *msg, size_t msg_len, uint8 *pk, uint8 *sig);
extern void acctsec_audit_signing_key(uint8 *pk);
extern bool acctsec_audit_public_key_known(const uint8 *pk);

#endif							/* ACCTSEC_KEYS_H */
