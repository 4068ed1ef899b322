/*
 * passwords.c
 *		Password hashing and verification (docs/passwords.md).
 *
 * New hashes are Argon2id from libsodium, in the standard PHC string form
 * $argon2id$v=19$m=<KiB>,t=<passes>,p=1$<salt>$<hash>.  Verification also
 * accepts what existing applications hold: Argon2id and Argon2i strings made
 * by any conforming tool (libsodium), and the crypt(3) formats bcrypt
 * ($2a$, $2b$, $2y$), SHA-crypt ($5$, $6$) and yescrypt ($y$) through the
 * system's libxcrypt (crypt_rn: reentrant, caller-owned work area).
 *
 * A stored hash is data an attacker may have planted, so the work it asks
 * for is read from the string and capped before any hashing starts: Argon2
 * and yescrypt memory above acctsec.password_max_memory_kib, Argon2 passes
 * above ACCTSEC_ARGON2_MAX_PASSES, bcrypt cost above 15 and SHA-crypt rounds
 * above 1,000,000 are refused with SQLSTATE 22023.
 *
 * The password is copied once into a scratch memory context whose reset
 * callback wipes every copy (and libxcrypt's work area) with sodium_memzero,
 * so the plaintext is erased on success and on error alike.  Errors name the
 * hash scheme and the numbers that exceeded a limit, never the password and
 * never the hash itself.
 */
#include "postgres.h"

#include <crypt.h>
#include <sodium.h>

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "acctsec.h"

PG_FUNCTION_INFO_V1(acctsec_password_hash);
PG_FUNCTION_INFO_V1(acctsec_password_verify);
PG_FUNCTION_INFO_V1(acctsec_password_needs_rehash);

/* OWASP's minimum for Argon2id: 19 MiB, 2 passes, 1 lane. */
#define ACCTSEC_PASSWORD_DEFAULT_MEMORY_KIB	19456
#define ACCTSEC_PASSWORD_DEFAULT_ITERATIONS	2

/* Settings (GUCs); all PGC_SUSET. */
static int	acctsec_password_memory_kib = ACCTSEC_PASSWORD_DEFAULT_MEMORY_KIB;
static int	acctsec_password_iterations = ACCTSEC_PASSWORD_DEFAULT_ITERATIONS;
static int	acctsec_password_max_memory_kib = 262144;

/* libsodium's Argon2 needs at least 8 KiB; 4 GiB is far beyond any use. */
#define ACCTSEC_ARGON2_MIN_MEMORY_KIB	8
#define ACCTSEC_ARGON2_MAX_MEMORY_KIB	4194304
/* More Argon2 passes than any library's strongest preset (libsodium: 8). */
#define ACCTSEC_ARGON2_MAX_PASSES		16
#define ACCTSEC_ARGON2_MAX_LANES		64
#define ACCTSEC_BCRYPT_MAX_COST			15
#define ACCTSEC_SHACRYPT_MAX_ROUNDS		1000000
#define ACCTSEC_SHACRYPT_DEFAULT_ROUNDS 5000
/* Longer than any real password; bounds the per-round cost of SHA-crypt. */
#define ACCTSEC_MAX_PASSWORD_BYTES		4096
/* Longer than any real hash string (Argon2 with a 64-byte salt and hash). */
#define ACCTSEC_MAX_HASH_BYTES			512

/* Salt and hash lengths of what password_hash writes (libsodium's). */
#define ACCTSEC_ARGON2_SALT_B64		22	/* 16 bytes */
#define ACCTSEC_ARGON2_HASH_B64		43	/* 32 bytes */

typedef enum PasswordScheme
{
	PW_UNKNOWN,
	PW_ARGON2ID,
	PW_ARGON2I,
	PW_BCRYPT,
	PW_SHA256CRYPT,
	PW_SHA512CRYPT,
	PW_YESCRYPT
} PasswordScheme;

typedef struct Argon2Params
{
	uint64		version;
	uint64		memory_kib;
	uint64		passes;
	uint64		lanes;
	size_t		salt_b64;		/* characters of the salt field */
	size_t		hash_b64;		/* characters of the hash field */
} Argon2Params;

