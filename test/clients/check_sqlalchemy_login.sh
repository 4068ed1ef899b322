#!/usr/bin/env bash
# An application as it is: SQLAlchemy maps the users table of a real product
# (with a password column), the table is linked to acctsec with detected
# mirroring, and logins go through acctsec.login as an application role.
# The model must read acctsec's failed_login_attempts, locked_until,
# last_login_at and login_count, also after the ORM saved a stale object
# (every column written back), and an old bcrypt hash must come back as
# Argon2id after a successful login (the application reads only
# acctsec.login, so the link says password_rehash = argon2id: bare bcrypt
# strings are otherwise left as they are, for readers like bcryptjs).
set -eu -o pipefail
. "$(dirname "$0")/../lib/db.sh"
DB=acctsec_sqlalchemy
fresh_db $DB
"${PSQL[@]}" -d postgres -c "DROP ROLE IF EXISTS acctsec_webapp" -c "CREATE ROLE acctsec_webapp LOGIN"
"${PSQL[@]}" -d $DB <<'SQL'
CREATE EXTENSION acctsec;
SELECT acctsec.grant_app_role('acctsec_webapp');
ALTER DATABASE acctsec_sqlalchemy SET acctsec.max_failed_attempts = 3;
SQL

ACCTSEC_DB=$DB HERE=$(cd "$(dirname "$0")" && pwd) /usr/bin/python3 -W ignore::DeprecationWarning - <<'PY'
import datetime, os, sys
from sqlalchemy import Boolean, Column, DateTime, Integer, String, create_engine, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session, declarative_base
from sqlalchemy.orm.attributes import flag_modified

# an application's old bcrypt hash (test/clients/crypt_hash.py)
sys.path.insert(0, os.environ["HERE"])
from crypt_hash import crypt_hash

Base = declarative_base()

class User(Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True)
    email = Column(String, unique=True)
    status = Column(String, default="active")
    metadata_ = Column("metadata", JSONB, default=dict)
    last_login_at = Column(DateTime(timezone=True))
    login_count = Column(Integer, default=0)
    failed_login_attempts = Column(Integer, default=0)
    locked_until = Column(DateTime(timezone=True))
    preferences = Column(JSONB, default=dict)
    timezone = Column(String, default="UTC")
    language = Column(String, default="en")
    avatar_url = Column(String)
    two_factor_enabled = Column(Boolean, default=False)
    two_factor_secret = Column(String)
    backup_codes = Column(JSONB, default=list)
    password_hash = Column(String)

def url(user):
    return "postgresql+psycopg2://%s@/%s?host=%s&port=%s" % (
        user, os.environ["ACCTSEC_DB"], os.environ["PGHOST"], os.environ["PGPORT"])

admin = create_engine(url("postgres"), future=True)
app = create_engine(url("acctsec_webapp"), future=True)
Base.metadata.create_all(admin)          # the ORM's own migration
with admin.begin() as c:
    c.execute(text("GRANT SELECT, INSERT, UPDATE, DELETE ON users TO acctsec_webapp"))
    c.execute(text("GRANT USAGE ON SEQUENCE users_id_seq TO acctsec_webapp"))

failures = []
def check(what, ok):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)

# users created by the application, one with an old bcrypt hash
with Session(app, expire_on_commit=False) as s:
    pw = s.execute(text("SELECT acctsec.password_hash(:p)"), {"p": "s3cret pass"}).scalar_one()
    alice = User(email="alice@example.com", password_hash=pw)
    bob = User(email="bob@example.com",
               password_hash=crypt_hash("bob's old pass", "2b", 5))
    s.add_all([alice, bob])
    s.commit()
    alice_id, bob_id = alice.id, bob.id

# the administrator links the table (mirroring detected from the column names)
with admin.begin() as c:
    c.execute(text("""SELECT acctsec.link_account_table('users', 'id', '{"password_rehash": "argon2id"}')"""))
    mirror = c.execute(text("SELECT mirror FROM acctsec.linked_tables")).scalar_one()
check("detected mapping %s" % sorted(mirror.items()),
      mirror == {"failed_attempts": "failed_login_attempts", "locked_until": "locked_until",
                 "last_login_at": "last_login_at", "login_count": "login_count",
                 "totp_enabled": "two_factor_enabled", "password_hash": "password_hash",
                 "password_rehash": "argon2id"})

