/*
 * audit_hash.h
 *		The hashes of the audit chain, shared by the server (audit_chain.c)
 *		and the offline verifier (tools/acctsec_verify.c), which includes
 *		this file without PostgreSQL's headers: only libsodium and <stdint.h>.
 *
 * Everything is hashed from values a verifier can rebuild from a COPY of the
 * tables: integers as 8 bytes big-endian (timestamps as microseconds since
 * 2000-01-01 UTC, PostgreSQL's epoch), every other column as the text
 * PostgreSQL's output function gives (what COPY prints before escaping).
 * Each field is prefixed with its length as 8 bytes big-endian, -1 for NULL.
 *
 * Row hash (the chain inside one transaction, h_0 empty):
 *	  h_i = BLAKE2b-256("acctsec audit row 1", h_{i-1}, id, logged_at, txid,
 *						db_user, relation, operation, changed_columns,
 *						p_actor, p_data)
 *	  p_actor = BLAKE2b-256(key = salt[0..15], "acctsec actor 1", actor)
 *	  p_data  = BLAKE2b-256(key = salt[16..31], "acctsec data 1", client_addr,
 *							account, row_key, old_values, new_values)
 * The personal columns enter only through their commitments, keyed by the
 * row's random salt; erasing a row replaces the values and the salt by the
 * commitments, which cannot be brute-forced back without the salt.
 *
 * Seal hash (the chain of a lane, s_0 = the lane's base hash):
 *	  s_k = BLAKE2b-256("acctsec audit seal 1", s_{k-1}, lane, seq, txid,
 *						nrows, digest, sealed_at)
 * where digest is the hash of the transaction's last row.
 */
#ifndef ACCTSEC_AUDIT_HASH_H
#define ACCTSEC_AUDIT_HASH_H

#include <stdint.h>
#include <string.h>
#include <sodium.h>

#define AUDIT_HASH_BYTES	32
#define AUDIT_SALT_BYTES	32
#define AUDIT_SUBKEY_BYTES	16
/* erasure: p_data, then 0 + the actor's subkey (actor kept) or 1 + p_actor */
#define AUDIT_ERASURE_KEPT_BYTES	(AUDIT_HASH_BYTES + 1 + AUDIT_SUBKEY_BYTES)
#define AUDIT_ERASURE_GONE_BYTES	(AUDIT_HASH_BYTES + 1 + AUDIT_HASH_BYTES)

/* One field: len -1 for NULL. */
typedef struct AuditField
{
	const uint8_t *data;
	int64_t		len;
} AuditField;

/* The columns of one audit row, as hashed. */
typedef struct AuditRowImage
{
	int64_t		id;
	int64_t		logged_at;		/* microseconds since 2000-01-01 UTC */
	uint64_t	txid;
	AuditField	db_user;
	AuditField	relation;
	AuditField	operation;
	AuditField	changed_columns;	/* text of the text[] */
	AuditField	actor;
	AuditField	client_addr;	/* text of the inet */
	AuditField	account;
	AuditField	row_key;		/* text of the jsonb */
	AuditField	old_values;
	AuditField	new_values;
} AuditRowImage;

static inline void
audit_hash_len(crypto_generichash_state * st, int64_t len)
{
	uint8_t		buf[8];
	uint64_t	u = (uint64_t) len;

	for (int i = 0; i < 8; i++)
		buf[i] = (uint8_t) (u >> (56 - 8 * i));
	crypto_generichash_update(st, buf, sizeof(buf));
}

static inline void
audit_hash_bytes(crypto_generichash_state * st, const void *data, int64_t len)
{
	audit_hash_len(st, len);
	if (len > 0)
		crypto_generichash_update(st, (const unsigned char *) data,
								  (unsigned long long) len);
}

static inline void
audit_hash_field(crypto_generichash_state * st, const AuditField *f)
{
	audit_hash_bytes(st, f->data, f->data == NULL ? -1 : f->len);
}

static inline void
audit_hash_int(crypto_generichash_state * st, uint64_t v)
{
	uint8_t		buf[8];

	for (int i = 0; i < 8; i++)
		buf[i] = (uint8_t) (v >> (56 - 8 * i));
	audit_hash_bytes(st, buf, 8);
}

static inline void
audit_hash_tag(crypto_generichash_state * st, const char *tag)
{
	audit_hash_bytes(st, tag, (int64_t) strlen(tag));
}

/* A commitment's hash: keyed by its subkey, begun with its tag. */
static inline void
audit_commit_init(crypto_generichash_state * st, const uint8_t *subkey,
				  const char *tag)
{
	crypto_generichash_init(st, subkey, AUDIT_SUBKEY_BYTES, AUDIT_HASH_BYTES);
	audit_hash_tag(st, tag);
}

