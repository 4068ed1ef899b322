/*
 * passwords.c
 *		Password hashing and verification (docs/passwords.md).
 *
 * New hashes are Argon2id from libsodium, in the standard PHC string form
 * $argon2id$v=19$m=<KiB>,t=<passes>,p=1$<salt>$<hash>.  Verification
 * accepts what existing applications hold, as their frameworks write them:
 * pwformat.c reads the string (one table of formats); here one verifier and
 * one set of work caps per kind of work does the rest (verifiers[] below):
 *
 *   Argon2   libsodium crypto_pwhash_str_verify, on the canonical string
 *   crypt    libxcrypt crypt_rn (bcrypt, sha-crypt, yescrypt, $7$, ...),
 *            after the wrapper's pre-hash (SHA-256, HMAC-SHA256 or
 *            HMAC-SHA384, from libsodium and common/hmac.h)
 *   PBKDF2   OpenSSL's PKCS5_PBKDF2_HMAC.  PostgreSQL links OpenSSL and its
 *            common/hmac.h wraps it; common/ has no PBKDF2 of its own for
 *            SHA-1 or SHA-512 (scram_SaltedPassword is SHA-256, one block,
 *            and re-keys the HMAC every round, twice the work), and this is
 *            the very function Python's hashlib.pbkdf2_hmac calls, so a
 *            hash costs here what it costs the framework.
 *   scrypt   libsodium crypto_pwhash_scryptsalsa208sha256_ll
 *   phpass   MD5 from OpenSSL's EVP interface, iterated as phpass does
 *   Drupal 7 SHA-512 from libsodium, iterated as Drupal does
 *
 * Digests are compared with sodium_memcmp.
 *
 * A stored hash is data an attacker may have planted, so the work it asks
 * for is read from the string and capped before any hashing starts.  And a
 * stored hash never raises: an unknown, malformed, unsupported or over-cap
 * hash answers false, with a WARNING that names the format family and never
 * the hash or the password, and a security event password.hash_refused
 * (family, format, reason).  An ERROR would put the statement, and with it a
 * password a client interpolated, into the server log.
 *
 * The password is copied once into a scratch memory context whose reset
 * callback wipes every copy, every pre-hash and libxcrypt's work area with
 * sodium_memzero, on success and on error alike.
 */
#include "postgres.h"

#include <crypt.h>
#include <sodium.h>
#include <openssl/evp.h>

#include "access/parallel.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "common/cryptohash.h"
#include "common/hmac.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "compat.h"
#include "events.h"
#include "passwords.h"
#include "pwformat.h"

PG_FUNCTION_INFO_V1(acctsec_password_hash);
PG_FUNCTION_INFO_V1(acctsec_password_verify);
PG_FUNCTION_INFO_V1(acctsec_password_needs_rehash);
PG_FUNCTION_INFO_V1(acctsec_password_hash_format);

/* OWASP's minimum for Argon2id: 19 MiB, 2 passes, 1 lane. */
#define ACCTSEC_PASSWORD_DEFAULT_MEMORY_KIB	19456
#define ACCTSEC_PASSWORD_DEFAULT_ITERATIONS	2

/* Settings (GUCs); all PGC_SUSET. */
static int	acctsec_password_memory_kib = ACCTSEC_PASSWORD_DEFAULT_MEMORY_KIB;
static int	acctsec_password_iterations = ACCTSEC_PASSWORD_DEFAULT_ITERATIONS;
static int	acctsec_password_max_memory_kib = 262144;
static int	acctsec_password_max_iterations = 2000000;
static int	acctsec_password_max_shacrypt_rounds = 1000000;
static int	acctsec_password_max_bcrypt_cost = 15;

/* libsodium's Argon2 needs at least 8 KiB; 4 GiB is far beyond any use. */
#define ACCTSEC_ARGON2_MIN_MEMORY_KIB	8
#define ACCTSEC_ARGON2_MAX_MEMORY_KIB	4194304
/* More Argon2 passes than any library's strongest preset (libsodium: 8). */
#define ACCTSEC_ARGON2_MAX_PASSES		16
#define ACCTSEC_ARGON2_MAX_LANES		64
/* scrypt's p multiplies its time; frameworks write 1 (passlib, Django) */
#define ACCTSEC_SCRYPT_MAX_P			16
/* Longer than any real password; bounds the per-round cost of SHA-crypt. */
#define ACCTSEC_MAX_PASSWORD_BYTES		4096

