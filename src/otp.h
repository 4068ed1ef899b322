/*
 * otp.h
 *		The one-time-password core: base32, HOTP dynamic truncation, code
 *		formatting and normalisation, otpauth:// URI encoding.
 *
 * Plain C with no backend headers, so that fuzzers and unit tests build it
 * outside the server.  The HMAC itself is computed by the caller (otp_sql.c)
 * and handed in as a digest.
 */
#ifndef ACCTSEC_OTP_H
#define ACCTSEC_OTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum OtpAlgorithm
{
	OTP_SHA1,
	OTP_SHA256,
	OTP_SHA512
} OtpAlgorithm;

#define OTP_MAX_DIGEST_LENGTH	64	/* SHA-512 */
#define OTP_MIN_DIGITS			1
#define OTP_MAX_DIGITS			10	/* a 31-bit value has at most 10 digits */

/* Parse "SHA1"/"sha256"/... (exact length, case-insensitive). */
extern bool otp_parse_algorithm(const char *name, size_t len, OtpAlgorithm *alg);
extern const char *otp_algorithm_name(OtpAlgorithm alg);
extern size_t otp_digest_length(OtpAlgorithm alg);

/* RFC 6238 reference key sizes: 20, 32 and 64 bytes. */
extern size_t otp_secret_length(OtpAlgorithm alg);

/* RFC 4226 section 5.3: the moving factor as 8 big-endian bytes. */
extern void otp_counter_bytes(uint64_t counter, uint8_t out[8]);

/*
 * RFC 4226 dynamic truncation of an HMAC digest, then the code as exactly
 * "digits" decimal characters (zero-padded) plus a NUL into out.
 * Returns false if the digest is too short to truncate.
 */
extern bool otp_code_from_digest(const uint8_t *digest, size_t digest_len,
								 int digits, char *out);

/*
 * Strip the spaces and dashes people type into a code; out receives at most
 * outcap - 1 characters plus NUL.  Returns the normalised length, or -1 if
 * the input holds anything but digits, spaces and dashes, or is too long.
 */
extern int	otp_normalize_code(const char *in, size_t len, char *out, size_t outcap);

/*
 * A typed or imported backup code as the symbols that are hashed: letters
 * lower-cased, digits, spaces, tabs and dashes dropped.  out has room for
 * OTP_BACKUP_CODE_MAX_INPUT bytes (no NUL is written).  Returns the number
 * of symbols, or 0 if the input cannot be a code: longer than
 * OTP_BACKUP_CODE_MAX_INPUT, another character, or fewer than
 * OTP_BACKUP_CODE_MIN_SYMBOLS symbols.
 */
#define OTP_BACKUP_CODE_MAX_INPUT	64
#define OTP_BACKUP_CODE_MIN_SYMBOLS	6
extern int	otp_normalize_backup_code(const char *in, size_t len, char *out);

/* RFC 4648 base32, upper-case alphabet, no padding. */
extern size_t base32_encoded_length(size_t len);
extern void base32_encode(const uint8_t *in, size_t len, char *out);

/*
 * Decode base32, case-insensitively, skipping spaces and '='.  out must
 * have room for base32_max_decoded_length(len) bytes.
 */
typedef enum Base32Status
{
	BASE32_OK,
	BASE32_BAD_CHARACTER,		/* *bad_pos names the offending offset */
	BASE32_BAD_LENGTH			/* a trailing group that holds no whole byte */
} Base32Status;

extern size_t base32_max_decoded_length(size_t len);
extern Base32Status base32_decode(const char *in, size_t len, uint8_t *out,
								  size_t *out_len, size_t *bad_pos);

/*
 * Percent-encode for an otpauth:// URI: RFC 3986 unreserved characters stay,
 * every other byte becomes %XX.  out needs 3 * len + 1 bytes.  Returns the
 * encoded length.
 */
extern size_t otp_percent_encode(const char *in, size_t len, char *out);

#endif							/* ACCTSEC_OTP_H */
