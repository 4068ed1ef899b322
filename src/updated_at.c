/*
 * updated_at.c
 *		A "last modified" column kept right for every writer (docs/updated_at.md).
 *
 * acctsec.set_updated_at() is a BEFORE INSERT OR UPDATE row trigger.  On
 * INSERT it fills the column when it is NULL; on UPDATE it sets it to the
 * transaction's timestamp (what now() returns) unless the statement itself
 * put a different non-NULL value there.  The value is rounded to the
 * column's declared precision exactly as now()::timestamp(3) would be.
 *
 * A timestamp without time zone column gets the transaction's time in UTC,
 * what Rails, Prisma, Drizzle and Django (USE_TZ) store and read back there;
 * acctsec.updated_at_zone = 'local' gives the session's local time instead,
 * PostgreSQL's own meaning of now()::timestamp.  While
 * acctsec.touch_updated_at is off (SET LOCAL, for one transaction) the row
 * is left as the statement wrote it: the "don't touch" writes of Rails'
 * update_columns and save(touch: false).
 *
 * The column's number, type and typmod are resolved once per relation and
 * trigger and kept in a backend-local hash, dropped on relcache invalidation
 * of that relation (any ALTER TABLE, CREATE/DROP TRIGGER sends one) and when
 * acctsec.updated_at_columns changes.  The value itself is computed once per
 * transaction (and time zone) per cache entry, so a row costs a hash probe,
 * two attribute fetches and the tuple rebuild.
 *
 * Attachment: acctsec.track_updated_at()/untrack_updated_at() for explicit
 * choices, and an event trigger (ddl_command_end) that attaches the trigger
 * to tables created or altered with one of the configured columns, and
 * detaches one whose column was dropped, renamed away or retyped, so that
 * writes never start failing after a migration.  The trigger is always
 * created with the column name as its argument, so a later change of
 * acctsec.updated_at_columns does not change what an existing trigger does.
 * A second event trigger (ddl_command_start) makes way before ATTACH
 * PARTITION and before a CREATE TRIGGER of our trigger's name (a restored
 * dump), and a row trigger on acctsec.updated_at_optout detaches the trigger
 * from a table whose opt-out is recorded (also by a restore).
 *
 * Privileges: the SQL functions here are SECURITY INVOKER on purpose.  They
 * check that the calling role owns the table (as ALTER TABLE would), then act
 * through acctsec_become_role as the least privileged role that can do each
 * step: the table's owner creates or drops the trigger named
 * ACCTSEC_UPDATED_AT_TRIGGER (so CREATE TRIGGER checks the TRIGGER privilege
 * on the table and on every partition it is cloned to, as for the owner's own
 * statement), and the owner of acctsec.updated_at_optout (the extension's
 * owner) reads and writes the opt-out list.  Never a superuser on the
 * caller's behalf.  A SECURITY DEFINER function could not see the caller's
 * role to make the ownership check.
 */
#include "postgres.h"

#include <ctype.h>

#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "catalog/catalog.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_class.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/event_trigger.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "pgtime.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "events.h"
#include "relation_util.h"
#include "spi_util.h"
#include "updated_at.h"

PG_FUNCTION_INFO_V1(acctsec_set_updated_at);
PG_FUNCTION_INFO_V1(acctsec_track_updated_at);
PG_FUNCTION_INFO_V1(acctsec_untrack_updated_at);
PG_FUNCTION_INFO_V1(acctsec_updated_at_ddl);
PG_FUNCTION_INFO_V1(acctsec_updated_at_optout_added);

/* The one name acctsec gives the trigger it attaches (documented). */
#define ACCTSEC_UPDATED_AT_TRIGGER	"acctsec_updated_at"

/* Settings */
static char *updated_at_columns_setting = NULL;
static bool auto_updated_at = true;
static bool touch_updated_at = true;

typedef enum UpdatedAtZone
{
	UPDATED_AT_ZONE_UTC,
	UPDATED_AT_ZONE_LOCAL
} UpdatedAtZone;

static const struct config_enum_entry updated_at_zone_options[] = {
	{"utc", UPDATED_AT_ZONE_UTC, false},
	{"local", UPDATED_AT_ZONE_LOCAL, false},
	{NULL, 0, false}
};

static int	updated_at_zone = UPDATED_AT_ZONE_UTC;

/* Bumped whenever acctsec.updated_at_columns changes; see column_names(). */
static uint64 columns_generation = 1;
static uint64 parsed_generation = 0;
static List *parsed_columns = NIL;	/* of char *, in TopMemoryContext */

/* Per relation and trigger: where the column is and what it is. */
typedef struct UpdatedAtKey
{
	Oid			relid;
	Oid			tgoid;
} UpdatedAtKey;

typedef struct UpdatedAtEntry
{
	UpdatedAtKey key;			/* hash key: must be first */
	uint64		generation;		/* columns_generation when resolved */
	AttrNumber	attnum;
	Oid			typid;			/* TIMESTAMPOID or TIMESTAMPTZOID */
	int32		typmod;
	/* the value for the current transaction, once computed */
	bool		have_value;
	TimestampTz value_xact_start;
	pg_tz	   *value_tz;		/* NULL: UTC */
	Timestamp	value;
} UpdatedAtEntry;

static HTAB *updated_at_cache = NULL;

