/*
 * linked_tables.h
 *		linked_tables.c: the application's own user tables linked to
 *		acctsec (docs/linked_tables.md); their password column, for login.c.
 */
#ifndef ACCTSEC_LINKED_TABLES_H
#define ACCTSEC_LINKED_TABLES_H

#include "passwords.h"

extern bool acctsec_linked_password(const text *account, char **hash,
									size_t *hash_len);
extern bool acctsec_linked_password_replace(const text *account,
											const char *verified,
											const char *hash);
extern AcctsecRehashMode acctsec_linked_password_rehash_mode(void);

#endif							/* ACCTSEC_LINKED_TABLES_H */
