/*
 * fuzz_sodium.h
 *		The start-up of the libFuzzer targets over code that calls libsodium
 *		(webauthn.c): sodium_init() once, before the first input.  Included
 *		by exactly one file of each such target.
 */
#ifndef ACCTSEC_FUZZ_SODIUM_H
#define ACCTSEC_FUZZ_SODIUM_H

#include <sodium.h>

#include "fuzz_common.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void) argc;
	(void) argv;
	FUZZ_CHECK(sodium_init() >= 0);
	return 0;
}

#endif