/* ---------------------------------------------------------------------------
 * Settings
 * ---------------------------------------------------------------------------
 */

/*
 * Parse a comma-separated list of column names.  Names are taken exactly as
 * written (case matters: "updatedAt" is not "updatedat"), surrounding blanks
 * removed.  Returns false on an empty or over-long name.
 */
static bool
parse_column_list(const char *value, List **names)
{
	const char *p = value;

	*names = NIL;
	while (isspace((unsigned char) *p))
		p++;
	if (*p == '\0')
		return true;			/* the empty list: no default columns */

	for (;;)
	{
		const char *start;
		const char *end;
		size_t		len;

		while (isspace((unsigned char) *p))
			p++;
		start = p;
		while (*p != '\0' && *p != ',')
			p++;
		end = p;
		while (end > start && isspace((unsigned char) end[-1]))
			end--;
		len = end - start;
		if (len == 0 || len >= NAMEDATALEN)
			return false;
		*names = lappend(*names, pnstrdup(start, len));
		if (*p == '\0')
			break;
		p++;					/* past the comma */
	}
	return true;
}

static bool
check_updated_at_columns(char **newval, void **extra, GucSource source)
{
	List	   *names;

	if (!parse_column_list(*newval, &names))
	{
		GUC_check_errdetail("Each comma-separated column name must be non-empty and shorter than %d bytes.",
							NAMEDATALEN);
		return false;
	}
	list_free_deep(names);
	return true;
}

static void
assign_updated_at_columns(const char *newval, void *extra)
{
	columns_generation++;
}

/* The configured names, parsed once per change of the setting. */
static List *
column_names(void)
{
	if (parsed_generation != columns_generation)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
		List	   *names;

		if (!parse_column_list(updated_at_columns_setting ? updated_at_columns_setting : "",
							   &names))
			names = NIL;		/* cannot happen: the check hook refused it */
		MemoryContextSwitchTo(old);
		list_free_deep(parsed_columns);
		parsed_columns = names;
		parsed_generation = columns_generation;
	}
	return parsed_columns;
}

void
acctsec_define_updated_at_gucs(void)
{
	DefineCustomStringVariable("acctsec.updated_at_columns",
							   "Column names that mean \"last modified\", comma-separated, in order of preference.",
							   "Used by acctsec.set_updated_at() without an argument and by automatic attachment. Case-sensitive.",
							   &updated_at_columns_setting,
							   "updated_at, updatedAt",
							   PGC_SUSET,
							   0,
							   check_updated_at_columns,
							   assign_updated_at_columns,
							   NULL);
	DefineCustomBoolVariable("acctsec.auto_updated_at",
							 "Attaches acctsec.set_updated_at() to tables created or altered with an updated_at column.",
							 NULL,
							 &auto_updated_at,
							 true,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	/*
	 * Both are PGC_USERSET.  Neither lets a role do anything it could not do
	 * already: any role that may write a row may write its updated_at column
	 * itself, with any value, and the trigger keeps an explicit value.  The
	 * zone is a convention of the application, like TimeZone (also
	 * PGC_USERSET), whose meaning 'local' follows: an application that stores
	 * local time (Rails' default_timezone = :local) sets it in its connection
	 * options, a DBA for everyone with ALTER DATABASE ... SET.
	 * touch_updated_at is meant for SET LOCAL from the application's own
	 * "don't touch" writes, which PGC_SUSET would forbid.
	 */
	DefineCustomEnumVariable("acctsec.updated_at_zone",
							 "What a timestamp without time zone updated_at column is given: the time in UTC or in the session's time zone.",
							 "utc is what Rails, Prisma, Drizzle and Django store in such a column; local is PostgreSQL's now()::timestamp.",
							 &updated_at_zone,
							 UPDATED_AT_ZONE_UTC,
							 updated_at_zone_options,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
	DefineCustomBoolVariable("acctsec.touch_updated_at",
							 "Whether acctsec.set_updated_at() sets the column; off leaves rows as statements write them.",
							 "Set it off with SET LOCAL for writes that must not count as modifications.",
							 &touch_updated_at,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
}

/* ---------------------------------------------------------------------------
 * Columns
 * ---------------------------------------------------------------------------
 */

/* The live, non-system column called exactly name, or NULL. */
static Form_pg_attribute
find_column(TupleDesc tupdesc, const char *name)
{
	for (int i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
			return att;
	}
	return NULL;
}

static bool
column_usable(Form_pg_attribute att)
{
	return (att->atttypid == TIMESTAMPTZOID || att->atttypid == TIMESTAMPOID) &&
		att->attgenerated == '\0';
}

/*
 * The first column of tupdesc named in acctsec.updated_at_columns, and (if
 * name is given) its configured name; NULL if none is there.  With
 * usable_only, columns of another type are passed over (attachment leaves
 * them alone); without, the first one present is the answer, usable or not.
 */
static Form_pg_attribute
first_configured_column(TupleDesc tupdesc, bool usable_only, const char **name)
{
	ListCell   *lc;

	foreach(lc, column_names())
	{
		Form_pg_attribute att = find_column(tupdesc, (const char *) lfirst(lc));

		if (att != NULL && (!usable_only || column_usable(att)))
		{
			if (name != NULL)
				*name = (const char *) lfirst(lc);
			return att;
		}
	}
	return NULL;
}

/*
 * The column a set_updated_at trigger names: its argument, or else the
 * first configured name present (its name in *name); NULL when there is no
 * such column, or the trigger passes more than one argument.
 */
static Form_pg_attribute
trigger_named_column(TupleDesc tupdesc, Trigger *trigger, const char **name)
{
	if (trigger->tgnargs == 1)
	{
		*name = trigger->tgargs[0];
		return find_column(tupdesc, *name);
	}
	if (trigger->tgnargs == 0)
		return first_configured_column(tupdesc, false, name);
	return NULL;
}

/*
 * The column a set_updated_at trigger on rel maintains: its argument, or
 * else the first configured name present.  Errors name table and column.
 */
static Form_pg_attribute
trigger_column(Relation rel, Trigger *trigger)
{
	const char *name = NULL;
	Form_pg_attribute att;

	if (trigger->tgnargs > 1)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("trigger \"%s\" on table \"%s\" passes %d arguments to acctsec.set_updated_at()",
						trigger->tgname, RelationGetRelationName(rel), trigger->tgnargs),
				 errhint("Pass at most one argument: the name of the column to maintain.")));

	att = trigger_named_column(RelationGetDescr(rel), trigger, &name);
	if (trigger->tgnargs == 0)
	{
		if (att == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("table \"%s\" has none of the columns named in acctsec.updated_at_columns",
							RelationGetRelationName(rel)),
					 errdetail("acctsec.updated_at_columns is \"%s\".",
							   updated_at_columns_setting ? updated_at_columns_setting : ""),
					 errhint("Name the column as the trigger's argument.")));
	}

	if (att == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of table \"%s\" does not exist",
						name, RelationGetRelationName(rel))));
	if (att->atttypid != TIMESTAMPTZOID && att->atttypid != TIMESTAMPOID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column \"%s\" of table \"%s\" is of type %s, not timestamp with or without time zone",
						name, RelationGetRelationName(rel),
						format_type_be(att->atttypid))));
	if (att->attgenerated != '\0')
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column \"%s\" of table \"%s\" is a generated column",
						name, RelationGetRelationName(rel))));
	return att;
}

