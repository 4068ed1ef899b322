/*
 * audit_chain.c
 *		The one writer of acctsec.audit_log rows, the hash chain that makes
 *		them tamper-evident, audit_verify() and audit_purge() (docs/audit.md).
 *
 * Seal at commit.  A transaction's audit rows are written as it goes,
 * chained only to one another: each row's hash covers the previous row of
 * the same transaction (audit_hash.h has the exact formulas).  Nothing
 * shared is touched until the transaction commits.  Then, in the
 * pre-commit callback, it takes a free lane (a row of acctsec.audit_lanes,
 * FOR UPDATE SKIP LOCKED, starting at a lane that depends on the backend),
 * appends one seal to it (acctsec.audit_seals: the transaction id, its row
 * count and its last row's hash, chained to the lane's previous seal) and
 * moves the lane's head.  The lane's row lock is held from there to the
 * end of the commit: no open, idle-in-transaction or prepared transaction
 * holds a lane, so nobody can stall the writers by holding lanes, and
 * concurrent commits only wait for one another when more than 64 seal at
 * the very same moment.
 *
 * A rollback takes the rows with it and leaves no seal; a rolled-back
 * subtransaction's rows are dropped from the transaction's chain too (its
 * state is restored in memory).  A crash loses exactly the transactions
 * that did not commit, rows and seals together.
 *
 * PREPARE TRANSACTION writes its seal without a lane (no lock is held by the
 * prepared transaction); COMMIT PREPARED makes it visible, and the next
 * transaction that seals (COMMIT PREPARED's own, when acctsec is loaded in
 * that session, or else any later audit commit) links it into its lane.
 *
 * audit_verify() recomputes every row of every sealed transaction, every
 * seal of every lane from the lane's base to its head, and reports rows
 * without a seal, seals without their rows, and lanes that do not end
 * where audit_lanes says; audit_verify(checkpoints) also proves that the
 * chain still passes through every signed checkpoint given.
 */
#include "postgres.h"

#include <sodium.h>

#include "access/heapam.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "access/xlog.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/async.h"
#include "commands/sequence.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "lib/stringinfo.h"
#include "nodes/parsenodes.h"
#include "optimizer/optimizer.h"
#include "storage/lmgr.h"
#include "tcop/utility.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/inet.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/xid8.h"

#include "audit_chain.h"
#include "audit_partitions.h"
#include "compat.h"
#include "keys.h"
#include "relation_util.h"
#include "row_lock.h"
#include "row_write.h"
#include "spi_util.h"
#include "audit_hash.h"
#include "audit_checkpoint.h"

PG_FUNCTION_INFO_V1(acctsec_audit_verify);
PG_FUNCTION_INFO_V1(acctsec_audit_purge);
PG_FUNCTION_INFO_V1(acctsec_audit_log_guard);

/* Lanes 0 .. ACCTSEC_AUDIT_LANES - 1 are created by the first seal. */
#define ACCTSEC_AUDIT_LANES		64

/* Columns of acctsec.audit_log, in table order. */
enum
{
	AL_ID, AL_LOGGED_AT, AL_TXID, AL_DB_USER, AL_ACTOR, AL_CLIENT_ADDR,
	AL_RELATION, AL_OPERATION, AL_ACCOUNT, AL_ROW_KEY, AL_OLD_VALUES,
	AL_NEW_VALUES, AL_CHANGED_COLUMNS, AL_SALT, AL_ERASED_BY, AL_ERASURE,
	AL_HASH,
	AL_NCOLUMNS
};

/* The select list that reads audit_log columns in table order. */
#define AUDIT_LOG_COLUMNS \
	"id, logged_at, txid, db_user, actor, client_addr, relation, operation, " \
	"account, row_key, old_values, new_values, changed_columns, salt, " \
	"erased_by, erasure, hash"

/*
 * This transaction's audit rows: how many, the hash of the last one, and
 * the random key the rows' salts are derived from (never stored).
 */
typedef struct TxChain
{
	int64		nrows;
	int			head_len;		/* 0 before the first row */
	uint8		head[AUDIT_HASH_BYTES];
} TxChain;

/*
 * The chain as it was when a subtransaction first wrote, restored if that
 * subtransaction rolls back.  Kept in TopTransactionContext.
 */
typedef struct TxChainSave
{
	SubTransactionId subid;
	TxChain		state;
	struct TxChainSave *next;
} TxChainSave;

static TxChain tx_chain;
static TxChainSave *tx_saves = NULL;
static bool tx_salt_ready = false;
static uint8 tx_salt[crypto_generichash_KEYBYTES];
static bool tx_sealed = false;	/* the seal is written: no more rows */
static bool link_requested = false; /* COMMIT PREPARED ran: link its seal */

/*
 * The audit log, its owner and its id sequence, looked up once and again
 * after an invalidation.  Callers take a copy, so that an invalidation
 * processed while they use it (any lock taken can process one) cannot pull
 * the values from under them.
 */
typedef struct AuditLogFacts
{
	Oid			relid;
	Oid			owner;
	Oid			seqid;
} AuditLogFacts;

static AuditLogFacts log_facts;
static bool log_facts_valid = false;

/* Set only while audit_purge(), audit_erase() or a link changes rows. */
static bool guard_open = false;

/*
 * The audit log, opened once per transaction for writing: rows go in with
 * heap_insert() and ExecInsertIndexTuples(), as COPY does, rather than
 * through an INSERT statement per row (whose executor start-up and
 * shut-down cost more than the insert itself).
 *
 * The writer lives across statements, so it has a resource owner of its
 * own, a child of the top transaction's: the relation, the index insert
 * state (BRIN keeps revmap buffers pinned between inserts since
 * PostgreSQL 17) and every pin taken while inserting belong to it, from
 * opening to closing, so nothing is ever released under another owner.
 * Closed before the seal and before any utility command (so that DDL on
 * the log, DROP EXTENSION included, finds it closed); an abort releases it
 * with the top transaction.
 */
typedef struct AuditWriter
{
	AuditLogFacts facts;		/* as when it was opened */
	ResourceOwner owner;
	Relation	rel;			/* the partition written (or the log itself) */
	ResultRelInfo *rri;
	EState	   *estate;
	TupleTableSlot *slot;
} AuditWriter;

static AuditWriter *writer = NULL;
static Oid	writer_target = InvalidOid; /* writer->rel, while open */
static bool writer_stale = false;
static ProcessUtility_hook_type prev_process_utility = NULL;

/*
 * The seal's statements for what is rare (see SealTables), run with the
 * latest snapshot.  wait_lane_plan gives the ctid of the lane version it
 * locked, which is then read as lane_acquire() reads it.
 */
static AcctsecPlan wait_lane_plan = {
	"SELECT ctid FROM acctsec.audit_lanes "
	"WHERE lane OPERATOR(pg_catalog.=) $1 FOR UPDATE OF audit_lanes",
	ACCTSEC_PLAN_ARGS(INT4OID), SPI_OK_SELECT, NULL
};
static AcctsecPlan create_lanes_plan = {
	"INSERT INTO acctsec.audit_lanes (lane) "
	"SELECT g FROM pg_catalog.generate_series(0, $1 OPERATOR(pg_catalog.-) 1) AS g "
	"ON CONFLICT DO NOTHING",
	ACCTSEC_PLAN_ARGS(INT4OID), SPI_OK_INSERT, NULL
};
static AcctsecPlan pending_plan = {
	"SELECT txid, nrows, digest, sealed_at FROM acctsec.audit_seals "
	"WHERE lane IS NULL ORDER BY txid FOR UPDATE SKIP LOCKED",
	0, {InvalidOid}, SPI_OK_SELECT, NULL
};
static AcctsecPlan link_plan = {
	"UPDATE acctsec.audit_seals SET lane = $2, seq = $3, hash = $4 "
	"WHERE txid OPERATOR(pg_catalog.=) $1 AND lane IS NULL",
	ACCTSEC_PLAN_ARGS(XID8OID, INT4OID, INT8OID, BYTEAOID), SPI_OK_UPDATE, NULL
};

/* The connection's address as text (NULL for Unix sockets), computed once. */
static bool client_addr_known = false;
static Datum client_addr_datum = (Datum) 0;
static char *client_addr_text = NULL;

/* The session user's name, looked up again only when the session user changes. */
static Oid	db_user_oid = InvalidOid;
static char db_user_name[NAMEDATALEN];

static bool callbacks_registered = false;

static void audit_register_callbacks(void);

/*
 * The indexes of the log, of the lanes and of the seals (row_write.h):
 * every transaction that writes still opens and locks each index, with
 * the IndexInfos built once for the backend.
 */
static AcctsecIndexCache log_indexes;
static AcctsecIndexCache lane_indexes;
static AcctsecIndexCache seal_indexes;

static void
audit_relcache_callback(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == log_facts.relid || relid == log_facts.seqid ||
		(OidIsValid(writer_target) && relid == writer_target))
	{
		writer_stale = true;	/* its index list may have changed */
		log_facts_valid = false;
	}
}

/* acctsec.audit_log, its owner and its id sequence. */
static AuditLogFacts
audit_log_facts(void)
{
	Oid			nsp;
	HeapTuple	tup;
	AuditLogFacts facts;

	if (log_facts_valid)
		return log_facts;
	nsp = get_namespace_oid("acctsec", false);
	facts.relid = get_relname_relid("audit_log", nsp);
	facts.seqid = get_relname_relid("audit_log_id_seq", nsp);
	if (!OidIsValid(facts.relid) || !OidIsValid(facts.seqid))
		elog(ERROR, "acctsec.audit_log or its sequence is missing");
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(facts.relid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", facts.relid);
	facts.owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	log_facts = facts;
	log_facts_valid = true;
	return facts;
}

Oid
acctsec_audit_log_relid(void)
{
	return audit_log_facts().relid;
}

/* Is rel the audit log, or one of its partitions? */
bool
acctsec_audit_log_is(Relation rel)
{
	Oid			log = audit_log_facts().relid;

	if (RelationGetRelid(rel) == log)
		return true;
	return rel->rd_rel->relispartition &&
		get_partition_parent(RelationGetRelid(rel), true) == log;
}

/*
 * Hand the writer's lock on the log to the top transaction (LOCKS with
 * isCommit reassigns to the parent) and delete its resource owner, whose
 * other resources the caller has closed.  The other phases find nothing
 * left, unless an insert failed half-way in a subtransaction: then they
 * release its leftover pins quietly, as an abort would.
 */
static void
writer_owner_delete(ResourceOwner owner)
{
	ResourceOwnerRelease(owner, RESOURCE_RELEASE_BEFORE_LOCKS, false, false);
	ResourceOwnerRelease(owner, RESOURCE_RELEASE_LOCKS, true, false);
	ResourceOwnerRelease(owner, RESOURCE_RELEASE_AFTER_LOCKS, false, false);
	ResourceOwnerDelete(owner);
}

static void
writer_close(void)
{
	ResourceOwner save_owner = CurrentResourceOwner;
	AuditWriter *w = writer;

	if (w == NULL)
		return;
	writer = NULL;
	writer_target = InvalidOid;
	CurrentResourceOwner = w->owner;
	ExecDropSingleTupleTableSlot(w->slot);
	ExecCloseIndices(w->rri);
	table_close(w->rel, NoLock);	/* the lock is kept until commit */
	FreeExecutorState(w->estate);
	CurrentResourceOwner = save_owner;
	writer_owner_delete(w->owner);
}

static void
audit_process_utility(PlannedStmt *pstmt, const char *queryString,
					  bool readOnlyTree, ProcessUtilityContext context,
					  ParamListInfo params, QueryEnvironment *queryEnv,
					  DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *stmt = pstmt->utilityStmt;

	writer_close();
	if (prev_process_utility)
		prev_process_utility(pstmt, queryString, readOnlyTree, context, params,
							 queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
								queryEnv, dest, qc);

	/*
	 * A prepared transaction just committed: its seal, if it has one, is now
	 * visible; link it when this (COMMIT PREPARED's own) transaction commits.
	 */
	if (stmt != NULL && IsA(stmt, TransactionStmt) &&
		((TransactionStmt *) stmt)->kind == TRANS_STMT_COMMIT_PREPARED)
	{
		audit_register_callbacks();
		link_requested = true;
	}
}

static void define_checkpoint_gucs(void);

/* acctsec.actor: the application user recorded in every audit row */
static char *audit_actor = NULL;

/*
 * How purge and erase record their security events: events.c sits over this
 * writer, so _PG_init hands its recorder down (acctsec_security_event).
 */
static AcctsecEventRecorder event_recorder = NULL;

void
acctsec_audit_set_event_recorder(AcctsecEventRecorder recorder)
{
	event_recorder = recorder;
}

static AcctsecEventRecorder
record_event(void)
{
	if (event_recorder == NULL)
		elog(ERROR, "acctsec: no security event recorder");
	return event_recorder;
}

void
acctsec_audit_chain_init(void)
{
	DefineCustomStringVariable("acctsec.actor",
							   "Application user recorded in audit rows (SET LOCAL it per transaction).",
							   NULL,
							   &audit_actor,
							   "",
							   PGC_USERSET,
							   0,
							   NULL, NULL, NULL);
	define_checkpoint_gucs();
	prev_process_utility = ProcessUtility_hook;
	ProcessUtility_hook = audit_process_utility;
}

/*
 * The audit log's column types, in table order: a partition is written
 * with its own tuple descriptor, so it must have exactly these.
 */
static const Oid log_column_types[AL_NCOLUMNS] = {
	INT8OID, TIMESTAMPTZOID, XID8OID, TEXTOID, TEXTOID, INETOID,
	TEXTOID, TEXTOID, TEXTOID, JSONBOID, JSONBOID,
	JSONBOID, TEXTARRAYOID, BYTEAOID, INT8OID, BYTEAOID,
	BYTEAOID
};

static bool
writer_columns_match(Relation rel)
{
	TupleDesc	desc = RelationGetDescr(rel);
	bool		same = desc->natts == AL_NCOLUMNS;

	for (int i = 0; same && i < AL_NCOLUMNS; i++)
		same = !TupleDescAttr(desc, i)->attisdropped &&
			TupleDescAttr(desc, i)->atttypid == log_column_types[i];
	return same;
}

/*
 * Open the writer on the partition that takes rows logged at logged_at (on
 * the log itself when it is not partitioned), unless it is open there
 * already.  Only the partition is locked, not the parent
 * (audit_partitions.c says why); once it is, the bounds it was chosen by
 * must still be the current ones, or the row is routed again.
 */
static void
writer_open(TimestampTz logged_at)
{
	ResourceOwner save_owner = CurrentResourceOwner;
	MemoryContext old;
	AuditWriter *w;
	AuditLogFacts facts = audit_log_facts();
	uint64		generation;
	Oid			target = acctsec_audit_partition_for(facts.relid, logged_at, &generation);

	if (writer != NULL && !writer_stale && writer->rel->rd_id == target)
		return;
	writer_close();
	writer_stale = false;

	old = MemoryContextSwitchTo(TopTransactionContext);
	w = palloc0(sizeof(AuditWriter));
	w->owner = ResourceOwnerCreate(TopTransactionResourceOwner, "acctsec audit writer");
	CurrentResourceOwner = w->owner;
	for (;;)
	{
		LockRelationOid(target, RowExclusiveLock);
		if (acctsec_audit_partitions_unchanged(generation))
			break;
		/* a partition was made, attached, detached or dropped meanwhile */
		UnlockRelationOid(target, RowExclusiveLock);
		facts = audit_log_facts();
		target = acctsec_audit_partition_for(facts.relid, logged_at, &generation);
	}
	w->facts = facts;
	w->rel = table_open(target, NoLock);
	if (!writer_columns_match(w->rel))
	{
		char	   *name = pstrdup(RelationGetRelationName(w->rel));

		table_close(w->rel, NoLock);
		CurrentResourceOwner = save_owner;
		MemoryContextSwitchTo(old);
		writer_owner_delete(w->owner);
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("partition \"%s\" of acctsec.audit_log does not have the log's columns in the log's order",
						name),
				 errhint("Create partitions with acctsec.audit_create_partitions().")));
	}
	w->estate = CreateExecutorState();
	w->rri = acctsec_index_cache_open(w->rel, &log_indexes);
	w->slot = MakeSingleTupleTableSlot(RelationGetDescr(w->rel), &TTSOpsHeapTuple);
	CurrentResourceOwner = save_owner;
	MemoryContextSwitchTo(old);
	writer = w;
	writer_target = target;
}

