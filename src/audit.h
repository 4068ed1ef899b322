/*
 * audit.h
 *		audit.c: the audit trigger (docs/audit.md).
 */
#ifndef ACCTSEC_AUDIT_H
#define ACCTSEC_AUDIT_H

/* The audit trigger's settings; called once from _PG_init. */
extern void acctsec_define_audit_gucs(void);

/* acctsec.actor: the application user recorded in audit rows. */
extern const char *acctsec_audit_actor(void);

#endif							/* ACCTSEC_AUDIT_H */
