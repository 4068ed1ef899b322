/*
 * audit.c
 *		The audit trigger acctsec.audit(), audit_table()/unaudit_table(),
 *		redaction and the audit settings (docs/audit.md).
 *
 * The trigger turns each changed row into jsonb (row_key, old_values,
 * new_values) and the list of changed columns, and hands it to
 * acctsec_audit_write() (audit_chain.c), which chains and stores it.
 * What it needs to know about a relation (its key columns, which columns are
 * redacted, how to turn each column into JSON) is worked out once per
 * relation and kept until the relation's relcache entry is invalidated or
 * acctsec.redact_columns changes.
 */
#include "postgres.h"

#include <math.h>

#include "access/detoast.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "catalog/dependency.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/relcache.h"

#include "audit.h"
#include "audit_chain.h"
#include "compat.h"
#include "events.h"
#include "relation_util.h"

PG_FUNCTION_INFO_V1(acctsec_audit);
PG_FUNCTION_INFO_V1(acctsec_audit_table);
PG_FUNCTION_INFO_V1(acctsec_unaudit_table);

#define AUDIT_ROW_TRIGGER		"acctsec_audit"
#define AUDIT_TRUNCATE_TRIGGER	"acctsec_audit_truncate"
/* records writes in replica mode, which skip the two above (trigger_guard.c) */
#define AUDIT_BYPASS_TRIGGER	"acctsec_audit_replica"
#define AUDIT_REDACTED			"[redacted]"

/* Settings */
static char *audit_redact_columns = NULL;

/* Bumped whenever acctsec.redact_columns changes, so cached facts are redone. */
static uint64 redact_generation = 1;

/* How a column's value becomes JSON (as to_jsonb() would, for these types). */
typedef enum AuditJsonKind
{
	AJ_BOOL,
	AJ_INTEGER,
	AJ_NUMERIC,
	AJ_FLOAT,
	AJ_DATETIME,
	AJ_JSON,
	AJ_JSONB,
	AJ_TO_JSONB,				/* arrays and composites: to_jsonb() itself */
	AJ_TEXT						/* anything else: its text output as a string */
} AuditJsonKind;

typedef struct AuditColumn
{
	bool		dropped;
	bool		is_key;
	bool		redacted;
	AuditJsonKind kind;
	Oid			typid;			/* base type */
	int16		typlen;
	bool		typbyval;
	FmgrInfo	output;			/* AJ_TEXT, AJ_FLOAT: output; AJ_TO_JSONB:
								 * to_jsonb */
	char	   *name;
	char	   *json_key;		/* the name as jsonb_out() writes a key, then
								 * ": " */
	char	   *array_elem;		/* the name as array_out() writes an element
								 * of a text[] */
} AuditColumn;

/* What the trigger knows about one audited relation. */
typedef struct AuditRelInfo
{
	Oid			relid;			/* hash key */
	bool		valid;
	uint64		generation;		/* redact_generation it was built for */
	Oid			tgoid;			/* the trigger whose exclude list it used */
	MemoryContext cxt;
	char	   *relname;		/* schema-qualified, quoted as needed */
	int			natts;
	bool		has_key;		/* false: row_key is the whole row */
	AuditColumn *cols;
	int			nkeys;			/* the columns that are not dropped, */
	int		   *key_order;		/* in the order of a jsonb object's keys */
} AuditRelInfo;

static HTAB *audit_rels = NULL;

/* Redaction patterns, lower-cased, parsed from acctsec.redact_columns. */
static List *redact_patterns = NIL;
static uint64 redact_patterns_generation = 0;

static void
audit_redact_assign(const char *newval, void *extra)
{
	redact_generation++;
}

void
acctsec_define_audit_gucs(void)
{
	DefineCustomStringVariable("acctsec.redact_columns",
							   "Comma-separated name fragments of columns whose values the audit log never records.",
							   "Matched case-insensitively anywhere in the column name.",
							   &audit_redact_columns,
							   "password,passwd,secret,token,hash,backup_code,recovery_code,"
							   "otp,api_key,apikey,private_key,salt,credential",
							   PGC_SUSET,
							   GUC_LIST_INPUT,
							   NULL, audit_redact_assign, NULL);
}

