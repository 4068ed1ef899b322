/*
 * fuzz_webauthn_auth_data.c
 *		Arbitrary bytes into wa_parse_auth_data() (an assertion's
 *		authenticator data), wa_parse_cose_key() and wa_base64url_decode().
 *
 * Properties: accepted authenticator data has at least 37 bytes and its
 * fields point inside it; a COSE key that parses is ES256, EdDSA or RS256
 * (RS256 within the modulus and exponent limits), and verifying a
 * signature with it (the input's tail as the signature) never crashes nor
 * keeps memory; base64url
 * decoding never writes more than its capacity, and what it accepts
 * re-encodes to the input.
 */
#include <sodium.h>

#include "fuzz_webauthn.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t    *in = (uint8_t *) fuzz_copy(data, size);
	WaAuthData	ad;
	WaCoseKey	key;
	size_t		cap = size / 2 + 1;
	uint8_t    *out = malloc(cap);
	size_t		out_len;

	if (wa_parse_auth_data(in, size, &ad) == WA_OK)
	{
		FUZZ_CHECK(size >= 37 && ad.rp_id_hash == in);
		FUZZ_CHECK(!ad.has_credential ||
				   (ad.credential_id + ad.credential_id_len <= in + size &&
					ad.cose_key + ad.cose_key_len <= in + size));
	}
	if (wa_parse_cose_key(in, size, &key) == WA_OK)
	{
		uint8_t		hash[32] = {0};
		size_t		sig_len = key.alg == WA_ALG_RS256 ? key.n_len : 64;

		FUZZ_CHECK(key.alg == WA_ALG_ES256 || key.alg == WA_ALG_EDDSA ||
				   key.alg == WA_ALG_RS256);
		FUZZ_CHECK(fuzz_key_within_limits(&key));
		/* the key's own bytes as message and signature: never verifies */
		if (sig_len <= size)
			FUZZ_CHECK(wa_verify_signature(&fuzz_mem, &key, in, size, hash,
										   in + size - sig_len, sig_len) != WA_OK);
		FUZZ_CHECK(fuzz_live_blocks == 0);
	}

	FUZZ_CHECK(out != NULL);
	if (wa_base64url_decode((const char *) in, size, out, cap, &out_len))
	{
		size_t		n = sodium_base64_ENCODED_LEN(out_len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		char	   *enc = malloc(n);

		FUZZ_CHECK(out_len <= cap && enc != NULL);
		sodium_bin2base64(enc, n, out, out_len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		FUZZ_CHECK(strlen(enc) == size && memcmp(enc, in, size) == 0);
		free(enc);
	}
	free(out);
	free(in);
	return 0;
}