static void
tx_reset(void)
{
	memset(&tx_chain, 0, sizeof(tx_chain));
	tx_saves = NULL;			/* its memory goes with TopTransactionContext */
	writer = NULL;				/* so does the writer; the abort released it */
	if (tx_salt_ready)
		sodium_memzero(tx_salt, sizeof(tx_salt));
	tx_salt_ready = false;
	tx_sealed = false;
	link_requested = false;
}

/* Remember the chain before the current subtransaction first changes it. */
static void
tx_save_for_subxact(void)
{
	SubTransactionId subid = GetCurrentSubTransactionId();
	TxChainSave *save;

	if (subid == TopSubTransactionId)
		return;					/* a top-level rollback forgets everything */
	if (tx_saves != NULL && tx_saves->subid == subid)
		return;
	save = MemoryContextAlloc(TopTransactionContext, sizeof(TxChainSave));
	save->subid = subid;
	save->state = tx_chain;
	save->next = tx_saves;
	tx_saves = save;
}

static void
audit_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					   SubTransactionId parentSubid, void *arg)
{
	if (tx_saves == NULL || tx_saves->subid != mySubid)
		return;
	if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		tx_chain = tx_saves->state;
		tx_saves = tx_saves->next;
	}
	else if (event == SUBXACT_EVENT_COMMIT_SUB)
	{
		/* The parent now owns the change; keep the parent's older save. */
		if (tx_saves->next != NULL && tx_saves->next->subid == parentSubid)
			tx_saves = tx_saves->next;
		else if (parentSubid == TopSubTransactionId)
			tx_saves = tx_saves->next;
		else
			tx_saves->subid = parentSubid;
	}
}

static void
copy_hash(const bytea *b, uint8 *out, int *len, const char *what, int32 lane)
{
	*len = VARSIZE_ANY_EXHDR(b);
	if (*len != 0 && *len != AUDIT_HASH_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("audit lane %d has a %s of the wrong length", lane, what)));
	memcpy(out, VARDATA_ANY(b), *len);
}

/* The lane this commit holds, as read when it was locked. */
typedef struct HeldLane
{
	int32		lane;
	int64		seq;
	int			head_len;
	uint8		head[AUDIT_HASH_BYTES];
	bool		pending;		/* prepared transactions' seals wait to be
								 * linked */
	ItemPointerData tid;		/* the version locked: lane_update() writes it */
} HeldLane;

/* Columns of acctsec.audit_lanes and acctsec.audit_seals, in table order. */
enum
{
	LN_LANE, LN_LAST_SEQ, LN_HEAD, LN_BASE_SEQ, LN_BASE_HASH,
	LN_NCOLUMNS
};
enum
{
	SL_TXID, SL_LANE, SL_SEQ, SL_NROWS, SL_DIGEST, SL_SEALED_AT, SL_HASH,
	SL_NCOLUMNS
};

/*
 * The chain's tables, opened for one seal.  The seal locks its lane,
 * inserts its seal and moves the lane's head with the table AM directly,
 * as the writer inserts audit rows: three executor runs per commit cost
 * several times the work itself (test/bench/profile.sh).  The statements
 * above remain for what is rare: the first seal (which creates the lanes),
 * waiting when every lane is busy, and linking prepared transactions'
 * seals.  The lanes are read with the latest snapshot (as PostgreSQL's
 * foreign-key checks read), so that a REPEATABLE READ transaction finds the
 * head its predecessor committed, and locked in their latest version.
 */
typedef struct SealTables
{
	Relation	lanes;
	Relation	seals;
	Relation	lanes_pkey;
	Relation	seals_pending;	/* the partial index of unlinked seals */
	EState	   *estate;
	ResultRelInfo *lanes_rri;
	ResultRelInfo *seals_rri;
	TupleTableSlot *lane_slot;	/* the lane locked */
	TupleTableSlot *seal_slot;	/* a seal found by an index scan */
	TupleTableSlot *lane_new;	/* tuples written, lent to the index code */
	TupleTableSlot *seal_new;
	Snapshot	snapshot;
} SealTables;

/* The relations of the seal, or false when they are gone (DROP EXTENSION). */
static bool
seal_relids(Oid *lanes, Oid *seals)
{
	*lanes = acctsec_relid("audit_lanes");
	*seals = acctsec_relid("audit_seals");
	return OidIsValid(*lanes) && OidIsValid(*seals);
}

static void
seal_tables_open(SealTables *st, Oid lanes_relid, Oid seals_relid)
{
	st->lanes = table_open(lanes_relid, RowExclusiveLock);
	st->seals = table_open(seals_relid, RowExclusiveLock);
	st->estate = CreateExecutorState();
	st->lanes_rri = acctsec_index_cache_open(st->lanes, &lane_indexes);
	st->seals_rri = acctsec_index_cache_open(st->seals, &seal_indexes);
	st->lanes_pkey = NULL;
	for (int i = 0; i < st->lanes_rri->ri_NumIndices; i++)
		if (RelationGetRelid(st->lanes_rri->ri_IndexRelationDescs[i]) == st->lanes->rd_pkindex)
			st->lanes_pkey = st->lanes_rri->ri_IndexRelationDescs[i];
	st->seals_pending = NULL;
	for (int i = 0; i < st->seals_rri->ri_NumIndices; i++)
		if (st->seals_rri->ri_IndexRelationInfo[i]->ii_Predicate != NIL)
			st->seals_pending = st->seals_rri->ri_IndexRelationDescs[i];
	if (st->lanes_pkey == NULL || st->seals_pending == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the indexes of acctsec.audit_lanes or acctsec.audit_seals are missing")));
	st->lane_slot = table_slot_create(st->lanes, NULL);
	st->seal_slot = table_slot_create(st->seals, NULL);
	st->lane_new = MakeSingleTupleTableSlot(RelationGetDescr(st->lanes), &TTSOpsHeapTuple);
	st->seal_new = MakeSingleTupleTableSlot(RelationGetDescr(st->seals), &TTSOpsHeapTuple);
	st->snapshot = RegisterSnapshot(GetLatestSnapshot());
}

static void
seal_tables_close(SealTables *st)
{
	UnregisterSnapshot(st->snapshot);
	ExecDropSingleTupleTableSlot(st->lane_slot);
	ExecDropSingleTupleTableSlot(st->seal_slot);
	ExecDropSingleTupleTableSlot(st->lane_new);
	ExecDropSingleTupleTableSlot(st->seal_new);
	ExecCloseIndices(st->lanes_rri);
	ExecCloseIndices(st->seals_rri);
	FreeExecutorState(st->estate);
	table_close(st->lanes, NoLock); /* the locks are kept until commit */
	table_close(st->seals, NoLock);
}

/* Read the lane in st->lane_slot into held. */
static void
lane_from_slot(SealTables *st, HeldLane *held)
{
	bool		isnull;

	held->lane = DatumGetInt32(slot_getattr(st->lane_slot, LN_LANE + 1, &isnull));
	held->seq = DatumGetInt64(slot_getattr(st->lane_slot, LN_LAST_SEQ + 1, &isnull));
	copy_hash(DatumGetByteaPP(slot_getattr(st->lane_slot, LN_HEAD + 1, &isnull)),
			  held->head, &held->head_len, "head hash", held->lane);
	held->tid = st->lane_slot->tts_tid;
}

/*
 * The backend's own lane: backends spread over the lane pages (11 is prime
 * to the lane count).
 */
static int32
lane_start(void)
{
	return (int32) (((uint32) MyProcPid * 11) % ACCTSEC_AUDIT_LANES);
}

/*
 * Lock lane number lane without waiting, in its latest version, and leave
 * that version in st->lane_slot.
 */
static AcctsecRowLockResult
lane_lock(SealTables *st, int32 lane)
{
	ScanKeyData key;

	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_INT4EQ, Int32GetDatum(lane));
	return acctsec_row_lock(st->lanes, st->lanes_pkey, &key, 1, st->snapshot,
							LockTupleExclusive, LockWaitSkip, true, st->lane_slot);
}


/* Do committed prepared transactions' seals wait to be linked? */
static bool
seals_pending(SealTables *st)
{
	IndexScanDesc scan;
	bool		found;

	scan = acctsec_index_beginscan(st->seals, st->seals_pending, st->snapshot, 0, 0);
	index_rescan(scan, NULL, 0, NULL, 0);
	found = index_getnext_slot(scan, ForwardScanDirection, st->seal_slot);
	index_endscan(scan);
	ExecClearTuple(st->seal_slot);
	return found;
}

/*
 * Take a free lane for this commit, without waiting: the first free one
 * from the backend's own on, in the order of the lanes, so usually the own
 * lane itself.  False when every lane is busy or there are none yet.
 */
static bool
lane_acquire(SealTables *st, HeldLane *held)
{
	int32		start = lane_start();
	AcctsecRowLockResult got = ACCTSEC_ROW_BUSY;

	/* none found: the lanes are not created yet */
	for (int i = 0; i < ACCTSEC_AUDIT_LANES && got == ACCTSEC_ROW_BUSY; i++)
		got = lane_lock(st, (start + i) % ACCTSEC_AUDIT_LANES);
	if (got != ACCTSEC_ROW_LOCKED)
		return false;
	lane_from_slot(st, held);
	held->pending = seals_pending(st);
	return true;
}

/*
 * When no lane is free, or there are none yet: create any missing, then
 * wait for the backend's own (SPI connected, as the log's owner).  Only
 * committing transactions hold lanes, each for the moment of its commit,
 * so the wait is short.
 */
static void
lane_wait(SealTables *st, HeldLane *held)
{
	Datum		n = Int32GetDatum(ACCTSEC_AUDIT_LANES);
	Datum		lane = Int32GetDatum(lane_start());
	bool		isnull;
	ItemPointerData tid;

	acctsec_plan_run_latest(&create_lanes_plan, &n, NULL, false, 0);
	CommandCounterIncrement();
	if (acctsec_plan_run_latest(&wait_lane_plan, &lane, NULL, false, 1) != 1)
		elog(ERROR, "could not lock audit lane %d", DatumGetInt32(lane));
	ItemPointerCopy((ItemPointer) DatumGetPointer(SPI_getbinval(SPI_tuptable->vals[0],
																SPI_tuptable->tupdesc,
																1, &isnull)),
					&tid);

	/* the version locked, read as lane_acquire() reads it */
	CommandCounterIncrement();
	if (!table_tuple_fetch_row_version(st->lanes, &tid, SnapshotAny, st->lane_slot))
		elog(ERROR, "could not read audit lane %d", DatumGetInt32(lane));
	lane_from_slot(st, held);
	held->pending = seals_pending(st);
}

/* Insert a seal; without a lane (linked false) for a prepared transaction. */
static void
seal_insert(SealTables *st, Datum txid, bool linked, const HeldLane *held,
			int64 nrows, const uint8 *digest, int digest_len,
			TimestampTz sealed_at, const uint8 *hash)
{
	Datum		values[SL_NCOLUMNS];
	bool		nulls[SL_NCOLUMNS] = {0};
	HeapTuple	tuple;

	values[SL_TXID] = txid;
	if (linked)
	{
		values[SL_LANE] = Int32GetDatum(held->lane);
		values[SL_SEQ] = Int64GetDatum(held->seq);
		values[SL_HASH] = PointerGetDatum(cstring_to_text_with_len((char *) hash,
																   AUDIT_HASH_BYTES));
	}
	else
		nulls[SL_LANE] = nulls[SL_SEQ] = nulls[SL_HASH] = true;
	values[SL_NROWS] = Int64GetDatum(nrows);
	values[SL_DIGEST] = PointerGetDatum(cstring_to_text_with_len((char *) digest, digest_len));
	values[SL_SEALED_AT] = TimestampTzGetDatum(sealed_at);

	/* no rules, row triggers or constraints but the indexes: as the writer */
	tuple = heap_form_tuple(RelationGetDescr(st->seals), values, nulls);
	heap_insert(st->seals, tuple, GetCurrentCommandId(true), 0, NULL);
	ExecStoreHeapTuple(tuple, st->seal_new, false);
	list_free(acctsec_insert_index_tuples(st->seals_rri, st->seal_new, st->estate));
	ExecClearTuple(st->seal_new);
	ResetPerTupleExprContext(st->estate);
}