static void
audit_rel_invalidate(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS status;
	AuditRelInfo *info;

	if (audit_rels == NULL)
		return;
	if (OidIsValid(relid))
	{
		info = hash_search(audit_rels, &relid, HASH_FIND, NULL);
		if (info != NULL)
			info->valid = false;
		return;
	}
	hash_seq_init(&status, audit_rels);
	while ((info = hash_seq_search(&status)) != NULL)
		info->valid = false;
}

static List *
audit_redact_pattern_list(void)
{
	char	   *copy;
	char	   *tok;
	char	   *save;
	MemoryContext old;

	if (redact_patterns_generation == redact_generation)
		return redact_patterns;
	old = MemoryContextSwitchTo(TopMemoryContext);
	list_free_deep(redact_patterns);
	redact_patterns = NIL;
	copy = pstrdup(audit_redact_columns ? audit_redact_columns : "");
	for (tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save))
	{
		char	   *p;
		size_t		len;

		while (*tok == ' ' || *tok == '\t')
			tok++;
		len = strlen(tok);
		while (len > 0 && (tok[len - 1] == ' ' || tok[len - 1] == '\t'))
			tok[--len] = '\0';
		if (len == 0)
			continue;
		p = pstrdup(tok);
		for (char *c = p; *c; c++)
			*c = pg_tolower((unsigned char) *c);
		redact_patterns = lappend(redact_patterns, p);
	}
	pfree(copy);
	MemoryContextSwitchTo(old);
	redact_patterns_generation = redact_generation;
	return redact_patterns;
}

static bool
audit_name_redacted(const char *name, List *patterns, Trigger *trigger)
{
	char	   *lower = pstrdup(name);
	ListCell   *lc;
	bool		hit = false;

	for (char *c = lower; *c; c++)
		*c = pg_tolower((unsigned char) *c);
	foreach(lc, patterns)
	{
		if (strstr(lower, (char *) lfirst(lc)) != NULL)
		{
			hit = true;
			break;
		}
	}
	pfree(lower);
	for (int i = 0; !hit && trigger != NULL && i < trigger->tgnargs; i++)
		if (strcmp(trigger->tgargs[i], name) == 0)
			hit = true;
	return hit;
}

static AuditJsonKind
audit_json_kind(Oid typid)
{
	switch (typid)
	{
		case BOOLOID:
			return AJ_BOOL;
		case INT2OID:
		case INT4OID:
		case INT8OID:
			return AJ_INTEGER;
		case NUMERICOID:
			return AJ_NUMERIC;
		case FLOAT4OID:
		case FLOAT8OID:
			return AJ_FLOAT;
		case DATEOID:
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
			return AJ_DATETIME;
		case JSONOID:
			return AJ_JSON;
		case JSONBOID:
			return AJ_JSONB;
		default:
			return AJ_TEXT;
	}
}

/*
 * The order jsonb keeps an object's keys in (shorter first, then bytewise:
 * jsonb's lengthCompareJsonbStringValue), so that a row's text can be
 * written as jsonb_out() would write the object.
 */
static int
audit_key_cmp(const void *a, const void *b, void *arg)
{
	AuditColumn *cols = (AuditColumn *) arg;
	const char *na = cols[*(const int *) a].name;
	const char *nb = cols[*(const int *) b].name;
	size_t		la = strlen(na);
	size_t		lb = strlen(nb);

	if (la != lb)
		return la > lb ? 1 : -1;
	return memcmp(na, nb, la);
}

/*
 * A string as array_out() writes it as an element of a text[]: quoted when
 * empty, NULL in any case, or holding a space, a brace, a comma, a quote or
 * a backslash, the last two escaped.
 */
static char *
audit_array_element(const char *s)
{
	bool		quote = s[0] == '\0' || pg_strcasecmp(s, "NULL") == 0;
	StringInfoData out;

	for (const char *c = s; *c && !quote; c++)
		quote = *c == '"' || *c == '\\' || *c == '{' || *c == '}' || *c == ',' ||
			*c == ' ' || *c == '\t' || *c == '\n' || *c == '\r' || *c == '\v' ||
			*c == '\f';
	if (!quote)
		return pstrdup(s);
	initStringInfo(&out);
	appendStringInfoChar(&out, '"');
	for (const char *c = s; *c; c++)
	{
		if (*c == '"' || *c == '\\')
			appendStringInfoChar(&out, '\\');
		appendStringInfoChar(&out, *c);
	}
	appendStringInfoChar(&out, '"');
	return out.data;
}

