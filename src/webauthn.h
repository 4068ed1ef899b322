/*
 * webauthn.h
 *		The WebAuthn core: authenticator data, attestation objects, COSE
 *		public keys and assertion signatures (docs/passkeys.md).
 *
 * Plain C with no backend headers, so that fuzzers build it outside the
 * server.  CBOR is read with libcbor, ES256 and RS256 signatures are
 * checked with OpenSSL, Ed25519 signatures with libsodium.  Every function
 * takes untrusted bytes and a length, never reads past them, and reports a
 * failure as a WaError; wa_error_message names it in a sentence.
 *
 * The memory this code takes for itself comes from the WaAllocator its
 * caller passes (palloc in the backend, malloc in the fuzzers); libcbor and
 * OpenSSL keep their own, released before every return.
 */
#ifndef ACCTSEC_WEBAUTHN_H
#define ACCTSEC_WEBAUTHN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WA_RP_ID_HASH_BYTES		32
#define WA_AAGUID_BYTES			16
#define WA_AUTH_DATA_MIN		37	/* rpIdHash, flags and signCount */
#define WA_MAX_CREDENTIAL_ID	1023	/* WebAuthn: credential ids are at
										 * most 1023 bytes */
#define WA_MAX_COSE_KEY			1024	/* far above any key of the algorithms
										 * accepted */
#define WA_MAX_CBOR				16384	/* attestation objects, without
										 * certificates */

/* authenticator data flags */
#define WA_FLAG_UP	0x01		/* user present */
#define WA_FLAG_UV	0x04		/* user verified */
#define WA_FLAG_BE	0x08		/* backup eligible */
#define WA_FLAG_BS	0x10		/* backed up */
#define WA_FLAG_AT	0x40		/* attested credential data included */
#define WA_FLAG_ED	0x80		/* extension data included */

/* COSE algorithm identifiers accepted */
#define WA_ALG_ES256	(-7)
#define WA_ALG_EDDSA	(-8)
#define WA_ALG_RS256	(-257)

/*
 * RS256 keys: a modulus of 2048 (RFC 8230's minimum) to 4096 bits, and a
 * public exponent that is odd, above 2^16 (SP 800-56B; authenticators use
 * 65537) and below 2^32, so no key makes verification slow.
 */
#define WA_RSA_MIN_BITS		2048
#define WA_RSA_MAX_BITS		4096
#define WA_RSA_MAX_BYTES	(WA_RSA_MAX_BITS / 8)

typedef enum WaError
{
	WA_OK = 0,
	WA_ERR_AUTHDATA_SHORT,
	WA_ERR_AUTHDATA_TRAILING,
	WA_ERR_AUTHDATA_NO_CREDENTIAL,
	WA_ERR_CREDENTIAL_ID_LENGTH,
	WA_ERR_COSE_CBOR,
	WA_ERR_COSE_SHAPE,
	WA_ERR_COSE_ALG,
	WA_ERR_COSE_TOO_LONG,
	WA_ERR_COSE_RSA_MODULUS,
	WA_ERR_COSE_RSA_EXPONENT,
	WA_ERR_ATTESTATION_CBOR,
	WA_ERR_ATTESTATION_SHAPE,
	WA_ERR_ATTESTATION_FORMAT,
	WA_ERR_ATTESTATION_STATEMENT,
	WA_ERR_ATTESTATION_CERTIFICATE,
	WA_ERR_SIGNATURE,
	WA_ERR_OUT_OF_MEMORY
} WaError;

/*
 * Where webauthn.c takes memory.  alloc answers NULL when it has none and
 * never raises (in the backend: palloc_extended with MCXT_ALLOC_NO_OOM), so
 * that nothing libcbor or OpenSSL holds at that moment is lost.
 */
typedef struct WaAllocator
{
	void	   *(*alloc) (void *ctx, size_t size);
	void		(*free) (void *ctx, void *p);
	void	   *ctx;
} WaAllocator;

typedef struct WaCoseKey
{
	int			alg;			/* WA_ALG_ES256, WA_ALG_EDDSA or WA_ALG_RS256 */
	uint8_t		x[32];			/* ES256, EdDSA */
	uint8_t		y[32];			/* ES256 */
	uint8_t		n[WA_RSA_MAX_BYTES];	/* RS256: the modulus, big-endian */
	size_t		n_len;			/* no leading zero byte */
	uint32_t	e;				/* RS256: the public exponent */
} WaCoseKey;

typedef struct WaAuthData
{
	const uint8_t *rp_id_hash;	/* 32 bytes, inside the input */
	uint8_t		flags;
	uint32_t	sign_count;
	/* with WA_FLAG_AT: the attested credential data */
	bool		has_credential;
	uint8_t		aaguid[WA_AAGUID_BYTES];
	const uint8_t *credential_id;	/* inside the input */
	size_t		credential_id_len;
	const uint8_t *cose_key;	/* inside the input */
	size_t		cose_key_len;
	WaCoseKey	key;
} WaAuthData;

typedef enum WaAttestationFormat
{
	WA_FMT_NONE,
	WA_FMT_PACKED
} WaAttestationFormat;

typedef struct WaAttestation
{
	WaAttestationFormat fmt;
	int			packed_alg;		/* packed: attStmt.alg */
	uint8_t		packed_sig[WA_RSA_MAX_BYTES];	/* packed: attStmt.sig */
	size_t		packed_sig_len;
	uint8_t    *auth_data;		/* a copy from mem; wa_attestation_free */
	size_t		auth_data_len;
	const WaAllocator *mem;
} WaAttestation;

extern const char *wa_error_message(WaError err);

/*
 * Decode unpadded base64url (as browsers send it) into out (cap bytes).
 * False on a character outside the alphabet, padding, or too long an input.
 */
extern bool wa_base64url_decode(const char *in, size_t in_len,
								uint8_t *out, size_t cap, size_t *out_len);

/* Parse a COSE_Key (one CBOR map, exactly len bytes). */
extern WaError wa_parse_cose_key(const uint8_t *p, size_t len, WaCoseKey *key);

/*
 * Parse authenticator data.  With WA_FLAG_AT the attested credential data
 * and its COSE key are parsed too; without WA_FLAG_ED nothing may follow.
 */
extern WaError wa_parse_auth_data(const uint8_t *p, size_t len, WaAuthData *ad);

/*
 * Parse an attestation object (fmt "none" or "packed" without x5c).  On
 * success att->auth_data, at least WA_AUTH_DATA_MIN bytes, is taken from
 * mem; on failure nothing is held.
 */
extern WaError wa_parse_attestation(const WaAllocator *mem,
									const uint8_t *p, size_t len,
									WaAttestation *att);
extern void wa_attestation_free(WaAttestation *att);

/*
 * Verify sig over auth_data || client_data_hash (32 bytes) with key: ES256
 * takes a DER-encoded ECDSA signature over SHA-256, EdDSA a 64-byte
 * Ed25519 signature (the message is assembled in memory from mem), RS256 a
 * PKCS #1 v1.5 signature over SHA-256 as long as the modulus.
 */
extern WaError wa_verify_signature(const WaAllocator *mem,
								   const WaCoseKey *key,
								   const uint8_t *auth_data, size_t auth_data_len,
								   const uint8_t *client_data_hash,
								   const uint8_t *sig, size_t sig_len);

#endif							/* ACCTSEC_WEBAUTHN_H */
