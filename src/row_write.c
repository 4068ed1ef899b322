/*
 * row_write.c
 *		Rows of acctsec's own tables written through the table access
 *		method where nothing about the table needs the executor, and the
 *		indexes of those tables kept for the backend (row_write.h).
 *
 * An UPDATE or INSERT statement through SPI spends most of its
 * instructions on the executor's start-up and shut-down and on the
 * statement's parameters, not on the heap and index writes
 * (test/bench/profile.sh).  The hot paths write their rows here as the
 * executor's ModifyTable node would for a table with nothing else on it
 * (nodeModifyTable.c, and execReplication.c, which does the same for
 * logical replication): the permission a statement needs, the read-only
 * and parallel-mode checks, the replica identity check, NOT NULL,
 * heap_update or heap_insert, and ExecInsertIndexTuples where index
 * entries are due.  Whatever more a statement would do, a trigger that
 * fires, a rule, a policy, a CHECK constraint, a default, a domain's
 * check, makes the write the statement instead, so nothing is bypassed.
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/pg_class.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "nodes/bitmapset.h"
#include "optimizer/optimizer.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/relcache.h"
#include "utils/snapmgr.h"
#include "utils/varlena.h"

#include "compat.h"
#include "relation_util.h"
#include "row_lock.h"
#include "row_write.h"
#include "spi_util.h"

/* the caches and the writes known, for the relcache callback */
static AcctsecIndexCache *index_caches = NULL;
static AcctsecRowWrite *row_writes = NULL;
static bool callbacks_registered = false;

static MemoryContext index_cache_context = NULL;

/*
 * Stale caches' memory, freed when the transaction ends: copies made in the
 * current transaction may still point into it.
 */
static MemoryContext index_cache_retired = NULL;

static void
row_write_relcache_callback(Datum arg, Oid relid)
{
	for (AcctsecIndexCache *c = index_caches; c != NULL; c = c->next)
	{
		bool		hit = !OidIsValid(relid) || relid == c->relid;

		for (int j = 0; j < c->nindexes && !hit; j++)
			hit = relid == c->indexoids[j];
		if (hit)
			c->valid = false;
	}
	for (AcctsecRowWrite *w = row_writes; w != NULL; w = w->next)
		if (!OidIsValid(relid) || relid == w->relid)
			w->relid = InvalidOid;
}

static void
row_write_xact_callback(XactEvent event, void *arg)
{
	if ((event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		 event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT ||
		 event == XACT_EVENT_PREPARE) &&
		index_cache_retired != NULL)
		MemoryContextReset(index_cache_retired);
}

static void
register_callbacks(void)
{
	if (callbacks_registered)
		return;
	CacheRegisterRelcacheCallback(row_write_relcache_callback, (Datum) 0);
	RegisterXactCallback(row_write_xact_callback, NULL);
	index_cache_context = AllocSetContextCreate(TopMemoryContext,
												"acctsec index caches",
												ALLOCSET_SMALL_SIZES);
	index_cache_retired = AllocSetContextCreate(index_cache_context,
												"acctsec stale index caches",
												ALLOCSET_SMALL_SIZES);
	callbacks_registered = true;
}

/* ---------------------------------------------------------------------------
 * The indexes of a table
 * ---------------------------------------------------------------------------
 */

