/*
 * acctsec_verify.c
 *		Verify an exported acctsec audit log without the server: the rows,
 *		their seals, the lanes and any number of signed checkpoints, against
 *		a public key you trust.  Needs only libsodium:
 *
 *	cc -O2 -I src -o acctsec_verify tools/acctsec_verify.c -lsodium
 *
 * Export (psql, any role that may read the tables; DateStyle ISO):
 *
 *	\copy (SELECT * FROM acctsec.audit_log ORDER BY txid, id) TO 'log.copy'
 *	\copy (SELECT txid, lane, seq, nrows, digest, sealed_at, hash FROM acctsec.audit_seals) TO 'seals.copy'
 *	\copy (SELECT lane, last_seq, head, base_seq, base_hash FROM acctsec.audit_lanes) TO 'lanes.copy'
 *
 * Then:
 *
 *	acctsec_verify --key HEX --log log.copy --seals seals.copy --lanes lanes.copy [CHECKPOINTS...]
 *
 * where each CHECKPOINTS file holds checkpoints, one per line, as
 * acctsec.audit_checkpoint() returned them.  Every row of every sealed
 * transaction is recomputed, every lane's chain of seals is walked from its
 * base, every erased row must name its audit.erased event (later than
 * itself, still in the log), and every checkpoint must be signed by the
 * key given and lie on the chain: a checkpoint beyond the end of a lane
 * means rows were trimmed, whatever audit_lanes now says.  Exit status 0 when everything holds, 1
 * when something does not (the first problem is printed), 2 on bad input.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "audit_hash.h"
#include "audit_checkpoint.h"
#include "hexdigit.h"

#define MAX_FIELDS	32

static int	problems = 0;

static void
die(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	fprintf(stderr, "acctsec_verify: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(2);
}

static void
problem(const char *fmt,...)
{
	va_list		ap;

	if (problems++ > 0)
		return;					/* the first one is what matters */
	va_start(ap, fmt);
	printf("FAIL: ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
}

/* One COPY text line split into unescaped fields (NULL for \N). */
typedef struct CopyLine
{
	int			n;
	char	   *f[MAX_FIELDS];
	size_t		len[MAX_FIELDS];
} CopyLine;

/* Split line (modified in place) into fields, unescaping COPY's text format. */
static void
copy_split(char *line, CopyLine *cl)
{
	char	   *p = line;

	cl->n = 0;
	for (;;)
	{
		char	   *start = p;
		char	   *out = p;

		if (cl->n >= MAX_FIELDS)
			die("too many columns");
		while (*p != '\0' && *p != '\t')
		{
			if (*p == '\\' && p[1] != '\0')
			{
				p++;
				switch (*p)
				{
					case 'b':
						*out++ = '\b';
						p++;
						break;
					case 'f':
						*out++ = '\f';
						p++;
						break;
					case 'n':
						*out++ = '\n';
						p++;
						break;
					case 'r':
						*out++ = '\r';
						p++;
						break;
					case 't':
						*out++ = '\t';
						p++;
						break;
					case 'v':
						*out++ = '\v';
						p++;
						break;
					case 'N':
						*out++ = '\\';	/* marks NULL below when alone */
						*out++ = 'N';
						p++;
						break;
					case 'x':
						if (hex_digit_value(p[1]) >= 0)
						{
							int			v = hex_digit_value(p[1]);

							p += 2;
							if (hex_digit_value(*p) >= 0)
								v = v * 16 + hex_digit_value(*p++);
							*out++ = (char) v;
							break;
						}
						*out++ = *p++;
						break;
					default:
						if (*p >= '0' && *p <= '7')
						{
							int			v = 0;

							for (int k = 0; k < 3 && *p >= '0' && *p <= '7'; k++)
								v = v * 8 + (*p++ - '0');
							*out++ = (char) v;
						}
						else
							*out++ = *p++;
						break;
				}
			}
			else
				*out++ = *p++;
		}
		{
			char		end = *p;

			*out = '\0';
			if (out - start == 2 && start[0] == '\\' && start[1] == 'N')
			{
				cl->f[cl->n] = NULL;
				cl->len[cl->n] = 0;
			}
			else
			{
				cl->f[cl->n] = start;
				cl->len[cl->n] = (size_t) (out - start);
			}
			cl->n++;
			if (end == '\0')
				break;
			p++;
		}
	}
}

