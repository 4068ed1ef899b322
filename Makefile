# acctsec: application account security inside PostgreSQL (PGXS build)

EXTENSION = acctsec
# The control file is the single home of the version.
EXTVERSION = $(shell sed -n "s/^default_version[[:space:]]*=[[:space:]]*'\([^']*\)'.*/\1/p" $(EXTENSION).control)

MODULE_big = acctsec
OBJS = \
	src/acctsec.o \
	src/account.o \
	src/lockout.o \
	src/audit.o \
	src/audit_chain.o \
	src/audit_partitions.o \
	src/events.o \
	src/row_lock.o \
	src/row_write.o \
	src/linked_tables.o \
	src/login.o \
	src/import.o \
	src/otp.o \
	src/otp_sql.o \
	src/keys.o \
	src/throttle.o \
	src/totp.o \
	src/backup_codes.o \
	src/updated_at.o \
	src/trigger_guard.o \
	src/passwords.o \
	src/pwformat.o \
	src/tokens.o \
	src/sessions.o \
	src/passkeys.o \
	src/webauthn.o \
	src/relation_util.o \
	src/spi_util.o
PGFILEDESC = "acctsec - application account security"

# The install script is assembled from one part per capability, in order
# (src/sql/NN_name.sql), so it reads top to bottom like a table of
# contents; it is built beside the control file.  The upgrade scripts
# (acctsec--A--B.sql) are committed in src/sql as they are; the install
# scripts of released versions are not shipped (test/upgrade/released keeps
# them to test the upgrades).
INSTALL_PARTS = $(sort $(wildcard src/sql/[0-9]*.sql))
DATA_built = $(EXTENSION)--$(EXTVERSION).sql
DATA = $(wildcard src/sql/$(EXTENSION)--*.sql)

# Test lists: one pg_regress file per feature (sql/NAME.sql, expected/NAME.out),
# one isolation spec per race (specs/NAME.spec, expected/NAME.out), the
# layout PGXS expects: "make installcheck" runs both against an installed
# server (docs/development.md says what the server needs).  test/run runs
# that same target and reads the lists through "make print-tests".
REGRESS = \
	setup \
	otp \
	lockout \
	linked_tables \
	settings \
	security \
	audit \
	audit_events \
	audit_checkpoint \
	audit_erase \
	audit_retention \
	trigger_guard \
	keys \
	throttle \
	smart_lockout \
	totp \
	backup_codes \
	second_factor \
	updated_at \
	passwords \
	password_formats \
	mirroring \
	notify \
	import \
	tokens \
	sessions \
	lockout_revocation \
	passkeys \
	hostile \
	attack \
	metrics \
	privileges \
	linked_lock \
	hot_paths
ISOLATION = \
	audit_seal \
	audit_chain \
	audit_retention_purge \
	lockout_concurrent_failures \
	lockout_once \
	lockout_success_failure \
	totp_replay \
	backup_code_replay \
	token_consume \
	session_rotate \
	network_failures \
	attack_lock \
	mirror_history \
	password_change_rehash \
	row_lock_isolation \
	familiar_network_race
# the tests write and compare UTF-8 text (user agents, hostile input)
ENCODING = UTF8

PG_CPPFLAGS = -I$(srcdir)/src -DACCTSEC_VERSION=\"$(EXTVERSION)\"
SHLIB_LINK = -lsodium -lcrypt -lcbor -lcrypto
ifdef WERROR
PG_CFLAGS += -Werror
endif

# Objects are rebuilt when a header they include changes (PGXS's own
# dependency tracking, off by default outside PostgreSQL's tree): a module
# compiled against an older struct layout crashes, it does not fail to build.
override autodepend = yes

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

$(EXTENSION)--$(EXTVERSION).sql: $(INSTALL_PARTS)
	cat $(INSTALL_PARTS) > $@

.PHONY: print-tests
print-tests:
	@echo "REGRESS=$(REGRESS)"
	@echo "ISOLATION=$(ISOLATION)"