/* ---------------------------------------------------------------------------
 * The per-relation cache
 * ---------------------------------------------------------------------------
 */

static void
updated_at_relcache_callback(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS status;
	UpdatedAtEntry *entry;

	if (updated_at_cache == NULL)
		return;
	hash_seq_init(&status, updated_at_cache);
	while ((entry = (UpdatedAtEntry *) hash_seq_search(&status)) != NULL)
	{
		if (relid == InvalidOid || entry->key.relid == relid)
			(void) hash_search(updated_at_cache, &entry->key, HASH_REMOVE, NULL);
	}
}

static UpdatedAtEntry *
cache_lookup(Relation rel, Trigger *trigger)
{
	UpdatedAtKey key;
	UpdatedAtEntry *entry;
	bool		found;
	Form_pg_attribute att;

	if (updated_at_cache == NULL)
		updated_at_cache = acctsec_relation_cache("acctsec updated_at columns",
												  sizeof(UpdatedAtKey),
												  sizeof(UpdatedAtEntry),
												  updated_at_relcache_callback);

	memset(&key, 0, sizeof(key));
	key.relid = RelationGetRelid(rel);
	key.tgoid = trigger->tgoid;
	entry = (UpdatedAtEntry *) hash_search(updated_at_cache, &key, HASH_FIND, NULL);
	if (entry != NULL && entry->generation == columns_generation)
		return entry;

	/* Resolve before entering, so an error leaves no half-made entry. */
	att = trigger_column(rel, trigger);

	entry = (UpdatedAtEntry *) hash_search(updated_at_cache, &key, HASH_ENTER, &found);
	entry->generation = columns_generation;
	entry->attnum = att->attnum;
	entry->typid = att->atttypid;
	entry->typmod = att->atttypmod;
	entry->have_value = false;
	return entry;
}

/*
 * now() as the column's type would store it, rounded to the declared
 * precision by the type's own typmod coercion.  For timestamp: the time in
 * UTC (the internal value of a timestamptz is UTC already, so it is taken as
 * it is, as now() AT TIME ZONE 'UTC' gives), or with acctsec.updated_at_zone
 * = 'local' the local time in the session's time zone (as timestamptz::
 * timestamp converts).
 */
static Datum
current_value(UpdatedAtEntry *entry)
{
	TimestampTz xact_start = GetCurrentTransactionStartTimestamp();
	pg_tz	   *tz = NULL;

	if (entry->typid == TIMESTAMPOID && updated_at_zone == UPDATED_AT_ZONE_LOCAL)
		tz = session_timezone;

	if (!entry->have_value || entry->value_xact_start != xact_start ||
		entry->value_tz != tz)
	{
		Timestamp	value = xact_start;

		if (tz != NULL)
		{
			struct pg_tm tm;
			fsec_t		fsec;
			int			tzoff;

			if (timestamp2tm(xact_start, &tzoff, &tm, &fsec, NULL, tz) != 0 ||
				tm2timestamp(&tm, fsec, NULL, &value) != 0)
				ereport(ERROR,
						(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
						 errmsg("timestamp out of range")));
		}
		acctsec_adjust_timestamp(&value, entry->typmod);

		entry->value = value;
		entry->value_xact_start = xact_start;
		entry->value_tz = tz;
		entry->have_value = true;
	}
	return TimestampGetDatum(entry->value);
}

