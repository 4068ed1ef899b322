/*
 * row_write.h
 *		Rows of acctsec's own tables written through the table access
 *		method, as the executor would write them, where nothing about the
 *		table needs the executor; otherwise by the same write as a
 *		statement.  And the indexes of those tables, kept for the backend.
 */
#ifndef ACCTSEC_ROW_WRITE_H
#define ACCTSEC_ROW_WRITE_H

#include "nodes/execnodes.h"
#include "utils/rel.h"

#include "row_lock.h"
#include "spi_util.h"

/*
 * The indexes of one table as ExecOpenIndices would find them, kept for the
 * backend's life: their OIDs and IndexInfos (BuildIndexInfo), each partial
 * index's predicate planned and its ExprState built once.  Static in the
 * module that writes the table, zero-initialised.  A relcache invalidation
 * of the table or of one of its indexes marks it stale; it is checked after
 * the table's lock is taken (which processes the invalidations sent until
 * then) and rebuilt when stale.
 */
typedef struct AcctsecIndexCache
{
	Oid			relid;			/* the table; InvalidOid before the first
								 * build */
	bool		valid;
	bool		deferred;		/* some unique index is DEFERRABLE */
	MemoryContext cxt;
	int			nindexes;
	Oid		   *indexoids;
	IndexInfo **infos;
	struct AcctsecIndexCache *next; /* the caches known, for invalidations */
	bool		registered;
} AcctsecIndexCache;

/*
 * A ResultRelInfo for rel (open and locked) with its indexes open, as
 * InitResultRelInfo and ExecOpenIndices(rri, false) would make it, from
 * the cache: the indexes locked (RowExclusiveLock), their IndexInfos
 * copied, all in the current memory context.  ExecCloseIndices closes it.
 */
extern ResultRelInfo *acctsec_index_cache_open(Relation rel, AcctsecIndexCache *c);

/*
 * May a direct write pass over this trigger of the table?  Asked only of a
 * trigger that would fire for the write and is not a foreign key's check
 * that the write cannot concern; NULL answers no for every trigger.
 */
typedef bool (*AcctsecTriggerIdle) (const Trigger *trigger);

/*
 * One write of a table in schema acctsec: CMD_UPDATE sets columns of the
 * row version at a ctid (one the caller has locked), CMD_INSERT inserts a
 * row with columns (every other column of the table must have no default),
 * doing nothing where a row with the same key exists when
 * on_conflict_nothing.  columns names them as a select list would ("a, b,
 * c"), in the order of the values given.  Static in the module that owns
 * the table; the rest is found on first use and again after the table
 * changes.
 *
 * A write goes through the table AM (heap_update, heap_insert or a
 * speculative insertion, and ExecInsertIndexTuples where index entries are
 * due) when the calling role owns the heap table and it has no rule, no
 * row security, no CHECK constraint (but, for an update, valid ones on
 * columns not written), no generated or (for an insert) defaulted column
 * outside columns, no deferrable unique index, and no trigger that would
 * fire, other than foreign-key checks the write cannot concern (an update
 * leaving the keys as they are) and those trigger_idle passes over.
 * Otherwise it is the statement UPDATE acctsec.t SET a = $2, ... WHERE
 * ctid = $1, or INSERT INTO acctsec.t (a, ...) VALUES ($1, ...) [ON
 * CONFLICT DO NOTHING], made from columns and run in the caller's SPI
 * connection, with every trigger, rule and policy applying.
 */
typedef struct AcctsecRowWrite
{
	const char *relname;
	CmdType		cmd;
	const char *columns;
	bool		on_conflict_nothing;	/* CMD_INSERT: ON CONFLICT DO NOTHING */
	AcctsecTriggerIdle trigger_idle;

	Oid			relid;			/* what the fields below were found for */
	int			ncolumns;
	AttrNumber	attnums[ACCTSEC_MAX_COLUMNS];
	bool		columns_ok;		/* no domain, default or CHECK in the way */
	bool		fk_written;		/* a column of a foreign key is written */
	bool		key_written;	/* a column of a referenceable key is */
	AcctsecPlan statement;
	AcctsecIndexCache indexes;
	struct AcctsecRowWrite *next;	/* the writes known, for invalidations */
	bool		registered;
} AcctsecRowWrite;

/*
 * Write values (isnull: which are NULL), one per column of w, to the row
 * at otid (CMD_UPDATE; NULL for CMD_INSERT).  SPI connected.  An update
 * whose row version is no longer at otid is an error.  False when nothing
 * was written: a conflict with on_conflict_nothing (or, as a statement, a
 * trigger that skipped the row).
 */
extern bool acctsec_row_write(AcctsecRowWrite *w, ItemPointer otid,
							  const Datum *values, const bool *isnull);

#endif							/* ACCTSEC_ROW_WRITE_H */