static char *
read_line(FILE *f)
{
	static char *buf = NULL;
	static size_t cap = 0;
	ssize_t		n = getline(&buf, &cap, f);

	if (n < 0)
		return NULL;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	return buf;
}

/*
 * A decimal field of psql's output: digits, after a minus sign when
 * *negative, nothing else, at most 64 bits.  Dies on anything else (strtoull
 * alone would take "-1" as 2^64 - 1, and leading space or a plus sign).
 */
static uint64_t
read_decimal(const char *s, int *negative)
{
	const char *digits;
	char	   *end;
	unsigned long long v;

	if (s == NULL)
		die("a NULL where a number belongs");
	*negative = (s[0] == '-');
	digits = s + *negative;
	if (digits[0] < '0' || digits[0] > '9')
		die("not a number: %s", s);
	errno = 0;
	v = strtoull(digits, &end, 10);
	if (errno != 0 || *end != '\0')
		die("not a number: %s", s);
	return (uint64_t) v;
}

static int64_t
num(const char *s)
{
	int			negative;
	uint64_t	v = read_decimal(s, &negative);

	if (v > (uint64_t) INT64_MAX + negative)
		die("not a number: %s", s);
	if (!negative || v == 0)
		return (int64_t) v;
	return -(int64_t) (v - 1) - 1;	/* INT64_MIN too */
}

static uint64_t
unum(const char *s)
{
	int			negative;
	uint64_t	v = read_decimal(s, &negative);

	if (negative)
		die("not a number: %s", s);
	return v;
}

/* bytea in hex output ("\x..."); returns its length, -1 for NULL. */
static int
bytea_of(const char *s, uint8_t *out, size_t cap)
{
	size_t		n;

	if (s == NULL)
		return -1;
	if (s[0] != '\\' || s[1] != 'x')
		die("bytea not in hex format (set bytea_output = hex): %s", s);
	if (sodium_hex2bin(out, cap, s + 2, strlen(s + 2), NULL, &n, NULL) != 0)
		die("bad or too long bytea");
	return (int) n;
}

static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t		era;
	unsigned	yoe,
				doy,
				doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned) (y - era * 400);
	doy = (unsigned) ((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1);
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t) doe - 719468;
}

/*
 * timestamptz in DateStyle ISO ("2026-12-01 23:59:59.123456+00", offsets
 * like +05:30 too) to microseconds since 2000-01-01 UTC.
 */