/*
 * Scratch space of one call: the copies of the password and libxcrypt's
 * work area, wiped by a reset callback of their own memory context.
 */
typedef struct PasswordWork
{
	MemoryContext cxt;
	MemoryContextCallback wipe;
	char	   *password;		/* NUL-terminated copy */
	size_t		password_len;
	struct varlena *detoasted;	/* argument copy made by detoasting, if any */
	struct crypt_data *crypt;	/* libxcrypt's work area and output */
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
							"Most memory a stored Argon2 or yescrypt hash may ask for.",
							"Hashes asking for more are refused before any work is done.",
							&acctsec_password_max_memory_kib,
							262144,
							ACCTSEC_ARGON2_MIN_MEMORY_KIB,
							ACCTSEC_ARGON2_MAX_MEMORY_KIB,
							PGC_SUSET, GUC_UNIT_KB,
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
	if (w->crypt != NULL)
		sodium_memzero(w->crypt, sizeof(struct crypt_data));
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

static void
check_password_length(size_t len)
{
	if (len > ACCTSEC_MAX_PASSWORD_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("password is too long"),
				 errdetail("The password has %zu bytes; at most %d are accepted.",
						   len, ACCTSEC_MAX_PASSWORD_BYTES)));
}

/*
 * Copy a password argument into the scratch space as a C string.  If
 * fetching the argument detoasted it into a fresh copy, that copy is wiped
 * with the rest.
 */
static void
password_work_set_arg(PasswordWork *w, Datum arg)
{
	struct varlena *raw = (struct varlena *) DatumGetPointer(arg);
	text	   *t = (text *) pg_detoast_datum_packed(raw);

	if ((struct varlena *) t != raw)
		w->detoasted = (struct varlena *) t;
	w->password_len = VARSIZE_ANY_EXHDR(t);
	check_password_length(w->password_len);
	w->password = MemoryContextAlloc(w->cxt, w->password_len + 1);
	memcpy(w->password, VARDATA_ANY(t), w->password_len);
	w->password[w->password_len] = '\0';
}

/* ------------------------------------------------------------------------
 * Reading hash strings
 * ------------------------------------------------------------------------ */

static const char *
scheme_name(PasswordScheme s)
{
	switch (s)
	{
		case PW_ARGON2ID:
			return "Argon2id";
		case PW_ARGON2I:
			return "Argon2i";
		case PW_BCRYPT:
			return "bcrypt";
		case PW_SHA256CRYPT:
			return "SHA-256-crypt";
		case PW_SHA512CRYPT:
			return "SHA-512-crypt";
		case PW_YESCRYPT:
			return "yescrypt";
		case PW_UNKNOWN:
			break;
	}
	return "unknown";
}

static bool
has_prefix(const char *s, size_t len, const char *prefix)
{
	size_t		plen = strlen(prefix);

	return len >= plen && memcmp(s, prefix, plen) == 0;
}

static PasswordScheme
classify_hash(const char *h, size_t len)
{
	if (has_prefix(h, len, "$argon2id$"))
		return PW_ARGON2ID;
	if (has_prefix(h, len, "$argon2i$"))
		return PW_ARGON2I;
	if (has_prefix(h, len, "$2a$") || has_prefix(h, len, "$2b$") ||
		has_prefix(h, len, "$2y$"))
		return PW_BCRYPT;
	if (has_prefix(h, len, "$5$"))
		return PW_SHA256CRYPT;
	if (has_prefix(h, len, "$6$"))
		return PW_SHA512CRYPT;
	if (has_prefix(h, len, "$y$"))
		return PW_YESCRYPT;
	return PW_UNKNOWN;
}

/*
 * Read an unsigned decimal of at most 12 digits (no sign, no leading
 * blanks); larger values saturate, which every cap then refuses.
 */
static bool
read_decimal(const char **p, const char *end, uint64 *out)
{
	const char *s = *p;
	uint64		v = 0;
	int			n = 0;

	while (s < end && *s >= '0' && *s <= '9')
	{
		if (n < 12)
			v = v * 10 + (uint64) (*s - '0');
		else
			v = PG_UINT64_MAX / 2;
		s++;
		n++;
	}
	if (n == 0)
		return false;
	*p = s;
	*out = v;
	return true;
}

