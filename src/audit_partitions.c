/*
 * audit_partitions.c
 *		The time partitions of acctsec.audit_log (docs/audit.md, "Retention").
 *
 * The log is PARTITION BY RANGE (logged_at), so that audit_purge() drops
 * whole months (or whatever acctsec.audit_partition_interval says) instead
 * of deleting rows one by one.  A default partition, audit_log_default,
 * takes every row no other partition covers, so that a write never fails
 * for want of a partition, and is the model of the others.
 *
 * The writer (audit_chain.c) stores rows with heap_insert(), not through
 * the executor, so it routes each row itself: this module keeps the bounds
 * of the log's partitions per backend, read from the catalogs (pg_inherits
 * and pg_class.relpartbound) and read again after a relcache invalidation
 * of the log, which every CREATE ... PARTITION OF, ATTACH, DETACH and DROP
 * of a partition sends.  The writer locks only the partition it writes,
 * as an INSERT naming the partition would, never the parent: so dropping
 * an old partition (which locks the parent) does not wait for every open
 * transaction that wrote audit rows, and cannot deadlock with them over
 * the lanes they take at commit.  The writer checks after taking its lock
 * that the bounds it routed by are still the current ones, and routes again
 * if not (the lock processes the invalidations a concurrent DROP or ATTACH
 * committed).
 *
 * audit_create_partitions(ahead) makes the partitions from the newest one
 * (or from the interval now falls in) up to now() + ahead, on a grid of
 * acctsec.audit_partition_interval steps from 2000-01-01 00:00 UTC, so the
 * bounds do not depend on the session's TimeZone.  Each is a copy of the
 * default partition (its columns, indexes and storage), with the same
 * append-only guard and the log's grants, owned by the log's owner, and
 * attached with ATTACH PARTITION, which locks the parent only against
 * other schema changes, not against readers.
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "audit_partitions.h"
#include "compat.h"
#include "spi_util.h"

PG_FUNCTION_INFO_V1(acctsec_audit_create_partitions);

/*
 * The most partitions one call of audit_create_partitions() makes: each
 * takes a dozen locks (the table, its indexes, its TOAST table) held to
 * the end of the transaction, and the lock table is sized for about
 * max_locks_per_transaction (64) per session.
 */
#define AUDIT_PARTITIONS_MAX_NEW	100

/* ----------------------------------------------------------------------
 * The bounds, per backend
 * ---------------------------------------------------------------------- */

typedef struct PartitionCache
{
	bool		valid;
	Oid			parent;
	bool		partitioned;
	int			nparts;
	AcctsecAuditPartition *parts;	/* sorted by lower */
	Oid			default_relid;
	int			last;			/* the range found last: usually found again */
} PartitionCache;

static PartitionCache cache;
static MemoryContext cache_cxt = NULL;
static uint64 cache_generation = 0;
static bool callback_registered = false;

static void
partitions_invalidate(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == cache.parent)
	{
		cache.valid = false;
		cache_generation++;
	}
}

/* A bound of a range partition: MINVALUE and MAXVALUE as the infinities. */
static TimestampTz
range_bound(List *datums, TimestampTz infinity)
{
	PartitionRangeDatum *d;

	if (list_length(datums) != 1)
		elog(ERROR, "acctsec.audit_log is partitioned by more than logged_at");
	d = castNode(PartitionRangeDatum, linitial(datums));
	if (d->kind != PARTITION_RANGE_DATUM_VALUE)
		return infinity;
	return DatumGetTimestampTz(castNode(Const, d->value)->constvalue);
}

static int
partition_cmp(const void *a, const void *b)
{
	TimestampTz la = ((const AcctsecAuditPartition *) a)->lower;
	TimestampTz lb = ((const AcctsecAuditPartition *) b)->lower;

	return la < lb ? -1 : la > lb ? 1 : 0;
}

/*
 * Read parent's partitions from the catalogs.  No lock on the parent: the
 * caller locks the partition it uses, and checks the generation after.
 */