/* (Re)build c for rel, which the caller has locked. */
static void
index_cache_build(AcctsecIndexCache *c, Relation rel)
{
	MemoryContext old;
	List	   *oids;
	ListCell   *lc;
	int			i = 0;

	register_callbacks();
	if (!c->registered)
	{
		c->next = index_caches;
		index_caches = c;
		c->registered = true;
	}
	if (c->cxt != NULL)
		MemoryContextSetParent(c->cxt, index_cache_retired);
	c->cxt = NULL;
	c->nindexes = 0;
	c->deferred = false;
	c->relid = RelationGetRelid(rel);
	c->valid = true;			/* an invalidation during the build clears it */

	c->cxt = AllocSetContextCreate(index_cache_context, "acctsec indexes",
								   ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(c->cxt);
	oids = RelationGetIndexList(rel);
	c->indexoids = palloc(Max(list_length(oids), 1) * sizeof(Oid));
	c->infos = palloc(Max(list_length(oids), 1) * sizeof(IndexInfo *));
	foreach(lc, oids)
	{
		Oid			indexoid = lfirst_oid(lc);
		Relation	index = index_open(indexoid, RowExclusiveLock);
		IndexInfo  *ii = BuildIndexInfo(index);

		/* what ExecPrepareQual does, once */
		if (ii->ii_Predicate != NIL)
			ii->ii_PredicateState =
				ExecInitQual((List *) expression_planner((Expr *) ii->ii_Predicate), NULL);
		if (index->rd_index->indisunique && !index->rd_index->indimmediate)
			c->deferred = true;
		/* what ExecOpenIndices(rri, true) adds, for ON CONFLICT */
		if (ii->ii_Unique)
			BuildSpeculativeIndexInfo(index, ii);
		index_close(index, NoLock);
		c->indexoids[i] = indexoid;
		c->infos[i] = ii;
		c->nindexes = ++i;
	}
	MemoryContextSwitchTo(old);
}

static inline void
index_cache_check(AcctsecIndexCache *c, Relation rel)
{
	if (!c->valid || c->relid != RelationGetRelid(rel))
		index_cache_build(c, rel);
}

ResultRelInfo *
acctsec_index_cache_open(Relation rel, AcctsecIndexCache *c)
{
	ResultRelInfo *rri = makeNode(ResultRelInfo);
	int			n;

	InitResultRelInfo(rri, rel, 1, NULL, 0);
	index_cache_check(c, rel);
	n = c->nindexes;
	rri->ri_NumIndices = n;
	if (n == 0)
		return rri;
	rri->ri_IndexRelationDescs = palloc(n * sizeof(Relation));
	rri->ri_IndexRelationInfo = palloc(n * sizeof(IndexInfo *));
	for (int i = 0; i < n; i++)
	{
		IndexInfo  *ii = palloc(sizeof(IndexInfo));

		memcpy(ii, c->infos[i], sizeof(IndexInfo));
		ii->ii_ExpressionsState = NIL;
		ii->ii_AmCache = NULL;
		ii->ii_Context = CurrentMemoryContext;
		rri->ri_IndexRelationInfo[i] = ii;
		rri->ri_IndexRelationDescs[i] = index_open(c->indexoids[i], RowExclusiveLock);
	}
	return rri;
}

/* ---------------------------------------------------------------------------
 * A write's columns and its statement
 * ---------------------------------------------------------------------------
 */

/*
 * Find w's columns in rel, and make its statement when they (or their
 * types) are not those of the statement already made; also whether
 * anything about the columns rules the direct write out for good (until
 * the table changes): a domain, a default outside the columns.
 */
static void
row_write_setup(AcctsecRowWrite *w, Relation rel)
{
	TupleDesc	desc = RelationGetDescr(rel);
	char	   *names = pstrdup(w->columns);
	List	   *list;
	ListCell   *lc;
	int			n = 0;
	int			off = w->cmd == CMD_UPDATE ? 1 : 0;
	Oid			argtypes[ACCTSEC_PLAN_MAX_ARGS];
	AttrNumber	attnums[ACCTSEC_MAX_COLUMNS];
	bool		same;
	Bitmapset  *keys;
	StringInfoData sql;

	register_callbacks();
	if (!w->registered)
	{
		w->next = row_writes;
		row_writes = w;
		w->registered = true;
	}
	if (!SplitIdentifierString(names, ',', &list) ||
		list_length(list) > ACCTSEC_MAX_COLUMNS ||
		list_length(list) + off > ACCTSEC_PLAN_MAX_ARGS)
		elog(ERROR, "the columns written to acctsec.%s are not names: %s",
			 w->relname, w->columns);
	w->columns_ok = true;
	argtypes[0] = TIDOID;
	foreach(lc, list)
	{
		AttrNumber	attnum = acctsec_attnum(rel, (const char *) lfirst(lc));
		Form_pg_attribute att = TupleDescAttr(desc, attnum - 1);

		attnums[n] = attnum;
		argtypes[off + n] = att->atttypid;
		if (get_typtype(att->atttypid) == TYPTYPE_DOMAIN)
			w->columns_ok = false;
		n++;
	}

	/*
	 * A CHECK constraint of an update is left to the statement unless it is
	 * valid and reads none of the columns written: the version updated
	 * satisfies it, and so does the new one.
	 */
	for (int c = 0; desc->constr != NULL && c < desc->constr->num_check; c++)
	{
		ConstrCheck *check = &desc->constr->check[c];
		Bitmapset  *read = NULL;

		if (w->cmd == CMD_INSERT || !check->ccvalid)
		{
			w->columns_ok = false;
			continue;
		}
		pull_varattnos(stringToNode(check->ccbin), 1, &read);
		for (int i = 0; i < n; i++)
			if (bms_is_member(attnums[i] - FirstLowInvalidHeapAttributeNumber, read))
				w->columns_ok = false;
		bms_free(read);
	}
	if (w->cmd == CMD_INSERT)
	{
		for (int a = 0; a < desc->natts; a++)
		{
			Form_pg_attribute att = TupleDescAttr(desc, a);
			bool		listed = false;

			for (int i = 0; i < n && !listed; i++)
				listed = attnums[i] == att->attnum;
			if (!att->attisdropped && !listed &&
				(att->atthasdef || att->attidentity || att->attgenerated))
				w->columns_ok = false;
		}
	}

	/*
	 * Does the update change a column of a key a foreign key can reference,
	 * or of one of the table's foreign keys?  (A new index or constraint
	 * invalidates the relation, and so this.)
	 */
	keys = RelationGetIndexAttrBitmap(rel, INDEX_ATTR_BITMAP_KEY);
	w->key_written = false;
	for (int i = 0; i < n; i++)
		if (bms_is_member(attnums[i] - FirstLowInvalidHeapAttributeNumber, keys))
			w->key_written = true;
	bms_free(keys);
	w->fk_written = false;
	foreach(lc, RelationGetFKeyList(rel))
	{
		ForeignKeyCacheInfo *fk = lfirst_node(ForeignKeyCacheInfo, lc);

		for (int k = 0; k < fk->nkeys; k++)
			for (int i = 0; i < n; i++)
				if (fk->conkey[k] == attnums[i])
					w->fk_written = true;
	}

	same = w->statement.sql != NULL && w->ncolumns == n &&
		memcmp(w->attnums, attnums, n * sizeof(AttrNumber)) == 0 &&
		memcmp(w->statement.argtypes, argtypes, (n + off) * sizeof(Oid)) == 0;
	w->ncolumns = n;
	memcpy(w->attnums, attnums, n * sizeof(AttrNumber));
	if (!same)
	{
		/* the statement, made once per shape of the table */
		initStringInfo(&sql);
		if (w->cmd == CMD_UPDATE)
		{
			appendStringInfo(&sql, "UPDATE acctsec.%s SET ", quote_identifier(w->relname));
			for (int i = 0; i < n; i++)
				appendStringInfo(&sql, "%s%s = $%d", i > 0 ? ", " : "",
								 quote_identifier((const char *) list_nth(list, i)), i + 2);
			appendStringInfoString(&sql, " WHERE ctid OPERATOR(pg_catalog.=) $1");
		}
		else
		{
			appendStringInfo(&sql, "INSERT INTO acctsec.%s (%s) VALUES (",
							 quote_identifier(w->relname), w->columns);
			for (int i = 0; i < n; i++)
				appendStringInfo(&sql, "%s$%d", i > 0 ? ", " : "", i + 1);
			appendStringInfoChar(&sql, ')');
			if (w->on_conflict_nothing)
				appendStringInfoString(&sql, " ON CONFLICT DO NOTHING");
		}
		if (w->statement.plan != NULL)
			SPI_freeplan(w->statement.plan);
		if (w->statement.sql != NULL)
			pfree((char *) w->statement.sql);
		w->statement.plan = NULL;
		w->statement.sql = MemoryContextStrdup(TopMemoryContext, sql.data);
		w->statement.nargs = n + off;
		memcpy(w->statement.argtypes, argtypes, (n + off) * sizeof(Oid));
		w->statement.expect = w->cmd == CMD_UPDATE ? SPI_OK_UPDATE : SPI_OK_INSERT;
		pfree(sql.data);
	}
	list_free(list);
	pfree(names);
	w->relid = RelationGetRelid(rel);
}

/* ---------------------------------------------------------------------------
 * Whether the executor is needed
 * ---------------------------------------------------------------------------
 */

/* Would trigger fire for w's write, in this session's replication role? */
static bool
trigger_fires(const AcctsecRowWrite *w, const Trigger *trigger)
{
	bool		enabled;

	if (SessionReplicationRole == SESSION_REPLICATION_ROLE_REPLICA)
		enabled = trigger->tgenabled == TRIGGER_FIRES_ON_REPLICA ||
			trigger->tgenabled == TRIGGER_FIRES_ALWAYS;
	else
		enabled = trigger->tgenabled == TRIGGER_FIRES_ON_ORIGIN ||
			trigger->tgenabled == TRIGGER_FIRES_ALWAYS;
	if (!enabled)
		return false;
	return w->cmd == CMD_UPDATE ? TRIGGER_FOR_UPDATE(trigger->tgtype) :
		TRIGGER_FOR_INSERT(trigger->tgtype);
}

/*
 * Can no trigger of rel fire for w's write?  A referenced table's
 * foreign-key triggers (RI_TRIGGER_PK) do nothing on an update that leaves
 * every key column as it is: the trigger manager does not even queue them
 * (RI_FKey_pk_upd_check_required).  A referencing table's (RI_TRIGGER_FK)
 * do nothing on an update that leaves the foreign key's columns as they
 * are, unless the row version updated was inserted by this transaction
 * (RI_FKey_fk_upd_check_required): *check_xmin asks the caller to look.
 */
static bool
triggers_idle(const AcctsecRowWrite *w, Relation rel, bool *check_xmin)
{
	TriggerDesc *td = rel->trigdesc;

	for (int i = 0; i < td->numtriggers; i++)
	{
		const Trigger *t = &td->triggers[i];
		int			ri = RI_FKey_trigger_type(t->tgfoid);

		if (!trigger_fires(w, t))
			continue;
		if (w->cmd == CMD_UPDATE && ri == RI_TRIGGER_PK && !w->key_written)
			continue;
		if (w->cmd == CMD_UPDATE && ri == RI_TRIGGER_FK && !w->fk_written)
		{
			*check_xmin = true;
			continue;
		}
		if (w->trigger_idle != NULL && w->trigger_idle(t))
			continue;
		return false;
	}
	return true;
}

/* May w's write of rel (opened and locked) skip the executor? */
static bool
write_direct(AcctsecRowWrite *w, Relation rel, bool *check_xmin)
{
	TupleConstr *constr = RelationGetDescr(rel)->constr;

	if (!w->columns_ok ||
		rel->rd_rel->relkind != RELKIND_RELATION ||
		rel->rd_tableam != GetHeapamTableAmRoutine() ||
		rel->rd_rules != NULL ||
		rel->rd_rel->relrowsecurity ||
		GetUserId() != rel->rd_rel->relowner)
		return false;
	if (constr != NULL && acctsec_has_generated(constr))
		return false;
	*check_xmin = false;
	if (rel->trigdesc != NULL && !triggers_idle(w, rel, check_xmin))
		return false;
	index_cache_check(&w->indexes, rel);
	return !w->indexes.deferred;
}

/* ---------------------------------------------------------------------------
 * The writes
 * ---------------------------------------------------------------------------
 */

/* The NOT NULL constraints, as ExecConstraints checks them (23502). */
static void
check_not_null(Relation rel, const bool *isnull)
{
	TupleDesc	desc = RelationGetDescr(rel);

	if (desc->constr == NULL || !desc->constr->has_not_null)
		return;
	for (int a = 0; a < desc->natts; a++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, a);

		if (att->attnotnull && isnull[a])
			ereport(ERROR,
					(errcode(ERRCODE_NOT_NULL_VIOLATION),
					 errmsg("null value in column \"%s\" of relation \"%s\" violates not-null constraint",
							NameStr(att->attname), RelationGetRelationName(rel)),
					 errtablecol(rel, att->attnum)));
	}
}

