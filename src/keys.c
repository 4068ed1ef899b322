/*
 * keys.c
 *		The one key module: every AEAD and every keyed hash in acctsec (TOTP
 *		secrets, backup codes, session and one-time tokens) goes through here,
 *		with one key ring and one rotation story (docs/keys.md).
 *
 * The key ring holds up to three 32-byte master keys:
 *
 *	- the configured key (64 hex digits): the first line of the file named
 *	  by acctsec.secret_key_file, or the setting acctsec.secret_key
 *	  (postgresql.conf or ALTER SYSTEM only, visible to superusers only, and
 *	  honoured only when acctsec is in shared_preload_libraries).  When set,
 *	  it is the current key: everything new is sealed or hashed under it.
 *	- the previous key: the file's second line, or acctsec.secret_key_previous;
 *	  the key before the last rotation; values made under it keep working
 *	  until acctsec.rotate_secrets() (totp.c) re-encrypts them (keyed
 *	  hashes cannot be re-made: they keep naming the old key).
 *	- the database key: a random key kept in acctsec.database_key, a table
 *	  no non-superuser can read.  It is the current key while no key is
 *	  configured (the documented weaker default: a dump holds it), and stays
 *	  usable for decryption after a key is configured.  It is generated on
 *	  first use, not by the install script, so that a restored dump holds
 *	  exactly one database key: the dumped one.
 *
 * No master key is used directly.  Each purpose has its own subkey, derived
 * with libsodium's KDF (BLAKE2b), so the AEAD key of TOTP secrets, the hash
 * key of backup codes and the hash key of tokens are independent.  A key is
 * named by a 4-byte fingerprint (also KDF-derived, so it reveals nothing),
 * which every stored value carries: decryption and verification pick the
 * key the value names, which is what makes rotation work.
 *
 * Stored formats (bytea):
 *	sealed:	version(1) key_id(4) nonce(24) ciphertext tag(16)
 *			XChaCha20-Poly1305; associated data = version, key_id and the
 *			caller's context (the account), so a value moved to another
 *			account's row does not open.
 *	hashed:	version(1) key_id(4) BLAKE2b-256(subkey; len(context) context msg)
 *
 * Key material lives in a memory context whose reset callback wipes it;
 * derived subkeys live on the stack and are wiped before any error can be
 * raised; decrypted plaintext is handed out in an AcctsecSecret, wiped when
 * freed or when its memory context goes away (on abort too).
 */
#include "postgres.h"

#include <sys/stat.h>
#include <unistd.h>
#include <fcntl.h>

#include <sodium.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "compat.h"
#include "keys.h"
#include "spi_util.h"

PG_FUNCTION_INFO_V1(acctsec_key_status);

#define KEY_BYTES			crypto_kdf_KEYBYTES /* 32 */
#define SEALED_VERSION		1
#define HASHED_VERSION		1
#define HEADER_BYTES		(1 + ACCTSEC_KEY_ID_BYTES)
#define NONCE_BYTES			crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_BYTES			crypto_aead_xchacha20poly1305_ietf_ABYTES
#define HASH_BYTES			32
#define HASHED_BYTES		(HEADER_BYTES + HASH_BYTES)
/* crypto_kdf contexts are exactly 8 characters */
#define KDF_CONTEXT			"acctsec1"
/* KDF subkey 0 is the key fingerprint; purposes are 1, 2, ... */
#define KDF_ID_FINGERPRINT	0

/* Settings */
static char *secret_key_setting = NULL;
static char *secret_key_previous_setting = NULL;
static char *secret_key_file_setting = NULL;

/* A key file holds one or two lines of 64 hex digits: it is never larger. */
#define KEY_FILE_MAX_BYTES	512

/*
 * A value for a key setting rejected from the configuration file leaves the
 * setting at its previous value (empty, when the library loads).  Falling
 * back to the database key without a word would silently weaken what the
 * administrator asked for, so key use fails until the value is fixed.
 * Only the values the configuration file actually applies count: when the
 * library loads (defining_settings) and when a reload is processed (outside
 * any transaction).  ALTER SYSTEM also validates with source PGC_S_FILE,
 * but inside a transaction, and a value it refuses is never applied.
 */
static bool secret_key_rejected = false;
static bool secret_key_previous_rejected = false;
static bool defining_settings = false;

/*
 * Was the library loaded by the postmaster (shared_preload_libraries)?
 * Until a session loads acctsec, PostgreSQL knows acctsec.secret_key there
 * only as a placeholder and shows its value to any role (SHOW,
 * current_setting, pg_settings).  Only shared_preload_libraries defines the
 * setting in every process before any SQL runs: session_preload_libraries
 * and local_preload_libraries can be set per database or per role (ALTER
 * DATABASE/ROLE ... SET), so sessions elsewhere (template1, another role)
 * still hold the key as a readable placeholder.  So a key in the setting is
 * refused, loudly, unless the postmaster preloaded acctsec; the key file
 * (acctsec.secret_key_file) needs no preloading at all, since only its path
 * is a setting.
 */
