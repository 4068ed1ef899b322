/*
 * relation_util.c
 *		Relations, columns and triggers as the capabilities find, read and
 *		attach them (relation_util.h): the columns of acctsec's own tables
 *		by name, an application's table opened for its owner, the triggers
 *		acctsec attaches to it and the checks of a trigger's call, and the
 *		caches of facts about relations.
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/xact.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_class.h"
#include "catalog/pg_trigger.h"
#include "commands/event_trigger.h"
#include "commands/trigger.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_relation.h"
#include "utils/acl.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/varlena.h"

#include "compat.h"
#include "relation_util.h"

Oid
acctsec_rel_owner(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return owner;
}

AttrNumber
acctsec_attnum(Relation rel, const char *attname)
{
	AttrNumber	attnum = attnameAttNum(rel, attname, false);

	if (attnum == InvalidAttrNumber)
		elog(ERROR, "%s has no column \"%s\"",
			 RelationGetRelationName(rel), attname);
	return attnum;
}

/* every column list known, for the relcache callback */
static AcctsecColumns *column_lists = NULL;

static void
columns_relcache_callback(Datum arg, Oid relid)
{
	for (AcctsecColumns *c = column_lists; c != NULL; c = c->next)
		if (!OidIsValid(relid) || relid == c->relid)
			c->relid = InvalidOid;
}

const AttrNumber *
acctsec_columns(AcctsecColumns *c, Relation rel)
{
	char	   *names;
	List	   *list;
	int			n = 0;
	ListCell   *lc;

	if (c->relid == RelationGetRelid(rel))
		return c->attnums;
	if (column_lists == NULL)
		CacheRegisterRelcacheCallback(columns_relcache_callback, (Datum) 0);
	if (!c->registered)
	{
		c->next = column_lists;
		column_lists = c;
		c->registered = true;
	}
	names = pstrdup(c->names);
	if (!SplitIdentifierString(names, ',', &list) ||
		list_length(list) != c->ncolumns || c->ncolumns > ACCTSEC_MAX_COLUMNS)
		elog(ERROR, "the columns read of %s are not %d names: %s",
			 RelationGetRelationName(rel), c->ncolumns, c->names);
	foreach(lc, list)
		c->attnums[n++] = acctsec_attnum(rel, (const char *) lfirst(lc));
	list_free(list);
	pfree(names);
	c->relid = RelationGetRelid(rel);	/* only once every number is found */
	return c->attnums;
}

Datum
acctsec_slot_value(TupleTableSlot *slot, AttrNumber attnum, bool *isnull)
{
	Datum		value = slot_getattr(slot, attnum, isnull);
	Form_pg_attribute att = TupleDescAttr(slot->tts_tupleDescriptor, attnum - 1);

	return *isnull ? value : datumCopy(value, att->attbyval, att->attlen);
}

TimestampTz
acctsec_timestamp_value(Datum value, bool isnull)
{
	return isnull ? DT_NOBEGIN : DatumGetTimestampTz(value);
}

/*
 * A regclass may name no relation (an OID).  Ownership is checked before
 * the lock is requested, as RangeVarGetRelidExtended()'s callbacks do, so
 * that a role that may call the function but does not own the table cannot
 * queue a lock on it (behind which every other user of the table would
 * wait); it is checked again once locked, in case the owner changed.
 */
