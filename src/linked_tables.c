/*
 * linked_tables.c
 *		Application tables linked to acctsec accounts (docs/accounts.md,
 *		docs/linked_tables.md).
 *
 * acctsec.link_account_table (SQL, in 20_accounts.sql) records a table and
 * its key column in acctsec.linked_tables and attaches the AFTER DELETE row
 * trigger below, so that deleting a user through any ORM erases that
 * account's security state (a lock in force excepted: it outlives the row).  The trigger trusts only acctsec.linked_tables:
 * the key column comes from there, not from trigger arguments, and a table
 * that is not linked is an error, so attaching the function by hand to some
 * other table can erase nothing.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "common/int.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/inval.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/typcache.h"
#if PG_VERSION_NUM >= 160000
#include "nodes/miscnodes.h"
#else
#include "access/xact.h"
#include "utils/resowner.h"
#endif

#include "account.h"
#include "linked_tables.h"
#include "passwords.h"
#include "relation_util.h"
#include "spi_util.h"

PG_FUNCTION_INFO_V1(acctsec_forget_linked_account);

static AcctsecPlan key_column_plan = {
	"SELECT key_column FROM acctsec.linked_tables"
	" WHERE tbl OPERATOR(pg_catalog.=) $1::pg_catalog.regclass",
	ACCTSEC_PLAN_ARGS(OIDOID), SPI_OK_SELECT, NULL
};

static char *table_name(Oid relid);

/*
 * The key column recorded for relid, or NULL if the table is not linked.
 * SPI must be connected; the result is allocated in the caller's context.
 */
static char *
linked_key_column(Oid relid, MemoryContext cxt)
{
	Datum		values[1] = {ObjectIdGetDatum(relid)};
	bool		isnull;
	Datum		d;

	(void) acctsec_plan_run(&key_column_plan, values, NULL, true, 1);
	if (SPI_processed != 1)
		return NULL;
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		return NULL;
	return MemoryContextStrdup(cxt, NameStr(*DatumGetName(d)));
}

/*
 * acctsec.forget_linked_account(): AFTER DELETE FOR EACH ROW trigger on a
 * linked table.  The key value's text form (the same as key::text, so an
 * integer 42 is account '42' and a uuid its lower-case form) is the account
 * whose state is erased.  A NULL key, or one that cannot be an account
 * (empty, too long), has no state and is skipped.
 */
Datum
acctsec_forget_linked_account(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Relation	rel;
	char	   *key_column;
	int			attnum;
	char	   *key;

	acctsec_check_trigger(fcinfo, "acctsec.forget_linked_account()", false);
	rel = trigdata->tg_relation;
	if (!acctsec_trigger_fired(fcinfo, true, TRIGGER_TYPE_AFTER,
							   TRIGGER_TYPE_DELETE))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("acctsec.forget_linked_account() on table \"%s\" must be an AFTER DELETE FOR EACH ROW trigger",
						RelationGetRelationName(rel)),
				 errhint("Use acctsec.link_account_table() to attach it.")));

	acctsec_spi_connect();
	key_column = linked_key_column(RelationGetRelid(rel), CurrentMemoryContext);
	if (key_column == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("table \"%s\" is not linked to acctsec accounts",
						RelationGetRelationName(rel)),
				 errhint("Use acctsec.link_account_table() to link it.")));

	attnum = SPI_fnumber(RelationGetDescr(rel), key_column);
	if (attnum <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("key column \"%s\" of linked table \"%s\" does not exist",
						key_column, RelationGetRelationName(rel)),
				 errhint("Link the table again with acctsec.link_account_table().")));

	key = SPI_getvalue(trigdata->tg_trigtuple, RelationGetDescr(rel), attnum);
	if (key != NULL && key[0] != '\0' && strlen(key) <= ACCTSEC_MAX_ACCOUNT_BYTES)
		acctsec_account_forget_row(cstring_to_text(key),
								   table_name(RelationGetRelid(rel)));
	acctsec_spi_finish();
	return PointerGetDatum(trigdata->tg_trigtuple);
}

/* ===========================================================================
 * Mirroring (docs/linked_tables.md)
 *
 * link_account_table(tbl, key_column, mirror) maps acctsec fields to columns
 * of the application's table.  Three pieces keep those columns true:
 *
 * - acctsec.mirror_account_state(), an AFTER row trigger on acctsec.accounts,
 *   writes the mirrored fields into every linked table's row of the account
 *   whenever one of them changes.  Every capability changes account state by
 *   updating that row, so lockout, unlock, failures, logins and TOTP on/off
 *   all reach the table in the same transaction without knowing about it.
 * - acctsec.mirror_guard(), a BEFORE INSERT OR UPDATE row trigger on the
 *   linked table, replaces whatever a statement writes into a mirrored
 *   column of security state (failures, lock, 2FA flag) with acctsec's
 *   current value, so an ORM saving a whole stale row cannot make the
 *   columns lie.  A column that only records history (last login time and
 *   address, login count) keeps the application's own newer write, as
 *   Django's update_last_login() makes one, and acctsec's state takes it
 *   over; an older one (a stale row) is replaced too.  An UPDATE that leaves
 *   every mirrored column as it was costs no query.
 * - a backend-local cache of the links (column numbers, types, saved
 *   plans), dropped by a relcache callback when acctsec.linked_tables
 *   changes (a statement trigger on it sends the invalidation) or a linked
 *   table's definition does.
 *
 * The password_hash field is not state: it names the column acctsec.login
 * reads the hash from and writes a rehash to; the guard leaves it alone.
 * ===========================================================================
 */

typedef enum MirrorField
{
	MF_FAILED_ATTEMPTS,
	MF_LOCKED_UNTIL,
	MF_LOCKED_AT,
	MF_LAST_LOGIN_AT,
	MF_LAST_LOGIN_IP,
	MF_LOGIN_COUNT,
	MF_TOTP_ENABLED,
	MF_PASSWORD_HASH,
	NUM_MIRROR_FIELDS
} MirrorField;

typedef enum FieldKind
{
	FK_COUNT,					/* smallint, integer, bigint, numeric */
	FK_TIME,					/* timestamptz, timestamp */
	FK_IP,						/* inet, text, varchar */
	FK_BOOL,					/* boolean */
	FK_TEXT						/* text, varchar */
} FieldKind;

#define MAX_DETECT_NAMES 6

typedef struct MirrorFieldDef
{
	const char *name;			/* key of the mirror object */
	FieldKind	kind;
	/* the value from acctsec.accounts a; the zero state when no row */
	const char *source;
	/* the usual column names, tried in order when mirror is NULL */
	const char *detect[MAX_DETECT_NAMES];
} MirrorFieldDef;

static const MirrorFieldDef mirror_fields[NUM_MIRROR_FIELDS] = {
	[MF_FAILED_ATTEMPTS] = {"failed_attempts", FK_COUNT,
		"COALESCE(a.failed_attempts, 0)",
	{"failed_login_attempts", "failed_attempts", "AccessFailedCount"}},
	[MF_LOCKED_UNTIL] = {"locked_until", FK_TIME, "a.locked_until",
	{"locked_until", "LockoutEnd"}},
	[MF_LOCKED_AT] = {"locked_at", FK_TIME, "a.locked_at",
	{"locked_at"}},
	[MF_LAST_LOGIN_AT] = {"last_login_at", FK_TIME, "a.last_login_at",
	{"last_login_at", "last_sign_in_at", "last_login"}},
	[MF_LAST_LOGIN_IP] = {"last_login_ip", FK_IP, "a.last_login_ip",
	{"last_login_ip", "last_sign_in_ip"}},
	[MF_LOGIN_COUNT] = {"login_count", FK_COUNT,
		"COALESCE(a.login_count, 0)",
	{"login_count", "sign_in_count"}},
	[MF_TOTP_ENABLED] = {"totp_enabled", FK_BOOL,
		"COALESCE(a.totp_enabled, false)",
	{"two_factor_enabled", "TwoFactorEnabled", "otp_required_for_login"}},
	[MF_PASSWORD_HASH] = {"password_hash", FK_TEXT, NULL,
		{"password_hash", "encrypted_password", "password_digest", "PasswordHash",
	"password"}},
};

/* The acctsec.accounts columns whose change is pushed to linked tables. */
static const char *const account_state_columns[] = {
	"failed_attempts", "locked_until", "locked_at", "last_login_at",
	"last_login_ip", "login_count", "totp_enabled"
};

typedef struct MirrorLink
{
	Oid			relid;
	char	   *qualified_name; /* quoted, schema-qualified */
	char	   *key_column;
	AttrNumber	key_attnum;
	Oid			key_type;		/* base type of the key column */
	AttrNumber	attnum[NUM_MIRROR_FIELDS];	/* 0: not mirrored */
	Oid			atttype[NUM_MIRROR_FIELDS];
	int32		atttypmod[NUM_MIRROR_FIELDS];
	int			nstate;			/* mirrored fields other than password_hash */
	/* the link's statements, made on first use (sql NULL until then) */
	AcctsecPlan push_plan;
	AcctsecPlan guard_plan;
	AcctsecPlan password_plan;
	AcctsecPlan rehash_plan;
	AcctsecRehashMode rehash_mode;	/* the mirror's password_rehash */
} MirrorLink;

static MemoryContext mirror_cxt = NULL;
static MirrorLink *mirror_links = NULL;
static int	mirror_nlinks = 0;
static bool mirror_valid = false;
static Oid	mirror_registry_relid = InvalidOid;