/* ---------------------------------------------------------------------------
 * The trigger
 * ---------------------------------------------------------------------------
 */

/*
 * The row with the column set to value.  When the column is present and not
 * NULL in the tuple, its 8 bytes are overwritten in a copy (a memcpy and a
 * walk over the preceding attributes) instead of deforming and re-forming
 * the whole row as heap_modify_tuple_by_cols() does; the layout is the
 * same, as timestamp and timestamptz are fixed-width.
 */
static HeapTuple
tuple_with_value(HeapTuple tuple, TupleDesc tupdesc, int attnum, Datum value)
{
	HeapTupleHeader td = tuple->t_data;
	bool		replace_null = false;

	if (attnum <= HeapTupleHeaderGetNatts(td) &&
		!(HeapTupleHasNulls(tuple) && att_isnull(attnum - 1, td->t_bits)))
	{
		char	   *tp = (char *) td + td->t_hoff;
		bits8	   *bp = td->t_bits;
		bool		hasnulls = HeapTupleHasNulls(tuple);
		uint32		off = 0;
		HeapTuple	copy;

		for (int i = 0;; i++)
		{
			Form_pg_attribute att = TupleDescAttr(tupdesc, i);

			if (hasnulls && att_isnull(i, bp))
				continue;
			off = att_align_pointer(off, att->attalign, att->attlen, tp + off);
			if (i == attnum - 1)
				break;
			off = att_addlength_pointer(off, att->attlen, tp + off);
		}
		Assert(TupleDescAttr(tupdesc, attnum - 1)->attlen == sizeof(Timestamp));

		copy = heap_copytuple(tuple);
		store_att_byval((char *) copy->t_data + copy->t_data->t_hoff + off,
						value, sizeof(Timestamp));
		return copy;
	}
	return heap_modify_tuple_by_cols(tuple, tupdesc, 1, &attnum, &value,
									 &replace_null);
}

/*
 * The row set_updated_at() was called for, after checking it was called as
 * a BEFORE INSERT OR UPDATE row trigger.  Called once per row: inline.
 */
static inline HeapTuple
trigger_row(FunctionCallInfo fcinfo)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Relation	rel;

	acctsec_check_trigger(fcinfo, "acctsec.set_updated_at()", false);

	rel = trigdata->tg_relation;
	if (!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("trigger \"%s\" on table \"%s\" must be FOR EACH ROW",
						trigdata->tg_trigger->tgname, RelationGetRelationName(rel))));
	if (!TRIGGER_FIRED_BEFORE(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("trigger \"%s\" on table \"%s\" must fire BEFORE INSERT OR UPDATE",
						trigdata->tg_trigger->tgname, RelationGetRelationName(rel))));

	if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		return trigdata->tg_trigtuple;
	if (!TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("trigger \"%s\" on table \"%s\" must fire BEFORE INSERT OR UPDATE",
						trigdata->tg_trigger->tgname, RelationGetRelationName(rel))));
	return trigdata->tg_newtuple;
}

Datum
acctsec_set_updated_at(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Relation	rel;
	TupleDesc	tupdesc;
	HeapTuple	tuple;
	UpdatedAtEntry *entry;
	Datum		value;
	bool		isnull;

	tuple = trigger_row(fcinfo);
	rel = trigdata->tg_relation;
	entry = cache_lookup(rel, trigdata->tg_trigger);
	tupdesc = RelationGetDescr(rel);

	/*
	 * "Don't touch": the row as the statement wrote it.  Checked after the
	 * calling context and the column, so misuse is an error whatever the
	 * switch says.
	 */
	if (!touch_updated_at)
		return PointerGetDatum(tuple);

	value = heap_getattr(tuple, entry->attnum, tupdesc, &isnull);
	if (!isnull)
	{
		/* INSERT: an explicit value is kept. */
		if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
			return PointerGetDatum(tuple);
		else
		{
			/* UPDATE: kept only if the statement changed it. */
			bool		oldnull;
			Datum		old = heap_getattr(trigdata->tg_trigtuple, entry->attnum,
										   tupdesc, &oldnull);

			if (oldnull || DatumGetTimestamp(old) != DatumGetTimestamp(value))
				return PointerGetDatum(tuple);
		}
	}

	return PointerGetDatum(tuple_with_value(tuple, tupdesc, entry->attnum,
											current_value(entry)));
}

/* ---------------------------------------------------------------------------
 * Attaching and detaching
 * ---------------------------------------------------------------------------
 */

/*
 * The opt-out list's statements, run as its owner (optout_owner), connected.
 */
