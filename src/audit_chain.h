/*
 * audit_chain.h
 *		audit_chain.c: the one writer of acctsec.audit_log rows, and the
 *		hash chain, seals and checkpoints over them (docs/audit.md).
 */
#ifndef ACCTSEC_AUDIT_CHAIN_H
#define ACCTSEC_AUDIT_CHAIN_H

#include "utils/array.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/relcache.h"

typedef struct AcctsecAuditRow
{
	const char *relation;		/* schema-qualified; NULL for security events */
	const char *operation;		/* INSERT/UPDATE/DELETE/TRUNCATE or event name */
	const char *account;		/* security events: the account concerned */
	Jsonb	   *row_key;
	Jsonb	   *old_values;
	Jsonb	   *new_values;		/* security events: the details */
	ArrayType  *changed_columns;

	/*
	 * The text jsonb_out() gives row_key, old_values and new_values, and
	 * array_out() changed_columns, when the caller wrote it with the values
	 * (the hash covers it); NULL: the writer prints the value itself.
	 */
	const char *row_key_text;
	const char *old_values_text;
	const char *new_values_text;
	const char *changed_columns_text;	/* as array_out() prints it */
} AcctsecAuditRow;

#if defined(__GNUC__) || defined(__clang__)
#define acctsec_attribute_sentinel __attribute__((sentinel))
#else
#define acctsec_attribute_sentinel
#endif

extern int64 acctsec_audit_write(const AcctsecAuditRow *row);
extern Oid	acctsec_audit_log_relid(void);
extern bool acctsec_audit_log_is(Relation rel);

/*
 * Define acctsec.actor and the checkpoint settings, and install the utility
 * hook (closes the writer before DDL); called once from _PG_init.
 */
extern void acctsec_audit_chain_init(void);

/*
 * The check hook of a setting that names a NOTIFY channel (the checkpoints'
 * here, the security events' in events.c): empty, or a channel LISTEN takes.
 */
extern bool acctsec_check_notify_channel(char **newval, void **extra,
										 GucSource source);

/*
 * Records a security event (acctsec_security_event's signature): the
 * chain's own operations (purge, erase) record one, and events.c, which
 * writes through this module, hands its recorder down from _PG_init.
 */
typedef int64 (*AcctsecEventRecorder) (const char *event, const char *account,...)
			acctsec_attribute_sentinel;
extern void acctsec_audit_set_event_recorder(AcctsecEventRecorder recorder);

#endif							/* ACCTSEC_AUDIT_CHAIN_H */