static bool shared_preloaded = false;

typedef enum KeySlot
{
	KEY_CONFIGURED,
	KEY_PREVIOUS,
	KEY_DATABASE,
	KEY_SLOTS
} KeySlot;

static const char *const key_slot_names[KEY_SLOTS] = {
	"acctsec.secret_key", "acctsec.secret_key_previous", "database"
};

typedef struct KeyEntry
{
	bool		present;
	uint8		id[ACCTSEC_KEY_ID_BYTES];
	uint8		key[KEY_BYTES];
} KeyEntry;

/*
 * What identifies the key file's content as it was read: the file (device,
 * inode), its size, owner and mode, and when it and its inode last changed.
 * An edit, a replacement, a chmod or a chown changes one of them.
 */
typedef struct KeyFileStamp
{
	dev_t		dev;
	ino_t		ino;
	off_t		size;
	mode_t		mode;
	uid_t		uid;
	time_t		mtime;
	time_t		ctime;
} KeyFileStamp;

typedef struct KeyRing
{
	KeyEntry	slot[KEY_SLOTS];
	bool		settings_loaded;	/* slots 0 and 1 reflect the settings */
	bool		file_loaded;	/* slots 0 and 1 hold the key file's keys,
								 * read when it was as file_stamp says */
	bool		file_trusted;	/* file_stamp was old enough to compare */
	bool		file_checked;	/* looked at in this transaction */
	KeyFileStamp file_stamp;
	bool		database_loaded;	/* slot 2 was read in this transaction */
} KeyRing;

static MemoryContext key_context = NULL;
static KeyRing *ring = NULL;
static MemoryContextCallback ring_wipe_callback;
static AcctsecPlan insert_database_key_plan = {
	"INSERT INTO acctsec.database_key (id, key)"
	" VALUES (1, $1) ON CONFLICT (id) DO NOTHING",
	ACCTSEC_PLAN_ARGS(BYTEAOID), SPI_OK_INSERT, NULL
};

static void
wipe_ring(void *arg)
{
	KeyRing    *r = (KeyRing *) arg;

	sodium_memzero(r, sizeof(KeyRing));
	if (r == ring)
		ring = NULL;
}

static void
wipe_secret(void *arg)
{
	AcctsecSecret *s = (AcctsecSecret *) arg;

	if (s->data != NULL)
		sodium_memzero(s->data, s->len);
}

/* ----------------------------------------------------------------------
 * Settings
 * ---------------------------------------------------------------------- */

static bool
key_text_valid(const char *value)
{
	size_t		len;

	if (value == NULL || value[0] == '\0')
		return true;			/* not set */
	len = strlen(value);
	if (len != 2 * KEY_BYTES)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isxdigit((unsigned char) value[i]))
			return false;
	return true;
}

/*
 * The error must not show the value: GUC_check_errmsg replaces the default
 * "invalid value for parameter ...: <value>".
 */
static bool
check_key_setting(const char *name, char **newval, GucSource source,
				  bool *rejected)
{
	bool		ok = key_text_valid(*newval);

	if (source == PGC_S_FILE && (defining_settings || !IsTransactionState()))
		*rejected = !ok;
	if (!ok)
	{
		GUC_check_errcode(ERRCODE_INVALID_PARAMETER_VALUE);
		GUC_check_errmsg("%s must be 64 hexadecimal digits", name);
		GUC_check_errdetail("The value given is not shown.");
		GUC_check_errhint("Generate a key with: openssl rand -hex 32");
	}
	return ok;
}

static bool
check_secret_key(char **newval, void **extra, GucSource source)
{
	return check_key_setting("acctsec.secret_key", newval, source,
							 &secret_key_rejected);
}

static bool
check_secret_key_previous(char **newval, void **extra, GucSource source)
{
	return check_key_setting("acctsec.secret_key_previous", newval, source,
							 &secret_key_previous_rejected);
}

static void
assign_key_setting(const char *newval, void *extra)
{
	/* re-read the settings, or the file, into the ring on next use */
	if (ring != NULL)
	{
		ring->settings_loaded = false;
		ring->file_loaded = false;
	}
}

/* The database key is read again in every transaction: forget it at the end. */
static void
keys_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			if (ring != NULL && ring->database_loaded)
			{
				sodium_memzero(&ring->slot[KEY_DATABASE], sizeof(KeyEntry));
				ring->database_loaded = false;
			}
			/* the key file is looked at again in every transaction, too */
			if (ring != NULL)
				ring->file_checked = false;
			break;
		default:
			break;
	}
}

