/*
 * fuzz_normalize_code.c
 *		Arbitrary typed codes into otp_normalize_code().
 *
 * The first input byte picks the output capacity (0..255), the rest is the
 * typed code.  Properties: never writes past outcap; the result is -1 exactly
 * when the input holds something other than digits, spaces, tabs and dashes,
 * or has too many digits for outcap (or outcap is 0); otherwise it is the
 * number of digits, the output is those digits in order, NUL-terminated.
 */
#include "fuzz_common.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t		outcap;
	char	   *in;
	char	   *out;
	size_t		len;
	size_t		digits = 0;
	int			other = 0;
	int			n;

	if (size < 1)
		return 0;
	outcap = data[0];
	len = size - 1;
	in = fuzz_copy(data + 1, len);
	out = malloc(outcap ? outcap : 1);
	FUZZ_CHECK(out != NULL);

	for (size_t i = 0; i < len; i++)
	{
		char		c = in[i];

		if (c >= '0' && c <= '9')
			digits++;
		else if (c != ' ' && c != '-' && c != '\t')
			other = 1;
	}

	n = otp_normalize_code(in, len, out, outcap);

	if (outcap == 0 || other || digits + 1 > outcap)
		FUZZ_CHECK(n == -1);
	else
	{
		size_t		k = 0;

		FUZZ_CHECK(n >= 0 && (size_t) n == digits);
		FUZZ_CHECK(out[n] == '\0');
		for (size_t i = 0; i < len; i++)
			if (in[i] >= '0' && in[i] <= '9')
				FUZZ_CHECK(out[k++] == in[i]);
		FUZZ_CHECK(k == digits);
	}

	free(out);
	free(in);
	return 0;
}