/* Work out (again) what the trigger needs to know about rel. */
static AuditRelInfo *
audit_rel_info(Relation rel, Trigger *trigger)
{
	Oid			relid = RelationGetRelid(rel);
	AuditRelInfo *info;
	bool		found;
	TupleDesc	desc = RelationGetDescr(rel);
	Bitmapset  *keys;
	List	   *patterns;
	MemoryContext old;

	if (audit_rels == NULL)
		audit_rels = acctsec_relation_cache("acctsec audited relations",
											sizeof(Oid), sizeof(AuditRelInfo),
											audit_rel_invalidate);
	info = hash_search(audit_rels, &relid, HASH_ENTER, &found);
	if (found && info->valid && info->generation == redact_generation &&
		info->tgoid == (trigger ? trigger->tgoid : InvalidOid))
		return info;
	if (found && info->cxt != NULL)
		MemoryContextDelete(info->cxt);
	info->valid = false;
	info->cxt = NULL;

	/*
	 * Checked here, once per relation and again after its invalidation
	 * (attaching a table to the log sends one): for a partition, the check
	 * reads pg_inherits, which every row would otherwise pay.
	 */
	if (acctsec_audit_log_is(rel))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("the audit log cannot audit itself")));

	patterns = audit_redact_pattern_list();
	info->cxt = AllocSetContextCreate(CacheMemoryContext, "acctsec audit relation",
									  ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(info->cxt);
	info->relname = quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
											   RelationGetRelationName(rel));
	info->natts = desc->natts;
	info->cols = palloc0(sizeof(AuditColumn) * Max(desc->natts, 1));
	keys = RelationGetIndexAttrBitmap(rel, INDEX_ATTR_BITMAP_PRIMARY_KEY);
	info->has_key = !bms_is_empty(keys);
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		AuditColumn *col = &info->cols[i];

		col->dropped = att->attisdropped;
		if (col->dropped)
			continue;
		col->name = pstrdup(NameStr(att->attname));
		{
			StringInfoData key;

			initStringInfo(&key);
			escape_json(&key, col->name);
			appendStringInfoString(&key, ": ");
			col->json_key = key.data;
		}
		col->array_elem = audit_array_element(col->name);
		col->is_key = bms_is_member(att->attnum - FirstLowInvalidHeapAttributeNumber, keys);
		col->redacted = audit_name_redacted(col->name, patterns, trigger);
		col->typid = getBaseType(att->atttypid);
		col->typlen = att->attlen;
		col->typbyval = att->attbyval;
		col->kind = audit_json_kind(col->typid);
		if (col->kind == AJ_TEXT && (type_is_array(col->typid) || type_is_rowtype(col->typid)))
		{
			/* to_jsonb(anyelement) learns its argument's type from fn_expr */
			col->kind = AJ_TO_JSONB;
			fmgr_info_cxt(F_TO_JSONB, &col->output, info->cxt);
			col->output.fn_expr = (Node *)
				makeFuncExpr(F_TO_JSONB, JSONBOID,
							 list_make1(makeNullConst(att->atttypid, att->atttypmod,
													  att->attcollation)),
							 InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
		}
		else if (col->kind == AJ_TEXT || col->kind == AJ_FLOAT)
		{
			Oid			outfn;
			bool		varlena;

			getTypeOutputInfo(att->atttypid, &outfn, &varlena);
			fmgr_info_cxt(outfn, &col->output, info->cxt);
		}
	}
	info->key_order = palloc(sizeof(int) * Max(desc->natts, 1));
	info->nkeys = 0;
	for (int i = 0; i < desc->natts; i++)
		if (!info->cols[i].dropped)
			info->key_order[info->nkeys++] = i;
	qsort_arg(info->key_order, info->nkeys, sizeof(int), audit_key_cmp, info->cols);
	MemoryContextSwitchTo(old);
	bms_free(keys);
	info->generation = redact_generation;
	info->tgoid = trigger ? trigger->tgoid : InvalidOid;
	info->valid = true;
	return info;
}

static inline int64
audit_integer(AuditColumn *col, Datum value)
{
	return col->typid == INT8OID ? DatumGetInt64(value) :
		col->typid == INT4OID ? DatumGetInt32(value) : DatumGetInt16(value);
}

