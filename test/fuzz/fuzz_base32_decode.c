/*
 * fuzz_base32_decode.c
 *		Arbitrary text into base32_decode().
 *
 * Properties: never writes past base32_max_decoded_length(); accepts exactly
 * the inputs made of the alphabet (either case), spaces and '=' whose symbol
 * count is not 1, 3 or 6 mod 8; the decoded length is symbols * 5 / 8; a
 * bad character is reported at the first offending offset; re-encoding the
 * output gives back the input's symbols (upper-cased) once the unused low
 * bits of the last symbol are zero, and decodes again to the same bytes.
 */
#include "fuzz_common.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *in = fuzz_copy(data, size);
	size_t		cap = base32_max_decoded_length(size);
	uint8_t    *out = malloc(cap);
	size_t		out_len = (size_t) -1;
	size_t		bad_pos = (size_t) -1;
	size_t		symbols = 0;
	size_t		first_bad = (size_t) -1;
	char	   *norm = malloc(size + 1);
	Base32Status st;

	FUZZ_CHECK(out != NULL && norm != NULL);

	/* an independent model of what the decoder must do */
	for (size_t i = 0; i < size; i++)
	{
		int			c = (unsigned char) in[i];
		int			u = (c >= 'a' && c <= 'z') ? c - 32 : c;

		if (c == ' ' || c == '=')
			continue;
		if (!fuzz_in_base32_alphabet(u))
		{
			first_bad = i;
			break;
		}
		norm[symbols++] = (char) u;
	}
	norm[symbols] = '\0';

	st = base32_decode(in, size, out, &out_len, &bad_pos);

	if (first_bad != (size_t) -1)
	{
		FUZZ_CHECK(st == BASE32_BAD_CHARACTER);
		FUZZ_CHECK(bad_pos == first_bad);
	}
	else if (symbols % 8 == 1 || symbols % 8 == 3 || symbols % 8 == 6)
		FUZZ_CHECK(st == BASE32_BAD_LENGTH);
	else
	{
		FUZZ_CHECK(st == BASE32_OK);
		FUZZ_CHECK(out_len == symbols * 5 / 8);
		FUZZ_CHECK(out_len <= cap);

		/* round trip: encode the bytes, compare with the symbols */
		{
			size_t		elen = base32_encoded_length(out_len);
			char	   *enc = malloc(elen + 1);
			uint8_t    *back = malloc(base32_max_decoded_length(elen));
			size_t		back_len = 0;
			size_t		bp;

			FUZZ_CHECK(enc != NULL && back != NULL);
			base32_encode(out, out_len, enc);
			FUZZ_CHECK(strlen(enc) == elen);
			FUZZ_CHECK(elen == symbols);
			/* all symbols but the last match exactly */
			if (elen > 0)
				FUZZ_CHECK(memcmp(enc, norm, elen - 1) == 0);
			FUZZ_CHECK(base32_decode(enc, elen, back, &back_len, &bp) == BASE32_OK);
			FUZZ_CHECK(back_len == out_len);
			FUZZ_CHECK(memcmp(back, out, out_len) == 0);
			free(enc);
			free(back);
		}
	}

	free(norm);
	free(out);
	free(in);
	return 0;
}