/* Append one seal to the held lane: the lane's next number and hash. */
static void
lane_append(HeldLane *held, uint64 txid, int64 nrows, const uint8 *digest,
			int digest_len, TimestampTz sealed_at, uint8 *hash)
{
	held->seq++;
	audit_seal_hash(held->head, held->head_len, held->lane, held->seq, txid,
					nrows, digest, digest_len, sealed_at, hash);
	memcpy(held->head, hash, AUDIT_HASH_BYTES);
	held->head_len = AUDIT_HASH_BYTES;
}

/*
 * Link the seals of committed prepared transactions into the held lane.
 * They are locked SKIP LOCKED, so two committers never link the same one.
 * SPI connected, as the log's owner.
 */
static void
link_pending(HeldLane *held)
{
	volatile uint64 rows = 0;
	uint64		n;
	SPITupleTable *tt;

	acctsec_plan_run_latest(&pending_plan, NULL, NULL, false, 0);
	tt = SPI_tuptable;
	n = SPI_processed;
	for (uint64 i = 0; i < n; i++)
	{
		bool		isnull;
		Datum		txid = SPI_getbinval(tt->vals[i], tt->tupdesc, 1, &isnull);
		int64		nrows = DatumGetInt64(SPI_getbinval(tt->vals[i], tt->tupdesc, 2, &isnull));
		bytea	   *digest = DatumGetByteaPP(SPI_getbinval(tt->vals[i], tt->tupdesc, 3, &isnull));
		TimestampTz at = DatumGetTimestampTz(SPI_getbinval(tt->vals[i], tt->tupdesc, 4, &isnull));
		uint8		hash[AUDIT_HASH_BYTES];
		Datum		args[4];

		lane_append(held, U64FromFullTransactionId(DatumGetFullTransactionId(txid)),
					nrows, (uint8 *) VARDATA_ANY(digest), VARSIZE_ANY_EXHDR(digest),
					at, hash);
		args[0] = txid;
		args[1] = Int32GetDatum(held->lane);
		args[2] = Int64GetDatum(held->seq);
		args[3] = PointerGetDatum(cstring_to_text_with_len((char *) hash, sizeof(hash)));
		guard_open = true;
		PG_TRY();
		{
			/* fire_triggers: the guard is a statement trigger, it must run */
			rows = acctsec_plan_run_latest(&link_plan, args, NULL, true, 0);
		}
		PG_FINALLY();
		{
			guard_open = false;
		}
		PG_END_TRY();
		if (rows != 1)
			elog(ERROR, "could not link the audit seal of a prepared transaction");
	}
}

/*
 * Move the held lane's head: an update of the version locked (nobody else
 * can have changed it since), usually HOT (the lanes' fillfactor leaves
 * room), else with its index entries.
 */
static void
lane_update(SealTables *st, const HeldLane *held)
{
	Datum		values[LN_NCOLUMNS] = {0};
	bool		nulls[LN_NCOLUMNS] = {0};
	bool		replace[LN_NCOLUMNS] = {0};
	HeapTuple	newtup;
	ItemPointerData otid = held->tid;
	AcctsecUpdateIndexes update_indexes;

	values[LN_LAST_SEQ] = Int64GetDatum(held->seq);
	values[LN_HEAD] = PointerGetDatum(cstring_to_text_with_len((char *) held->head,
															   held->head_len));
	replace[LN_LAST_SEQ] = replace[LN_HEAD] = true;
	newtup = heap_modify_tuple(ExecFetchSlotHeapTuple(st->lane_slot, false, NULL),
							   RelationGetDescr(st->lanes), values, nulls, replace);
	acctsec_simple_heap_update(st->lanes, &otid, newtup, &update_indexes);
	ExecStoreHeapTuple(newtup, st->lane_new, false);
	list_free(acctsec_update_index_tuples(st->lanes_rri, st->lane_new, st->estate,
										  &update_indexes));
	ExecClearTuple(st->lane_new);
	ExecClearTuple(st->lane_slot);
}

/*
 * The seal, at pre-commit (prepare false) or pre-prepare (prepare true).
 * A commit takes a lane for this moment only; a prepare writes its seal
 * without one.
 */
static void
tx_seal(bool prepare)
{
	AcctsecRoleSwitch sw;
	bool		have_rows = tx_chain.nrows > 0;
	TimestampTz now = GetCurrentTimestamp();
	Oid			lanes_relid,
				seals_relid;
	SealTables	st;

	tx_sealed = true;
	if (!have_rows && (prepare || !link_requested))
		return;
	if (!seal_relids(&lanes_relid, &seals_relid))
		return;

	/*
	 * The statements, when any run, run as the log's owner; the privilege
	 * switch costs more than the seal's own hashing (its search_path is a
	 * setting set and reset), so it is made around them only.  The table AM
	 * checks no privileges: the rows are written as the writer writes the
	 * log's.
	 */
	seal_tables_open(&st, lanes_relid, seals_relid);
	if (prepare)
		seal_insert(&st, FullTransactionIdGetDatum(GetTopFullTransactionId()), false,
					NULL, tx_chain.nrows, tx_chain.head, tx_chain.head_len, now, NULL);
	else
	{
		HeldLane	held;
		bool		changed = false;

		if (!lane_acquire(&st, &held))
		{
			acctsec_become_role(audit_log_facts().owner, &sw);
			acctsec_spi_connect();
			lane_wait(&st, &held);
			acctsec_spi_finish();
			acctsec_restore_role(&sw);
		}
		if (have_rows)
		{
			FullTransactionId fxid = GetTopFullTransactionId();
			uint8		hash[AUDIT_HASH_BYTES];

			lane_append(&held, U64FromFullTransactionId(fxid), tx_chain.nrows,
						tx_chain.head, tx_chain.head_len, now, hash);
			seal_insert(&st, FullTransactionIdGetDatum(fxid), true, &held,
						tx_chain.nrows, tx_chain.head, tx_chain.head_len, now, hash);
			changed = true;
		}
		if (held.pending)
		{
			int64		before = held.seq;

			acctsec_become_role(audit_log_facts().owner, &sw);
			acctsec_spi_connect();
			link_pending(&held);
			acctsec_spi_finish();
			acctsec_restore_role(&sw);
			changed = changed || held.seq != before;
		}
		if (changed)
			lane_update(&st, &held);
	}
	seal_tables_close(&st);
}

static void
audit_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
			writer_close();
			tx_seal(false);
			break;
		case XACT_EVENT_PRE_PREPARE:
			writer_close();
			tx_seal(true);
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PREPARE:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PARALLEL_ABORT:
			tx_reset();
			break;
		default:
			break;
	}
}

static void
audit_register_callbacks(void)
{
	if (callbacks_registered)
		return;
	RegisterXactCallback(audit_xact_callback, NULL);
	RegisterSubXactCallback(audit_subxact_callback, NULL);
	CacheRegisterRelcacheCallback(audit_relcache_callback, (Datum) 0);
	callbacks_registered = true;
}

/* inet_client_addr(), computed once per backend: it cannot change. */
static Datum
audit_client_addr(bool *isnull)
{
	if (!client_addr_known)
	{
		LOCAL_FCINFO(fcinfo, 0);
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
		Datum		addr;

		InitFunctionCallInfoData(*fcinfo, NULL, 0, InvalidOid, NULL, NULL);
		addr = inet_client_addr(fcinfo);
		client_addr_datum = fcinfo->isnull ? (Datum) 0 : addr;
		if (!fcinfo->isnull)
			client_addr_text = DatumGetCString(DirectFunctionCall1(inet_out, addr));
		MemoryContextSwitchTo(old);
		client_addr_known = true;
	}
	*isnull = (client_addr_datum == (Datum) 0);
	return client_addr_datum;
}

static const char *
audit_db_user(void)
{
	Oid			session_user = GetSessionUserId();

	if (session_user != db_user_oid)
	{
		char	   *name = GetUserNameFromId(session_user, false);

		strlcpy(db_user_name, name, sizeof(db_user_name));
		db_user_oid = session_user;
	}
	return db_user_name;
}

/* ----------------------------------------------------------------------
 * Rows as hashed (audit_hash.h): text columns as they are, inet, jsonb and
 * text[] as their output text.
 * ---------------------------------------------------------------------- */

static void
field_text(AuditField *f, Datum v, bool isnull)
{
	text	   *t;

	if (isnull)
	{
		f->data = NULL;
		f->len = -1;
		return;
	}
	t = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(v));
	f->data = (const uint8 *) VARDATA_ANY(t);
	f->len = VARSIZE_ANY_EXHDR(t);
}

static void
field_cstring(AuditField *f, const char *s)
{
	f->data = (const uint8 *) s;
	f->len = s == NULL ? -1 : (int64) strlen(s);
}

static void
field_out(AuditField *f, PGFunction out, Datum v, bool isnull)
{
	field_cstring(f, isnull ? NULL : DatumGetCString(DirectFunctionCall1(out, v)));
}

/* text[] as array_out() writes it (array_out caches in its FmgrInfo). */
static void
field_array(AuditField *f, Datum v, bool isnull)
{
	static FmgrInfo array_out_info;
	static bool array_out_ready = false;

	if (isnull)
	{
		field_cstring(f, NULL);
		return;
	}
	if (!array_out_ready)
	{
		fmgr_info_cxt(F_ARRAY_OUT, &array_out_info, TopMemoryContext);
		array_out_ready = true;
	}
	field_cstring(f, OutputFunctionCall(&array_out_info, v));
}

/* A jsonb column as hashed: its text when the writer was given it. */
static void
field_jsonb(AuditField *f, const char *printed, Datum v, bool isnull)
{
	if (printed != NULL && !isnull)
		field_cstring(f, printed);
	else
		field_out(f, jsonb_out, v, isnull);
}

/*
 * The image of a row from its column values.  client_text, when given, is
 * the text of client_addr (the writer's cached copy); row, when given, may
 * have the text of its jsonb values.
 */
static void
row_image(AuditRowImage *img, const Datum *values, const bool *nulls,
		  const char *client_text, const AcctsecAuditRow *row)
{
	img->id = DatumGetInt64(values[AL_ID]);
	img->logged_at = DatumGetTimestampTz(values[AL_LOGGED_AT]);
	img->txid = U64FromFullTransactionId(DatumGetFullTransactionId(values[AL_TXID]));
	field_text(&img->db_user, values[AL_DB_USER], nulls[AL_DB_USER]);
	field_text(&img->relation, values[AL_RELATION], nulls[AL_RELATION]);
	field_text(&img->operation, values[AL_OPERATION], nulls[AL_OPERATION]);
	if (row != NULL && row->changed_columns_text != NULL && !nulls[AL_CHANGED_COLUMNS])
		field_cstring(&img->changed_columns, row->changed_columns_text);
	else
		field_array(&img->changed_columns, values[AL_CHANGED_COLUMNS],
					nulls[AL_CHANGED_COLUMNS]);
	field_text(&img->actor, values[AL_ACTOR], nulls[AL_ACTOR]);
	if (client_text != NULL || nulls[AL_CLIENT_ADDR])
		field_cstring(&img->client_addr, nulls[AL_CLIENT_ADDR] ? NULL : client_text);
	else
		field_out(&img->client_addr, inet_out, values[AL_CLIENT_ADDR], false);
	field_text(&img->account, values[AL_ACCOUNT], nulls[AL_ACCOUNT]);
	field_jsonb(&img->row_key, row ? row->row_key_text : NULL,
				values[AL_ROW_KEY], nulls[AL_ROW_KEY]);
	field_jsonb(&img->old_values, row ? row->old_values_text : NULL,
				values[AL_OLD_VALUES], nulls[AL_OLD_VALUES]);
	field_jsonb(&img->new_values, row ? row->new_values_text : NULL,
				values[AL_NEW_VALUES], nulls[AL_NEW_VALUES]);
}

/*
 * The hash of a stored row, chained to prev; false if its salt or erasure
 * is malformed (or an erased row still holds personal data).
 */
static bool
stored_row_hash(const Datum *values, const bool *nulls, const uint8 *prev,
				int prev_len, uint8 *out)
{
	AuditRowImage img;
	uint8		p_actor[AUDIT_HASH_BYTES];
	uint8		p_data[AUDIT_HASH_BYTES];
	bytea	   *salt = nulls[AL_SALT] ? NULL : DatumGetByteaPP(values[AL_SALT]);
	bytea	   *erasure = nulls[AL_ERASURE] ? NULL : DatumGetByteaPP(values[AL_ERASURE]);

	if ((salt == NULL) == nulls[AL_ERASED_BY])
		return false;			/* erased rows, and only they, name their
								 * erasure */
	row_image(&img, values, nulls, NULL, NULL);
	if (audit_row_commitments(&img,
							  salt ? (uint8 *) VARDATA_ANY(salt) : NULL,
							  salt ? VARSIZE_ANY_EXHDR(salt) : 0,
							  erasure ? (uint8 *) VARDATA_ANY(erasure) : NULL,
							  erasure ? VARSIZE_ANY_EXHDR(erasure) : 0,
							  p_actor, p_data) != 0)
		return false;
	audit_row_hash(prev, prev_len, &img, p_actor, p_data, out);
	return true;
}

/*
 * Write one audit row, chained to this transaction's previous one; returns
 * its id.  Callable from any C code in the extension, inside or outside SPI.
 */
