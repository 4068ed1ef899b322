/*
 * fuzz_webauthn.h
 *		Shared by the libFuzzer targets over src/webauthn.c: the libsodium
 *		start-up, the counting allocator and the limits every parsed key
 *		keeps.  Included by exactly one file of each such target.
 */
#ifndef ACCTSEC_FUZZ_WEBAUTHN_H
#define ACCTSEC_FUZZ_WEBAUTHN_H

#include "fuzz_common.h"
#include "fuzz_sodium.h"
#include "webauthn.h"

/* src/webauthn.c's allocations through fuzz_alloc and fuzz_free */
static const WaAllocator fuzz_mem = {fuzz_alloc, fuzz_free, NULL};

/*
 * What wa_parse_cose_key() promises of a key it accepts: an RS256 key has a
 * modulus of WA_RSA_MIN_BITS to WA_RSA_MAX_BYTES bytes, odd and with no
 * leading zero byte, and an odd public exponent above 65536.
 */
static inline int
fuzz_key_within_limits(const WaCoseKey *key)
{
	return key->alg != WA_ALG_RS256 ||
		(key->n_len >= WA_RSA_MIN_BITS / 8 && key->n_len <= WA_RSA_MAX_BYTES &&
		 key->n[0] != 0 && (key->n[key->n_len - 1] & 1) == 1 &&
		 key->e > 65536 && (key->e & 1) == 1);
}

#endif
