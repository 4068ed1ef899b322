/*
 * pwformat.h
 *		Reading the password hash strings that applications store.
 *
 * Plain C with no backend headers, so that a fuzzer builds it outside the
 * server (test/fuzz/fuzz_pwformat.c).  It only reads strings: it recognises
 * the format (one table, pw_formats[] in pwformat.c), checks its syntax,
 * decodes salts and digests, and reads the work the hash asks for.  The
 * hashing itself, and the caps on that work, are passwords.c's.
 */
#ifndef ACCTSEC_PWFORMAT_H
#define ACCTSEC_PWFORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longer than any real hash string (Argon2 with a 64-byte salt and hash). */
#define PW_MAX_HASH_BYTES		512
#define PW_MAX_SALT_BYTES		128
#define PW_MAX_DIGEST_BYTES		128

/* How the work is done: one verifier per kind (passwords.c). */
typedef enum PwKind
{
	PWK_ARGON2,					/* libsodium, canonical PHC string */
	PWK_CRYPT,					/* libxcrypt crypt_rn on a crypt(3) string */
	PWK_PBKDF2,					/* PBKDF2-HMAC, raw salt and digest */
	PWK_SCRYPT,					/* scrypt, raw salt and digest */
	PWK_PHPASS,					/* iterated MD5, phpass portable hash */
	PWK_DRUPAL7					/* iterated SHA-512, Drupal 7 */
} PwKind;

/* What is done to the password before a crypt(3) bcrypt. */
typedef enum PwPrehash
{
	PWPRE_NONE,
	PWPRE_SHA256_HEX,			/* Django bcrypt_sha256: hex(SHA-256(pw)) */
	PWPRE_SHA256_B64,			/* passlib bcrypt-sha256 v1: b64(SHA-256(pw)) */
	PWPRE_HMAC_SHA256_B64,		/* passlib v2: b64(HMAC-SHA256(salt, pw)) */
	PWPRE_HMAC_SHA384_B64		/* WordPress 6.8: b64(HMAC-SHA384('wp-sha384',
								 * pw)) */
} PwPrehash;

typedef enum PwDigest
{
	PWD_SHA1,
	PWD_SHA256,
	PWD_SHA512
} PwDigest;

typedef enum PwParseResult
{
	PWP_OK,
	PWP_UNKNOWN,				/* no format recognises the string */
	PWP_MALFORMED,				/* recognised, but not well formed */
	PWP_UNSUPPORTED				/* well formed, a variant acctsec cannot
								 * verify */
} PwParseResult;

/* Where a hash comes from: it decides the wrapping of a rehash. */
typedef enum PwWrapping
{
	PWW_NONE,					/* a bare standard string, many readers */
	PWW_DJANGO,					/* Django: rehash as argon2$argon2id$... */
	PWW_SPRING,					/* Spring: rehash as {argon2}$argon2id$... */
	PWW_FOREIGN					/* a framework that cannot read Argon2id */
} PwWrapping;

typedef struct PwParsed PwParsed;

typedef struct PwFormat
{
	const char *name;			/* "Django PBKDF2", for events and docs */
	const char *family;			/* "PBKDF2": what security events name */
	const char *prefixes;		/* documentation: the prefixes it reads */
	PwKind		kind;
	PwWrapping	wrapping;
	/* how a string is recognised: space-separated prefixes, or a shape */
	const char *leads;
	bool		(*shape) (const char *s, size_t len);
	/* a wrapper: the bytes of its prefix dropped, and the prehash it asks */
	size_t		skip;
	PwPrehash	prehash;
	/* fill the parsed form of s + skip; called only when recognised */
	PwParseResult (*parse) (const char *s, size_t len, PwParsed *out);
} PwFormat;

struct PwParsed
{
	const PwFormat *format;
	PwPrehash	prehash;
	PwDigest	digest;			/* PBKDF2 */
	bool		argon2id;		/* Argon2: id (else i) */

	/* the work the hash asks for, read before any work is done */
	uint64_t	iterations;		/* PBKDF2, phpass, Drupal, sha-crypt rounds */
	uint64_t	memory_kib;		/* Argon2, scrypt, yescrypt */
	uint64_t	passes;			/* Argon2 t */
	uint64_t	lanes;			/* Argon2 p, scrypt p */
	uint64_t	cost;			/* bcrypt cost, scrypt log2(N) */
	uint64_t	scrypt_n;
	uint64_t	scrypt_r;

	/*
	 * The string handed to libsodium or libxcrypt (NUL-terminated): the
	 * canonical Argon2 string (parameters in libsodium's order), the inner
	 * crypt(3) string of a wrapped bcrypt, the hash itself otherwise.  For
	 * phpass and Drupal, the setting (the first 12 characters) and the
	 * encoded digest that follows it.
	 */
	char		setting[PW_MAX_HASH_BYTES + 1];
	size_t		setting_len;
	/* passlib bcrypt-sha256 v2: the HMAC key is the salt's 22 characters */
	char		hmac_key[32];
	size_t		hmac_key_len;

	uint8_t		salt[PW_MAX_SALT_BYTES];
	size_t		salt_len;
	uint8_t		expected[PW_MAX_DIGEST_BYTES];
	size_t		expected_len;
};

extern const PwFormat pw_formats[];
extern const int pw_nformats;

/* Does s look like format f (one of its prefixes, or its shape)? */
extern bool pw_recognises(const PwFormat *f, const char *s, size_t len);

/* Recognise and parse a stored hash; out->format is set unless UNKNOWN. */
extern PwParseResult pw_parse(const char *s, size_t len, PwParsed *out);

/* phpass's base64 (./0-9A-Za-z, little-endian groups) of n bytes. */
extern size_t pw_phpass_encode64(const uint8_t *in, size_t n, char *out, size_t outsize);

#endif							/* ACCTSEC_PWFORMAT_H */