/* One column's value as a JsonbValue (scalar or binary container). */
static void
audit_value_to_jsonb(AuditColumn *col, Datum value, bool isnull, JsonbValue *jv)
{
	if (col->redacted)
	{
		jv->type = jbvString;
		jv->val.string.val = AUDIT_REDACTED;
		jv->val.string.len = sizeof(AUDIT_REDACTED) - 1;
		return;
	}
	if (isnull)
	{
		jv->type = jbvNull;
		return;
	}
	switch (col->kind)
	{
		case AJ_BOOL:
			jv->type = jbvBool;
			jv->val.boolean = DatumGetBool(value);
			return;
		case AJ_INTEGER:
			jv->type = jbvNumeric;
			jv->val.numeric = int64_to_numeric(audit_integer(col, value));
			return;
		case AJ_NUMERIC:
			{
				Numeric		num = DatumGetNumeric(value);

				if (numeric_is_nan(num) || numeric_is_inf(num))
					break;		/* not a JSON number: a string, as to_jsonb
								 * does */
				jv->type = jbvNumeric;
				jv->val.numeric = num;
				return;
			}
		case AJ_FLOAT:
			{
				double		d = col->typid == FLOAT4OID ? DatumGetFloat4(value) :
					DatumGetFloat8(value);

				if (isnan(d) || isinf(d))
					break;
				jv->type = jbvNumeric;
				jv->val.numeric = DatumGetNumeric(DirectFunctionCall3(numeric_in,
																	  CStringGetDatum(OutputFunctionCall(&col->output, value)),
																	  ObjectIdGetDatum(InvalidOid),
																	  Int32GetDatum(-1)));
				return;
			}
		case AJ_DATETIME:
			{
				char	   *s = JsonEncodeDateTime(NULL, value, col->typid, NULL);

				jv->type = jbvString;
				jv->val.string.val = s;
				jv->val.string.len = strlen(s);
				return;
			}
		case AJ_JSON:
			{
				Jsonb	   *jb = DatumGetJsonbP(DirectFunctionCall1(jsonb_in,
																	CStringGetDatum(text_to_cstring(DatumGetTextPP(value)))));

				jv->type = jbvBinary;
				jv->val.binary.data = &jb->root;
				jv->val.binary.len = VARSIZE(jb) - VARHDRSZ;
				return;
			}
		case AJ_JSONB:
		case AJ_TO_JSONB:
			{
				Jsonb	   *jb = col->kind == AJ_JSONB ? DatumGetJsonbP(value) :
					DatumGetJsonbP(FunctionCall1(&col->output, value));

				jv->type = jbvBinary;
				jv->val.binary.data = &jb->root;
				jv->val.binary.len = VARSIZE(jb) - VARHDRSZ;
				return;
			}
		case AJ_TEXT:
			break;
	}
	/* AJ_TEXT, and the non-finite numbers above */
	{
		char	   *s;

		if (col->kind == AJ_NUMERIC)
			s = DatumGetCString(DirectFunctionCall1(numeric_out, value));
		else
			s = OutputFunctionCall(&col->output, value);
		jv->type = jbvString;
		jv->val.string.val = s;
		jv->val.string.len = strlen(s);
	}
}

/*
 * A scalar value's text as jsonb_out() writes it; false for a container
 * (json, jsonb, arrays, composites), which the writer prints from the jsonb.
 */
static bool
audit_value_text(AuditColumn *col, Datum value, const JsonbValue *jv, StringInfo out)
{
	switch (jv->type)
	{
		case jbvNull:
			appendStringInfoString(out, "null");
			return true;
		case jbvBool:
			appendStringInfoString(out, jv->val.boolean ? "true" : "false");
			return true;
		case jbvNumeric:
			if (col->kind == AJ_INTEGER && !col->redacted)
			{
				char		buf[MAXINT8LEN + 1];

				appendBinaryStringInfo(out, buf, pg_lltoa(audit_integer(col, value), buf));
			}
			else
				appendStringInfoString(out, DatumGetCString(DirectFunctionCall1(numeric_out,
																				NumericGetDatum(jv->val.numeric))));
			return true;
		case jbvString:
			/* every string here is terminated: names, outputs, the marker */
			escape_json(out, jv->val.string.val);
			return true;
		default:
			return false;
	}
}