static void
cache_build(Oid parent)
{
	List	   *children;
	ListCell   *lc;
	int			n = 0;

	if (!callback_registered)
	{
		CacheRegisterRelcacheCallback(partitions_invalidate, (Datum) 0);
		callback_registered = true;
	}
	if (cache_cxt == NULL)
		cache_cxt = AllocSetContextCreate(CacheMemoryContext,
										  "acctsec audit partitions",
										  ALLOCSET_SMALL_SIZES);
	MemoryContextReset(cache_cxt);
	memset(&cache, 0, sizeof(cache));
	cache.parent = parent;
	cache.partitioned = get_rel_relkind(parent) == RELKIND_PARTITIONED_TABLE;
	cache.valid = true;
	if (!cache.partitioned)
		return;

	children = find_inheritance_children(parent, NoLock);
	cache.parts = MemoryContextAlloc(cache_cxt,
									 sizeof(AcctsecAuditPartition) * Max(list_length(children), 1));
	foreach(lc, children)
	{
		Oid			child = lfirst_oid(lc);
		HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(child));
		Datum		bound;
		bool		isnull;
		PartitionBoundSpec *spec;

		if (!HeapTupleIsValid(tup))
			continue;			/* dropped meanwhile: its invalidation follows */
		bound = SysCacheGetAttr(RELOID, tup, Anum_pg_class_relpartbound, &isnull);
		if (!isnull)
		{
			if (((Form_pg_class) GETSTRUCT(tup))->relkind != RELKIND_RELATION)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("partition \"%s\" of acctsec.audit_log is not a table",
								NameStr(((Form_pg_class) GETSTRUCT(tup))->relname)),
						 errdetail("The audit log's partitions are not partitioned themselves.")));
			spec = castNode(PartitionBoundSpec, stringToNode(TextDatumGetCString(bound)));
			if (spec->is_default)
				cache.default_relid = child;
			else
			{
				cache.parts[n].relid = child;
				cache.parts[n].lower = range_bound(spec->lowerdatums, DT_NOBEGIN);
				cache.parts[n].upper = range_bound(spec->upperdatums, DT_NOEND);
				n++;
			}
		}
		ReleaseSysCache(tup);
	}
	cache.nparts = n;
	qsort(cache.parts, n, sizeof(AcctsecAuditPartition), partition_cmp);
	list_free(children);
}

static void
cache_ensure(Oid parent)
{
	if (!cache.valid || cache.parent != parent)
		cache_build(parent);
}

Oid
acctsec_audit_partition_for(Oid parent, TimestampTz ts, uint64 *generation)
{
	int			lo,
				hi;

	cache_ensure(parent);
	*generation = cache_generation;
	if (!cache.partitioned)
		return parent;

	/* a transaction's rows, and the next transactions', land together */
	if (cache.last < cache.nparts && cache.parts[cache.last].lower <= ts &&
		ts < cache.parts[cache.last].upper)
		return cache.parts[cache.last].relid;

	/* the last range that starts at or before ts */
	lo = 0;
	hi = cache.nparts - 1;
	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;

		if (cache.parts[mid].lower <= ts)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	if (hi >= 0 && ts < cache.parts[hi].upper)
	{
		cache.last = hi;
		return cache.parts[hi].relid;
	}
	if (OidIsValid(cache.default_relid))
		return cache.default_relid;
	ereport(ERROR,
			(errcode(ERRCODE_CHECK_VIOLATION),
			 errmsg("no partition of acctsec.audit_log takes the row"),
			 errdetail("The row is logged at %s.", timestamptz_to_str(ts)),
			 errhint("Create them with acctsec.audit_create_partitions(); the default partition acctsec.audit_log_default takes any row.")));
	return InvalidOid;			/* keep the compiler quiet */
}

bool
acctsec_audit_partitions_unchanged(uint64 generation)
{
	return cache.valid && generation == cache_generation;
}

int
acctsec_audit_partitions_copy(Oid parent, AcctsecAuditPartition **parts,
							  Oid *default_relid)
{
	cache_ensure(parent);
	*default_relid = cache.default_relid;
	if (!cache.partitioned)
	{
		*parts = NULL;
		return -1;
	}
	*parts = palloc(sizeof(AcctsecAuditPartition) * Max(cache.nparts, 1));
	memcpy(*parts, cache.parts, sizeof(AcctsecAuditPartition) * cache.nparts);
	return cache.nparts;
}