/* set while acctsec itself writes a linked table: the guard stands aside */
static bool mirror_writing = false;

/* set while the guard hands a row's history to acctsec: no push back to it */
static Oid	mirror_adopting_relid = InvalidOid;

PG_FUNCTION_INFO_V1(acctsec_resolve_mirror);
PG_FUNCTION_INFO_V1(acctsec_mirror_attach);
PG_FUNCTION_INFO_V1(acctsec_mirror_account_state);
PG_FUNCTION_INFO_V1(acctsec_mirror_wanted);
PG_FUNCTION_INFO_V1(acctsec_mirror_guard);
PG_FUNCTION_INFO_V1(acctsec_linked_tables_changed);

/*
 * Whether some linked table mirrors account state (acctsec_mirror_wanted),
 * known while mirror_wanted_valid; dropped with the cache of links by any
 * change to the registry.
 */
static bool mirror_wanted = false;
static bool mirror_wanted_valid = false;
static bool mirror_callback_registered = false;

static void
mirror_relcache_callback(Datum arg, Oid relid)
{
	if (!OidIsValid(relid) || relid == mirror_registry_relid)
		mirror_wanted_valid = false;
	if (!mirror_valid)
		return;
	if (!OidIsValid(relid) || relid == mirror_registry_relid)
	{
		mirror_valid = false;
		return;
	}
	for (int i = 0; i < mirror_nlinks; i++)
		if (mirror_links[i].relid == relid)
		{
			mirror_valid = false;
			return;
		}
}

/* The table's name, schema-qualified and quoted, for SQL and messages. */
static char *
table_name(Oid relid)
{
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
									  get_rel_name(relid));
}

static bool
kind_fits(FieldKind kind, Oid type)
{
	switch (kind)
	{
		case FK_COUNT:
			return type == INT2OID || type == INT4OID || type == INT8OID ||
				type == NUMERICOID;
		case FK_TIME:
			return type == TIMESTAMPTZOID || type == TIMESTAMPOID;
		case FK_IP:
			return type == INETOID || type == TEXTOID || type == VARCHAROID;
		case FK_BOOL:
			return type == BOOLOID;
		case FK_TEXT:
			return type == TEXTOID || type == VARCHAROID;
	}
	return false;
}

static const char *
kind_types(FieldKind kind)
{
	switch (kind)
	{
		case FK_COUNT:
			return "smallint, integer, bigint or numeric";
		case FK_TIME:
			return "timestamp with time zone or timestamp";
		case FK_IP:
			return "inet, text or varchar";
		case FK_BOOL:
			return "boolean";
		case FK_TEXT:
			return "text or varchar";
	}
	return "";
}

/* The values of the mirror's password_rehash key, by AcctsecRehashMode. */
static const char *const rehash_mode_names[] = {
	[ACCTSEC_REHASH_FRAMEWORK] = "framework",
	[ACCTSEC_REHASH_ARGON2ID] = "argon2id",
	[ACCTSEC_REHASH_NEVER] = "never",
};

static bool
rehash_mode_by_name(const char *name, AcctsecRehashMode *mode)
{
	for (int m = 0; m < (int) lengthof(rehash_mode_names); m++)
		if (strcmp(rehash_mode_names[m], name) == 0)
		{
			*mode = (AcctsecRehashMode) m;
			return true;
		}
	return false;
}

static int
mirror_field_by_name(const char *name)
{
	for (int f = 0; f < NUM_MIRROR_FIELDS; f++)
		if (strcmp(mirror_fields[f].name, name) == 0)
			return f;
	return -1;
}

/* Forget the cached links and their plans. */
static void
mirror_reset_cache(void)
{
	for (int i = 0; i < mirror_nlinks; i++)
	{
		MirrorLink *l = &mirror_links[i];

		AcctsecPlan *plans[] = {&l->push_plan, &l->guard_plan,
		&l->password_plan, &l->rehash_plan};

		for (int p = 0; p < (int) lengthof(plans); p++)
			if (plans[p]->plan != NULL)
				SPI_freeplan(plans[p]->plan);
	}
	mirror_links = NULL;
	mirror_nlinks = 0;
	if (mirror_cxt != NULL)
		MemoryContextReset(mirror_cxt);
}

/*
 * Load the links with a non-empty mirror from acctsec.linked_tables.  SPI
 * must be connected.  A mapped column that no longer exists (dropped or
 * renamed since linking) is an error: the columns would silently stop
 * telling the truth otherwise.
 */
static AcctsecPlan links_plan = {
	"SELECT l.tbl::pg_catalog.oid, l.key_column::pg_catalog.text, e.key, e.value"
	" FROM acctsec.linked_tables l, pg_catalog.jsonb_each_text(l.mirror) e"
	" ORDER BY 1",
	0, {0}, SPI_OK_SELECT, NULL
};

static void
mirror_load(void)
{
	uint64		n;
	MemoryContext old;

	if (mirror_valid)
		return;
	if (mirror_cxt == NULL)
		mirror_cxt = AllocSetContextCreate(CacheMemoryContext,
										   "acctsec linked tables",
										   ALLOCSET_SMALL_SIZES);
	if (!mirror_callback_registered)
	{
		CacheRegisterRelcacheCallback(mirror_relcache_callback, (Datum) 0);
		mirror_callback_registered = true;
	}
	mirror_reset_cache();
	mirror_registry_relid = get_relname_relid("linked_tables",
											  get_namespace_oid("acctsec", false));

	n = acctsec_plan_run(&links_plan, NULL, NULL, true, 0);

	old = MemoryContextSwitchTo(mirror_cxt);
	mirror_links = palloc0(sizeof(MirrorLink) * Max(n, 1));
	for (uint64 i = 0; i < n; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		Oid			relid = DatumGetObjectId(SPI_getbinval(tup, desc, 1, &isnull));
		char	   *field = SPI_getvalue(tup, desc, 3);
		char	   *column = SPI_getvalue(tup, desc, 4);
		MirrorLink *l;
		int			f;

		if (mirror_nlinks == 0 || mirror_links[mirror_nlinks - 1].relid != relid)
		{
			char	   *relname = get_rel_name(relid);

			if (relname == NULL)
				continue;		/* dropped; the event trigger unlinks it */
			l = &mirror_links[mirror_nlinks++];
			l->relid = relid;
			l->qualified_name = table_name(relid);
			l->key_column = SPI_getvalue(tup, desc, 2);
			l->key_attnum = get_attnum(relid, l->key_column);
			if (l->key_attnum == InvalidAttrNumber)
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_COLUMN),
						 errmsg("key column \"%s\" of linked table %s does not exist",
								l->key_column, l->qualified_name),
						 errhint("Link the table again with acctsec.link_account_table().")));
			l->key_type = getBaseType(get_atttype(relid, l->key_attnum));
		}
		l = &mirror_links[mirror_nlinks - 1];
		if (strcmp(field, "password_rehash") == 0)
		{
			(void) rehash_mode_by_name(column, &l->rehash_mode);
			continue;
		}
		f = mirror_field_by_name(field);
		if (f < 0)
			continue;			/* link_account_table never stores one */
		l->attnum[f] = get_attnum(relid, column);
		if (l->attnum[f] == InvalidAttrNumber)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("mirrored column \"%s\" of linked table %s does not exist",
							column, l->qualified_name),
					 errhint("Link the table again with acctsec.link_account_table().")));
		{
			Oid			collid;

			get_atttypetypmodcoll(relid, l->attnum[f], &l->atttype[f],
								  &l->atttypmod[f], &collid);
		}
		if (f != MF_PASSWORD_HASH)
			l->nstate++;
	}
	MemoryContextSwitchTo(old);
	mirror_valid = true;
}

static MirrorLink *
mirror_find(Oid relid)
{
	for (int i = 0; i < mirror_nlinks; i++)
		if (mirror_links[i].relid == relid)
			return &mirror_links[i];
	return NULL;
}

/*
 * Make one of a link's statements: its SQL and parameter types, kept in
 * mirror_cxt with the link; planned and kept on its first run, freed with
 * the link (mirror_reset_cache).
 */
static void
link_plan_set(AcctsecPlan *plan, const char *sql, int nargs,
			  const Oid *argtypes, int expect)
{
	if (nargs > ACCTSEC_PLAN_MAX_ARGS)
		elog(ERROR, "too many parameters for a linked table's statement: %d", nargs);
	plan->sql = MemoryContextStrdup(mirror_cxt, sql);
	plan->nargs = nargs;
	memcpy(plan->argtypes, argtypes, nargs * sizeof(Oid));
	plan->expect = expect;
	plan->plan = NULL;
}

/*
 * Whose rights a statement on a linked table runs with: its owner's, in a
 * restricted security context (acctsec_become_role).  What acctsec needs
 * from its own tables it reads first, with its own rights, and hands to
 * those statements as parameters; no statement reads acctsec's tables and
 * the application's at once, so neither role needs the other's privileges
 * and no code of the application's ever runs with acctsec's.
 *
 * acctsec_plan_run as the owner of relid (SPI connected).
 */
static uint64
plan_run_as_owner(Oid relid, AcctsecPlan *plan, Datum *values,
				  const char *nulls, bool read_only, long tcount)
{
	AcctsecRoleSwitch sw;
	uint64		n;

	acctsec_become_role(acctsec_rel_owner(relid), &sw);
	n = acctsec_plan_run(plan, values, nulls, read_only, tcount);
	acctsec_restore_role(&sw);
	return n;
}

