/*
 * compat.h
 *		Every difference between the PostgreSQL major versions acctsec builds
 *		against (15, 17 and 18; 16 too, untested), and nothing else.  The code
 *		is written against the newest API; what an older server lacks is
 *		supplied here, so no other file tests PG_VERSION_NUM.
 */
#ifndef ACCTSEC_COMPAT_H
#define ACCTSEC_COMPAT_H

#include "access/genam.h"
#include "access/heapam.h"
#include "catalog/pg_class.h"
#include "executor/executor.h"
#include "utils/acl.h"
#include "utils/timestamp.h"

#if PG_VERSION_NUM < 150000
#error "acctsec needs PostgreSQL 15 or later"
#endif

/*
 * 16 moved the varlena macros (VARDATA, VARSIZE_ANY_EXHDR, SET_VARSIZE, ...)
 * out of postgres.h into varatt.h; a file that uses them includes this one.
 */
#if PG_VERSION_NUM >= 160000
#include "varatt.h"
#endif

/*
 * 16 replaced pg_class_ownercheck() and its siblings with one
 * object_ownercheck(classid, objectid, roleid).  acctsec only asks about
 * relations.
 */
#if PG_VERSION_NUM < 160000
static inline bool
object_ownercheck(Oid classid, Oid objectid, Oid roleid)
{
	if (classid != RelationRelationId)
		elog(ERROR, "acctsec: object_ownercheck() for class %u is not supported before PostgreSQL 16",
			 classid);
	return pg_class_ownercheck(objectid, roleid);
}
#endif

/*
 * 17 renamed backend ids to proc numbers (storage/backendid.h became
 * storage/procnumber.h, MyBackendId became MyProcNumber).
 */
#if PG_VERSION_NUM >= 170000
#include "storage/procnumber.h"
#else
#include "storage/backendid.h"
#define MyProcNumber MyBackendId
#endif

/*
 * 16 gave AdjustTimestampForTypmod() a soft-error context; with none it
 * raises the error itself, as before.
 */
#if PG_VERSION_NUM >= 160000
#define acctsec_adjust_timestamp(ts, typmod) \
	((void) AdjustTimestampForTypmod((ts), (typmod), NULL))
#else
#define acctsec_adjust_timestamp(ts, typmod) \
	AdjustTimestampForTypmod((ts), (typmod))
#endif

/*
 * 16 added ExecInsertIndexTuples()'s onlySummarizing (true only for the
 * summarizing indexes of a HOT update).  acctsec inserts new rows: false.
 */
#if PG_VERSION_NUM >= 160000
#define acctsec_insert_index_tuples(rri, slot, estate) \
	ExecInsertIndexTuples((rri), (slot), (estate), false, false, NULL, NIL, false)
#else
#define acctsec_insert_index_tuples(rri, slot, estate) \
	ExecInsertIndexTuples((rri), (slot), (estate), false, false, NULL, NIL)
#endif

/*
 * 16 made simple_heap_update() say which indexes the new version needs
 * (TU_UpdateIndexes: none for a HOT update, only the summarizing ones, or
 * all); before, the new tuple's HOT flag said it, and a summarizing index
 * prevented HOT.  acctsec_update_index_tuples() adds the entries it needs,
 * without ExecInsertIndexTuples()'s update hint, which reads the updated
 * columns from a range table the caller does not have.
 */
#if PG_VERSION_NUM >= 160000
typedef TU_UpdateIndexes AcctsecUpdateIndexes;
#define acctsec_simple_heap_update(rel, otid, tup, update_indexes) \
	simple_heap_update((rel), (otid), (tup), (update_indexes))
#define acctsec_update_index_tuples(rri, slot, estate, update_indexes) \
	(*(update_indexes) == TU_None ? NIL : \
	 ExecInsertIndexTuples((rri), (slot), (estate), false, false, NULL, NIL, \
						   *(update_indexes) == TU_Summarizing))
#else
typedef bool AcctsecUpdateIndexes;
#define acctsec_simple_heap_update(rel, otid, tup, update_indexes) \
	(simple_heap_update((rel), (otid), (tup)), \
	 *(update_indexes) = !HeapTupleIsHeapOnly(tup))
#define acctsec_update_index_tuples(rri, slot, estate, update_indexes) \
	(!*(update_indexes) ? NIL : \
	 ExecInsertIndexTuples((rri), (slot), (estate), false, false, NULL, NIL))
#endif

/*
 * ON CONFLICT's two steps (nodeModifyTable.c): the check for a conflicting
 * row in every unique index (18 added the updated row's tid: none for an
 * insert), and the index entries of a speculative insertion.
 */
#if PG_VERSION_NUM >= 180000
#define acctsec_check_index_constraints(rri, slot, estate, conflict) \
	ExecCheckIndexConstraints((rri), (slot), (estate), (conflict), NULL, NIL)
#else
#define acctsec_check_index_constraints(rri, slot, estate, conflict) \
	ExecCheckIndexConstraints((rri), (slot), (estate), (conflict), NIL)
#endif
#if PG_VERSION_NUM >= 160000
#define acctsec_insert_index_tuples_speculative(rri, slot, estate, conflict) \
	ExecInsertIndexTuples((rri), (slot), (estate), false, true, (conflict), NIL, false)
#else
#define acctsec_insert_index_tuples_speculative(rri, slot, estate, conflict) \
	ExecInsertIndexTuples((rri), (slot), (estate), false, true, (conflict), NIL)
#endif

/* Does an update's new version need index entries (acctsec_update_index_tuples)? */
#if PG_VERSION_NUM >= 160000
#define acctsec_update_needs_indexes(update_indexes) (*(update_indexes) != TU_None)
#else
#define acctsec_update_needs_indexes(update_indexes) (*(update_indexes))
#endif

/* 18 added virtual generated columns beside the stored ones. */
#if PG_VERSION_NUM >= 180000
#define acctsec_has_generated(constr) \
	((constr)->has_generated_stored || (constr)->has_generated_virtual)
#else
#define acctsec_has_generated(constr) ((constr)->has_generated_stored)
#endif

/* 18 gave index_beginscan() an instrumentation argument (NULL: none). */
#if PG_VERSION_NUM >= 180000
#define acctsec_index_beginscan(heap, index, snapshot, nkeys, norderbys) \
	index_beginscan((heap), (index), (snapshot), NULL, (nkeys), (norderbys))
#else
#define acctsec_index_beginscan(heap, index, snapshot, nkeys, norderbys) \
	index_beginscan((heap), (index), (snapshot), (nkeys), (norderbys))
#endif

/* 17 added infinite intervals (and INTERVAL_NOT_FINITE); before, none are. */
#if PG_VERSION_NUM >= 170000
#define acctsec_interval_not_finite(i) INTERVAL_NOT_FINITE(i)
#else
#define acctsec_interval_not_finite(i) ((void) (i), false)
#endif

#endif							/* ACCTSEC_COMPAT_H */
