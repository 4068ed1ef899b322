/*
 * spi_util.h
 *		spi_util.c: SPI plumbing shared by every capability, and the one
 *		privilege switch.
 */
#ifndef ACCTSEC_SPI_UTIL_H
#define ACCTSEC_SPI_UTIL_H

#include "executor/spi.h"

extern void acctsec_spi_connect(void);
extern void acctsec_spi_finish(void);
extern SPIPlanPtr acctsec_keep_plan(SPIPlanPtr *slot, const char *sql,
									int nargs, const Oid *argtypes);
extern uint64 acctsec_run_saved_plan(SPIPlanPtr *slot, const char *sql,
									 int nargs, const Oid *argtypes,
									 Datum *values, const char *nulls,
									 bool read_only, long tcount);
extern bool acctsec_probe_unique(const char *table, const char *index,
								 int nkeys, const Datum *keys, int natts,
								 const char *const *attnames, Datum *values,
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
