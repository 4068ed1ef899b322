/*
 * otp.c
 *		The one-time-password core (RFC 4226, RFC 6238, RFC 4648).
 *
 * No backend headers here: this file is also built into the fuzzers under
 * test/fuzz.  Every function is bounded by the lengths it is given.
 */
#include "otp.h"

#include <string.h>

static const char base32_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

static const uint32_t powers_of_ten[OTP_MAX_DIGITS + 1] = {
	1u, 10u, 100u, 1000u, 10000u, 100000u, 1000000u, 10000000u,
	100000000u, 1000000000u, 0u /* 10 digits: no reduction needed */
};

static int
ascii_upper(int c)
{
	return (c >= 'a' && c <= 'z') ? c - 'a' + 'A' : c;
}

bool
otp_parse_algorithm(const char *name, size_t len, OtpAlgorithm *alg)
{
	static const struct
	{
		const char *name;
		OtpAlgorithm alg;
	}			names[] = {
		{"SHA1", OTP_SHA1}, {"SHA256", OTP_SHA256}, {"SHA512", OTP_SHA512}
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
	{
		size_t		n = strlen(names[i].name);
		size_t		j;

		if (n != len)
			continue;
		for (j = 0; j < n; j++)
			if (ascii_upper((unsigned char) name[j]) != names[i].name[j])
				break;
		if (j == n)
		{
			*alg = names[i].alg;
			return true;
		}
	}
	return false;
}

const char *
otp_algorithm_name(OtpAlgorithm alg)
{
	switch (alg)
	{
		case OTP_SHA256:
			return "SHA256";
		case OTP_SHA512:
			return "SHA512";
		case OTP_SHA1:
		default:
			return "SHA1";
	}
}

size_t
otp_digest_length(OtpAlgorithm alg)
{
	switch (alg)
	{
		case OTP_SHA256:
			return 32;
		case OTP_SHA512:
			return 64;
		case OTP_SHA1:
		default:
			return 20;
	}
}

size_t
otp_secret_length(OtpAlgorithm alg)
{
	return otp_digest_length(alg);
}

void
otp_counter_bytes(uint64_t counter, uint8_t out[8])
{
	for (int i = 7; i >= 0; i--)
	{
		out[i] = (uint8_t) (counter & 0xff);
		counter >>= 8;
	}
}

bool
otp_code_from_digest(const uint8_t *digest, size_t digest_len, int digits,
					 char *out)
{
	unsigned	offset;
	uint32_t	value;

	if (digest_len < 20 || digits < OTP_MIN_DIGITS || digits > OTP_MAX_DIGITS)
		return false;

	/* RFC 4226 section 5.4: the low nibble of the last byte picks 4 bytes */
	offset = digest[digest_len - 1] & 0x0f;
	value = ((uint32_t) (digest[offset] & 0x7f) << 24) |
		((uint32_t) digest[offset + 1] << 16) |
		((uint32_t) digest[offset + 2] << 8) |
		(uint32_t) digest[offset + 3];

	if (digits < OTP_MAX_DIGITS)
		value %= powers_of_ten[digits];

	out[digits] = '\0';
	for (int i = digits - 1; i >= 0; i--)
	{
		out[i] = (char) ('0' + value % 10);
		value /= 10;
	}
	return true;
}

int
otp_normalize_code(const char *in, size_t len, char *out, size_t outcap)
{
	size_t		n = 0;

	if (outcap == 0)
		return -1;
	for (size_t i = 0; i < len; i++)
	{
		char		c = in[i];

		if (c == ' ' || c == '-' || c == '\t')
			continue;
		if (c < '0' || c > '9')
			return -1;
		if (n + 1 >= outcap)
			return -1;
		out[n++] = c;
	}
	out[n] = '\0';
	return (int) n;
}

/*
 * What the user typed, as the symbols that were hashed: case, spaces and
 * dashes do not matter.  Generated codes are 12 symbols of backup_codes.c's
 * alphabet; codes imported from an application (backup_codes_import) are 6
 * to 64 letters and digits, normalised the same way, so one rule serves
 * both.
 */
int
otp_normalize_backup_code(const char *in, size_t len, char *out)
{
	int			n = 0;

	if (len > OTP_BACKUP_CODE_MAX_INPUT)
		return 0;
	for (size_t i = 0; i < len; i++)
	{
		char		c = in[i];

		if (c == ' ' || c == '-' || c == '\t')
			continue;
		if (c >= 'A' && c <= 'Z')
			c = c - 'A' + 'a';
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			return 0;
		out[n++] = c;
	}
	return n >= OTP_BACKUP_CODE_MIN_SYMBOLS ? n : 0;
}

size_t
base32_encoded_length(size_t len)
{
	/* ceil(len * 8 / 5) without overflow for any realistic len */
	return (len / 5) * 8 + ((len % 5) * 8 + 4) / 5;
}

void
base32_encode(const uint8_t *in, size_t len, char *out)
{
	uint32_t	buffer = 0;
	int			bits = 0;
	size_t		o = 0;

	for (size_t i = 0; i < len; i++)
	{
		buffer = (buffer << 8) | in[i];
		bits += 8;
		while (bits >= 5)
		{
			out[o++] = base32_alphabet[(buffer >> (bits - 5)) & 0x1f];
			bits -= 5;
		}
	}
	if (bits > 0)
		out[o++] = base32_alphabet[(buffer << (5 - bits)) & 0x1f];
	out[o] = '\0';
}

size_t
base32_max_decoded_length(size_t len)
{
	return (len / 8) * 5 + 5;
}

static int
base32_value(int c)
{
	c = ascii_upper(c);
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

Base32Status
base32_decode(const char *in, size_t len, uint8_t *out, size_t *out_len,
			  size_t *bad_pos)
{
	uint32_t	buffer = 0;
	int			bits = 0;
	size_t		o = 0;
	size_t		symbols = 0;

	for (size_t i = 0; i < len; i++)
	{
		int			c = (unsigned char) in[i];
		int			v;

		if (c == ' ' || c == '=')
			continue;
		v = base32_value(c);
		if (v < 0)
		{
			*bad_pos = i;
			return BASE32_BAD_CHARACTER;
		}
		symbols++;
		buffer = (buffer << 5) | (uint32_t) v;
		bits += 5;
		if (bits >= 8)
		{
			out[o++] = (uint8_t) ((buffer >> (bits - 8)) & 0xff);
			bits -= 8;
		}
	}

	/*
	 * RFC 4648: a final group of 1, 3 or 6 symbols cannot come from whole
	 * bytes; it is a truncated or mistyped secret, not something to guess at.
	 */
	switch (symbols % 8)
	{
		case 1:
		case 3:
		case 6:
			return BASE32_BAD_LENGTH;
		default:
			break;
	}
	*out_len = o;
	return BASE32_OK;
}

size_t
otp_percent_encode(const char *in, size_t len, char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t		o = 0;

	for (size_t i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) in[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			(c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
			c == '~')
			out[o++] = (char) c;
		else
		{
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 0x0f];
		}
	}
	out[o] = '\0';
	return o;
}