void
acctsec_define_keys_gucs(void)
{
	shared_preloaded = process_shared_preload_libraries_in_progress;
	defining_settings = true;
	DefineCustomStringVariable("acctsec.secret_key",
							   "Key that encrypts TOTP secrets and keys the hashes of codes and tokens (64 hex digits).",
							   "Empty: a random key kept in acctsec.database_key serves.",
							   &secret_key_setting,
							   "",
							   PGC_SIGHUP,
							   GUC_SUPERUSER_ONLY | GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE,
							   check_secret_key, assign_key_setting, NULL);
	DefineCustomStringVariable("acctsec.secret_key_previous",
							   "Previous value of acctsec.secret_key, still accepted for values made under it.",
							   NULL,
							   &secret_key_previous_setting,
							   "",
							   PGC_SIGHUP,
							   GUC_SUPERUSER_ONLY | GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE,
							   check_secret_key_previous, assign_key_setting, NULL);
	/* a path is no secret: a placeholder showing it gives nothing away */
	DefineCustomStringVariable("acctsec.secret_key_file",
							   "File holding the configured key (first line) and the previous key (optional second line), 64 hex digits each.",
							   "A relative path is taken from the data directory.  The file must belong to the server's user, with no group or other permissions.",
							   &secret_key_file_setting,
							   "",
							   PGC_SIGHUP,
							   GUC_NOT_IN_SAMPLE,
							   NULL, assign_key_setting, NULL);
	defining_settings = false;
	RegisterXactCallback(keys_xact_callback, NULL);

	/*
	 * A key in the setting without shared_preload_libraries: say so every
	 * time the library loads, not only when a key is first used.
	 */
	if (!shared_preloaded &&
		((secret_key_setting != NULL && secret_key_setting[0] != '\0') ||
		 (secret_key_previous_setting != NULL && secret_key_previous_setting[0] != '\0')))
		ereport(WARNING,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("acctsec.secret_key is set but acctsec is not in shared_preload_libraries"),
				 errdetail("Sessions that have not loaded acctsec show the setting to any role; acctsec refuses to use it."),
				 errhint("Move the key to a file named by acctsec.secret_key_file, or add acctsec to shared_preload_libraries and restart; then treat the key as disclosed and rotate it.")));
}

/* ----------------------------------------------------------------------
 * The key ring
 * ---------------------------------------------------------------------- */

static void
key_fingerprint(const uint8 *key, uint8 *id)
{
	uint8		fp[crypto_kdf_BYTES_MIN];

	if (crypto_kdf_derive_from_key(fp, sizeof(fp), KDF_ID_FINGERPRINT,
								   KDF_CONTEXT, key) != 0)
		elog(ERROR, "could not derive key fingerprint");
	memcpy(id, fp, ACCTSEC_KEY_ID_BYTES);
	sodium_memzero(fp, sizeof(fp));
}

static void
entry_set(KeyEntry *e, const uint8 *key)
{
	memcpy(e->key, key, KEY_BYTES);
	key_fingerprint(e->key, e->id);
	e->present = true;
}

static void
entry_from_hex(KeyEntry *e, const char *hex)
{
	memset(e, 0, sizeof(KeyEntry));
	if (hex == NULL || hex[0] == '\0')
		return;
	/* the check hook has vetted the text */
	if (sodium_hex2bin(e->key, KEY_BYTES, hex, strlen(hex), NULL, NULL, NULL) != 0)
	{
		sodium_memzero(e, sizeof(KeyEntry));
		elog(ERROR, "could not decode a key setting");
	}
	key_fingerprint(e->key, e->id);
	e->present = true;
}

static void
key_file_error(uint8 *buf, const char *path, const char *detail)
{
	sodium_memzero(buf, KEY_FILE_MAX_BYTES);
	ereport(ERROR,
			(errcode(ERRCODE_CONFIG_FILE_ERROR),
			 errmsg("could not use the key file \"%s\" (acctsec.secret_key_file)", path),
			 errdetail_internal("%s", detail),
			 errhint("The file holds the current key on its first line and, optionally, the previous key on its second, 64 hexadecimal digits each, and belongs to the server's user with mode 0600 or 0400.")));
}

static KeyFileStamp
key_file_stamp(const struct stat *st)
{
	KeyFileStamp stamp;

	memset(&stamp, 0, sizeof(stamp));
	stamp.dev = st->st_dev;
	stamp.ino = st->st_ino;
	stamp.size = st->st_size;
	stamp.mode = st->st_mode;
	stamp.uid = st->st_uid;
	stamp.mtime = st->st_mtime;
	stamp.ctime = st->st_ctime;
	return stamp;
}

/*
 * How long the key file must have been left alone before a stamp is
 * trusted: file times are kept in whole seconds on some file systems (and
 * in clock ticks on others), so an edit in the same second as a read could
 * leave the stamp unchanged.  Until then the file is read in every
 * transaction, as git treats a file changed in the second of its index.
 */
