/*
 * trigger_guard.c
 *		Switching acctsec's triggers off leaves a trace (docs/security.md):
 *		disabling, dropping or replacing the audit triggers or the updated_at
 *		trigger, and writes under session_replication_role = replica that
 *		skip the audit trigger, are security events.
 *
 * The owner of a table may do all of these (PostgreSQL lets an owner alter
 * the table's triggers); acctsec cannot and does not forbid them, since
 * migrations and bulk loads have reasons to.  It records them instead, in
 * the same transaction as the change, through acctsec_security_event(),
 * with the table, the trigger and the role that did it:
 *
 *	audit.trigger_disabled, updated_at.trigger_disabled
 *		ALTER TABLE ... DISABLE TRIGGER name/ALL/USER, or ENABLE REPLICA
 *		TRIGGER (which stops it firing in ordinary sessions), leaving one of
 *		ours disabled or replica-only (ddl_command_end: the triggers' state
 *		after the command, on the table and its partitions);
 *	audit.trigger_dropped, updated_at.trigger_dropped
 *		DROP TRIGGER of one of ours (ddl_command_start: the trigger is still
 *		there to be recognised; should the command fail, the event rolls back
 *		with it);
 *	audit.trigger_replaced, updated_at.trigger_replaced
 *		CREATE OR REPLACE TRIGGER over one of ours;
 *	audit.bypassed
 *		a statement that changed an audited table under
 *		session_replication_role = replica, where the audit triggers (ENABLE
 *		ORIGIN, the default) do not fire: acctsec.audit_bypass(), a statement
 *		trigger attached by audit_table() with ENABLE ALWAYS, records it.
 *
 * unaudit_table() and untrack_updated_at() record audit.table_unaudited and
 * updated_at.untracked themselves (their drops are not DDL commands and fire
 * no event trigger).  The event triggers are ENABLE ALWAYS too, so that DDL
 * in replica mode is seen.  Other extensions' scripts and pg_upgrade are
 * left alone, as updated_at.c's event trigger does.
 *
 * "Ours" means a trigger whose function is acctsec.audit(),
 * acctsec.audit_bypass() or acctsec.set_updated_at(), whatever its name.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_trigger.h"
#include "commands/event_trigger.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "events.h"
#include "relation_util.h"

PG_FUNCTION_INFO_V1(acctsec_trigger_guard);
PG_FUNCTION_INFO_V1(acctsec_audit_bypass);

/* The audit row and TRUNCATE triggers' names (audit.c). */
#define AUDIT_ROW_TRIGGER		"acctsec_audit"
#define AUDIT_TRUNCATE_TRIGGER	"acctsec_audit_truncate"

/*
 * Which capability a trigger function belongs to: "audit", "updated_at", or
 * NULL when it is not one of ours.
 */
static const char *
our_trigger_kind(Oid funcoid)
{
	HeapTuple	tup;
	Form_pg_proc proc;
	const char *kind = NULL;
	Oid			nsp = get_namespace_oid("acctsec", true);

	if (!OidIsValid(nsp))
		return NULL;
	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(funcoid));
	if (!HeapTupleIsValid(tup))
		return NULL;
	proc = (Form_pg_proc) GETSTRUCT(tup);
	if (proc->pronamespace == nsp)
	{
		const char *name = NameStr(proc->proname);

		if (strcmp(name, "audit") == 0 || strcmp(name, "audit_bypass") == 0)
			kind = "audit";
		else if (strcmp(name, "set_updated_at") == 0)
			kind = "updated_at";
	}
	ReleaseSysCache(tup);
	return kind;
}

static char *
qualified_table_name(Oid relid)
{
	char	   *nsp = get_namespace_name(get_rel_namespace(relid));
	char	   *rel = get_rel_name(relid);

	if (nsp == NULL || rel == NULL)
		return psprintf("%u", relid);
	return quote_qualified_identifier(nsp, rel);
}