/*
 * The executor state index insertions need: a ResultRelInfo with the
 * table's indexes open (from the cache), and a slot holding the tuple.
 */
typedef struct IndexWriter
{
	EState	   *estate;
	ResultRelInfo *rri;
	TupleTableSlot *slot;
	MemoryContext old;
} IndexWriter;

static void
index_writer_open(IndexWriter *iw, AcctsecRowWrite *w, Relation rel,
				  HeapTuple tuple)
{
	iw->estate = CreateExecutorState();
	iw->old = MemoryContextSwitchTo(iw->estate->es_query_cxt);
	iw->rri = acctsec_index_cache_open(rel, &w->indexes);
	iw->slot = MakeSingleTupleTableSlot(RelationGetDescr(rel), &TTSOpsHeapTuple);
	ExecStoreHeapTuple(tuple, iw->slot, false);
}

static void
index_writer_close(IndexWriter *iw)
{
	ExecDropSingleTupleTableSlot(iw->slot);
	ExecCloseIndices(iw->rri);
	MemoryContextSwitchTo(iw->old);
	FreeExecutorState(iw->estate);
}

/*
 * The index entries the new version tuple needs: all of them for an insert
 * (update_indexes NULL), those update_indexes says for an update.
 */
static void
insert_index_entries(AcctsecRowWrite *w, Relation rel, HeapTuple tuple,
					 AcctsecUpdateIndexes *update_indexes)
{
	IndexWriter iw;
	List	   *recheck;

	index_writer_open(&iw, w, rel, tuple);
	if (update_indexes == NULL)
		recheck = acctsec_insert_index_tuples(iw.rri, iw.slot, iw.estate);
	else
		recheck = acctsec_update_index_tuples(iw.rri, iw.slot, iw.estate, update_indexes);
	/* no deferrable index (write_direct): nothing to recheck at commit */
	Assert(recheck == NIL);
	list_free(recheck);
	index_writer_close(&iw);
}

