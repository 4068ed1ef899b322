/*
 * login.h
 *		login.c: acctsec.login, the one-call login (docs/linked_tables.md).
 */
#ifndef ACCTSEC_LOGIN_H
#define ACCTSEC_LOGIN_H

#include "fmgr.h"

/* Apply acctsec.login_attempt through fmgr (returns its result). */
extern Datum acctsec_call_login_attempt(text *account, bool success,
										NullableDatum ip,
										NullableDatum user_agent);

#endif							/* ACCTSEC_LOGIN_H */