#define KEY_FILE_SETTLE_SECS	2

/*
 * Does the file at path still look as it did when the ring's keys were read
 * from it?  One stat() per transaction instead of an open, a read and the
 * decoding: the file is read again only when this says no.  A new path
 * needs no check here: assign_key_setting has forgotten the file.
 */
static bool
key_file_unchanged(const KeyRing *r, const char *path)
{
	struct stat st;
	KeyFileStamp now;

	if (!r->file_loaded || !r->file_trusted || stat(path, &st) != 0)
		return false;
	now = key_file_stamp(&st);
	return memcmp(&now, &r->file_stamp, sizeof(now)) == 0;
}

/*
 * Read the key file into the configured and previous slots.  Like the
 * server's own TLS key file, it must be a regular file owned by the user the
 * server runs as, with no group or other permissions: then only the server
 * and that operating system user can read the key, whatever the preloading
 * setup, and no SQL role can (pg_read_server_files aside, which is as good
 * as superuser).  The checks are made on the open descriptor.
 */
static void
load_key_file(KeyRing *r, const char *path)
{
	uint8		buf[KEY_FILE_MAX_BYTES];
	struct stat st;
	int			fd;
	ssize_t		len;
	int			nkeys = 0;
	size_t		pos = 0;

	memset(buf, 0, sizeof(buf));
	memset(&r->slot[KEY_CONFIGURED], 0, sizeof(KeyEntry));
	memset(&r->slot[KEY_PREVIOUS], 0, sizeof(KeyEntry));

	fd = OpenTransientFile(path, O_RDONLY | PG_BINARY);
	if (fd < 0)
		key_file_error(buf, path, strerror(errno));
	if (fstat(fd, &st) != 0)
	{
		CloseTransientFile(fd);
		key_file_error(buf, path, strerror(errno));
	}
	if (!S_ISREG(st.st_mode))
	{
		CloseTransientFile(fd);
		key_file_error(buf, path, "It is not a regular file.");
	}
	if (st.st_uid != geteuid())
	{
		CloseTransientFile(fd);
		key_file_error(buf, path, "It does not belong to the user the server runs as.");
	}
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
	{
		CloseTransientFile(fd);
		key_file_error(buf, path, "Its group or others have access to it.");
	}
	r->file_stamp = key_file_stamp(&st);
	len = read(fd, buf, sizeof(buf));
	CloseTransientFile(fd);
	if (len < 0)
		key_file_error(buf, path, strerror(errno));
	if (len == sizeof(buf))
		key_file_error(buf, path, "It is too large to be a key file.");

	/* lines of 64 hex digits; surrounding white space and empty lines ignored */
	while (pos < (size_t) len)
	{
		size_t		start,
					end;

		while (pos < (size_t) len && isspace(buf[pos]))
			pos++;
		if (pos >= (size_t) len)
			break;
		start = pos;
		while (pos < (size_t) len && buf[pos] != '\n')
			pos++;
		end = pos;
		while (end > start && isspace(buf[end - 1]))
			end--;
		if (nkeys == 2)
			key_file_error(buf, path, "It holds more than two lines.");
		if (end - start != 2 * KEY_BYTES)
			key_file_error(buf, path, "A line is not 64 hexadecimal digits.");
		for (size_t i = start; i < end; i++)
			if (!isxdigit(buf[i]))
				key_file_error(buf, path, "A line is not 64 hexadecimal digits.");
		{
			KeyEntry   *e = &r->slot[nkeys == 0 ? KEY_CONFIGURED : KEY_PREVIOUS];

			if (sodium_hex2bin(e->key, KEY_BYTES, (const char *) buf + start,
							   end - start, NULL, NULL, NULL) != 0)
			{
				sodium_memzero(e, sizeof(KeyEntry));
				key_file_error(buf, path, "A line is not 64 hexadecimal digits.");
			}
			key_fingerprint(e->key, e->id);
			e->present = true;
		}
		nkeys++;
	}
	sodium_memzero(buf, sizeof(buf));
	if (nkeys == 0)
	{
		memset(&r->slot[KEY_CONFIGURED], 0, sizeof(KeyEntry));
		memset(&r->slot[KEY_PREVIOUS], 0, sizeof(KeyEntry));
		key_file_error(buf, path, "It holds no key.");
	}
}