int64
acctsec_audit_write(const AcctsecAuditRow *row)
{
	Datum		values[AL_NCOLUMNS];
	bool		nulls[AL_NCOLUMNS];
	uint8		hash[AUDIT_HASH_BYTES];
	uint8		salt[AUDIT_SALT_BYTES];
	uint8		p_actor[AUDIT_HASH_BYTES];
	uint8		p_data[AUDIT_HASH_BYTES];
	uint8		idbuf[8];
	AuditRowImage img;
	int64		id;
	const char *actor;
	HeapTuple	tuple;
	ResourceOwner save_owner;

	/* rows are stored with heap_insert, which does not check this itself */
	PreventCommandIfReadOnly("INSERT INTO acctsec.audit_log");
	audit_register_callbacks();
	if (tx_sealed)
		elog(ERROR, "an audit row cannot be written after the transaction's seal");

	memset(nulls, 0, sizeof(nulls));
	values[AL_LOGGED_AT] = TimestampTzGetDatum(GetCurrentStatementStartTimestamp());
	values[AL_TXID] = FullTransactionIdGetDatum(GetTopFullTransactionId());
	values[AL_DB_USER] = CStringGetTextDatum(audit_db_user());
	actor = audit_actor;
	if (actor != NULL && actor[0] != '\0')
		values[AL_ACTOR] = CStringGetTextDatum(actor);
	else
		nulls[AL_ACTOR] = true;
	values[AL_CLIENT_ADDR] = audit_client_addr(&nulls[AL_CLIENT_ADDR]);
#define AUDIT_TEXT(col, s) \
	do { if ((s) != NULL) values[col] = CStringGetTextDatum(s); else nulls[col] = true; } while (0)
#define AUDIT_PTR(col, p) \
	do { if ((p) != NULL) values[col] = PointerGetDatum(p); else nulls[col] = true; } while (0)
	AUDIT_TEXT(AL_RELATION, row->relation);
	AUDIT_TEXT(AL_OPERATION, row->operation);
	AUDIT_TEXT(AL_ACCOUNT, row->account);
	AUDIT_PTR(AL_ROW_KEY, row->row_key);
	AUDIT_PTR(AL_OLD_VALUES, row->old_values);
	AUDIT_PTR(AL_NEW_VALUES, row->new_values);
	AUDIT_PTR(AL_CHANGED_COLUMNS, row->changed_columns);
#undef AUDIT_TEXT
#undef AUDIT_PTR
	if (nulls[AL_OPERATION])
		elog(ERROR, "audit row without an operation");
	nulls[AL_ERASED_BY] = true;
	nulls[AL_ERASURE] = true;

	tx_save_for_subxact();
	writer_open(DatumGetTimestampTz(values[AL_LOGGED_AT]));
	if (!tx_salt_ready)
	{
		randombytes_buf(tx_salt, sizeof(tx_salt));
		tx_salt_ready = true;
	}

	id = nextval_internal(writer->facts.seqid, false);
	values[AL_ID] = Int64GetDatum(id);

	/* the row's salt: keyed by this transaction's random key, never stored */
	for (int i = 0; i < 8; i++)
		idbuf[i] = (uint8) ((uint64) id >> (56 - 8 * i));
	crypto_generichash(salt, sizeof(salt), idbuf, sizeof(idbuf), tx_salt, sizeof(tx_salt));
	values[AL_SALT] = PointerGetDatum(cstring_to_text_with_len((char *) salt, sizeof(salt)));

	row_image(&img, values, nulls, client_addr_text, row);
	audit_commit_actor(salt, &img, p_actor);
	audit_commit_data(salt + AUDIT_SUBKEY_BYTES, &img, p_data);
	audit_row_hash(tx_chain.head, tx_chain.head_len, &img, p_actor, p_data, hash);
	values[AL_HASH] = PointerGetDatum(cstring_to_text_with_len((char *) hash, sizeof(hash)));

	/*
	 * The row goes straight into the table and its indexes, as COPY puts
	 * rows: no rewrite rules, row triggers, RLS or CHECK constraints apply to
	 * the audit log (it has none; its guards are statement triggers on
	 * UPDATE, DELETE and TRUNCATE).  The columns are NOT NULL where the
	 * values above always are.  Under the writer's own resource owner.
	 */
	tuple = heap_form_tuple(RelationGetDescr(writer->rel), values, nulls);
	save_owner = CurrentResourceOwner;
	CurrentResourceOwner = writer->owner;
	PG_TRY();
	{
		heap_insert(writer->rel, tuple, GetCurrentCommandId(true), 0, NULL);
		/* the slot only lends the tuple to the index code, never owns it */
		ExecStoreHeapTuple(tuple, writer->slot, false);
		if (writer->rri->ri_NumIndices > 0)
			list_free(acctsec_insert_index_tuples(writer->rri, writer->slot,
												  writer->estate));
		ExecClearTuple(writer->slot);
		ResetPerTupleExprContext(writer->estate);
	}
	PG_FINALLY();
	{
		CurrentResourceOwner = save_owner;
	}
	PG_END_TRY();

	tx_chain.nrows++;
	tx_chain.head_len = AUDIT_HASH_BYTES;
	memcpy(tx_chain.head, hash, sizeof(hash));
	sodium_memzero(salt, sizeof(salt));
	return id;
}

/*
 * BEFORE UPDATE OR DELETE OR TRUNCATE ... FOR EACH STATEMENT on the audit
 * log, its seals, lanes and checkpoints: nobody changes them, except
 * audit_purge(), audit_erase() and the linking of a prepared transaction's
 * seal.
 */
Datum
acctsec_audit_log_guard(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("acctsec.audit_log_guard() must be called as a trigger")));
	if (guard_open && !TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event))
		return PointerGetDatum(NULL);
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("the acctsec audit log is append-only"),
			 errdetail("%s on \"%s\" is not allowed, not even to its owner.",
					   TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event) ? "TRUNCATE" :
					   TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ? "UPDATE" : "DELETE",
					   RelationGetRelationName(trigdata->tg_relation)),
			 errhint("Old rows are removed with acctsec.audit_purge().")));
	PG_RETURN_NULL();			/* keep the compiler quiet */
}

/*
 * BEFORE UPDATE ... FOR EACH ROW on audit_lanes, enabled only for
 * replication (ENABLE REPLICA): in an archive that subscribes to the log
 * (docs/replication.md) it keeps each lane's base where it was.  The
 * primary's audit_purge() moves the base past the seals it deletes; the
 * archive receives no deletes and keeps those seals and rows, so its lanes
 * must go on starting where its history does, and the whole archive (old
 * checkpoints included) verifies from there.
 */
PG_FUNCTION_INFO_V1(acctsec_audit_archive_lanes);

Datum
acctsec_audit_archive_lanes(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	int			cols[2];
	Datum		values[2];
	bool		nulls[2];

	if (!acctsec_trigger_fired(fcinfo, true, TRIGGER_TYPE_BEFORE,
							   TRIGGER_TYPE_UPDATE))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("acctsec.audit_archive_lanes() must be fired BEFORE UPDATE FOR EACH ROW")));
	desc = RelationGetDescr(trigdata->tg_relation);
	cols[0] = SPI_fnumber(desc, "base_seq");
	cols[1] = SPI_fnumber(desc, "base_hash");
	if (cols[0] <= 0 || cols[1] <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("acctsec.audit_archive_lanes() is for acctsec.audit_lanes only")));
	for (int i = 0; i < 2; i++)
		values[i] = heap_getattr(trigdata->tg_trigtuple, cols[i], desc, &nulls[i]);
	return PointerGetDatum(heap_modify_tuple_by_cols(trigdata->tg_newtuple, desc, 2,
													 cols, values, nulls));
}

/* ----------------------------------------------------------------------
 * Verification
 * ---------------------------------------------------------------------- */

/* One lane as audit_verify() sees it. */
typedef struct VerifyLane
{
	int32		lane;
	int64		last_seq;
	int64		base_seq;
	int			head_len;
	int			base_len;
	uint8		head[AUDIT_HASH_BYTES];
	uint8		base_hash[AUDIT_HASH_BYTES];
	/* where the walk starts (the base, or the oldest checkpoint given) */
	int64		start_seq;
	int			start_len;
	uint8		start_hash[AUDIT_HASH_BYTES];
	bool		start_from_seal;	/* start_hash is the stored hash of seal
									 * start_seq */
} VerifyLane;

/* A lane position a checkpoint states. */
typedef struct VerifyPoint
{
	int32		lane;
	int64		seq;
	uint8		head[AUDIT_HASH_BYTES];
	int			head_len;
	int			checkpoint;		/* 1-based index in the array given */
} VerifyPoint;

typedef struct VerifyState
{
	bool		ok;
	int64		checked;
	int64		first_bad;		/* -1: none named */
	int			failed_checkpoint;	/* 0: none */
	char	   *detail;
	uint64		bad_seal_txid;	/* first seal found bad, to name one of its
								 * rows */
	bool		bad_seal;
} VerifyState;

static void
			verify_fail(VerifyState *vs, int64 id, const char *fmt,...) pg_attribute_printf(3, 4);

static void
verify_fail(VerifyState *vs, int64 id, const char *fmt,...)
{
	vs->ok = false;
	if (id >= 0 && (vs->first_bad < 0 || id < vs->first_bad))
		vs->first_bad = id;
	if (vs->detail == NULL)
	{
		StringInfoData buf;
		va_list		ap;

		initStringInfo(&buf);
		for (;;)
		{
			int			needed;

			va_start(ap, fmt);
			needed = appendStringInfoVA(&buf, fmt, ap);
			va_end(ap);
			if (needed == 0)
				break;
			enlargeStringInfo(&buf, needed);
		}
		vs->detail = buf.data;
	}
}

static void
verify_bad_seal(VerifyState *vs, uint64 txid)
{
	if (!vs->bad_seal)
	{
		vs->bad_seal = true;
		vs->bad_seal_txid = txid;
	}
}

/* The first checkpoint found failing is the one named. */
static void
verify_bad_checkpoint(VerifyState *vs, int checkpoint)
{
	if (vs->failed_checkpoint == 0)
		vs->failed_checkpoint = checkpoint;
}

/* A batch-reading cursor, so that two can be read side by side. */
typedef struct VerifyCursor
{
	Portal		portal;
	SPITupleTable *tt;
	uint64		n;
	uint64		pos;
	bool		done;
} VerifyCursor;

static HeapTuple
cursor_next(VerifyCursor *c)
{
	if (c->done)
		return NULL;
	if (c->tt == NULL || c->pos >= c->n)
	{
		if (c->tt != NULL)
			SPI_freetuptable(c->tt);
		SPI_cursor_fetch(c->portal, true, 1000);
		c->tt = SPI_tuptable;
		c->n = SPI_processed;
		c->pos = 0;
		if (c->n == 0)
		{
			c->done = true;
			return NULL;
		}
	}
	return c->tt->vals[c->pos++];
}

/*
 * The verification's reads, all read-only under the calling statement's
 * snapshot.
 */
static AcctsecPlan verify_lanes_plan = {
	"SELECT lane, last_seq, head, base_seq, base_hash "
	"FROM acctsec.audit_lanes ORDER BY lane",
	0, {InvalidOid}, SPI_OK_SELECT, NULL
};

/* before the first seal: has an id been used, is anything sealed? */
static AcctsecPlan verify_sequence_plan = {
	"SELECT s.is_called AND NOT EXISTS (SELECT FROM acctsec.audit_seals "
	"  WHERE lane IS NULL), EXISTS (SELECT FROM acctsec.audit_seals "
	"  WHERE lane IS NOT NULL) FROM acctsec.audit_log_id_seq s",
	0, {InvalidOid}, SPI_OK_SELECT, NULL
};

/* one lane's seals after $2, in order (a cursor) */
static AcctsecPlan verify_lane_plan = {
	"SELECT seq, txid, nrows, digest, sealed_at, hash "
	"FROM acctsec.audit_seals WHERE lane OPERATOR(pg_catalog.=) $1 "
	"AND seq OPERATOR(pg_catalog.>) $2 ORDER BY seq",
	ACCTSEC_PLAN_ARGS(INT4OID, INT8OID), SPI_OK_SELECT, NULL
};

/* the oldest seal of a prepared transaction, not yet in a lane */
static AcctsecPlan verify_pending_plan = {
	"SELECT pg_catalog.min(txid)::text FROM acctsec.audit_seals "
	"WHERE lane IS NULL",
	0, {InvalidOid}, SPI_OK_SELECT, NULL
};

/* rows and seals from transaction $1 on, side by side (cursors) */
static AcctsecPlan verify_rows_plan = {
	"SELECT " AUDIT_LOG_COLUMNS " FROM acctsec.audit_log "
	"WHERE txid OPERATOR(pg_catalog.>=) $1 ORDER BY txid, id",
	ACCTSEC_PLAN_ARGS(XID8OID), SPI_OK_SELECT, NULL
};

static AcctsecPlan verify_seals_plan = {
	"SELECT txid, nrows, digest FROM acctsec.audit_seals "
	"WHERE txid OPERATOR(pg_catalog.>=) $1 ORDER BY txid",
	ACCTSEC_PLAN_ARGS(XID8OID), SPI_OK_SELECT, NULL
};

/* the first of the erasure events $1 that is not in the log */
static AcctsecPlan verify_erasures_plan = {
	"SELECT e FROM pg_catalog.unnest($1) AS e "
	"WHERE NOT EXISTS (SELECT FROM acctsec.audit_log l "
	"  WHERE l.id OPERATOR(pg_catalog.=) e "
	"    AND l.operation OPERATOR(pg_catalog.=) 'audit.erased') LIMIT 1",
	ACCTSEC_PLAN_ARGS(INT8ARRAYOID), SPI_OK_SELECT, NULL
};

/* a row of transaction $1, to name as the first bad one */
static AcctsecPlan verify_bad_row_plan = {
	"SELECT pg_catalog.min(id) FROM acctsec.audit_log "
	"WHERE txid OPERATOR(pg_catalog.=) $1",
	ACCTSEC_PLAN_ARGS(XID8OID), SPI_OK_SELECT, NULL
};

/*
 * The walk of lane vl failed at the seal it starts from: the checkpoint that
 * names that seal fails.
 */
static void
verify_bad_start(VerifyState *vs, const VerifyLane *vl,
				 const VerifyPoint *points, int npoints)
{
	for (int p = 0; p < npoints; p++)
		if (points[p].lane == vl->lane && points[p].seq == vl->start_seq)
			verify_bad_checkpoint(vs, points[p].checkpoint);
}

static bool
hash_matches(const uint8 *h, int len, Datum stored, bool isnull)
{
	bytea	   *b;

	if (isnull)
		return false;
	b = DatumGetByteaPP(stored);
	return (int) VARSIZE_ANY_EXHDR(b) == len &&
		(len == 0 || memcmp(h, VARDATA_ANY(b), len) == 0);
}