/* What password_hash writes: a 16-byte salt and a 32-byte hash. */
#define ACCTSEC_ARGON2_SALT_BYTES	16
#define ACCTSEC_ARGON2_HASH_BYTES	32

/* Why a stored hash was refused; the names are those of the event. */
typedef enum PwRefusal
{
	PWR_NONE,
	PWR_UNKNOWN,
	PWR_MALFORMED,
	PWR_UNSUPPORTED,
	PWR_OVER_CAP
} PwRefusal;

static const char *const refusal_names[] = {
	"none", "unknown_format", "malformed", "unsupported", "over_cap"
};

/*
 * Scratch space of one call: the copies of the password, what is derived
 * from it, and libxcrypt's work area, wiped by a reset callback of their
 * own memory context.
 */
#define PW_MAX_SECRETS 4

typedef struct PasswordWork
{
	MemoryContext cxt;
	MemoryContextCallback wipe;
	char	   *password;		/* NUL-terminated copy */
	size_t		password_len;
	struct varlena *detoasted;	/* argument copy made by detoasting, if any */
	void	   *secrets[PW_MAX_SECRETS];	/* pre-hashes, derived digests */
	size_t		secret_sizes[PW_MAX_SECRETS];
	int			nsecrets;
} PasswordWork;

void
acctsec_define_password_gucs(void)
{
	DefineCustomIntVariable("acctsec.password_memory_kib",
							"Memory of new Argon2id password hashes.",
							"OWASP's minimum is 19456 kB (19 MiB) with 2 passes.",
							&acctsec_password_memory_kib,
							ACCTSEC_PASSWORD_DEFAULT_MEMORY_KIB,
							ACCTSEC_ARGON2_MIN_MEMORY_KIB,
							ACCTSEC_ARGON2_MAX_MEMORY_KIB,
							PGC_SUSET, GUC_UNIT_KB,
							NULL, NULL, NULL);
	DefineCustomIntVariable("acctsec.password_iterations",
							"Passes of new Argon2id password hashes.",
							NULL,
							&acctsec_password_iterations,
							ACCTSEC_PASSWORD_DEFAULT_ITERATIONS,
							1, ACCTSEC_ARGON2_MAX_PASSES,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("acctsec.password_max_memory_kib",
							"Most memory a stored Argon2, scrypt or yescrypt hash may ask for.",
							"Hashes asking for more are refused before any work is done.",
							&acctsec_password_max_memory_kib,
							262144,
							ACCTSEC_ARGON2_MIN_MEMORY_KIB,
							ACCTSEC_ARGON2_MAX_MEMORY_KIB,
							PGC_SUSET, GUC_UNIT_KB,
							NULL, NULL, NULL);
	DefineCustomIntVariable("acctsec.password_max_iterations",
							"Most iterations a stored PBKDF2, phpass or Drupal hash may ask for.",
							"For PBKDF2, iterations times the blocks of the digest asked for.",
							&acctsec_password_max_iterations,
							2000000, 1, INT_MAX,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("acctsec.password_max_shacrypt_rounds",
							"Most rounds a stored sha-crypt or sha1crypt hash may ask for.",
							NULL,
							&acctsec_password_max_shacrypt_rounds,
							1000000, 1000, 999999999,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("acctsec.password_max_bcrypt_cost",
							"Highest cost a stored bcrypt hash may ask for.",
							"Each step doubles the work; 15 takes about two seconds.",
							&acctsec_password_max_bcrypt_cost,
							15, 4, 31,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
}

/* ------------------------------------------------------------------------
 * Scratch space that wipes itself
 * ------------------------------------------------------------------------ */

static void
password_work_wipe(void *arg)
{
	PasswordWork *w = (PasswordWork *) arg;

	if (w->password != NULL)
		sodium_memzero(w->password, w->password_len + 1);
	if (w->detoasted != NULL)
		sodium_memzero(w->detoasted, VARSIZE_ANY(w->detoasted));
	for (int i = 0; i < w->nsecrets; i++)
		sodium_memzero(w->secrets[i], w->secret_sizes[i]);
}

/*
 * Start a call's scratch space.  The context is a child of the caller's, so
 * it is deleted, and the callback run, on error too.
 */
static PasswordWork *
password_work_begin(void)
{
	MemoryContext cxt;
	PasswordWork *w;

	cxt = AllocSetContextCreate(CurrentMemoryContext, "acctsec password",
								ALLOCSET_SMALL_SIZES);
	w = MemoryContextAllocZero(cxt, sizeof(PasswordWork));
	w->cxt = cxt;
	w->wipe.func = password_work_wipe;
	w->wipe.arg = w;
	MemoryContextRegisterResetCallback(cxt, &w->wipe);
	return w;
}

static void
password_work_end(PasswordWork *w)
{
	MemoryContextDelete(w->cxt);	/* runs the wipe */
}

/* A zeroed buffer of the scratch space that is wiped with the rest. */
static void *
password_work_secret(PasswordWork *w, size_t size)
{
	void	   *p;

	if (w->nsecrets >= PW_MAX_SECRETS)
		elog(ERROR, "too many password work buffers");
	p = MemoryContextAllocZero(w->cxt, size);
	w->secrets[w->nsecrets] = p;
	w->secret_sizes[w->nsecrets] = size;
	w->nsecrets++;
	return p;
}

/*
 * Copy a password argument into the scratch space as a C string.  If
 * fetching the argument detoasted it into a fresh copy, that copy is wiped
 * with the rest.  False if it is longer than any password acctsec hashes.
 */
static bool
password_work_set_arg(PasswordWork *w, Datum arg)
{
	struct varlena *raw = (struct varlena *) DatumGetPointer(arg);
	text	   *t = (text *) pg_detoast_datum_packed(raw);

	if ((struct varlena *) t != raw)
		w->detoasted = (struct varlena *) t;
	w->password_len = VARSIZE_ANY_EXHDR(t);
	if (w->password_len > ACCTSEC_MAX_PASSWORD_BYTES)
		return false;
	w->password = MemoryContextAlloc(w->cxt, w->password_len + 1);
	memcpy(w->password, VARDATA_ANY(t), w->password_len);
	w->password[w->password_len] = '\0';
	return true;
}

/* ------------------------------------------------------------------------
 * Work caps, one per kind, read from the parsed hash before any work
 * ------------------------------------------------------------------------ */

typedef struct CapCheck
{
	const char *what;			/* "memory (kB)", for the WARNING's detail */
	uint64		asked;
	uint64		limit;
} CapCheck;

static bool
over(CapCheck *c, const char *what, uint64 asked, uint64 limit)
{
	if (asked <= limit)
		return false;
	c->what = what;
	c->asked = asked;
	c->limit = limit;
	return true;
}

static bool
caps_argon2(const PwParsed *h, CapCheck *c)
{
	return over(c, "memory (kB)", h->memory_kib, (uint64) acctsec_password_max_memory_kib) ||
		over(c, "passes", h->passes, ACCTSEC_ARGON2_MAX_PASSES) ||
		over(c, "lanes", h->lanes, ACCTSEC_ARGON2_MAX_LANES);
}

static bool
caps_crypt(const PwParsed *h, CapCheck *c)
{
	if (strcmp(h->format->family, "bcrypt") == 0)
		return over(c, "cost", h->cost, (uint64) acctsec_password_max_bcrypt_cost);
	return over(c, "memory (kB)", h->memory_kib, (uint64) acctsec_password_max_memory_kib) ||
		over(c, "rounds", h->iterations, (uint64) acctsec_password_max_shacrypt_rounds) ||
		over(c, "parallelism", h->lanes, ACCTSEC_SCRYPT_MAX_P);
}

static size_t
digest_bytes(PwDigest d)
{
	return d == PWD_SHA1 ? 20 : d == PWD_SHA256 ? 32 : 64;
}

static bool
caps_pbkdf2(const PwParsed *h, CapCheck *c)
{
	uint64		blocks = (h->expected_len + digest_bytes(h->digest) - 1) /
		digest_bytes(h->digest);
	uint64		work = h->iterations > PG_UINT64_MAX / 8 ? h->iterations :
		h->iterations * blocks;

	return over(c, "iterations", work, (uint64) acctsec_password_max_iterations);
}

static bool
caps_scrypt(const PwParsed *h, CapCheck *c)
{
	return over(c, "memory (kB)", h->memory_kib, (uint64) acctsec_password_max_memory_kib) ||
		over(c, "parallelism", h->lanes, ACCTSEC_SCRYPT_MAX_P);
}

static bool
caps_iterated(const PwParsed *h, CapCheck *c)
{
	return over(c, "iterations", h->iterations, (uint64) acctsec_password_max_iterations);
}

/* ------------------------------------------------------------------------
 * Verifiers, one per kind; the hash is parsed and within the caps
 * ------------------------------------------------------------------------ */

static bool
verify_argon2(PasswordWork *w, PwParsed *h)
{
	/* setting[] is longer than crypto_pwhash_STRBYTES, as libsodium wants */
	StaticAssertStmt(sizeof(h->setting) >= crypto_pwhash_STRBYTES,
					 "setting too short for libsodium");
	/* -1 is a mismatch, or a verification libsodium could not finish */
	return crypto_pwhash_str_verify(h->setting, w->password, w->password_len) == 0;
}

static void
hmac_b64(pg_cryptohash_type type, const uint8 *key, size_t keylen,
		 const char *msg, size_t msglen, uint8 *mac, size_t maclen,
		 char *out, size_t outsize)
{
	pg_hmac_ctx *ctx = pg_hmac_create(type);

	if (ctx == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	if (pg_hmac_init(ctx, key, keylen) < 0 ||
		pg_hmac_update(ctx, (const uint8 *) msg, msglen) < 0 ||
		pg_hmac_final(ctx, mac, maclen) < 0)
	{
		pg_hmac_free(ctx);
		elog(ERROR, "could not compute HMAC");
	}
	pg_hmac_free(ctx);
	sodium_bin2base64(out, outsize, mac, maclen, sodium_base64_VARIANT_ORIGINAL);
}

/* The password as the wrapped bcrypt sees it (a wrapper's pre-hash). */
static const char *
crypt_input(PasswordWork *w, PwParsed *h)
{
	uint8	   *digest;
	char	   *out;

	if (h->prehash == PWPRE_NONE)
		return w->password;
	digest = password_work_secret(w, 64);
	out = password_work_secret(w, 129);
	switch (h->prehash)
	{
		case PWPRE_SHA256_HEX:
			crypto_hash_sha256(digest, (const uint8 *) w->password, w->password_len);
			sodium_bin2hex(out, 129, digest, crypto_hash_sha256_BYTES);
			break;
		case PWPRE_SHA256_B64:
			crypto_hash_sha256(digest, (const uint8 *) w->password, w->password_len);
			sodium_bin2base64(out, 129, digest, crypto_hash_sha256_BYTES,
							  sodium_base64_VARIANT_ORIGINAL);
			break;
		case PWPRE_HMAC_SHA256_B64:
			hmac_b64(PG_SHA256, (const uint8 *) h->hmac_key, h->hmac_key_len,
					 w->password, w->password_len, digest, 32, out, 129);
			break;
		case PWPRE_HMAC_SHA384_B64:
			hmac_b64(PG_SHA384, (const uint8 *) "wp-sha384", 9,
					 w->password, w->password_len, digest, 48, out, 129);
			break;
		case PWPRE_NONE:
			break;
	}
	return out;
}

static bool
verify_crypt(PasswordWork *w, PwParsed *h)
{
	struct crypt_data *data = password_work_secret(w, sizeof(struct crypt_data));
	const char *input = crypt_input(w, h);
	char	   *res;

	res = crypt_rn(input, h->setting, data, sizeof(struct crypt_data));
	/* a setting libxcrypt refuses, or a result of another length: no match */
	if (res == NULL || res[0] == '*' || strlen(res) != h->setting_len)
		return false;
	return sodium_memcmp(res, h->setting, h->setting_len) == 0;
}

static bool
verify_pbkdf2(PasswordWork *w, PwParsed *h)
{
	uint8	   *dk = password_work_secret(w, h->expected_len);
	const EVP_MD *md = h->digest == PWD_SHA1 ? EVP_sha1() :
		h->digest == PWD_SHA256 ? EVP_sha256() : EVP_sha512();

	if (PKCS5_PBKDF2_HMAC(w->password, (int) w->password_len,
						  h->salt, (int) h->salt_len, (int) h->iterations,
						  md, (int) h->expected_len, dk) != 1)
		elog(ERROR, "could not compute PBKDF2");
	return sodium_memcmp(dk, h->expected, h->expected_len) == 0;
}

static bool
verify_scrypt(PasswordWork *w, PwParsed *h)
{
	uint8	   *dk = password_work_secret(w, h->expected_len);

	/* -1: parameters libsodium refuses, or memory it could not get */
	if (crypto_pwhash_scryptsalsa208sha256_ll((const uint8 *) w->password,
											  w->password_len,
											  h->salt, h->salt_len,
											  h->scrypt_n, (uint32) h->scrypt_r,
											  (uint32) h->lanes,
											  dk, h->expected_len) != 0)
		return false;
	return sodium_memcmp(dk, h->expected, h->expected_len) == 0;
}

/*
 * phpass: x = MD5(salt . pw), then count times x = MD5(x . pw).  MD5 from
 * OpenSSL's EVP interface with the digest fetched once: common/cryptohash.h
 * (the same OpenSSL underneath) looks the algorithm up again on every
 * initialisation, which costs more than the 8192 MD5s of a WordPress hash.
 */
static bool
verify_phpass(PasswordWork *w, PwParsed *h)
{
	uint8	   *x = password_work_secret(w, 16);
	char		enc[32];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	EVP_MD	   *md = EVP_MD_fetch(NULL, "MD5", NULL);
#else
	const EVP_MD *md = EVP_md5();
#endif
	unsigned int n;
	bool		ok = ctx != NULL && md != NULL &&
		EVP_DigestInit_ex(ctx, md, NULL) == 1 &&
		EVP_DigestUpdate(ctx, h->salt, 8) == 1 &&
		EVP_DigestUpdate(ctx, w->password, w->password_len) == 1 &&
		EVP_DigestFinal_ex(ctx, x, &n) == 1;

	for (uint64 i = 0; ok && i < h->iterations; i++)
		ok = EVP_DigestInit_ex(ctx, md, NULL) == 1 &&
			EVP_DigestUpdate(ctx, x, 16) == 1 &&
			EVP_DigestUpdate(ctx, w->password, w->password_len) == 1 &&
			EVP_DigestFinal_ex(ctx, x, &n) == 1;
	EVP_MD_CTX_free(ctx);
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	EVP_MD_free(md);
#endif
	if (!ok)
		elog(ERROR, "could not compute MD5");
	if (pw_phpass_encode64(x, 16, enc, sizeof(enc)) != 22)
		elog(ERROR, "phpass encoding failed");
	ok = sodium_memcmp(enc, h->setting + 12, 22) == 0;
	sodium_memzero(enc, sizeof(enc));
	return ok;
}

/* Drupal 7: x = SHA-512(salt . pw), then count times x = SHA-512(x . pw) */
static bool
verify_drupal7(PasswordWork *w, PwParsed *h)
{
	uint8	   *x = password_work_secret(w, crypto_hash_sha512_BYTES);
	crypto_hash_sha512_state *st = password_work_secret(w, sizeof(crypto_hash_sha512_state));
	char		enc[96];
	bool		ok;

	crypto_hash_sha512_init(st);
	crypto_hash_sha512_update(st, h->salt, 8);
	crypto_hash_sha512_update(st, (const uint8 *) w->password, w->password_len);
	crypto_hash_sha512_final(st, x);
	for (uint64 i = 0; i < h->iterations; i++)
	{
		crypto_hash_sha512_init(st);
		crypto_hash_sha512_update(st, x, crypto_hash_sha512_BYTES);
		crypto_hash_sha512_update(st, (const uint8 *) w->password, w->password_len);
		crypto_hash_sha512_final(st, x);
	}
	if (pw_phpass_encode64(x, 64, enc, sizeof(enc)) != 86)
		elog(ERROR, "Drupal encoding failed");
	/* Drupal keeps the first 55 characters: 12 of setting, 43 of digest */
	ok = sodium_memcmp(enc, h->setting + 12, 43) == 0;
	sodium_memzero(enc, sizeof(enc));
	return ok;
}

typedef struct PwVerifier
{
	PwKind		kind;
	bool		(*caps) (const PwParsed *h, CapCheck *c);
	bool		(*verify) (PasswordWork *w, PwParsed *h);
} PwVerifier;

static const PwVerifier verifiers[] = {
	[PWK_ARGON2] = {PWK_ARGON2, caps_argon2, verify_argon2},
	[PWK_CRYPT] = {PWK_CRYPT, caps_crypt, verify_crypt},
	[PWK_PBKDF2] = {PWK_PBKDF2, caps_pbkdf2, verify_pbkdf2},
	[PWK_SCRYPT] = {PWK_SCRYPT, caps_scrypt, verify_scrypt},
	[PWK_PHPASS] = {PWK_PHPASS, caps_iterated, verify_phpass},
	[PWK_DRUPAL7] = {PWK_DRUPAL7, caps_iterated, verify_drupal7},
};

/* ------------------------------------------------------------------------
 * Refusals: a WARNING and a security event, never an error
 * ------------------------------------------------------------------------ */

static void
refuse(PwRefusal why, const PwParsed *h, const CapCheck *c, const char *account)
{
	const char *family = h->format ? h->format->family : "unknown";
	const char *format = h->format ? h->format->name : "unknown";

	/*
	 * The WARNING leaves out the statement and the context from the server
	 * log (the client still gets them): either may quote the password, a
	 * literal in a function's query or a parameter a client interpolated.
	 */
	switch (why)
	{
		case PWR_UNKNOWN:
			ereport(WARNING,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errhidestmt(true), errhidecontext(true),
					 errmsg("stored password hash has a format acctsec does not know"),
					 errdetail("The password is treated as wrong."),
					 errhint("docs/passwords.md lists the formats acctsec verifies.")));
			break;
		case PWR_MALFORMED:
			ereport(WARNING,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errhidestmt(true), errhidecontext(true),
					 errmsg("stored %s password hash (%s) is malformed", family, format),
					 errdetail("The password is treated as wrong.")));
			break;
		case PWR_UNSUPPORTED:
			ereport(WARNING,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errhidestmt(true), errhidecontext(true),
					 errmsg("stored %s password hash (%s) is a variant acctsec cannot verify",
							family, format),
					 errdetail("The password is treated as wrong.")));
			break;
		case PWR_OVER_CAP:
			ereport(WARNING,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errhidestmt(true), errhidecontext(true),
					 errmsg("stored %s password hash (%s) asks for more work than acctsec allows",
							family, format),
					 errdetail("The hash asks for %s " UINT64_FORMAT "; the limit is " UINT64_FORMAT ". The password is treated as wrong.",
							   c->what, c->asked, c->limit)));
			break;
		case PWR_NONE:
			return;
	}

	/*
	 * The event is an audit row: it cannot be written in a read-only
	 * transaction or a parallel worker, where the WARNING has to do.
	 */
	if (!RecoveryInProgress() && !XactReadOnly && !IsInParallelMode())
		acctsec_security_event("password.hash_refused", account,
							   "family", family,
							   "format", format,
							   "reason", refusal_names[why],
							   NULL);
}

/* ------------------------------------------------------------------------
 * Hashing
 * ------------------------------------------------------------------------ */

/* A new Argon2id hash of w->password, palloc'd. */
static char *
argon2id_hash(PasswordWork *w, uint64 memory_kib, uint64 passes)
{
	char		out[crypto_pwhash_STRBYTES];

	if (memory_kib > (uint64) acctsec_password_max_memory_kib)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("acctsec.password_memory_kib exceeds acctsec.password_max_memory_kib"),
				 errdetail("Hashes made with " UINT64_FORMAT " kB could not be verified under a limit of %d kB.",
						   memory_kib, acctsec_password_max_memory_kib)));

	if (crypto_pwhash_str_alg(out, w->password, w->password_len,
							  (unsigned long long) passes,
							  (size_t) memory_kib * 1024,
							  crypto_pwhash_ALG_ARGON2ID13) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory"),
				 errdetail("Argon2id could not allocate " UINT64_FORMAT " kB.",
						   memory_kib)));
	return pstrdup(out);
}