static KeyRing *
get_ring(void)
{
	bool		use_file = secret_key_file_setting != NULL &&
		secret_key_file_setting[0] != '\0';
	bool		key_setting = (secret_key_setting != NULL && secret_key_setting[0] != '\0') ||
		(secret_key_previous_setting != NULL && secret_key_previous_setting[0] != '\0');

	if (key_context == NULL)
		key_context = AllocSetContextCreate(TopMemoryContext, "acctsec keys",
											ALLOCSET_SMALL_SIZES);
	if (ring == NULL)
	{
		ring = MemoryContextAllocZero(key_context, sizeof(KeyRing));
		ring_wipe_callback.func = wipe_ring;
		ring_wipe_callback.arg = ring;
		MemoryContextRegisterResetCallback(key_context, &ring_wipe_callback);
	}
	if (secret_key_rejected || secret_key_previous_rejected)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s is set to an invalid value",
						secret_key_rejected ? "acctsec.secret_key" :
						"acctsec.secret_key_previous"),
				 errdetail("The server rejected the value in its configuration; acctsec does not fall back to another key."),
				 errhint("Set it to 64 hexadecimal digits and reload the configuration.")));
	if (use_file && key_setting)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("acctsec.secret_key_file and acctsec.secret_key are both set"),
				 errdetail("acctsec does not guess which key is meant."),
				 errhint("Keep the keys in the file and reset acctsec.secret_key and acctsec.secret_key_previous.")));
	if (use_file)
	{
		if (!ring->file_checked && !key_file_unchanged(ring, secret_key_file_setting))
		{
			time_t		changed;

			ring->file_loaded = false;
			ring->settings_loaded = false;
			load_key_file(ring, secret_key_file_setting);
			changed = Max(ring->file_stamp.mtime, ring->file_stamp.ctime);
			ring->file_trusted = time(NULL) - changed >= KEY_FILE_SETTLE_SECS;
			ring->file_loaded = true;
		}
		ring->file_checked = true;
		return ring;
	}
	if (!ring->settings_loaded)
	{
		entry_from_hex(&ring->slot[KEY_CONFIGURED], secret_key_setting);
		entry_from_hex(&ring->slot[KEY_PREVIOUS], secret_key_previous_setting);
		ring->settings_loaded = true;
	}

	if ((ring->slot[KEY_CONFIGURED].present || ring->slot[KEY_PREVIOUS].present) &&
		!shared_preloaded)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("acctsec.secret_key is set but acctsec is not in shared_preload_libraries"),
				 errdetail("Sessions that have not loaded acctsec show the setting to any role (session_preload_libraries can be set per database or role, so it does not cover every session); acctsec refuses to use it."),
				 errhint("Move the key to a file named by acctsec.secret_key_file, or add acctsec to shared_preload_libraries and restart; then treat the key as disclosed and rotate it.")));
	return ring;
}

/*
 * Read the database key into slot KEY_DATABASE; false when there is none.
 * One probe of the table's primary key (acctsec_probe_unique), not an SPI
 * query: the key is read in every transaction that uses it, and a query's
 * executor start-up and shut-down cost several times the probe (18,000
 * instructions a session_check without a key file, test/bench/profile.sh).
 * The probe sees what a query of this volatile function would see.
 */
static bool
read_database_key(KeyRing *r)
{
	static AcctsecColumns key_column = ACCTSEC_COLUMNS("key", 1);
	Datum		id = Int32GetDatum(1);
	Datum		value;
	bool		isnull;
	bytea	   *key;
	bool		ok;

	if (!acctsec_probe_unique("database_key", "database_key_pkey", 1, &id,
							  &key_column, &value, &isnull))
		return false;
	if (isnull)
		elog(ERROR, "the database key is NULL");
	key = DatumGetByteaPP(value);
	ok = VARSIZE_ANY_EXHDR(key) == KEY_BYTES;
	if (ok)
		entry_set(&r->slot[KEY_DATABASE], (uint8 *) VARDATA_ANY(key));
	/* wipe the copies before their memory is freed, or an error is raised */
	sodium_memzero(VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key));
	if ((Pointer) key != DatumGetPointer(value))
		sodium_memzero(VARDATA_ANY(DatumGetPointer(value)),
					   VARSIZE_ANY_EXHDR(DatumGetPointer(value)));
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("acctsec.database_key holds a key of the wrong length")));
	return true;
}

/*
 * Read the database key into the ring; if there is none and create is true,
 * generate one.  INSERT ... ON CONFLICT DO NOTHING and then read it again,
 * so that concurrent first uses agree on one key.
 */
