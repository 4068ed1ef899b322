/*
 * backup_codes.h
 *		backup_codes.c: one-use backup codes (docs/backup_codes.md).
 */
#ifndef ACCTSEC_BACKUP_CODES_H
#define ACCTSEC_BACKUP_CODES_H

/*
 * Make the account's set of backup codes the keyed hashes (keys.c, purpose
 * ACCTSEC_KEY_BACKUP_CODE, the account bound in) hashes[0 .. n-1]; the
 * previous set stops working.  The caller holds the account's row lock and
 * is connected to SPI.  Only backup_codes.c writes acctsec.backup_codes:
 * generated and imported sets both come here.
 */
extern void acctsec_backup_codes_store(text *account, bytea *const *hashes,
									   int n);

#endif							/* ACCTSEC_BACKUP_CODES_H */