/* ----------------------------------------------------------------------
 * acctsec.audit_partition_interval
 * ---------------------------------------------------------------------- */

static char *partition_interval_text = NULL;
static Interval partition_interval;

/*
 * Parse an interval as interval_in() does, but answer instead of raising an
 * error, so that a setting check can refuse it; and refuse what cannot
 * step a grid of partitions: anything negative or infinite, and steps
 * under an hour.
 */
static bool
parse_partition_step(const char *str, Interval *result, const char **why)
{
	struct pg_itm_in itm_in = {0};
	char	   *field[MAXDATEFIELDS];
	int			ftype[MAXDATEFIELDS];
	char		workbuf[256];
	int			nf;
	int			dtype = 0;
	int			dterr;

	*why = "It is not an interval.";
	dterr = ParseDateTime(str, workbuf, sizeof(workbuf), field, ftype, MAXDATEFIELDS, &nf);
	if (dterr == 0)
		dterr = DecodeInterval(field, ftype, nf, INTERVAL_FULL_RANGE, &dtype, &itm_in);
	if (dterr == DTERR_BAD_FORMAT)
		dterr = DecodeISO8601Interval((char *) str, &dtype, &itm_in);
	if (dterr != 0 || dtype != DTK_DELTA || itmin2interval(&itm_in, result) != 0)
		return false;
	*why = "A partition interval is positive in every field and at least one hour.";
	if (result->month < 0 || result->day < 0 || result->time < 0)
		return false;
	if (result->month == 0 && result->day == 0 && result->time < USECS_PER_HOUR)
		return false;
	return true;
}

static bool
check_partition_interval(char **newval, void **extra, GucSource source)
{
	Interval	step;
	const char *why;

	if (*newval == NULL || !parse_partition_step(*newval, &step, &why))
	{
		GUC_check_errdetail("%s", why);
		return false;
	}
	return true;
}

/* Parsed again rather than handed over: the check above accepted it. */
static void
assign_partition_interval(const char *newval, void *extra)
{
	const char *why;

	if (!parse_partition_step(newval, &partition_interval, &why))
		elog(ERROR, "acctsec.audit_partition_interval changed between check and assignment");
}

void
acctsec_define_audit_partition_gucs(void)
{
	DefineCustomStringVariable("acctsec.audit_partition_interval",
							   "Time range of each partition of acctsec.audit_log that acctsec.audit_create_partitions() creates.",
							   "Positive, at least one hour; the partitions start on a grid of such steps from 2000-01-01 00:00 UTC.",
							   &partition_interval_text,
							   "1 month",
							   PGC_SUSET,
							   0,
							   check_partition_interval, assign_partition_interval, NULL);
}

/* ----------------------------------------------------------------------
 * The grid, in UTC: point k is 2000-01-01 00:00 (timestamp 0) + k * step
 * ---------------------------------------------------------------------- */

static TimestampTz
grid_point(const Interval *step, int64 k)
{
	Interval   *span = DatumGetIntervalP(DirectFunctionCall2(interval_mul,
															 IntervalPGetDatum(step),
															 Float8GetDatum((double) k)));

	/* timestamp (not timestamptz) arithmetic: UTC, whatever the TimeZone */
	return DatumGetTimestamp(DirectFunctionCall2(timestamp_pl_interval,
												 TimestampGetDatum(0),
												 IntervalPGetDatum(span)));
}

/* The k of the grid point at or before ts: point(k) <= ts < point(k + 1). */
static int64
grid_index(const Interval *step, TimestampTz ts)
{
	double		approx = (double) step->month * DAYS_PER_MONTH * USECS_PER_DAY +
		(double) step->day * USECS_PER_DAY + (double) step->time;
	int64		k = (int64) floor((double) ts / approx);

	while (grid_point(step, k) > ts)
		k--;
	while (grid_point(step, k + 1) <= ts)
		k++;
	return k;
}

/* The first grid point after ts. */
static TimestampTz
grid_next(const Interval *step, TimestampTz ts)
{
	return grid_point(step, grid_index(step, ts) + 1);
}