/* acctsec_sql_run as the owner of relid (SPI connected). */
static uint64
sql_run_as_owner(Oid relid, const char *sql, int expect, int nargs,
				 const Oid *argtypes, Datum *values, const char *nulls,
				 bool read_only, long tcount)
{
	AcctsecRoleSwitch sw;
	uint64		n;

	acctsec_become_role(acctsec_rel_owner(relid), &sw);
	n = acctsec_sql_run(sql, expect, nargs, argtypes, values, nulls,
						read_only, tcount);
	acctsec_restore_role(&sw);
	return n;
}

/*
 * An account's mirrored state, read from acctsec.accounts with acctsec's
 * rights: column f + 1 is field f (the zero state when there is no row)
 * for every field before password_hash, and column STATE_HOST + 1 is the
 * address as text, for a text column.
 */
#define STATE_HOST	MF_PASSWORD_HASH

static AcctsecPlan state_plan = {NULL, 1, {TEXTOID}, SPI_OK_SELECT, NULL};

/* The type a field's value is handed to the linked table's statements in. */
static Oid
field_param_type(const MirrorLink *l, int f)
{
	switch ((MirrorField) f)
	{
		case MF_FAILED_ATTEMPTS:
			return INT4OID;
		case MF_LOCKED_UNTIL:
		case MF_LOCKED_AT:
		case MF_LAST_LOGIN_AT:
			return TIMESTAMPTZOID;
		case MF_LAST_LOGIN_IP:
			return getBaseType(l->atttype[f]) == INETOID ? INETOID : TEXTOID;
		case MF_LOGIN_COUNT:
			return INT8OID;
		case MF_TOTP_ENABLED:
			return BOOLOID;
		case MF_PASSWORD_HASH:
		case NUM_MIRROR_FIELDS:
			break;
	}
	elog(ERROR, "unexpected mirror field %d", f);
	return InvalidOid;
}

/*
 * Read the account's state (SPI connected); latest: with a new snapshot
 * (an AFTER trigger on acctsec.accounts must see the row it fired for).
 * The values live in SPI's memory until the caller's SPI_finish.
 */
static void
read_account_state(Datum account, bool latest, Datum *state, bool *isnull)
{
	if (state_plan.sql == NULL)
	{
		StringInfoData sql;
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		initStringInfo(&sql);
		MemoryContextSwitchTo(old);
		appendStringInfoString(&sql, "SELECT ");
		for (int f = 0; f < MF_PASSWORD_HASH; f++)
			appendStringInfo(&sql, "%s, ", mirror_fields[f].source);
		appendStringInfoString(&sql, "pg_catalog.host(a.last_login_ip)"
							   " FROM (SELECT) AS d LEFT JOIN acctsec.accounts AS a"
							   " ON a.account OPERATOR(pg_catalog.=) $1");
		state_plan.sql = sql.data;
	}
	if (acctsec_plan_run(&state_plan, &account, NULL, !latest, 1) != 1)
		elog(ERROR, "could not read the account's state");
	for (int c = 0; c <= STATE_HOST; c++)
		state[c] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
								 c + 1, &isnull[c]);
}

/*
 * The link's mirrored fields, in field order, as parameters from the state
 * read above; returns how many.  types may be NULL.
 */
static int
link_state_params(const MirrorLink *l, const Datum *state, const bool *isnull,
				  Datum *values, char *nulls, Oid *types)
{
	int			n = 0;

	for (int f = 0; f < NUM_MIRROR_FIELDS; f++)
	{
		int			c = f;

		if (f == MF_PASSWORD_HASH || l->attnum[f] == InvalidAttrNumber)
			continue;
		if (field_param_type(l, f) == TEXTOID)
			c = STATE_HOST;
		if (values != NULL)
		{
			values[n] = state[c];
			nulls[n] = isnull[c] ? 'n' : ' ';
		}
		if (types != NULL)
			types[n] = field_param_type(l, f);
		n++;
	}
	return n;
}

/* "CAST($first AS <column type>)", the column's type schema-qualified */
static void
append_cast(StringInfo sql, const MirrorLink *l, int f, const char *value)
{
	appendStringInfo(sql, "CAST(%s AS %s)", value,
					 format_type_extended(l->atttype[f], l->atttypmod[f],
										  FORMAT_TYPE_TYPEMOD_GIVEN |
										  FORMAT_TYPE_FORCE_QUALIFY));
}

/*
 * "<source> AS f0, ..." over an "a" with acctsec.accounts' columns, cast to
 * the columns' types.
 */
static void
append_sources(StringInfo sql, const MirrorLink *l)
{
	bool		first = true;

	for (int f = 0; f < NUM_MIRROR_FIELDS; f++)
	{
		if (f == MF_PASSWORD_HASH || l->attnum[f] == InvalidAttrNumber)
			continue;
		if (!first)
			appendStringInfoString(sql, ", ");
		first = false;
		/* an address into a text column: host(), without the /32 */
		append_cast(sql, l, f,
					field_param_type(l, f) == TEXTOID ?
					"pg_catalog.host(a.last_login_ip)" : mirror_fields[f].source);
		appendStringInfo(sql, " AS f%d", f);
	}
}

/*
 * The plan writing the account's state into its row of the linked table,
 * run as the table's owner: $1 the key (of the key column's base type),
 * then the link's fields (link_state_params).
 */
static AcctsecPlan *
push_plan(MirrorLink *l)
{
	if (l->push_plan.sql == NULL)
	{
		StringInfoData sql;
		Oid			argtypes[NUM_MIRROR_FIELDS + 1];
		int			n;
		int			p = 2;
		bool		first = true;

		argtypes[0] = l->key_type;
		n = link_state_params(l, NULL, NULL, NULL, NULL, argtypes + 1);
		initStringInfo(&sql);
		appendStringInfo(&sql, "UPDATE ONLY %s AS t SET ", l->qualified_name);
		for (int f = 0; f < NUM_MIRROR_FIELDS; f++)
		{
			if (f == MF_PASSWORD_HASH || l->attnum[f] == InvalidAttrNumber)
				continue;
			appendStringInfo(&sql, "%s%s = ", first ? "" : ", ",
							 quote_identifier(get_attname(l->relid, l->attnum[f], false)));
			append_cast(&sql, l, f, psprintf("$%d", p++));
			first = false;
		}
		appendStringInfo(&sql, " WHERE t.%s OPERATOR(pg_catalog.=) $1",
						 quote_identifier(l->key_column));
		link_plan_set(&l->push_plan, sql.data, n + 1, argtypes, SPI_OK_UPDATE);
	}
	return &l->push_plan;
}

/*
 * The plan casting the account's state to the columns' types (domain
 * CHECKs included), run as the table's owner: the link's fields as
 * parameters (link_state_params).
 */
static AcctsecPlan *
guard_plan(MirrorLink *l)
{
	if (l->guard_plan.sql == NULL)
	{
		StringInfoData sql;
		Oid			argtypes[NUM_MIRROR_FIELDS];
		int			n;
		int			p = 1;

		n = link_state_params(l, NULL, NULL, NULL, NULL, argtypes);
		initStringInfo(&sql);
		appendStringInfoString(&sql, "SELECT ");
		for (int f = 0; f < NUM_MIRROR_FIELDS; f++)
		{
			if (f == MF_PASSWORD_HASH || l->attnum[f] == InvalidAttrNumber)
				continue;
			if (p > 1)
				appendStringInfoString(&sql, ", ");
			append_cast(&sql, l, f, psprintf("$%d", p++));
		}
		link_plan_set(&l->guard_plan, sql.data, n, argtypes, SPI_OK_SELECT);
	}
	return &l->guard_plan;
}

/*
 * The key column's value for an account, if the account can be one: the
 * account must be exactly the text form of a value of the key's type (so
 * '007' is not the key 7: one key, one account, one failure counter).
 */
static bool
account_key(const MirrorLink *l, const char *account, Datum *key)
{
	size_t		len = strlen(account);

	switch (l->key_type)
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
			{
				const char *p = account;
				int64		v = 0;
				bool		neg = false;

				if (*p == '-')
				{
					neg = true;
					p++;
				}
				if (*p == '\0' || (*p == '0' && (p[1] != '\0' || neg)))
					return false;
				for (; *p; p++)
				{
					if (*p < '0' || *p > '9')
						return false;
					if (pg_mul_s64_overflow(v, 10, &v) ||
						pg_sub_s64_overflow(v, *p - '0', &v))
						return false;	/* accumulate negatively: INT64_MIN
										 * fits */
				}
				if (!neg)
				{
					if (v == PG_INT64_MIN)
						return false;
					v = -v;
				}
				if (l->key_type == INT2OID)
				{
					if (v < PG_INT16_MIN || v > PG_INT16_MAX)
						return false;
					*key = Int16GetDatum((int16) v);
				}
				else if (l->key_type == INT4OID)
				{
					if (v < PG_INT32_MIN || v > PG_INT32_MAX)
						return false;
					*key = Int32GetDatum((int32) v);
				}
				else
					*key = Int64GetDatum(v);
				return true;
			}
		case UUIDOID:
			{
				if (len != 36)
					return false;
				for (size_t i = 0; i < len; i++)
				{
					char		c = account[i];

					if (i == 8 || i == 13 || i == 18 || i == 23)
					{
						if (c != '-')
							return false;
					}
					else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
						return false;
				}
				*key = DirectFunctionCall1(uuid_in, CStringGetDatum(account));
				return true;
			}
		default:
			*key = PointerGetDatum(cstring_to_text(account));
			return true;
	}
}

