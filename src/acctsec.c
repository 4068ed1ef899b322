/*
 * acctsec.c
 *		Module start-up: libsodium and the extension's settings.
 *
 * Nothing here needs shared_preload_libraries: the library loads on the
 * first call of any acctsec function, and PostgreSQL then applies any
 * acctsec.* values already set in postgresql.conf or by a privileged role.
 */
#include "postgres.h"

#include <sodium.h>

#include "fmgr.h"
#include "utils/guc.h"

#include "account.h"
#include "audit.h"
#include "audit_chain.h"
#include "audit_partitions.h"
#include "events.h"
#include "keys.h"
#include "linked_tables.h"
#include "passkeys.h"
#include "passwords.h"
#include "sessions.h"
#include "throttle.h"
#include "totp.h"
#include "updated_at.h"

PG_MODULE_MAGIC;

/* fmgr.h declares it from PostgreSQL 16 on */
extern void _PG_init(void);

void
_PG_init(void)
{
	/* Every key, nonce, code and token comes from libsodium. */
	if (sodium_init() < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("acctsec could not initialise libsodium")));

	acctsec_define_account_gucs();
	acctsec_define_audit_gucs();
	acctsec_define_keys_gucs();
	acctsec_define_totp_gucs();
	acctsec_define_sessions_gucs();
	acctsec_define_throttle_gucs();
	acctsec_define_updated_at_gucs();
	acctsec_define_password_gucs();
	acctsec_define_event_gucs();
	acctsec_define_passkey_gucs();
	acctsec_define_audit_partition_gucs();
	acctsec_audit_chain_init();
	/* the chain records its purges and erasures as events (events.c) */
	acctsec_audit_set_event_recorder(acctsec_security_event);
	/* a login's write of its account passes over an idle mirroring trigger */
	acctsec_account_set_mirror_check(acctsec_linked_mirror_wanted);

	MarkGUCPrefixReserved("acctsec");
}
