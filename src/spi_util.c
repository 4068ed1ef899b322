/*
 * spi_util.c
 *		The SPI plumbing every capability shares: connecting (and the one
 *		rule of who connects), and statements (AcctsecPlan) prepared once
 *		per backend, kept (SPI_keepplan) and run with their result checked.
 *
 * Also the one privilege switch (acctsec_become_role), used wherever acctsec
 * acts as a role other than the one its function runs as.
 *
 * And the one read that needs no executor: a row found by the values of a
 * unique index (acctsec_probe_unique, over row_lock.h's index scan), for
 * lookups on the hot path.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "compat.h"
#include "relation_util.h"
#include "row_lock.h"
#include "spi_util.h"

void
acctsec_spi_connect(void)
{
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
}

void
acctsec_spi_finish(void)
{
	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed");
}

/* An error unless SPI answered what the statement must give. */
static void
check_result(int rc, int expect, const char *sql)
{
	if (rc < 0)
		elog(ERROR, "SPI failed for \"%s\": %s", sql, SPI_result_code_string(rc));
	if (rc != expect)
		elog(ERROR, "SPI answered %s, not %s, for \"%s\"",
			 SPI_result_code_string(rc), SPI_result_code_string(expect), sql);
}

static SPIPlanPtr
plan_prepared(AcctsecPlan *plan)
{
	if (plan->plan == NULL)
	{
		SPIPlanPtr	p;

		Assert(plan->nargs >= 0 && plan->nargs <= ACCTSEC_PLAN_MAX_ARGS);
		p = SPI_prepare(plan->sql, plan->nargs, plan->argtypes);
		if (p == NULL)
			elog(ERROR, "SPI_prepare failed for \"%s\": %s",
				 plan->sql, SPI_result_code_string(SPI_result));
		if (SPI_keepplan(p) != 0)
			elog(ERROR, "SPI_keepplan failed");
		plan->plan = p;
	}
	return plan->plan;
}

uint64
acctsec_plan_run(AcctsecPlan *plan, Datum *values, const char *nulls,
				 bool read_only, long tcount)
{
	int			rc;

	rc = SPI_execute_plan(plan_prepared(plan), values, nulls, read_only,
						  tcount);
	check_result(rc, plan->expect, plan->sql);
	return SPI_processed;
}

uint64
acctsec_plan_run_latest(AcctsecPlan *plan, Datum *values, const char *nulls,
						bool fire_triggers, long tcount)
{
	int			rc;

	rc = SPI_execute_snapshot(plan_prepared(plan), values, nulls,
							  GetLatestSnapshot(), InvalidSnapshot, false,
							  fire_triggers, tcount);
	check_result(rc, plan->expect, plan->sql);
	return SPI_processed;
}

Portal
acctsec_plan_open(AcctsecPlan *plan, Datum *values, const char *nulls)
{
	Portal		portal;

	Assert(plan->expect == SPI_OK_SELECT);
	portal = SPI_cursor_open(NULL, plan_prepared(plan), values, nulls, true);
	if (portal == NULL)
		elog(ERROR, "SPI_cursor_open failed for \"%s\": %s",
			 plan->sql, SPI_result_code_string(SPI_result));
	return portal;
}

uint64
acctsec_sql_run(const char *sql, int expect, int nargs, const Oid *argtypes,
				Datum *values, const char *nulls, bool read_only, long tcount)
{
	int			rc;

	if (nargs == 0)
		rc = SPI_execute(sql, read_only, tcount);
	else
		rc = SPI_execute_with_args(sql, nargs, (Oid *) argtypes, values, nulls,
								   read_only, tcount);
	check_result(rc, expect, sql);
	return SPI_processed;
}

void
acctsec_spi_row_values(HeapTuple tuple, TupleDesc desc, int ncolumns,
					   Datum *values, bool *isnull)
{
	for (int i = 0; i < ncolumns; i++)
		values[i] = SPI_getbinval(tuple, desc, i + 1, &isnull[i]);
}