/* Was the row version in slot inserted by this transaction? */
static bool
inserted_by_us(TupleTableSlot *slot)
{
	bool		isnull;
	Datum		xmin = slot_getsysattr(slot, MinTransactionIdAttributeNumber, &isnull);

	return !isnull && TransactionIdIsCurrentTransactionId(DatumGetTransactionId(xmin));
}

/*
 * A conflicting row made ON CONFLICT DO NOTHING do nothing: in REPEATABLE
 * READ and SERIALIZABLE that is a serialization failure unless our snapshot
 * sees the row (or we wrote it), as the executor checks it
 * (nodeModifyTable.c, ExecCheckTIDVisible).
 */
static void
check_conflict_visible(Relation rel, ItemPointer conflict)
{
	TupleTableSlot *slot;

	if (!IsolationUsesXactSnapshot())
		return;
	slot = table_slot_create(rel, NULL);
	if (!table_tuple_fetch_row_version(rel, conflict, SnapshotAny, slot))
		elog(ERROR, "failed to fetch conflicting tuple for ON CONFLICT");
	if (!table_tuple_satisfies_snapshot(rel, slot, GetTransactionSnapshot()) &&
		!inserted_by_us(slot))
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not serialize access due to concurrent update")));
	ExecDropSingleTupleTableSlot(slot);
}

