/*
 * spi_util.c
 *		The SPI plumbing every capability shares: connecting, and plans
 *		prepared once per backend and kept (SPI_keepplan).
 *
 * Plans are cached per backend in the caller's own slots; a plan whose
 * tables change is re-planned by the plan cache, as any saved plan is.
 *
 * Also the one privilege switch (acctsec_become_role), used wherever acctsec
 * acts as a role other than the one its function runs as.
 */
#include "postgres.h"

#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include "acctsec.h"

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

/* The plan in *slot, prepared and kept on first use (SPI connected). */
SPIPlanPtr
acctsec_keep_plan(SPIPlanPtr *slot, const char *sql, int nargs,
				  const Oid *argtypes)
{
	if (*slot == NULL)
	{
		SPIPlanPtr	plan = SPI_prepare(sql, nargs, (Oid *) argtypes);

		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed for \"%s\": %s",
				 sql, SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "SPI_keepplan failed");
		*slot = plan;
	}
	return *slot;
}

/* Run the plan in *slot (prepared on first use); returns SPI_processed. */
uint64
acctsec_run_saved_plan(SPIPlanPtr *slot, const char *sql, int nargs,
					   const Oid *argtypes, Datum *values, const char *nulls,
					   bool read_only, long tcount)
{
	int			rc;

	rc = SPI_execute_plan(acctsec_keep_plan(slot, sql, nargs, argtypes),
						  values, nulls, read_only, tcount);
	if (rc < 0)
		elog(ERROR, "SPI_execute_plan failed for \"%s\": %s",
			 sql, SPI_result_code_string(rc));
	return SPI_processed;
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
