/*
 * fuzz_base32_roundtrip.c
 *		Arbitrary bytes through base32_encode() and back.
 *
 * Properties: the encoding is exactly base32_encoded_length() characters of
 * the RFC 4648 alphabet plus a NUL, i.e. ceil(8 * n / 5); it decodes to the
 * same bytes, also lower-cased and with spaces and '=' padding inserted.
 */
#include "fuzz_common.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t		elen = base32_encoded_length(size);
	char	   *enc = malloc(elen + 1);
	char	   *messy;
	uint8_t    *back;
	size_t		back_len = (size_t) -1;
	size_t		bad_pos;
	size_t		m = 0;

	FUZZ_CHECK(enc != NULL);
	FUZZ_CHECK(elen == (size * 8 + 4) / 5);
	base32_encode(data, size, enc);
	FUZZ_CHECK(enc[elen] == '\0');
	for (size_t i = 0; i < elen; i++)
		FUZZ_CHECK(fuzz_in_base32_alphabet((unsigned char) enc[i]));

	back = malloc(base32_max_decoded_length(elen));
	FUZZ_CHECK(back != NULL);
	FUZZ_CHECK(base32_decode(enc, elen, back, &back_len, &bad_pos) == BASE32_OK);
	FUZZ_CHECK(back_len == size);
	FUZZ_CHECK(size == 0 || memcmp(back, data, size) == 0);
	free(back);

	/* lower case, a space every 4 symbols and RFC padding: same bytes */
	messy = malloc(2 * elen + 8 + 1);
	FUZZ_CHECK(messy != NULL);
	for (size_t i = 0; i < elen; i++)
	{
		char		c = enc[i];

		if (i > 0 && i % 4 == 0)
			messy[m++] = ' ';
		messy[m++] = (c >= 'A' && c <= 'Z') ? c + 32 : c;
	}
	for (size_t pad = (8 - elen % 8) % 8; pad > 0; pad--)
		messy[m++] = '=';
	back = malloc(base32_max_decoded_length(m));
	FUZZ_CHECK(back != NULL);
	back_len = (size_t) -1;
	FUZZ_CHECK(base32_decode(messy, m, back, &back_len, &bad_pos) == BASE32_OK);
	FUZZ_CHECK(back_len == size);
	FUZZ_CHECK(size == 0 || memcmp(back, data, size) == 0);

	free(back);
	free(messy);
	free(enc);
	return 0;
}
