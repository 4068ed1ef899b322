/*
 * relation_util.h
 *		relation_util.c: relations, columns and triggers as the capabilities
 *		find, read and attach them, written once.
 */
#ifndef ACCTSEC_RELATION_UTIL_H
#define ACCTSEC_RELATION_UTIL_H

#include "executor/tuptable.h"
#include "fmgr.h"
#include "nodes/pg_list.h"
#include "storage/lockdefs.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

/* The owner of relation relid; an error when there is no such relation. */
extern Oid	acctsec_rel_owner(Oid relid);

/* The number of rel's column attname; an error when it has none. */
extern AttrNumber acctsec_attnum(Relation rel, const char *attname);

/*
 * The numbers of a fixed list of columns of one of acctsec's tables, named
 * as a select list names them ("a, b, c"): static in the module that reads
 * them, found by name on first use and again after any invalidation of the
 * relation, so a hot path pays no lookup by name per call and a column
 * renamed, or dropped and added again (as an upgrade script may do), is
 * read under its new number, never under the old one.
 */
#define ACCTSEC_MAX_COLUMNS 16

typedef struct AcctsecColumns
{
	const char *names;			/* "a, b, c" */
	int			ncolumns;		/* how many names there are */
	/* found by acctsec_columns */
	Oid			relid;			/* the relation attnums belong to, or none */
	AttrNumber	attnums[ACCTSEC_MAX_COLUMNS];
	struct AcctsecColumns *next;	/* the lists known, for invalidations */
	bool		registered;
} AcctsecColumns;

/* a static AcctsecColumns' initializer */
#define ACCTSEC_COLUMNS(list, n) {.names = (list), .ncolumns = (n)}

/* c's column numbers in rel, in the order of c->names; an error if any is missing. */
extern const AttrNumber *acctsec_columns(AcctsecColumns *c, Relation rel);

/* Column attnum of the row in slot, copied into the current memory context. */
extern Datum acctsec_slot_value(TupleTableSlot *slot, AttrNumber attnum,
								bool *isnull);

/*
 * A timestamptz column's value, NULL read as -infinity: "never" compares
 * below every time, which is what a NULL last_failed_at or locked_until
 * means to the arithmetic that reads it.
 */
extern TimestampTz acctsec_timestamp_value(Datum value, bool isnull);

/*
 * Open the table relid, which the calling role must own, with lockmode;
 * errors name it.  A table or a partitioned table; caller (a function of
 * schema acctsec, "f()"), when not NULL, is named in the error's detail for
 * anything else.
 */
extern Relation acctsec_open_owned_table(Oid relid, LOCKMODE lockmode,
										 const char *caller);

/*
 * The relation relid opened with lockmode if the calling role owns it;
 * NULL, without a lock, when it does not or there is no such relation.
 */
extern Relation acctsec_try_open_owned(Oid relid, LOCKMODE lockmode);

/*
 * Attach trigger name to rel, calling acctsec.func(args): FOR EACH ROW when
 * row, timing and events as in pg_trigger (TRIGGER_TYPE_*), replacing one
 * of the same name when replace, firing as fires_on says
 * (TRIGGER_FIRES_ON_ORIGIN, ...).  The trigger is visible on return.
 */
extern void acctsec_create_trigger(Relation rel, const char *name,
								   const char *func, List *args, bool row,
								   int16 timing, int16 events, bool replace,
								   char fires_on, const char *query);

/*
 * An error unless fcinfo is a call of func ("acctsec.f()") by the trigger
 * manager (event: by the event trigger manager).
 */
extern void acctsec_check_trigger(FunctionCallInfo fcinfo, const char *func,
								  bool event);

/*
 * Whether fcinfo is a call by the trigger manager fired as a trigger
 * attached as acctsec_create_trigger says: FOR EACH ROW when row, else FOR
 * EACH STATEMENT, at timing, by one of events (TRIGGER_TYPE_* bits).  The
 * caller raises the error that names what it must be.
 */
extern bool acctsec_trigger_fired(FunctionCallInfo fcinfo, bool row,
								  int16 timing, int16 events);

/*
 * A backend-local hash table of facts about relations, keyed by keysize
 * bytes, with callback registered to hear of relcache invalidations.
 */
extern HTAB *acctsec_relation_cache(const char *name, Size keysize,
									Size entrysize,
									RelcacheCallbackFunction callback);

#endif							/* ACCTSEC_RELATION_UTIL_H */