static AcctsecPlan optout_find = {
	"SELECT 1 FROM acctsec.updated_at_optout WHERE tbl OPERATOR(pg_catalog.=) $1",
	ACCTSEC_PLAN_ARGS(REGCLASSOID), SPI_OK_SELECT, NULL
};
static AcctsecPlan optout_add = {
	"INSERT INTO acctsec.updated_at_optout (tbl) VALUES ($1) ON CONFLICT (tbl) DO NOTHING",
	ACCTSEC_PLAN_ARGS(REGCLASSOID), SPI_OK_INSERT, NULL
};
static AcctsecPlan optout_remove = {
	"DELETE FROM acctsec.updated_at_optout WHERE tbl OPERATOR(pg_catalog.=) $1",
	ACCTSEC_PLAN_ARGS(REGCLASSOID), SPI_OK_DELETE, NULL
};
static AcctsecPlan optout_forget_dropped = {
	"DELETE FROM acctsec.updated_at_optout o WHERE NOT EXISTS"
	" (SELECT FROM pg_catalog.pg_class c"
	"  WHERE c.oid OPERATOR(pg_catalog.=) o.tbl::pg_catalog.oid)",
	0, {InvalidOid}, SPI_OK_DELETE, NULL
};

/* The tables the current DDL command created or altered (event trigger). */
static AcctsecPlan ddl_tables = {
	"SELECT DISTINCT objid FROM pg_catalog.pg_event_trigger_ddl_commands()"
	" WHERE classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass",
	0, {InvalidOid}, SPI_OK_SELECT, NULL
};

/*
 * The owner of acctsec.updated_at_optout: the extension's owner, unless
 * REASSIGN OWNED moved it.  Looked up at each use (DDL, not a hot path), so
 * a dropped and re-created extension is never acted for with a stale role.
 */
static Oid
optout_owner(void)
{
	Oid			relid = get_relname_relid("updated_at_optout",
										  get_namespace_oid("acctsec", false));
	HeapTuple	tup;
	Oid			owner;

	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "acctsec.updated_at_optout does not exist");
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return owner;
}

/*
 * What we need to know of our trigger on a table, copied out of the relcache
 * entry, whose trigger list may be rebuilt under us by the next command
 * counter increment.
 */
typedef struct OurTrigger
{
	bool		exists;
	bool		name_taken;		/* a trigger of our name calls something else */
	Oid			tgoid;
	bool		isclone;		/* inherited from a partitioned table */
	Form_pg_attribute column;	/* still usable column it maintains, or NULL */
	char	   *argument;		/* its column argument, or NULL */
} OurTrigger;

static Form_pg_attribute trigger_column_if_usable(Relation rel, Trigger *trigger);

static Oid
set_updated_at_oid(void)
{
	return LookupFuncName(list_make2(makeString("acctsec"),
									 makeString("set_updated_at")),
						  0, NULL, false);
}

/* Ours: the trigger of our name that calls set_updated_at(). */
static void
our_trigger(Relation rel, OurTrigger *ours)
{
	TriggerDesc *trigdesc = rel->trigdesc;
	Oid			funcoid;

	memset(ours, 0, sizeof(*ours));
	if (trigdesc == NULL)
		return;
	funcoid = set_updated_at_oid();
	for (int i = 0; i < trigdesc->numtriggers; i++)
	{
		Trigger    *trigger = &trigdesc->triggers[i];

		if (strcmp(trigger->tgname, ACCTSEC_UPDATED_AT_TRIGGER) == 0 &&
			trigger->tgfoid == funcoid)
		{
			ours->exists = true;
			ours->tgoid = trigger->tgoid;
			ours->isclone = trigger->tgisclone;
			ours->column = trigger_column_if_usable(rel, trigger);
			if (trigger->tgnargs == 1)
				ours->argument = pstrdup(trigger->tgargs[0]);
			return;
		}
		if (strcmp(trigger->tgname, ACCTSEC_UPDATED_AT_TRIGGER) == 0)
			ours->name_taken = true;
	}
}

/* Does our trigger maintain exactly this column, by name? */
static bool
our_trigger_maintains(OurTrigger *ours, const char *column)
{
	return ours->exists && ours->argument != NULL &&
		strcmp(ours->argument, column) == 0;
}

/* Does any other trigger on rel already call set_updated_at()? */
static bool
has_other_updated_at_trigger(Relation rel, Oid funcoid)
{
	TriggerDesc *trigdesc = rel->trigdesc;

	if (trigdesc == NULL)
		return false;
	for (int i = 0; i < trigdesc->numtriggers; i++)
	{
		if (trigdesc->triggers[i].tgfoid == funcoid &&
			strcmp(trigdesc->triggers[i].tgname, ACCTSEC_UPDATED_AT_TRIGGER) != 0)
			return true;
	}
	return false;
}

/*
 * The column our trigger maintains, if it still exists with a usable type;
 * NULL otherwise (dropped, renamed away, retyped).  Never errors.
 */
static Form_pg_attribute
trigger_column_if_usable(Relation rel, Trigger *trigger)
{
	const char *name;
	Form_pg_attribute att = trigger_named_column(RelationGetDescr(rel),
												 trigger, &name);

	return (att != NULL && column_usable(att)) ? att : NULL;
}

/* As the table's owner (change_our_trigger). */
static void
create_our_trigger(Relation rel, const char *column)
{
	acctsec_create_trigger(rel, ACCTSEC_UPDATED_AT_TRIGGER, "set_updated_at",
						   list_make1(makeString(pstrdup(column))), true,
						   TRIGGER_TYPE_BEFORE,
						   TRIGGER_TYPE_INSERT | TRIGGER_TYPE_UPDATE, false,
						   TRIGGER_FIRES_ON_ORIGIN,
						   "-- acctsec: attach set_updated_at");
}

