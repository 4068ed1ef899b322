/*
 * fuzz_parse_algorithm.c
 *		Arbitrary names into otp_parse_algorithm().
 *
 * Properties: accepted exactly when the bytes are SHA1, SHA256 or SHA512 in
 * any ASCII case (no prefix, suffix or NUL tricks); an accepted name round
 * trips through otp_algorithm_name() and has the digest and secret lengths
 * of RFC 6238 (20, 32, 64).
 */
#include <strings.h>

#include "fuzz_common.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *in = fuzz_copy(data, size);
	char		z[8];
	OtpAlgorithm alg = (OtpAlgorithm) -1;
	bool		ok = otp_parse_algorithm(in, size, &alg);
	bool		want = false;

	if (size <= 6 && memchr(in, '\0', size) == NULL)
	{
		memcpy(z, in, size);
		z[size] = '\0';
		want = strcasecmp(z, "sha1") == 0 || strcasecmp(z, "sha256") == 0 ||
			strcasecmp(z, "sha512") == 0;
	}
	FUZZ_CHECK(ok == want);
	if (ok)
	{
		const char *name = otp_algorithm_name(alg);
		OtpAlgorithm again;

		FUZZ_CHECK(strlen(name) == size && strncasecmp(name, in, size) == 0);
		FUZZ_CHECK(otp_parse_algorithm(name, strlen(name), &again) && again == alg);
		FUZZ_CHECK(otp_digest_length(alg) == (alg == OTP_SHA1 ? 20 : alg == OTP_SHA256 ? 32 : 64));
		FUZZ_CHECK(otp_secret_length(alg) == otp_digest_length(alg));
	}
	free(in);
	return 0;
}
