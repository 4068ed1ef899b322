#!/usr/bin/env bash
# acctsec.notify_channel: an application LISTENs and is told of security
# events at commit.  Failed logins that lock an account must arrive as
# login.failed, then login.locked_unfamiliar with the account, the network and when the
# lock ends; a rolled-back transaction sends nothing; no payload carries the
# password that was tried or any key beyond the documented ones.
set -eu -o pipefail
. "$(dirname "$0")/../lib/db.sh"
DB=acctsec_notify
fresh_db $DB acctsec
"${PSQL[@]}" -d $DB <<'SQL'
ALTER DATABASE acctsec_notify SET acctsec.notify_channel = 'acctsec_events';
ALTER DATABASE acctsec_notify SET acctsec.max_failed_attempts = 3;
CREATE TABLE users (id serial PRIMARY KEY, email text, password_hash text);
INSERT INTO users (email, password_hash) VALUES ('a@example.com', acctsec.password_hash('right horse'));
SELECT acctsec.link_account_table('users', 'id');
SQL

PGDATABASE=$DB /usr/bin/python3 - <<'PY'
import json, select, sys, time
import psycopg2

listener = psycopg2.connect("")
listener.autocommit = True
listener.cursor().execute("LISTEN acctsec_events")
app = psycopg2.connect("")
cur = app.cursor()

def drain(wait=2.0):
    got = []
    deadline = time.time() + wait
    while time.time() < deadline:
        if select.select([listener], [], [], 0.2) != ([], [], []):
            listener.poll()
            while listener.notifies:
                n = listener.notifies.pop(0)
                got.append((n.channel, json.loads(n.payload), n.payload))
    return got

failures = []
def check(what, ok):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)

# a rolled-back failure sends nothing
cur.execute("SELECT (acctsec.login('1', 'secret-guess-0', '198.51.100.20')).status")
app.rollback()
check("rolled back: no notification", drain(1.0) == [])

# within one transaction, nothing before commit
for i in range(1, 4):
    cur.execute("SELECT (acctsec.login('1', %s, '198.51.100.20')).status", ("secret-guess-%d" % i,))
    status = cur.fetchone()[0]
check("third failure locks (%s)" % status, status == "locked")
check("nothing before commit", drain(0.5) == [])
app.commit()
got = drain()
events = [p["event"] for _, p, _ in got]
print("received:", events)
check("channel is acctsec_events", all(c == "acctsec_events" for c, _, _ in got))
# 198.51.100.20 was never familiar to the account: smart lockout locks the
# unfamiliar set, and says so in the event's name
check("three login.failed then login.locked_unfamiliar",
      events == ["login.failed", "login.failed", "login.failed", "login.locked_unfamiliar"])
locked = [p for _, p, _ in got if p["event"] == "login.locked_unfamiliar"]
if locked:
    p = locked[0]
    print("login.locked payload keys:", sorted(p))
    check("account is '1'", p["account"] == "1")
    check("network is the address's /32", p["network"] == "198.51.100.20/32")
    check("locked_until present", bool(p.get("locked_until")))
    check("audit_id is an audit row", isinstance(p["audit_id"], int))
    cur.execute("SELECT operation, account FROM acctsec.audit_log WHERE id = %s", (p["audit_id"],))
    check("audit row matches", cur.fetchone() == ("login.locked_unfamiliar", "1"))
    app.rollback()
allowed = {"event", "account", "audit_id", "time", "network", "locked_until"}
check("no undocumented keys", all(set(p) <= allowed for _, p, _ in got))
check("no password in any payload", not any("secret-guess" in raw or "right horse" in raw for _, _, raw in got))

# unlock is an event too; an IPv6 client is reported by its /64
cur.execute("SELECT acctsec.unlock('1')")
cur.execute("SELECT (acctsec.login('1', 'bad', '2001:db8:1:2:3:4:5:6')).status")
app.commit()
got = drain()
events = [p["event"] for _, p, _ in got]
print("received:", events)
check("account.unlocked and login.failed", events == ["account.unlocked", "login.failed"])
check("IPv6 network is its /64", [p.get("network") for _, p, _ in got][-1:] == ["2001:db8:1:2::/64"])

print("%d failures" % len(failures))
sys.exit(1 if failures else 0)
PY
rc=$?
"${PSQL[@]}" -d postgres -c "DROP DATABASE $DB"
exit $rc