/* As the table's owner (change_our_trigger).  Partition clones go with the parent's. */
static void
drop_our_trigger(OurTrigger *ours)
{
	ObjectAddress addr;

	ObjectAddressSet(addr, TriggerRelationId, ours->tgoid);
	performDeletion(&addr, DROP_RESTRICT, PERFORM_DELETION_INTERNAL);
	CommandCounterIncrement();
}

/*
 * Is relid on the opt-out list?  Connected; reads as the list's owner, which
 * PUBLIC cannot.
 */
static bool
is_opted_out(Oid relid)
{
	Datum		args[1] = {ObjectIdGetDatum(relid)};
	AcctsecRoleSwitch sw;
	uint64		n;

	acctsec_become_role(optout_owner(), &sw);
	n = acctsec_plan_run(&optout_find, args, NULL, true, 1);
	acctsec_restore_role(&sw);
	return n > 0;
}

/*
 * Put relid on the opt-out list or take it off, as the list's owner;
 * connected.  A row added fires updated_at_optout_added(), which drops our
 * trigger from the table.
 */
static void
set_opted_out(Oid relid, bool opted_out)
{
	Datum		args[1] = {ObjectIdGetDatum(relid)};
	AcctsecRoleSwitch sw;

	acctsec_become_role(optout_owner(), &sw);
	(void) acctsec_plan_run(opted_out ? &optout_add : &optout_remove,
							args, NULL, false, 0);
	acctsec_restore_role(&sw);
}

/*
 * Our trigger DDL on rel, as the table's owner: drop the trigger in *drop if
 * given, then attach one maintaining column if given.  CREATE TRIGGER then
 * checks the TRIGGER privilege on the table and on each partition it is
 * cloned to, exactly as for the owner's own statement; DDL runs no code of
 * the table's.
 */
static void
change_our_trigger(Relation rel, OurTrigger *drop, const char *column)
{
	AcctsecRoleSwitch sw;

	acctsec_become_role(rel->rd_rel->relowner, &sw);
	if (drop != NULL)
		drop_our_trigger(drop);
	if (column != NULL)
		create_our_trigger(rel, column);
	acctsec_restore_role(&sw);
}


/*
 * The table argument of track_updated_at() and untrack_updated_at(), which
 * PUBLIC may call: it must not be NULL and the calling role must own it;
 * opened and locked (AccessExclusiveLock, as our trigger DDL needs).
 */
static Relation
table_arg(FunctionCallInfo fcinfo, const char *caller)
{
	/* before any lock: a standby would refuse the lock with a stranger error */
	PreventCommandIfReadOnly(caller);
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("table must not be NULL")));
	return acctsec_open_owned_table(PG_GETARG_OID(0), AccessExclusiveLock,
									caller);
}

static void
refuse_inherited(Relation rel, OurTrigger *ours, const char *what)
{
	if (ours->exists && ours->isclone)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot %s partition \"%s\": its trigger \"%s\" belongs to its partitioned table",
						what, RelationGetRelationName(rel), ACCTSEC_UPDATED_AT_TRIGGER),
				 errhint("Call it on the partitioned table.")));
}

/*
 * The column track_updated_at() is to maintain on rel: the one named, which
 * must exist with a usable type, or (name NULL) the first configured one.
 */
static Form_pg_attribute
column_to_track(Relation rel, const char *name)
{
	Form_pg_attribute att;

	if (name == NULL)
	{
		att = first_configured_column(RelationGetDescr(rel), true, NULL);
		if (att == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("table \"%s\" has no timestamp column named in acctsec.updated_at_columns",
							RelationGetRelationName(rel)),
					 errdetail("acctsec.updated_at_columns is \"%s\".",
							   updated_at_columns_setting ? updated_at_columns_setting : ""),
					 errhint("Pass the column name as the second argument.")));
		return att;
	}

	att = find_column(RelationGetDescr(rel), name);
	if (att == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of table \"%s\" does not exist",
						name, RelationGetRelationName(rel))));
	if (!column_usable(att))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column \"%s\" of table \"%s\" is of type %s, not timestamp with or without time zone",
						name, RelationGetRelationName(rel),
						format_type_be(att->atttypid)),
				 att->attgenerated != '\0' ?
				 errdetail("It is a generated column.") : 0));
	return att;
}

/*
 * acctsec.track_updated_at(tbl regclass, column_name name DEFAULT NULL)
 * Attaches the trigger for the column (or the first configured one of a
 * timestamp type), replacing ours if it maintained another column, and
 * clears an opt-out.  Idempotent.  The caller must own the table.
 */
Datum
acctsec_track_updated_at(PG_FUNCTION_ARGS)
{
	Relation	rel = table_arg(fcinfo, "track_updated_at()");
	Oid			relid = RelationGetRelid(rel);
	OurTrigger	ours;
	const char *column;

	column = pstrdup(NameStr(column_to_track(rel, PG_ARGISNULL(1) ? NULL :
											 NameStr(*PG_GETARG_NAME(1)))->attname));

	our_trigger(rel, &ours);
	if (!our_trigger_maintains(&ours, column))
		refuse_inherited(rel, &ours, "track");
	if (ours.name_taken)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("table \"%s\" already has a trigger named \"%s\" that does not call acctsec.set_updated_at()",
						RelationGetRelationName(rel), ACCTSEC_UPDATED_AT_TRIGGER)));

	acctsec_spi_connect();
	set_opted_out(relid, false);
	acctsec_spi_finish();
	if (!our_trigger_maintains(&ours, column))
		change_our_trigger(rel, ours.exists ? &ours : NULL, column);

	relation_close(rel, NoLock);
	PG_RETURN_VOID();
}