/*
 * Act as role until acctsec_restore_role, the way PostgreSQL runs code on
 * another role's behalf: as foreign-key checks do (the user id switched
 * with SECURITY_LOCAL_USERID_CHANGE, row security not forced on the owner)
 * and as maintenance commands do (SECURITY_RESTRICTED_OPERATION, a fresh
 * GUC nest level with a safe search_path, so nothing the code run meanwhile
 * sets survives it).  The restricted context is inherited by everything
 * called meanwhile, SECURITY DEFINER functions included: code run under it
 * cannot SET ROLE, create temporary objects or leave settings behind.
 *
 * Every read, write and cast on an application's table goes through here
 * with the table's owner as role, so the triggers, rules, domain CHECKs,
 * index expressions and row security policies the owner attached to it run
 * with the owner's rights, never with acctsec's.
 *
 * An error between the two calls needs no cleanup: (sub)transaction abort
 * restores the user id, the security context and the settings, as it does
 * for core's own switches.
 */
void
acctsec_become_role(Oid role, AcctsecRoleSwitch *sw)
{
	GetUserIdAndSecContext(&sw->save_userid, &sw->save_sec_context);
	SetUserIdAndSecContext(role,
						   sw->save_sec_context |
						   SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION |
						   SECURITY_NOFORCE_RLS);
	sw->save_nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
}

void
acctsec_restore_role(AcctsecRoleSwitch *sw)
{
	AtEOXact_GUC(false, sw->save_nestlevel);
	SetUserIdAndSecContext(sw->save_userid, sw->save_sec_context);
}

/* probe_unique's visitor: copy the columns, and stop at the first row */
typedef struct ProbeCopy
{
	int			ncolumns;
	const AttrNumber *attnums;
	Datum	   *values;
	bool	   *nulls;
} ProbeCopy;

static bool
probe_copy(TupleTableSlot *slot, void *arg)
{
	ProbeCopy  *pc = (ProbeCopy *) arg;

	for (int c = 0; c < pc->ncolumns; c++)
		pc->values[c] = acctsec_slot_value(slot, pc->attnums[c], &pc->nulls[c]);
	return false;
}

/*
 * Read columns of the row of acctsec.<table> whose unique index <index>
 * holds the nkeys key values given (one per index column, in order), as a
 * query of a volatile function would see it (a new snapshot after
 * CommandCounterIncrement, as SPI takes one), with one probe of the index:
 * no plan, so no executor start-up, and no plan that the planner could have
 * made as a sequential scan while the table was empty.  The columns (a
 * static list of the caller's, relation_util.h) are copied into
 * values/nulls (in the caller's memory context).  Returns false, leaving
 * values alone, when there is no row.  Locks nothing but the relations
 * (AccessShareLock, as a query would).
 */
bool
acctsec_probe_unique(const char *table, const char *index, int nkeys,
					 const Datum *keys, AcctsecColumns *columns,
					 Datum *values, bool *nulls)
{
	Oid			relid = acctsec_relid(table);
	Oid			indexid = acctsec_relid(index);
	Relation	rel;
	Relation	irel;
	Snapshot	snapshot;
	ProbeCopy	pc;
	bool		found;

	if (!OidIsValid(relid) || !OidIsValid(indexid))
		elog(ERROR, "acctsec.%s or its index %s is missing", table, index);
	rel = table_open(relid, AccessShareLock);
	irel = index_open(indexid, AccessShareLock);
	if (irel->rd_index->indrelid != relid || !irel->rd_index->indisunique ||
		IndexRelationGetNumberOfKeyAttributes(irel) != nkeys)
		elog(ERROR, "index %s is not a unique index of %d columns on acctsec.%s",
			 index, nkeys, table);

	/* what a volatile function's query would see (as SPI does it) */
	snapshot = acctsec_statement_snapshot();
	pc.ncolumns = columns->ncolumns;
	pc.attnums = acctsec_columns(columns, rel);
	pc.values = values;
	pc.nulls = nulls;
	found = acctsec_index_scan_equal(rel, irel, nkeys, keys, snapshot, probe_copy, &pc);
	UnregisterSnapshot(snapshot);
	index_close(irel, NoLock);
	table_close(rel, NoLock);
	return found;
}
