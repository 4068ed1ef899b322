/*
 * audit_chain.c
 *		The one writer of acctsec.audit_log rows, the hash chain that makes
 *		them tamper-evident, audit_verify() and audit_purge() (docs/audit.md).
 *
 * The chain runs in lanes so that concurrent writers never wait on one
 * another.  A transaction that writes its first audit row takes a free lane
 * (a row of acctsec.audit_lanes locked FOR UPDATE SKIP LOCKED, starting at a
 * lane that depends on the backend) and keeps it until it ends.  Its rows get
 * the lane's next sequence numbers, and each row's hash is
 *
 *		BLAKE2b-256(previous hash of the lane, every column of the row)
 *
 * The lane's new last sequence number and head hash are kept in backend
 * memory and written to the lane row once, just before commit; a rollback
 * undoes the rows and the lane together, so a lane has no gaps.  Savepoints
 * are honoured: what a rolled-back subtransaction did to the lane is undone
 * in memory too (its row lock on the lane goes with it).
 *
 * audit_verify() walks each lane by sequence number, recomputes every hash,
 * and compares where the walk ends with the lane's head, so an edited row, a
 * row inserted or deleted anywhere (the tail and whole lanes included) shows,
 * even when it was done with the append-only triggers disabled.
 */
#include "postgres.h"

#include <sodium.h>

#include "access/table.h"
#include "access/heapam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/backendid.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
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

#include "acctsec.h"

PG_FUNCTION_INFO_V1(acctsec_audit_verify);
PG_FUNCTION_INFO_V1(acctsec_audit_purge);
PG_FUNCTION_INFO_V1(acctsec_audit_log_guard);

/* Lanes 0 .. ACCTSEC_AUDIT_LANES - 1 are created by the first write. */
#define ACCTSEC_AUDIT_LANES		64
#define ACCTSEC_AUDIT_HASH_BYTES	crypto_generichash_BYTES	/* 32 */

/* Columns of acctsec.audit_log, in table order; all but the last are hashed. */
enum
{
	AL_ID, AL_LOGGED_AT, AL_TXID, AL_DB_USER, AL_ACTOR, AL_CLIENT_ADDR,
	AL_RELATION, AL_OPERATION, AL_ACCOUNT, AL_ROW_KEY, AL_OLD_VALUES,
	AL_NEW_VALUES, AL_CHANGED_COLUMNS, AL_LANE, AL_SEQ, AL_HASH,
	AL_NCOLUMNS
};
#define AL_NHASHED	AL_HASH

static const Oid audit_log_types[AL_NCOLUMNS] = {
	INT8OID, TIMESTAMPTZOID, XID8OID, TEXTOID, TEXTOID, INETOID,
	TEXTOID, TEXTOID, TEXTOID, JSONBOID, JSONBOID,
	JSONBOID, TEXTARRAYOID, INT4OID, INT8OID, BYTEAOID
};

/* This transaction's lane: held from its first audit row until it ends. */
typedef struct LaneState
{
	bool		held;
	bool		dirty;			/* rows written since the lane row was read */
	int32		lane;
	int64		seq;			/* last sequence number used */
	int			head_len;		/* 0 for an empty lane */
	uint8		head[ACCTSEC_AUDIT_HASH_BYTES];
} LaneState;

/*
 * The lane state as it was when a subtransaction first touched it, restored
 * if that subtransaction rolls back.  Kept in TopTransactionContext.
 */
typedef struct LaneSave
{
	SubTransactionId subid;
	LaneState	state;
	struct LaneSave *next;
} LaneSave;

static LaneState lane_state;
static LaneSave *lane_saves = NULL;

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

/* Set only while audit_purge() deletes; read by the append-only guard. */
static bool purge_in_progress = false;

/*
 * The audit log, opened once per transaction for writing: rows go in with
 * table_tuple_insert() and ExecInsertIndexTuples(), as COPY does, rather
 * than through an INSERT statement per row (whose executor start-up and
 * shut-down cost more than the insert itself).  Owned by the top-level
 * transaction's resource owner; closed before commit, and before any
 * utility command (so that DDL on the log, DROP EXTENSION included, finds it
 * closed); an abort simply forgets it.
 */