static void
load_database_key(KeyRing *r, bool create)
{
	bool		found;

	if (r->database_loaded)
		return;

	found = read_database_key(r);
	if (!found && create)
	{
		bytea	   *fresh = palloc(VARHDRSZ + KEY_BYTES);
		Datum		arg[1];

		SET_VARSIZE(fresh, VARHDRSZ + KEY_BYTES);
		randombytes_buf(VARDATA(fresh), KEY_BYTES);
		arg[0] = PointerGetDatum(fresh);

		/*
		 * PG_CATCH rather than PG_FINALLY: the same wipe on both paths,
		 * without PG_FINALLY's flag that -Wclobbered flags here.
		 */
		acctsec_spi_connect();
		PG_TRY();
		{
			acctsec_plan_run(&insert_database_key_plan, arg, NULL, false, 0);
		}
		PG_CATCH();
		{
			sodium_memzero(VARDATA(fresh), KEY_BYTES);
			PG_RE_THROW();
		}
		PG_END_TRY();
		sodium_memzero(VARDATA(fresh), KEY_BYTES);
		acctsec_spi_finish();
		found = read_database_key(r);
	}
	r->database_loaded = found;
	if (!found && create)
		elog(ERROR, "could not find or create the database key");
}

/* The key everything new is made under. */
static KeyEntry *
current_key(void)
{
	KeyRing    *r = get_ring();

	if (r->slot[KEY_CONFIGURED].present)
		return &r->slot[KEY_CONFIGURED];
	load_database_key(r, true);
	return &r->slot[KEY_DATABASE];
}

/* The key a stored value names, or NULL when it is not in the ring. */
static KeyEntry *
find_key(const uint8 *id)
{
	KeyRing    *r = get_ring();

	for (int i = 0; i < KEY_SLOTS; i++)
	{
		if (i == KEY_DATABASE)
			load_database_key(r, false);
		if (r->slot[i].present &&
			memcmp(r->slot[i].id, id, ACCTSEC_KEY_ID_BYTES) == 0)
			return &r->slot[i];
	}
	return NULL;
}

static void
derive_subkey(const KeyEntry *k, AcctsecKeyPurpose purpose, uint8 *subkey)
{
	if (crypto_kdf_derive_from_key(subkey, KEY_BYTES, (uint64) purpose,
								   KDF_CONTEXT, k->key) != 0)
		elog(ERROR, "could not derive a subkey");
}

/* One deliberately vague error for every way a stored value fails to open. */
static void
report_undecryptable(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_EXTERNAL_ROUTINE_INVOCATION_EXCEPTION),
			 errmsg("could not decrypt a stored acctsec secret"),
			 errdetail("The key it was made under is not configured, or the stored value was altered or moved to another account."),
			 errhint("Check acctsec.secret_key and acctsec.secret_key_previous; acctsec.key_status() lists the keys in use.")));
}

/* ----------------------------------------------------------------------
 * The C API (keys.h)
 * ---------------------------------------------------------------------- */

AcctsecSecret *
acctsec_secret_alloc(size_t len)
{
	AcctsecSecret *s = palloc0(sizeof(AcctsecSecret));

	s->data = palloc0(len > 0 ? len : 1);
	s->len = len;
	s->wipe.func = wipe_secret;
	s->wipe.arg = s;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, &s->wipe);
	return s;
}

void
acctsec_secret_free(AcctsecSecret *s)
{
	if (s == NULL || s->data == NULL)
		return;
	sodium_memzero(s->data, s->len);
	pfree(s->data);
	s->data = NULL;
	s->len = 0;
	/* the struct itself stays until its context goes: the callback names it */
}

void
acctsec_current_key_id(uint8 *id)
{
	memcpy(id, current_key()->id, ACCTSEC_KEY_ID_BYTES);
}

static void
build_ad(uint8 *ad, const uint8 *header, const char *context,
		 size_t context_len)
{
	memcpy(ad, header, HEADER_BYTES);
	if (context_len > 0)
		memcpy(ad + HEADER_BYTES, context, context_len);
}

bytea *
acctsec_seal(AcctsecKeyPurpose purpose, const uint8 *plain, size_t plain_len,
			 const char *context, size_t context_len)
{
	KeyEntry   *k = current_key();
	size_t		total = HEADER_BYTES + NONCE_BYTES + plain_len + TAG_BYTES;
	bytea	   *out;
	uint8	   *p;
	uint8	   *ad;
	uint8		subkey[KEY_BYTES];
	unsigned long long clen;
	int			rc;

	if (plain_len > 1024 * 1024 || context_len > 1024 * 1024)
		elog(ERROR, "value too long to seal");

	out = palloc(VARHDRSZ + total);
	SET_VARSIZE(out, VARHDRSZ + total);
	p = (uint8 *) VARDATA(out);
	p[0] = SEALED_VERSION;
	memcpy(p + 1, k->id, ACCTSEC_KEY_ID_BYTES);
	randombytes_buf(p + HEADER_BYTES, NONCE_BYTES);

	ad = palloc(HEADER_BYTES + context_len);
	build_ad(ad, p, context, context_len);

	derive_subkey(k, purpose, subkey);
	rc = crypto_aead_xchacha20poly1305_ietf_encrypt(p + HEADER_BYTES + NONCE_BYTES,
													&clen, plain, plain_len,
													ad, HEADER_BYTES + context_len,
													NULL, p + HEADER_BYTES,
													subkey);
	sodium_memzero(subkey, sizeof(subkey));
	pfree(ad);
	if (rc != 0 || clen != plain_len + TAG_BYTES)
		elog(ERROR, "could not encrypt a secret");
	return out;
}