/* The grid point at or before ts. */
static TimestampTz
grid_floor(const Interval *step, TimestampTz ts)
{
	return grid_point(step, grid_index(step, ts));
}

/* ts in UTC: "2026-12-01 00:00:00+00" (literal) or "20261201" (name). */
static void
utc_literal(TimestampTz ts, char *buf, size_t len, bool for_name)
{
	struct pg_tm tm;
	fsec_t		fsec;

	if (timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	if (!for_name)
		snprintf(buf, len, "%04d-%02d-%02d %02d:%02d:%02d+00",
				 tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	else if (tm.tm_hour == 0 && tm.tm_min == 0 && tm.tm_sec == 0 && fsec == 0)
		snprintf(buf, len, "%04d%02d%02d", tm.tm_year, tm.tm_mon, tm.tm_mday);
	else
		snprintf(buf, len, "%04d%02d%02d_%02d%02d",
				 tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min);
}

/* ----------------------------------------------------------------------
 * audit_create_partitions()
 * ---------------------------------------------------------------------- */

/* The newest row of the default partition at or after $1, if any. */
static AcctsecPlan default_newest_plan = {
	"SELECT pg_catalog.max(logged_at) FROM acctsec.audit_log_default "
	"WHERE logged_at OPERATOR(pg_catalog.>=) $1",
	ACCTSEC_PLAN_ARGS(TIMESTAMPTZOID), SPI_OK_SELECT, NULL
};

/* The log's grants other than its owner's, as GRANT statements for $1. */
static AcctsecPlan log_grants_plan = {
	"SELECT pg_catalog.format('GRANT %s ON acctsec.%I TO %s%s', a.privilege_type, $1, "
	"  CASE WHEN a.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC' "
	"       ELSE pg_catalog.quote_ident(r.rolname) END, "
	"  CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END) "
	"FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a "
	"LEFT JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) a.grantee "
	"WHERE c.oid OPERATOR(pg_catalog.=) 'acctsec.audit_log'::pg_catalog.regclass "
	"  AND a.grantee OPERATOR(pg_catalog.<>) c.relowner",
	ACCTSEC_PLAN_ARGS(TEXTOID), SPI_OK_SELECT, NULL
};

static void
run_utility(const char *sql)
{
	acctsec_sql_run(sql, SPI_OK_UTILITY, 0, NULL, NULL, NULL, false, 0);
}

/* Make one partition [lower, upper) after the default's model (connected). */
static void
create_partition(TimestampTz lower, TimestampTz upper)
{
	char		lo[64],
				hi[64],
				suffix[32],
				name[NAMEDATALEN];
	const char *qname;
	Datum		arg;
	SPITupleTable *tt;
	uint64		ngrants;

	utc_literal(lower, lo, sizeof(lo), false);
	utc_literal(upper, hi, sizeof(hi), false);
	utc_literal(lower, suffix, sizeof(suffix), true);
	snprintf(name, sizeof(name), "audit_log_p%s", suffix);
	qname = quote_identifier(name);

	/* the model's columns, indexes and storage; heap, as the writer needs */
	run_utility(psprintf("CREATE TABLE acctsec.%s (LIKE acctsec.audit_log_default INCLUDING ALL) USING heap",
						 qname));
	run_utility(psprintf("CREATE TRIGGER audit_log_append_only "
						 "BEFORE UPDATE OR DELETE OR TRUNCATE ON acctsec.%s "
						 "FOR EACH STATEMENT EXECUTE FUNCTION acctsec.audit_log_guard()",
						 qname));
	run_utility(psprintf("ALTER TABLE acctsec.%s ENABLE ALWAYS TRIGGER audit_log_append_only",
						 qname));
	run_utility(psprintf("COMMENT ON TABLE acctsec.%s IS %s", qname,
						 quote_literal_cstr(psprintf("acctsec audit log: the rows logged from %s to %s",
													 lo, hi))));
	arg = CStringGetTextDatum(name);
	ngrants = acctsec_plan_run(&log_grants_plan, &arg, NULL, true, 0);
	tt = SPI_tuptable;
	for (uint64 i = 0; i < ngrants; i++)
		run_utility(SPI_getvalue(tt->vals[i], tt->tupdesc, 1));
	run_utility(psprintf("ALTER TABLE acctsec.audit_log ATTACH PARTITION acctsec.%s "
						 "FOR VALUES FROM ('%s') TO ('%s')", qname, lo, hi));
}

/*
 * Create the partitions from where the newest ends (or from the grid point
 * now falls after) up to end; returns how many (connected, as the log's
 * owner).
 */
static int
create_partitions_until(Oid parent, const Interval *step, TimestampTz now,
						TimestampTz end)
{
	AcctsecAuditPartition *parts;
	Oid			default_relid;
	int			nparts;
	TimestampTz start;
	Datum		arg;
	bool		isnull;
	int			made = 0;

	/*
	 * One caller at a time (ATTACH PARTITION takes this lock too), and no row
	 * into the default partition while its newest is read: a row in a range
	 * about to be attached would make the ATTACH fail.
	 */
	LockRelationOid(parent, ShareUpdateExclusiveLock);
	nparts = acctsec_audit_partitions_copy(parent, &parts, &default_relid);
	if (nparts < 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("acctsec.audit_log is not partitioned"),
				 errhint("Update the extension: ALTER EXTENSION acctsec UPDATE.")));
	if (!OidIsValid(default_relid) ||
		default_relid != get_relname_relid("audit_log_default", get_rel_namespace(parent)))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("acctsec.audit_log_default is not the default partition of acctsec.audit_log"),
				 errdetail("The default partition is the model of the others.")));
	LockRelationOid(default_relid, ExclusiveLock);

	/*
	 * From the interval now falls in, or from the end of the newest partition
	 * when that is later (the ranges do not overlap, so the last by lower
	 * bound ends last).
	 */
	start = grid_floor(step, now);
	if (nparts > 0)
	{
		if (parts[nparts - 1].upper == DT_NOEND)
			return 0;			/* a partition takes everything from there on */
		start = Max(start, parts[nparts - 1].upper);
	}

	/* the default's rows stay where they are: start after the newest */
	arg = TimestampTzGetDatum(start);
	acctsec_plan_run(&default_newest_plan, &arg, NULL, true, 0);
	arg = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (!isnull)
		start = grid_next(step, DatumGetTimestampTz(arg));

	/* how many: all or none */
	for (TimestampTz t = start; t < end; t = grid_next(step, t))
		if (++made > AUDIT_PARTITIONS_MAX_NEW)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("audit_create_partitions() would create more than %d partitions",
							AUDIT_PARTITIONS_MAX_NEW),
					 errhint("Ask for less ahead, or set a longer acctsec.audit_partition_interval.")));
	while (start < end)
	{
		TimestampTz upper = grid_next(step, start);

		create_partition(start, upper);
		start = upper;
	}
	return made;
}

