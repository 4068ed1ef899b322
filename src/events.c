/*
 * events.c
 *		Security events: the one function every capability calls to record
 *		one (docs/audit.md), and acctsec.audit_event() for applications.
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
 *
 * When acctsec.notify_channel is set, every event is also sent with NOTIFY
 * on that channel (docs/linked_tables.md), delivered when the transaction
 * commits and dropped if it rolls back, as a JSON object:
 *
 *		{"event": "login.locked", "account": "42", "audit_id": 17,
 *		 "time": "2026-11-24T03:15:00.1+00:00", "network": "203.0.113.9/32",
 *		 "locked_until": "..."}
 *
 * network is the address the event names (its /64 for IPv6, as network
 * throttling groups them), locked_until is there when the event has one;
 * no other detail is sent, so nothing an event carries ever reaches a
 * listener beyond these fields.
 */
#include "postgres.h"

#include <stdarg.h>
#include <sys/socket.h>

#include "catalog/pg_type.h"
#include "commands/async.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/inet.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "audit_chain.h"
#include "events.h"

PG_FUNCTION_INFO_V1(acctsec_audit_event);

#define ACCTSEC_MAX_EVENT_NAME	63
/* IPv6 addresses are reported by network, as network throttling groups them */
#define ACCTSEC_NOTIFY_IPV6_PREFIX	64

static char *acctsec_notify_channel = NULL;

void
acctsec_define_event_gucs(void)
{
	DefineCustomStringVariable("acctsec.notify_channel",
							   "Channel on which every security event is sent with NOTIFY at commit.",
							   "Empty (the default) sends nothing.",
							   &acctsec_notify_channel,
							   "",
							   PGC_SUSET, 0,
							   acctsec_check_notify_channel, NULL, NULL);
}

/* The network of an address given as text, as cidr text; NULL if none. */
static char *
event_network(const char *ip)
{
	Datum		addr;
	inet	   *a;

	if (ip == NULL || ip[0] == '\0')
		return NULL;
	addr = DirectFunctionCall1(inet_in, CStringGetDatum(ip));
	a = DatumGetInetPP(addr);
	if (ip_family(a) == PGSQL_AF_INET6 && ip_bits(a) > ACCTSEC_NOTIFY_IPV6_PREFIX)
		addr = DirectFunctionCall2(inet_set_masklen, addr,
								   Int32GetDatum(ACCTSEC_NOTIFY_IPV6_PREFIX));
	return DatumGetCString(DirectFunctionCall1(cidr_out,
											   DirectFunctionCall1(network_network, addr)));
}

/* A string detail of an event, or NULL. */
static char *
event_detail(Jsonb *details, const char *key)
{
	JsonbValue *v;

	if (details == NULL || !JB_ROOT_IS_OBJECT(details))
		return NULL;
	v = getKeyJsonValueFromContainer(&details->root, key, strlen(key), NULL);
	if (v == NULL || v->type != jbvString)
		return NULL;
	return pnstrdup(v->val.string.val, v->val.string.len);
}

static void
notify_event(const char *event, const char *account, Jsonb *details, int64 id)
{
	StringInfoData payload;
	char		time[MAXDATELEN + 1];
	char	   *network = event_network(event_detail(details, "ip"));
	char	   *locked_until = event_detail(details, "locked_until");

	initStringInfo(&payload);
	appendStringInfoString(&payload, "{\"event\": ");
	escape_json(&payload, event);
	appendStringInfoString(&payload, ", \"account\": ");
	if (account != NULL)
		escape_json(&payload, account);
	else
		appendStringInfoString(&payload, "null");
	appendStringInfo(&payload, ", \"audit_id\": " INT64_FORMAT ", \"time\": \"%s\"", id,
					 JsonEncodeDateTime(time, TimestampTzGetDatum(GetCurrentTimestamp()),
										TIMESTAMPTZOID, NULL));
	appendStringInfoString(&payload, ", \"network\": ");
	if (network != NULL)
		escape_json(&payload, network);
	else
		appendStringInfoString(&payload, "null");
	if (locked_until != NULL)
	{
		appendStringInfoString(&payload, ", \"locked_until\": ");
		escape_json(&payload, locked_until);
	}
	appendStringInfoChar(&payload, '}');
	Async_Notify(acctsec_notify_channel, payload.data);
}

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
	int64		id;

	if (!event_name_valid(event))
		elog(ERROR, "invalid security event name \"%s\"", event);
	memset(&row, 0, sizeof(row));
	row.operation = event;
	row.account = account;
	row.new_values = details;
	id = acctsec_audit_write(&row);
	if (acctsec_notify_channel != NULL && acctsec_notify_channel[0] != '\0')
		notify_event(event, account, details, id);
	return id;
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