/* p_actor, keyed by the actor subkey (the first half of the salt). */
static inline void
audit_commit_actor(const uint8_t *subkey, const AuditRowImage *r, uint8_t *out)
{
	crypto_generichash_state st;

	audit_commit_init(&st, subkey, "acctsec actor 1");
	audit_hash_field(&st, &r->actor);
	crypto_generichash_final(&st, out, AUDIT_HASH_BYTES);
}

/* p_data, keyed by the data subkey (the second half of the salt). */
static inline void
audit_commit_data(const uint8_t *subkey, const AuditRowImage *r, uint8_t *out)
{
	crypto_generichash_state st;

	audit_commit_init(&st, subkey, "acctsec data 1");
	audit_hash_field(&st, &r->client_addr);
	audit_hash_field(&st, &r->account);
	audit_hash_field(&st, &r->row_key);
	audit_hash_field(&st, &r->old_values);
	audit_hash_field(&st, &r->new_values);
	crypto_generichash_final(&st, out, AUDIT_HASH_BYTES);
}

static inline void
audit_row_hash(const uint8_t *prev, int prev_len, const AuditRowImage *r,
			   const uint8_t *p_actor, const uint8_t *p_data, uint8_t *out)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, AUDIT_HASH_BYTES);
	audit_hash_tag(&st, "acctsec audit row 1");
	audit_hash_bytes(&st, prev, prev_len);
	audit_hash_int(&st, (uint64_t) r->id);
	audit_hash_int(&st, (uint64_t) r->logged_at);
	audit_hash_int(&st, r->txid);
	audit_hash_field(&st, &r->db_user);
	audit_hash_field(&st, &r->relation);
	audit_hash_field(&st, &r->operation);
	audit_hash_field(&st, &r->changed_columns);
	audit_hash_bytes(&st, p_actor, AUDIT_HASH_BYTES);
	audit_hash_bytes(&st, p_data, AUDIT_HASH_BYTES);
	crypto_generichash_final(&st, out, AUDIT_HASH_BYTES);
}

/*
 * The commitments of a row: from its salt while it has one, else from its
 * erasure (see the layout above).  Returns 0, or -1 when the erasure is
 * malformed.
 */
static inline int
audit_row_commitments(const AuditRowImage *r, const uint8_t *salt, int salt_len,
					  const uint8_t *erasure, int erasure_len,
					  uint8_t *p_actor, uint8_t *p_data)
{
	if (salt != NULL)
	{
		if (salt_len != AUDIT_SALT_BYTES || erasure != NULL)
			return -1;
		audit_commit_actor(salt, r, p_actor);
		audit_commit_data(salt + AUDIT_SUBKEY_BYTES, r, p_data);
		return 0;
	}
	if (erasure == NULL)
		return -1;
	/* erased: the personal data must be gone (the actor may stay) */
	if (r->client_addr.data || r->account.data || r->row_key.data ||
		r->old_values.data || r->new_values.data)
		return -1;
	if (erasure_len == AUDIT_ERASURE_KEPT_BYTES && erasure[AUDIT_HASH_BYTES] == 0)
		audit_commit_actor(erasure + AUDIT_HASH_BYTES + 1, r, p_actor);
	else if (erasure_len == AUDIT_ERASURE_GONE_BYTES && erasure[AUDIT_HASH_BYTES] == 1 &&
			 r->actor.data == NULL)
		memcpy(p_actor, erasure + AUDIT_HASH_BYTES + 1, AUDIT_HASH_BYTES);
	else
		return -1;
	memcpy(p_data, erasure, AUDIT_HASH_BYTES);
	return 0;
}

static inline void
audit_seal_hash(const uint8_t *prev, int prev_len, int32_t lane, int64_t seq,
				uint64_t txid, int64_t nrows, const uint8_t *digest, int digest_len,
				int64_t sealed_at, uint8_t *out)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, AUDIT_HASH_BYTES);
	audit_hash_tag(&st, "acctsec audit seal 1");
	audit_hash_bytes(&st, prev, prev_len);
	audit_hash_int(&st, (uint64_t) (int64_t) lane);
	audit_hash_int(&st, (uint64_t) seq);
	audit_hash_int(&st, txid);
	audit_hash_int(&st, (uint64_t) nrows);
	audit_hash_bytes(&st, digest, digest_len);
	audit_hash_int(&st, (uint64_t) sealed_at);
	crypto_generichash_final(&st, out, AUDIT_HASH_BYTES);
}

#endif							/* ACCTSEC_AUDIT_HASH_H */