/* ------------------------------------------------------------------------
 * C API (passwords.h), shared with acctsec.login
 * ------------------------------------------------------------------------ */

/*
 * A new Argon2id hash of a password argument (a text Datum), palloc'd.
 * Every copy of the password is wiped.
 */
char *
acctsec_password_hash_datum(Datum password)
{
	PasswordWork *w = password_work_begin();
	char	   *result;

	if (!password_work_set_arg(w, password))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("password is too long"),
				 errdetail("At most %d bytes are accepted.", ACCTSEC_MAX_PASSWORD_BYTES)));
	result = argon2id_hash(w, (uint64) acctsec_password_memory_kib,
						   (uint64) acctsec_password_iterations);
	password_work_end(w);
	return result;
}

/*
 * Does a password argument (a text Datum) match hash?  The hash is parsed
 * and its work checked against the caps before any work; a hash that cannot
 * be verified is refused (false, a WARNING, an event naming the account,
 * which may be NULL).  Every copy of the password is wiped.
 */
bool
acctsec_password_verify_for(Datum password, const char *hash, size_t hash_len,
							const char *account)
{
	PwParsed   *h = palloc(sizeof(PwParsed));
	PwParseResult pr = pw_parse(hash, hash_len, h);
	CapCheck	c;
	PasswordWork *w;
	bool		ok;

	if (pr != PWP_OK)
	{
		refuse(pr == PWP_UNKNOWN ? PWR_UNKNOWN :
			   pr == PWP_UNSUPPORTED ? PWR_UNSUPPORTED : PWR_MALFORMED,
			   h, NULL, account);
		pfree(h);
		return false;
	}
	if (verifiers[h->format->kind].caps(h, &c))
	{
		refuse(PWR_OVER_CAP, h, &c, account);
		pfree(h);
		return false;
	}
	w = password_work_begin();
	if (!password_work_set_arg(w, password))
	{
		/* no hash acctsec makes can match it; not an error (see above) */
		ereport(WARNING,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errhidestmt(true), errhidecontext(true),
				 errmsg("password longer than %d bytes is treated as wrong",
						ACCTSEC_MAX_PASSWORD_BYTES)));
		ok = false;
	}
	else
		ok = verifiers[h->format->kind].verify(w, h);
	password_work_end(w);
	pfree(h);
	return ok;
}

