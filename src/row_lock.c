/*
 * row_lock.c
 *		A row of one of acctsec's own tables, found by its unique key and
 *		locked through the index and table access methods (row_lock.h).
 *
 * The hot paths lock the row of their account, and the network it comes
 * from, on every call; a SELECT ... FOR NO KEY UPDATE through SPI spends
 * most of its instructions on the executor's start-up and shut-down, not
 * on the index probe and the lock (test/bench/profile.sh).  This does the
 * probe and the lock as the executor's LockRows node does them
 * (nodeLockRows.c): table_tuple_lock(), following a concurrent update only
 * where the isolation level allows it.  A lock takes no triggers, rules
 * or policies into account in a statement either, so nothing is bypassed;
 * the writes that follow go through row_write.h, which makes them
 * statements wherever one of those applies.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_am_d.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/relcache.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "compat.h"
#include "relation_util.h"
#include "row_lock.h"

/* Does the version locked still have the key (after following an update)? */
static bool
row_has_key(Relation index, ScanKey keys, int nkeys, TupleTableSlot *slot)
{
	for (int i = 0; i < nkeys; i++)
	{
		AttrNumber	attno = index->rd_index->indkey.values[keys[i].sk_attno - 1];
		bool		isnull;
		Datum		value = slot_getattr(slot, attno, &isnull);

		if (isnull ||
			!DatumGetBool(FunctionCall2Coll(&keys[i].sk_func, keys[i].sk_collation,
											value, keys[i].sk_argument)))
			return false;
	}
	return true;
}

AcctsecRowLockResult
acctsec_row_lock(Relation rel, Relation index, ScanKey keys, int nkeys,
				 Snapshot snapshot, LockTupleMode mode, LockWaitPolicy wait,
				 bool latest, TupleTableSlot *slot)
{
	IndexScanDesc scan;
	bool		found;
	bool		follow = latest || !IsolationUsesXactSnapshot();
	ItemPointerData tid;
	TM_FailureData tmfd;
	TM_Result	result;

	/* as the executor refuses a row lock (25006: on a standby, too) */
	PreventCommandIfReadOnly(mode == LockTupleExclusive ? "SELECT FOR UPDATE" :
							 mode == LockTupleNoKeyExclusive ? "SELECT FOR NO KEY UPDATE" :
							 mode == LockTupleShare ? "SELECT FOR SHARE" :
							 "SELECT FOR KEY SHARE");
	scan = acctsec_index_beginscan(rel, index, snapshot, nkeys, 0);
	index_rescan(scan, keys, nkeys, NULL, 0);
	found = index_getnext_slot(scan, ForwardScanDirection, slot);
	index_endscan(scan);
	if (!found)
		return ACCTSEC_ROW_NONE;

	tid = slot->tts_tid;
	result = table_tuple_lock(rel, &tid, snapshot, slot, GetCurrentCommandId(true),
							  mode, wait,
							  follow ? TUPLE_LOCK_FLAG_FIND_LAST_VERSION : 0,
							  &tmfd);
	switch (result)
	{
		case TM_Ok:
			/* as EvalPlanQual rechecks the qual on the version it locked */
			if (tmfd.traversed && !row_has_key(index, keys, nkeys, slot))
				return ACCTSEC_ROW_NONE;
			return ACCTSEC_ROW_LOCKED;
		case TM_WouldBlock:
			return ACCTSEC_ROW_BUSY;
		case TM_Deleted:
			if (!follow)
				ereport(ERROR,
						(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
						 errmsg("could not serialize access due to concurrent delete")));
			return ACCTSEC_ROW_NONE;
		case TM_Updated:
			/* only when not following updates */
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("could not serialize access due to concurrent update")));
			break;
		default:

			/*
			 * TM_SelfModified and TM_Invisible: the snapshot sees every
			 * earlier command of this transaction, so the version found is
			 * its latest change.
			 */
			elog(ERROR, "unexpected result %d locking a row of \"%s\"",
				 (int) result, RelationGetRelationName(rel));
	}
	return ACCTSEC_ROW_NONE;	/* keep the compiler quiet */
}

