/*
 * row_lock.h
 *		A row of one of acctsec's own tables, found by its unique key and
 *		locked through the index and table access methods: what a SELECT
 *		... FOR UPDATE statement does, without the executor run a statement
 *		costs on every call (several times the probe and the lock).
 */
#ifndef ACCTSEC_ROW_LOCK_H
#define ACCTSEC_ROW_LOCK_H

#include "access/skey.h"
#include "executor/tuptable.h"
#include "nodes/lockoptions.h"
#include "utils/rel.h"
#include "utils/snapshot.h"

#include "relation_util.h"

typedef enum AcctsecRowLockResult
{
	ACCTSEC_ROW_LOCKED,			/* the version locked is in the slot */
	ACCTSEC_ROW_NONE,			/* no row has the key (or it went meanwhile) */
	ACCTSEC_ROW_BUSY			/* LockWaitSkip: another transaction holds it */
} AcctsecRowLockResult;

/*
 * Lock the row of rel whose key, the columns of its unique index index, is
 * keys[0 .. nkeys - 1] (scan keys on the index's columns), as a statement
 * SELECT ... FOR <mode> seeing snapshot would, and leave the version
 * locked in slot (a slot of rel's table AM).  A row another transaction
 * updated meanwhile is followed to its latest version in READ COMMITTED
 * and refused in REPEATABLE READ and SERIALIZABLE (could not serialize),
 * as the executor does; with latest, it is always followed (for rows read
 * with the latest snapshot whatever the isolation level, as the audit
 * seal reads its lanes).
 */
extern AcctsecRowLockResult acctsec_row_lock(Relation rel, Relation index,
											 ScanKey keys, int nkeys,
											 Snapshot snapshot,
											 LockTupleMode mode,
											 LockWaitPolicy wait, bool latest,
											 TupleTableSlot *slot);

/*
 * Visit the rows of rel whose first nkeys columns of B-tree index index
 * equal keys[0 .. nkeys - 1] (a unique key, or a prefix of one), in the
 * index's order, as a statement seeing snapshot would see them: each
 * version is handed to visit in a slot of rel's, until visit returns
 * false.  The equality is the index's own (its operator classes and
 * collations).  True when any row was visited.  Locks nothing: the
 * caller has opened and locked rel and index.
 */
typedef bool (*AcctsecRowVisitor) (TupleTableSlot *slot, void *arg);

extern bool acctsec_index_scan_equal(Relation rel, Relation index, int nkeys,
									 const Datum *keys, Snapshot snapshot,
									 AcctsecRowVisitor visit, void *arg);

/*
 * One of acctsec's tables whose rows the hot paths lock by a primary key of
 * one column: its name in schema acctsec, the key's equality function
 * (F_TEXTEQ, ...) and the columns read (relation_util.h), named as a select
 * list names them, so that the module's statements that read the same row
 * can use the same string.  Static in the module that owns the table.
 */
typedef struct AcctsecKeyedTable
{
	const char *relname;
	Oid			key_eq;
	AcctsecColumns columns;
} AcctsecKeyedTable;

/*
 * Lock the row of t whose key is key, FOR NO KEY UPDATE, waiting, as a
 * statement of the calling (volatile) function would (acctsec_row_lock,
 * with acctsec_statement_snapshot), and read its columns into values and
 * isnull (copied into the current memory context) and the version's ctid
 * into tid.  False when there is no such row.
 */
extern bool acctsec_row_lock_by_key(AcctsecKeyedTable *t, Datum key,
									Datum *values, bool *isnull,
									ItemPointer tid);

/*
 * The OID of acctsec.<relname> (a table, an index or a sequence), or
 * InvalidOid when there is none.  Looked up by name once per backend and
 * again after any invalidation of that relation (a drop, a rename) or of a
 * schema, so a hot path does not pay two catalogue lookups per relation on
 * every call.  Not cached while missing.
 */
extern Oid	acctsec_relid(const char *relname);

/*
 * The snapshot a volatile function's next statement would take, as SPI
 * takes it: after a CommandCounterIncrement, so that the function sees
 * what its earlier statements (and the earlier calls in the same
 * statement) wrote.  Registered: the caller unregisters it.
 */
extern Snapshot acctsec_statement_snapshot(void);

#endif							/* ACCTSEC_ROW_LOCK_H */