/*
 * The row as a jsonb object: every column, or the key columns only.  With
 * printed given, also the object's text as jsonb_out() writes it, which the
 * hash of the audit row covers (without a round trip through jsonb_out);
 * *printed is NULL when a value is a container.  The keys go in in jsonb's
 * own order, which the text follows.
 */
static Jsonb *
audit_row_jsonb(AuditRelInfo *info, Datum *values, bool *nulls, bool keys_only,
				const char **printed)
{
	JsonbParseState *state = NULL;
	JsonbValue *res;
	StringInfoData out;
	bool		have_text = printed != NULL;
	bool		first = true;

	if (have_text)
	{
		initStringInfo(&out);
		appendStringInfoChar(&out, '{');
	}
	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	for (int k = 0; k < info->nkeys; k++)
	{
		int			i = info->key_order[k];
		AuditColumn *col = &info->cols[i];
		JsonbValue	key;
		JsonbValue	val;

		if (keys_only && !col->is_key)
			continue;
		key.type = jbvString;
		key.val.string.val = col->name;
		key.val.string.len = strlen(col->name);
		pushJsonbValue(&state, WJB_KEY, &key);
		audit_value_to_jsonb(col, values[i], nulls[i], &val);
		pushJsonbValue(&state, WJB_VALUE, &val);
		if (have_text)
		{
			if (!first)
				appendBinaryStringInfo(&out, ", ", 2);
			first = false;
			appendStringInfoString(&out, col->json_key);
			have_text = audit_value_text(col, values[i], &val, &out);
		}
	}
	res = pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	if (printed != NULL)
	{
		if (have_text)
		{
			appendStringInfoChar(&out, '}');
			*printed = out.data;
		}
		else
		{
			pfree(out.data);
			*printed = NULL;
		}
	}
	return JsonbValueToJsonb(res);
}

/* Whether two stored values of a column are the same bytes. */
static bool
audit_values_equal(AuditColumn *col, Datum a, bool anull, Datum b, bool bnull)
{
	if (anull || bnull)
		return anull && bnull;
	if (col->typlen == -1)
	{
		struct varlena *va = (struct varlena *) DatumGetPointer(a);
		struct varlena *vb = (struct varlena *) DatumGetPointer(b);
		bool		equal;

		/* An UPDATE that leaves a toasted value alone keeps its pointer. */
		if (VARATT_IS_EXTERNAL_ONDISK(va) && VARATT_IS_EXTERNAL_ONDISK(vb))
		{
			struct varatt_external ea;
			struct varatt_external eb;

			VARATT_EXTERNAL_GET_POINTER(ea, va);
			VARATT_EXTERNAL_GET_POINTER(eb, vb);
			if (ea.va_valueid == eb.va_valueid && ea.va_toastrelid == eb.va_toastrelid)
				return true;
		}
		va = pg_detoast_datum_packed(va);
		vb = pg_detoast_datum_packed(vb);
		equal = VARSIZE_ANY_EXHDR(va) == VARSIZE_ANY_EXHDR(vb) &&
			memcmp(VARDATA_ANY(va), VARDATA_ANY(vb), VARSIZE_ANY_EXHDR(va)) == 0;
		return equal;
	}
	return datumIsEqual(a, b, col->typbyval, col->typlen);
}

/* The changed columns; *printed: their text, as array_out() prints it */
static ArrayType *
audit_changed_columns(AuditRelInfo *info, Datum *oldv, bool *oldn,
					  Datum *newv, bool *newn, const char **printed)
{
	Datum	   *names = palloc(sizeof(Datum) * Max(info->natts, 1));
	int			n = 0;
	StringInfoData out;

	initStringInfo(&out);
	appendStringInfoChar(&out, '{');
	for (int i = 0; i < info->natts; i++)
	{
		AuditColumn *col = &info->cols[i];

		if (col->dropped)
			continue;
		if (!audit_values_equal(col, oldv[i], oldn[i], newv[i], newn[i]))
		{
			if (n > 0)
				appendStringInfoChar(&out, ',');
			appendStringInfoString(&out, col->array_elem);
			names[n++] = CStringGetTextDatum(col->name);
		}
	}
	appendStringInfoChar(&out, '}');
	*printed = out.data;
	return construct_array(names, n, TEXTOID, -1, false, TYPALIGN_INT);
}

