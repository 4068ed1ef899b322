/*
 * spi_util.c
 *		The SPI plumbing every capability shares: connecting, and plans
 *		prepared once per backend and kept (SPI_keepplan).
 *
 * Plans are cached per backend in the caller's own slots; a plan whose
 * tables change is re-planned by the plan cache, as any saved plan is.
 */
#include "postgres.h"

#include "executor/spi.h"

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