/*
 * The function of the equality operator of column i of a B-tree index, as
 * the scan key needs it.  Two catalogue lookups per column, so the last few
 * indexes' are kept, with the operator family and type they were found for
 * (an index's are fixed when it is made; the relation cache keeps their
 * support functions the same way).
 */
#define EQ_PROC_CACHE_SIZE	8

typedef struct EqProcEntry
{
	Oid			indexid;
	Oid			opfamily[INDEX_MAX_KEYS];
	Oid			type[INDEX_MAX_KEYS];
	RegProcedure procs[INDEX_MAX_KEYS];
} EqProcEntry;

static RegProcedure
index_equality_proc(Relation irel, int i)
{
	static EqProcEntry cache[EQ_PROC_CACHE_SIZE];
	static int	next = 0;
	Oid			indexid = RelationGetRelid(irel);
	EqProcEntry *e = NULL;
	Oid			type;
	Oid			eq;

	for (int k = 0; k < EQ_PROC_CACHE_SIZE && e == NULL; k++)
		if (cache[k].indexid == indexid)
			e = &cache[k];
	type = irel->rd_opcintype[i];
	if (e != NULL && OidIsValid(e->procs[i]) &&
		e->opfamily[i] == irel->rd_opfamily[i] && e->type[i] == type)
		return e->procs[i];

	eq = get_opfamily_member(irel->rd_opfamily[i], type, type, BTEqualStrategyNumber);
	if (!OidIsValid(eq))
		elog(ERROR, "no equality operator for column %d of index %s",
			 i + 1, RelationGetRelationName(irel));
	if (e == NULL)
	{
		e = &cache[next];
		next = (next + 1) % EQ_PROC_CACHE_SIZE;
		memset(e, 0, sizeof(EqProcEntry));
		e->indexid = indexid;
	}
	e->opfamily[i] = irel->rd_opfamily[i];
	e->type[i] = type;
	e->procs[i] = get_opcode(eq);
	return e->procs[i];
}

/*
 * The scan every read by key shares (row_lock.h): scan keys from the
 * equality functions of the index's own operator classes, one index scan,
 * and each version the snapshot sees handed to visit.
 */
bool
acctsec_index_scan_equal(Relation rel, Relation index, int nkeys,
						 const Datum *keys, Snapshot snapshot,
						 AcctsecRowVisitor visit, void *arg)
{
	ScanKeyData skeys[INDEX_MAX_KEYS];
	IndexScanDesc scan;
	TupleTableSlot *slot;
	bool		found = false;

	if (nkeys < 1 || nkeys > IndexRelationGetNumberOfKeyAttributes(index) ||
		index->rd_rel->relam != BTREE_AM_OID)
		elog(ERROR, "cannot scan the first %d columns of index \"%s\"",
			 nkeys, RelationGetRelationName(index));
	for (int i = 0; i < nkeys; i++)
		ScanKeyEntryInitialize(&skeys[i], 0, i + 1, BTEqualStrategyNumber,
							   InvalidOid, index->rd_indcollation[i],
							   index_equality_proc(index, i), keys[i]);

	scan = acctsec_index_beginscan(rel, index, snapshot, nkeys, 0);
	index_rescan(scan, skeys, nkeys, NULL, 0);
	slot = table_slot_create(rel, NULL);
	while (index_getnext_slot(scan, ForwardScanDirection, slot))
	{
		found = true;
		if (!visit(slot, arg))
			break;
	}
	ExecDropSingleTupleTableSlot(slot);
	index_endscan(scan);
	return found;
}

/*
 * acctsec_relid's cache: the handful of relations the hot paths open.  A
 * lookup by name is a probe of pg_namespace's and of pg_class's syscache
 * (about 1,000 instructions each, and one relation is often looked up with
 * its index); this is a short array compared by name.  Every entry goes on
 * an invalidation of its relation (sent on DROP and on ALTER ... RENAME,
 * whose pg_class change invalidates the relation) and all go on an
 * invalidation of every relation or of any schema (ALTER SCHEMA RENAME
 * touches no pg_class row), so a name never maps to a relation that no
 * longer has it.  The OID is only what the next table_open() locks: as with
 * a lookup just before the open, a relation dropped in between fails there.
 */