static int64_t
timestamptz_of(const char *s)
{
	int			y,
				mo,
				d,
				h,
				mi,
				sec,
				n = 0;
	int64_t		usec = 0;
	const char *p;
	int			sign,
				oh = 0,
				om = 0,
				os = 0;
	int64_t		t;

	if (s == NULL || sscanf(s, "%d-%d-%d %d:%d:%d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6)
		die("timestamp not in DateStyle ISO: %s", s ? s : "NULL");
	p = s + n;
	if (*p == '.')
	{
		int			digits = 0;

		p++;
		while (*p >= '0' && *p <= '9')
		{
			if (digits < 6)
				usec = usec * 10 + (*p - '0');
			digits++;
			p++;
		}
		for (; digits < 6; digits++)
			usec *= 10;
	}
	if (*p != '+' && *p != '-')
		die("timestamp without a UTC offset: %s", s);
	sign = *p == '-' ? -1 : 1;
	p++;
	if (sscanf(p, "%d", &oh) != 1)
		die("bad UTC offset: %s", s);
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p == ':')
	{
		om = atoi(++p);
		while (*p >= '0' && *p <= '9')
			p++;
		if (*p == ':')
			os = atoi(++p);
	}
	t = (days_from_civil(y, mo, d) - days_from_civil(2000, 1, 1)) * 86400 +
		h * 3600 + mi * 60 + sec - sign * (oh * 3600 + om * 60 + os);
	return t * 1000000 + usec;
}

static void
field(AuditField *af, const CopyLine *cl, int i)
{
	af->data = (const uint8_t *) cl->f[i];
	af->len = cl->f[i] ? (int64_t) cl->len[i] : -1;
}

/* ---- seals and lanes ---- */

typedef struct Seal
{
	uint64_t	txid;
	int			linked;
	int32_t		lane;
	int64_t		seq;
	int64_t		nrows;
	uint8_t		digest[32];
	int			digest_len;
	int64_t		sealed_at;
	uint8_t		hash[32];
	int			hash_len;
	int			rows_seen;
} Seal;

typedef struct Lane
{
	int			present;
	int64_t		last_seq;
	int64_t		base_seq;
	uint8_t		head[32];
	int			head_len;
	uint8_t		base_hash[32];
	int			base_len;
} Lane;

static Seal *seals = NULL;
static size_t nseals = 0;
static Seal **by_lane = NULL;
static Lane lanes[AUDIT_CHECKPOINT_MAX_LANES];

static int
cmp_txid(const void *a, const void *b)
{
	const Seal *x = a,
			   *y = b;

	return x->txid < y->txid ? -1 : x->txid > y->txid;
}

static int
cmp_lane_seq(const void *a, const void *b)
{
	const Seal *x = *(Seal *const *) a,
			   *y = *(Seal *const *) b;

	if (x->lane != y->lane)
		return x->lane < y->lane ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static Seal *
seal_of(uint64_t txid)
{
	size_t		lo = 0,
				hi = nseals;

	while (lo < hi)
	{
		size_t		mid = (lo + hi) / 2;

		if (seals[mid].txid < txid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < nseals && seals[lo].txid == txid ? &seals[lo] : NULL;
}

static void
read_seals(const char *path)
{
	FILE	   *f = fopen(path, "r");
	char	   *line;
	size_t		cap = 0;
	CopyLine	cl;

	if (f == NULL)
		die("cannot open %s: %s", path, strerror(errno));
	while ((line = read_line(f)) != NULL)
	{
		Seal	   *s;

		copy_split(line, &cl);
		if (cl.n != 7)
			die("%s: expected 7 columns (txid, lane, seq, nrows, digest, sealed_at, hash)", path);
		if (nseals == cap)
		{
			cap = cap ? cap * 2 : 1024;
			seals = realloc(seals, cap * sizeof(Seal));
			if (seals == NULL)
				die("out of memory");
		}
		s = &seals[nseals++];
		memset(s, 0, sizeof(*s));
		s->txid = unum(cl.f[0]);
		s->linked = cl.f[1] != NULL;
		if (s->linked)
		{
			s->lane = (int32_t) num(cl.f[1]);
			s->seq = num(cl.f[2]);
		}
		s->nrows = num(cl.f[3]);
		s->digest_len = bytea_of(cl.f[4], s->digest, sizeof(s->digest));
		s->sealed_at = timestamptz_of(cl.f[5]);
		s->hash_len = bytea_of(cl.f[6], s->hash, sizeof(s->hash));
	}
	fclose(f);
	qsort(seals, nseals, sizeof(Seal), cmp_txid);
	by_lane = malloc((nseals ? nseals : 1) * sizeof(Seal *));
	for (size_t i = 0; i < nseals; i++)
		by_lane[i] = &seals[i];
	qsort(by_lane, nseals, sizeof(Seal *), cmp_lane_seq);
}

static void
read_lanes(const char *path)
{
	FILE	   *f = fopen(path, "r");
	char	   *line;
	CopyLine	cl;

	if (f == NULL)
		die("cannot open %s: %s", path, strerror(errno));
	while ((line = read_line(f)) != NULL)
	{
		int64_t		lane;
		Lane	   *l;

		copy_split(line, &cl);
		if (cl.n != 5)
			die("%s: expected 5 columns (lane, last_seq, head, base_seq, base_hash)", path);
		lane = num(cl.f[0]);
		if (lane < 0 || lane >= AUDIT_CHECKPOINT_MAX_LANES)
		{
			problem("a lane %" PRId64 " that acctsec never makes", lane);
			continue;
		}
		l = &lanes[lane];
		l->present = 1;
		l->last_seq = num(cl.f[1]);
		l->head_len = bytea_of(cl.f[2], l->head, sizeof(l->head));
		l->base_seq = num(cl.f[3]);
		l->base_len = bytea_of(cl.f[4], l->base_hash, sizeof(l->base_hash));
	}
	fclose(f);
}

/* ---- the rows ---- */

static int64_t rows_checked = 0;

/*
 * Erasures: every erased row names the audit.erased event that erased it,
 * which must come after it and still be in the log (as audit_verify()
 * checks on the server).  The row's hash does not cover that link, which
 * the erasure writes later.
 */
typedef struct Erased
{
	int64_t		id;
	int64_t		by;
} Erased;

static Erased *erased = NULL;
static size_t nerased = 0,
			cap_erased = 0;
static int64_t *erasure_events = NULL;
static size_t nerasure_events = 0,
			cap_erasure_events = 0;

static void *
grow(void *p, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return p;
	*cap = *cap ? *cap * 2 : 64;
	p = realloc(p, *cap * size);
	if (p == NULL)
		die("out of memory");
	return p;
}

static int
cmp_int64(const void *a, const void *b)
{
	int64_t		x = *(const int64_t *) a,
				y = *(const int64_t *) b;

	return x < y ? -1 : x > y;
}

static void
verify_erasures(void)
{
	qsort(erasure_events, nerasure_events, sizeof(int64_t), cmp_int64);
	for (size_t i = 0; i < nerased; i++)
	{
		if (erased[i].by <= erased[i].id)
			problem("row %" PRId64 " names an erasure older than itself", erased[i].id);
		else if (nerasure_events == 0 ||
				 bsearch(&erased[i].by, erasure_events, nerasure_events,
						 sizeof(int64_t), cmp_int64) == NULL)
			problem("row %" PRId64 " was erased, but its audit.erased event %" PRId64
					" is not in the log", erased[i].id, erased[i].by);
	}
}

static void
verify_log(const char *path)
{
	FILE	   *f = fopen(path, "r");
	char	   *line;
	CopyLine	cl;
	int			have = 0;
	uint64_t	g_txid = 0;
	Seal	   *g_seal = NULL;
	int			g_bad = 0;
	int64_t		g_count = 0;
	uint64_t	last_txid = 0;
	int64_t		last_id = 0;
	uint8_t		prev[AUDIT_HASH_BYTES];
	int			prev_len = 0;

	if (f == NULL)
		die("cannot open %s: %s", path, strerror(errno));
	for (;;)
	{
		AuditRowImage img;
		uint8_t		salt[64],
					erasure[128],
					stored[64];
		int			salt_len,
					erasure_len,
					stored_len;
		uint8_t		p_actor[32],
					p_data[32],
					h[32];
		uint64_t	txid = 0;
		int64_t		id = 0;

		line = read_line(f);
		if (line != NULL)
		{
			copy_split(line, &cl);
			if (cl.n != 17)
				die("%s: expected the 17 columns of acctsec.audit_log, got %d", path, cl.n);
			id = num(cl.f[0]);
			txid = unum(cl.f[2]);
			if (rows_checked > 0 && (txid < last_txid || (txid == last_txid && id <= last_id)))
				die("%s is not in (txid, id) order: export it with ORDER BY txid, id", path);
			last_txid = txid;
			last_id = id;
			if (cl.f[14] != NULL)
			{
				erased = grow(erased, &cap_erased, nerased, sizeof(Erased));
				erased[nerased].id = id;
				erased[nerased++].by = num(cl.f[14]);
			}
			if (cl.f[7] != NULL && strcmp(cl.f[7], "audit.erased") == 0)
			{
				erasure_events = grow(erasure_events, &cap_erasure_events,
									  nerasure_events, sizeof(int64_t));
				erasure_events[nerasure_events++] = id;
			}
		}
		if (have && (line == NULL || txid != g_txid))
		{
			if (!g_bad && g_seal != NULL)
			{
				if (g_count != g_seal->nrows)
					problem("transaction %" PRIu64 " has %" PRId64 " rows, its seal says %" PRId64,
							g_txid, g_count, g_seal->nrows);
				else if (prev_len != g_seal->digest_len || memcmp(prev, g_seal->digest, prev_len) != 0)
					problem("the last row of transaction %" PRIu64 " is not the one its seal names", g_txid);
			}
			have = 0;
		}
		if (line == NULL)
			break;
		if (!have)
		{
			have = 1;
			g_txid = txid;
			g_seal = seal_of(txid);
			g_bad = 0;
			g_count = 0;
			prev_len = 0;
			if (g_seal == NULL)
			{
				problem("row %" PRId64 " belongs to no sealed transaction", id);
				g_bad = 1;
			}
			else
				g_seal->rows_seen = 1;
		}
		rows_checked++;
		g_count++;
		if (g_bad)
			continue;
		img.id = id;
		img.logged_at = timestamptz_of(cl.f[1]);
		img.txid = txid;
		field(&img.db_user, &cl, 3);
		field(&img.actor, &cl, 4);
		field(&img.client_addr, &cl, 5);
		field(&img.relation, &cl, 6);
		field(&img.operation, &cl, 7);
		field(&img.account, &cl, 8);
		field(&img.row_key, &cl, 9);
		field(&img.old_values, &cl, 10);
		field(&img.new_values, &cl, 11);
		field(&img.changed_columns, &cl, 12);
		salt_len = bytea_of(cl.f[13], salt, sizeof(salt));
		erasure_len = bytea_of(cl.f[15], erasure, sizeof(erasure));
		stored_len = bytea_of(cl.f[16], stored, sizeof(stored));
		if ((salt_len < 0) == (cl.f[14] == NULL) ||
			audit_row_commitments(&img, salt_len >= 0 ? salt : NULL, salt_len,
								  erasure_len >= 0 ? erasure : NULL, erasure_len,
								  p_actor, p_data) != 0)
		{
			problem("row %" PRId64 " has a malformed salt or erasure", id);
			g_bad = 1;
			continue;
		}
		audit_row_hash(prev, prev_len, &img, p_actor, p_data, h);
		if (stored_len != AUDIT_HASH_BYTES || memcmp(h, stored, AUDIT_HASH_BYTES) != 0)
		{
			problem("row %" PRId64 " was changed", id);
			g_bad = 1;
			continue;
		}
		memcpy(prev, h, sizeof(h));
		prev_len = sizeof(h);
	}
	fclose(f);
	for (size_t i = 0; i < nseals; i++)
		if (!seals[i].rows_seen)
			problem("the rows of sealed transaction %" PRIu64 " are all missing", seals[i].txid);
	verify_erasures();
}

/* ---- lanes and checkpoints ---- */

typedef struct Cp
{
	AuditCheckpoint c;
	const char *where;
} Cp;

static Cp  *cps = NULL;
static int	ncps = 0;

static void
read_checkpoints(const char *path, const uint8_t *key)
{
	FILE	   *f = fopen(path, "r");
	char	   *line;
	int			lineno = 0;

	if (f == NULL)
		die("cannot open %s: %s", path, strerror(errno));
	while ((line = read_line(f)) != NULL)
	{
		const char *why;
		Cp		   *cp;
		char		where[512];

		lineno++;
		if (line[0] == '\0')
			continue;
		cps = realloc(cps, (ncps + 1) * sizeof(Cp));
		if (cps == NULL)
			die("out of memory");
		cp = &cps[ncps];
		snprintf(where, sizeof(where), "%s:%d", path, lineno);
		cp->where = strdup(where);
		if (audit_checkpoint_parse(line, strlen(line), &cp->c, &why) != 0)
			die("%s: %s", where, why);
		if (memcmp(cp->c.key, key, crypto_sign_PUBLICKEYBYTES) != 0)
		{
			problem("%s is signed with another key than the one trusted", where);
			continue;
		}
		if (!audit_checkpoint_signed(line, &cp->c))
		{
			problem("%s: the signature does not match", where);
			continue;
		}
		ncps++;
	}
	fclose(f);
}

static void
verify_lanes(void)
{
	int64_t		last_purge = -1;
	size_t		i = 0;

	int			present = 0;

	for (int c = 0; c < ncps; c++)
		if (cps[c].c.purge && cps[c].c.no > last_purge)
			last_purge = cps[c].c.no;
	for (int lane = 0; lane < AUDIT_CHECKPOINT_MAX_LANES; lane++)
		present += lanes[lane].present;
	if (present == 0)
	{
		/* before the first seal: nothing may be sealed or checkpointed */
		for (size_t k = 0; k < nseals; k++)
			if (seals[k].linked)
				problem("seals in lanes, but no lanes");
		for (int c = 0; c < ncps; c++)
			if (cps[c].c.nlanes > 0)
				problem("%s: the lanes it names are gone", cps[c].where);
		return;
	}

	for (int lane = 0; lane < AUDIT_CHECKPOINT_MAX_LANES; lane++)
	{
		Lane	   *l = &lanes[lane];
		uint8_t		prev[32];
		int			prev_len = l->base_len;
		int64_t		expect = l->base_seq + 1;
		int			broken = 0;

		if (!l->present)
		{
			problem("lane %d is missing", lane);
			continue;
		}
		memcpy(prev, l->base_hash, prev_len);
		for (; i < nseals && (!by_lane[i]->linked || by_lane[i]->lane < lane); i++)
			if (by_lane[i]->linked && by_lane[i]->lane < 0)
				problem("a seal in lane %d, which acctsec never makes", by_lane[i]->lane);
		for (; i < nseals && by_lane[i]->linked && by_lane[i]->lane == lane; i++)
		{
			Seal	   *s = by_lane[i];
			uint8_t		h[32];

			if (broken)
				continue;
			if (s->seq != expect)
			{
				problem("lane %d: seal %" PRId64 " is missing", lane, expect);
				broken = 1;
				continue;
			}
			audit_seal_hash(prev, prev_len, lane, s->seq, s->txid, s->nrows, s->digest,
							s->digest_len, s->sealed_at, h);
			if (s->hash_len != 32 || memcmp(h, s->hash, 32) != 0)
			{
				problem("lane %d: seal %" PRId64 " does not chain to the seal before it", lane, s->seq);
				broken = 1;
				continue;
			}
			for (int c = 0; c < ncps; c++)
				for (int k = 0; k < cps[c].c.nlanes; k++)
					if (cps[c].c.lanes[k].lane == lane && cps[c].c.lanes[k].seq == s->seq &&
						memcmp(cps[c].c.lanes[k].head, h, 32) != 0)
						problem("%s: lane %d seal %" PRId64 " is not the one it names",
								cps[c].where, lane, s->seq);
			memcpy(prev, h, 32);
			prev_len = 32;
			expect++;
		}
		if (broken)
			continue;
		/* audit_lanes is not trusted, but it must agree with the seals */
		if (expect - 1 != l->last_seq || prev_len != l->head_len || memcmp(prev, l->head, prev_len) != 0)
			problem("lane %d: audit_lanes does not end where its seals do", lane);
		/* every checkpoint position must be on the chain walked */
		for (int c = 0; c < ncps; c++)
		{
			int64_t		pos = 0;

			for (int k = 0; k < cps[c].c.nlanes; k++)
				if (cps[c].c.lanes[k].lane == lane)
					pos = cps[c].c.lanes[k].seq;
			if (pos > expect - 1)
				problem("%s: lane %d ends at seal %" PRId64 ", before the checkpoint's seal %" PRId64
						" (rows were trimmed)", cps[c].where, lane, expect - 1, pos);
			else if (pos < l->base_seq && !(last_purge > cps[c].c.no))
				problem("%s: lane %d now starts after the checkpoint's seal %" PRId64
						" (rows were purged, and no later purge checkpoint is given)",
						cps[c].where, lane, pos);
			else if (pos == l->base_seq && pos > 0)
			{
				for (int k = 0; k < cps[c].c.nlanes; k++)
					if (cps[c].c.lanes[k].lane == lane &&
						(l->base_len != 32 || memcmp(cps[c].c.lanes[k].head, l->base_hash, 32) != 0))
						problem("%s: lane %d starts at a base the checkpoint does not name",
								cps[c].where, lane);
			}
		}
	}
	for (; i < nseals; i++)
		if (by_lane[i]->linked)
			problem("a seal in lane %d, which acctsec never makes", by_lane[i]->lane);
}

int
main(int argc, char **argv)
{
	const char *keyhex = NULL,
			   *log = NULL,
			   *seal_path = NULL,
			   *lane_path = NULL;
	uint8_t		key[crypto_sign_PUBLICKEYBYTES];
	size_t		keylen;
	int			first_cp = argc;

	if (sodium_init() < 0)
		die("cannot initialise libsodium");
	for (int i = 1; i < argc; i++)
	{
		if (strcmp(argv[i], "--key") == 0 && i + 1 < argc)
			keyhex = argv[++i];
		else if (strcmp(argv[i], "--log") == 0 && i + 1 < argc)
			log = argv[++i];
		else if (strcmp(argv[i], "--seals") == 0 && i + 1 < argc)
			seal_path = argv[++i];
		else if (strcmp(argv[i], "--lanes") == 0 && i + 1 < argc)
			lane_path = argv[++i];
		else if (argv[i][0] == '-' && argv[i][1] == '-')
			die("unknown option %s", argv[i]);
		else
		{
			first_cp = i;
			break;
		}
	}
	if (keyhex == NULL || log == NULL || seal_path == NULL || lane_path == NULL)
		die("usage: acctsec_verify --key HEX --log FILE --seals FILE --lanes FILE [CHECKPOINT_FILE...]");
	if (sodium_hex2bin(key, sizeof(key), keyhex, strlen(keyhex), NULL, &keylen, NULL) != 0 ||
		keylen != sizeof(key))
		die("--key must be the 64 hex digits acctsec.audit_public_key() returns");

	for (int i = first_cp; i < argc; i++)
		read_checkpoints(argv[i], key);
	read_seals(seal_path);
	read_lanes(lane_path);
	verify_lanes();
	verify_log(log);
	if (problems > 0)
	{
		printf("%d problem%s; %" PRId64 " rows read, %zu seals, %d checkpoints\n",
			   problems, problems == 1 ? "" : "s", rows_checked, nseals, ncps);
		return 1;
	}
	printf("ok: %" PRId64 " rows, %zu seals, %d checkpoints\n", rows_checked, nseals, ncps);
	return 0;
}