static bool
read_literal(const char **p, const char *end, const char *lit)
{
	size_t		n = strlen(lit);

	if ((size_t) (end - *p) < n || memcmp(*p, lit, n) != 0)
		return false;
	*p += n;
	return true;
}

/* Skip the characters of a base64 field (standard alphabet, no padding). */
static void
skip_b64(const char **p, const char *end)
{
	while (*p < end && (isalnum((unsigned char) **p) || **p == '+' || **p == '/'))
		(*p)++;
}

/*
 * Parse $argon2{i,id}$v=19$m=M,t=T,p=P$salt$hash.  False if the string is
 * not well formed.
 */
static bool
parse_argon2(const char *h, size_t len, PasswordScheme scheme,
			 Argon2Params *out)
{
	const char *p = h;
	const char *end = h + len;
	const char *start;

	if (!read_literal(&p, end, scheme == PW_ARGON2ID ? "$argon2id$" : "$argon2i$"))
		return false;
	if (!read_literal(&p, end, "v=") || !read_decimal(&p, end, &out->version) ||
		!read_literal(&p, end, "$m=") || !read_decimal(&p, end, &out->memory_kib) ||
		!read_literal(&p, end, ",t=") || !read_decimal(&p, end, &out->passes) ||
		!read_literal(&p, end, ",p=") || !read_decimal(&p, end, &out->lanes) ||
		!read_literal(&p, end, "$"))
		return false;
	start = p;
	skip_b64(&p, end);
	out->salt_b64 = (size_t) (p - start);
	if (!read_literal(&p, end, "$"))
		return false;
	start = p;
	skip_b64(&p, end);
	out->hash_b64 = (size_t) (p - start);
	if (p != end)
		return false;
	/* PHC minimums: 8-byte salt (11 characters), 4-byte hash */
	return out->salt_b64 >= 11 && out->hash_b64 >= 6;
}

/* The alphabet of crypt(3) strings ("./0-9A-Za-z"), as a value 0..63. */
static int
crypt64_value(char c)
{
	if (c == '.')
		return 0;
	if (c == '/')
		return 1;
	if (c >= '0' && c <= '9')
		return c - '0' + 2;
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 12;
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 38;
	return -1;
}

static void
refuse_work(PasswordScheme s, const char *what, uint64 asked, uint64 limit)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s password hash asks for more work than acctsec allows",
					scheme_name(s)),
			 errdetail("The hash asks for %s " UINT64_FORMAT "; the limit is " UINT64_FORMAT ".",
					   what, asked, limit)));
}

static void
refuse_malformed(PasswordScheme s)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("malformed %s password hash", scheme_name(s))));
}

/*
 * Classify a stored hash and check that the work it asks for is within the
 * caps, before anything is computed.  Every refusal is an ERROR (22023).
 */