static bool
account_state_changed(HeapTuple oldtup, HeapTuple newtup, TupleDesc desc)
{
	for (int i = 0; i < (int) lengthof(account_state_columns); i++)
	{
		int			attnum = SPI_fnumber(desc, account_state_columns[i]);
		Form_pg_attribute att;
		bool		n1,
					n2;
		Datum		d1,
					d2;

		if (attnum <= 0)
			elog(ERROR, "acctsec.accounts has no column \"%s\"",
				 account_state_columns[i]);
		att = TupleDescAttr(desc, attnum - 1);
		d1 = heap_getattr(oldtup, attnum, desc, &n1);
		d2 = heap_getattr(newtup, attnum, desc, &n2);
		if (n1 != n2 || (!n1 && !datumIsEqual(d1, d2, att->attbyval, att->attlen)))
			return true;
	}
	return false;
}

/*
 * Write the state of the account in tup (a row of acctsec.accounts) into its
 * row of every table that mirrors state; the state is read once, and only if
 * some table has a row to write.  SPI is connected.
 */
static void
push_account_state(HeapTuple tup, TupleDesc desc)
{
	Datum		state[STATE_HOST + 1];
	bool		state_null[STATE_HOST + 1];

	/* volatile: live across the PG_TRY below (-Wclobbered) */
	volatile bool state_read = false;
	char	   *account;

	account = SPI_getvalue(tup, desc, SPI_fnumber(desc, "account"));
	for (volatile int i = 0; i < mirror_nlinks; i++)
	{
		MirrorLink *l = &mirror_links[i];
		Datum		values[NUM_MIRROR_FIELDS + 1];
		char		nulls[NUM_MIRROR_FIELDS + 1];

		if (l->nstate == 0 || account == NULL || l->relid == mirror_adopting_relid ||
			!account_key(l, account, &values[0]))
			continue;
		if (!state_read)
		{
			read_account_state(CStringGetTextDatum(account), true,
							   state, state_null);
			state_read = true;
		}
		nulls[0] = ' ';
		(void) link_state_params(l, state, state_null, values + 1, nulls + 1, NULL);
		mirror_writing = true;
		PG_TRY();
		{
			(void) plan_run_as_owner(l->relid, push_plan(l), values, nulls,
									 false, 0);
		}
		PG_FINALLY();
		{
			mirror_writing = false;
		}
		PG_END_TRY();
	}
}

/*
 * acctsec.mirror_account_state(): AFTER INSERT OR UPDATE OR DELETE FOR EACH
 * ROW on acctsec.accounts.  Writes the account's state (the zero state after
 * a delete) into its row of every table that mirrors it.
 */
Datum
acctsec_mirror_account_state(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	HeapTuple	tup;

	if (!acctsec_trigger_fired(fcinfo, true, TRIGGER_TYPE_AFTER,
							   TRIGGER_TYPE_INSERT | TRIGGER_TYPE_UPDATE |
							   TRIGGER_TYPE_DELETE))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("acctsec.mirror_account_state() must be an AFTER FOR EACH ROW trigger on acctsec.accounts")));
	desc = RelationGetDescr(trigdata->tg_relation);
	if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
	{
		if (!account_state_changed(trigdata->tg_trigtuple, trigdata->tg_newtuple, desc))
			return PointerGetDatum(NULL);
		tup = trigdata->tg_newtuple;
	}
	else
		tup = trigdata->tg_trigtuple;

	acctsec_spi_connect();
	mirror_load();
	if (mirror_nlinks > 0)
		push_account_state(tup, desc);
	acctsec_spi_finish();
	return PointerGetDatum(NULL);
}

/* ---------------------------------------------------------------------------
 * History columns: the application's newer write is kept and adopted
 * ---------------------------------------------------------------------------
 */

static bool
is_history_field(int f)
{
	return f == MF_LAST_LOGIN_AT || f == MF_LAST_LOGIN_IP || f == MF_LOGIN_COUNT;
}

/* a < b: -1, a = b: 0, a > b: 1, by the type's default B-tree order */
static int
history_compare(Oid type, Datum a, Datum b)
{
	TypeCacheEntry *tc = lookup_type_cache(getBaseType(type), TYPECACHE_CMP_PROC_FINFO);

	if (!OidIsValid(tc->cmp_proc_finfo.fn_oid))
		elog(ERROR, "no comparison function for type %u", type);
	return DatumGetInt32(FunctionCall2Coll(&tc->cmp_proc_finfo, InvalidOid, a, b));
}

/*
 * The address in a text column as inet, or false when it is none (an
 * application's own garbage is not taken into acctsec's state).
 */
static bool
text_as_inet(Datum d, Datum *inet)
{
	char	   *str = TextDatumGetCString(d);
#if PG_VERSION_NUM >= 160000
	ErrorSaveContext escontext = {.type = T_ErrorSaveContext};

	return DirectInputFunctionCallSafe(inet_in, str, InvalidOid, -1,
									   (Node *) &escontext, inet);
#else
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	volatile bool ok = true;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		*inet = DirectFunctionCall1(inet_in, CStringGetDatum(str));
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		ok = false;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	CurrentResourceOwner = owner;
	return ok;
#endif
}

/*
 * Which history columns of the row keep the statement's value: a last login
 * time or login count later or larger than acctsec's, and a last login
 * address the statement changed, together with a kept login time where that
 * is mirrored too (an address on its own could be a stale row's).  cur and
 * curnull are acctsec's values by field; the values acctsec adopts are put
 * in adopt (timestamptz, inet, int8).
 */
static void
history_kept(const MirrorLink *l, TriggerData *trigdata, TupleDesc desc,
			 HeapTuple newtup, const Datum *cur, const bool *curnull,
			 bool *keep, Datum *adopt)
{
	static const int order[] = {MF_LAST_LOGIN_AT, MF_LOGIN_COUNT, MF_LAST_LOGIN_IP};

	for (int i = 0; i < (int) lengthof(order); i++)
	{
		int			f = order[i];
		Oid			type;
		bool		isnull;
		Datum		v;

		keep[f] = false;
		if (l->attnum[f] == InvalidAttrNumber)
			continue;
		v = heap_getattr(newtup, l->attnum[f], desc, &isnull);
		if (isnull)
			continue;			/* NULL is no newer history */
		type = getBaseType(l->atttype[f]);

		if (f == MF_LAST_LOGIN_AT || f == MF_LOGIN_COUNT)
		{
			if (!curnull[f] && history_compare(type, v, cur[f]) <= 0)
				continue;
			if (f == MF_LAST_LOGIN_AT)
				adopt[f] = type == TIMESTAMPOID ?
					DirectFunctionCall1(timestamp_timestamptz, v) : v;
			else if (type == INT2OID)
				adopt[f] = Int64GetDatum((int64) DatumGetInt16(v));
			else if (type == INT4OID)
				adopt[f] = Int64GetDatum((int64) DatumGetInt32(v));
			else if (type == INT8OID)
				adopt[f] = v;
			else
			{
				/*
				 * Only a count acctsec can hold: 0 to below the bigint
				 * maximum (NaN and infinity sort above it), so the rounding
				 * cast cannot fail.
				 */
				if (history_compare(NUMERICOID, v,
									NumericGetDatum(int64_to_numeric(0))) < 0 ||
					history_compare(NUMERICOID, v,
									NumericGetDatum(int64_to_numeric(PG_INT64_MAX - 1))) > 0)
					continue;
				adopt[f] = DirectFunctionCall1(numeric_int8, v);
			}
			keep[f] = true;
		}
		else
		{
			Form_pg_attribute att = TupleDescAttr(desc, l->attnum[f] - 1);

			if (l->attnum[MF_LAST_LOGIN_AT] != InvalidAttrNumber &&
				!keep[MF_LAST_LOGIN_AT])
				continue;
			if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
			{
				bool		oldnull;
				Datum		old = heap_getattr(trigdata->tg_trigtuple, l->attnum[f],
											   desc, &oldnull);

				if (!oldnull && datumIsEqual(old, v, att->attbyval, att->attlen))
					continue;	/* not written by this statement */
			}
			if (type == INETOID)
				adopt[f] = v;
			else if (!text_as_inet(v, &adopt[f]))
				continue;
			keep[f] = true;
		}
	}
}

/*
 * history_adopt's statement.  It runs while the linked row is held already;
 * acctsec's own state changes lock the account's row first and the linked row after
 * (the push).  Taking the account's row here could deadlock with
 * one of those, so a row another transaction holds is skipped
 * (SKIP LOCKED): that change is newer and its push will write the
 * row.  A missing row is inserted unless it exists by then.
 */
static AcctsecPlan adopt_plan = {
	"WITH l AS (SELECT a.account FROM acctsec.accounts a"
	" WHERE a.account OPERATOR(pg_catalog.=) $1 FOR UPDATE SKIP LOCKED),"
	" u AS (UPDATE acctsec.accounts a SET"
	" last_login_at = CASE WHEN $5 THEN $2 ELSE a.last_login_at END,"
	" last_login_ip = CASE WHEN $6 THEN $3 ELSE a.last_login_ip END,"
	" login_count = CASE WHEN $7 THEN $4 ELSE a.login_count END"
	" FROM l WHERE a.account OPERATOR(pg_catalog.=) l.account)"
	" INSERT INTO acctsec.accounts (account, last_login_at, last_login_ip, login_count)"
	" SELECT $1, CASE WHEN $5 THEN $2 END, CASE WHEN $6 THEN $3 END,"
	" CASE WHEN $7 THEN $4 ELSE 0 END"
	" WHERE NOT EXISTS (SELECT FROM acctsec.accounts a"
	" WHERE a.account OPERATOR(pg_catalog.=) $1)"
	" ON CONFLICT (account) DO NOTHING",
	ACCTSEC_PLAN_ARGS(TEXTOID, TIMESTAMPTZOID, INETOID, INT8OID, BOOLOID,
					  BOOLOID, BOOLOID),
	SPI_OK_INSERT, NULL
};