/*
 * acctsec.untrack_updated_at(tbl regclass)
 * Removes our trigger and records the opt-out, so automatic attachment never
 * puts it back.  Idempotent.  The caller must own the table.
 */
Datum
acctsec_untrack_updated_at(PG_FUNCTION_ARGS)
{
	Relation	rel = table_arg(fcinfo, "untrack_updated_at()");
	Oid			relid = RelationGetRelid(rel);
	OurTrigger	ours;

	our_trigger(rel, &ours);
	refuse_inherited(rel, &ours, "untrack");

	/*
	 * A new row's trigger, acctsec_updated_at_optout_added(), drops ours; if
	 * the row was there already, drop it here.
	 */
	acctsec_spi_connect();
	set_opted_out(relid, true);
	acctsec_spi_finish();
	our_trigger(rel, &ours);
	if (ours.exists)
		change_our_trigger(rel, &ours, NULL);

	/* switching the trigger off is a security event (docs/security.md) */
	acctsec_security_event("updated_at.untracked", NULL,
						   "table", quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
															   RelationGetRelationName(rel)),
						   "role", GetUserNameFromId(GetUserId(), false),
						   NULL);
	relation_close(rel, NoLock);
	PG_RETURN_VOID();
}

/* ---------------------------------------------------------------------------
 * The event trigger
 * ---------------------------------------------------------------------------
 */

static bool
in_system_schema(Oid nspid)
{
	return IsCatalogNamespace(nspid) || IsToastNamespace(nspid) ||
		nspid == get_namespace_oid("information_schema", true);
}

/*
 * Bring one table created or altered by the current command in line:
 * detach our trigger if its column is gone, attach it if a configured
 * column is there and automatic attachment is on.  Called connected to SPI.
 */
static void
reconcile_table(Oid relid, Oid funcoid)
{
	Relation	rel;
	OurTrigger	ours;
	bool		drop = false;
	const char *column = NULL;

	rel = try_relation_open(relid, AccessShareLock);
	if (rel == NULL)
		return;					/* dropped again by the same command */
	if ((rel->rd_rel->relkind != RELKIND_RELATION &&
		 rel->rd_rel->relkind != RELKIND_PARTITIONED_TABLE) ||
		rel->rd_rel->relispartition ||	/* inherits the parent's trigger */
		in_system_schema(RelationGetNamespace(rel)) ||
		!object_ownercheck(RelationRelationId, relid, GetUserId()) ||
		is_opted_out(relid))
	{
		relation_close(rel, AccessShareLock);
		return;
	}

	our_trigger(rel, &ours);
	if (ours.exists && !ours.isclone && ours.column == NULL)
	{
		ereport(NOTICE,
				(errmsg("trigger \"%s\" dropped from table \"%s\": column \"%s\" is gone or no longer a timestamp",
						ACCTSEC_UPDATED_AT_TRIGGER, RelationGetRelationName(rel),
						ours.argument ? ours.argument : "(default)")));
		drop = true;
	}

	if ((drop || !ours.exists) && !ours.name_taken && auto_updated_at &&
		!has_other_updated_at_trigger(rel, funcoid))
	{
		Form_pg_attribute att = first_configured_column(RelationGetDescr(rel), true, NULL);

		if (att != NULL)
			column = pstrdup(NameStr(att->attname));
	}
	if (drop || column != NULL)
		change_our_trigger(rel, drop ? &ours : NULL, column);
	relation_close(rel, AccessShareLock);
}

/*
 * Drop our own (not inherited) trigger from relid, if it has one, when the
 * calling role owns the table.  For ddl_command_start: a command is about to
 * put another one in its place.
 */
static void
make_way_for(Oid relid, LOCKMODE lockmode)
{
	Relation	rel = acctsec_try_open_owned(relid, lockmode);
	OurTrigger	ours;

	if (rel == NULL)
		return;
	our_trigger(rel, &ours);
	if (ours.exists && !ours.isclone)
		change_our_trigger(rel, &ours, NULL);
	relation_close(rel, NoLock);
}

/*
 * ddl_command_start: two commands would fail on a trigger we attached.
 * ALTER TABLE ... ATTACH PARTITION clones the parent's trigger to the new
 * partition, which must not already have one of that name; and CREATE
 * TRIGGER acctsec_updated_at (as a restored dump issues after CREATE TABLE
 * attached ours) replaces ours.
 */
