/*
 * fuzz_pwformat.c
 *		Arbitrary stored password hashes into pw_parse() (src/pwformat.c).
 *
 * Properties: a parse never reads or writes out of bounds (the input is a
 * heap block of exactly its size); a recognised string names a format of
 * the table and of the family its kind verifies; an accepted hash fits the
 * parsed form's buffers (NUL-terminated setting of the recorded length,
 * salt and digest within their arrays); an accepted Argon2 hash's canonical
 * string parses again to the same parameters; PBKDF2 and scrypt digests are
 * never empty; phpass and Drupal counts are the powers of two their
 * cost character says.
 */
#include "fuzz_common.h"
#include "pwformat.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *in = fuzz_copy(data, size);
	PwParsed   *p = malloc(sizeof(PwParsed));
	PwParseResult r;

	FUZZ_CHECK(p != NULL);
	r = pw_parse(in, size, p);
	FUZZ_CHECK(r == PWP_OK || r == PWP_UNKNOWN || r == PWP_MALFORMED || r == PWP_UNSUPPORTED);
	if (r != PWP_UNKNOWN)
	{
		FUZZ_CHECK(p->format >= &pw_formats[0] && p->format < &pw_formats[pw_nformats]);
		FUZZ_CHECK(pw_recognises(p->format, in, size));
	}
	if (r == PWP_OK)
	{
		FUZZ_CHECK(size <= PW_MAX_HASH_BYTES);
		FUZZ_CHECK(p->salt_len <= PW_MAX_SALT_BYTES);
		FUZZ_CHECK(p->expected_len <= PW_MAX_DIGEST_BYTES);
		switch (p->format->kind)
		{
			case PWK_ARGON2:
				{
					PwParsed   *q = malloc(sizeof(PwParsed));
					char	   *canon = fuzz_copy((const uint8_t *) p->setting, p->setting_len);

					FUZZ_CHECK(q != NULL);
					FUZZ_CHECK(strlen(p->setting) == p->setting_len);
					FUZZ_CHECK(pw_parse(canon, p->setting_len, q) == PWP_OK);
					FUZZ_CHECK(q->memory_kib == p->memory_kib && q->passes == p->passes &&
							   q->lanes == p->lanes && q->argon2id == p->argon2id);
					FUZZ_CHECK(p->passes >= 1 && p->lanes >= 1 && p->memory_kib >= 8 * p->lanes);
					free(canon);
					free(q);
					break;
				}
			case PWK_CRYPT:
				FUZZ_CHECK(p->setting_len > 0 && strlen(p->setting) == p->setting_len);
				if (p->prehash == PWPRE_HMAC_SHA256_B64)
					FUZZ_CHECK(p->hmac_key_len == 22);
				break;
			case PWK_PBKDF2:
				FUZZ_CHECK(p->expected_len > 0 && p->iterations >= 1);
				break;
			case PWK_SCRYPT:
				FUZZ_CHECK(p->expected_len >= 16 && p->scrypt_n >= 2 &&
						   (p->scrypt_n & (p->scrypt_n - 1)) == 0);
				break;
			case PWK_PHPASS:
			case PWK_DRUPAL7:
				FUZZ_CHECK(p->cost >= 7 && p->cost <= 30 &&
						   p->iterations == ((uint64_t) 1 << p->cost));
				FUZZ_CHECK(p->setting_len == (p->format->kind == PWK_PHPASS ? 34u : 55u));
				break;
		}
	}
	{
		/* the encoder phpass and Drupal compare with: 4 characters per 3 bytes */
		char		out[PW_MAX_HASH_BYTES];
		size_t		n = size > 64 ? 64 : size;
		size_t		len = n ? pw_phpass_encode64(data, n, out, sizeof(out)) : 0;

		if (n)
			FUZZ_CHECK(len == (n * 8 + 5) / 6 && strlen(out) == len);
	}
	free(p);
	free(in);
	return 0;
}
