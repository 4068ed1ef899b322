/*
 * fuzz_common.h
 *		Shared by the libFuzzer targets over src/otp.c, src/pwformat.c and
 *		src/webauthn.c.
 *
 * A target checks properties of what the OTP core returns, not merely that
 * it does not crash; a broken property aborts, which libFuzzer reports as a
 * crash and saves the input.  Every buffer handed to the core is a heap
 * block of exactly the size the core's contract asks for, so AddressSanitizer
 * sees any byte written or read beyond it.
 */
#ifndef ACCTSEC_FUZZ_COMMON_H
#define ACCTSEC_FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otp.h"

#define FUZZ_CHECK(cond) \
	do { \
		if (!(cond)) \
		{ \
			fprintf(stderr, "property violated at %s:%d: %s\n", \
					__FILE__, __LINE__, #cond); \
			abort(); \
		} \
	} while (0)

/* A heap copy of exactly len bytes (at least 1, so malloc(0) is no issue). */
static inline char *
fuzz_copy(const uint8_t *data, size_t len)
{
	char	   *p = malloc(len ? len : 1);

	FUZZ_CHECK(p != NULL);
	if (len)
		memcpy(p, data, len);
	return p;
}

/*
 * The allocator the WebAuthn targets pass to src/webauthn.c: malloc and
 * free, counting the blocks live, so that a target can check that a call
 * gives back everything it took (AddressSanitizer reports leaks only at
 * exit).
 */
static size_t fuzz_live_blocks;

static inline void *
fuzz_alloc(void *ctx, size_t size)
{
	void	   *p;

	(void) ctx;
	p = malloc(size ? size : 1);
	if (p != NULL)
		fuzz_live_blocks++;
	return p;
}

static inline void
fuzz_free(void *ctx, void *p)
{
	(void) ctx;
	FUZZ_CHECK(p != NULL && fuzz_live_blocks > 0);
	fuzz_live_blocks--;
	free(p);
}

/* An allocator with no memory: every allocation fails. */
static inline void *
fuzz_alloc_none(void *ctx, size_t size)
{
	(void) ctx;
	(void) size;
	return NULL;
}

static inline int
fuzz_in_base32_alphabet(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7');
}

#endif