/* acctsec.accounts takes over the kept history values of the account. */
static void
history_adopt(MirrorLink *l, const char *account, const bool *keep, const Datum *adopt)
{
	Datum		values[7];
	char		nulls[7] = {' ', ' ', ' ', ' ', ' ', ' ', ' '};

	values[0] = CStringGetTextDatum(account);
	values[1] = keep[MF_LAST_LOGIN_AT] ? adopt[MF_LAST_LOGIN_AT] : (Datum) 0;
	values[2] = keep[MF_LAST_LOGIN_IP] ? adopt[MF_LAST_LOGIN_IP] : (Datum) 0;
	values[3] = keep[MF_LOGIN_COUNT] ? adopt[MF_LOGIN_COUNT] : (Datum) 0;
	nulls[1] = keep[MF_LAST_LOGIN_AT] ? ' ' : 'n';
	nulls[2] = keep[MF_LAST_LOGIN_IP] ? ' ' : 'n';
	nulls[3] = keep[MF_LOGIN_COUNT] ? ' ' : 'n';
	values[4] = BoolGetDatum(keep[MF_LAST_LOGIN_AT]);
	values[5] = BoolGetDatum(keep[MF_LAST_LOGIN_IP]);
	values[6] = BoolGetDatum(keep[MF_LOGIN_COUNT]);

	/*
	 * The change reaches every other linked table through
	 * mirror_account_state(); not this one, whose row is the one being
	 * written (it already holds the values).
	 */
	mirror_adopting_relid = l->relid;
	PG_TRY();
	{
		(void) acctsec_plan_run(&adopt_plan, values, nulls, false, 0);
	}
	PG_FINALLY();
	{
		mirror_adopting_relid = InvalidOid;
	}
	PG_END_TRY();
}

/*
 * acctsec.mirror_wanted(): the WHEN condition of the trigger above, so that
 * it fires (and its row is queued) only while some linked table mirrors
 * account state: with no mirroring, a change of acctsec.accounts costs one
 * call of this function, not a trigger.
 *
 * The answer is kept until the registry changes (every change to
 * acctsec.linked_tables invalidates its relcache entry, see
 * acctsec_linked_tables_changed).  It is found by scanning the registry
 * directly, as the executor's caller may be any role that writes
 * acctsec.accounts, and without SPI: a link mirrors account state when its
 * mapping names a field other than password_hash.
 */
bool
acctsec_linked_mirror_wanted(void)
{
	Relation	rel;
	TableScanDesc scan;
	TupleTableSlot *slot;
	Snapshot	snapshot;
	bool		wanted = false;

	if (mirror_wanted_valid)
		return mirror_wanted;
	if (!mirror_callback_registered)
	{
		CacheRegisterRelcacheCallback(mirror_relcache_callback, (Datum) 0);
		mirror_callback_registered = true;
	}
	mirror_registry_relid = get_relname_relid("linked_tables",
											  get_namespace_oid("acctsec", false));
	if (!OidIsValid(mirror_registry_relid))
		elog(ERROR, "acctsec.linked_tables is missing");

	rel = table_open(mirror_registry_relid, AccessShareLock);
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	scan = table_beginscan(rel, snapshot, 0, NULL);
	slot = table_slot_create(rel, NULL);
	while (!wanted && table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		bool		isnull;
		int			attnum = get_attnum(mirror_registry_relid, "mirror");
		Datum		d;

		if (attnum == InvalidAttrNumber)
			elog(ERROR, "acctsec.linked_tables has no column mirror");
		d = slot_getattr(slot, attnum, &isnull);
		if (isnull)
			continue;
		for (int f = 0; f < NUM_MIRROR_FIELDS && !wanted; f++)
		{
			Jsonb	   *mirror = DatumGetJsonbP(d);

			if (f != MF_PASSWORD_HASH &&
				getKeyJsonValueFromContainer(&mirror->root, mirror_fields[f].name,
											 strlen(mirror_fields[f].name),
											 NULL) != NULL)
				wanted = true;
		}
	}
	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
	UnregisterSnapshot(snapshot);
	table_close(rel, AccessShareLock);

	mirror_wanted = wanted;
	mirror_wanted_valid = true;
	return wanted;
}

Datum
acctsec_mirror_wanted(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(acctsec_linked_mirror_wanted());
}

/* Does an UPDATE from oldtup to newtup touch a mirrored column of l? */
static bool
mirrored_columns_changed(MirrorLink *l, TupleDesc desc,
						 HeapTuple oldtup, HeapTuple newtup)
{
	for (int f = 0; f < NUM_MIRROR_FIELDS; f++)
	{
		Form_pg_attribute att;
		bool		n1,
					n2;
		Datum		d1,
					d2;

		if (f == MF_PASSWORD_HASH || l->attnum[f] == InvalidAttrNumber)
			continue;
		att = TupleDescAttr(desc, l->attnum[f] - 1);
		d1 = heap_getattr(oldtup, l->attnum[f], desc, &n1);
		d2 = heap_getattr(newtup, l->attnum[f], desc, &n2);
		if (n1 != n2 ||
			(!n1 && !datumIsEqual(d1, d2, att->attbyval, att->attlen)))
			return true;
	}
	return false;
}

/*
 * acctsec's current state of account, cast by l's guard plan (as the table's
 * owner) to the types of l's mirrored columns, into cur/curnull by field.
 * The values are copied out of SPI's memory before SPI_finish frees it.
 */
static void
read_guarded_state(MirrorLink *l, TupleDesc desc, const char *account,
				   Datum *cur, bool *curnull)
{
	Datum		state[STATE_HOST + 1];
	bool		state_null[STATE_HOST + 1];
	Datum		args[NUM_MIRROR_FIELDS];
	char		argnulls[NUM_MIRROR_FIELDS];

	read_account_state(CStringGetTextDatum(account), false, state, state_null);
	(void) link_state_params(l, state, state_null, args, argnulls, NULL);
	if (plan_run_as_owner(l->relid, guard_plan(l), args, argnulls, true, 1) != 1)
		elog(ERROR, "could not cast the account's state to the columns of %s",
			 l->qualified_name);
	for (int f = 0, i = 0; f < NUM_MIRROR_FIELDS; f++)
	{
		Form_pg_attribute att;

		if (f == MF_PASSWORD_HASH || l->attnum[f] == InvalidAttrNumber)
			continue;
		att = TupleDescAttr(desc, l->attnum[f] - 1);
		cur[f] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
							   ++i, &curnull[f]);
		if (!curnull[f])
			cur[f] = SPI_datumTransfer(cur[f], att->attbyval, att->attlen);
	}
}

/*
 * newtup with every mirrored column of l set to acctsec's value in cur, but
 * for the history columns the statement wrote newer (keep).
 */
static HeapTuple
replace_mirrored_columns(MirrorLink *l, TupleDesc desc, HeapTuple newtup,
						 Datum *cur, bool *curnull, bool *keep)
{
	int			cols[NUM_MIRROR_FIELDS];
	Datum		values[NUM_MIRROR_FIELDS];
	bool		nulls[NUM_MIRROR_FIELDS];
	int			ncols = 0;

	for (int f = 0; f < NUM_MIRROR_FIELDS; f++)
	{
		if (f == MF_PASSWORD_HASH || l->attnum[f] == InvalidAttrNumber ||
			(is_history_field(f) && keep[f]))
			continue;
		cols[ncols] = l->attnum[f];
		values[ncols] = cur[f];
		nulls[ncols] = curnull[f];
		ncols++;
	}
	if (ncols == 0)
		return newtup;
	return heap_modify_tuple_by_cols(newtup, desc, ncols, cols, values, nulls);
}

/*
 * acctsec.mirror_guard(): BEFORE INSERT OR UPDATE FOR EACH ROW on a table
 * that mirrors account state.  Whatever the statement put into a mirrored
 * column of security state is replaced by acctsec's current value for the
 * row's account; a history column keeps a newer value (history_kept()).
 */
