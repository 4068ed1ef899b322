/*
 * throttle.h
 *		throttle.c: throttling across accounts and smart lockout
 *		(docs/throttling.md).
 *
 * The helpers that read or write tables run inside the caller's SPI
 * connection.  Lock order: the account row first, then the network row.
 */
#ifndef ACCTSEC_THROTTLE_H
#define ACCTSEC_THROTTLE_H

#include "datatype/timestamp.h"
#include "storage/itemptr.h"

/* The network a login comes from. */
typedef struct AcctsecNetwork
{
	bool		valid;			/* the call had an ip, so it has a network */
	bool		trusted;		/* in acctsec.trusted_networks: never
								 * throttled */
	Datum		network;		/* a cidr, when valid */
	bool		no_row;			/* acctsec_network_lookup found no row of it */
} AcctsecNetwork;

typedef enum AcctsecNetworkVerdict
{
	NETWORK_NOT_TRACKED,		/* no ip, or a trusted network */
	NETWORK_COUNTED,			/* the failure was counted */
	NETWORK_THROTTLED_NOW,		/* ... and it throttled the network */
	NETWORK_THROTTLED			/* already throttled: nothing counted */
} AcctsecNetworkVerdict;

/* The acctsec.* throttle settings; called once from _PG_init. */
extern void acctsec_define_throttle_gucs(void);

/* The network of an ip (IPv4: itself; IPv6: its prefix); no SPI needed. */
extern void acctsec_network_of(Datum ip, bool ip_null, AcctsecNetwork *net);

/* Is smart lockout on, and does the call have a network? */
extern bool acctsec_smart_lockout_applies(const AcctsecNetwork *net);

/*
 * Could a login from a familiar network get past a lock earned elsewhere
 * (smart lockout on, and a network still familiar to the account)?
 */
extern bool acctsec_familiar_login_possible(const text *account, TimestampTz now);

/*
 * One look at the network of a login, before the account's row is locked
 * (a throttled network is refused without touching the account): sets
 * *throttled_until to the end of its throttle when it is throttled at now
 * (else DT_NOBEGIN), *last_used to its last use by the account (DT_NOBEGIN
 * when none, or smart lockout does not apply), and returns whether it is
 * familiar to the account.
 */
extern bool acctsec_network_lookup(const text *account,
								   AcctsecNetwork *net, TimestampTz now,
								   TimestampTz *throttled_until,
								   TimestampTz *last_used);

/*
 * Count a failed login on account from net: locks the network's row
 * (creating it), counts the failure and the account, and throttles the
 * network on reaching a limit.  Call with the account row locked already.
 * *throttled_until is set when the network is throttled (now or before).
 */
extern AcctsecNetworkVerdict acctsec_network_failure(const AcctsecNetwork *net,
													 const text *account,
													 TimestampTz now,
													 TimestampTz *throttled_until);

/*
 * A login from net succeeded: make it familiar to the account (or note its
 * use), keeping at most acctsec.max_familiar_networks.  account_row is the
 * version of the account's row this transaction holds locked, as
 * acctsec_account_lock_row() gave it: the new row's foreign-key check is
 * passed over on the strength of that lock (throttle.c says why), so the
 * caller must show it; an invalid one is an error.
 */
extern void acctsec_network_make_familiar(const text *account,
										  ItemPointer account_row,
										  const AcctsecNetwork *net,
										  TimestampTz now,
										  TimestampTz last_used);

/* The oldest last use of a network still familiar at now. */
extern TimestampTz acctsec_familiar_since(TimestampTz now);

#endif							/* ACCTSEC_THROTTLE_H */
