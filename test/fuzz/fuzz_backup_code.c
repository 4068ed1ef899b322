/*
 * fuzz_backup_code.c
 *		Arbitrary typed or imported backup codes into
 *		otp_normalize_backup_code().
 *
 * Properties: never writes past the OTP_BACKUP_CODE_MAX_INPUT bytes of out;
 * the result is 0 exactly when the input is longer than that, holds a
 * character other than an ASCII letter, digit, space, tab or dash, or has
 * fewer than OTP_BACKUP_CODE_MIN_SYMBOLS letters and digits; otherwise it is
 * their number and out holds them in order, letters lower-cased.  The model
 * is <ctype.h> in the C locale, not the core's own comparisons.
 */
#include <ctype.h>

#include "fuzz_common.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *in = fuzz_copy(data, size);
	char	   *out = malloc(OTP_BACKUP_CODE_MAX_INPUT);
	char		expect[OTP_BACKUP_CODE_MAX_INPUT];
	size_t		symbols = 0;
	int			other = 0;
	int			n;

	FUZZ_CHECK(out != NULL);
	for (size_t i = 0; i < size && i < OTP_BACKUP_CODE_MAX_INPUT; i++)
	{
		unsigned char c = (unsigned char) in[i];

		if (c < 128 && isalnum(c))
			expect[symbols++] = (char) tolower(c);
		else if (c != ' ' && c != '\t' && c != '-')
			other = 1;
	}

	n = otp_normalize_backup_code(in, size, out);

	if (size > OTP_BACKUP_CODE_MAX_INPUT || other ||
		symbols < OTP_BACKUP_CODE_MIN_SYMBOLS)
		FUZZ_CHECK(n == 0);
	else
	{
		FUZZ_CHECK(n > 0 && (size_t) n == symbols);
		FUZZ_CHECK(memcmp(out, expect, symbols) == 0);
	}

	free(out);
	free(in);
	return 0;
}