typedef struct AuditWriter
{
	AuditLogFacts facts;		/* as when it was opened */
	Relation	rel;
	ResultRelInfo *rri;
	EState	   *estate;
	TupleTableSlot *slot;
} AuditWriter;

static AuditWriter *writer = NULL;
static bool writer_stale = false;
static ProcessUtility_hook_type prev_process_utility = NULL;
static bool utility_hook_installed = false;

static SPIPlanPtr acquire_plan = NULL;
static SPIPlanPtr wait_plan = NULL;
static SPIPlanPtr create_lanes_plan = NULL;
static SPIPlanPtr flush_plan = NULL;

/* The connection's address (NULL for Unix sockets), computed once. */
static bool client_addr_known = false;
static Datum client_addr_datum = (Datum) 0;

/* The session user's name, looked up again only when the session user changes. */
static Oid	db_user_oid = InvalidOid;
static char db_user_name[NAMEDATALEN];

static bool callbacks_registered = false;

static SPIPlanPtr audit_keep_plan(const char *sql, int nargs, Oid *types);

static void
audit_relcache_callback(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == log_facts.relid || relid == log_facts.seqid)
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

static void
writer_close(void)
{
	ResourceOwner save_owner = CurrentResourceOwner;

	if (writer == NULL)
		return;
	CurrentResourceOwner = TopTransactionResourceOwner;
	ExecDropSingleTupleTableSlot(writer->slot);
	ExecCloseIndices(writer->rri);
	table_close(writer->rel, NoLock);	/* the lock is kept until commit */
	FreeExecutorState(writer->estate);
	CurrentResourceOwner = save_owner;
	writer = NULL;
}

static void
audit_process_utility(PlannedStmt *pstmt, const char *queryString,
					  bool readOnlyTree, ProcessUtilityContext context,
					  ParamListInfo params, QueryEnvironment *queryEnv,
					  DestReceiver *dest, QueryCompletion *qc)
{
	writer_close();
	if (prev_process_utility)
		prev_process_utility(pstmt, queryString, readOnlyTree, context, params,
							 queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
								queryEnv, dest, qc);
}

static void
writer_open(void)
{
	ResourceOwner save_owner = CurrentResourceOwner;
	MemoryContext old;
	AuditWriter *w;
	AuditLogFacts facts;

	if (writer != NULL && !writer_stale)
		return;
	writer_close();
	facts = audit_log_facts();
	writer_stale = false;
	if (!utility_hook_installed)
	{
		prev_process_utility = ProcessUtility_hook;
		ProcessUtility_hook = audit_process_utility;
		utility_hook_installed = true;
	}

	old = MemoryContextSwitchTo(TopTransactionContext);
	CurrentResourceOwner = TopTransactionResourceOwner;
	w = palloc0(sizeof(AuditWriter));
	w->facts = facts;
	w->rel = table_open(facts.relid, RowExclusiveLock);
	w->estate = CreateExecutorState();
	w->rri = makeNode(ResultRelInfo);
	InitResultRelInfo(w->rri, w->rel, 1, NULL, 0);
	ExecOpenIndices(w->rri, false);
	w->slot = MakeSingleTupleTableSlot(RelationGetDescr(w->rel), &TTSOpsHeapTuple);
	CurrentResourceOwner = save_owner;
	MemoryContextSwitchTo(old);
	writer = w;
}

static void
lane_reset(void)
{
	memset(&lane_state, 0, sizeof(lane_state));
	lane_saves = NULL;			/* its memory goes with TopTransactionContext */
	writer = NULL;				/* so does the writer; abort released its relations */
}