/* The trigger is attached as audit_table() attaches it. */
static void
audit_check_trigger(FunctionCallInfo fcinfo)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	acctsec_check_trigger(fcinfo, "acctsec.audit()", false);
	if (!TRIGGER_FIRED_AFTER(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("acctsec.audit() must be fired AFTER the change"),
				 errhint("Use acctsec.audit_table() to attach it.")));
	if (TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event) ?
		TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) :
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("acctsec.audit() must be fired FOR EACH ROW, or FOR EACH STATEMENT for TRUNCATE"),
				 errhint("Use acctsec.audit_table() to attach it.")));
}

/*
 * The audit row of one INSERT, UPDATE or DELETE: the old and new rows as
 * jsonb, the changed columns, and the key the row has now, or had (DELETE);
 * the whole row without one.
 */
static void
audit_row_change(TriggerData *trigdata, AuditRelInfo *info, AcctsecAuditRow *row)
{
	TupleDesc	desc = RelationGetDescr(trigdata->tg_relation);
	TriggerEvent event = trigdata->tg_event;
	Datum	   *oldv = NULL;
	bool	   *oldn = NULL;
	Datum	   *newv = NULL;
	bool	   *newn = NULL;

	if (!TRIGGER_FIRED_BY_INSERT(event))
	{
		oldv = palloc(sizeof(Datum) * Max(desc->natts, 1));
		oldn = palloc(sizeof(bool) * Max(desc->natts, 1));
		heap_deform_tuple(trigdata->tg_trigtuple, desc, oldv, oldn);
		row->old_values = audit_row_jsonb(info, oldv, oldn, false, &row->old_values_text);
	}
	if (!TRIGGER_FIRED_BY_DELETE(event))
	{
		HeapTuple	newtup = TRIGGER_FIRED_BY_UPDATE(event) ?
			trigdata->tg_newtuple : trigdata->tg_trigtuple;

		newv = palloc(sizeof(Datum) * Max(desc->natts, 1));
		newn = palloc(sizeof(bool) * Max(desc->natts, 1));
		heap_deform_tuple(newtup, desc, newv, newn);
		row->new_values = audit_row_jsonb(info, newv, newn, false, &row->new_values_text);
	}

	if (TRIGGER_FIRED_BY_INSERT(event))
		row->operation = "INSERT";
	else if (TRIGGER_FIRED_BY_UPDATE(event))
	{
		row->operation = "UPDATE";
		row->changed_columns = audit_changed_columns(info, oldv, oldn, newv, newn,
													 &row->changed_columns_text);
	}
	else
		row->operation = "DELETE";

	if (info->has_key)
		row->row_key = newv ? audit_row_jsonb(info, newv, newn, true, &row->row_key_text) :
			audit_row_jsonb(info, oldv, oldn, true, &row->row_key_text);
	else if (newv)
	{
		row->row_key = row->new_values;
		row->row_key_text = row->new_values_text;
	}
	else
	{
		row->row_key = row->old_values;
		row->row_key_text = row->old_values_text;
	}
}

/*
 * acctsec.audit(): AFTER INSERT OR UPDATE OR DELETE ... FOR EACH ROW, and
 * AFTER TRUNCATE ... FOR EACH STATEMENT.  Arguments: columns to redact.
 */
Datum
acctsec_audit(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	AuditRelInfo *info;
	AcctsecAuditRow row;

	audit_check_trigger(fcinfo);
	info = audit_rel_info(trigdata->tg_relation, trigdata->tg_trigger);
	memset(&row, 0, sizeof(row));
	row.relation = info->relname;

	if (TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event))
		row.operation = "TRUNCATE";
	else
		audit_row_change(trigdata, info, &row);

	acctsec_audit_write(&row);
	return PointerGetDatum(NULL);
}

/* The table audit_table()/unaudit_table() may act on, checked. */
static Relation
audit_target(Oid relid)
{
	Relation	rel = acctsec_open_owned_table(relid, ShareRowExclusiveLock, NULL);

	if (RelationGetNamespace(rel) == get_namespace_oid("acctsec", false))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("acctsec's own tables cannot be audited"),
				 errdetail("The audit log and the tables behind security events are covered by the log itself.")));
	return rel;
}

/*
 * One AFTER trigger calling acctsec.func, replaced if it is there.  The
 * audit triggers fire as ordinary triggers do; their companion fires in
 * every session (ENABLE ALWAYS) and, under session_replication_role =
 * replica, records that the audit triggers were skipped.
 */
