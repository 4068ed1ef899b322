/*
 * updated_at.h
 *		updated_at.c: the updated_at trigger and its attachment
 *		(docs/updated_at.md).
 */
#ifndef ACCTSEC_UPDATED_AT_H
#define ACCTSEC_UPDATED_AT_H

/* The updated_at settings; called once from _PG_init. */
extern void acctsec_define_updated_at_gucs(void);

#endif							/* ACCTSEC_UPDATED_AT_H */