/* Remember the lane state before the current subtransaction first changes it. */
static void
lane_save_for_subxact(void)
{
	SubTransactionId subid = GetCurrentSubTransactionId();
	LaneSave   *save;

	if (subid == TopSubTransactionId)
		return;					/* a top-level rollback forgets everything */
	if (lane_saves != NULL && lane_saves->subid == subid)
		return;
	save = MemoryContextAlloc(TopTransactionContext, sizeof(LaneSave));
	save->subid = subid;
	save->state = lane_state;
	save->next = lane_saves;
	lane_saves = save;
}

static void
audit_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					   SubTransactionId parentSubid, void *arg)
{
	if (lane_saves == NULL || lane_saves->subid != mySubid)
		return;
	if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		lane_state = lane_saves->state;
		lane_saves = lane_saves->next;
	}
	else if (event == SUBXACT_EVENT_COMMIT_SUB)
	{
		/* The parent now owns the change; keep the parent's older save. */
		if (lane_saves->next != NULL && lane_saves->next->subid == parentSubid)
			lane_saves = lane_saves->next;
		else if (parentSubid == TopSubTransactionId)
			lane_saves = lane_saves->next;
		else
			lane_saves->subid = parentSubid;
	}
}

/* Write the lane's new last sequence number and head (we hold its row lock). */
static void
lane_flush(void)
{
	Datum		args[3];
	Oid			owner;
	Oid			save_userid;
	int			save_sec;
	int			rc;

	/* DROP EXTENSION in the same transaction took the lanes with it. */
	if (!OidIsValid(get_namespace_oid("acctsec", true)) ||
		!OidIsValid(get_relname_relid("audit_lanes", get_namespace_oid("acctsec", true))))
		return;

	acctsec_spi_connect();
	if (flush_plan == NULL)
	{
		Oid			types[3] = {INT4OID, INT8OID, BYTEAOID};

		flush_plan = audit_keep_plan("UPDATE acctsec.audit_lanes SET last_seq = $2, head = $3 "
									 "WHERE lane OPERATOR(pg_catalog.=) $1", 3, types);
	}

	args[0] = Int32GetDatum(lane_state.lane);
	args[1] = Int64GetDatum(lane_state.seq);
	args[2] = PointerGetDatum(cstring_to_text_with_len((char *) lane_state.head,
													   lane_state.head_len));
	owner = audit_log_facts().owner;
	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(owner, save_sec | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_NOFORCE_RLS);
	rc = SPI_execute_snapshot(flush_plan, args, NULL, GetLatestSnapshot(),
							  InvalidSnapshot, false, false, 0);
	SetUserIdAndSecContext(save_userid, save_sec);
	if (rc != SPI_OK_UPDATE || SPI_processed != 1)
		elog(ERROR, "could not update audit lane %d", lane_state.lane);
	SPI_finish();
	lane_state.dirty = false;
}

static void
audit_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
		case XACT_EVENT_PRE_PREPARE:
			writer_close();
			if (lane_state.held && lane_state.dirty)
				lane_flush();
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PREPARE:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PARALLEL_ABORT:
			lane_reset();
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

static SPIPlanPtr
audit_keep_plan(const char *sql, int nargs, Oid *types)
{
	SPIPlanPtr	plan = SPI_prepare(sql, nargs, types);

	if (plan == NULL || SPI_keepplan(plan) != 0)
		elog(ERROR, "could not prepare \"%s\": %s", sql,
			 SPI_result_code_string(SPI_result));
	return plan;
}

/* Read lane, last_seq, head of the one row a lane query returned. */
static void
lane_take_row(void)
{
	bool		isnull;
	bytea	   *head;

	lane_state.lane = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0],
												  SPI_tuptable->tupdesc, 1, &isnull));
	lane_state.seq = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
												 SPI_tuptable->tupdesc, 2, &isnull));
	head = DatumGetByteaPP(SPI_getbinval(SPI_tuptable->vals[0],
										 SPI_tuptable->tupdesc, 3, &isnull));
	lane_state.head_len = VARSIZE_ANY_EXHDR(head);
	if (lane_state.head_len != 0 && lane_state.head_len != ACCTSEC_AUDIT_HASH_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("audit lane %d has a head hash of the wrong length",
						lane_state.lane)));
	memcpy(lane_state.head, VARDATA_ANY(head), lane_state.head_len);
	lane_state.held = true;
	lane_state.dirty = false;
}