/*
 * Walk the seals of one lane from its start to its head, checking every
 * seal's hash and every checkpoint position on the way.  Returns the
 * lowest transaction id among the seals walked (UINT64_MAX if none).
 */
static uint64
verify_lane(VerifyState *vs, VerifyLane *vl, VerifyPoint *points, int npoints)
{
	Datum		args[2];
	Portal		portal;
	VerifyCursor cur = {0};
	HeapTuple	t;
	uint8		prev[AUDIT_HASH_BYTES];
	int			prev_len = vl->start_len;
	int64		expect = vl->start_seq + 1;
	uint64		min_txid = PG_UINT64_MAX;
	bool		broken = false;
	bool		start_seen = !vl->start_from_seal;

	memcpy(prev, vl->start_hash, prev_len);
	args[0] = Int32GetDatum(vl->lane);
	args[1] = Int64GetDatum(vl->start_from_seal ? vl->start_seq - 1 : vl->start_seq);
	portal = acctsec_plan_open(&verify_lane_plan, args, NULL);
	cur.portal = portal;
	while ((t = cursor_next(&cur)) != NULL)
	{
		TupleDesc	d = cur.tt->tupdesc;
		bool		isnull[6];
		Datum		v[6];
		int64		seq;
		uint64		txid;
		uint8		hash[AUDIT_HASH_BYTES];
		bytea	   *digest;

		for (int i = 0; i < 6; i++)
			v[i] = SPI_getbinval(t, d, i + 1, &isnull[i]);
		seq = DatumGetInt64(v[0]);
		txid = U64FromFullTransactionId(DatumGetFullTransactionId(v[1]));
		if (broken)
			continue;
		if (vl->start_from_seal && seq <= vl->start_seq)
		{
			/* the checkpoint's own seal: it must still be there, unchanged */
			if (seq != vl->start_seq || !hash_matches(prev, prev_len, v[5], isnull[5]))
			{
				verify_bad_start(vs, vl, points, npoints);
				verify_fail(vs, -1, "lane %d: seal %lld is not the one the checkpoint names",
							vl->lane, (long long) vl->start_seq);
				verify_bad_seal(vs, txid);
				broken = true;
			}
			start_seen = true;
			continue;
		}
		if (!start_seen)
			break;
		if (seq != expect || seq > vl->last_seq || isnull[3] || isnull[4])
		{
			verify_fail(vs, -1, "lane %d: seal %lld is missing or out of place",
						vl->lane, (long long) expect);
			verify_bad_seal(vs, txid);
			broken = true;
			continue;
		}
		digest = DatumGetByteaPP(v[3]);
		audit_seal_hash(prev, prev_len, vl->lane, seq, txid, DatumGetInt64(v[2]),
						(uint8 *) VARDATA_ANY(digest), VARSIZE_ANY_EXHDR(digest),
						DatumGetTimestampTz(v[4]), hash);
		if (!hash_matches(hash, sizeof(hash), v[5], isnull[5]))
		{
			verify_fail(vs, -1, "lane %d: seal %lld does not chain to the seal before it",
						vl->lane, (long long) seq);
			verify_bad_seal(vs, txid);
			broken = true;
			continue;
		}
		for (int p = 0; p < npoints; p++)
			if (points[p].lane == vl->lane && points[p].seq == seq &&
				(points[p].head_len != AUDIT_HASH_BYTES ||
				 memcmp(points[p].head, hash, AUDIT_HASH_BYTES) != 0))
			{
				verify_bad_checkpoint(vs, points[p].checkpoint);
				verify_fail(vs, -1, "lane %d: seal %lld is not the one checkpoint %d names",
							vl->lane, (long long) seq, points[p].checkpoint);
				verify_bad_seal(vs, txid);
			}
		if (txid < min_txid)
			min_txid = txid;
		memcpy(prev, hash, sizeof(hash));
		prev_len = sizeof(hash);
		expect++;
	}
	if (cur.tt != NULL)
		SPI_freetuptable(cur.tt);
	SPI_cursor_close(portal);

	if (!broken && !start_seen)
	{
		verify_bad_start(vs, vl, points, npoints);
		verify_fail(vs, -1, "lane %d: seal %lld, which a checkpoint names, is gone",
					vl->lane, (long long) vl->start_seq);
		broken = true;
	}
	if (!broken)
	{
		if (expect - 1 != vl->last_seq)
			verify_fail(vs, -1, "lane %d ends at seal %lld, not at its head %lld",
						vl->lane, (long long) (expect - 1), (long long) vl->last_seq);
		else if (prev_len != vl->head_len || memcmp(prev, vl->head, prev_len) != 0)
			verify_fail(vs, -1, "lane %d: the head hash is not the last seal's", vl->lane);
	}
	for (int p = 0; p < npoints && start_seen; p++)
		if (points[p].lane == vl->lane && points[p].seq >= expect)
		{
			verify_bad_checkpoint(vs, points[p].checkpoint);
			verify_fail(vs, -1, "lane %d ends before seal %lld of checkpoint %d",
						vl->lane, (long long) points[p].seq, points[p].checkpoint);
		}
	return min_txid;
}

static uint64
seal_txid(HeapTuple seal, TupleDesc d)
{
	bool		isnull;

	return U64FromFullTransactionId(DatumGetFullTransactionId(SPI_getbinval(seal, d, 1, &isnull)));
}

/*
 * Check the rows of every transaction whose id is at least from_txid
 * against its seal: rows read in (txid, id) order beside the seals in txid
 * order.  The rows this transaction wrote itself (not sealed yet) are
 * compared with the chain kept in this backend.
 */
static void
verify_rows(VerifyState *vs, uint64 from_txid)
{
	Datum		arg = FullTransactionIdGetDatum(FullTransactionIdFromU64(from_txid));
	VerifyCursor rows = {0};
	VerifyCursor seals = {0};
	HeapTuple	seal = NULL;
	HeapTuple	row;
	FullTransactionId own = GetTopFullTransactionIdIfAny();
	uint64		own_txid = FullTransactionIdIsValid(own) ? U64FromFullTransactionId(own) : 0;
	bool		have_group = false;
	uint64		g_txid = 0;
	bool		g_sealed = false;
	int64		g_nrows = 0;
	uint8		g_digest[AUDIT_HASH_BYTES];
	int			g_digest_len = 0;
	int64		g_count = 0;
	bool		g_bad = false;
	int64		g_last_id = -1;
	uint8		prev[AUDIT_HASH_BYTES];
	int			prev_len = 0;
	MemoryContext row_cxt = AllocSetContextCreate(CurrentMemoryContext,
												  "acctsec verify row",
												  ALLOCSET_DEFAULT_SIZES);
	int64	   *erased = NULL;	/* pairs: erased row, its erasure event */
	int			n_erased = 0;
	int			cap_erased = 0;

	rows.portal = acctsec_plan_open(&verify_rows_plan, &arg, NULL);
	seals.portal = acctsec_plan_open(&verify_seals_plan, &arg, NULL);
	seal = cursor_next(&seals);

	for (;;)
	{
		Datum		values[AL_NCOLUMNS];
		bool		nulls[AL_NCOLUMNS];
		uint64		txid = 0;
		int64		id = 0;
		uint8		hash[AUDIT_HASH_BYTES];

		row = cursor_next(&rows);
		if (row != NULL)
		{
			heap_deform_tuple(row, rows.tt->tupdesc, values, nulls);
			txid = U64FromFullTransactionId(DatumGetFullTransactionId(values[AL_TXID]));
			id = DatumGetInt64(values[AL_ID]);
		}

		/* the end of a transaction's rows: do they add up to its seal? */
		if (have_group && (row == NULL || txid != g_txid))
		{
			if (!g_bad)
			{
				if (g_count != g_nrows)
					verify_fail(vs, g_count > g_nrows ? g_last_id : -1,
								"transaction %llu has %lld audit rows, its seal says %lld",
								(unsigned long long) g_txid, (long long) g_count,
								(long long) g_nrows);
				else if (prev_len != g_digest_len || memcmp(prev, g_digest, prev_len) != 0)
					verify_fail(vs, g_last_id,
								"the last audit row of transaction %llu is not the one its seal names",
								(unsigned long long) g_txid);
			}
			have_group = false;
		}
		if (row == NULL)
			break;

		if (!have_group)
		{
			/* seals with no rows at all, before this transaction */
			while (seal != NULL && seal_txid(seal, seals.tt->tupdesc) < txid)
			{
				verify_fail(vs, -1, "a sealed transaction's audit rows are all missing");
				seal = cursor_next(&seals);
			}
			have_group = true;
			g_txid = txid;
			g_count = 0;
			g_bad = false;
			prev_len = 0;
			g_sealed = false;
			if (seal != NULL && seal_txid(seal, seals.tt->tupdesc) == txid)
			{
				bool		isnull;
				bytea	   *digest;

				g_sealed = true;
				g_nrows = DatumGetInt64(SPI_getbinval(seal, seals.tt->tupdesc, 2, &isnull));
				digest = DatumGetByteaPP(SPI_getbinval(seal, seals.tt->tupdesc, 3, &isnull));
				g_digest_len = Min(VARSIZE_ANY_EXHDR(digest), AUDIT_HASH_BYTES);
				memcpy(g_digest, VARDATA_ANY(digest), g_digest_len);
				seal = cursor_next(&seals);
			}
			else if (own_txid != 0 && txid == own_txid)
			{
				g_sealed = true;
				g_nrows = tx_chain.nrows;
				g_digest_len = tx_chain.head_len;
				memcpy(g_digest, tx_chain.head, g_digest_len);
			}
			if (!g_sealed)
			{
				verify_fail(vs, id, "audit row %lld belongs to no sealed transaction",
							(long long) id);
				g_bad = true;
			}
		}

		vs->checked++;
		g_count++;
		g_last_id = id;
		if (g_bad)
			continue;
		if (!nulls[AL_ERASED_BY])
		{
			int64		by = DatumGetInt64(values[AL_ERASED_BY]);

			/* checked below: an audit.erased event written after the row */
			if (by <= id)
			{
				verify_fail(vs, id, "audit row %lld names an erasure older than itself",
							(long long) id);
				g_bad = true;
				continue;
			}
			if (n_erased == cap_erased)
			{
				cap_erased = cap_erased ? cap_erased * 2 : 64;
				erased = erased ? repalloc(erased, sizeof(int64) * 2 * cap_erased) :
					palloc(sizeof(int64) * 2 * cap_erased);
			}
			erased[2 * n_erased] = id;
			erased[2 * n_erased + 1] = by;
			n_erased++;
		}
		{
			MemoryContext old = MemoryContextSwitchTo(row_cxt);
			bool		well_formed = stored_row_hash(values, nulls, prev, prev_len, hash);

			MemoryContextSwitchTo(old);
			MemoryContextReset(row_cxt);
			if (!well_formed || !hash_matches(hash, sizeof(hash), values[AL_HASH], nulls[AL_HASH]))
			{
				verify_fail(vs, id, "audit row %lld was changed", (long long) id);
				g_bad = true;
				continue;
			}
		}
		memcpy(prev, hash, sizeof(hash));
		prev_len = sizeof(hash);
	}
	while (seal != NULL)
	{
		verify_fail(vs, -1, "a sealed transaction's audit rows are all missing");
		seal = cursor_next(&seals);
	}
	SPI_cursor_close(rows.portal);
	SPI_cursor_close(seals.portal);
	MemoryContextDelete(row_cxt);

	/* every erased row names an audit.erased event that is still there */
	if (n_erased > 0)
	{
		Datum	   *ids = palloc(sizeof(Datum) * n_erased);
		Datum		a;

		for (int i = 0; i < n_erased; i++)
			ids[i] = Int64GetDatum(erased[2 * i + 1]);
		a = PointerGetDatum(construct_array(ids, n_erased, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		if (acctsec_plan_run(&verify_erasures_plan, &a, NULL, true, 0) > 0)
		{
			bool		isnull;
			int64		missing = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
															  SPI_tuptable->tupdesc, 1, &isnull));

			for (int i = 0; i < n_erased; i++)
				if (erased[2 * i + 1] == missing)
				{
					verify_fail(vs, erased[2 * i],
								"audit row %lld was erased, but its audit.erased event %lld is not in the log",
								(long long) erased[2 * i], (long long) missing);
					break;
				}
		}
	}
}

/*
 * The whole verification: lanes from their start, then the rows of every
 * transaction sealed since (all rows, without checkpoints).
 */
static void
verify_run(VerifyState *vs, VerifyPoint *points, int npoints,
		   VerifyLane *lanes, int nlanes, bool full)
{
	uint64		min_txid = PG_UINT64_MAX;

	for (int i = 0; i < nlanes; i++)
	{
		uint64		m = verify_lane(vs, &lanes[i], points, npoints);

		if (m < min_txid)
			min_txid = m;
	}

	/* seals in no lane: those of prepared transactions, and their rows */
	if (!full)
	{
		acctsec_plan_run(&verify_pending_plan, NULL, NULL, true, 0);
		{
			bool		isnull;
			Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

			if (!isnull)
			{
				uint64		m = strtou64(TextDatumGetCString(d), NULL, 10);

				if (m < min_txid)
					min_txid = m;
			}
		}
		if (FullTransactionIdIsValid(GetTopFullTransactionIdIfAny()) && tx_chain.nrows > 0)
		{
			uint64		m = U64FromFullTransactionId(GetTopFullTransactionIdIfAny());

			if (m < min_txid)
				min_txid = m;
		}
	}
	else
		min_txid = 0;
	if (min_txid != PG_UINT64_MAX)
		verify_rows(vs, min_txid);

	/* name a row of the first bad seal's transaction, if there is one */
	if (vs->bad_seal && vs->first_bad < 0)
	{
		Datum		a = FullTransactionIdGetDatum(FullTransactionIdFromU64(vs->bad_seal_txid));

		if (acctsec_plan_run(&verify_bad_row_plan, &a, NULL, true, 0) == 1)
		{
			bool		isnull;
			Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

			if (!isnull)
				vs->first_bad = DatumGetInt64(d);
		}
	}
}

/*
 * Read the lanes; false (and vs not ok) when they are not the 64 lanes the
 * first seal created.  *nlanes may be 0 before any seal.
 */
