/*
 * acctsec.h
 *		Prototypes shared between acctsec's C files.  No code here.
 */
#ifndef ACCTSEC_H
#define ACCTSEC_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "otp.h"

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
extern char *acctsec_totp_uri_build(const uint8 *secret, size_t secret_len,
									const char *label, size_t label_len,
									const char *issuer, size_t issuer_len,
									int digits, int period, OtpAlgorithm alg);

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
	ACCTSEC_KEY_TOKEN = 3		/* keyed hash of session/one-time tokens */
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

#endif							/* ACCTSEC_H */