/*
 * acctsec.audit_create_partitions(ahead interval DEFAULT '3 months')
 * RETURNS int
 *
 * Creates the partitions of acctsec.audit_log, of
 * acctsec.audit_partition_interval each, that are missing from the newest
 * one up to now() + ahead; returns how many.  Run it as often as wanted.
 */
Datum
acctsec_audit_create_partitions(PG_FUNCTION_ARGS)
{
	Interval   *ahead = PG_GETARG_INTERVAL_P(0);
	Oid			nsp = get_namespace_oid("acctsec", false);
	Oid			parent = get_relname_relid("audit_log", nsp);
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	TimestampTz end;
	Interval	step = partition_interval;
	int			made;

	if (ahead->month < 0 || ahead->day < 0 || ahead->time < 0 ||
		acctsec_interval_not_finite(ahead))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ahead must be a finite interval, positive or zero in every field")));
	if (!OidIsValid(parent))
		elog(ERROR, "acctsec.audit_log is missing");
	end = DatumGetTimestamp(DirectFunctionCall2(timestamp_pl_interval,
												TimestampGetDatum(now),
												IntervalPGetDatum(ahead)));

	acctsec_spi_connect();
	made = create_partitions_until(parent, &step, now, end);
	acctsec_spi_finish();
	PG_RETURN_INT32(made);
}
