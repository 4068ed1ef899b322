/*
 * events.h
 *		events.c: security events, audit rows with relation NULL
 *		(docs/audit.md; see events.c for the calling convention).
 */
#ifndef ACCTSEC_EVENTS_H
#define ACCTSEC_EVENTS_H

#include "audit_chain.h"
#include "datatype/timestamp.h"
#include "utils/jsonb.h"

/* Define acctsec.notify_channel; called once from _PG_init. */
extern void acctsec_define_event_gucs(void);

/*
 * Record a security event.  Details are key/value C string pairs ended by a
 * NULL key; never pass a secret.  Returns the audit row's id.
 */
extern int64 acctsec_security_event(const char *event, const char *account,...)
			acctsec_attribute_sentinel;
extern int64 acctsec_security_event_jsonb(const char *event, const char *account,
										  Jsonb *details);

/* Detail values: a number, a time (palloc'd strings). */
extern char *acctsec_event_int(int64 n);
extern char *acctsec_event_time(TimestampTz t);

#endif							/* ACCTSEC_EVENTS_H */