static PasswordScheme
check_hash(const char *h, size_t len)
{
	PasswordScheme s = classify_hash(h, len);

	if (s == PW_UNKNOWN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unsupported password hash format"),
				 errhint("acctsec verifies Argon2id, Argon2i, bcrypt ($2a$, $2b$, $2y$), SHA-crypt ($5$, $6$) and yescrypt ($y$) hashes.")));
	if (len > ACCTSEC_MAX_HASH_BYTES || memchr(h, '\0', len) != NULL)
		refuse_malformed(s);

	switch (s)
	{
		case PW_ARGON2ID:
		case PW_ARGON2I:
			{
				Argon2Params a;

				if (!parse_argon2(h, len, s, &a))
					refuse_malformed(s);
				if (a.version != 19)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("unsupported %s version " UINT64_FORMAT,
									scheme_name(s), a.version),
							 errhint("Only version 19 (Argon2 1.3) is supported.")));
				if (a.memory_kib > (uint64) acctsec_password_max_memory_kib)
					refuse_work(s, "memory (kB)", a.memory_kib,
								(uint64) acctsec_password_max_memory_kib);
				if (a.passes > ACCTSEC_ARGON2_MAX_PASSES)
					refuse_work(s, "passes", a.passes, ACCTSEC_ARGON2_MAX_PASSES);
				if (a.lanes > ACCTSEC_ARGON2_MAX_LANES)
					refuse_work(s, "lanes", a.lanes, ACCTSEC_ARGON2_MAX_LANES);
				if (a.passes < 1 || a.lanes < 1 || a.memory_kib < 8 * a.lanes)
					refuse_malformed(s);
				break;
			}
		case PW_BCRYPT:
			{
				/* $2b$NN$ then 22 characters of salt and 31 of hash */
				const char *p = h + 4;
				uint64		cost;

				if (!read_decimal(&p, h + len, &cost) || p != h + 6)
					refuse_malformed(s);
				if (cost > ACCTSEC_BCRYPT_MAX_COST)
					refuse_work(s, "cost", cost, ACCTSEC_BCRYPT_MAX_COST);
				if (cost < 4 || len != 60 || h[6] != '$')
					refuse_malformed(s);
				break;
			}
		case PW_SHA256CRYPT:
		case PW_SHA512CRYPT:
			{
				/* $5$[rounds=N$]salt$hash; without rounds=, 5000 */
				const char *p = h + 3;
				uint64		rounds = ACCTSEC_SHACRYPT_DEFAULT_ROUNDS;

				if (read_literal(&p, h + len, "rounds="))
				{
					if (!read_decimal(&p, h + len, &rounds) ||
						!read_literal(&p, h + len, "$"))
						refuse_malformed(s);
				}
				if (rounds > ACCTSEC_SHACRYPT_MAX_ROUNDS)
					refuse_work(s, "rounds", rounds, ACCTSEC_SHACRYPT_MAX_ROUNDS);
				break;
			}
		case PW_YESCRYPT:
			{
				/*
				 * $y$ then the parameters in crypt64: one character of
				 * flavour, then N as log2(N) - 1 and r - 1, one character
				 * each (values below 47; larger ones take several characters
				 * and are far beyond any cap), then '$'.  Optional
				 * parameters (p, t, upgrades, ROM) are not written by
				 * libxcrypt and not accepted here.
				 */
				int			n_log2,
							r;
				uint64		memory_kib;

				if (len < 7 || crypt64_value(h[3]) < 0 ||
					(n_log2 = crypt64_value(h[4])) < 0 ||
					(r = crypt64_value(h[5])) < 0)
					refuse_malformed(s);
				if (h[6] != '$' || n_log2 >= 47 || r >= 47)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("unsupported yescrypt parameters"),
							 errhint("Only the flavour, N and r parameters that libxcrypt writes are accepted.")));
				n_log2 += 1;
				r += 1;
				/* memory is 128 * r * N bytes */
				memory_kib = (((uint64) 128 * (uint64) r) << n_log2) / 1024;
				if (memory_kib > (uint64) acctsec_password_max_memory_kib)
					refuse_work(s, "memory (kB)", memory_kib,
								(uint64) acctsec_password_max_memory_kib);
				break;
			}
		case PW_UNKNOWN:
			break;
	}
	return s;
}

/* ------------------------------------------------------------------------
 * The work
 * ------------------------------------------------------------------------ */

/* A new Argon2id hash of w->password at the current settings, palloc'd. */
static char *
argon2id_hash(PasswordWork *w)
{
	char		out[crypto_pwhash_STRBYTES];

	if (acctsec_password_memory_kib > acctsec_password_max_memory_kib)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("acctsec.password_memory_kib exceeds acctsec.password_max_memory_kib"),
				 errdetail("Hashes made with %d kB could not be verified under a limit of %d kB.",
						   acctsec_password_memory_kib,
						   acctsec_password_max_memory_kib)));

	if (crypto_pwhash_str_alg(out, w->password, w->password_len,
							  (unsigned long long) acctsec_password_iterations,
							  (size_t) acctsec_password_memory_kib * 1024,
							  crypto_pwhash_ALG_ARGON2ID13) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory"),
				 errdetail("Argon2id could not allocate %d kB.",
						   acctsec_password_memory_kib)));
	return pstrdup(out);
}