static void
trigger_event(const char *kind, const char *what, Oid relid,
			  const char *trigname, const char *state)
{
	char	   *event = psprintf("%s.trigger_%s", kind, what);

	acctsec_security_event(event, NULL,
						   "table", qualified_table_name(relid),
						   "trigger", trigname,
						   "role", GetUserNameFromId(GetUserId(), false),
						   state ? "state" : NULL, state,
						   NULL);
}

/* The trigger named trigname on relid, if it is ours: its kind, else NULL. */
static const char *
named_trigger_kind(Oid relid, const char *trigname)
{
	Relation	rel;
	const char *kind = NULL;

	rel = try_table_open(relid, AccessShareLock);
	if (rel == NULL)
		return NULL;
	if (rel->trigdesc != NULL)
	{
		for (int i = 0; i < rel->trigdesc->numtriggers; i++)
		{
			Trigger    *t = &rel->trigdesc->triggers[i];

			if (strcmp(t->tgname, trigname) == 0)
			{
				kind = our_trigger_kind(t->tgfoid);
				break;
			}
		}
	}
	table_close(rel, AccessShareLock);
	return kind;
}

/* DROP TRIGGER: names are [schema.]table.trigger */
static void
guard_drop_trigger(DropStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->objects)
	{
		List	   *names = (List *) lfirst(lc);
		int			n = list_length(names);
		const char *trigname;
		RangeVar   *rv;
		Oid			relid;
		const char *kind;

		if (n < 2)
			continue;
		trigname = strVal(llast(names));
		rv = makeRangeVarFromNameList(list_truncate(list_copy(names), n - 1));
		relid = RangeVarGetRelid(rv, NoLock, true);
		if (!OidIsValid(relid))
			continue;
		kind = named_trigger_kind(relid, trigname);
		if (kind != NULL)
			trigger_event(kind, "dropped", relid, trigname, NULL);
	}
}

/* CREATE OR REPLACE TRIGGER over one of ours */
static void
guard_create_trigger(CreateTrigStmt *stmt)
{
	Oid			relid;
	const char *kind;

	if (!stmt->replace || stmt->relation == NULL)
		return;
	relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	if (!OidIsValid(relid))
		return;
	kind = named_trigger_kind(relid, stmt->trigname);
	if (kind != NULL)
		trigger_event(kind, "replaced", relid, stmt->trigname, NULL);
}

/*
 * ALTER TABLE: if a subcommand disables triggers (or makes them fire only in
 * replica mode), report each of ours that the command left so, on the table
 * and its partitions.  A subcommand naming one trigger only concerns that
 * trigger; ALL and USER concern all of ours.
 */
static void
guard_alter_table(AlterTableStmt *stmt)
{
	ListCell   *lc;
	List	   *names = NIL;
	bool		all = false;
	Oid			relid;
	List	   *relids;

	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = (AlterTableCmd *) lfirst(lc);

		if (!IsA(cmd, AlterTableCmd))
			continue;
		switch (cmd->subtype)
		{
			case AT_DisableTrig:
			case AT_EnableReplicaTrig:
				names = lappend(names, cmd->name);
				break;
			case AT_DisableTrigAll:
			case AT_DisableTrigUser:
				all = true;
				break;
			default:
				break;
		}
	}
	if (names == NIL && !all)
		return;
	if (stmt->relation == NULL)
		return;
	relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	if (!OidIsValid(relid))
		return;
	relids = find_all_inheritors(relid, NoLock, NULL);
	foreach(lc, relids)
	{
		Relation	rel = try_table_open(lfirst_oid(lc), NoLock);

		if (rel == NULL)
			continue;
		if (rel->trigdesc != NULL)
		{
			for (int i = 0; i < rel->trigdesc->numtriggers; i++)
			{
				Trigger    *t = &rel->trigdesc->triggers[i];
				const char *kind;
				bool		named = all;
				ListCell   *nc;

				if (t->tgenabled != TRIGGER_DISABLED &&
					t->tgenabled != TRIGGER_FIRES_ON_REPLICA)
					continue;
				foreach(nc, names)
					if (strcmp((char *) lfirst(nc), t->tgname) == 0)
					named = true;
				if (!named)
					continue;
				kind = our_trigger_kind(t->tgfoid);
				if (kind != NULL)
					trigger_event(kind, "disabled", RelationGetRelid(rel), t->tgname,
								  t->tgenabled == TRIGGER_DISABLED ? "disabled" : "replica only");
			}
		}
		table_close(rel, NoLock);
	}
}

