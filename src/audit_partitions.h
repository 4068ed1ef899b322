/*
 * audit_partitions.h
 *		audit_partitions.c: the time partitions of acctsec.audit_log, the
 *		bounds the writer routes rows by, and audit_create_partitions()
 *		(docs/audit.md, "Retention").
 */
#ifndef ACCTSEC_AUDIT_PARTITIONS_H
#define ACCTSEC_AUDIT_PARTITIONS_H

#include "datatype/timestamp.h"

/* One range partition: the rows with lower <= logged_at < upper. */
typedef struct AcctsecAuditPartition
{
	Oid			relid;
	TimestampTz lower;			/* DT_NOBEGIN for MINVALUE */
	TimestampTz upper;			/* DT_NOEND for MAXVALUE */
} AcctsecAuditPartition;

/*
 * The partition of the log parent that takes a row logged at ts (the
 * parent itself when it is not partitioned), from bounds cached per
 * backend; *generation tells acctsec_audit_partitions_unchanged() whether
 * they have been invalidated since.  An error (23514) when no partition
 * takes it.
 */
extern Oid	acctsec_audit_partition_for(Oid parent, TimestampTz ts,
										uint64 *generation);
extern bool acctsec_audit_partitions_unchanged(uint64 generation);

/*
 * A copy, in the current memory context, of parent's range partitions
 * sorted by lower bound; *default_relid is its default partition or
 * InvalidOid.  Returns the number of ranges, -1 when parent is not
 * partitioned.
 */
extern int	acctsec_audit_partitions_copy(Oid parent, AcctsecAuditPartition **parts,
										  Oid *default_relid);

/* Define acctsec.audit_partition_interval; called once from _PG_init. */
extern void acctsec_define_audit_partition_gucs(void);

#endif							/* ACCTSEC_AUDIT_PARTITIONS_H */