bool
acctsec_password_verify_datum(Datum password, const char *hash, size_t hash_len)
{
	return acctsec_password_verify_for(password, hash, hash_len, NULL);
}

/* Exactly what password_hash makes at the current settings (login's dummy). */
bool
acctsec_password_is_current(const char *h, size_t len)
{
	PwParsed	p;

	return pw_parse(h, len, &p) == PWP_OK && p.format == &pw_formats[0] &&
		p.argon2id &&
		p.memory_kib == (uint64) acctsec_password_memory_kib &&
		p.passes == (uint64) acctsec_password_iterations &&
		p.lanes == 1 &&
		p.salt_len == ACCTSEC_ARGON2_SALT_BYTES &&
		p.expected_len == ACCTSEC_ARGON2_HASH_BYTES;
}

/*
 * Is the hash below the current policy?  Argon2id at or above it (in any
 * wrapping) is not: memory at least acctsec.password_memory_kib, memory
 * times passes at least the policy's, a salt of 16 bytes or more and a hash
 * of 16 or more.  So PHP's m=65536,t=4, node-argon2's m=65536,t=3,p=4,
 * passlib's and Django's m=102400,t=2,p=8 are never rewritten weaker.
 */
bool
acctsec_password_needs_rehash_str(const char *h, size_t len)
{
	PwParsed	p;
	uint64		policy_m = (uint64) acctsec_password_memory_kib;
	uint64		policy_t = (uint64) acctsec_password_iterations;

	if (pw_parse(h, len, &p) != PWP_OK || p.format->kind != PWK_ARGON2 || !p.argon2id)
		return true;
	return !(p.memory_kib >= policy_m &&
			 p.memory_kib * p.passes >= policy_m * policy_t &&
			 p.salt_len >= 16 && p.expected_len >= 16);
}

