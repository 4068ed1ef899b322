/*
 * linked_tables.c
 *		Application tables linked to acctsec accounts (SPEC sections 2 and 12).
 *
 * acctsec.link_account_table (SQL, in 20_accounts.sql) records a table and
 * its key column in acctsec.linked_tables and attaches the AFTER DELETE row
 * trigger below, so that deleting a user through any ORM erases that
 * account's security state.  The trigger trusts only acctsec.linked_tables:
 * the key column comes from there, not from trigger arguments, and a table
 * that is not linked is an error, so attaching the function by hand to some
 * other table can erase nothing.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "acctsec.h"

PG_FUNCTION_INFO_V1(acctsec_forget_linked_account);

static SPIPlanPtr key_column_plan = NULL;

/*
 * The key column recorded for relid, or NULL if the table is not linked.
 * SPI must be connected; the result is allocated in the caller's context.
 */
static char *
linked_key_column(Oid relid, MemoryContext cxt)
{
	Datum		values[1] = {ObjectIdGetDatum(relid)};
	bool		isnull;
	Datum		d;
	int			rc;

	if (key_column_plan == NULL)
	{
		Oid			argtypes[1] = {OIDOID};
		SPIPlanPtr	plan;

		plan = SPI_prepare("SELECT key_column FROM acctsec.linked_tables"
						   " WHERE tbl OPERATOR(pg_catalog.=) $1::pg_catalog.regclass",
						   1, argtypes);
		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed: %s",
				 SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "SPI_keepplan failed");
		key_column_plan = plan;
	}

	rc = SPI_execute_plan(key_column_plan, values, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
	if (SPI_processed != 1)
		return NULL;
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		return NULL;
	return MemoryContextStrdup(cxt, NameStr(*DatumGetName(d)));
}

/*
 * acctsec.forget_linked_account(): AFTER DELETE FOR EACH ROW trigger on a
 * linked table.  The key value's text form (the same as key::text, so an
 * integer 42 is account '42' and a uuid its lower-case form) is the account
 * whose state is erased.  A NULL key, or one that cannot be an account
 * (empty, too long), has no state and is skipped.
 */
Datum
acctsec_forget_linked_account(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Relation	rel;
	char	   *key_column;
	int			attnum;
	char	   *key;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("acctsec.forget_linked_account() must be called as a trigger")));
	rel = trigdata->tg_relation;
	if (!TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		!TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("acctsec.forget_linked_account() on table \"%s\" must be an AFTER DELETE FOR EACH ROW trigger",
						RelationGetRelationName(rel)),
				 errhint("Use acctsec.link_account_table() to attach it.")));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	key_column = linked_key_column(RelationGetRelid(rel), CurrentMemoryContext);
	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed");

	if (key_column == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("table \"%s\" is not linked to acctsec accounts",
						RelationGetRelationName(rel)),
				 errhint("Use acctsec.link_account_table() to link it.")));

	attnum = SPI_fnumber(RelationGetDescr(rel), key_column);
	if (attnum <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("key column \"%s\" of linked table \"%s\" does not exist",
						key_column, RelationGetRelationName(rel)),
				 errhint("Link the table again with acctsec.link_account_table().")));

	key = SPI_getvalue(trigdata->tg_trigtuple, RelationGetDescr(rel), attnum);
	if (key != NULL && key[0] != '\0' && strlen(key) <= ACCTSEC_MAX_ACCOUNT_BYTES)
		acctsec_account_forget(cstring_to_text(key));

	return PointerGetDatum(trigdata->tg_trigtuple);
}