/*
 * Take a lane for this transaction.  Called inside SPI, as the audit log's
 * owner.  The lane rows are read with the latest snapshot (as PostgreSQL's
 * foreign-key checks do) so that a REPEATABLE READ transaction sees the head
 * its predecessor committed.
 */
static void
lane_acquire(void)
{
	Datum		start;
	int			rc;

	if (acquire_plan == NULL)
	{
		Oid			types[1] = {INT4OID};

		acquire_plan = audit_keep_plan(
			"SELECT lane, last_seq, head FROM acctsec.audit_lanes "
			"ORDER BY lane OPERATOR(pg_catalog.<) $1, lane "
			"LIMIT 1 FOR UPDATE SKIP LOCKED", 1, types);
		wait_plan = audit_keep_plan(
			"SELECT lane, last_seq, head FROM acctsec.audit_lanes "
			"WHERE lane OPERATOR(pg_catalog.=) $1 FOR UPDATE", 1, types);
		create_lanes_plan = audit_keep_plan(
			"INSERT INTO acctsec.audit_lanes (lane) "
			"SELECT g FROM pg_catalog.generate_series(0, $1 OPERATOR(pg_catalog.-) 1) AS g "
			"ON CONFLICT DO NOTHING", 1, types);
	}

	/* spread backends over the lane pages: 11 is prime to the lane count */
	start = Int32GetDatum((MyBackendId * 11) % ACCTSEC_AUDIT_LANES);
	rc = SPI_execute_snapshot(acquire_plan, &start, NULL, GetLatestSnapshot(),
							  InvalidSnapshot, false, false, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not select an audit lane");
	if (SPI_processed == 0)
	{
		/* No lane free, or none yet: create any missing, then wait for ours. */
		Datum		n = Int32GetDatum(ACCTSEC_AUDIT_LANES);

		rc = SPI_execute_snapshot(create_lanes_plan, &n, NULL, GetLatestSnapshot(),
								  InvalidSnapshot, false, false, 0);
		if (rc != SPI_OK_INSERT)
			elog(ERROR, "could not create the audit lanes");
		CommandCounterIncrement();
		rc = SPI_execute_snapshot(wait_plan, &start, NULL, GetLatestSnapshot(),
								  InvalidSnapshot, false, false, 1);
		if (rc != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "could not lock audit lane %d", DatumGetInt32(start));
	}
	lane_take_row();
}

static void
hash_field(crypto_generichash_state *st, const void *data, int64 len)
{
	uint8		lenbuf[8];
	uint64		ulen = (uint64) len;	/* -1 marks NULL */

	for (int i = 0; i < 8; i++)
		lenbuf[i] = (uint8) (ulen >> (56 - 8 * i));
	crypto_generichash_update(st, lenbuf, sizeof(lenbuf));
	if (len > 0)
		crypto_generichash_update(st, data, (unsigned long long) len);
}

/*
 * The chain hash of one audit row: BLAKE2b-256 over the previous hash of the
 * lane and every column but the hash itself, each length-prefixed.  Fixed
 * width values are hashed big-endian; varlena values (text, inet, jsonb,
 * text[]) as their detoasted binary contents, which PostgreSQL stores
 * unchanged.
 */
static void
audit_row_hash(const uint8 *prev, int prev_len, const Datum *values,
			   const bool *nulls, uint8 *out)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, ACCTSEC_AUDIT_HASH_BYTES);
	hash_field(&st, prev, prev_len);
	for (int i = 0; i < AL_NHASHED; i++)
	{
		if (nulls[i])
		{
			hash_field(&st, NULL, -1);
			continue;
		}
		switch (audit_log_types[i])
		{
			case INT8OID:
			case TIMESTAMPTZOID:
			case XID8OID:
			case INT4OID:
				{
					uint64		v;
					uint8		buf[8];

					if (audit_log_types[i] == INT4OID)
						v = (uint64) (int64) DatumGetInt32(values[i]);
					else
						v = DatumGetUInt64(values[i]);
					for (int b = 0; b < 8; b++)
						buf[b] = (uint8) (v >> (56 - 8 * b));
					hash_field(&st, buf, 8);
					break;
				}
			default:
				{
					struct varlena *v = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(values[i]));

					hash_field(&st, VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v));
					break;
				}
		}
	}
	crypto_generichash_final(&st, out, ACCTSEC_AUDIT_HASH_BYTES);
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