static void
updated_at_ddl_start(Node *parsetree)
{
	if (IsA(parsetree, AlterTableStmt))
	{
		AlterTableStmt *stmt = (AlterTableStmt *) parsetree;
		ListCell   *lc;

		foreach(lc, stmt->cmds)
		{
			AlterTableCmd *cmd = (AlterTableCmd *) lfirst(lc);
			Oid			parentid;
			Relation	parent;
			OurTrigger	parents;

			if (cmd->subtype != AT_AttachPartition || stmt->relation == NULL)
				continue;
			parentid = RangeVarGetRelid(stmt->relation, NoLock, true);
			/* the lock ATTACH PARTITION takes on the parent */
			parent = acctsec_try_open_owned(parentid, ShareUpdateExclusiveLock);
			if (parent == NULL)
				continue;
			our_trigger(parent, &parents);
			relation_close(parent, NoLock);
			if (parents.exists)
				make_way_for(RangeVarGetRelid(((PartitionCmd *) cmd->def)->name,
											  NoLock, true),
							 AccessExclusiveLock);
		}
	}
	else if (IsA(parsetree, CreateTrigStmt))
	{
		CreateTrigStmt *stmt = (CreateTrigStmt *) parsetree;

		if (stmt->trigname != NULL && stmt->relation != NULL && !stmt->replace &&
			strcmp(stmt->trigname, ACCTSEC_UPDATED_AT_TRIGGER) == 0)
			make_way_for(RangeVarGetRelid(stmt->relation, NoLock, true),
						 AccessExclusiveLock);
	}
}

/* Partitions a DETACH PARTITION command released (they lost the clone). */
static List *
detached_partitions(Node *parsetree, List *relids)
{
	AlterTableStmt *stmt;
	ListCell   *lc;

	if (parsetree == NULL || !IsA(parsetree, AlterTableStmt))
		return relids;
	stmt = (AlterTableStmt *) parsetree;
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = (AlterTableCmd *) lfirst(lc);

		if (cmd->subtype == AT_DetachPartition ||
			cmd->subtype == AT_DetachPartitionFinalize)
		{
			Oid			relid = RangeVarGetRelid(((PartitionCmd *) cmd->def)->name,
												 NoLock, true);

			if (OidIsValid(relid))
				relids = list_append_unique_oid(relids, relid);
		}
	}
	return relids;
}

/*
 * Forget opt-outs of tables that no longer exist (so an OID reused later is
 * not opted out), as the list's owner; connected.
 */
static void
forget_dropped_tables(void)
{
	AcctsecRoleSwitch sw;

	acctsec_become_role(optout_owner(), &sw);
	(void) acctsec_plan_run(&optout_forget_dropped, NULL, NULL, false, 0);
	acctsec_restore_role(&sw);
}

Datum
acctsec_updated_at_ddl(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata;
	List	   *relids = NIL;
	ListCell   *lc;
	Oid			funcoid;
	uint64		n;

	acctsec_check_trigger(fcinfo, "acctsec.updated_at_ddl()", true);
	trigdata = (EventTriggerData *) fcinfo->context;

	/*
	 * Other extensions' install and update scripts are theirs; pg_upgrade
	 * restores the triggers as they were.
	 */
	if (creating_extension || IsBinaryUpgrade)
		PG_RETURN_VOID();

	if (strcmp(trigdata->event, "ddl_command_start") == 0)
	{
		updated_at_ddl_start(trigdata->parsetree);
		PG_RETURN_VOID();
	}

	acctsec_spi_connect();
	switch (trigdata->tag)
	{
		case CMDTAG_DROP_TABLE:
		case CMDTAG_DROP_SCHEMA:
		case CMDTAG_DROP_OWNED:
			forget_dropped_tables();
			break;
		default:
			n = acctsec_plan_run(&ddl_tables, NULL, NULL, true, 0);
			for (uint64 i = 0; i < n; i++)
			{
				bool		isnull;
				Datum		d = SPI_getbinval(SPI_tuptable->vals[i],
											  SPI_tuptable->tupdesc, 1, &isnull);

				if (!isnull)
					relids = lappend_oid(relids, DatumGetObjectId(d));
			}
			relids = detached_partitions(trigdata->parsetree, relids);
			if (relids == NIL)
				break;
			funcoid = set_updated_at_oid();
			foreach(lc, relids)
				reconcile_table(lfirst_oid(lc), funcoid);
			break;
	}
	acctsec_spi_finish();
	PG_RETURN_VOID();
}

/*
 * AFTER INSERT trigger on acctsec.updated_at_optout: a table opted out loses
 * our trigger.  untrack_updated_at() inserts the row; so does restoring a
 * dump, whose CREATE TABLE had attached the trigger again before the row
 * came back.  Only acctsec's own code and superusers can insert there.
 */
Datum
acctsec_updated_at_optout_added(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Datum		tbl;
	bool		isnull;
	Relation	rel;
	OurTrigger	ours;

	if (!acctsec_trigger_fired(fcinfo, true, TRIGGER_TYPE_AFTER,
							   TRIGGER_TYPE_INSERT))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("acctsec.updated_at_optout_added() must be called as an AFTER INSERT row trigger")));

	tbl = heap_getattr(trigdata->tg_trigtuple, 1,
					   RelationGetDescr(trigdata->tg_relation), &isnull);
	if (isnull)
		return PointerGetDatum(NULL);
	rel = try_relation_open(DatumGetObjectId(tbl), AccessExclusiveLock);
	if (rel == NULL)
		return PointerGetDatum(NULL);
	our_trigger(rel, &ours);
	if (ours.exists && !ours.isclone)
		drop_our_trigger(&ours);
	relation_close(rel, NoLock);
	return PointerGetDatum(NULL);
}