static VerifyLane *
verify_read_lanes(VerifyState *vs, int *nlanes)
{
	VerifyLane *lanes;
	int			n;

	n = (int) acctsec_plan_run(&verify_lanes_plan, NULL, NULL, true, 0);
	lanes = palloc0(sizeof(VerifyLane) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		TupleDesc	d = SPI_tuptable->tupdesc;
		bool		isnull;
		VerifyLane *vl = &lanes[i];

		bytea	   *head;
		bytea	   *base;

		vl->lane = DatumGetInt32(SPI_getbinval(t, d, 1, &isnull));
		vl->last_seq = DatumGetInt64(SPI_getbinval(t, d, 2, &isnull));
		head = DatumGetByteaPP(SPI_getbinval(t, d, 3, &isnull));
		vl->base_seq = DatumGetInt64(SPI_getbinval(t, d, 4, &isnull));
		base = DatumGetByteaPP(SPI_getbinval(t, d, 5, &isnull));
		vl->head_len = Min(VARSIZE_ANY_EXHDR(head), AUDIT_HASH_BYTES);
		memcpy(vl->head, VARDATA_ANY(head), vl->head_len);
		vl->base_len = Min(VARSIZE_ANY_EXHDR(base), AUDIT_HASH_BYTES);
		memcpy(vl->base_hash, VARDATA_ANY(base), vl->base_len);
		if ((vl->head_len != 0 && vl->head_len != AUDIT_HASH_BYTES) ||
			(vl->base_len != 0 && vl->base_len != AUDIT_HASH_BYTES) ||
			VARSIZE_ANY_EXHDR(head) > AUDIT_HASH_BYTES ||
			VARSIZE_ANY_EXHDR(base) > AUDIT_HASH_BYTES)
			verify_fail(vs, -1, "audit lane %d holds a hash of the wrong length", vl->lane);
		vl->start_seq = vl->base_seq;
		vl->start_len = vl->base_len;
		memcpy(vl->start_hash, vl->base_hash, vl->base_len);
		if (vl->lane != i)
			verify_fail(vs, -1, "audit lane %d is missing", i);
	}
	if (n != 0 && n != ACCTSEC_AUDIT_LANES)
		verify_fail(vs, -1, "there are %d audit lanes, not %d", n, ACCTSEC_AUDIT_LANES);
	if (n == 0)
	{
		/* before the first seal nothing may be sealed, and no id used */
		bool		isnull;

		if (acctsec_plan_run(&verify_sequence_plan, NULL, NULL, true, 0) != 1)
			elog(ERROR, "could not read the audit log's sequence");
		if ((DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)) &&
			 tx_chain.nrows == 0) ||
			DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull)))
			verify_fail(vs, -1, "the audit lanes are gone");
	}
	*nlanes = n;
	return lanes;
}

static Datum
verify_result(FunctionCallInfo fcinfo, VerifyState *vs, bool with_checkpoints)
{
	TupleDesc	tupdesc;
	Datum		result[5];
	bool		result_nulls[5] = {false, false, false, false, false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);
	result[0] = BoolGetDatum(vs->ok);
	result[1] = Int64GetDatum(vs->checked);
	if (vs->first_bad >= 0)
		result[2] = Int64GetDatum(vs->first_bad);
	else
		result_nulls[2] = true;
	if (with_checkpoints)
	{
		if (vs->failed_checkpoint > 0)
			result[3] = Int32GetDatum(vs->failed_checkpoint);
		else
			result_nulls[3] = true;
		if (vs->detail != NULL)
			result[4] = CStringGetTextDatum(vs->detail);
		else
			result_nulls[4] = true;
	}
	return HeapTupleGetDatum(heap_form_tuple(tupdesc, result, result_nulls));
}

/*
 * acctsec.audit_verify() RETURNS (ok, checked, first_bad_id)
 *
 * Everything is read under the calling statement's snapshot (read-only SPI),
 * so rows, seals and lane heads are seen as of one instant.
 */
Datum
acctsec_audit_verify(PG_FUNCTION_ARGS)
{
	VerifyState vs = {true, 0, -1, 0, NULL, 0, false};
	VerifyLane *lanes;
	int			nlanes;
	Datum		result;

	acctsec_spi_connect();
	lanes = verify_read_lanes(&vs, &nlanes);
	verify_run(&vs, NULL, 0, lanes, nlanes, true);
	acctsec_spi_finish();
	result = verify_result(fcinfo, &vs, false);
	PG_RETURN_DATUM(result);
}

static char *checkpoint_take(bool purge);

/* Locks every lane: waits for committing writers, keeps new seals out. */
static AcctsecPlan purge_lock_plan = {
	"SELECT lane FROM acctsec.audit_lanes ORDER BY lane FOR UPDATE",
	0, {InvalidOid}, SPI_OK_SELECT, NULL
};

/*
 * Where each lane's chain is cut at the cutoff $1: the seal before the
 * first one sealed at or after it (the lane's last seal when none is), and
 * where the lane now starts (base: every seal up to it is purged already).
 * MATERIALIZED: once per lane, not once per seal where the CTE would be
 * inlined into a join.  Each lane's seals are read in seq order from its
 * base to the first one sealed at or after the cutoff: as many as the
 * purge deletes, whatever the number of seals kept.
 */
#define PURGE_CUT_SQL \
	"cut AS MATERIALIZED (" \
	"  SELECT l.lane, l.base_seq AS base, COALESCE((" \
	"    SELECT pg_catalog.min(s.seq) FROM acctsec.audit_seals s" \
	"    WHERE s.lane OPERATOR(pg_catalog.=) l.lane" \
	"      AND s.seq OPERATOR(pg_catalog.>) l.base_seq" \
	"      AND s.sealed_at OPERATOR(pg_catalog.>=) $1)," \
	"    l.last_seq OPERATOR(pg_catalog.+) 1) OPERATOR(pg_catalog.-) 1 AS seq" \
	"  FROM acctsec.audit_lanes l)"

/*
 * The purge reads what it deletes, not the log nor the seals it keeps:
 * each lane's seals from its base to its cut, by a range of the (lane,
 * seq) index, one lane at a time (in one statement over all lanes, the
 * planner hashes every seal against the lanes instead), and then their
 * transactions' rows in the partitions left after the drops, by the
 * (txid, id) index, for the array of their txids (a join would let the
 * planner hash the whole partition that straddles the cutoff).  A row is
 * logged before its transaction seals, so the rows of seals sealed before
 * the cutoff are all in partitions that start before it: the others are
 * pruned.
 */

/* The lanes with seals before the cutoff $1: where to cut, from where. */
static AcctsecPlan purge_cut_plan = {
	"WITH " PURGE_CUT_SQL " "
	"SELECT lane, base, seq FROM cut WHERE seq OPERATOR(pg_catalog.>) base ORDER BY lane",
	ACCTSEC_PLAN_ARGS(TIMESTAMPTZOID), SPI_OK_SELECT, NULL
};

/* The seals of lane $1 after $2 up to $3. */
static AcctsecPlan purge_seals_plan = {
	"DELETE FROM acctsec.audit_seals WHERE lane OPERATOR(pg_catalog.=) $1 "
	"  AND seq OPERATOR(pg_catalog.>) $2 AND seq OPERATOR(pg_catalog.<=) $3 "
	"RETURNING seq, hash, txid, nrows",
	ACCTSEC_PLAN_ARGS(INT4OID, INT8OID, INT8OID), SPI_OK_DELETE_RETURNING, NULL
};

/* Lane $1 now starts after seal $2, whose hash is $3. */
static AcctsecPlan purge_base_plan = {
	"UPDATE acctsec.audit_lanes SET base_seq = $2, base_hash = $3 "
	"WHERE lane OPERATOR(pg_catalog.=) $1 AND base_seq OPERATOR(pg_catalog.<) $2",
	ACCTSEC_PLAN_ARGS(INT4OID, INT8OID, BYTEAOID), SPI_OK_UPDATE, NULL
};

/* The rows before the cutoff $1 of the transactions $2. */
static AcctsecPlan purge_rows_plan = {
	"DELETE FROM acctsec.audit_log WHERE txid OPERATOR(pg_catalog.=) ANY ($2) "
	"  AND logged_at OPERATOR(pg_catalog.<) $1",
	ACCTSEC_PLAN_ARGS(TIMESTAMPTZOID, XID8ARRAYOID), SPI_OK_DELETE, NULL
};

/*
 * The most seals one statement deletes: what a first purge of a long log
 * with small transactions holds in memory at once (their rows' txids).
 */
#define PURGE_SEALS_AT_ONCE 10000

/*
 * Delete lane's seals after from up to upto, and their rows before cutoff,
 * and move the lane's base to the last seal deleted; returns the rows
 * deleted, and adds to *sealed the rows the seals say they had (connected,
 * lanes locked, the guard open).
 */
static int64
purge_seal_range(int32 lane, int64 from, int64 upto, TimestampTz cutoff,
				 int64 *sealed)
{
	Datum		args[3];
	char		nulls[3] = {' ', ' ', ' '};
	SPITupleTable *dels;
	uint64		n;
	Datum	   *txids;
	ArrayType  *txid_array;
	int64		last_seq = from;
	bool		isnull;

	args[0] = Int32GetDatum(lane);
	args[1] = Int64GetDatum(from);
	args[2] = Int64GetDatum(upto);
	n = acctsec_plan_run(&purge_seals_plan, args, NULL, false, 0);
	dels = SPI_tuptable;
	if (n == 0)
	{
		SPI_freetuptable(dels);
		return 0;
	}
	txids = palloc(sizeof(Datum) * n);
	args[2] = (Datum) 0;
	nulls[2] = 'n';
	for (uint64 j = 0; j < n; j++)
	{
		int64		seq = DatumGetInt64(SPI_getbinval(dels->vals[j], dels->tupdesc, 1, &isnull));

		if (seq > last_seq)
		{
			last_seq = seq;
			args[2] = SPI_getbinval(dels->vals[j], dels->tupdesc, 2, &isnull);
			nulls[2] = isnull ? 'n' : ' ';
		}
		txids[j] = SPI_getbinval(dels->vals[j], dels->tupdesc, 3, &isnull);
		*sealed += DatumGetInt64(SPI_getbinval(dels->vals[j], dels->tupdesc, 4, &isnull));
	}
	args[1] = Int64GetDatum(last_seq);
	acctsec_plan_run(&purge_base_plan, args, nulls, false, 0);
	txid_array = construct_array(txids, (int) n, XID8OID, sizeof(FullTransactionId),
								 FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
	SPI_freetuptable(dels);
	pfree(txids);

	args[0] = TimestampTzGetDatum(cutoff);
	args[1] = PointerGetDatum(txid_array);
	n = acctsec_plan_run(&purge_rows_plan, args, NULL, false, 0);
	pfree(txid_array);
	return (int64) n;
}

/*
 * Delete the seals up to each lane's cut and their rows, and move each
 * lane's base to the last seal deleted, PURGE_SEALS_AT_ONCE seals at a
 * time; returns the rows deleted, and in *sealed the rows the seals
 * deleted say they had (connected, lanes locked, the guard open).
 */
static int64
purge_seals_and_rows(TimestampTz cutoff, int64 *sealed)
{
	Datum		arg = TimestampTzGetDatum(cutoff);
	SPITupleTable *cuts;
	uint64		ncuts;
	int64		deleted = 0;
	bool		isnull;

	*sealed = 0;
	ncuts = acctsec_plan_run(&purge_cut_plan, &arg, NULL, false, 0);
	cuts = SPI_tuptable;
	for (uint64 i = 0; i < ncuts; i++)
	{
		int32		lane = DatumGetInt32(SPI_getbinval(cuts->vals[i], cuts->tupdesc, 1, &isnull));
		int64		from = DatumGetInt64(SPI_getbinval(cuts->vals[i], cuts->tupdesc, 2, &isnull));
		int64		to = DatumGetInt64(SPI_getbinval(cuts->vals[i], cuts->tupdesc, 3, &isnull));

		while (from < to)
		{
			int64		upto = to - from > PURGE_SEALS_AT_ONCE ? from + PURGE_SEALS_AT_ONCE : to;

			deleted += purge_seal_range(lane, from, upto, cutoff, sealed);
			from = upto;
			CHECK_FOR_INTERRUPTS();
		}
	}
	SPI_freetuptable(cuts);
	return deleted;
}

/*
 * Run a statement that writes the audit log's own tables, which their guard
 * trigger lets through only while guard_open is set (connected).
 */
static uint64
run_guarded(AcctsecPlan *plan, Datum *args, const char *nulls)
{
	uint64		n;

	guard_open = true;
	PG_TRY();
	{
		n = acctsec_plan_run(plan, args, nulls, false, 0);
	}
	PG_FINALLY();
	{
		guard_open = false;
	}
	PG_END_TRY();
	return n;
}

/*
 * The cutoff of audit_purge(older_than): the transaction's start less
 * older_than, which must not be negative.
 */
static TimestampTz
purge_cutoff(Interval *older_than)
{
	Interval	zero;

	memset(&zero, 0, sizeof(zero));
	if (DatumGetInt32(DirectFunctionCall2(interval_cmp, IntervalPGetDatum(older_than),
										  IntervalPGetDatum(&zero))) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("older_than must not be negative")));

	/*
	 * In replica mode the lanes' archive trigger fires and would keep the
	 * base where it was, over seals this purge deletes.
	 */
	if (SessionReplicationRole == SESSION_REPLICATION_ROLE_REPLICA)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the audit log cannot be purged with session_replication_role = replica"),
				 errhint("Purge with session_replication_role = origin.")));
	return DatumGetTimestampTz(DirectFunctionCall2(timestamptz_mi_interval,
												   TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()),
												   IntervalPGetDatum(older_than)));
}

/*
 * Does a partition wholly before the cutoff $1 hold rows that the purge
 * keeps, those of a transaction sealed after the cut of its lane (a long
 * one, or one that sealed out of time order) or not yet linked into a
 * lane?  Only the seals of transactions from the partition's oldest to
 * its newest are looked at, and each of those after the cut is looked up
 * in the partition's (txid, id) index (connected, lanes locked).
 */