Relation
acctsec_open_owned_table(Oid relid, LOCKMODE lockmode, const char *caller)
{
	Relation	rel;
	char		relkind = get_rel_relkind(relid);
	char	   *relname = get_rel_name(relid);

	if (relkind == '\0' || relname == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	if (!object_ownercheck(RelationRelationId, relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, get_relkind_objtype(relkind),
					   relname);

	rel = try_relation_open(relid, lockmode);
	if (rel == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	if (rel->rd_rel->relkind != RELKIND_RELATION &&
		rel->rd_rel->relkind != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a table", RelationGetRelationName(rel)),
				 caller ? errdetail("acctsec.%s works on tables and partitioned tables.",
									caller) : 0));
	if (!object_ownercheck(RelationRelationId, relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER,
					   get_relkind_objtype(rel->rd_rel->relkind),
					   RelationGetRelationName(rel));
	return rel;
}

Relation
acctsec_try_open_owned(Oid relid, LOCKMODE lockmode)
{
	/* not even a lock on a relation the caller does not own */
	if (!OidIsValid(relid) ||
		!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid)) ||
		!object_ownercheck(RelationRelationId, relid, GetUserId()))
		return NULL;
	return try_relation_open(relid, lockmode);
}

void
acctsec_create_trigger(Relation rel, const char *name, const char *func,
					   List *args, bool row, int16 timing, int16 events,
					   bool replace, char fires_on, const char *query)
{
	CreateTrigStmt *stmt = makeNode(CreateTrigStmt);

	stmt->replace = replace;
	stmt->isconstraint = false;
	stmt->trigname = pstrdup(name);
	stmt->relation = makeRangeVar(get_namespace_name(RelationGetNamespace(rel)),
								  pstrdup(RelationGetRelationName(rel)), -1);
	stmt->funcname = list_make2(makeString("acctsec"), makeString(pstrdup(func)));
	stmt->args = args;
	stmt->row = row;
	stmt->timing = timing;
	stmt->events = events;
	stmt->columns = NIL;
	stmt->whenClause = NULL;
	stmt->transitionRels = NIL;
	stmt->deferrable = false;
	stmt->initdeferred = false;
	stmt->constrrel = NULL;
	(void) CreateTriggerFiringOn(stmt, query, RelationGetRelid(rel),
								 InvalidOid, InvalidOid, InvalidOid, InvalidOid,
								 InvalidOid, NULL, false, false, fires_on);
	CommandCounterIncrement();
}

void
acctsec_check_trigger(FunctionCallInfo fcinfo, const char *func, bool event)
{
	if (event ? !CALLED_AS_EVENT_TRIGGER(fcinfo) : !CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 event ? errmsg("%s must be called as an event trigger", func) :
				 errmsg("%s must be called as a trigger", func)));
}

bool
acctsec_trigger_fired(FunctionCallInfo fcinfo, bool row, int16 timing,
					  int16 events)
{
	TriggerEvent ev;
	int16		fired_timing;
	int16		fired_by;

	if (!CALLED_AS_TRIGGER(fcinfo))
		return false;
	ev = ((TriggerData *) fcinfo->context)->tg_event;
	if (TRIGGER_FIRED_BEFORE(ev))
		fired_timing = TRIGGER_TYPE_BEFORE;
	else if (TRIGGER_FIRED_AFTER(ev))
		fired_timing = TRIGGER_TYPE_AFTER;
	else
		fired_timing = TRIGGER_TYPE_INSTEAD;
	if (TRIGGER_FIRED_BY_INSERT(ev))
		fired_by = TRIGGER_TYPE_INSERT;
	else if (TRIGGER_FIRED_BY_DELETE(ev))
		fired_by = TRIGGER_TYPE_DELETE;
	else if (TRIGGER_FIRED_BY_UPDATE(ev))
		fired_by = TRIGGER_TYPE_UPDATE;
	else
		fired_by = TRIGGER_TYPE_TRUNCATE;
	return (TRIGGER_FIRED_FOR_ROW(ev) != 0) == row &&
		fired_timing == timing && (fired_by & events) != 0;
}

HTAB *
acctsec_relation_cache(const char *name, Size keysize, Size entrysize,
					   RelcacheCallbackFunction callback)
{
	HASHCTL		ctl;
	HTAB	   *htab;

	ctl.keysize = keysize;
	ctl.entrysize = entrysize;
	htab = hash_create(name, 64, &ctl, HASH_ELEM | HASH_BLOBS);
	CacheRegisterRelcacheCallback(callback, (Datum) 0);
	return htab;
}
