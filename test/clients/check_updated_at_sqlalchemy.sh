#!/usr/bin/env bash
# updated_at with SQLAlchemy (Debian's python3-sqlalchemy over psycopg2): the
# ORM creates its tables with metadata.create_all(), acctsec attaches the
# trigger by itself, and writes that bypass the ORM (raw SQL, another
# connection) still move the snake_case updated_at column.
set -eu -o pipefail
. "$(dirname "$0")/../lib/clients.sh"
DB=acctsec_ua_sqlalchemy
fresh_db $DB acctsec

rc=0
ACCTSEC_DB=$DB "$PY" - <<'PYEOF' || rc=$?
import datetime, os, sys
import sqlalchemy as sa
from sqlalchemy.orm import declarative_base, Session

print("SQLAlchemy", sa.__version__)
url = sa.engine.URL.create("postgresql+psycopg2", username=os.environ["PGUSER"],
                           database=os.environ["ACCTSEC_DB"],
                           query={"host": os.environ["PGHOST"], "port": os.environ["PGPORT"]})
# A session in New York: the naive column still gets UTC, as SQLAlchemy
# applications write it (datetime.utcnow()); timestamptz is unaffected.
engine = sa.create_engine(url, future=True,
                          connect_args={"options": "-c TimeZone=America/New_York"})
Base = declarative_base()

class User(Base):            # the usual SQLAlchemy timestamps: aware, server default
    __tablename__ = "users"
    id = sa.Column(sa.Integer, primary_key=True)
    email = sa.Column(sa.String(200), nullable=False)
    created_at = sa.Column(sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False)
    updated_at = sa.Column(sa.DateTime(timezone=True), server_default=sa.func.now(),
                           onupdate=sa.func.now(), nullable=False)

class Post(Base):            # naive DateTime (timestamp without time zone), no default
    __tablename__ = "posts"
    id = sa.Column(sa.Integer, primary_key=True)
    title = sa.Column(sa.Text)
    updated_at = sa.Column(sa.DateTime)

Base.metadata.create_all(engine)

def fail(msg):
    print("FAIL:", msg); sys.exit(1)

with engine.connect() as c:
    trg = dict(c.execute(sa.text(
        "SELECT tgrelid::regclass::text, pg_get_triggerdef(oid) FROM pg_trigger"
        " WHERE tgname = 'acctsec_updated_at' ORDER BY 1")).all())
print("triggers:", trg)
if set(trg) != {"users", "posts"}:
    fail("create_all() tables did not get the trigger")

with Session(engine) as s:
    s.add_all([User(id=1, email="a@example.com"), Post(id=1, title="hello")])
    s.commit()
    if s.get(Post, 1).updated_at is None:
        fail("INSERT through the ORM left posts.updated_at NULL")

old = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)
with engine.begin() as c:   # an explicit value written by raw SQL is kept
    c.execute(sa.text("UPDATE users SET updated_at = :t"), {"t": old})
    c.execute(sa.text("UPDATE posts SET updated_at = :t"), {"t": old.replace(tzinfo=None)})
    if c.execute(sa.text("SELECT updated_at FROM users")).scalar_one() != old:
        fail("explicit updated_at not kept")

with engine.begin() as c:   # raw SQL that does not mention the column: bumped
    c.execute(sa.text("UPDATE users SET email = 'b@example.com'"))
    c.execute(sa.text("UPDATE posts SET title = 'raw'"))
    row = c.execute(sa.text(
        "SELECT (SELECT updated_at = now() FROM users),"
        "       (SELECT updated_at = (now() AT TIME ZONE 'UTC')::timestamp FROM posts)")).one()
    print("raw UPDATE: users.updated_at = now():", row[0], " posts.updated_at = now() in UTC:", row[1])
    if not (row[0] and row[1]):
        fail("raw UPDATE did not move updated_at")

with Session(engine) as s:  # and the ORM sees it
    u = s.get(User, 1)
    if not (u.updated_at > old):
        fail("ORM does not see the new updated_at")
    # the ORM's own onupdate still works alongside
    before = u.updated_at
    u.email = "c@example.com"
    s.commit()
    if not (s.get(User, 1).updated_at >= before):
        fail("ORM update moved updated_at backwards")
print("ok")
PYEOF
"${PSQL[@]}" -d postgres -c "DROP DATABASE $DB"
exit $rc