#define RELID_CACHE_SIZE	16

typedef struct RelidEntry
{
	NameData	relname;
	Oid			relid;
} RelidEntry;

static RelidEntry relid_cache[RELID_CACHE_SIZE];
static int	relid_cache_used = 0;
static bool relid_callbacks_registered = false;

static void
relid_relcache_callback(Datum arg, Oid relid)
{
	if (!OidIsValid(relid))
	{
		relid_cache_used = 0;
		return;
	}
	for (int i = 0; i < relid_cache_used; i++)
	{
		if (relid_cache[i].relid == relid)
		{
			relid_cache[i] = relid_cache[--relid_cache_used];
			return;
		}
	}
}

static void
relid_namespace_callback(Datum arg, int cacheid, uint32 hashvalue)
{
	relid_cache_used = 0;
}

Oid
acctsec_relid(const char *relname)
{
	Oid			nsp;
	Oid			relid;

	for (int i = 0; i < relid_cache_used; i++)
		if (strcmp(NameStr(relid_cache[i].relname), relname) == 0)
			return relid_cache[i].relid;

	if (!relid_callbacks_registered)
	{
		CacheRegisterRelcacheCallback(relid_relcache_callback, (Datum) 0);
		CacheRegisterSyscacheCallback(NAMESPACEOID, relid_namespace_callback, (Datum) 0);
		relid_callbacks_registered = true;
	}
	nsp = get_namespace_oid("acctsec", true);
	if (!OidIsValid(nsp))
		return InvalidOid;
	relid = get_relname_relid(relname, nsp);
	if (OidIsValid(relid) && relid_cache_used < RELID_CACHE_SIZE &&
		strlen(relname) < NAMEDATALEN)
	{
		namestrcpy(&relid_cache[relid_cache_used].relname, relname);
		relid_cache[relid_cache_used].relid = relid;
		relid_cache_used++;
	}
	return relid;
}

Snapshot
acctsec_statement_snapshot(void)
{
	CommandCounterIncrement();
	return RegisterSnapshot(GetTransactionSnapshot());
}

bool
acctsec_row_lock_by_key(AcctsecKeyedTable *t, Datum key, Datum *values,
						bool *isnull, ItemPointer tid)
{
	Oid			relid = acctsec_relid(t->relname);
	Relation	rel;
	Relation	index;
	ScanKeyData skey;
	Snapshot	snapshot;
	TupleTableSlot *slot;
	const AttrNumber *attnums;
	bool		locked;

	if (!OidIsValid(relid))
		elog(ERROR, "acctsec.%s is missing", t->relname);
	/* the lock SELECT ... FOR NO KEY UPDATE takes on the table */
	rel = table_open(relid, RowShareLock);
	attnums = acctsec_columns(&t->columns, rel);
	list_free(RelationGetIndexList(rel));	/* sets rd_pkindex */
	if (!OidIsValid(rel->rd_pkindex))
		elog(ERROR, "acctsec.%s has no primary key", t->relname);
	index = index_open(rel->rd_pkindex, AccessShareLock);

	ScanKeyInit(&skey, 1, BTEqualStrategyNumber, t->key_eq, key);
	skey.sk_collation = index->rd_indcollation[0];
	snapshot = acctsec_statement_snapshot();
	slot = table_slot_create(rel, NULL);
	locked = acctsec_row_lock(rel, index, &skey, 1, snapshot, LockTupleNoKeyExclusive,
							  LockWaitBlock, false, slot) == ACCTSEC_ROW_LOCKED;
	if (locked)
	{
		for (int i = 0; i < t->columns.ncolumns; i++)
			values[i] = acctsec_slot_value(slot, attnums[i], &isnull[i]);
		*tid = slot->tts_tid;
	}
	ExecDropSingleTupleTableSlot(slot);
	UnregisterSnapshot(snapshot);
	index_close(index, NoLock);
	table_close(rel, NoLock);
	return locked;
}