Datum
acctsec_mirror_guard(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Relation	rel;
	TupleDesc	desc;
	HeapTuple	newtup;
	MirrorLink *l;
	char	   *account;
	Datum		cur[NUM_MIRROR_FIELDS];
	bool		curnull[NUM_MIRROR_FIELDS];
	bool		keep[NUM_MIRROR_FIELDS] = {0};
	Datum		adopt[NUM_MIRROR_FIELDS];

	acctsec_check_trigger(fcinfo, "acctsec.mirror_guard()", false);
	rel = trigdata->tg_relation;
	if (!acctsec_trigger_fired(fcinfo, true, TRIGGER_TYPE_BEFORE,
							   TRIGGER_TYPE_INSERT | TRIGGER_TYPE_UPDATE))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("acctsec.mirror_guard() on table \"%s\" must be a BEFORE INSERT OR UPDATE FOR EACH ROW trigger",
						RelationGetRelationName(rel)),
				 errhint("Use acctsec.link_account_table() to attach it.")));
	desc = RelationGetDescr(rel);
	newtup = TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ?
		trigdata->tg_newtuple : trigdata->tg_trigtuple;
	if (mirror_writing)
		return PointerGetDatum(newtup);

	acctsec_spi_connect();
	mirror_load();
	l = mirror_find(RelationGetRelid(rel));
	/* an UPDATE that leaves every mirrored column alone needs no query */
	account = NULL;
	if (l != NULL && l->nstate > 0 &&
		(!TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ||
		 mirrored_columns_changed(l, desc, trigdata->tg_trigtuple, newtup)))
		account = SPI_getvalue(newtup, desc, l->key_attnum);
	if (account == NULL)
	{
		acctsec_spi_finish();
		return PointerGetDatum(newtup);
	}
	read_guarded_state(l, desc, account, cur, curnull);

	/* history the statement wrote newer than acctsec's: kept, and adopted */
	history_kept(l, trigdata, desc, newtup, cur, curnull, keep, adopt);
	if ((keep[MF_LAST_LOGIN_AT] || keep[MF_LAST_LOGIN_IP] || keep[MF_LOGIN_COUNT]) &&
		account[0] != '\0' && strlen(account) <= ACCTSEC_MAX_ACCOUNT_BYTES)
		history_adopt(l, account, keep, adopt);
	acctsec_spi_finish();

	return PointerGetDatum(replace_mirrored_columns(l, desc, newtup,
													cur, curnull, keep));
}

/*
 * acctsec.linked_tables_changed(): AFTER statement trigger on
 * acctsec.linked_tables.  Every backend's cache of links is dropped at the
 * next transaction start (the relcache invalidation travels with commit).
 */
Datum
acctsec_linked_tables_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	acctsec_check_trigger(fcinfo, "acctsec.linked_tables_changed()", false);
	CacheInvalidateRelcacheByRelid(RelationGetRelid(trigdata->tg_relation));
	return PointerGetDatum(NULL);
}

/* ---------------------------------------------------------------------------
 * Linking: the mapping and the table's first synchronisation
 * ---------------------------------------------------------------------------
 */

/*
 * Check that column of relid can hold field f; errors name the table, the
 * column and the field.
 */
static AttrNumber
check_mirror_column(Oid relid, AttrNumber key_attnum, int f, const char *column,
					const char *const *used)
{
	AttrNumber	attnum = get_attnum(relid, column);
	Oid			type;

	if (attnum == InvalidAttrNumber || attnum < 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of table %s does not exist",
						column, table_name(relid)),
				 errdetail("It is mapped to acctsec field \"%s\".", mirror_fields[f].name)));
	if (attnum == key_attnum)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the key column \"%s\" cannot mirror acctsec field \"%s\"",
						column, mirror_fields[f].name)));
	if (get_attgenerated(relid, attnum) != '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("generated column \"%s\" cannot mirror acctsec field \"%s\"",
						column, mirror_fields[f].name)));
	type = getBaseType(get_atttype(relid, attnum));
	if (!kind_fits(mirror_fields[f].kind, type))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column \"%s\" of table %s has type %s, which cannot mirror acctsec field \"%s\"",
						column, table_name(relid), format_type_be(type),
						mirror_fields[f].name),
				 errhint("Field \"%s\" needs a column of type %s.",
						 mirror_fields[f].name, kind_types(mirror_fields[f].kind))));
	for (int g = 0; g < NUM_MIRROR_FIELDS; g++)
		if (used[g] != NULL && strcmp(used[g], column) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("column \"%s\" is mapped to both \"%s\" and \"%s\"",
							column, mirror_fields[g].name, mirror_fields[f].name)));
	return attnum;
}

/* Would column of relid fit field f?  For detection: no errors. */
static bool
column_fits(Oid relid, AttrNumber key_attnum, int f, const char *column,
			const char *const *used)
{
	AttrNumber	attnum = get_attnum(relid, column);

	if (attnum <= 0 || attnum == key_attnum ||
		get_attgenerated(relid, attnum) != '\0' ||
		!kind_fits(mirror_fields[f].kind, getBaseType(get_atttype(relid, attnum))))
		return false;
	for (int g = 0; g < NUM_MIRROR_FIELDS; g++)
		if (used[g] != NULL && strcmp(used[g], column) == 0)
			return false;
	return true;
}

/*
 * Check the mirror object given to resolve_mirror: every field known, each
 * naming a fitting column of relid (check_mirror_column), password_rehash a
 * known mode.  The columns go into used by field; returns how many fields
 * name a column.
 */
static int
parse_mirror(Jsonb *m, Oid relid, AttrNumber key_attnum, const char **used,
			 AcctsecRehashMode *rehash_mode, bool *rehash_given)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken r;
	int			nfields = 0;

	if (!JB_ROOT_IS_OBJECT(m))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("mirror must be a JSON object")));
	it = JsonbIteratorInit(&m->root);
	while ((r = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		char	   *field;
		int			f;

		if (r != WJB_KEY)
			continue;
		field = pnstrdup(v.val.string.val, v.val.string.len);
		if (strcmp(field, "password_rehash") == 0)
		{
			/* not a column: how acctsec.login rewrites an outdated hash */
			r = JsonbIteratorNext(&it, &v, true);
			if (r != WJB_VALUE || v.type != jbvString ||
				!rehash_mode_by_name(pnstrdup(v.val.string.val, v.val.string.len),
									 rehash_mode))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("password_rehash must be \"framework\", \"argon2id\" or \"never\"")));
			*rehash_given = true;
			continue;
		}
		f = mirror_field_by_name(field);
		if (f < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown acctsec field \"%s\" in mirror", field),
					 errhint("The fields are failed_attempts, locked_until, locked_at, last_login_at, last_login_ip, login_count, totp_enabled and password_hash.")));
		r = JsonbIteratorNext(&it, &v, true);
		if (r != WJB_VALUE || v.type != jbvString)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("mirror field \"%s\" must name a column as a JSON string",
							field)));
		{
			char	   *column = pnstrdup(v.val.string.val, v.val.string.len);

			used[f] = NULL;		/* a repeated key: jsonb keeps the last */
			(void) check_mirror_column(relid, key_attnum, f, column, used);
			used[f] = column;
			nfields++;
		}
	}
	return nfields;
}

/* The fields not yet in used whose column relid has under a usual name. */
static void
detect_mirror_columns(Oid relid, AttrNumber key_attnum, const char **used)
{
	for (int f = 0; f < NUM_MIRROR_FIELDS; f++)
		for (int c = 0; c < MAX_DETECT_NAMES && mirror_fields[f].detect[c]; c++)
			if (column_fits(relid, key_attnum, f, mirror_fields[f].detect[c], used))
			{
				used[f] = mirror_fields[f].detect[c];
				break;
			}
}

/*
 * One table holds the passwords acctsec.login reads: an explicit
 * password_hash for a second table is an error, a detected one is left out.
 */
static void
check_password_table(Oid relid, bool detect, const char **used)
{
	static AcctsecPlan other_password_table = {
		"SELECT l.tbl::pg_catalog.text FROM acctsec.linked_tables l"
		" WHERE l.tbl OPERATOR(pg_catalog.<>) $1::pg_catalog.regclass"
		" AND l.mirror OPERATOR(pg_catalog.?) 'password_hash'",
		ACCTSEC_PLAN_ARGS(OIDOID), SPI_OK_SELECT, NULL
	};
	Datum		arg = ObjectIdGetDatum(relid);

	(void) acctsec_plan_run(&other_password_table, &arg, NULL, true, 1);
	if (SPI_processed > 0 && detect)
		used[MF_PASSWORD_HASH] = NULL;
	else if (SPI_processed > 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("table %s already holds the passwords acctsec.login reads",
						SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1)),
				 errhint("Map password_hash in one linked table only.")));
}

/* The mapping as the jsonb link_account_table stores: field -> column. */
static Datum
mirror_mapping_jsonb(const char *const *used, bool rehash_given,
					 AcctsecRehashMode rehash_mode)
{
	StringInfoData out;
	bool		first = true;

	initStringInfo(&out);
	appendStringInfoChar(&out, '{');
	for (int f = 0; f < NUM_MIRROR_FIELDS; f++)
	{
		if (used[f] == NULL)
			continue;
		if (!first)
			appendStringInfoString(&out, ", ");
		first = false;
		escape_json(&out, mirror_fields[f].name);
		appendStringInfoString(&out, ": ");
		escape_json(&out, used[f]);
	}
	if (rehash_given)
	{
		if (!first)
			appendStringInfoString(&out, ", ");
		appendStringInfoString(&out, "\"password_rehash\": ");
		escape_json(&out, rehash_mode_names[rehash_mode]);
	}
	appendStringInfoChar(&out, '}');
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(out.data));
}

/*
 * resolve_mirror(tbl regclass, key_column name, mirror jsonb) RETURNS jsonb
 *
 * The mapping link_account_table stores: mirror checked (every field known,
 * every column present, of a fitting type, neither the key nor generated,
 * none used twice), or, when mirror is NULL, the columns found under their
 * usual names.  Called by link_account_table.
 */