/*
 * Does w->password match the hash h (already checked by check_hash)?
 * Argon2 goes to libsodium, which compares in constant time; crypt formats
 * go to libxcrypt, and its output is compared with sodium_memcmp.
 */
static bool
verify_checked(PasswordWork *w, PasswordScheme s, const char *h, size_t len)
{
	bool		ok;

	if (s == PW_ARGON2ID || s == PW_ARGON2I)
	{
		/* libsodium declares the string as char[crypto_pwhash_STRBYTES] */
		char	   *str = MemoryContextAllocZero(w->cxt,
												 Max(len + 1, crypto_pwhash_STRBYTES));

		memcpy(str, h, len);
		/* -1 is a mismatch, or a verification libsodium could not finish */
		ok = crypto_pwhash_str_verify(str, w->password, w->password_len) == 0;
	}
	else
	{
		char	   *setting = MemoryContextAlloc(w->cxt, len + 1);
		char	   *res;

		memcpy(setting, h, len);
		setting[len] = '\0';
		w->crypt = MemoryContextAllocZero(w->cxt, sizeof(struct crypt_data));
		res = crypt_rn(w->password, setting, w->crypt, sizeof(struct crypt_data));
		/*
		 * A well-formed setting gives a result as long as itself; anything
		 * else (a missing or cut hash part, an over-long salt) is malformed.
		 */
		if (res == NULL || res[0] == '*' || strlen(res) != len)
			refuse_malformed(s);
		ok = sodium_memcmp(res, h, len) == 0;
	}
	return ok;
}

/* ------------------------------------------------------------------------
 * C API (acctsec.h), shared with acctsec.login
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

	password_work_set_arg(w, password);
	result = argon2id_hash(w);
	password_work_end(w);
	return result;
}

/*
 * Does a password argument (a text Datum) match hash?  The hash is checked
 * (format, caps) before any work; every copy of the password is wiped.
 */
bool
acctsec_password_verify_datum(Datum password, const char *hash, size_t hash_len)
{
	PasswordScheme s = check_hash(hash, hash_len);
	PasswordWork *w = password_work_begin();
	bool		ok;

	password_work_set_arg(w, password);
	ok = verify_checked(w, s, hash, hash_len);
	password_work_end(w);
	return ok;
}

bool
acctsec_password_is_current(const char *h, size_t len)
{
	Argon2Params a;

	if (classify_hash(h, len) != PW_ARGON2ID || len > ACCTSEC_MAX_HASH_BYTES ||
		!parse_argon2(h, len, PW_ARGON2ID, &a))
		return false;
	return a.version == 19 &&
		a.memory_kib == (uint64) acctsec_password_memory_kib &&
		a.passes == (uint64) acctsec_password_iterations &&
		a.lanes == 1 &&
		a.salt_b64 == ACCTSEC_ARGON2_SALT_B64 &&
		a.hash_b64 == ACCTSEC_ARGON2_HASH_B64;
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

	password_work_set_arg(w, PG_GETARG_DATUM(0));
	if (w->password_len == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("password must not be empty")));
	result = argon2id_hash(w);
	password_work_end(w);
	PG_RETURN_TEXT_P(cstring_to_text(result));
}

/* password_verify(password text, hash text) RETURNS boolean */
Datum
acctsec_password_verify(PG_FUNCTION_ARGS)
{
	text	   *hash = PG_GETARG_TEXT_PP(1);
	const char *h = VARDATA_ANY(hash);
	size_t		hlen = VARSIZE_ANY_EXHDR(hash);

	/* the hash is checked before the password is touched */
	PG_RETURN_BOOL(acctsec_password_verify_datum(PG_GETARG_DATUM(0), h, hlen));
}

/* password_needs_rehash(hash text) RETURNS boolean */
Datum
acctsec_password_needs_rehash(PG_FUNCTION_ARGS)
{
	text	   *hash = PG_GETARG_TEXT_PP(0);

	PG_RETURN_BOOL(!acctsec_password_is_current(VARDATA_ANY(hash),
												VARSIZE_ANY_EXHDR(hash)));
}
