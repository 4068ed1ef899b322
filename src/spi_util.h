/*
 * spi_util.h
 *		spi_util.c: SPI plumbing shared by every capability, and the one
 *		privilege switch.
 */
#ifndef ACCTSEC_SPI_UTIL_H
#define ACCTSEC_SPI_UTIL_H

#include "executor/spi.h"

#include "relation_util.h"

/*
 * The nesting rule.  Only a function PostgreSQL calls (an SQL-callable
 * function, a trigger, an event trigger), or the body it hands its fcinfo
 * to, connects: with acctsec_spi_connect, finishing with acctsec_spi_finish
 * before it returns; an error needs neither, as transaction abort cleans
 * SPI up.  Every other function that runs SQL, in every layer, runs in its
 * caller's connection and says so where it is declared; what it returns
 * that must outlive the connection it makes in a memory context its caller
 * names (or the caller copies out, SPI_datumTransfer).  A function called
 * through fmgr connects anew, nested, as SPI allows.  The two exceptions
 * (a transaction callback's work, the key ring's first read of the
 * database key) are listed, with their reasons, in
 * test/structure/check_spi.sh, which holds the code to the rule.
 */
extern void acctsec_spi_connect(void);
extern void acctsec_spi_finish(void);

/*
 * One statement acctsec runs: its SQL, the types of its parameters and the
 * result SPI must give (SPI_OK_SELECT, SPI_OK_UPDATE_RETURNING, ...), with
 * the plan prepared and kept for the backend's life on first use.  The
 * module that owns the tables declares its statements as static
 * AcctsecPlans and runs them only through the functions below, which check
 * the result; a plan whose tables change is re-planned by the plan cache,
 * as every saved plan is.
 */
#define ACCTSEC_PLAN_MAX_ARGS	20

typedef struct AcctsecPlan
{
	const char *sql;
	int			nargs;
	Oid			argtypes[ACCTSEC_PLAN_MAX_ARGS];
	int			expect;
	SPIPlanPtr	plan;			/* NULL until first run */
} AcctsecPlan;

/*
 * An AcctsecPlan's parameters in its initializer, { sql, ACCTSEC_PLAN_ARGS(
 * type, ...), expect }: their number counted from the list of their types,
 * so that the two cannot disagree.
 */
#define ACCTSEC_PLAN_ARGS(...) \
	lengthof(((Oid[]) {__VA_ARGS__})), {__VA_ARGS__}

/* Run plan (connected); returns SPI_processed, rows in SPI_tuptable. */
extern uint64 acctsec_plan_run(AcctsecPlan *plan, Datum *values,
							   const char *nulls, bool read_only, long tcount);

/*
 * Run plan with the latest snapshot, as PostgreSQL's foreign-key checks do,
 * so that a REPEATABLE READ transaction sees (and can lock) the row version
 * another transaction has just committed; fire_triggers as SPI's.
 */
extern uint64 acctsec_plan_run_latest(AcctsecPlan *plan, Datum *values,
									  const char *nulls, bool fire_triggers,
									  long tcount);

/* A read-only cursor over plan's rows, for results read in batches. */
extern Portal acctsec_plan_open(AcctsecPlan *plan, Datum *values,
								const char *nulls);

/*
 * A statement whose text is made at run time (it names an application's
 * table or column): parsed and planned at each call, its result checked
 * the same way.  Everything else is an AcctsecPlan.
 */
extern uint64 acctsec_sql_run(const char *sql, int expect, int nargs,
							  const Oid *argtypes, Datum *values,
							  const char *nulls, bool read_only, long tcount);

/* The first ncolumns values of an SPI result row, into values and isnull. */
extern void acctsec_spi_row_values(HeapTuple tuple, TupleDesc desc,
								   int ncolumns, Datum *values, bool *isnull);

extern bool acctsec_probe_unique(const char *table, const char *index,
								 int nkeys, const Datum *keys,
								 AcctsecColumns *columns, Datum *values,
								 bool *nulls);

/*
 * The one privilege switch.  Between the two calls the backend acts as
 * role, in a security-restricted operation with search_path pg_catalog,
 * pg_temp; an error in between is undone by transaction abort.
 */
typedef struct AcctsecRoleSwitch
{
	Oid			save_userid;
	int			save_sec_context;
	int			save_nestlevel;
} AcctsecRoleSwitch;

extern void acctsec_become_role(Oid role, AcctsecRoleSwitch *sw);
extern void acctsec_restore_role(AcctsecRoleSwitch *sw);

#endif							/* ACCTSEC_SPI_UTIL_H */
