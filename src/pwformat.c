/*
 * pwformat.c
 *		Reading the password hash strings that applications store.
 *
 * pw_formats[] is the one table of what acctsec reads: each row names a
 * format, the family a security event reports, the prefixes it answers to,
 * the kind of work that verifies it (passwords.c holds one verifier and one
 * set of caps per kind), how a rehash is wrapped, how it is recognised (its
 * prefixes, or a shape), what a wrapper drops and prehashes, and its
 * parser.  A parser checks the syntax, decodes salt and digest and reads the
 * work the hash asks for; it never hashes.
 *
 * Every format is the one its framework writes; the references are the
 * frameworks' own hashers:
 *   Argon2 PHC strings (libsodium, argon2-cffi, PHP, node-argon2, passlib;
 *     the parameters in any order), Django "argon2$", Spring "{argon2}";
 *   bcrypt $2a$/$2b$/$2y$, Django "bcrypt$" and "bcrypt_sha256$"
 *     (hex SHA-256 of the password), passlib "$bcrypt-sha256$" (v1: base64
 *     SHA-256; v2: base64 HMAC-SHA256 keyed with the salt string), Spring
 *     "{bcrypt}", WordPress 6.8 "$wp$" (base64 HMAC-SHA384 keyed 'wp-sha384');
 *   PBKDF2: Django "pbkdf2_sha256$N$salt$b64", Werkzeug
 *     "pbkdf2:sha256:N$salt$hex", passlib "$pbkdf2-sha256$N$ab64$ab64",
 *     ASP.NET Core Identity v2 (0x00, SHA-1, 1000 iterations) and v3 (0x01,
 *     PRF, iterations, salt length in network order), Spring "{pbkdf2}"
 *     (SHA-1, 185000, 8-byte salt) and "{pbkdf2@SpringSecurity_v5_8}"
 *     (SHA-256, 310000, 16-byte salt), hex of salt and digest;
 *   scrypt: Werkzeug "scrypt:N:r:p$salt$hex", Django
 *     "scrypt$N$salt$r$p$b64", passlib "$scrypt$ln=,r=,p=$b64$b64",
 *     libxcrypt "$7$";
 *   phpass portable "$P$"/"$H$" (WordPress, phpBB), Drupal 7 "$S$";
 *   libxcrypt: sha-crypt $5$/$6$, yescrypt $y$/$gy$, md5crypt $1$,
 *     sha1crypt $sha1$, NT $3$, traditional DES.
 */
#include "hexdigit.h"
#include "pwformat.h"

#include <stdio.h>
#include <string.h>

#define PW_SATURATED	(UINT64_MAX / 4)

/* ------------------------------------------------------------------------
 * Small readers
 * ------------------------------------------------------------------------ */

static bool
has_prefix(const char *s, size_t len, const char *prefix)
{
	size_t		n = strlen(prefix);

	return len >= n && memcmp(s, prefix, n) == 0;
}

static bool
lit(const char **p, const char *end, const char *s)
{
	size_t		n = strlen(s);

	if ((size_t) (end - *p) < n || memcmp(*p, s, n) != 0)
		return false;
	*p += n;
	return true;
}

/* An unsigned decimal; more than 12 digits saturates (every cap refuses). */
static bool
dec(const char **p, const char *end, uint64_t *out)
{
	const char *s = *p;
	uint64_t	v = 0;
	int			n = 0;

	while (s < end && *s >= '0' && *s <= '9')
	{
		v = n < 12 ? v * 10 + (uint64_t) (*s - '0') : PW_SATURATED;
		s++;
		n++;
	}
	if (n == 0)
		return false;
	*p = s;
	*out = v;
	return true;
}

/* The characters up to the next c (or the end); false if none. */
static bool
field(const char **p, const char *end, char c, const char **start, size_t *n)
{
	const char *s = *p;

	while (s < end && *s != c)
		s++;
	*start = *p;
	*n = (size_t) (s - *p);
	*p = s;
	return *n > 0;
}

/*
 * The last two fields of most formats, "<salt>$<hash>" up to the end; the
 * hash must not be empty, the salt may be where empty_salt.
 */
typedef struct SaltHash
{
	const char *salt;
	size_t		salt_n;
	const char *hash;
	size_t		hash_n;
} SaltHash;

static bool
salt_hash(const char **p, const char *end, bool empty_salt, SaltHash *sh)
{
	bool		have_salt = field(p, end, '$', &sh->salt, &sh->salt_n);

	return (have_salt || empty_salt) && lit(p, end, "$") &&
		field(p, end, '$', &sh->hash, &sh->hash_n) && *p == end;
}

/* crypt(3)'s alphabet "./0-9A-Za-z" as 0..63, -1 for anything else. */
static int
crypt64(char c)
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

static bool
all_crypt64(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (crypt64(s[i]) < 0)
			return false;
	return true;
}

typedef enum
{
	B64_STD,					/* A-Za-z0-9+/ */
	B64_AB64					/* passlib's "adapted": '.' for '+' */
} B64Flavour;