/*
 * Write one audit row, chained into this transaction's lane; returns its id.
 * Callable from any C code in the extension, inside or outside SPI.
 */
int64
acctsec_audit_write(const AcctsecAuditRow *row)
{
	Datum		values[AL_NCOLUMNS];
	bool		nulls[AL_NCOLUMNS];
	uint8		hash[ACCTSEC_AUDIT_HASH_BYTES];
	Oid			save_userid;
	int			save_sec;
	int64		id;
	const char *actor;
	HeapTuple	tuple;

	/* rows are stored with heap_insert, which does not check this itself */
	PreventCommandIfReadOnly("INSERT INTO acctsec.audit_log");
	audit_register_callbacks();

	memset(nulls, 0, sizeof(nulls));
	values[AL_LOGGED_AT] = TimestampTzGetDatum(GetCurrentStatementStartTimestamp());
	values[AL_TXID] = FullTransactionIdGetDatum(GetTopFullTransactionId());
	values[AL_DB_USER] = CStringGetTextDatum(audit_db_user());
	actor = acctsec_audit_actor();
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

	lane_save_for_subxact();
	if (!lane_state.held)
	{
		/* Once per transaction: take a lane, as the audit log's owner. */
		Oid			owner = audit_log_facts().owner;

		acctsec_spi_connect();

		GetUserIdAndSecContext(&save_userid, &save_sec);
		SetUserIdAndSecContext(owner, save_sec | SECURITY_LOCAL_USERID_CHANGE |
							   SECURITY_NOFORCE_RLS);
		lane_acquire();
		SetUserIdAndSecContext(save_userid, save_sec);
		SPI_finish();
	}
	writer_open();

	id = nextval_internal(writer->facts.seqid, false);
	values[AL_ID] = Int64GetDatum(id);
	values[AL_LANE] = Int32GetDatum(lane_state.lane);
	values[AL_SEQ] = Int64GetDatum(lane_state.seq + 1);
	audit_row_hash(lane_state.head, lane_state.head_len, values, nulls, hash);
	values[AL_HASH] = PointerGetDatum(cstring_to_text_with_len((char *) hash, sizeof(hash)));

	/*
	 * The row goes straight into the table and its indexes, as COPY puts
	 * rows: no rewrite rules, row triggers, RLS or CHECK constraints apply
	 * to the audit log (it has none; its guards are statement triggers on
	 * UPDATE, DELETE and TRUNCATE).  The columns are NOT NULL where the
	 * values above always are.
	 */
	tuple = heap_form_tuple(RelationGetDescr(writer->rel), values, nulls);
	heap_insert(writer->rel, tuple, GetCurrentCommandId(true), 0, NULL);
	/* the slot only lends the tuple to the index code, never owns it */
	ExecStoreHeapTuple(tuple, writer->slot, false);
	if (writer->rri->ri_NumIndices > 0)
		list_free(ExecInsertIndexTuples(writer->rri, writer->slot, writer->estate,
										false, false, NULL, NIL));
	ExecClearTuple(writer->slot);
	ResetPerTupleExprContext(writer->estate);

	lane_state.seq++;
	lane_state.head_len = ACCTSEC_AUDIT_HASH_BYTES;
	memcpy(lane_state.head, hash, sizeof(hash));
	lane_state.dirty = true;
	return id;
}

/*
 * BEFORE UPDATE OR DELETE OR TRUNCATE ... FOR EACH STATEMENT on the audit
 * log and its lanes: nobody changes audit rows, except audit_purge().
 */
