/*
 * passwords.h
 *		passwords.c: password hashing and verification (docs/passwords.md),
 *		shared with acctsec.login (login.c).
 */
#ifndef ACCTSEC_PASSWORDS_H
#define ACCTSEC_PASSWORDS_H

/* How acctsec.login rewrites an outdated hash */
typedef enum AcctsecRehashMode
{
	ACCTSEC_REHASH_FRAMEWORK,	/* in the framework's wrapping, if it reads
								 * Argon2id */
	ACCTSEC_REHASH_ARGON2ID,	/* also bare $argon2id$ for every other format */
	ACCTSEC_REHASH_NEVER
} AcctsecRehashMode;

/* The acctsec.password_* settings; called once from _PG_init. */
extern void acctsec_define_password_gucs(void);

extern char *acctsec_password_hash_datum(Datum password);
extern bool acctsec_password_verify_datum(Datum password, const char *hash,
										  size_t hash_len);
extern bool acctsec_password_is_current(const char *hash, size_t len);
extern bool acctsec_password_verify_for(Datum password, const char *hash,
										size_t hash_len, const char *account);
extern bool acctsec_password_needs_rehash_str(const char *hash, size_t len);
extern char *acctsec_password_rehash_wrapped(Datum password, const char *stored,
											 size_t len, AcctsecRehashMode mode);

#endif							/* ACCTSEC_PASSWORDS_H */
