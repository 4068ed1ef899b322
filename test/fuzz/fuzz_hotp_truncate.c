/*
 * fuzz_hotp_truncate.c
 *		Random digests and digit counts into otp_code_from_digest(), the
 *		RFC 4226 dynamic truncation.
 *
 * Input: byte 0 picks the digit count (-3..12, so out-of-range counts are
 * tried), byte 1 the digest length (0..64, short digests included), the rest
 * fills the digest (zero-padded).  The digest is a heap block of exactly
 * that length and the output one of exactly digits + 1 bytes.
 * Properties: false exactly when the digest is shorter than 20 bytes or the
 * digit count is outside 1..10; otherwise exactly "digits" decimal
 * characters and a NUL, equal to an independent computation of RFC 4226
 * section 5.4 (31-bit value at the offset named by the last nibble, modulo
 * 10^digits, zero-padded).  Also: otp_counter_bytes() is big-endian.
 */
#include "fuzz_common.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int			digits;
	size_t		dlen;
	uint8_t    *digest;
	char	   *out;
	char		want[32];
	bool		ok;

	if (size < 2)
		return 0;
	digits = (int) (data[0] % 16) - 3;
	dlen = data[1] % 65;
	digest = malloc(dlen ? dlen : 1);
	FUZZ_CHECK(digest != NULL);
	for (size_t i = 0; i < dlen; i++)
		digest[i] = (i + 2 < size) ? data[i + 2] : 0;
	out = malloc(digits >= 0 ? (size_t) digits + 1 : 1);
	FUZZ_CHECK(out != NULL);

	ok = otp_code_from_digest(digest, dlen, digits, out);

	if (dlen < 20 || digits < OTP_MIN_DIGITS || digits > OTP_MAX_DIGITS)
		FUZZ_CHECK(!ok);
	else
	{
		unsigned	off = digest[dlen - 1] & 0x0f;
		unsigned long long v = ((unsigned long long) (digest[off] & 0x7f) << 24) |
			((unsigned long long) digest[off + 1] << 16) |
			((unsigned long long) digest[off + 2] << 8) |
			(unsigned long long) digest[off + 3];
		unsigned long long mod = 1;

		for (int i = 0; i < digits; i++)
			mod *= 10;
		snprintf(want, sizeof(want), "%0*llu", digits, v % mod);

		FUZZ_CHECK(ok);
		FUZZ_CHECK(out[digits] == '\0');
		for (int i = 0; i < digits; i++)
			FUZZ_CHECK(out[i] >= '0' && out[i] <= '9');
		FUZZ_CHECK(strcmp(out, want) == 0);
	}

	/* the moving factor: 8 bytes, big-endian */
	if (size >= 10)
	{
		uint64_t	c = 0;
		uint8_t		b[8];

		for (int i = 0; i < 8; i++)
			c = (c << 8) | data[2 + i];
		otp_counter_bytes(c, b);
		FUZZ_CHECK(memcmp(b, data + 2, 8) == 0);
	}

	free(out);
	free(digest);
	return 0;
}
