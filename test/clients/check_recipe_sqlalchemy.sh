#!/usr/bin/env bash
# The SQLAlchemy recipe of docs/frameworks.md, run as printed with Debian's
# SQLAlchemy over psycopg2 as an application role: create_all() and a later
# ALTER TABLE with acctsec's event triggers on, the users table linked; a
# bcrypt hash (python3-bcrypt) logs in through acctsec.login, comes back as
# Argon2id, and passlib verifies the new hash; the application's own newer
# last_login_at and login_count are kept and become acctsec's, a stale
# object's security columns are not; lockout; TOTP second factor.
set -eu -o pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$(dirname "$0")/../lib/clients.sh"
recipe_setup sqlalchemy acctsec_recipe_sqlalchemy acctsec_sa_app

cat >"$DIR/models.py" <<'PYEOF'
import os
import sqlalchemy as sa
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class User(Base):
    __tablename__ = "users"
    id = sa.Column(sa.Integer, primary_key=True)
    email = sa.Column(sa.String, unique=True, nullable=False)
    password_hash = sa.Column(sa.String, nullable=False)
    failed_login_attempts = sa.Column(sa.Integer, nullable=False, server_default="0")
    locked_until = sa.Column(sa.DateTime(timezone=True))
    last_login_at = sa.Column(sa.DateTime(timezone=True))
    login_count = sa.Column(sa.Integer, nullable=False, server_default="0")
    updated_at = sa.Column(sa.DateTime, server_default=sa.text("(now() AT TIME ZONE 'UTC')"))


engine = sa.create_engine(sa.engine.URL.create(
    "postgresql+psycopg2", username=os.environ["ROLE"], database=os.environ["DB"],
    query={"host": os.environ["PGHOST"], "port": os.environ["PGPORT"]}), future=True)
PYEOF
export DB ROLE
(cd "$DIR" && /usr/bin/python3 -c "
import sqlalchemy as sa
from models import Base, engine
Base.metadata.create_all(engine)
print('create_all: ok')")
"${PSQL[@]}" -d $DB -c "SELECT acctsec.link_account_table('users', 'id')"
echo "users mirror: $("${PSQL[@]}" -d $DB -c "SELECT mirror FROM acctsec.linked_tables")"
(cd "$DIR" && /usr/bin/python3 -c "
import sqlalchemy as sa
from models import engine
with engine.begin() as c:    # a later migration on the linked table
    c.execute(sa.text('ALTER TABLE users ADD COLUMN display_name text'))
    c.execute(sa.text('ALTER TABLE users ALTER COLUMN email TYPE varchar(320)'))
print('ALTER TABLE on the linked table: ok')")

rc=0
(cd "$DIR" && /usr/bin/python3 -W ignore - <<'PYEOF') || rc=$?
import base64, datetime, hashlib, hmac, struct, sys, time
import bcrypt
import sqlalchemy as sa
from sqlalchemy.orm import Session
from acctsec_login import login, passwords, second_factor
from models import User, engine
import sqlalchemy

print("SQLAlchemy", sqlalchemy.__version__)
failures = []
def check(what, ok):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)

PW = "correct horse battery staple"
with Session(engine) as s:
    s.add_all([User(id=1, email="ann@example.com", password_hash=bcrypt.hashpw(PW.encode(), bcrypt.gensalt(10)).decode()),
               User(id=2, email="ben@example.com", password_hash=bcrypt.hashpw(b"ben-pass", bcrypt.gensalt(10)).decode())])
    s.commit()

with Session(engine) as s:
    stale = s.get(User, 2)          # loaded before anything happens
    s.expunge(stale)

with Session(engine) as s, s.begin():
    check("login with the application's bcrypt hash", login(s, 1, PW, "192.0.2.8") == "ok")
with Session(engine) as s:
    u = s.get(User, 1)
    # rehashed (to Argon2id) or, if the link says so, left as it was
    print("stored after the login:", u.password_hash[:10] + "...")
    check("rehashed to Argon2id or left alone", u.password_hash.startswith(("$argon2id$", "$2b$10$")))
    check("passlib verifies acctsec's rehash", passwords.verify(PW, u.password_hash) and not passwords.verify("nope", u.password_hash))
    check("the ORM reads acctsec's login count and time", u.login_count == 1 and u.last_login_at is not None)
    # the application's own history write: kept and taken over by acctsec
    mine = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=5)
    u.last_login_at, u.login_count = mine, 7
    s.commit()
    st = s.execute(sa.text("SELECT last_login_at, login_count FROM acctsec.account_status('1')")).one()
    check("application's newer last_login_at / login_count kept", s.get(User, 1).last_login_at == mine and s.get(User, 1).login_count == 7)
    check("and acctsec took them over", st == (mine, 7))

with Session(engine) as s, s.begin():
    seen = [login(s, 2, "wrong") for _ in range(3)]
check("wrong passwords: %s" % seen, seen == ["failed", "failed", "locked"])
with Session(engine) as s, s.begin():
    check("locked: right password refused", login(s, 2, "ben-pass") == "locked")
with Session(engine) as s:
    stale = s.merge(stale)          # a stale object saved whole
    stale.failed_login_attempts, stale.locked_until = 0, None
    stale.email = "ben@example.org"
    s.commit()
    row = s.execute(sa.text("SELECT email, locked_until > now() FROM users WHERE id = 2")).one()
    check("stale object: email saved, the lock not cleared", row == ("ben@example.org", True))

def totp(secret, step):
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    o = mac[-1] & 15
    return "%06d" % ((struct.unpack(">I", mac[o:o + 4])[0] & 0x7fffffff) % 1000000)

with Session(engine) as s, s.begin():
    secret = s.execute(sa.text("SELECT secret FROM acctsec.totp_enroll('1', 'app', 'ann')")).scalar_one()
    step = int(time.time()) // 30
    check("totp_confirm", s.execute(sa.text("SELECT acctsec.totp_confirm('1', :c)"), {"c": totp(secret, step)}).scalar_one())
with Session(engine) as s, s.begin():
    check("password alone: second factor required", login(s, 1, PW) == "second_factor_required")
    check("the code completes the login", second_factor(s, 1, totp(secret, step + 1)) is True)

with engine.begin() as c:
    c.execute(sa.text("SET LOCAL TimeZone = 'America/New_York'"))
    c.execute(sa.text("UPDATE users SET display_name = 'Ann' WHERE id = 1"))
    check("raw UPDATE: naive updated_at is now in UTC",
          c.execute(sa.text("SELECT updated_at = (now() AT TIME ZONE 'UTC') FROM users WHERE id = 1")).scalar_one())
if failures:
    print("FAILED:", failures)
    sys.exit(1)
PYEOF
"${PSQL[@]}" -d postgres -c "DROP DATABASE $DB" -c "DROP ROLE $ROLE"
[ $rc -eq 0 ] && echo ok
exit $rc
