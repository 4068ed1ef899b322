/*
 * events.c
 *		Security events: the one function every capability calls to record
 *		one (SPEC section 8), and acctsec.audit_event() for applications.
 *
 * An event is an audit row with relation NULL, operation the event's dotted
 * name (login.failed, login.locked, account.unlocked, totp.enrolled, ...),
 * account the account it concerns, and new_values a small jsonb object of
 * details (an ip, a locked_until).  Never a secret, code, key or password:
 * the details are written as given.
 *
 * From C:
 *
 *		acctsec_security_event("login.locked", account,
 *							   "ip", ip_text,
 *							   "locked_until", timestamptz_to_str(until),
 *							   NULL);
 *
 * Details are key/value C string pairs ended by a NULL key; a NULL value is
 * written as JSON null.  acctsec_security_event_jsonb() takes a ready jsonb.
 */
#include "postgres.h"

#include <stdarg.h>

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "acctsec.h"

PG_FUNCTION_INFO_V1(acctsec_audit_event);

#define ACCTSEC_MAX_EVENT_NAME	63

/* Whether name is a dotted event name: [a-z0-9_] words joined by dots. */
static bool
event_name_valid(const char *name)
{
	size_t		len = strlen(name);
	bool		word_start = true;

	if (len == 0 || len > ACCTSEC_MAX_EVENT_NAME)
		return false;
	for (const char *c = name; *c; c++)
	{
		if (*c == '.')
		{
			if (word_start)
				return false;
			word_start = true;
		}
		else if ((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_')
			word_start = false;
		else
			return false;
	}
	return !word_start && strchr(name, '.') != NULL;
}

int64
acctsec_security_event_jsonb(const char *event, const char *account, Jsonb *details)
{
	AcctsecAuditRow row;

	if (!event_name_valid(event))
		elog(ERROR, "invalid security event name \"%s\"", event);
	memset(&row, 0, sizeof(row));
	row.operation = event;
	row.account = account;
	row.new_values = details;
	return acctsec_audit_write(&row);
}

int64
acctsec_security_event(const char *event, const char *account,...)
{
	va_list		ap;
	const char *key;
	JsonbParseState *state = NULL;
	JsonbValue *res;
	bool		any = false;

	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	va_start(ap, account);
	while ((key = va_arg(ap, const char *)) != NULL)
	{
		const char *value = va_arg(ap, const char *);
		JsonbValue	k;
		JsonbValue	v;

		k.type = jbvString;
		k.val.string.val = (char *) key;
		k.val.string.len = strlen(key);
		pushJsonbValue(&state, WJB_KEY, &k);
		if (value == NULL)
			v.type = jbvNull;
		else
		{
			v.type = jbvString;
			v.val.string.val = (char *) value;
			v.val.string.len = strlen(value);
		}
		pushJsonbValue(&state, WJB_VALUE, &v);
		any = true;
	}
	va_end(ap);
	res = pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	return acctsec_security_event_jsonb(event, account,
										any ? JsonbValueToJsonb(res) : NULL);
}

/* Detail values for acctsec_security_event(): a number, a time (palloc'd). */
char *
acctsec_event_int(int64 n)
{
	char		buf[32];

	snprintf(buf, sizeof(buf), INT64_FORMAT, n);
	return pstrdup(buf);
}

char *
acctsec_event_time(TimestampTz t)
{
	return pstrdup(timestamptz_to_str(t));
}

/*
 * acctsec.audit_event(event text, account text DEFAULT NULL,
 *					   details jsonb DEFAULT NULL) RETURNS bigint
 *
 * Lets an application record its own events in the same chained log.
 * Their names must start with "app." so that none can pass for an event of
 * the extension's own.  Returns the new row's id.
 */
Datum
acctsec_audit_event(PG_FUNCTION_ARGS)
{
	char	   *event;
	char	   *account = NULL;
	Jsonb	   *details = NULL;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("event must not be null")));
	event = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (strncmp(event, "app.", 4) != 0 || !event_name_valid(event))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid application event name"),
				 errdetail("Application event names start with \"app.\" and are lower-case words of letters, digits and underscores joined by dots, at most %d characters.",
						   ACCTSEC_MAX_EVENT_NAME)));
	if (!PG_ARGISNULL(1))
		account = text_to_cstring(PG_GETARG_TEXT_PP(1));
	if (!PG_ARGISNULL(2))
	{
		details = PG_GETARG_JSONB_P(2);
		if (!JB_ROOT_IS_OBJECT(details))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("details must be a jsonb object")));
	}
	PG_RETURN_INT64(acctsec_security_event_jsonb(event, account, details));
}
