/*
 * fuzz_webauthn_attestation.c
 *		Arbitrary bytes into wa_parse_attestation() and, when they parse, the
 *		authenticator data they carry into wa_parse_auth_data().
 *
 * Properties: an accepted object has a known format and authenticator
 * data of at least WA_AUTH_DATA_MIN bytes (a packed one a signature of 1 to
 * 512 bytes); parsed authenticator data points inside its buffer (credential id of 1 to 1023
 * bytes, COSE key ending inside it), and its COSE key parses again on its
 * own to the same key (an RS256 one within the modulus and exponent
 * limits); verifying a signature over it never crashes; every block taken
 * from the allocator is given back by wa_attestation_free, and none is held
 * after a refusal or a verification; with an allocator that has no memory,
 * an object that parses is refused as out of memory and nothing is held.
 */
#include "fuzz_webauthn.h"

static const WaAllocator no_mem = {fuzz_alloc_none, fuzz_free, NULL};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t    *in = (uint8_t *) fuzz_copy(data, size);
	WaAttestation att;
	WaAuthData	ad;
	WaCoseKey	again;
	uint8_t		hash[32] = {0};
	WaError		parsed = wa_parse_attestation(&fuzz_mem, in, size, &att);
	WaAttestation starved;
	WaError		starved_err = wa_parse_attestation(&no_mem, in, size, &starved);

	FUZZ_CHECK(starved_err != WA_OK && starved.auth_data == NULL);
	FUZZ_CHECK((parsed == WA_OK) == (starved_err == WA_ERR_OUT_OF_MEMORY));
	if (parsed == WA_OK)
	{
		FUZZ_CHECK(att.fmt == WA_FMT_NONE || att.fmt == WA_FMT_PACKED);
		FUZZ_CHECK(att.auth_data != NULL && att.auth_data_len >= WA_AUTH_DATA_MIN);
		FUZZ_CHECK(att.fmt == WA_FMT_NONE ||
				   (att.packed_sig_len >= 1 && att.packed_sig_len <= sizeof(att.packed_sig)));
		if (wa_parse_auth_data(att.auth_data, att.auth_data_len, &ad) == WA_OK &&
			ad.has_credential)
		{
			FUZZ_CHECK(ad.credential_id > att.auth_data &&
					   ad.credential_id_len >= 1 &&
					   ad.credential_id_len <= WA_MAX_CREDENTIAL_ID);
			FUZZ_CHECK(ad.cose_key + ad.cose_key_len <= att.auth_data + att.auth_data_len);
			FUZZ_CHECK(wa_parse_cose_key(ad.cose_key, ad.cose_key_len, &again) == WA_OK);
			FUZZ_CHECK(memcmp(&again, &ad.key, sizeof(again)) == 0);
			FUZZ_CHECK(fuzz_key_within_limits(&ad.key));
			if (att.fmt == WA_FMT_PACKED)
			{
				(void) wa_verify_signature(&fuzz_mem, &ad.key, att.auth_data, att.auth_data_len,
										   hash, att.packed_sig, att.packed_sig_len);
				/* only Ed25519 needs memory to verify */
				FUZZ_CHECK((wa_verify_signature(&no_mem, &ad.key, att.auth_data,
												att.auth_data_len, hash, att.packed_sig,
												att.packed_sig_len) == WA_ERR_OUT_OF_MEMORY) ==
						   (ad.key.alg == WA_ALG_EDDSA && att.packed_sig_len == 64));
			}
			FUZZ_CHECK(fuzz_live_blocks == 1);
		}
		wa_attestation_free(&att);
	}
	FUZZ_CHECK(att.auth_data == NULL && fuzz_live_blocks == 0);
	free(in);
	return 0;
}
