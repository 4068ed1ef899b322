/*
 * hexdigit.h
 *		The value of one hexadecimal digit, shared by the password hash
 *		reader (pwformat.c), the offline verifier (tools/acctsec_verify.c)
 *		and the fuzzers, which include it without PostgreSQL's headers.
 */
#ifndef ACCTSEC_HEXDIGIT_H
#define ACCTSEC_HEXDIGIT_H

/* 0 to 15 for '0'-'9', 'a'-'f' and 'A'-'F'; -1 for any other character. */
static inline int
hex_digit_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif							/* ACCTSEC_HEXDIGIT_H */