/*
 * INSERT ... ON CONFLICT DO NOTHING of tuple, as the executor does it
 * (nodeModifyTable.c, ExecInsert): look for a conflicting row in every
 * unique index, and when there is none insert speculatively, so that a
 * concurrent insert of the same key makes one of the two back out and look
 * again rather than fail.  False when a conflicting row was found.
 */
static bool
insert_unless_conflict(AcctsecRowWrite *w, Relation rel, HeapTuple tuple)
{
	IndexWriter iw;
	bool		inserted = false;

	index_writer_open(&iw, w, rel, tuple);
	for (;;)
	{
		ItemPointerData conflict;
		bool		spec_conflict = false;
		uint32		token;

		CHECK_FOR_INTERRUPTS();
		if (!acctsec_check_index_constraints(iw.rri, iw.slot, iw.estate, &conflict))
		{
			check_conflict_visible(rel, &conflict);
			break;
		}
		token = SpeculativeInsertionLockAcquire(GetCurrentTransactionId());
		table_tuple_insert_speculative(rel, iw.slot, GetCurrentCommandId(true), 0,
									   NULL, token);
		list_free(acctsec_insert_index_tuples_speculative(iw.rri, iw.slot, iw.estate,
														  &spec_conflict));
		table_tuple_complete_speculative(rel, iw.slot, token, !spec_conflict);
		SpeculativeInsertionLockRelease(GetCurrentTransactionId());
		if (!spec_conflict)
		{
			inserted = true;
			break;
		}
	}
	index_writer_close(&iw);
	return inserted;
}