AcctsecSecret *
acctsec_open(AcctsecKeyPurpose purpose, const bytea *sealed,
			 const char *context, size_t context_len)
{
	const uint8 *p = (const uint8 *) VARDATA_ANY(sealed);
	size_t		len = VARSIZE_ANY_EXHDR(sealed);
	size_t		plain_len;
	KeyEntry   *k;
	AcctsecSecret *s;
	uint8	   *ad;
	uint8		subkey[KEY_BYTES];
	unsigned long long mlen;
	int			rc;

	if (len < HEADER_BYTES + NONCE_BYTES + TAG_BYTES || p[0] != SEALED_VERSION)
		report_undecryptable();
	k = find_key(p + 1);
	if (k == NULL)
		report_undecryptable();

	plain_len = len - HEADER_BYTES - NONCE_BYTES - TAG_BYTES;
	s = acctsec_secret_alloc(plain_len);
	ad = palloc(HEADER_BYTES + context_len);
	build_ad(ad, p, context, context_len);

	derive_subkey(k, purpose, subkey);
	rc = crypto_aead_xchacha20poly1305_ietf_decrypt(s->data, &mlen, NULL,
													p + HEADER_BYTES + NONCE_BYTES,
													len - HEADER_BYTES - NONCE_BYTES,
													ad, HEADER_BYTES + context_len,
													p + HEADER_BYTES, subkey);
	sodium_memzero(subkey, sizeof(subkey));
	pfree(ad);
	if (rc != 0 || mlen != plain_len)
	{
		acctsec_secret_free(s);
		report_undecryptable();
	}
	return s;
}

bool
acctsec_sealed_is_current(const bytea *sealed)
{
	const uint8 *p = (const uint8 *) VARDATA_ANY(sealed);
	size_t		len = VARSIZE_ANY_EXHDR(sealed);
	KeyEntry   *k = current_key();

	return len >= HEADER_BYTES && p[0] == SEALED_VERSION &&
		memcmp(p + 1, k->id, ACCTSEC_KEY_ID_BYTES) == 0;
}

static void
keyed_hash(const KeyEntry *k, AcctsecKeyPurpose purpose,
		   const char *context, size_t context_len,
		   const uint8 *msg, size_t msg_len, uint8 *out)
{
	crypto_generichash_state st;
	uint8		subkey[KEY_BYTES];
	uint8		lenbuf[8];
	uint64		n = (uint64) context_len;

	/* the context is length-prefixed, so (context, msg) pairs cannot shift */
	for (int i = 7; i >= 0; i--)
	{
		lenbuf[i] = (uint8) (n & 0xff);
		n >>= 8;
	}
	derive_subkey(k, purpose, subkey);
	if (crypto_generichash_init(&st, subkey, sizeof(subkey), HASH_BYTES) != 0 ||
		crypto_generichash_update(&st, lenbuf, sizeof(lenbuf)) != 0 ||
		(context_len > 0 &&
		 crypto_generichash_update(&st, (const uint8 *) context, context_len) != 0) ||
		crypto_generichash_update(&st, msg, msg_len) != 0 ||
		crypto_generichash_final(&st, out, HASH_BYTES) != 0)
	{
		sodium_memzero(subkey, sizeof(subkey));
		sodium_memzero(&st, sizeof(st));
		elog(ERROR, "could not compute a keyed hash");
	}
	sodium_memzero(subkey, sizeof(subkey));
	sodium_memzero(&st, sizeof(st));
}

bytea *
acctsec_keyed_hash(AcctsecKeyPurpose purpose, const char *context,
				   size_t context_len, const uint8 *msg, size_t msg_len)
{
	KeyEntry   *k = current_key();
	bytea	   *out = palloc(VARHDRSZ + HASHED_BYTES);
	uint8	   *p = (uint8 *) VARDATA(out);

	SET_VARSIZE(out, VARHDRSZ + HASHED_BYTES);
	p[0] = HASHED_VERSION;
	memcpy(p + 1, k->id, ACCTSEC_KEY_ID_BYTES);
	keyed_hash(k, purpose, context, context_len, msg, msg_len, p + HEADER_BYTES);
	return out;
}