static bool
partition_keeps_rows(const char *qname, TimestampTz cutoff)
{
	Datum		arg = TimestampTzGetDatum(cutoff);
	Oid			argtype = TIMESTAMPTZOID;
	bool		isnull;
	char	   *sql;

	sql = psprintf("WITH " PURGE_CUT_SQL " "
				   "SELECT EXISTS (SELECT FROM acctsec.audit_seals s "
				   "  LEFT JOIN cut ON cut.lane OPERATOR(pg_catalog.=) s.lane "
				   "  WHERE s.txid OPERATOR(pg_catalog.>=) (SELECT pg_catalog.min(r.txid) FROM acctsec.%s r) "
				   "    AND s.txid OPERATOR(pg_catalog.<=) (SELECT pg_catalog.max(r.txid) FROM acctsec.%s r) "
				   "    AND (s.lane IS NULL OR s.seq OPERATOR(pg_catalog.>) cut.seq) "
				   "    AND EXISTS (SELECT FROM acctsec.%s r WHERE r.txid OPERATOR(pg_catalog.=) s.txid))",
				   qname, qname, qname);
	acctsec_sql_run(sql, SPI_OK_SELECT, 1, &argtype, &arg, NULL, true, 0);
	return DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/*
 * Lock the partitions of the log whose whole range is before cutoff, and
 * the log itself (as DROP TABLE of a partition does), ahead of the lanes:
 * writers lock the partition they write and then, at commit, a lane, so
 * taking the lanes first could deadlock with a writer still in an old
 * partition.  A partition a transaction still writes (or a prepared one
 * wrote) is not waited for: it is purged row by row.  Returns the number
 * of partitions locked, their relids in *relids (connected).
 */
static int
purge_lock_partitions(TimestampTz cutoff, Oid **relids)
{
	Oid			parent = audit_log_facts().relid;
	AcctsecAuditPartition *parts;
	Oid			default_relid;
	int			nparts;
	int			n = 0;

	nparts = acctsec_audit_partitions_copy(parent, &parts, &default_relid);
	if (nparts <= 0 || parts[0].upper > cutoff)
		return 0;
	LockRelationOid(parent, AccessExclusiveLock);
	/* what changed while waiting */
	nparts = acctsec_audit_partitions_copy(parent, &parts, &default_relid);
	*relids = palloc(sizeof(Oid) * Max(nparts, 1));
	for (int i = 0; i < nparts && parts[i].upper <= cutoff; i++)
	{
		bool		got = false;

		/*
		 * With the log locked, no new reader reaches a partition; one that
		 * just committed may still be releasing its lock on it.  So a few
		 * short tries, as VACUUM tries for the lock to truncate a table; a
		 * writer still in the partition holds it to its commit.
		 */
		for (int attempt = 0; attempt < 20 && !got; attempt++)
		{
			got = ConditionalLockRelationOid(parts[i].relid, AccessExclusiveLock);
			if (!got)
			{
				CHECK_FOR_INTERRUPTS();
				pg_usleep(10000L);
			}
		}
		if (got)
			(*relids)[n++] = parts[i].relid;
	}
	return n;
}

/*
 * Purge the seals before cutoff, and their rows, and take the purge
 * checkpoint; returns the number of rows removed, and the number of
 * partitions dropped in *dropped (connected).
 *
 * The rows removed are those of the seals before the cut, as they always
 * were; a partition whose rows are all among them goes whole with DROP
 * TABLE, at a cost that does not grow with its rows, and the rest (in the
 * partition that straddles the cutoff, the default partition, and any
 * partition that keeps a row) are deleted one by one.  The seals are
 * deleted one by one in either case (purge_seals_and_rows()).  The rows of
 * a dropped partition are counted by their seals, which say how many each
 * transaction wrote.
 */
static int64
purge_before(TimestampTz cutoff, int *dropped)
{
	int64		deleted;
	int64		sealed;
	Oid		   *relids = NULL;
	int			nlocked;
	char	  **names;

	nlocked = purge_lock_partitions(cutoff, &relids);
	acctsec_plan_run(&purge_lock_plan, NULL, NULL, false, 0);

	/* drop the partitions that hold only rows of seals before the cut */
	names = palloc(sizeof(char *) * Max(nlocked, 1));
	*dropped = 0;
	for (int i = 0; i < nlocked; i++)
	{
		char	   *relname = get_rel_name(relids[i]);

		if (relname == NULL)
			continue;
		names[i] = pstrdup(quote_identifier(relname));
		if (partition_keeps_rows(names[i], cutoff))
			continue;
		acctsec_sql_run(psprintf("DROP TABLE acctsec.%s", names[i]), SPI_OK_UTILITY,
						0, NULL, NULL, NULL, false, 0);
		(*dropped)++;
	}
	CommandCounterIncrement();

	guard_open = true;
	PG_TRY();
	{
		deleted = purge_seals_and_rows(cutoff, &sealed);
	}
	PG_FINALLY();
	{
		guard_open = false;
	}
	PG_END_TRY();
	CommandCounterIncrement();

	/*
	 * The purge point is itself a checkpoint (kind=purge): kept, logged and
	 * sent like any other, it is what vouches for older checkpoints whose
	 * seals are gone.
	 */
	checkpoint_take(true);
	if (*dropped > 0 && sealed > deleted)
		return sealed;			/* the rest were in the partitions dropped */
	return deleted;
}

/*
 * acctsec.audit_purge(older_than interval) RETURNS bigint
 *
 * Deletes, lane by lane, the seals (and their transactions' rows) before
 * the first one sealed at or after now() - older_than, records in each
 * lane where its surviving chain now starts (the number and hash of the
 * last seal deleted), and logs itself as the event "audit.purged".
 * Superuser only.
 */
Datum
acctsec_audit_purge(PG_FUNCTION_ARGS)
{
	Interval   *older_than = PG_GETARG_INTERVAL_P(0);
	TimestampTz cutoff;
	int64		deleted;
	int			dropped;
	char		countbuf[32];
	char		droppedbuf[32];
	char	   *interval_text;

	/*
	 * The function runs as its definer, so superuser() would only test the
	 * extension owner: judge the role that called it (the session's current
	 * role, as SET ROLE left it), whatever EXECUTE was granted to.
	 */
	if (!superuser_arg(GetOuterUserId()))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("only a superuser may purge the audit log")));
	cutoff = purge_cutoff(older_than);

	acctsec_spi_connect();
	deleted = purge_before(cutoff, &dropped);
	acctsec_spi_finish();

	snprintf(countbuf, sizeof(countbuf), INT64_FORMAT, deleted);
	snprintf(droppedbuf, sizeof(droppedbuf), "%d", dropped);
	interval_text = DatumGetCString(DirectFunctionCall1(interval_out,
														IntervalPGetDatum(older_than)));
	record_event() ("audit.purged", NULL,
					"older_than", interval_text,
					"before", timestamptz_to_str(cutoff),
					"deleted", countbuf,
					"dropped_partitions", droppedbuf,
					NULL);
	PG_RETURN_INT64(deleted);
}

/* ----------------------------------------------------------------------
 * Checkpoints (audit_checkpoint.h has the format)
 * ---------------------------------------------------------------------- */

PG_FUNCTION_INFO_V1(acctsec_audit_checkpoint);
PG_FUNCTION_INFO_V1(acctsec_audit_public_key);
PG_FUNCTION_INFO_V1(acctsec_audit_verify_checkpoints);
PG_FUNCTION_INFO_V1(acctsec_audit_verify_checkpoints_key);

static bool checkpoint_log = false;
static char *checkpoint_channel = NULL;

/* A channel is an identifier: LISTEN takes at most NAMEDATALEN - 1 bytes. */
bool
acctsec_check_notify_channel(char **newval, void **extra, GucSource source)
{
	if (*newval != NULL && strlen(*newval) >= NAMEDATALEN)
	{
		GUC_check_errdetail("A channel name has at most %d bytes.", NAMEDATALEN - 1);
		return false;
	}
	return true;
}

static void
define_checkpoint_gucs(void)
{
	DefineCustomBoolVariable("acctsec.audit_checkpoint_log",
							 "Writes every audit checkpoint to the server log.",
							 NULL,
							 &checkpoint_log,
							 false,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);
	DefineCustomStringVariable("acctsec.audit_checkpoint_channel",
							   "Channel on which every audit checkpoint is sent with NOTIFY at commit.",
							   "Empty (the default) sends nothing.",
							   &checkpoint_channel,
							   "",
							   PGC_SUSET, 0,
							   acctsec_check_notify_channel, NULL, NULL);
}

/* A timestamp as ISO 8601 in UTC with microseconds. */
static void
utc_text(TimestampTz ts, char *buf, size_t len)
{
	struct pg_tm tm;
	fsec_t		fsec;

	if (timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) != 0)
		elog(ERROR, "timestamp out of range");
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ",
			 tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
			 (int) fsec);
}

static AcctsecPlan checkpoint_no_plan = {
	"SELECT pg_catalog.nextval('acctsec.audit_checkpoint_no')",
	0, {InvalidOid}, SPI_OK_SELECT, NULL
};

/* the lanes in use, with their heads: what a checkpoint vouches for */
static AcctsecPlan checkpoint_lanes_plan = {
	"SELECT lane, last_seq, head FROM acctsec.audit_lanes "
	"WHERE last_seq OPERATOR(pg_catalog.>) 0 ORDER BY lane",
	0, {InvalidOid}, SPI_OK_SELECT, NULL
};

static AcctsecPlan checkpoint_insert_plan = {
	"INSERT INTO acctsec.audit_checkpoints (no, taken_at, statement) "
	"VALUES ($1, $2, $3)",
	ACCTSEC_PLAN_ARGS(INT8OID, TIMESTAMPTZOID, TEXTOID), SPI_OK_INSERT, NULL
};

/*
 * Take, sign, record and emit a checkpoint of the lanes as this statement
 * sees them (SPI connected).  Returns the statement (palloc'd).
 */
static char *
checkpoint_take(bool purge)
{
	StringInfoData buf;
	char		at[40];
	uint8		pk[crypto_sign_PUBLICKEYBYTES];
	uint8		sig[crypto_sign_BYTES];
	char		hex[2 * crypto_sign_BYTES + 1];
	int64		no;
	uint64		nlanes;
	TimestampTz now = GetCurrentTimestamp();
	Datum		args[3];
	bool		isnull;

	if (acctsec_plan_run(&checkpoint_no_plan, NULL, NULL, false, 0) != 1)
		elog(ERROR, "could not number the audit checkpoint");
	no = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));

	utc_text(now, at, sizeof(at));
	initStringInfo(&buf);
	appendStringInfo(&buf, "%s no=" INT64_FORMAT " at=%s system=" UINT64_FORMAT " db=%u kind=%s lanes=",
					 AUDIT_CHECKPOINT_MAGIC, no, at, GetSystemIdentifier(), MyDatabaseId,
					 purge ? "purge" : "checkpoint");
	nlanes = acctsec_plan_run(&checkpoint_lanes_plan, NULL, NULL, false, 0);
	if (nlanes == 0)
		appendStringInfoChar(&buf, '-');
	for (uint64 i = 0; i < nlanes; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		TupleDesc	d = SPI_tuptable->tupdesc;
		int32		lane = DatumGetInt32(SPI_getbinval(t, d, 1, &isnull));
		int64		seq = DatumGetInt64(SPI_getbinval(t, d, 2, &isnull));
		bytea	   *head = DatumGetByteaPP(SPI_getbinval(t, d, 3, &isnull));

		if (lane < 0 || lane >= ACCTSEC_AUDIT_LANES || VARSIZE_ANY_EXHDR(head) != AUDIT_HASH_BYTES)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("audit lane %d is damaged", lane),
					 errhint("Run acctsec.audit_verify().")));
		sodium_bin2hex(hex, sizeof(hex), (uint8 *) VARDATA_ANY(head), AUDIT_HASH_BYTES);
		appendStringInfo(&buf, "%s%d:" INT64_FORMAT ":%s", i > 0 ? "," : "", lane, seq, hex);
	}
	acctsec_audit_signing_key(pk);
	sodium_bin2hex(hex, sizeof(hex), pk, sizeof(pk));
	appendStringInfo(&buf, " key=%s", hex);
	acctsec_audit_sign((uint8 *) buf.data, buf.len, pk, sig);
	sodium_bin2hex(hex, sizeof(hex), sig, sizeof(sig));
	appendStringInfo(&buf, " sig=%s", hex);

	args[0] = Int64GetDatum(no);
	args[1] = TimestampTzGetDatum(now);
	args[2] = CStringGetTextDatum(buf.data);
	acctsec_plan_run(&checkpoint_insert_plan, args, NULL, false, 0);

	if (checkpoint_log)
		ereport(LOG,
				(errmsg("acctsec audit checkpoint %s", buf.data),
				 errhidestmt(true)));
	if (checkpoint_channel != NULL && checkpoint_channel[0] != '\0')
		Async_Notify(checkpoint_channel, buf.data);
	return buf.data;
}

/* acctsec.audit_checkpoint() RETURNS text */
Datum
acctsec_audit_checkpoint(PG_FUNCTION_ARGS)
{
	char	   *statement;
	text	   *result;

	acctsec_spi_connect();
	statement = checkpoint_take(false);
	result = cstring_to_text(statement);	/* in the caller's context */
	acctsec_spi_finish();
	PG_RETURN_TEXT_P(result);
}

/* acctsec.audit_public_key() RETURNS text: hex of the current signing key */
Datum
acctsec_audit_public_key(PG_FUNCTION_ARGS)
{
	uint8		pk[crypto_sign_PUBLICKEYBYTES];
	char		hex[2 * crypto_sign_PUBLICKEYBYTES + 1];

	acctsec_audit_signing_key(pk);
	sodium_bin2hex(hex, sizeof(hex), pk, sizeof(pk));
	PG_RETURN_TEXT_P(cstring_to_text(hex));
}

/*
 * acctsec.audit_verify(checkpoints text[]) RETURNS (ok, checked,
 * first_bad_id, failed_checkpoint, detail)
 *
 * Every checkpoint must be well formed, signed by a key of this database's
 * ring, and name this database; the chain of every lane must still pass
 * through the seal each checkpoint names for it.  Each lane is walked from
 * the oldest position a checkpoint gives for it (from its base when no
 * checkpoint names it), and only the rows of the transactions sealed from
 * there on are read: verification from the last good checkpoint costs the
 * rows after it.  A position before a lane's purge point is accepted only
 * when a later purge checkpoint is among those given.
 */
