/*
 * webauthn.c
 *		The WebAuthn core: authenticator data, attestation objects, COSE
 *		public keys and assertion signatures (docs/passkeys.md).
 *
 * No backend headers: the fuzzers in test/fuzz build this file alone.  The
 * bytes come from a browser and are hostile: every length is checked
 * before it is used, CBOR is decoded by libcbor (which reports malformed
 * and truncated input and never reads past the buffer), and every decoded
 * item is checked for its type before it is read.  Memory taken here
 * (libcbor items, OpenSSL objects) is released on every path before
 * returning; what this file allocates itself (the copy of authData, the
 * message an Ed25519 signature covers) comes from the caller's
 * WaAllocator, which never raises, so an allocation failing while libcbor
 * or OpenSSL holds memory loses none.  Nothing here raises an error.
 */
#include "webauthn.h"

#include <string.h>

#include <cbor.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <openssl/rsa.h>
#include <sodium.h>

const char *
wa_error_message(WaError err)
{
	switch (err)
	{
		case WA_OK:
			return "no error";
		case WA_ERR_AUTHDATA_SHORT:
			return "authenticator data is truncated";
		case WA_ERR_AUTHDATA_TRAILING:
			return "authenticator data has trailing bytes";
		case WA_ERR_AUTHDATA_NO_CREDENTIAL:
			return "authenticator data carries no attested credential";
		case WA_ERR_CREDENTIAL_ID_LENGTH:
			return "credential id must have 1 to 1023 bytes";
		case WA_ERR_COSE_CBOR:
			return "credential public key is not valid CBOR";
		case WA_ERR_COSE_SHAPE:
			return "credential public key is not a valid COSE key";
		case WA_ERR_COSE_ALG:
			return "credential public key algorithm is not ES256, EdDSA or RS256";
		case WA_ERR_COSE_TOO_LONG:
			return "credential public key is too long";
		case WA_ERR_COSE_RSA_MODULUS:
			return "RSA modulus must have 2048 to 4096 bits";
		case WA_ERR_COSE_RSA_EXPONENT:
			return "RSA public exponent must be odd, above 2^16 and below 2^32";
		case WA_ERR_ATTESTATION_CBOR:
			return "attestation object is not valid CBOR";
		case WA_ERR_ATTESTATION_SHAPE:
			return "attestation object must be a map of fmt, attStmt and authData";
		case WA_ERR_ATTESTATION_FORMAT:
			return "attestation format must be \"none\" or \"packed\"";
		case WA_ERR_ATTESTATION_STATEMENT:
			return "attestation statement is malformed";
		case WA_ERR_ATTESTATION_CERTIFICATE:
			return "attestation with a certificate chain is not accepted (only self attestation)";
		case WA_ERR_SIGNATURE:
			return "signature does not verify";
		case WA_ERR_OUT_OF_MEMORY:
			return "out of memory";
	}
	return "unknown error";
}