Datum
acctsec_trigger_guard(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata;
	Node	   *parsetree;

	acctsec_check_trigger(fcinfo, "acctsec.trigger_guard()", true);
	trigdata = (EventTriggerData *) fcinfo->context;
	if (creating_extension || IsBinaryUpgrade)
		PG_RETURN_VOID();

	parsetree = trigdata->parsetree;
	if (parsetree == NULL)
		PG_RETURN_VOID();
	if (strcmp(trigdata->event, "ddl_command_start") == 0)
	{
		if (IsA(parsetree, DropStmt) &&
			((DropStmt *) parsetree)->removeType == OBJECT_TRIGGER)
			guard_drop_trigger((DropStmt *) parsetree);
		else if (IsA(parsetree, CreateTrigStmt))
			guard_create_trigger((CreateTrigStmt *) parsetree);
	}
	else if (strcmp(trigdata->event, "ddl_command_end") == 0)
	{
		if (IsA(parsetree, AlterTableStmt))
			guard_alter_table((AlterTableStmt *) parsetree);
	}
	PG_RETURN_VOID();
}

/*
 * acctsec.audit_bypass(): AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ...
 * FOR EACH STATEMENT, ENABLE ALWAYS, attached by audit_table().  It records
 * nothing in ordinary sessions; under session_replication_role = replica,
 * where the audit triggers (ENABLE ORIGIN) do not fire, it records that the
 * statement went unaudited, unless the owner made the audit trigger fire in
 * replica mode too (ENABLE ALWAYS or REPLICA).
 */
Datum
acctsec_audit_bypass(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	const char *operation;
	const char *audit_trigger;
	bool		audited = false;
	Relation	rel;

	if (!acctsec_trigger_fired(fcinfo, false, TRIGGER_TYPE_AFTER,
							   TRIGGER_TYPE_INSERT | TRIGGER_TYPE_UPDATE |
							   TRIGGER_TYPE_DELETE | TRIGGER_TYPE_TRUNCATE))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("acctsec.audit_bypass() must be fired AFTER ... FOR EACH STATEMENT")));
	if (SessionReplicationRole != SESSION_REPLICATION_ROLE_REPLICA)
		return PointerGetDatum(NULL);

	rel = trigdata->tg_relation;
	if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		operation = "INSERT";
	else if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
		operation = "UPDATE";
	else if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		operation = "DELETE";
	else
		operation = "TRUNCATE";
	audit_trigger = strcmp(operation, "TRUNCATE") == 0 ?
		AUDIT_TRUNCATE_TRIGGER : AUDIT_ROW_TRIGGER;
	if (rel->trigdesc != NULL)
	{
		for (int i = 0; i < rel->trigdesc->numtriggers; i++)
		{
			Trigger    *t = &rel->trigdesc->triggers[i];

			if (strcmp(t->tgname, audit_trigger) == 0 &&
				(t->tgenabled == TRIGGER_FIRES_ALWAYS ||
				 t->tgenabled == TRIGGER_FIRES_ON_REPLICA) &&
				our_trigger_kind(t->tgfoid) != NULL)
				audited = true;
		}
	}
	if (!audited)
		acctsec_security_event("audit.bypassed", NULL,
							   "table", qualified_table_name(RelationGetRelid(rel)),
							   "operation", operation,
							   "role", GetUserNameFromId(GetUserId(), false),
							   "session_replication_role", "replica",
							   NULL);
	return PointerGetDatum(NULL);
}