static int
b64val(char c, B64Flavour f)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == (f == B64_STD ? '+' : '.'))
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Decode base64 with or without '=' padding into at most cap bytes.  Bits
 * left over in the last character must be zero, so that one digest has one
 * spelling.
 */
static bool
b64dec(const char *s, size_t n, B64Flavour f, uint8_t *out, size_t cap,
	   size_t *outlen)
{
	uint32_t	acc = 0;
	int			bits = 0;
	size_t		o = 0;

	while (n > 0 && s[n - 1] == '=')
		n--;
	if (n % 4 == 1)
		return false;
	for (size_t i = 0; i < n; i++)
	{
		int			v = b64val(s[i], f);

		if (v < 0)
			return false;
		acc = (acc << 6) | (uint32_t) v;
		bits += 6;
		if (bits >= 8)
		{
			bits -= 8;
			if (o >= cap)
				return false;
			out[o++] = (uint8_t) (acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (acc != 0)
		return false;
	*outlen = o;
	return true;
}

static bool
all_b64(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b64val(s[i], B64_STD) < 0)
			return false;
	return true;
}

static bool
hexdec(const char *s, size_t n, uint8_t *out, size_t cap, size_t *outlen)
{
	if (n % 2 != 0 || n / 2 > cap)
		return false;
	for (size_t i = 0; i < n; i += 2)
	{
		int			hi = hex_digit_value(s[i]),
					lo = hex_digit_value(s[i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i / 2] = (uint8_t) (hi << 4 | lo);
	}
	*outlen = n / 2;
	return true;
}

static size_t
digest_size(PwDigest d)
{
	return d == PWD_SHA1 ? 20 : d == PWD_SHA256 ? 32 : 64;
}

static bool
set_setting(PwParsed *out, const char *s, size_t n)
{
	if (n > PW_MAX_HASH_BYTES)
		return false;
	memcpy(out->setting, s, n);
	out->setting[n] = '\0';
	out->setting_len = n;
	return true;
}

/* A raw (not encoded) salt, as Django and Werkzeug use their salt strings. */
static bool
set_raw_salt(PwParsed *out, const char *s, size_t n)
{
	if (n == 0 || n > PW_MAX_SALT_BYTES)
		return false;
	memcpy(out->salt, s, n);
	out->salt_len = n;
	return true;
}

/* 128 * r * N bytes in KiB, saturating. */
static uint64_t
scrypt_kib(uint64_t n, uint64_t r)
{
	if (n == 0 || r == 0)
		return 0;
	if (n > ((uint64_t) 1 << 40) || r > ((uint64_t) 1 << 20))
		return PW_SATURATED;
	return (128 * r * n) / 1024;
}

static bool
power_of_two(uint64_t n)
{
	return n >= 2 && (n & (n - 1)) == 0;
}

static uint64_t
log2_of(uint64_t n)
{
	uint64_t	l = 0;

	while (n > 1)
	{
		n >>= 1;
		l++;
	}
	return l;
}

/* ------------------------------------------------------------------------
 * Argon2
 * ------------------------------------------------------------------------ */

/* $argon2id$v=19$<m,t,p in any order>$salt$hash at s */
static PwParseResult
parse_argon2_at(const char *s, size_t len, PwParsed *out)
{
	const char *p = s,
			   *end = s + len,
			   *salt,
			   *hash;
	size_t		salt_n,
				hash_n;
	uint64_t	version = 16,
				v[3];
	bool		seen[3] = {false, false, false};
	int			n;

	if (lit(&p, end, "$argon2id$"))
		out->argon2id = true;
	else if (lit(&p, end, "$argon2i$"))
		out->argon2id = false;
	else if (lit(&p, end, "$argon2d$"))
		return PWP_UNSUPPORTED;
	else
		return PWP_MALFORMED;
	if (lit(&p, end, "v="))
	{
		if (!dec(&p, end, &version) || !lit(&p, end, "$"))
			return PWP_MALFORMED;
	}
	for (;;)
	{
		int			k;

		if (end - p < 3 || p[1] != '=')
			return end - p >= 5 && (has_prefix(p, end - p, "keyid=") ||
									has_prefix(p, end - p, "data=")) ?
				PWP_UNSUPPORTED : PWP_MALFORMED;
		k = p[0] == 'm' ? 0 : p[0] == 't' ? 1 : p[0] == 'p' ? 2 : -1;
		if (k < 0 || seen[k])
			return PWP_MALFORMED;
		p += 2;
		if (!dec(&p, end, &v[k]))
			return PWP_MALFORMED;
		seen[k] = true;
		if (lit(&p, end, "$"))
			break;
		if (!lit(&p, end, ","))
			return PWP_MALFORMED;
	}
	if (!seen[0] || !seen[1] || !seen[2])
		return PWP_MALFORMED;
	if (!field(&p, end, '$', &salt, &salt_n) || !lit(&p, end, "$") ||
		!field(&p, end, '$', &hash, &hash_n) || p != end ||
		!all_b64(salt, salt_n) || !all_b64(hash, hash_n) ||
		salt_n < 11 || hash_n < 6 || salt_n % 4 == 1 || hash_n % 4 == 1)
		return PWP_MALFORMED;
	if (version != 19)
		return PWP_UNSUPPORTED;
	if (v[1] < 1 || v[2] < 1 || v[0] < 8 * v[2])
		return PWP_MALFORMED;
	out->memory_kib = v[0];
	out->passes = v[1];
	out->lanes = v[2];
	n = snprintf(out->setting, sizeof(out->setting),
				 "$argon2%s$v=19$m=%llu,t=%llu,p=%llu$%.*s$%.*s",
				 out->argon2id ? "id" : "i",
				 (unsigned long long) v[0], (unsigned long long) v[1],
				 (unsigned long long) v[2], (int) salt_n, salt, (int) hash_n, hash);
	if (n < 0 || (size_t) n >= sizeof(out->setting))
		return PWP_MALFORMED;
	out->setting_len = (size_t) n;
	out->salt_len = salt_n * 3 / 4;
	out->expected_len = hash_n * 3 / 4;
	/* far beyond any library's output (16-byte salts, 32-byte hashes) */
	if (out->salt_len > PW_MAX_SALT_BYTES || out->expected_len > PW_MAX_DIGEST_BYTES)
		return PWP_MALFORMED;
	return PWP_OK;
}

static const char *const spring_argon2_ids[] = {"{argon2}", "{argon2@SpringSecurity_v5_8}"};

static PwParseResult
parse_spring_argon2(const char *s, size_t len, PwParsed *out)
{
	for (int i = 0; i < 2; i++)
		if (has_prefix(s, len, spring_argon2_ids[i]))
		{
			size_t		n = strlen(spring_argon2_ids[i]);

			return parse_argon2_at(s + n, len - n, out);
		}
	return PWP_UNSUPPORTED;
}

/* ------------------------------------------------------------------------
 * bcrypt, bare and wrapped
 * ------------------------------------------------------------------------ */

static bool
bcrypt_char(char c)
{
	return crypt64(c) >= 0;		/* bcrypt's alphabet is the same set */
}

/* $2b$NN$ + 22 characters of salt + 31 of digest, at s */
static PwParseResult
parse_bcrypt_at(const char *s, size_t len, PwParsed *out)
{
	if (!(has_prefix(s, len, "$2a$") || has_prefix(s, len, "$2b$") ||
		  has_prefix(s, len, "$2y$")))
		return has_prefix(s, len, "$2") ? PWP_UNSUPPORTED : PWP_MALFORMED;
	if (len < 7 || s[4] < '0' || s[4] > '9' || s[5] < '0' || s[5] > '9' || s[6] != '$')
		return PWP_MALFORMED;
	out->cost = (uint64_t) ((s[4] - '0') * 10 + (s[5] - '0'));
	if (len != 60)
		return PWP_MALFORMED;
	for (size_t i = 7; i < len; i++)
		if (!bcrypt_char(s[i]))
			return PWP_MALFORMED;
	if (out->cost < 4)
		return PWP_MALFORMED;
	set_setting(out, s, len);
	return PWP_OK;
}

/*
 * passlib bcrypt_sha256: "$bcrypt-sha256$v=2,t=2b,r=12$<salt22>$<digest31>"
 * or the older "$bcrypt-sha256$2a,12$<salt22>$<digest31>" (v1).
 */
static PwParseResult
parse_passlib_bcrypt_sha256(const char *s, size_t len, PwParsed *out)
{
	const char *p = s + 15,
			   *end = s + len,
			   *salt,
			   *digest;
	size_t		salt_n,
				digest_n;
	char		ident[3];
	uint64_t	rounds;
	bool		v2;
	int			n;

	v2 = lit(&p, end, "v=2,t=");
	if (end - p < 3 || p[0] != '2' || (p[1] != 'a' && p[1] != 'b'))
		return PWP_MALFORMED;
	ident[0] = p[0];
	ident[1] = p[1];
	ident[2] = '\0';
	p += 2;
	if (!lit(&p, end, v2 ? ",r=" : ",") || !dec(&p, end, &rounds) ||
		!lit(&p, end, "$") ||
		!field(&p, end, '$', &salt, &salt_n) || !lit(&p, end, "$") ||
		!field(&p, end, '$', &digest, &digest_n) || p != end ||
		salt_n != 22 || digest_n != 31 || !all_crypt64(salt, salt_n) ||
		!all_crypt64(digest, digest_n))
		return PWP_MALFORMED;
	out->cost = rounds;
	if (rounds < 4 || rounds > 31)
		return PWP_MALFORMED;
	n = snprintf(out->setting, sizeof(out->setting), "$%s$%02llu$%.*s%.*s",
				 ident, (unsigned long long) rounds, (int) salt_n, salt,
				 (int) digest_n, digest);
	if (n != 60)
		return PWP_MALFORMED;
	out->setting_len = 60;
	if (v2)
	{
		out->prehash = PWPRE_HMAC_SHA256_B64;
		memcpy(out->hmac_key, salt, salt_n);
		out->hmac_key_len = salt_n;
	}
	else
		out->prehash = PWPRE_SHA256_B64;
	return PWP_OK;
}

/* ------------------------------------------------------------------------
 * PBKDF2
 * ------------------------------------------------------------------------ */

/* A PBKDF2 hash read: its digest as long as the PRF's, at least one round. */
static PwParseResult
pbkdf2_finish(const PwParsed *out)
{
	if (out->expected_len != digest_size(out->digest) || out->iterations < 1)
		return PWP_MALFORMED;
	return PWP_OK;
}

/* Django: pbkdf2_sha256$<iterations>$<salt>$<base64 digest> */
static PwParseResult
parse_django_pbkdf2(const char *s, size_t len, PwParsed *out)
{
	const char *p = s,
			   *end = s + len;
	SaltHash	sh;

	if (lit(&p, end, "pbkdf2_sha256$"))
		out->digest = PWD_SHA256;
	else if (lit(&p, end, "pbkdf2_sha1$"))
		out->digest = PWD_SHA1;
	if (!dec(&p, end, &out->iterations) || !lit(&p, end, "$") ||
		!salt_hash(&p, end, false, &sh) ||
		!set_raw_salt(out, sh.salt, sh.salt_n) ||
		!b64dec(sh.hash, sh.hash_n, B64_STD, out->expected,
				sizeof(out->expected), &out->expected_len))
		return PWP_MALFORMED;
	return pbkdf2_finish(out);
}

static bool
read_digest_name(const char **p, const char *end, PwDigest *d)
{
	if (lit(p, end, "sha256"))
		*d = PWD_SHA256;
	else if (lit(p, end, "sha512"))
		*d = PWD_SHA512;
	else if (lit(p, end, "sha1"))
		*d = PWD_SHA1;
	else
		return false;
	return true;
}

/* Werkzeug: pbkdf2:sha256:<iterations>$<salt>$<hex digest> */
static PwParseResult
parse_werkzeug_pbkdf2(const char *s, size_t len, PwParsed *out)
{
	const char *p = s + 7,
			   *end = s + len;
	SaltHash	sh;

	if (!read_digest_name(&p, end, &out->digest))
		return PWP_UNSUPPORTED;
	if (!lit(&p, end, ":") || !dec(&p, end, &out->iterations) || !lit(&p, end, "$") ||
		!salt_hash(&p, end, false, &sh) ||
		!set_raw_salt(out, sh.salt, sh.salt_n) ||
		!hexdec(sh.hash, sh.hash_n, out->expected, sizeof(out->expected),
				&out->expected_len))
		return PWP_MALFORMED;
	return pbkdf2_finish(out);
}

/* passlib: $pbkdf2-sha256$<iterations>$<ab64 salt>$<ab64 digest> */
static PwParseResult
parse_passlib_pbkdf2(const char *s, size_t len, PwParsed *out)
{
	const char *p = s,
			   *end = s + len;
	SaltHash	sh;

	if (lit(&p, end, "$pbkdf2$"))
		out->digest = PWD_SHA1;
	else if (lit(&p, end, "$pbkdf2-sha256$"))
		out->digest = PWD_SHA256;
	else if (lit(&p, end, "$pbkdf2-sha512$"))
		out->digest = PWD_SHA512;
	else
		return PWP_UNSUPPORTED;
	if (!dec(&p, end, &out->iterations) || !lit(&p, end, "$") ||
		!salt_hash(&p, end, true, &sh) ||
		!b64dec(sh.salt, sh.salt_n, B64_AB64, out->salt, sizeof(out->salt),
				&out->salt_len) ||
		!b64dec(sh.hash, sh.hash_n, B64_AB64, out->expected,
				sizeof(out->expected), &out->expected_len))
		return PWP_MALFORMED;
	return pbkdf2_finish(out);
}

/*
 * ASP.NET Core Identity: base64 of 0x00 | salt(16) | subkey(32) (v2:
 * HMAC-SHA1, 1000 iterations), or 0x01 | PRF | iterations | salt length
 * (each a 32-bit network-order integer) | salt | subkey (v3).  Recognised
 * by its shape: standard padded base64 whose first byte is 0 or 1.
 */
static bool
rec_aspnet(const char *s, size_t len)
{
	size_t		n = len;

	if (len < 60 || len % 4 != 0 || s[0] != 'A')
		return false;
	while (n > 0 && s[n - 1] == '=')
		n--;
	return len - n <= 2 && all_b64(s, n);
}

static uint32_t
be32(const uint8_t *b)
{
	return (uint32_t) b[0] << 24 | (uint32_t) b[1] << 16 | (uint32_t) b[2] << 8 | b[3];
}

static PwParseResult
parse_aspnet(const char *s, size_t len, PwParsed *out)
{
	uint8_t		raw[PW_MAX_HASH_BYTES];
	size_t		n;
	uint32_t	prf,
				saltlen;

	if (!b64dec(s, len, B64_STD, raw, sizeof(raw), &n) || n < 1)
		return PWP_MALFORMED;
	if (raw[0] == 0x00)
	{
		if (n != 1 + 16 + 32)
			return PWP_MALFORMED;
		out->digest = PWD_SHA1;
		out->iterations = 1000;
		memcpy(out->salt, raw + 1, 16);
		out->salt_len = 16;
		memcpy(out->expected, raw + 17, 32);
		out->expected_len = 32;
		return PWP_OK;
	}
	if (raw[0] != 0x01 || n < 13)
		return PWP_MALFORMED;
	prf = be32(raw + 1);
	out->iterations = be32(raw + 5);
	saltlen = be32(raw + 9);
	if (prf > 2)
		return PWP_UNSUPPORTED;
	out->digest = prf == 0 ? PWD_SHA1 : prf == 1 ? PWD_SHA256 : PWD_SHA512;
	/* Identity itself requires 128-bit salts and subkeys */
	if (saltlen < 16 || saltlen > PW_MAX_SALT_BYTES || n < 13 + (size_t) saltlen + 16 ||
		n - 13 - saltlen > PW_MAX_DIGEST_BYTES || out->iterations < 1)
		return PWP_MALFORMED;
	memcpy(out->salt, raw + 13, saltlen);
	out->salt_len = saltlen;
	out->expected_len = n - 13 - saltlen;
	memcpy(out->expected, raw + 13 + saltlen, out->expected_len);
	return PWP_OK;
}

/*
 * Spring Security's Pbkdf2PasswordEncoder keeps only hex(salt | digest);
 * the rest is the encoder's, named by the DelegatingPasswordEncoder id:
 * "{pbkdf2}" is defaultsForSpringSecurity_v5_5 (HMAC-SHA1, 185000
 * iterations, 8-byte salt, 256-bit digest), "{pbkdf2@SpringSecurity_v5_8}"
 * is defaultsForSpringSecurity_v5_8 (HMAC-SHA256, 310000, 16-byte salt).
 */
static PwParseResult
parse_spring_pbkdf2(const char *s, size_t len, PwParsed *out)
{
	const char *p = s,
			   *end = s + len;
	uint8_t		raw[PW_MAX_SALT_BYTES + PW_MAX_DIGEST_BYTES];
	size_t		n,
				saltlen;

	if (lit(&p, end, "{pbkdf2}"))
	{
		out->digest = PWD_SHA1;
		out->iterations = 185000;
		saltlen = 8;
	}
	else if (lit(&p, end, "{pbkdf2@SpringSecurity_v5_8}"))
	{
		out->digest = PWD_SHA256;
		out->iterations = 310000;
		saltlen = 16;
	}
	else
		return PWP_UNSUPPORTED;
	if (!hexdec(p, (size_t) (end - p), raw, sizeof(raw), &n) || n != saltlen + 32)
		return PWP_MALFORMED;
	memcpy(out->salt, raw, saltlen);
	out->salt_len = saltlen;
	memcpy(out->expected, raw + saltlen, 32);
	out->expected_len = 32;
	return PWP_OK;
}

/* ------------------------------------------------------------------------
 * scrypt
 * ------------------------------------------------------------------------ */

static PwParseResult
scrypt_finish(PwParsed *out)
{
	if (!power_of_two(out->scrypt_n) || out->scrypt_r < 1 || out->lanes < 1)
		return PWP_MALFORMED;
	out->cost = log2_of(out->scrypt_n);
	out->memory_kib = scrypt_kib(out->scrypt_n, out->scrypt_r);
	return PWP_OK;
}

/* Werkzeug 3: scrypt:<N>:<r>:<p>$<salt>$<hex of 64 bytes> */
static PwParseResult
parse_werkzeug_scrypt(const char *s, size_t len, PwParsed *out)
{
	const char *p = s + 7,
			   *end = s + len;
	SaltHash	sh;

	if (!dec(&p, end, &out->scrypt_n) || !lit(&p, end, ":") ||
		!dec(&p, end, &out->scrypt_r) || !lit(&p, end, ":") ||
		!dec(&p, end, &out->lanes) || !lit(&p, end, "$") ||
		!salt_hash(&p, end, false, &sh) ||
		!set_raw_salt(out, sh.salt, sh.salt_n) ||
		!hexdec(sh.hash, sh.hash_n, out->expected, sizeof(out->expected),
				&out->expected_len) ||
		out->expected_len < 16)
		return PWP_MALFORMED;
	return scrypt_finish(out);
}

/* Django 4+: scrypt$<N>$<salt>$<r>$<p>$<base64 of 64 bytes> */
static PwParseResult
parse_django_scrypt(const char *s, size_t len, PwParsed *out)
{
	const char *p = s + 7,
			   *end = s + len,
			   *salt,
			   *hash;
	size_t		salt_n,
				hash_n;

	if (!dec(&p, end, &out->scrypt_n) || !lit(&p, end, "$") ||
		!field(&p, end, '$', &salt, &salt_n) || !lit(&p, end, "$") ||
		!dec(&p, end, &out->scrypt_r) || !lit(&p, end, "$") ||
		!dec(&p, end, &out->lanes) || !lit(&p, end, "$") ||
		!field(&p, end, '$', &hash, &hash_n) || p != end ||
		!set_raw_salt(out, salt, salt_n) ||
		!b64dec(hash, hash_n, B64_STD, out->expected, sizeof(out->expected),
				&out->expected_len) ||
		out->expected_len < 16)
		return PWP_MALFORMED;
	return scrypt_finish(out);
}

/* passlib: $scrypt$ln=<log2 N>,r=<r>,p=<p>$<b64 salt>$<b64 digest> */
static PwParseResult
parse_passlib_scrypt(const char *s, size_t len, PwParsed *out)
{
	const char *p = s + 8,
			   *end = s + len;
	SaltHash	sh;
	uint64_t	ln;

	if (!lit(&p, end, "ln=") || !dec(&p, end, &ln) || !lit(&p, end, ",r=") ||
		!dec(&p, end, &out->scrypt_r) || !lit(&p, end, ",p=") ||
		!dec(&p, end, &out->lanes) || !lit(&p, end, "$") ||
		!salt_hash(&p, end, true, &sh) ||
		!b64dec(sh.salt, sh.salt_n, B64_STD, out->salt, sizeof(out->salt),
				&out->salt_len) ||
		!b64dec(sh.hash, sh.hash_n, B64_STD, out->expected,
				sizeof(out->expected), &out->expected_len) ||
		out->expected_len < 16 || ln < 1)
		return PWP_MALFORMED;
	out->scrypt_n = ln >= 62 ? ((uint64_t) 1 << 62) : ((uint64_t) 1 << ln);
	return scrypt_finish(out);
}

/* ------------------------------------------------------------------------
 * phpass and Drupal 7
 * ------------------------------------------------------------------------ */

/* $P$ + log2(count) + 8 characters of salt + the digest, all crypt64 */
static PwParseResult
parse_iterated(const char *s, size_t len, size_t total, PwParsed *out)
{
	int			l = len > 3 ? crypt64(s[3]) : -1;

	if (len != total || !all_crypt64(s + 3, len - 3))
		return PWP_MALFORMED;
	/* phpass and Drupal accept 7..30 */
	if (l < 7 || l > 30)
		return PWP_MALFORMED;
	out->cost = (uint64_t) l;
	out->iterations = (uint64_t) 1 << l;
	memcpy(out->salt, s + 4, 8);
	out->salt_len = 8;
	set_setting(out, s, len);
	return PWP_OK;
}

static PwParseResult
parse_phpass(const char *s, size_t len, PwParsed *out)
{
	return parse_iterated(s, len, 34, out);
}

static PwParseResult
parse_drupal7(const char *s, size_t len, PwParsed *out)
{
	return parse_iterated(s, len, 55, out);
}

/* ------------------------------------------------------------------------
 * libxcrypt formats: the whole string goes to crypt_rn
 * ------------------------------------------------------------------------ */

/* $5$[rounds=N$]salt$hash; without rounds=, 5000 */
static PwParseResult
parse_shacrypt(const char *s, size_t len, PwParsed *out)
{
	const char *p = s + 3,
			   *end = s + len;

	out->iterations = 5000;
	if (lit(&p, end, "rounds="))
	{
		if (!dec(&p, end, &out->iterations) || !lit(&p, end, "$"))
			return PWP_MALFORMED;
	}
	set_setting(out, s, len);
	return PWP_OK;
}

/*
 * $y$ (or $gy$) then the parameters in crypt64: one character of flavour,
 * then N as log2(N) - 1 and r - 1, one character each (values below 47;
 * larger ones take several characters and are far beyond any cap), then
 * '$'.  Optional parameters (p, t, ROM) are not written by libxcrypt.
 */
static PwParseResult
parse_yescrypt(const char *s, size_t len, PwParsed *out)
{
	size_t		o = s[1] == 'g' ? 4 : 3;
	int			n_log2,
				r;

	if (len < o + 4 || crypt64(s[o]) < 0 || (n_log2 = crypt64(s[o + 1])) < 0 ||
		(r = crypt64(s[o + 2])) < 0)
		return PWP_MALFORMED;
	if (s[o + 3] != '$' || n_log2 >= 47 || r >= 47)
		return PWP_UNSUPPORTED;
	out->cost = (uint64_t) n_log2 + 1;
	out->scrypt_r = (uint64_t) r + 1;
	out->memory_kib = (((uint64_t) 128 * out->scrypt_r) << out->cost) / 1024;
	set_setting(out, s, len);
	return PWP_OK;
}

/* 30 bits in 5 crypt64 characters, least significant first */
static bool
crypt64_30(const char *s, uint64_t *out)
{
	uint64_t	v = 0;

	for (int i = 0; i < 5; i++)
	{
		int			c = crypt64(s[i]);

		if (c < 0)
			return false;
		v |= (uint64_t) c << (6 * i);
	}
	*out = v;
	return true;
}

/* $7$ + log2(N) (one crypt64 character) + r and p (5 each) + salt$hash */
static PwParseResult
parse_scrypt7(const char *s, size_t len, PwParsed *out)
{
	int			ln;

	if (len < 14 || (ln = crypt64(s[3])) < 1 || !crypt64_30(s + 4, &out->scrypt_r) ||
		!crypt64_30(s + 9, &out->lanes) || memchr(s + 14, '$', len - 14) == NULL)
		return PWP_MALFORMED;
	out->scrypt_n = (uint64_t) 1 << ln;
	if (scrypt_finish(out) != PWP_OK)
		return PWP_MALFORMED;
	set_setting(out, s, len);
	return PWP_OK;
}

/* $sha1$<rounds>$salt$hash */
static PwParseResult
parse_sha1crypt(const char *s, size_t len, PwParsed *out)
{
	const char *p = s + 6,
			   *end = s + len;

	if (!dec(&p, end, &out->iterations) || !lit(&p, end, "$"))
		return PWP_MALFORMED;
	set_setting(out, s, len);
	return PWP_OK;
}

/* Fixed-cost crypt formats: md5crypt (1000 rounds), NT, DES */
static PwParseResult
parse_fixed_crypt(const char *s, size_t len, PwParsed *out)
{
	set_setting(out, s, len);
	return PWP_OK;
}

/* Traditional DES crypt: 13 characters of the crypt64 alphabet */
static bool
rec_descrypt(const char *s, size_t len)
{
	return len == 13 && all_crypt64(s, len);
}

/* ------------------------------------------------------------------------
 * The table
 * ------------------------------------------------------------------------ */

const PwFormat pw_formats[] = {
	{"Argon2", "Argon2", "$argon2id$ $argon2i$", PWK_ARGON2, PWW_NONE,
	"$argon2", NULL, 0, PWPRE_NONE, parse_argon2_at},
	{"Django Argon2", "Argon2", "argon2$argon2id$", PWK_ARGON2, PWW_DJANGO,
	"argon2$argon2", NULL, 6, PWPRE_NONE, parse_argon2_at},
	{"Spring Argon2", "Argon2", "{argon2} {argon2@SpringSecurity_v5_8}", PWK_ARGON2, PWW_SPRING,
	"{argon2", NULL, 0, PWPRE_NONE, parse_spring_argon2},
	{"bcrypt", "bcrypt", "$2a$ $2b$ $2y$", PWK_CRYPT, PWW_NONE,
	"$2a$ $2b$ $2y$", NULL, 0, PWPRE_NONE, parse_bcrypt_at},
	{"Django bcrypt", "bcrypt", "bcrypt$", PWK_CRYPT, PWW_DJANGO,
	"bcrypt$", NULL, 7, PWPRE_NONE, parse_bcrypt_at},
	{"Django bcrypt_sha256", "bcrypt", "bcrypt_sha256$", PWK_CRYPT, PWW_DJANGO,
	"bcrypt_sha256$", NULL, 14, PWPRE_SHA256_HEX, parse_bcrypt_at},
	{"passlib bcrypt_sha256", "bcrypt", "$bcrypt-sha256$", PWK_CRYPT, PWW_FOREIGN,
	"$bcrypt-sha256$", NULL, 0, PWPRE_NONE, parse_passlib_bcrypt_sha256},
	{"Spring bcrypt", "bcrypt", "{bcrypt}", PWK_CRYPT, PWW_SPRING,
	"{bcrypt}", NULL, 8, PWPRE_NONE, parse_bcrypt_at},
	{"WordPress bcrypt", "bcrypt", "$wp$", PWK_CRYPT, PWW_FOREIGN,
	"$wp$", NULL, 3, PWPRE_HMAC_SHA384_B64, parse_bcrypt_at},
	{"Django PBKDF2", "PBKDF2", "pbkdf2_sha256$ pbkdf2_sha1$", PWK_PBKDF2, PWW_DJANGO,
	"pbkdf2_sha256$ pbkdf2_sha1$", NULL, 0, PWPRE_NONE, parse_django_pbkdf2},
	{"Werkzeug PBKDF2", "PBKDF2", "pbkdf2:sha1: pbkdf2:sha256: pbkdf2:sha512:", PWK_PBKDF2, PWW_FOREIGN,
	"pbkdf2:", NULL, 0, PWPRE_NONE, parse_werkzeug_pbkdf2},
	{"passlib PBKDF2", "PBKDF2", "$pbkdf2$ $pbkdf2-sha256$ $pbkdf2-sha512$", PWK_PBKDF2, PWW_FOREIGN,
	"$pbkdf2$ $pbkdf2-", NULL, 0, PWPRE_NONE, parse_passlib_pbkdf2},
	{"Spring PBKDF2", "PBKDF2", "{pbkdf2} {pbkdf2@SpringSecurity_v5_8}", PWK_PBKDF2, PWW_SPRING,
	"{pbkdf2", NULL, 0, PWPRE_NONE, parse_spring_pbkdf2},
	{"Werkzeug scrypt", "scrypt", "scrypt:", PWK_SCRYPT, PWW_FOREIGN,
	"scrypt:", NULL, 0, PWPRE_NONE, parse_werkzeug_scrypt},
	{"Django scrypt", "scrypt", "scrypt$", PWK_SCRYPT, PWW_DJANGO,
	"scrypt$", NULL, 0, PWPRE_NONE, parse_django_scrypt},
	{"passlib scrypt", "scrypt", "$scrypt$", PWK_SCRYPT, PWW_FOREIGN,
	"$scrypt$", NULL, 0, PWPRE_NONE, parse_passlib_scrypt},
	{"libxcrypt scrypt", "scrypt", "$7$", PWK_CRYPT, PWW_NONE,
	"$7$", NULL, 0, PWPRE_NONE, parse_scrypt7},
	{"phpass", "phpass", "$P$ $H$", PWK_PHPASS, PWW_FOREIGN,
	"$P$ $H$", NULL, 0, PWPRE_NONE, parse_phpass},
	{"Drupal 7", "Drupal 7", "$S$", PWK_DRUPAL7, PWW_FOREIGN,
	"$S$", NULL, 0, PWPRE_NONE, parse_drupal7},
	{"sha-crypt", "sha-crypt", "$5$ $6$", PWK_CRYPT, PWW_NONE,
	"$5$ $6$", NULL, 0, PWPRE_NONE, parse_shacrypt},
	{"yescrypt", "yescrypt", "$y$ $gy$", PWK_CRYPT, PWW_NONE,
	"$y$ $gy$", NULL, 0, PWPRE_NONE, parse_yescrypt},
	{"md5crypt", "md5crypt", "$1$", PWK_CRYPT, PWW_NONE,
	"$1$", NULL, 0, PWPRE_NONE, parse_fixed_crypt},
	{"sha1crypt", "sha1crypt", "$sha1$", PWK_CRYPT, PWW_NONE,
	"$sha1$", NULL, 0, PWPRE_NONE, parse_sha1crypt},
	{"NT hash", "NT hash", "$3$", PWK_CRYPT, PWW_NONE,
	"$3$", NULL, 0, PWPRE_NONE, parse_fixed_crypt},
	/* shapes, not prefixes: last */
	{"ASP.NET Core Identity", "PBKDF2", "AQAAAA... (v3), AA... (v2)", PWK_PBKDF2, PWW_FOREIGN,
	NULL, rec_aspnet, 0, PWPRE_NONE, parse_aspnet},
	{"DES crypt", "DES crypt", "13 characters of ./0-9A-Za-z", PWK_CRYPT, PWW_NONE,
	NULL, rec_descrypt, 0, PWPRE_NONE, parse_fixed_crypt},
};

const int	pw_nformats = (int) (sizeof(pw_formats) / sizeof(pw_formats[0]));

bool
pw_recognises(const PwFormat *f, const char *s, size_t len)
{
	const char *lead = f->leads;

	if (lead == NULL)
		return f->shape(s, len);
	/* the leads are space-separated prefixes */
	while (*lead != '\0')
	{
		size_t		n = strcspn(lead, " ");

		if (len >= n && memcmp(s, lead, n) == 0)
			return true;
		lead += n;
		while (*lead == ' ')
			lead++;
	}
	return false;
}

PwParseResult
pw_parse(const char *s, size_t len, PwParsed *out)
{
	memset(out, 0, sizeof(*out));
	for (int i = 0; i < pw_nformats; i++)
	{
		const PwFormat *f = &pw_formats[i];

		if (!pw_recognises(f, s, len))
			continue;
		out->format = f;
		if (len > PW_MAX_HASH_BYTES || memchr(s, '\0', len) != NULL)
			return PWP_MALFORMED;
		/* a wrapper's prefix is dropped; the inner format is parsed */
		out->prehash = f->prehash;
		return f->parse(s + f->skip, len - f->skip, out);
	}
	return PWP_UNKNOWN;
}

size_t
pw_phpass_encode64(const uint8_t *in, size_t count, char *out, size_t outsize)
{
	static const char itoa64[] =
		"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	size_t		i = 0,
				o = 0;

	/* phpass's encode64, group by group; at most 4 characters per 3 bytes */
	if (outsize < (count + 2) / 3 * 4 + 1)
		return 0;
	do
	{
		uint32_t	value = in[i++];

		out[o++] = itoa64[value & 0x3f];
		if (i < count)
			value |= (uint32_t) in[i] << 8;
		out[o++] = itoa64[(value >> 6) & 0x3f];
		if (i++ >= count)
			break;
		if (i < count)
			value |= (uint32_t) in[i] << 16;
		out[o++] = itoa64[(value >> 12) & 0x3f];
		if (i++ >= count)
			break;
		out[o++] = itoa64[(value >> 18) & 0x3f];
	} while (i < count);
	out[o] = '\0';
	return o;
}
