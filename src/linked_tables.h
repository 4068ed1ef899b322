/*
 * linked_tables.h
 *		linked_tables.c: the application's own user tables linked to
 *		acctsec (docs/linked_tables.md); their password column, for login.c.
 */
#ifndef ACCTSEC_LINKED_TABLES_H
#define ACCTSEC_LINKED_TABLES_H

#include "passwords.h"

/*
 * The password table, for acctsec.login, in the caller's SPI connection.
 * The stored password hash of an account, palloc'd in cxt; false when the
 * account is no row of the table, or its hash is NULL or empty (no
 * password: nothing can match), an error when it matches two rows (a key
 * column that is not unique).  Replace it (a rehash) if it still is the
 * hash verified: false when a password changed since it was read wins.
 * The table's password_rehash option (default "framework").
 */
extern bool acctsec_linked_password(const text *account, MemoryContext cxt,
									char **hash, size_t *hash_len);
extern bool acctsec_linked_password_replace(const text *account,
											const char *verified,
											const char *hash);
extern AcctsecRehashMode acctsec_linked_password_rehash_mode(void);

/*
 * Whether some linked table mirrors account state (the WHEN condition of
 * acctsec.accounts' mirroring trigger), kept until the registry changes.
 */
extern bool acctsec_linked_mirror_wanted(void);

#endif							/* ACCTSEC_LINKED_TABLES_H */