bool
wa_base64url_decode(const char *in, size_t in_len, uint8_t *out, size_t cap,
					size_t *out_len)
{
	const char *end = NULL;

	*out_len = 0;
	/* one base64 character carries 6 bits; refuse before decoding */
	if (in_len > (cap / 3) * 4 + 3)
		return false;

	/*
	 * The alphabet is checked here: libsodium maps some bytes above 0x7f to
	 * digits (found by test/fuzz/fuzz_webauthn_auth_data.c).
	 */
	for (size_t i = 0; i < in_len; i++)
	{
		char		c = in[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			  (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
	}
	if (sodium_base642bin(out, cap, in, in_len, NULL, out_len, &end,
						  sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
		return false;
	return end == in + in_len;
}

/* ---------------------------------------------------------------------------
 * CBOR helpers
 * ---------------------------------------------------------------------------
 */

/* The integer value of a CBOR integer item, if it fits in int64. */
static bool
cbor_int_value(const cbor_item_t *item, int64_t *v)
{
	uint64_t	u;

	if (!cbor_isa_uint(item) && !cbor_isa_negint(item))
		return false;
	u = cbor_get_int(item);
	if (u > (uint64_t) INT64_MAX)
		return false;
	*v = cbor_isa_uint(item) ? (int64_t) u : -1 - (int64_t) u;
	return true;
}

static bool
cbor_bytes(const cbor_item_t *item, const uint8_t **p, size_t *len)
{
	if (!cbor_isa_bytestring(item) || !cbor_bytestring_is_definite(item))
		return false;
	*p = cbor_bytestring_handle(item);
	*len = cbor_bytestring_length(item);
	return true;
}

/* A decoded CBOR map: the item (the caller's to cbor_decref) and its pairs. */
typedef struct CborMap
{
	cbor_item_t *item;
	struct cbor_pair *pairs;
	size_t		n;
} CborMap;

/* The pairs of a CBOR item that is a definite-length map. */
static bool
cbor_map_pairs(const cbor_item_t *item, struct cbor_pair **pairs, size_t *n)
{
	if (!cbor_isa_map(item) || !cbor_map_is_definite(item))
		return false;
	*pairs = cbor_map_handle(item);
	*n = cbor_map_size(item);
	return true;
}

static bool
cbor_text_is(const cbor_item_t *item, const char *s)
{
	size_t		n = strlen(s);

	return cbor_isa_string(item) && cbor_string_is_definite(item) &&
		cbor_string_length(item) == n &&
		memcmp(cbor_string_handle(item), s, n) == 0;
}

/*
 * The structure of one CBOR item, checked before libcbor builds it.
 *
 * cbor_load allocates a definite array or map of the size its header
 * declares before reading the elements, so a few bytes declaring 2^32
 * elements would make it ask for gigabytes.  This pass walks the headers
 * with libcbor's streaming decoder (which allocates nothing) and keeps the
 * number of elements still owed by every open container: as each needs at
 * least one byte, a header that makes them outnumber the bytes left is
 * refused, which bounds what cbor_load will allocate by the input's length.
 * Indefinite lengths and tags, which WebAuthn's CTAP2 canonical CBOR never
 * uses, are refused; so is nesting deeper than WA_MAX_CBOR_DEPTH.
 */
#define WA_MAX_CBOR_DEPTH	16

typedef struct CborScan
{
	size_t		owed[WA_MAX_CBOR_DEPTH];	/* elements owed per open
											 * container */
	int			depth;
	size_t		total_owed;
	bool		bad;
	bool		done;			/* the top-level item is complete */
} CborScan;

static void
scan_item(CborScan *sc, size_t children)
{
	if (sc->done)
	{
		sc->bad = true;
		return;
	}
	if (sc->depth > 0)
	{
		sc->owed[sc->depth - 1]--;
		sc->total_owed--;
	}
	if (children > 0)
	{
		if (sc->depth == WA_MAX_CBOR_DEPTH || children > SIZE_MAX / 2)
		{
			sc->bad = true;
			return;
		}
		sc->owed[sc->depth++] = children;
		sc->total_owed += children;
	}
	while (sc->depth > 0 && sc->owed[sc->depth - 1] == 0)
		sc->depth--;
	if (sc->depth == 0)
		sc->done = true;
}

/*
 * Every leaf (a number, a string, a simple value) is one element of its
 * container; libcbor's callbacks differ only in the value's type, which
 * the scan does not look at.
 */
#define SCAN_LEAF(name, valtype) \
static void \
name(void *c, valtype v) \
{ \
	(void) v; \
	scan_item(c, 0); \
}

SCAN_LEAF(scan_u8, uint8_t)
SCAN_LEAF(scan_u16, uint16_t)
SCAN_LEAF(scan_u32, uint32_t)
SCAN_LEAF(scan_u64, uint64_t)
SCAN_LEAF(scan_f4, float)
SCAN_LEAF(scan_f8, double)
SCAN_LEAF(scan_bool, bool)

static void
scan_str(void *c, cbor_data d, size_t n)
{
	(void) d;
	(void) n;
	scan_item(c, 0);
}
static void
scan_simple(void *c)
{
	scan_item(c, 0);
}
static void
scan_array(void *c, size_t n)
{
	scan_item(c, n);
}
static void
scan_map(void *c, size_t n)
{
	if (n > SIZE_MAX / 2)
		((CborScan *) c)->bad = true;
	else
		scan_item(c, 2 * n);
}
static void
scan_refuse(void *c)
{
	((CborScan *) c)->bad = true;
}
static void
scan_refuse_tag(void *c, uint64_t v)
{
	(void) v;
	((CborScan *) c)->bad = true;
}

static const struct cbor_callbacks scan_callbacks = {
	.uint8 = scan_u8,.uint16 = scan_u16,.uint32 = scan_u32,.uint64 = scan_u64,
	.negint8 = scan_u8,.negint16 = scan_u16,.negint32 = scan_u32,.negint64 = scan_u64,
	.byte_string_start = scan_refuse,.byte_string = scan_str,
	.string = scan_str,.string_start = scan_refuse,
	.indef_array_start = scan_refuse,.array_start = scan_array,
	.indef_map_start = scan_refuse,.map_start = scan_map,
	.tag = scan_refuse_tag,
	.float2 = scan_f4,.float4 = scan_f4,.float8 = scan_f8,
	.undefined = scan_simple,.null = scan_simple,.boolean = scan_bool,
	.indef_break = scan_refuse,
};

/* The length of the first CBOR item of p, if it is well formed; else 0. */
static size_t
cbor_scan(const uint8_t *p, size_t len)
{
	CborScan	sc;
	size_t		off = 0;

	memset(&sc, 0, sizeof(sc));
	while (!sc.done)
	{
		struct cbor_decoder_result r;

		if (off >= len)
			return 0;
		r = cbor_stream_decode(p + off, len - off, &scan_callbacks, &sc);
		if (r.status != CBOR_DECODER_FINISHED || r.read == 0 || sc.bad)
			return 0;
		off += r.read;
		if (sc.total_owed > len - off)
			return 0;
	}
	return off;
}

/* Decode exactly one CBOR item that spans len bytes; NULL otherwise. */
static cbor_item_t *
cbor_load_exact(const uint8_t *p, size_t len, size_t *read)
{
	struct cbor_load_result res;
	cbor_item_t *item;
	size_t		item_len;

	if (len == 0)
		return NULL;
	item_len = cbor_scan(p, len);
	if (item_len == 0 || (read == NULL && item_len != len))
		return NULL;
	item = cbor_load(p, item_len, &res);
	if (item == NULL)
		return NULL;
	if (res.error.code != CBOR_ERR_NONE)
	{
		cbor_decref(&item);
		return NULL;
	}
	if (read != NULL)
		*read = res.read;
	else if (res.read != len)
	{
		cbor_decref(&item);
		return NULL;
	}
	return item;
}

/*
 * Decode p, len bytes, as one CBOR map (cbor_map_pairs): bad_cbor when it
 * is not one CBOR item, bad_shape when it is no such map.  On WA_OK the
 * caller owns map->item (cbor_decref).
 */
static WaError
cbor_load_map(const uint8_t *p, size_t len, WaError bad_cbor, WaError bad_shape,
			  CborMap *map)
{
	map->item = cbor_load_exact(p, len, NULL);
	if (map->item == NULL)
		return bad_cbor;
	if (!cbor_map_pairs(map->item, &map->pairs, &map->n))
	{
		cbor_decref(&map->item);
		return bad_shape;
	}
	return WA_OK;
}

/* ---------------------------------------------------------------------------
 * COSE keys
 * ---------------------------------------------------------------------------
 */

static EVP_PKEY *
es256_key(const WaCoseKey *key)
{
	uint8_t		point[65];
	EVP_PKEY_CTX *ctx;
	EVP_PKEY   *pkey = NULL;
	OSSL_PARAM	params[3];

	point[0] = 0x04;			/* uncompressed */
	memcpy(point + 1, key->x, 32);
	memcpy(point + 33, key->y, 32);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
												 (char *) "prime256v1", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
												  point, sizeof(point));
	params[2] = OSSL_PARAM_construct_end();
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	/* decoding the point checks that it lies on the curve */
	if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
		EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pkey = NULL;
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return pkey;
}

/*
 * An RSA public key from its modulus and exponent.  The key is built as
 * OpenSSL 3 builds one from parameters; its validity (odd modulus of an
 * accepted size, an accepted exponent) was checked by the caller.
 */
static EVP_PKEY *
rs256_key(const WaCoseKey *key)
{
	BIGNUM	   *n = BN_bin2bn(key->n, (int) key->n_len, NULL);
	BIGNUM	   *e = BN_new();
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY   *pkey = NULL;

	if (n == NULL || e == NULL || bld == NULL ||
		BN_set_word(e, key->e) != 1 ||
		OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
		OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1 ||
		(params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
		(ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL ||
		EVP_PKEY_fromdata_init(ctx) != 1 ||
		EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
	{
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(e);
	BN_free(n);
	ERR_clear_error();
	return pkey;
}

/* The RS256 parameters n and e, checked against the limits (webauthn.h). */
static WaError
parse_rsa(const uint8_t *n, size_t n_len, const uint8_t *e, size_t e_len,
		  WaCoseKey *key)
{
	size_t		bits;
	uint64_t	ev = 0;

	/* a big-endian unsigned integer without leading zero bytes */
	if (n_len == 0 || n[0] == 0 || n_len > WA_RSA_MAX_BYTES)
		return WA_ERR_COSE_RSA_MODULUS;
	bits = n_len * 8;
	for (uint8_t top = n[0]; (top & 0x80) == 0; top <<= 1)
		bits--;
	if (bits < WA_RSA_MIN_BITS || bits > WA_RSA_MAX_BITS || (n[n_len - 1] & 1) == 0)
		return WA_ERR_COSE_RSA_MODULUS;
	if (e_len == 0 || e[0] == 0 || e_len > 4)
		return WA_ERR_COSE_RSA_EXPONENT;
	for (size_t i = 0; i < e_len; i++)
		ev = (ev << 8) | e[i];
	if (ev <= 65536 || ev > UINT32_MAX || (ev & 1) == 0)
		return WA_ERR_COSE_RSA_EXPONENT;
	key->alg = WA_ALG_RS256;
	memcpy(key->n, n, n_len);
	key->n_len = n_len;
	key->e = (uint32_t) ev;
	return WA_OK;
}

WaError
wa_parse_cose_key(const uint8_t *p, size_t len, WaCoseKey *key)
{
	CborMap		map;
	int64_t		kty = 0,
				alg = 0;

	/* labels -1, -2, -3: crv, x, y for EC2 and OKP keys; n, e, d for RSA */
	const cbor_item_t *param[3] = {NULL, NULL, NULL};
	WaError		err = WA_OK;

	memset(key, 0, sizeof(*key));
	if (len > WA_MAX_COSE_KEY)
		return WA_ERR_COSE_TOO_LONG;
	err = cbor_load_map(p, len, WA_ERR_COSE_CBOR, WA_ERR_COSE_SHAPE, &map);
	if (err != WA_OK)
		return err;
	for (size_t i = 0; i < map.n && err == WA_OK; i++)
	{
		int64_t		label;

		if (!cbor_int_value(map.pairs[i].key, &label))
		{
			err = WA_ERR_COSE_SHAPE;
			break;
		}
		switch (label)
		{
			case 1:				/* kty */
				if (kty != 0 || !cbor_int_value(map.pairs[i].value, &kty) || kty == 0)
					err = WA_ERR_COSE_SHAPE;
				break;
			case 3:				/* alg */
				if (alg != 0 || !cbor_int_value(map.pairs[i].value, &alg) || alg == 0)
					err = WA_ERR_COSE_SHAPE;
				break;
			case -1:
			case -2:
			case -3:
				if (param[-label - 1] != NULL)
					err = WA_ERR_COSE_SHAPE;
				param[-label - 1] = map.pairs[i].value;
				break;
			default:
				/* other parameters (kid, key_ops, ...) are ignored */
				break;
		}
	}
	if (err == WA_OK)
	{
		int64_t		crv = 0;
		const uint8_t *x = NULL,
				   *y = NULL;
		size_t		x_len = 0,
					y_len = 0;

		if (alg == WA_ALG_ES256)
		{
			/* EC2, P-256, 32-byte coordinates */
			if (kty != 2 || param[0] == NULL || !cbor_int_value(param[0], &crv) ||
				crv != 1 || param[1] == NULL || !cbor_bytes(param[1], &x, &x_len) ||
				param[2] == NULL || !cbor_bytes(param[2], &y, &y_len) ||
				x_len != 32 || y_len != 32)
				err = WA_ERR_COSE_SHAPE;
			else
			{
				EVP_PKEY   *pkey;

				key->alg = WA_ALG_ES256;
				memcpy(key->x, x, 32);
				memcpy(key->y, y, 32);
				pkey = es256_key(key);
				if (pkey == NULL)
					err = WA_ERR_COSE_SHAPE;
				EVP_PKEY_free(pkey);
			}
		}
		else if (alg == WA_ALG_EDDSA)
		{
			/* OKP, Ed25519, a 32-byte point */
			if (kty != 1 || param[0] == NULL || !cbor_int_value(param[0], &crv) ||
				crv != 6 || param[1] == NULL || !cbor_bytes(param[1], &x, &x_len) ||
				x_len != 32 || param[2] != NULL)
				err = WA_ERR_COSE_SHAPE;
			else if (crypto_core_ed25519_is_valid_point(x) != 1)
				err = WA_ERR_COSE_SHAPE;
			else
			{
				key->alg = WA_ALG_EDDSA;
				memcpy(key->x, x, 32);
			}
		}
		else if (alg == WA_ALG_RS256)
		{
			const uint8_t *e = NULL;
			size_t		e_len = 0;

			/* RSA, n and e; a private exponent (d) is no public key */
			if (kty != 3 || param[0] == NULL || !cbor_bytes(param[0], &x, &x_len) ||
				param[1] == NULL || !cbor_bytes(param[1], &e, &e_len) ||
				param[2] != NULL)
				err = WA_ERR_COSE_SHAPE;
			else
				err = parse_rsa(x, x_len, e, e_len, key);
		}
		else
			err = WA_ERR_COSE_ALG;
	}
	cbor_decref(&map.item);
	if (err != WA_OK)
		memset(key, 0, sizeof(*key));
	return err;
}

/* ---------------------------------------------------------------------------
 * Authenticator data
 * ---------------------------------------------------------------------------
 */

WaError
wa_parse_auth_data(const uint8_t *p, size_t len, WaAuthData *ad)
{
	size_t		off = WA_AUTH_DATA_MIN;

	memset(ad, 0, sizeof(*ad));
	if (len < WA_AUTH_DATA_MIN)
		return WA_ERR_AUTHDATA_SHORT;
	ad->rp_id_hash = p;
	ad->flags = p[32];
	ad->sign_count = ((uint32_t) p[33] << 24) | ((uint32_t) p[34] << 16) |
		((uint32_t) p[35] << 8) | (uint32_t) p[36];

	if (ad->flags & WA_FLAG_AT)
	{
		size_t		id_len;
		size_t		read = 0;
		cbor_item_t *item;
		WaError		err;

		if (len - off < WA_AAGUID_BYTES + 2)
			return WA_ERR_AUTHDATA_SHORT;
		memcpy(ad->aaguid, p + off, WA_AAGUID_BYTES);
		off += WA_AAGUID_BYTES;
		id_len = ((size_t) p[off] << 8) | p[off + 1];
		off += 2;
		if (id_len == 0 || id_len > WA_MAX_CREDENTIAL_ID)
			return WA_ERR_CREDENTIAL_ID_LENGTH;
		if (len - off < id_len)
			return WA_ERR_AUTHDATA_SHORT;
		ad->credential_id = p + off;
		ad->credential_id_len = id_len;
		off += id_len;
		if (len - off == 0)
			return WA_ERR_AUTHDATA_SHORT;

		/* the COSE key's length is where its CBOR item ends */
		item = cbor_load_exact(p + off, len - off, &read);
		if (item == NULL)
			return WA_ERR_COSE_CBOR;
		cbor_decref(&item);
		err = wa_parse_cose_key(p + off, read, &ad->key);
		if (err != WA_OK)
			return err;
		ad->has_credential = true;
		ad->cose_key = p + off;
		ad->cose_key_len = read;
		off += read;
	}
	if (ad->flags & WA_FLAG_ED)
	{
		size_t		read = 0;
		cbor_item_t *ext = cbor_load_exact(p + off, len - off, &read);
		bool		is_map;

		if (ext == NULL)
			return WA_ERR_AUTHDATA_SHORT;
		is_map = cbor_isa_map(ext);
		cbor_decref(&ext);
		if (!is_map)
			return WA_ERR_AUTHDATA_SHORT;
		off += read;
	}
	if (off != len)
		return WA_ERR_AUTHDATA_TRAILING;
	return WA_OK;
}

/* ---------------------------------------------------------------------------
 * Attestation objects
 * ---------------------------------------------------------------------------
 */

static WaError
parse_packed_statement(const cbor_item_t *stmt, WaAttestation *att)
{
	struct cbor_pair *pairs;
	size_t		n;
	bool		have_alg = false,
				have_sig = false;

	if (!cbor_map_pairs(stmt, &pairs, &n))
		return WA_ERR_ATTESTATION_STATEMENT;
	for (size_t i = 0; i < n; i++)
	{
		if (cbor_text_is(pairs[i].key, "alg"))
		{
			int64_t		alg;

			if (have_alg || !cbor_int_value(pairs[i].value, &alg) ||
				alg < -65536 || alg > 65536)
				return WA_ERR_ATTESTATION_STATEMENT;
			att->packed_alg = (int) alg;
			have_alg = true;
		}
		else if (cbor_text_is(pairs[i].key, "sig"))
		{
			const uint8_t *sig;
			size_t		sig_len;

			if (have_sig || !cbor_bytes(pairs[i].value, &sig, &sig_len) ||
				sig_len == 0 || sig_len > sizeof(att->packed_sig))
				return WA_ERR_ATTESTATION_STATEMENT;
			memcpy(att->packed_sig, sig, sig_len);
			att->packed_sig_len = sig_len;
			have_sig = true;
		}
		else if (cbor_text_is(pairs[i].key, "x5c") ||
				 cbor_text_is(pairs[i].key, "ecdaaKeyId"))
			return WA_ERR_ATTESTATION_CERTIFICATE;
		else
			return WA_ERR_ATTESTATION_STATEMENT;
	}
	if (!have_alg || !have_sig)
		return WA_ERR_ATTESTATION_STATEMENT;
	return WA_OK;
}

WaError
wa_parse_attestation(const WaAllocator *mem, const uint8_t *p, size_t len,
					 WaAttestation *att)
{
	CborMap		map;
	const cbor_item_t *fmt = NULL,
			   *stmt = NULL;
	const uint8_t *auth_data = NULL;
	size_t		auth_data_len = 0;
	WaError		err = WA_OK;

	memset(att, 0, sizeof(*att));
	if (len > WA_MAX_CBOR)
		return WA_ERR_ATTESTATION_CBOR;
	err = cbor_load_map(p, len, WA_ERR_ATTESTATION_CBOR, WA_ERR_ATTESTATION_SHAPE,
						&map);
	if (err != WA_OK)
		return err;
	for (size_t i = 0; i < map.n && err == WA_OK; i++)
	{
		if (cbor_text_is(map.pairs[i].key, "fmt") && fmt == NULL)
			fmt = map.pairs[i].value;
		else if (cbor_text_is(map.pairs[i].key, "attStmt") && stmt == NULL)
			stmt = map.pairs[i].value;
		else if (cbor_text_is(map.pairs[i].key, "authData") && auth_data == NULL)
		{
			if (!cbor_bytes(map.pairs[i].value, &auth_data, &auth_data_len) ||
				auth_data == NULL)
				err = WA_ERR_ATTESTATION_SHAPE;
		}
		else
			err = WA_ERR_ATTESTATION_SHAPE;
	}
	if (err == WA_OK && (fmt == NULL || stmt == NULL || auth_data == NULL))
		err = WA_ERR_ATTESTATION_SHAPE;

	/*
	 * Refused here as well as by wa_parse_auth_data: an object is accepted
	 * only with authenticator data a caller can read (found by
	 * test/fuzz/fuzz_webauthn_attestation.c, with an empty byte string).
	 */
	if (err == WA_OK && auth_data_len < WA_AUTH_DATA_MIN)
		err = WA_ERR_AUTHDATA_SHORT;
	if (err == WA_OK)
	{
		if (cbor_text_is(fmt, "none"))
		{
			att->fmt = WA_FMT_NONE;
			if (!cbor_isa_map(stmt) || cbor_map_size(stmt) != 0)
				err = WA_ERR_ATTESTATION_STATEMENT;
		}
		else if (cbor_text_is(fmt, "packed"))
		{
			att->fmt = WA_FMT_PACKED;
			err = parse_packed_statement(stmt, att);
		}
		else
			err = WA_ERR_ATTESTATION_FORMAT;
	}
	if (err == WA_OK)
	{
		/* the last step: no failure after it, so nothing to give back */
		att->auth_data = mem->alloc(mem->ctx, auth_data_len);
		if (att->auth_data == NULL)
			err = WA_ERR_OUT_OF_MEMORY;
		else
		{
			memcpy(att->auth_data, auth_data, auth_data_len);
			att->auth_data_len = auth_data_len;
			att->mem = mem;
		}
	}
	cbor_decref(&map.item);
	return err;
}

void
wa_attestation_free(WaAttestation *att)
{
	if (att->auth_data != NULL)
		att->mem->free(att->mem->ctx, att->auth_data);
	att->auth_data = NULL;
	att->auth_data_len = 0;
	att->mem = NULL;
}

/* ---------------------------------------------------------------------------
 * Signatures
 * ---------------------------------------------------------------------------
 */

/*
 * Verify sig over auth_data || client_data_hash with pkey (NULL: no key, a
 * refusal), SHA-256, as RSASSA-PKCS1-v1_5 when pkcs1 (OpenSSL checks the
 * whole encoded digest); frees pkey and leaves no OpenSSL error behind.
 */
static bool
evp_verify(EVP_PKEY *pkey, bool pkcs1, const uint8_t *auth_data,
		   size_t auth_data_len, const uint8_t *client_data_hash,
		   const uint8_t *sig, size_t sig_len)
{
	EVP_MD_CTX *md = pkey ? EVP_MD_CTX_new() : NULL;
	EVP_PKEY_CTX *pctx = NULL;
	bool		ok;

	ok = md != NULL &&
		EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, pkey) == 1 &&
		(!pkcs1 || EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1) &&
		EVP_DigestVerifyUpdate(md, auth_data, auth_data_len) == 1 &&
		EVP_DigestVerifyUpdate(md, client_data_hash, 32) == 1 &&
		EVP_DigestVerifyFinal(md, sig, sig_len) == 1;
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return ok;
}

WaError
wa_verify_signature(const WaAllocator *mem, const WaCoseKey *key,
					const uint8_t *auth_data, size_t auth_data_len,
					const uint8_t *client_data_hash,
					const uint8_t *sig, size_t sig_len)
{
	bool		ok = false;

	if (key->alg == WA_ALG_ES256)
		ok = sig_len > 0 &&
			evp_verify(es256_key(key), false, auth_data, auth_data_len,
					   client_data_hash, sig, sig_len);
	else if (key->alg == WA_ALG_RS256)
		ok = sig_len == key->n_len &&
			evp_verify(rs256_key(key), true, auth_data, auth_data_len,
					   client_data_hash, sig, sig_len);
	else if (key->alg == WA_ALG_EDDSA)
	{
		uint8_t    *msg;

		if (sig_len != crypto_sign_BYTES || auth_data_len > SIZE_MAX - 32)
			return WA_ERR_SIGNATURE;
		msg = mem->alloc(mem->ctx, auth_data_len + 32);
		if (msg == NULL)
			return WA_ERR_OUT_OF_MEMORY;
		memcpy(msg, auth_data, auth_data_len);
		memcpy(msg + auth_data_len, client_data_hash, 32);
		ok = crypto_sign_verify_detached(sig, msg, auth_data_len + 32,
										 key->x) == 0;
		mem->free(mem->ctx, msg);
	}
	return ok ? WA_OK : WA_ERR_SIGNATURE;
}