/*
 * The new row version: base, natts values and nulls (the old version's, or
 * all NULL for an insert), with w's columns set to values; refused where
 * the executor would refuse the statement.
 */
static HeapTuple
new_version(AcctsecRowWrite *w, Relation rel, Datum *base, bool *base_null,
			const Datum *values, const bool *isnull)
{
	const char *cmdname = w->cmd == CMD_UPDATE ? "UPDATE" : "INSERT";

	PreventCommandIfReadOnly(cmdname);
	PreventCommandIfParallelMode(cmdname);
	CheckCmdReplicaIdentity(rel, w->cmd);
	for (int i = 0; i < w->ncolumns; i++)
	{
		base[w->attnums[i] - 1] = values[i];
		base_null[w->attnums[i] - 1] = isnull[i];
	}
	check_not_null(rel, base_null);
	return heap_form_tuple(RelationGetDescr(rel), base, base_null);
}

/* What direct_write did. */
typedef enum DirectWrite
{
	DIRECT_WRITTEN,
	DIRECT_NOTHING,				/* ON CONFLICT DO NOTHING did nothing */
	DIRECT_NEEDS_STATEMENT		/* a foreign-key trigger would fire after all */
} DirectWrite;

/*
 * The write through the table AM: the new version of the row at otid (its
 * other columns as they are), or a new row (otid NULL; the other columns
 * NULL), and its index entries.  With check_xmin, an update of a version
 * this transaction inserted is left to the statement (triggers_idle).
 */