Datum
acctsec_audit_log_guard(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("acctsec.audit_log_guard() must be called as a trigger")));
	if (purge_in_progress && TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
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

/* One lane as audit_verify() sees it. */
typedef struct VerifyLane
{
	int32		lane;
	int64		last_seq;
	int64		base_seq;
	bytea	   *head;
	bytea	   *base_hash;
} VerifyLane;

static bool
bytes_equal(const uint8 *a, int alen, const bytea *b)
{
	return alen == (int) VARSIZE_ANY_EXHDR(b) &&
		(alen == 0 || memcmp(a, VARDATA_ANY(b), alen) == 0);
}

static void
note_bad(int64 *first_bad, bool id_known, int64 id)
{
	if (id_known && (*first_bad < 0 || id < *first_bad))
		*first_bad = id;
}

/*
 * The walk of a lane ended after its row last_id: it must have reached the
 * lane's last sequence number and head hash.  Rows missing at the end leave
 * no id to name; a last row whose hash was recomputed after an edit does.
 */
static void
verify_lane_end(const VerifyLane *lane, int64 expect_seq, const uint8 *prev,
				int prev_len, int64 last_id, bool *ok, int64 *first_bad)
{
	if (expect_seq - 1 != lane->last_seq)
		*ok = false;
	else if (!bytes_equal(prev, prev_len, lane->head))
	{
		*ok = false;
		note_bad(first_bad, true, last_id);
	}
}

/*
 * acctsec.audit_verify() RETURNS (ok, checked, first_bad_id)
 *
 * Everything is read under the calling statement's snapshot (read-only SPI),
 * so rows and lane heads are seen as of one instant; rows this transaction
 * wrote itself are compared with the head kept in this backend.
 */
Datum
acctsec_audit_verify(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	VerifyLane *lanes;
	int			nlanes;
	bool	   *lane_seen;
	int64		checked = 0;
	int64		first_bad = -1;
	bool		ok = true;
	Portal		portal;
	SPIPlanPtr	plan;
	Datum		result[3];
	bool		result_nulls[3] = {false, false, false};
	int			cur = -1;		/* index into lanes of the lane being walked */
	bool		cur_bad = false;
	int64		expect_seq = 0;
	uint8		prev[ACCTSEC_AUDIT_HASH_BYTES];
	int			prev_len = 0;
	int64		last_id = 0;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);

	acctsec_spi_connect();

	if (SPI_execute("SELECT lane, last_seq, head, base_seq, base_hash "
					"FROM acctsec.audit_lanes ORDER BY lane", true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the audit lanes");
	nlanes = (int) SPI_processed;
	lanes = palloc0(sizeof(VerifyLane) * Max(nlanes, 1));
	lane_seen = palloc0(sizeof(bool) * Max(nlanes, 1));
	for (int i = 0; i < nlanes; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		TupleDesc	d = SPI_tuptable->tupdesc;
		bool		isnull;

		lanes[i].lane = DatumGetInt32(SPI_getbinval(t, d, 1, &isnull));
		lanes[i].last_seq = DatumGetInt64(SPI_getbinval(t, d, 2, &isnull));
		lanes[i].head = DatumGetByteaPCopy(SPI_getbinval(t, d, 3, &isnull));
		lanes[i].base_seq = DatumGetInt64(SPI_getbinval(t, d, 4, &isnull));
		lanes[i].base_hash = DatumGetByteaPCopy(SPI_getbinval(t, d, 5, &isnull));
		if (lane_state.held && lane_state.dirty && lanes[i].lane == lane_state.lane)
		{
			lanes[i].last_seq = lane_state.seq;
			lanes[i].head = (bytea *) cstring_to_text_with_len((char *) lane_state.head,
															   lane_state.head_len);
		}
	}

	/*
	 * The lanes are created all at once by the first write: afterwards all
	 * must be there.  Before it, the id sequence must be unused.
	 */
	if (nlanes == 0)
	{
		bool		isnull;

		if (SPI_execute("SELECT is_called FROM acctsec.audit_log_id_seq", true, 0) != SPI_OK_SELECT ||
			SPI_processed != 1)
			elog(ERROR, "could not read the audit log's sequence");
		if (DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)))
			ok = false;
	}
	else
	{
		for (int i = 0; i < nlanes; i++)
			if (lanes[i].lane != i)
				ok = false;
		if (nlanes != ACCTSEC_AUDIT_LANES)
			ok = false;
	}

	plan = SPI_prepare("SELECT id, logged_at, txid, db_user, actor, client_addr, relation, "
					   "operation, account, row_key, old_values, new_values, "
					   "changed_columns, lane, seq, hash FROM acctsec.audit_log "
					   "ORDER BY lane, seq", 0, NULL);
	if (plan == NULL)
		elog(ERROR, "could not prepare the audit log scan");
	portal = SPI_cursor_open(NULL, plan, NULL, NULL, true);

	for (;;)
	{
		SPI_cursor_fetch(portal, true, 1000);
		if (SPI_processed == 0)
			break;
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			Datum		values[AL_NCOLUMNS];
			bool		nulls[AL_NCOLUMNS];
			uint8		hash[ACCTSEC_AUDIT_HASH_BYTES];
			int64		id;
			int32		lane;
			int64		seq;

			heap_deform_tuple(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, values, nulls);
			checked++;
			id = DatumGetInt64(values[AL_ID]);
			if (nulls[AL_LANE] || nulls[AL_SEQ] || nulls[AL_HASH])
			{
				ok = false;
				note_bad(&first_bad, !nulls[AL_ID], id);
				continue;
			}
			lane = DatumGetInt32(values[AL_LANE]);
			seq = DatumGetInt64(values[AL_SEQ]);

			if (cur < 0 || lanes[cur].lane != lane)
			{
				/* The walk of the previous lane ended: did it reach the head? */
				if (cur >= 0 && !cur_bad)
					verify_lane_end(&lanes[cur], expect_seq, prev, prev_len,
									last_id, &ok, &first_bad);
				cur = -1;
				for (int i = 0; i < nlanes; i++)
					if (lanes[i].lane == lane)
						cur = i;
				if (cur < 0)
				{
					/* a row in a lane that does not exist */
					ok = false;
					note_bad(&first_bad, true, id);
					continue;
				}
				lane_seen[cur] = true;
				cur_bad = false;
				expect_seq = lanes[cur].base_seq + 1;
				prev_len = VARSIZE_ANY_EXHDR(lanes[cur].base_hash);
				if (prev_len != 0 && prev_len != ACCTSEC_AUDIT_HASH_BYTES)
				{
					prev_len = 0;
					cur_bad = true;
				}
				else
					memcpy(prev, VARDATA_ANY(lanes[cur].base_hash), prev_len);
			}
			last_id = id;
			if (cur_bad)
				continue;
			if (seq != expect_seq || seq > lanes[cur].last_seq)
			{
				/* a row missing before this one, or one too many at the end */
				cur_bad = true;
				ok = false;
				note_bad(&first_bad, true, id);
				continue;
			}
			audit_row_hash(prev, prev_len, values, nulls, hash);
			if (!bytes_equal(hash, sizeof(hash), DatumGetByteaPP(values[AL_HASH])))
			{
				cur_bad = true;
				ok = false;
				note_bad(&first_bad, true, id);
				continue;
			}
			memcpy(prev, hash, sizeof(hash));
			prev_len = sizeof(hash);
			expect_seq++;
		}
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);

	if (cur >= 0 && !cur_bad)
		verify_lane_end(&lanes[cur], expect_seq, prev, prev_len, last_id,
						&ok, &first_bad);

	/* A lane with no rows left must still be where its chain starts. */
	for (int i = 0; i < nlanes; i++)
	{
		if (lane_seen[i])
			continue;
		if (lanes[i].last_seq != lanes[i].base_seq ||
			!bytes_equal((uint8 *) VARDATA_ANY(lanes[i].base_hash),
						 VARSIZE_ANY_EXHDR(lanes[i].base_hash), lanes[i].head))
			ok = false;
	}

	SPI_finish();

	result[0] = BoolGetDatum(ok);
	result[1] = Int64GetDatum(checked);
	if (first_bad >= 0)
		result[2] = Int64GetDatum(first_bad);
	else
		result_nulls[2] = true;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, result, result_nulls)));
}