bool
acctsec_keyed_hash_verify(AcctsecKeyPurpose purpose, const bytea *stored,
						  const char *context, size_t context_len,
						  const uint8 *msg, size_t msg_len)
{
	const uint8 *p = (const uint8 *) VARDATA_ANY(stored);
	KeyEntry   *k;
	uint8		h[HASH_BYTES];
	bool		equal;

	if (VARSIZE_ANY_EXHDR(stored) != HASHED_BYTES || p[0] != HASHED_VERSION)
		report_undecryptable();
	k = find_key(p + 1);
	if (k == NULL)
		report_undecryptable();
	keyed_hash(k, purpose, context, context_len, msg, msg_len, h);
	equal = (sodium_memcmp(h, p + HEADER_BYTES, HASH_BYTES) == 0);
	sodium_memzero(h, sizeof(h));
	return equal;
}

bool
acctsec_keyed_hash_usable(const bytea *stored)
{
	const uint8 *p = (const uint8 *) VARDATA_ANY(stored);

	return VARSIZE_ANY_EXHDR(stored) == HASHED_BYTES &&
		p[0] == HASHED_VERSION && find_key(p + 1) != NULL;
}

/*
 * The Ed25519 key pair that signs audit checkpoints: its seed is the
 * subkey of purpose ACCTSEC_KEY_AUDIT_SIGN of a master key, so it follows
 * the key ring (the configured key, else the database key).
 */
static void
signing_keypair(const KeyEntry *k, uint8 *pk, uint8 *sk)
{
	uint8		seed[KEY_BYTES];

	derive_subkey(k, ACCTSEC_KEY_AUDIT_SIGN, seed);
	if (crypto_sign_seed_keypair(pk, sk, seed) != 0)
	{
		sodium_memzero(seed, sizeof(seed));
		sodium_memzero(sk, crypto_sign_SECRETKEYBYTES);
		elog(ERROR, "could not derive the audit signing key");
	}
	sodium_memzero(seed, sizeof(seed));
}

void
acctsec_audit_sign(const uint8 *msg, size_t msg_len, uint8 *pk, uint8 *sig)
{
	uint8		sk[crypto_sign_SECRETKEYBYTES];
	int			rc;

	signing_keypair(current_key(), pk, sk);
	rc = crypto_sign_detached(sig, NULL, msg, msg_len, sk);
	sodium_memzero(sk, sizeof(sk));
	if (rc != 0)
		elog(ERROR, "could not sign an audit checkpoint");
}

void
acctsec_audit_signing_key(uint8 *pk)
{
	uint8		sk[crypto_sign_SECRETKEYBYTES];

	signing_keypair(current_key(), pk, sk);
	sodium_memzero(sk, sizeof(sk));
}

bool
acctsec_audit_public_key_known(const uint8 *pk)
{
	KeyRing    *r = get_ring();

	load_database_key(r, false);
	for (int i = 0; i < KEY_SLOTS; i++)
	{
		uint8		mine[crypto_sign_PUBLICKEYBYTES];
		uint8		sk[crypto_sign_SECRETKEYBYTES];

		if (!r->slot[i].present)
			continue;
		signing_keypair(&r->slot[i], mine, sk);
		sodium_memzero(sk, sizeof(sk));
		if (memcmp(mine, pk, sizeof(mine)) == 0)
			return true;
	}
	return false;
}

char *
acctsec_key_id_text(const bytea *stored)
{
	const uint8 *p = (const uint8 *) VARDATA_ANY(stored);
	char	   *hex;

	if (VARSIZE_ANY_EXHDR(stored) < HEADER_BYTES)
		return NULL;
	hex = palloc(2 * ACCTSEC_KEY_ID_BYTES + 1);
	sodium_bin2hex(hex, 2 * ACCTSEC_KEY_ID_BYTES + 1, p + 1, ACCTSEC_KEY_ID_BYTES);
	return hex;
}

/* ----------------------------------------------------------------------
 * SQL: acctsec.key_status() RETURNS TABLE(key_id text, source text,
 *									  is_current boolean)
 * The keys in the ring, by fingerprint (never the key).  Reads the database
 * key without creating it.  Superuser only (EXECUTE revoked from PUBLIC).
 * ---------------------------------------------------------------------- */
Datum
acctsec_key_status(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	KeyRing    *r;
	int			current = -1;

	InitMaterializedSRF(fcinfo, 0);
	r = get_ring();
	load_database_key(r, false);
	if (r->slot[KEY_CONFIGURED].present)
		current = KEY_CONFIGURED;
	else if (r->slot[KEY_DATABASE].present)
		current = KEY_DATABASE;

	for (int i = 0; i < KEY_SLOTS; i++)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};
		char		hex[2 * ACCTSEC_KEY_ID_BYTES + 1];

		if (!r->slot[i].present)
			continue;
		sodium_bin2hex(hex, sizeof(hex), r->slot[i].id, ACCTSEC_KEY_ID_BYTES);
		values[0] = CStringGetTextDatum(hex);
		values[1] = CStringGetTextDatum(key_slot_names[i]);
		values[2] = BoolGetDatum(i == current);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
