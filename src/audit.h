/*
 * audit.h
 *		audit.c: the audit trigger (docs/audit.md).
 */
#ifndef ACCTSEC_AUDIT_H
#define ACCTSEC_AUDIT_H

/* The audit trigger's settings; called once from _PG_init. */
extern void acctsec_define_audit_gucs(void);

#endif							/* ACCTSEC_AUDIT_H */