Datum
acctsec_resolve_mirror(PG_FUNCTION_ARGS)
{
	Oid			relid;
	AttrNumber	key_attnum;
	const char *used[NUM_MIRROR_FIELDS] = {0};
	AcctsecRehashMode rehash_mode = ACCTSEC_REHASH_FRAMEWORK;
	bool		rehash_given = false;
	int			nfields = 0;
	bool		detect;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("table and key column must not be null")));
	relid = PG_GETARG_OID(0);
	key_attnum = get_attnum(relid, NameStr(*PG_GETARG_NAME(1)));
	if (!PG_ARGISNULL(2))
		nfields = parse_mirror(PG_GETARG_JSONB_P(2), relid, key_attnum, used,
							   &rehash_mode, &rehash_given);

	/*
	 * NULL, or an object with options only ({"password_rehash": ...}): detect
	 * the columns by their usual names.
	 */
	detect = PG_ARGISNULL(2) || (nfields == 0 && rehash_given);
	if (detect)
		detect_mirror_columns(relid, key_attnum, used);
	if (used[MF_PASSWORD_HASH] != NULL)
	{
		acctsec_spi_connect();
		check_password_table(relid, detect, used);
		acctsec_spi_finish();
	}
	PG_RETURN_DATUM(mirror_mapping_jsonb(used, rehash_given, rehash_mode));
}

static void
spi_run(const char *sql, int expect)
{
	(void) acctsec_sql_run(sql, expect, 0, NULL, NULL, NULL, false, 0);
}

/* How append_state_columns lists the mirrored state columns of a table */
typedef enum StateColumnList
{
	STATE_SET_FROM_SOURCE,		/* col = s.fN, for UPDATE ... SET */
	STATE_TABLE_COLUMNS,		/* t.col */
	STATE_SOURCE_COLUMNS,		/* s.fN */
} StateColumnList;

/*
 * Append, comma separated, each mirrored column of state (col[f] is "t.col",
 * NULL for a field not mirrored; the password hash is not state) in the form
 * given by how.
 */
static void
append_state_columns(StringInfo sql, char *const *col, StateColumnList how)
{
	bool		first = true;

	for (int f = 0; f < NUM_MIRROR_FIELDS; f++)
	{
		if (f == MF_PASSWORD_HASH || col[f] == NULL)
			continue;
		if (!first)
			appendStringInfoString(sql, ", ");
		first = false;
		switch (how)
		{
			case STATE_SET_FROM_SOURCE:
				appendStringInfo(sql, "%s = s.f%d", col[f] + 2, f);
				break;
			case STATE_TABLE_COLUMNS:
				appendStringInfoString(sql, col[f]);
				break;
			case STATE_SOURCE_COLUMNS:
				appendStringInfo(sql, "s.f%d", f);
				break;
		}
	}
}

/*
 * Linking would switch the TOTP flag off for a row whose account has no TOTP
 * credential in acctsec: refuse the table.
 */
static void
refuse_totp_without_credential(MirrorLink *l, Oid relid, char *const *col,
							   const char *key)
{
	Datum		enrolled;
	bool		isnull;
	Oid			argtype = TEXTARRAYOID;
	StringInfoData sql;

	initStringInfo(&sql);
	spi_run("SELECT COALESCE(pg_catalog.array_agg(a.account), '{}')"
			" FROM acctsec.accounts a WHERE a.totp_enabled", SPI_OK_SELECT);
	enrolled = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	appendStringInfo(&sql,
					 "SELECT FROM ONLY %s AS t WHERE %s AND NOT"
					 " (t.%s::pg_catalog.text COLLATE pg_catalog.\"C\""
					 " OPERATOR(pg_catalog.=) ANY ($1)) LIMIT 1",
					 l->qualified_name, col[MF_TOTP_ENABLED], key);
	if (sql_run_as_owner(relid, sql.data, SPI_OK_SELECT, 1, &argtype,
						 &enrolled, NULL, true, 1) > 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table %s has rows with %s set for accounts without an acctsec TOTP credential",
						l->qualified_name, col[MF_TOTP_ENABLED] + 2),
				 errhint("Import their secrets with acctsec.totp_import() first, or map totp_enabled to no column.")));
}

/*
 * Adopt the table's values where acctsec knows nothing yet: lockout and
 * login history of the table's accounts go into acctsec.accounts.
 */
static void
adopt_table_history(MirrorLink *l, Oid relid, char *const *col, const char *key)
{
	static const Oid adopt_types[] = {
		TEXTOID, INT4OID, TIMESTAMPTZOID, TIMESTAMPTZOID, TIMESTAMPTZOID,
		TIMESTAMPTZOID, INETOID, INT8OID
	};
	static AcctsecPlan adopt_rows = {
		"INSERT INTO acctsec.accounts AS acc (account, failed_attempts,"
		" last_failed_at, locked_until, locked_at, last_login_at,"
		" last_login_ip, login_count)"
		" SELECT * FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2),"
		" pg_catalog.unnest($3), pg_catalog.unnest($4), pg_catalog.unnest($5),"
		" pg_catalog.unnest($6), pg_catalog.unnest($7), pg_catalog.unnest($8))"
		" ON CONFLICT (account) DO UPDATE SET"
		" failed_attempts = excluded.failed_attempts,"
		" last_failed_at = excluded.last_failed_at,"
		" locked_until = excluded.locked_until,"
		" locked_at = excluded.locked_at,"
		" last_login_at = excluded.last_login_at,"
		" last_login_ip = excluded.last_login_ip,"
		" login_count = excluded.login_count"
		" WHERE acc.failed_attempts OPERATOR(pg_catalog.=) 0"
		" AND acc.last_failed_at IS NULL AND acc.locked_until IS NULL"
		" AND acc.lockouts OPERATOR(pg_catalog.=) 0"
		" AND acc.last_login_at IS NULL"
		" AND acc.login_count OPERATOR(pg_catalog.=) 0",
		ACCTSEC_PLAN_ARGS(TEXTARRAYOID, INT4ARRAYOID, TIMESTAMPTZARRAYOID,
						  TIMESTAMPTZARRAYOID, TIMESTAMPTZARRAYOID,
						  TIMESTAMPTZARRAYOID, INETARRAYOID, INT8ARRAYOID),
		SPI_OK_INSERT, NULL
	};
	const char *adopt[lengthof(adopt_types)];
	Datum		arrays[lengthof(adopt_types)];
	char		arraynulls[lengthof(adopt_types)];
	StringInfoData sql;

	initStringInfo(&sql);
	adopt[0] = psprintf("t.%s", key);
	adopt[1] = col[MF_FAILED_ATTEMPTS] ?
		psprintf("COALESCE(%s, 0)", col[MF_FAILED_ATTEMPTS]) : "0";
	adopt[2] = col[MF_FAILED_ATTEMPTS] ?
		psprintf("CASE WHEN %s OPERATOR(pg_catalog.>) 0 THEN pg_catalog.now() END",
				 col[MF_FAILED_ATTEMPTS]) : "NULL";
	adopt[3] = col[MF_LOCKED_UNTIL] ? col[MF_LOCKED_UNTIL] :
		col[MF_LOCKED_AT] ?
		psprintf("%s::pg_catalog.timestamptz OPERATOR(pg_catalog.+)"
				 " pg_catalog.current_setting('acctsec.lockout_duration')::pg_catalog.interval",
				 col[MF_LOCKED_AT]) : "NULL";
	adopt[4] = col[MF_LOCKED_AT] ? col[MF_LOCKED_AT] : "NULL";
	adopt[5] = col[MF_LAST_LOGIN_AT] ? col[MF_LAST_LOGIN_AT] : "NULL";
	adopt[6] = col[MF_LAST_LOGIN_IP] ?
		psprintf("NULLIF(%s::pg_catalog.text, '')", col[MF_LAST_LOGIN_IP]) : "NULL";
	adopt[7] = col[MF_LOGIN_COUNT] ?
		psprintf("COALESCE(%s, 0)", col[MF_LOGIN_COUNT]) : "0";

	appendStringInfoString(&sql, "SELECT ");
	for (int i = 0; i < (int) lengthof(adopt_types); i++)
		appendStringInfo(&sql, "%spg_catalog.array_agg(CAST(%s AS %s))",
						 i > 0 ? ", " : "", adopt[i],
						 format_type_extended(adopt_types[i], -1,
											  FORMAT_TYPE_FORCE_QUALIFY));
	appendStringInfo(&sql,
					 " FROM ONLY %s AS t WHERE t.%s IS NOT NULL"
					 " AND pg_catalog.length(t.%s::pg_catalog.text) BETWEEN 1 AND %d AND (false",
					 l->qualified_name, key, key, ACCTSEC_MAX_ACCOUNT_BYTES);
	if (col[MF_FAILED_ATTEMPTS])
		appendStringInfo(&sql, " OR %s OPERATOR(pg_catalog.<>) 0", col[MF_FAILED_ATTEMPTS]);
	if (col[MF_LOGIN_COUNT])
		appendStringInfo(&sql, " OR %s OPERATOR(pg_catalog.<>) 0", col[MF_LOGIN_COUNT]);
	for (int f = MF_LOCKED_UNTIL; f <= MF_LAST_LOGIN_IP; f++)
		if (col[f])
			appendStringInfo(&sql, " OR %s IS NOT NULL", col[f]);
	appendStringInfoChar(&sql, ')');
	if (sql_run_as_owner(relid, sql.data, SPI_OK_SELECT, 0, NULL, NULL, NULL,
						 true, 0) != 1)
		elog(ERROR, "could not read table %s", l->qualified_name);
	for (int i = 0; i < (int) lengthof(adopt_types); i++)
	{
		bool		isnull;

		arrays[i] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
								  i + 1, &isnull);
		arraynulls[i] = isnull ? 'n' : ' ';
	}

	/*
	 * An account row with no history yet (made by totp_import or
	 * backup_codes_import just before linking, as the migration does) takes
	 * the table's values too; one with any history keeps its own.
	 */
	if (arraynulls[0] == ' ')
		(void) acctsec_plan_run(&adopt_rows, arrays, arraynulls, false, 0);
}