static DirectWrite
direct_write(AcctsecRowWrite *w, Relation rel, ItemPointer otid,
			 const Datum *values, const bool *isnull, bool check_xmin)
{
	int			natts = RelationGetDescr(rel)->natts;
	Datum	   *v = palloc0(natts * sizeof(Datum));
	bool	   *n = palloc(natts * sizeof(bool));
	TupleTableSlot *old = NULL;
	HeapTuple	tuple;
	DirectWrite done = DIRECT_WRITTEN;

	memset(n, true, natts * sizeof(bool));
	if (otid != NULL)
	{
		old = table_slot_create(rel, NULL);
		if (!table_tuple_fetch_row_version(rel, otid, SnapshotAny, old))
			elog(ERROR, "the row of acctsec.%s to update is not at (%u,%u)", w->relname,
				 ItemPointerGetBlockNumber(otid), ItemPointerGetOffsetNumber(otid));
		if (check_xmin && inserted_by_us(old))
		{
			ExecDropSingleTupleTableSlot(old);
			pfree(v);
			pfree(n);
			return DIRECT_NEEDS_STATEMENT;
		}
		slot_getallattrs(old);
		memcpy(v, old->tts_values, natts * sizeof(Datum));
		memcpy(n, old->tts_isnull, natts * sizeof(bool));
	}
	tuple = new_version(w, rel, v, n, values, isnull);
	if (otid == NULL && w->on_conflict_nothing)
		done = insert_unless_conflict(w, rel, tuple) ? DIRECT_WRITTEN : DIRECT_NOTHING;
	else if (otid == NULL)
	{
		heap_insert(rel, tuple, GetCurrentCommandId(true), 0, NULL);
		insert_index_entries(w, rel, tuple, NULL);
	}
	else
	{
		ItemPointerData tid = *otid;
		AcctsecUpdateIndexes update_indexes;

		/* the caller holds the row's lock: anything but success is an error */
		acctsec_simple_heap_update(rel, &tid, tuple, &update_indexes);
		if (acctsec_update_needs_indexes(&update_indexes))
			insert_index_entries(w, rel, tuple, &update_indexes);
		ExecDropSingleTupleTableSlot(old);
	}
	heap_freetuple(tuple);
	pfree(v);
	pfree(n);
	return done;
}

/* The same write as a statement, for whatever it needs of the executor. */
static bool
statement_write(AcctsecRowWrite *w, ItemPointer otid, const Datum *values,
				const bool *isnull)
{
	Datum		args[ACCTSEC_PLAN_MAX_ARGS];
	char		nulls[ACCTSEC_PLAN_MAX_ARGS];
	int			off = 0;

	if (w->cmd == CMD_UPDATE)
	{
		args[0] = PointerGetDatum(otid);
		nulls[0] = ' ';
		off = 1;
	}
	for (int i = 0; i < w->ncolumns; i++)
	{
		args[off + i] = values[i];
		nulls[off + i] = isnull[i] ? 'n' : ' ';
	}
	return acctsec_plan_run(&w->statement, args, nulls, false, 0) > 0;
}

bool
acctsec_row_write(AcctsecRowWrite *w, ItemPointer otid, const Datum *values,
				  const bool *isnull)
{
	Oid			relid = acctsec_relid(w->relname);
	Relation	rel;
	bool		check_xmin;
	DirectWrite done = DIRECT_NEEDS_STATEMENT;

	Assert((otid != NULL) == (w->cmd == CMD_UPDATE));
	if (!OidIsValid(relid))
		elog(ERROR, "acctsec.%s is missing", w->relname);
	/* the lock an UPDATE or INSERT statement takes on its table */
	rel = table_open(relid, RowExclusiveLock);
	if (RelationGetRelid(rel) != w->relid)
		row_write_setup(w, rel);
	if (write_direct(w, rel, &check_xmin))
		done = direct_write(w, rel, otid, values, isnull, check_xmin);
	table_close(rel, NoLock);	/* the lock is kept until commit */
	if (done == DIRECT_NEEDS_STATEMENT)
		return statement_write(w, otid, values, isnull);

	/*
	 * as SPI does after a statement that may write: what follows in the
	 * caller's command sees the write
	 */
	CommandCounterIncrement();
	return done == DIRECT_WRITTEN;
}