/*
 * acctsec.audit_purge(older_than interval) RETURNS bigint
 *
 * Deletes, lane by lane, the rows before the first one logged at or after
 * now() - older_than, records in each lane where its surviving chain now
 * starts (the sequence number and hash of the last row deleted), and logs
 * itself as the event "audit.purged".  Superuser only.
 */
Datum
acctsec_audit_purge(PG_FUNCTION_ARGS)
{
	Interval   *older_than = PG_GETARG_INTERVAL_P(0);
	Interval	zero;
	TimestampTz cutoff;
	Datum		arg;
	Oid			argtype = TIMESTAMPTZOID;
	int64		deleted;
	int			rc;
	char		countbuf[32];
	char	   *interval_text;

	if (!superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("only a superuser may purge the audit log")));
	memset(&zero, 0, sizeof(zero));
	if (DatumGetInt32(DirectFunctionCall2(interval_cmp, IntervalPGetDatum(older_than),
										  IntervalPGetDatum(&zero))) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("older_than must not be negative")));
	cutoff = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_mi_interval,
													 TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()),
													 IntervalPGetDatum(older_than)));
	arg = TimestampTzGetDatum(cutoff);

	acctsec_spi_connect();
	/* Wait for writers holding lanes, and keep new ones out until we end. */
	rc = SPI_execute("SELECT lane FROM acctsec.audit_lanes ORDER BY lane FOR UPDATE",
					 false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not lock the audit lanes");

	purge_in_progress = true;
	PG_TRY();
	{
		rc = SPI_execute_with_args(
			"WITH cut AS ("
			"  SELECT l.lane, COALESCE(("
			"    SELECT pg_catalog.min(a.seq) FROM acctsec.audit_log a"
			"    WHERE a.lane OPERATOR(pg_catalog.=) l.lane"
			"      AND a.logged_at OPERATOR(pg_catalog.>=) $1),"
			"    l.last_seq OPERATOR(pg_catalog.+) 1) OPERATOR(pg_catalog.-) 1 AS seq"
			"  FROM acctsec.audit_lanes l),"
			" del AS ("
			"  DELETE FROM acctsec.audit_log a USING cut"
			"  WHERE a.lane OPERATOR(pg_catalog.=) cut.lane"
			"    AND a.seq OPERATOR(pg_catalog.<=) cut.seq"
			"  RETURNING a.lane, a.seq, a.hash),"
			" base AS ("
			"  SELECT DISTINCT ON (lane) lane, seq, hash FROM del ORDER BY lane, seq DESC),"
			" moved AS ("
			"  UPDATE acctsec.audit_lanes l SET base_seq = base.seq, base_hash = base.hash"
			"  FROM base WHERE l.lane OPERATOR(pg_catalog.=) base.lane"
			"    AND base.seq OPERATOR(pg_catalog.>) l.base_seq)"
			"SELECT pg_catalog.count(*) FROM del",
			1, &argtype, &arg, NULL, false, 0);
	}
	PG_FINALLY();
	{
		purge_in_progress = false;
	}
	PG_END_TRY();
	CommandCounterIncrement();
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not purge the audit log");
	{
		bool		isnull;

		deleted = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
											  SPI_tuptable->tupdesc, 1, &isnull));
	}
	SPI_finish();

	snprintf(countbuf, sizeof(countbuf), INT64_FORMAT, deleted);
	interval_text = DatumGetCString(DirectFunctionCall1(interval_out,
														IntervalPGetDatum(older_than)));
	acctsec_security_event("audit.purged", NULL,
						   "older_than", interval_text,
						   "before", timestamptz_to_str(cutoff),
						   "deleted", countbuf,
						   NULL);
	PG_RETURN_INT64(deleted);
}