/* acctsec's values into the table, where they differ */
static void
write_state_into_table(MirrorLink *l, Oid relid, char *const *col,
					   const char *key)
{
	static const char *const state_columns[] = {
		"account", "failed_attempts", "locked_until", "locked_at",
		"last_login_at", "last_login_ip", "login_count", "totp_enabled"
	};
	Datum		arrays[lengthof(state_columns)];
	char		arraynulls[lengthof(state_columns)];
	Oid			arraytypes[lengthof(state_columns)];
	StringInfoData sql;

	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT ");
	for (int i = 0; i < (int) lengthof(state_columns); i++)
		appendStringInfo(&sql, "%spg_catalog.array_agg(a.%s)", i > 0 ? ", " : "",
						 state_columns[i]);
	appendStringInfoString(&sql, " FROM acctsec.accounts a");
	spi_run(sql.data, SPI_OK_SELECT);
	for (int i = 0; i < (int) lengthof(state_columns); i++)
	{
		bool		isnull;

		arrays[i] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
								  i + 1, &isnull);
		arraynulls[i] = isnull ? 'n' : ' ';
		arraytypes[i] = SPI_gettypeid(SPI_tuptable->tupdesc, i + 1);
	}

	resetStringInfo(&sql);
	appendStringInfo(&sql, "UPDATE ONLY %s AS t SET ", l->qualified_name);
	append_state_columns(&sql, col, STATE_SET_FROM_SOURCE);
	appendStringInfo(&sql, " FROM (SELECT k.%s, ", key);
	append_sources(&sql, l);
	appendStringInfo(&sql, " FROM (SELECT DISTINCT x.%s FROM ONLY %s AS x"
					 " WHERE x.%s IS NOT NULL) AS k"
					 " LEFT JOIN ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2),"
					 " pg_catalog.unnest($3), pg_catalog.unnest($4), pg_catalog.unnest($5),"
					 " pg_catalog.unnest($6), pg_catalog.unnest($7), pg_catalog.unnest($8)) AS a(",
					 key, l->qualified_name, key);
	for (int i = 0; i < (int) lengthof(state_columns); i++)
		appendStringInfo(&sql, "%s%s", i > 0 ? ", " : "", state_columns[i]);
	appendStringInfo(&sql, ") ON a.account OPERATOR(pg_catalog.=)"
					 " k.%s::pg_catalog.text COLLATE pg_catalog.\"C\") AS s"
					 " WHERE t.%s OPERATOR(pg_catalog.=) s.%s AND ROW(",
					 key, key, key);
	append_state_columns(&sql, col, STATE_TABLE_COLUMNS);
	appendStringInfoString(&sql, ") IS DISTINCT FROM ROW(");
	append_state_columns(&sql, col, STATE_SOURCE_COLUMNS);
	appendStringInfoChar(&sql, ')');
	(void) sql_run_as_owner(relid, sql.data, SPI_OK_UPDATE,
							lengthof(state_columns), arraytypes, arrays,
							arraynulls, false, 0);
}

/*
 * mirror_attach(tbl regclass) RETURNS void
 *
 * After link_account_table stored the mapping: the table's values are
 * adopted for accounts acctsec has no history of yet (so linking loses no
 * lockout or login history), acctsec's values are written into the table,
 * and the guard trigger is attached.  Without mirrored state the guard is
 * removed.  A table whose TOTP flag is set for an account with no TOTP
 * credential in acctsec is refused: mirroring would switch the flag off.
 */
Datum
acctsec_mirror_attach(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	MirrorLink *l;
	StringInfoData sql;
	const char *key;
	char	   *col[NUM_MIRROR_FIELDS] = {0};

	acctsec_spi_connect();
	mirror_valid = false;		/* linked_tables changed in this transaction */
	mirror_load();
	l = mirror_find(relid);
	initStringInfo(&sql);
	if (OidIsValid(get_trigger_oid(relid, "zz_acctsec_mirror", true)))
	{
		appendStringInfo(&sql, "DROP TRIGGER zz_acctsec_mirror ON %s", table_name(relid));
		spi_run(sql.data, SPI_OK_UTILITY);
	}
	if (l == NULL || l->nstate == 0)
	{
		acctsec_spi_finish();
		PG_RETURN_VOID();
	}
	key = quote_identifier(l->key_column);
	for (int f = 0; f < NUM_MIRROR_FIELDS; f++)
		if (l->attnum[f] != InvalidAttrNumber)
			col[f] = psprintf("t.%s", quote_identifier(get_attname(relid, l->attnum[f], false)));

	/*
	 * Each step below reads acctsec's tables with acctsec's rights and the
	 * application's table as its owner (table_owner), the values passing
	 * between the two as array parameters.
	 */
	if (col[MF_TOTP_ENABLED] != NULL)
		refuse_totp_without_credential(l, relid, col, key);
	adopt_table_history(l, relid, col, key);
	write_state_into_table(l, relid, col, key);

	/*
	 * The guard.  Triggers of one kind fire in name order: "zz_" puts it
	 * after the application's own BEFORE triggers, so it has the last word.
	 */
	resetStringInfo(&sql);
	appendStringInfo(&sql, "CREATE TRIGGER zz_acctsec_mirror BEFORE INSERT OR UPDATE ON %s"
					 " FOR EACH ROW EXECUTE FUNCTION acctsec.mirror_guard()",
					 l->qualified_name);
	spi_run(sql.data, SPI_OK_UTILITY);
	acctsec_spi_finish();
	PG_RETURN_VOID();
}

/* ---------------------------------------------------------------------------
 * The password column, for acctsec.login (linked_tables.h)
 * ---------------------------------------------------------------------------
 */

static MirrorLink *
password_link(void)
{
	mirror_load();
	for (int i = 0; i < mirror_nlinks; i++)
		if (mirror_links[i].attnum[MF_PASSWORD_HASH] != InvalidAttrNumber)
			return &mirror_links[i];
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("no linked table holds passwords"),
			 errhint("Link the users table with acctsec.link_account_table(), mapping password_hash to its password column.")));
	return NULL;				/* keep the compiler quiet */
}

/* The stored password hash of an account (linked_tables.h); SPI connected. */
bool
acctsec_linked_password(const text *account, MemoryContext cxt, char **hash,
						size_t *hash_len)
{
	MirrorLink *l;
	Datum		key;
	char	   *account_str = text_to_cstring(account);
	bool		found = false;

	l = password_link();
	if (account_key(l, account_str, &key))
	{
		if (l->password_plan.sql == NULL)
		{
			char	   *sql = psprintf("SELECT t.%s::pg_catalog.text FROM ONLY %s AS t"
									   " WHERE t.%s OPERATOR(pg_catalog.=) $1 LIMIT 2",
									   quote_identifier(get_attname(l->relid, l->attnum[MF_PASSWORD_HASH], false)),
									   l->qualified_name, quote_identifier(l->key_column));

			link_plan_set(&l->password_plan, sql, 1, &l->key_type,
						  SPI_OK_SELECT);
		}
		if (plan_run_as_owner(l->relid, &l->password_plan, &key, NULL, true, 2) > 1)
			ereport(ERROR,
					(errcode(ERRCODE_CARDINALITY_VIOLATION),
					 errmsg("account matches more than one row of %s", l->qualified_name),
					 errhint("The key column of the password table must be unique.")));
		if (SPI_processed == 1)
		{
			char	   *h = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

			if (h != NULL && h[0] != '\0')
			{
				*hash = MemoryContextStrdup(cxt, h);
				*hash_len = strlen(h);
				found = true;
			}
		}
	}
	return found;
}

/* The password table's password_rehash option (default "framework"). */
AcctsecRehashMode
acctsec_linked_password_rehash_mode(void)
{
	return password_link()->rehash_mode;
}

/*
 * Replace an account's stored password hash (a rehash by acctsec.login), if
 * it still is the hash verified: a password changed since it was read (by a
 * transaction that committed while this one waited for the row) wins, and
 * the answer is false.
 */
bool
acctsec_linked_password_replace(const text *account, const char *verified,
								const char *hash)
{
	MirrorLink *l;
	Datum		values[3];
	bool		replaced = false;

	l = password_link();
	if (account_key(l, text_to_cstring(account), &values[0]))
	{
		if (l->rehash_plan.sql == NULL)
		{
			Oid			argtypes[3] = {l->key_type, TEXTOID, TEXTOID};
			const char *column = quote_identifier(get_attname(l->relid,
															  l->attnum[MF_PASSWORD_HASH],
															  false));
			char	   *sql = psprintf("UPDATE ONLY %s AS t SET %s = $2"
									   " WHERE t.%s OPERATOR(pg_catalog.=) $1"
									   " AND t.%s::pg_catalog.text IS NOT DISTINCT FROM $3",
									   l->qualified_name, column,
									   quote_identifier(l->key_column), column);

			link_plan_set(&l->rehash_plan, sql, 3, argtypes, SPI_OK_UPDATE);
		}
		values[1] = CStringGetTextDatum(hash);
		values[2] = CStringGetTextDatum(verified);
		replaced = plan_run_as_owner(l->relid, &l->rehash_plan, values, NULL,
									 false, 0) > 0;
	}
	return replaced;
}