static void
audit_create_trigger(Relation rel, const char *name, const char *func,
					 bool row, int16 events, List *args, char fires_on)
{
	acctsec_create_trigger(rel, name, func, args, row, TRIGGER_TYPE_AFTER,
						   events, true, fires_on, "acctsec.audit_table()");
}

/* The three triggers audit_table() attaches; args: the columns to redact. */
static void
audit_attach_triggers(Relation rel, List *args)
{
	audit_create_trigger(rel, AUDIT_ROW_TRIGGER, "audit", true,
						 TRIGGER_TYPE_INSERT | TRIGGER_TYPE_UPDATE | TRIGGER_TYPE_DELETE,
						 args, TRIGGER_FIRES_ON_ORIGIN);
	audit_create_trigger(rel, AUDIT_TRUNCATE_TRIGGER, "audit", false,
						 TRIGGER_TYPE_TRUNCATE, NIL, TRIGGER_FIRES_ON_ORIGIN);
	audit_create_trigger(rel, AUDIT_BYPASS_TRIGGER, "audit_bypass", false,
						 TRIGGER_TYPE_INSERT | TRIGGER_TYPE_UPDATE |
						 TRIGGER_TYPE_DELETE | TRIGGER_TYPE_TRUNCATE,
						 NIL, TRIGGER_FIRES_ALWAYS);
}

/*
 * acctsec.audit_table(tbl regclass, exclude text[] DEFAULT NULL) RETURNS void
 *
 * Attaches (or re-attaches, with a new exclude list) the audit triggers.
 * The caller must own the table.
 */
Datum
acctsec_audit_table(PG_FUNCTION_ARGS)
{
	Oid			relid;
	Relation	rel;
	List	   *args = NIL;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("table must not be null")));
	/* before any lock: a standby would refuse the lock with a stranger error */
	PreventCommandIfReadOnly("audit_table()");
	relid = PG_GETARG_OID(0);
	rel = audit_target(relid);

	if (!PG_ARGISNULL(1))
	{
		ArrayType  *exclude = PG_GETARG_ARRAYTYPE_P(1);
		Datum	   *elems;
		bool	   *elemnulls;
		int			nelems;

		if (ARR_NDIM(exclude) > 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("exclude must be a one-dimensional array of column names")));
		deconstruct_array(exclude, TEXTOID, -1, false, TYPALIGN_INT,
						  &elems, &elemnulls, &nelems);
		for (int i = 0; i < nelems; i++)
		{
			char	   *name;
			AttrNumber	attnum;

			if (elemnulls[i])
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("exclude must not contain nulls")));
			name = TextDatumGetCString(elems[i]);
			attnum = get_attnum(relid, name);
			if (attnum <= 0)
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_COLUMN),
						 errmsg("column \"%s\" of relation \"%s\" does not exist",
								name, RelationGetRelationName(rel))));
			args = lappend(args, makeString(name));
		}
	}

	audit_attach_triggers(rel, args);
	table_close(rel, NoLock);
	PG_RETURN_VOID();
}

/* acctsec.unaudit_table(tbl regclass) RETURNS void: detaches them (no error if absent). */
Datum
acctsec_unaudit_table(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	Relation	rel;
	const char *names[3] = {AUDIT_ROW_TRIGGER, AUDIT_TRUNCATE_TRIGGER, AUDIT_BYPASS_TRIGGER};
	bool		dropped = false;

	PreventCommandIfReadOnly("unaudit_table()");
	rel = audit_target(relid);

	for (int i = 0; i < 3; i++)
	{
		Oid			tgoid = get_trigger_oid(relid, names[i], true);

		if (OidIsValid(tgoid))
		{
			ObjectAddress obj;

			ObjectAddressSet(obj, TriggerRelationId, tgoid);
			performDeletion(&obj, DROP_RESTRICT, 0);
			dropped = true;
		}
	}
	/* auditing switched off is itself a security event (docs/security.md) */
	if (dropped)
		acctsec_security_event("audit.table_unaudited", NULL,
							   "table", quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
																   RelationGetRelationName(rel)),
							   "role", GetUserNameFromId(GetUserId(), false),
							   NULL);
	table_close(rel, NoLock);
	PG_RETURN_VOID();
}