/*
 * The hash acctsec.login stores after a successful login with an outdated
 * hash, or NULL to leave the stored one alone.  mode is the link's
 * password_rehash option:
 *   ACCTSEC_REHASH_FRAMEWORK: Argon2id in the framework's own wrapping
 *     (Django argon2$, Spring {argon2}) when the format names a framework
 *     that reads it; a bare Argon2 hash becomes a bare Argon2id one (its
 *     readers read both); any other format is left alone, since its
 *     framework (Werkzeug, WordPress, phpass, passlib contexts, bcryptjs,
 *     Devise, ASP.NET Identity) cannot read Argon2id.
 *   ACCTSEC_REHASH_ARGON2ID: as above, and every other format becomes a
 *     bare $argon2id$ string (the application reads those: PHP's
 *     password_verify, passlib with argon2 in its context, node-argon2).
 *   ACCTSEC_REHASH_NEVER: NULL.
 * The new hash is never weaker: an Argon2 hash keeps memory and passes
 * where they are above the settings.
 */
char *
acctsec_password_rehash_wrapped(Datum password, const char *stored, size_t len,
								AcctsecRehashMode mode)
{
	PwParsed	p;
	uint64		m = (uint64) acctsec_password_memory_kib;
	uint64		t = (uint64) acctsec_password_iterations;
	const char *wrap = "";
	PasswordWork *w;
	char	   *hash;

	if (mode == ACCTSEC_REHASH_NEVER || !acctsec_password_needs_rehash_str(stored, len) ||
		pw_parse(stored, len, &p) != PWP_OK)
		return NULL;
	if (p.format->wrapping == PWW_DJANGO)
		wrap = "argon2";
	else if (p.format->wrapping == PWW_SPRING)
		wrap = "{argon2}";
	else if (mode == ACCTSEC_REHASH_FRAMEWORK &&
			 (p.format->wrapping == PWW_FOREIGN || p.format->kind != PWK_ARGON2))
		return NULL;
	if (p.format->kind == PWK_ARGON2)
	{
		m = Max(m, p.memory_kib);
		t = Max(t, p.passes);
	}
	w = password_work_begin();
	if (!password_work_set_arg(w, password))
	{
		password_work_end(w);
		return NULL;
	}
	hash = argon2id_hash(w, m, t);
	password_work_end(w);
	return psprintf("%s%s", wrap, hash);
}

