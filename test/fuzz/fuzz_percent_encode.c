/*
 * fuzz_percent_encode.c
 *		Arbitrary labels and issuers into otp_percent_encode().
 *
 * Properties: never writes past 3 * len + 1; the returned length is the
 * string's length; the output holds only RFC 3986 unreserved characters and
 * %XX escapes with upper-case hex digits (so no ':', '?', '&', '=', '/',
 * '#', space, control or non-ASCII byte can reach the URI unescaped); every
 * unreserved byte stays as it is and every other byte is escaped; decoding
 * the escapes gives back the input.
 */
#include "fuzz_common.h"
#include "hexdigit.h"

static int
unreserved(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		(c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *in = fuzz_copy(data, size);
	char	   *out = malloc(3 * size + 1);
	size_t		n;
	size_t		expect = 0;
	size_t		i,
				j;

	FUZZ_CHECK(out != NULL);
	for (i = 0; i < size; i++)
		expect += unreserved(data[i]) ? 1 : 3;

	n = otp_percent_encode(in, size, out);
	FUZZ_CHECK(n == expect);
	FUZZ_CHECK(n <= 3 * size);
	FUZZ_CHECK(out[n] == '\0');
	FUZZ_CHECK(strlen(out) == n);

	/* decode and compare, checking the alphabet on the way */
	for (i = 0, j = 0; i < n; j++)
	{
		int			c = (unsigned char) out[i];

		FUZZ_CHECK(j < size);
		if (c == '%')
		{
			int			hi,
						lo;

			FUZZ_CHECK(i + 2 < n);
			hi = hex_digit_value((unsigned char) out[i + 1]);
			lo = hex_digit_value((unsigned char) out[i + 2]);
			FUZZ_CHECK(hi >= 0 && lo >= 0);
			/* upper-case digits only */
			FUZZ_CHECK(!(out[i + 1] >= 'a' && out[i + 1] <= 'f'));
			FUZZ_CHECK(!(out[i + 2] >= 'a' && out[i + 2] <= 'f'));
			FUZZ_CHECK((hi << 4 | lo) == data[j]);
			FUZZ_CHECK(!unreserved(data[j]));
			i += 3;
		}
		else
		{
			FUZZ_CHECK(unreserved(c));
			FUZZ_CHECK(c == data[j]);
			i++;
		}
	}
	FUZZ_CHECK(j == size);

	free(out);
	free(in);
	return 0;
}