static Datum verify_checkpoints(FunctionCallInfo fcinfo, ArrayType *arr,
								const uint8 *trusted_key);

Datum
acctsec_audit_verify_checkpoints(PG_FUNCTION_ARGS)
{
	return verify_checkpoints(fcinfo, PG_GETARG_ARRAYTYPE_P(0), NULL);
}

/*
 * acctsec.audit_verify(checkpoints text[], public_key text): the same, with
 * checkpoints signed by the key given (hex) instead of a key of this
 * database's ring.  This is what an archive (a subscriber of the log,
 * docs/replication.md) runs: it holds the primary's rows but not its keys,
 * and trusts the public key the auditor obtained from the primary, as the
 * offline verifier does.
 */
Datum
acctsec_audit_verify_checkpoints_key(PG_FUNCTION_ARGS)
{
	char	   *hex = text_to_cstring(PG_GETARG_TEXT_PP(1));
	uint8		key[crypto_sign_PUBLICKEYBYTES];
	size_t		len = 0;
	const char *end = NULL;

	if (sodium_hex2bin(key, sizeof(key), hex, strlen(hex), NULL, &len, &end) != 0 ||
		len != sizeof(key) || *end != '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("public_key must be %d hexadecimal digits",
						(int) (2 * crypto_sign_PUBLICKEYBYTES)),
				 errhint("acctsec.audit_public_key() on the server that took the checkpoints gives it.")));
	return verify_checkpoints(fcinfo, PG_GETARG_ARRAYTYPE_P(0), key);
}

static Datum
verify_checkpoints(FunctionCallInfo fcinfo, ArrayType *arr, const uint8 *trusted_key)
{
	Datum	   *elems;
	bool	   *elem_nulls;
	int			n;
	VerifyState vs = {true, 0, -1, 0, NULL, 0, false};
	AuditCheckpoint *cps;
	bool	   *cp_valid;
	VerifyPoint *points;
	int			npoints = 0;
	VerifyLane *lanes;
	int			nlanes;
	int64		last_purge_no = -1;
	Datum		result;

	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("checkpoints must be a one-dimensional array")));
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &elem_nulls, &n);
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("no checkpoint given"),
				 errhint("acctsec.audit_verify() checks the whole log without checkpoints.")));
	cps = palloc0(sizeof(AuditCheckpoint) * n);
	cp_valid = palloc0(sizeof(bool) * n);
	points = palloc0(sizeof(VerifyPoint) * n * AUDIT_CHECKPOINT_MAX_LANES);
	for (int i = 0; i < n; i++)
	{
		char	   *s;
		const char *why;

		if (elem_nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("checkpoint %d is NULL", i + 1)));
		s = TextDatumGetCString(elems[i]);
		if (audit_checkpoint_parse(s, strlen(s), &cps[i], &why) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("checkpoint %d is not valid: %s", i + 1, why)));
		if (!audit_checkpoint_signed(s, &cps[i]))
		{
			verify_bad_checkpoint(&vs, i + 1);
			verify_fail(&vs, -1, "checkpoint %d: the signature does not match", i + 1);
			continue;
		}
		if (trusted_key != NULL ?
			memcmp(cps[i].key, trusted_key, crypto_sign_PUBLICKEYBYTES) != 0 :
			!acctsec_audit_public_key_known(cps[i].key))
		{
			verify_bad_checkpoint(&vs, i + 1);
			if (trusted_key != NULL)
				verify_fail(&vs, -1, "checkpoint %d is not signed with the public key given", i + 1);
			else
				verify_fail(&vs, -1, "checkpoint %d is signed with a key this database does not hold", i + 1);
			continue;
		}
		if (cps[i].system != GetSystemIdentifier() || cps[i].db != MyDatabaseId)
		{
			/*
			 * a restored copy has another system identifier: say so, but
			 * check
			 */
			ereport(NOTICE,
					(errmsg("checkpoint %d was taken in another database (system %llu, database %u)",
							i + 1, (unsigned long long) cps[i].system, cps[i].db)));
		}
		cp_valid[i] = true;
		if (cps[i].purge && cps[i].no > last_purge_no)
			last_purge_no = cps[i].no;
		for (int l = 0; l < cps[i].nlanes; l++)
		{
			VerifyPoint *p = &points[npoints++];

			p->lane = cps[i].lanes[l].lane;
			p->seq = cps[i].lanes[l].seq;
			memcpy(p->head, cps[i].lanes[l].head, AUDIT_HASH_BYTES);
			p->head_len = AUDIT_HASH_BYTES;
			p->checkpoint = i + 1;
		}
	}

	acctsec_spi_connect();
	lanes = verify_read_lanes(&vs, &nlanes);
	for (int p = 0; p < npoints; p++)
	{
		VerifyLane *vl = NULL;

		for (int i = 0; i < nlanes; i++)
			if (lanes[i].lane == points[p].lane)
				vl = &lanes[i];
		if (vl == NULL)
		{
			verify_bad_checkpoint(&vs, points[p].checkpoint);
			verify_fail(&vs, -1, "lane %d of checkpoint %d is gone", points[p].lane,
						points[p].checkpoint);
			continue;
		}
		if (points[p].seq < vl->base_seq ||
			(points[p].seq == vl->base_seq &&
			 (vl->base_len != AUDIT_HASH_BYTES ||
			  memcmp(vl->base_hash, points[p].head, AUDIT_HASH_BYTES) != 0)))
		{
			/* before the purge point: only a later purge checkpoint vouches */
			if (last_purge_no > cps[points[p].checkpoint - 1].no &&
				points[p].seq < vl->base_seq)
			{
				points[p].lane = -1;	/* nothing left to check it against */
				continue;
			}
			verify_bad_checkpoint(&vs, points[p].checkpoint);
			verify_fail(&vs, -1, "lane %d now starts after seal %lld of checkpoint %d",
						vl->lane, (long long) points[p].seq, points[p].checkpoint);
			points[p].lane = -1;
			continue;
		}
		if (points[p].seq == vl->base_seq)
			continue;			/* the base itself: the walk starts there
								 * anyway */
		if (!vl->start_from_seal || points[p].seq < vl->start_seq)
		{
			vl->start_from_seal = true;
			vl->start_seq = points[p].seq;
			memcpy(vl->start_hash, points[p].head, AUDIT_HASH_BYTES);
			vl->start_len = AUDIT_HASH_BYTES;
		}
	}

	/*
	 * A lane a valid checkpoint does not list had no seals then: that
	 * checkpoint's position for it is 0, so the lane is walked from its base,
	 * and a base moved since (a purge) needs a later purge checkpoint.
	 */
	for (int i = 0; i < nlanes; i++)
	{
		VerifyLane *vl = &lanes[i];

		for (int c = 0; c < n; c++)
		{
			bool		listed = false;

			if (!cp_valid[c])
				continue;
			for (int l = 0; l < cps[c].nlanes; l++)
				if (cps[c].lanes[l].lane == vl->lane)
					listed = true;
			if (listed)
				continue;
			vl->start_from_seal = false;
			vl->start_seq = vl->base_seq;
			vl->start_len = vl->base_len;
			memcpy(vl->start_hash, vl->base_hash, vl->base_len);
			if (vl->base_seq > 0 && !(last_purge_no > cps[c].no))
			{
				verify_bad_checkpoint(&vs, c + 1);
				verify_fail(&vs, -1, "lane %d now starts after the start of checkpoint %d",
							vl->lane, c + 1);
			}
		}
	}
	verify_run(&vs, points, npoints, lanes, nlanes, false);
	acctsec_spi_finish();
	result = verify_result(fcinfo, &vs, true);
	PG_RETURN_DATUM(result);
}

/* ----------------------------------------------------------------------
 * Erasure
 * ---------------------------------------------------------------------- */

PG_FUNCTION_INFO_V1(acctsec_audit_erase);

/* The account's unerased rows: its security events and linked tables' rows. */
static AcctsecPlan erase_rows_plan = {
	"SELECT " AUDIT_LOG_COLUMNS " FROM acctsec.audit_log a "
	"WHERE a.salt IS NOT NULL AND (a.account OPERATOR(pg_catalog.=) $1 "
	"  OR (a.row_key IS NOT NULL AND EXISTS (SELECT FROM acctsec.linked_tables l "
	"        JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) l.tbl "
	"        JOIN pg_catalog.pg_namespace s ON s.oid OPERATOR(pg_catalog.=) c.relnamespace "
	"      WHERE a.relation OPERATOR(pg_catalog.=) pg_catalog.format('%I.%I', s.nspname, c.relname) "
	"        AND a.row_key OPERATOR(pg_catalog.->>) l.key_column::text OPERATOR(pg_catalog.=) $1))) "
	"ORDER BY a.id FOR UPDATE OF a",
	ACCTSEC_PLAN_ARGS(TEXTOID), SPI_OK_SELECT, NULL
};

static AcctsecPlan erase_update_plan = {
	"UPDATE acctsec.audit_log SET salt = NULL, erased_by = $2, erasure = $3, "
	"client_addr = NULL, account = NULL, row_key = NULL, old_values = NULL, "
	"new_values = NULL, actor = CASE WHEN $4 THEN NULL ELSE actor END "
	"WHERE id OPERATOR(pg_catalog.=) $1 AND logged_at OPERATOR(pg_catalog.=) $5",
	ACCTSEC_PLAN_ARGS(INT8OID, INT8OID, BYTEAOID, BOOLOID, TIMESTAMPTZOID),
	SPI_OK_UPDATE, NULL
};

/*
 * Erase one audit row of account, as the event event_id: its values give
 * way to the commitments the chain hashed, and its salt goes (connected).
 */
static void
erase_row(HeapTuple tuple, TupleDesc desc, const char *account_c, int64 event_id)
{
	Datum		values[AL_NCOLUMNS];
	bool		nulls[AL_NCOLUMNS];
	AuditRowImage img;
	bytea	   *salt;
	uint8		p_actor[AUDIT_HASH_BYTES];
	uint8		p_data[AUDIT_HASH_BYTES];
	uint8		erasure[AUDIT_ERASURE_GONE_BYTES];
	int			erasure_len;
	bool		actor_gone;
	Datum		args[5];

	heap_deform_tuple(tuple, desc, values, nulls);
	salt = DatumGetByteaPP(values[AL_SALT]);
	if (VARSIZE_ANY_EXHDR(salt) != AUDIT_SALT_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("audit row " INT64_FORMAT " has a salt of the wrong length",
						DatumGetInt64(values[AL_ID])),
				 errhint("Run acctsec.audit_verify().")));
	row_image(&img, values, nulls, NULL, NULL);
	audit_commit_actor((uint8 *) VARDATA_ANY(salt), &img, p_actor);
	audit_commit_data((uint8 *) VARDATA_ANY(salt) + AUDIT_SUBKEY_BYTES, &img, p_data);
	actor_gone = !nulls[AL_ACTOR] &&
		strcmp(TextDatumGetCString(values[AL_ACTOR]), account_c) == 0;
	memcpy(erasure, p_data, AUDIT_HASH_BYTES);
	if (actor_gone)
	{
		erasure[AUDIT_HASH_BYTES] = 1;
		memcpy(erasure + AUDIT_HASH_BYTES + 1, p_actor, AUDIT_HASH_BYTES);
		erasure_len = AUDIT_ERASURE_GONE_BYTES;
	}
	else
	{
		/* the actor stays: keep only the half of the salt that keys it */
		erasure[AUDIT_HASH_BYTES] = 0;
		memcpy(erasure + AUDIT_HASH_BYTES + 1, VARDATA_ANY(salt), AUDIT_SUBKEY_BYTES);
		erasure_len = AUDIT_ERASURE_KEPT_BYTES;
	}
	args[0] = values[AL_ID];
	args[1] = Int64GetDatum(event_id);
	args[2] = PointerGetDatum(cstring_to_text_with_len((char *) erasure, erasure_len));
	args[3] = BoolGetDatum(actor_gone);
	args[4] = values[AL_LOGGED_AT]; /* prunes the partitions */
	if (run_guarded(&erase_update_plan, args, NULL) != 1)
		elog(ERROR, "could not erase audit row " INT64_FORMAT, DatumGetInt64(values[AL_ID]));
	sodium_memzero(VARDATA_ANY(salt), AUDIT_SALT_BYTES);
}

/*
 * acctsec.audit_erase(account text) RETURNS bigint
 *
 * Erases the personal data of an account from its audit rows: the rows
 * naming it (security events) and the rows of linked tables whose key is
 * it.  Their client address, account, row key and old and new values go,
 * and the actor when it is that account; each row keeps its id, time,
 * transaction, database user, relation, operation and changed columns, and
 * in place of the values erased the commitments the chain hashed (keyed by
 * the row's salt, which goes too, so they cannot be brute-forced back).
 * The chain still verifies, and still detects any other change.  Logged
 * as the event "audit.erased" (with the number of rows, not the account),
 * which every erased row names.  Superuser only, judged by the session.
 */
Datum
acctsec_audit_erase(PG_FUNCTION_ARGS)
{
	text	   *account = PG_GETARG_TEXT_PP(0);
	char	   *account_c = text_to_cstring(account);
	Datum		arg = PointerGetDatum(account);
	SPITupleTable *tt;
	uint64		n;
	int64		event_id;
	char		countbuf[32];

	/* the session's role, not the definer's (these functions are definers) */
	if (!superuser_arg(GetOuterUserId()))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("only a superuser may erase audit rows")));
	if (account_c[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("account must not be empty")));

	acctsec_spi_connect();
	n = acctsec_plan_run(&erase_rows_plan, &arg, NULL, false, 0);
	tt = SPI_tuptable;

	snprintf(countbuf, sizeof(countbuf), UINT64_FORMAT, n);
	event_id = record_event() ("audit.erased", NULL, "rows", countbuf, NULL);

	for (uint64 i = 0; i < n; i++)
		erase_row(tt->vals[i], tt->tupdesc, account_c, event_id);
	acctsec_spi_finish();
	PG_RETURN_INT64((int64) n);
}