/* ------------------------------------------------------------------------
 * SQL-callable
 * ------------------------------------------------------------------------ */

/* password_hash(password text) RETURNS text */
Datum
acctsec_password_hash(PG_FUNCTION_ARGS)
{
	PasswordWork *w = password_work_begin();
	char	   *result;

	if (!password_work_set_arg(w, PG_GETARG_DATUM(0)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("password is too long"),
				 errdetail("At most %d bytes are accepted.", ACCTSEC_MAX_PASSWORD_BYTES)));
	if (w->password_len == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("password must not be empty")));
	result = argon2id_hash(w, (uint64) acctsec_password_memory_kib,
						   (uint64) acctsec_password_iterations);
	password_work_end(w);
	PG_RETURN_TEXT_P(cstring_to_text(result));
}

/* password_verify(password text, hash text) RETURNS boolean */
Datum
acctsec_password_verify(PG_FUNCTION_ARGS)
{
	text	   *hash = PG_GETARG_TEXT_PP(1);

	/* the hash is checked before the password is touched */
	PG_RETURN_BOOL(acctsec_password_verify_for(PG_GETARG_DATUM(0),
											   VARDATA_ANY(hash),
											   VARSIZE_ANY_EXHDR(hash), NULL));
}

/* password_needs_rehash(hash text) RETURNS boolean */
Datum
acctsec_password_needs_rehash(PG_FUNCTION_ARGS)
{
	text	   *hash = PG_GETARG_TEXT_PP(0);

	PG_RETURN_BOOL(acctsec_password_needs_rehash_str(VARDATA_ANY(hash),
													 VARSIZE_ANY_EXHDR(hash)));
}

/*
 * password_hash_format(hash text) RETURNS text
 *		The format acctsec reads the hash as ("Django PBKDF2"), NULL if none;
 *		a malformed or over-cap hash still names its format.  For surveying
 *		a users table before linking it.
 */
Datum
acctsec_password_hash_format(PG_FUNCTION_ARGS)
{
	text	   *hash = PG_GETARG_TEXT_PP(0);
	PwParsed	p;

	if (pw_parse(VARDATA_ANY(hash), VARSIZE_ANY_EXHDR(hash), &p) == PWP_UNKNOWN)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(p.format->name));
}
