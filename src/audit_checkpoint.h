/*
 * audit_checkpoint.h
 *		The text of an audit checkpoint, parsed the same way by the server
 *		(audit_chain.c) and by the offline verifier (tools/acctsec_verify.c),
 *		which includes this file without PostgreSQL's headers.
 *
 * A checkpoint is one line of space-separated fields, in this order:
 *
 *	acctsec-checkpoint/1 no=17 at=2026-12-01T23:59:59.000001Z
 *	  system=7345... db=16384 kind=checkpoint
 *	  lanes=0:12:<64 hex>,5:3:<64 hex> key=<64 hex> sig=<128 hex>
 *
 * no is the checkpoint's number (increasing), at its time (UTC), system and
 * db the database system identifier and the database's OID, kind
 * "checkpoint" or "purge" (taken by audit_purge() at its purge point),
 * lanes every lane that has seals: lane number, the number of its last
 * seal and that seal's hash ("-" for none), key the Ed25519 public key and
 * sig the signature of every byte before " sig=".
 */
#ifndef ACCTSEC_AUDIT_CHECKPOINT_H
#define ACCTSEC_AUDIT_CHECKPOINT_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#define AUDIT_CHECKPOINT_MAGIC	"acctsec-checkpoint/1"
#define AUDIT_CHECKPOINT_MAX_LANES	64

typedef struct AuditCheckpointLane
{
	int32_t		lane;
	int64_t		seq;
	uint8_t		head[32];
} AuditCheckpointLane;

typedef struct AuditCheckpoint
{
	int64_t		no;
	char		at[40];
	uint64_t	system;
	uint32_t	db;
	int			purge;
	int			nlanes;
	AuditCheckpointLane lanes[AUDIT_CHECKPOINT_MAX_LANES];
	uint8_t		key[crypto_sign_PUBLICKEYBYTES];
	uint8_t		sig[crypto_sign_BYTES];
	size_t		signed_len;
} AuditCheckpoint;

/* A decimal number of at most 19 digits ending at *end; -1 if none. */
static inline int
audit_cp_number(const char *p, const char *end, uint64_t *out)
{
	uint64_t	v = 0;

	if (p >= end || end - p > 19)
		return -1;
	for (; p < end; p++)
	{
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (uint64_t) (*p - '0');
	}
	*out = v;
	return 0;
}

static inline int
audit_cp_hex(const char *p, const char *end, uint8_t *out, size_t n)
{
	size_t		got;

	if ((size_t) (end - p) != 2 * n)
		return -1;
	for (const char *q = p; q < end; q++)
		if (!((*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'f')))
			return -1;			/* lower-case hex only: one spelling per value */
	if (sodium_hex2bin(out, n, p, (size_t) (end - p), NULL, &got, NULL) != 0 || got != n)
		return -1;
	return 0;
}

/* The field "name=" at *p; its value runs to the next space or the end. */
static inline int
audit_cp_field(const char **p, const char *end, const char *name,
			   const char **val, const char **val_end)
{
	size_t		n = strlen(name);
	const char *q;

	if ((size_t) (end - *p) < n + 2 || **p != ' ' || strncmp(*p + 1, name, n) != 0 ||
		(*p)[n + 1] != '=')
		return -1;
	*val = *p + n + 2;
	for (q = *val; q < end && *q != ' '; q++)
		;
	*val_end = q;
	*p = q;
	return 0;
}

/*
 * Parse text[0..len) into cp; 0 when it is well formed (the signature is
 * not checked here), else -1 with *why set.
 */
static inline int
audit_checkpoint_parse(const char *text, size_t len, AuditCheckpoint *cp,
					   const char **why)
{
	const char *p = text;
	const char *end = text +len;
	const char *v;
	const char *ve;
	uint64_t	u;
	size_t		magic = strlen(AUDIT_CHECKPOINT_MAGIC);

	memset(cp, 0, sizeof(*cp));
	*why = "it is not an acctsec checkpoint";
	if (len < magic || memcmp(text, AUDIT_CHECKPOINT_MAGIC, magic) != 0)
		return -1;
	p += magic;
	*why = "it is malformed";
	if (audit_cp_field(&p, end, "no", &v, &ve) || audit_cp_number(v, ve, &u) ||
		u > INT64_MAX)
		return -1;
	cp->no = (int64_t) u;
	if (audit_cp_field(&p, end, "at", &v, &ve) || ve - v >= (long) sizeof(cp->at) ||
		ve == v)
		return -1;
	memcpy(cp->at, v, (size_t) (ve - v));
	if (audit_cp_field(&p, end, "system", &v, &ve) || audit_cp_number(v, ve, &cp->system))
		return -1;
	if (audit_cp_field(&p, end, "db", &v, &ve) || audit_cp_number(v, ve, &u) ||
		u > UINT32_MAX)
		return -1;
	cp->db = (uint32_t) u;
	if (audit_cp_field(&p, end, "kind", &v, &ve))
		return -1;
	if (ve - v == 10 && memcmp(v, "checkpoint", 10) == 0)
		cp->purge = 0;
	else if (ve - v == 5 && memcmp(v, "purge", 5) == 0)
		cp->purge = 1;
	else
		return -1;
	if (audit_cp_field(&p, end, "lanes", &v, &ve))
		return -1;
	if (!(ve - v == 1 && *v == '-'))
	{
		const char *q = v;

		while (q < ve)
		{
			const char *c1;
			const char *c2;
			const char *e;
			AuditCheckpointLane *l;

			if (cp->nlanes >= AUDIT_CHECKPOINT_MAX_LANES)
				return -1;
			l = &cp->lanes[cp->nlanes];
			for (e = q; e < ve && *e != ','; e++)
				;
			for (c1 = q; c1 < e && *c1 != ':'; c1++)
				;
			for (c2 = c1 + 1; c2 < e && *c2 != ':'; c2++)
				;
			if (c1 >= e || c2 >= e)
				return -1;
			if (audit_cp_number(q, c1, &u) || u >= AUDIT_CHECKPOINT_MAX_LANES)
				return -1;
			l->lane = (int32_t) u;
			if (cp->nlanes > 0 && l->lane <= cp->lanes[cp->nlanes - 1].lane)
				return -1;		/* lanes in increasing order, each once */
			if (audit_cp_number(c1 + 1, c2, &u) || u == 0 || u > INT64_MAX)
				return -1;
			l->seq = (int64_t) u;
			if (audit_cp_hex(c2 + 1, e, l->head, sizeof(l->head)))
				return -1;
			cp->nlanes++;
			q = e < ve ? e + 1 : e;
			if (e < ve && q == ve)
				return -1;		/* a trailing comma */
		}
	}
	if (audit_cp_field(&p, end, "key", &v, &ve) || audit_cp_hex(v, ve, cp->key, sizeof(cp->key)))
		return -1;
	cp->signed_len = (size_t) (p - text);
	if (audit_cp_field(&p, end, "sig", &v, &ve) || audit_cp_hex(v, ve, cp->sig, sizeof(cp->sig)))
		return -1;
	if (p != end)
		return -1;
	*why = NULL;
	return 0;
}

/* Is the signature good under the key the checkpoint names? */
static inline int
audit_checkpoint_signed(const char *text, const AuditCheckpoint *cp)
{
	return crypto_sign_verify_detached(cp->sig, (const unsigned char *) text,
									   cp->signed_len, cp->key) == 0;
}

#endif							/* ACCTSEC_AUDIT_CHECKPOINT_H */
