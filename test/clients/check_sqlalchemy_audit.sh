#!/usr/bin/env bash
# SQLAlchemy ORM client check: audit a model's table, write through the ORM
# with the application user set per transaction (SET LOCAL acctsec.actor, and
# the parameterised set_config(..., true) form from a session event), then
# read the actor, the changes and the client address back from the log.
set -eu -o pipefail
. "$(dirname "$0")/../lib/clients.sh"
DB=acctsec_sqlalchemy
fresh_db $DB acctsec

rc=0
DSN="postgresql+psycopg2://postgres@$ACCTSEC_TCP_HOST:$PGPORT/$DB" "$PY" - <<'PYEOF' || rc=$?
import os
import sqlalchemy
from sqlalchemy import Column, Integer, String, create_engine, event, text
from sqlalchemy.orm import Session, declarative_base

print("SQLAlchemy", sqlalchemy.__version__)
Base = declarative_base()


class User(Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True)
    email = Column(String, nullable=False)
    password_hash = Column(String)


engine = create_engine(os.environ["DSN"], future=True)
Base.metadata.create_all(engine)
with engine.begin() as conn:
    conn.execute(text("SELECT acctsec.audit_table('users')"))


# The idiomatic hook: whoever the application says is acting, for every
# transaction the session begins (set_config(..., true) is SET LOCAL with a
# bind parameter, so a user name can never break out of the statement).
@event.listens_for(Session, "after_begin")
def set_actor(session, transaction, connection):
    actor = session.info.get("actor")
    if actor is not None:
        connection.execute(text("SELECT set_config('acctsec.actor', :actor, true)"),
                           {"actor": actor})


# 1. plain SET LOCAL inside the ORM's transaction
with Session(engine) as s, s.begin():
    s.execute(text("SET LOCAL acctsec.actor = 'admin@example.com'"))
    s.add(User(id=1, email="ann@example.com", password_hash="$2b$12$abcdefghijklmnopqrstuvCJhZ1V6yWm0NfQ4cB0JmYdQwzQyq9e"))

# 2. the session event, with a name that needs quoting
with Session(engine, info={"actor": "o'brien; DROP TABLE users"}) as s, s.begin():
    u = s.get(User, 1)
    u.email = "ann@example.org"
    u.password_hash = "$2b$12$zyxwvutsrqponmlkjihgfeCJhZ1V6yWm0NfQ4cB0JmYdQwzQyq9e"

# 3. a rolled-back transaction leaves nothing
with Session(engine, info={"actor": "rolled-back"}) as s:
    s.begin()
    s.add(User(id=2, email="bob@example.com"))
    s.flush()
    s.rollback()

# 4. SET LOCAL does not outlive its transaction
with Session(engine) as s, s.begin():
    s.delete(s.get(User, 1))

with engine.connect() as conn:
    rows = conn.execute(text(
        "SELECT operation, actor, db_user, host(client_addr), row_key, changed_columns, "
        "concat(old_values, new_values) AS vals FROM acctsec.audit_log "
        "WHERE relation = 'public.users' ORDER BY id")).all()
    verify = conn.execute(text("SELECT ok, checked FROM acctsec.audit_verify()")).one()

for r in rows:
    print(r.operation, repr(r.actor), r.db_user, r.host, r.row_key, r.changed_columns)
print("verify", verify.ok, verify.checked)

assert [r.operation for r in rows] == ["INSERT", "UPDATE", "DELETE"], rows
assert [r.actor for r in rows] == ["admin@example.com", "o'brien; DROP TABLE users", None]
assert all(r.db_user == "postgres" and r.host == "127.0.0.1" for r in rows)
assert all(r.row_key == {"id": 1} for r in rows)
assert sorted(rows[1].changed_columns) == ["email", "password_hash"]
assert not any("$2b$" in r.vals for r in rows), "a password hash reached the log"
assert all('"password_hash": "[redacted]"' in r.vals for r in rows)
assert verify.ok and verify.checked == 3
print("sqlalchemy audit check passed")
PYEOF
"${PSQL[@]}" -d postgres -c "DROP DATABASE $DB"
exit $rc