def login(account, password):
    with Session(app) as s:
        r = s.execute(text("SELECT (r).status::text, (r).allowed FROM acctsec.login(:a, :p, '203.0.113.9', 'sqlalchemy') AS r"),
                      {"a": str(account), "p": password}).one()
        s.commit()
        return r.status

# a stale copy of alice, loaded before anything happens
stale_session = Session(app, expire_on_commit=False)
stale = stale_session.get(User, alice_id)

check("wrong password: failed", login(alice_id, "nope") == "failed")
check("wrong password: failed", login(alice_id, "nope 2") == "failed")
with Session(app) as s:
    u = s.get(User, alice_id)
    check("model reads failed_login_attempts = 2 (got %s)" % u.failed_login_attempts, u.failed_login_attempts == 2)
check("third failure: locked", login(alice_id, "nope 3") == "locked")
check("right password while locked: locked", login(alice_id, "s3cret pass") == "locked")
with Session(app) as s:
    u = s.get(User, alice_id)
    status = s.execute(text("SELECT locked_until FROM acctsec.account_status(:a)"), {"a": str(alice_id)}).scalar_one()
    now = datetime.datetime.now(datetime.timezone.utc)
    check("model reads locked_until in the future, equal to acctsec's", u.locked_until is not None
          and u.locked_until > now and u.locked_until == status)
    check("model reads failed_login_attempts reset by the lock (got %s)" % u.failed_login_attempts, u.failed_login_attempts == 0)
    locked_until = u.locked_until

# the ORM saves the stale object with every column written back
stale.avatar_url = "https://example.com/a.png"
for col in ("failed_login_attempts", "locked_until", "last_login_at", "login_count", "two_factor_enabled"):
    flag_modified(stale, col)
stale_session.commit()
stale_session.close()
with Session(app) as s:
    u = s.get(User, alice_id)
    check("after a stale full-row save: the application's column changed", u.avatar_url == "https://example.com/a.png")
    check("after a stale full-row save: locked_until still acctsec's", u.locked_until == locked_until)
    check("after a stale full-row save: still locked for acctsec", login(alice_id, "s3cret pass") == "locked")

# the administrator unlocks; the right password logs in
with admin.begin() as c:
    c.execute(text("SELECT acctsec.unlock(:a)"), {"a": str(alice_id)})
check("after unlock: ok", login(alice_id, "s3cret pass") == "ok")
with Session(app) as s:
    u = s.get(User, alice_id)
    check("model reads login_count = 1 (got %s)" % u.login_count, u.login_count == 1)
    check("model reads last_login_at set", u.last_login_at is not None)
    check("model reads failed_login_attempts = 0", u.failed_login_attempts == 0)
    check("model reads locked_until cleared", u.locked_until is None)

# bob's bcrypt hash becomes Argon2id on his first successful login
check("bob, unknown password: failed", login(bob_id, "guess") == "failed")
with Session(app) as s:
    check("bob's hash still bcrypt after a failure", s.get(User, bob_id).password_hash.startswith("$2b$"))
check("bob, right password: ok", login(bob_id, "bob's old pass") == "ok")
with Session(app) as s:
    u = s.get(User, bob_id)
    check("bob's hash is now Argon2id", u.password_hash.startswith("$argon2id$v=19$"))
    check("bob's model reads login_count = 1", u.login_count == 1)
check("bob logs in again with the new hash", login(bob_id, "bob's old pass") == "ok")

# an unknown account answers failed
check("unknown account: failed", login(424242, "s3cret pass") == "failed")

# the application role cannot read acctsec's tables or call admin functions
with Session(app) as s:
    try:
        s.execute(text("SELECT acctsec.unlock('1')"))
        check("application role cannot unlock", False)
    except Exception as e:
        check("application role cannot unlock (%s)" % type(e.orig).__name__, "permission denied" in str(e))

print("%d failures" % len(failures))
sys.exit(1 if failures else 0)
PY
rc=$?
"${PSQL[@]}" -d postgres -c "DROP DATABASE $DB" -c "DROP ROLE acctsec_webapp"
exit $rc
