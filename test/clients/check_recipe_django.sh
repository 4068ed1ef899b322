#!/usr/bin/env bash
# The Django recipe of docs/frameworks.md, run as printed with Debian's
# Django over psycopg2, as a Django database role that is not a superuser:
# manage.py migrate (and makemigrations of an app with auto_now) with
# acctsec's event triggers on; auth_user linked; login through the
# recipe's backend (acctsec.login), lockout, TOTP second factor, acctsec
# sessions ending Django's; Django's own update_last_login() write kept and
# taken into acctsec's state, a stale save() not; migrations of auth_user
# back and forth once it is linked.
#
# Logging in with the hash Django itself writes (pbkdf2_sha256$...) and
# reading acctsec's rehash with Django's check_password need the password
# formats of issue 18 items 1 and 3.  Until acctsec verifies Django's hash,
# those steps print PENDING and the backend runs over an Argon2id hash from
# acctsec.password_hash(); once it does, they run and must pass.
set -eu -o pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$(dirname "$0")/../lib/clients.sh"
recipe_setup django acctsec_recipe_django acctsec_django
PROJ=$DIR
mkdir -p "$PROJ/shop"
touch "$PROJ/acctsec_auth/__init__.py" "$PROJ/shop/__init__.py"
cat >"$PROJ/shop/models.py" <<'PYEOF'
from django.db import models


class Order(models.Model):
    title = models.CharField(max_length=100)
    updated_at = models.DateTimeField(auto_now=True)
PYEOF
cat >"$PROJ/settings.py" <<PYEOF
SECRET_KEY = "check-only"
USE_TZ = True
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth",
                  "django.contrib.sessions", "shop"]
MIDDLEWARE = ["django.contrib.sessions.middleware.SessionMiddleware",
              "django.contrib.auth.middleware.AuthenticationMiddleware"]
DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "$DB",
                         "USER": "$ROLE", "HOST": "$PGHOST", "PORT": "$PGPORT"}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
# as docs/frameworks.md says
INSTALLED_APPS += ["acctsec_auth"]
AUTHENTICATION_BACKENDS = ["acctsec_auth.backends.AcctsecBackend"]
MIDDLEWARE += ["acctsec_auth.sessions.AcctsecSessionMiddleware"]
PYEOF

manage() { (cd "$PROJ" && DJANGO_SETTINGS_MODULE=settings "$PY" -W ignore -m django "$@"); }
"$PY" -c "import django; print('Django', django.get_version())"
manage makemigrations shop -v 0
manage migrate -v 0
echo "migrate: ok"
"${PSQL[@]}" -d $DB -c "SELECT acctsec.link_account_table('auth_user', 'id')"
mirror=$("${PSQL[@]}" -d $DB -c "SELECT mirror FROM acctsec.linked_tables WHERE tbl = 'auth_user'::regclass")
echo "auth_user mirror: $mirror"
[ "$mirror" = '{"last_login_at": "last_login", "password_hash": "password"}' ] \
  || { echo "FAIL: auth_user columns not detected"; exit 1; }
trg=$("${PSQL[@]}" -d $DB -c "SELECT string_agg(tgrelid::regclass || '.' || tgname, ' ' ORDER BY 1) FROM pg_trigger WHERE tgname LIKE '%acctsec%' AND NOT tgisinternal")
echo "triggers: $trg"
for want in auth_user.zz_acctsec_mirror auth_user.acctsec_forget_account shop_order.acctsec_updated_at; do
  case " $trg " in *" $want "*) ;; *) echo "FAIL: no trigger $want"; exit 1 ;; esac
done

rc=0
(cd "$PROJ" && DJANGO_SETTINGS_MODULE=settings "$PY" -W ignore - <<'PYEOF') || rc=$?
import base64, datetime, hashlib, hmac, struct, sys, time
import django
django.setup()
from django.contrib.auth import authenticate, get_user_model, login, logout
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection, transaction
from django.test import RequestFactory
from django.utils import timezone
from acctsec_auth.backends import verify_second_factor
from acctsec_auth.sessions import AcctsecSessionMiddleware
from shop.models import Order

User = get_user_model()
failures = []
def check(what, ok):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)

def one(sql, args=()):
    with connection.cursor() as c:
        c.execute(sql, args)
        return c.fetchone()

def request():
    r = RequestFactory().post("/login", REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT="check/1")
    r.session = SessionStore()
    r.user = AnonymousUser()
    return r

def totp(secret, step):
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    o = mac[-1] & 15
    return "%06d" % ((struct.unpack(">I", mac[o:o + 4])[0] & 0x7fffffff) % 1000000)

PW = "Tr0ub4dor&3 horse"
alice = User.objects.create_user("alice", "alice@example.com", PW)
django_hash = alice.password
print("Django's hash:", django_hash.split("$")[0] + "$...")

# Does acctsec verify the hash Django wrote?  (issue 18, items 1 and 3)
try:
    with transaction.atomic():
        formats = one("SELECT acctsec.password_verify(%s, %s)", [PW, django_hash])[0] is True
except Exception as e:
    formats = False
    print("acctsec refuses Django's hash:", type(e).__name__)
if formats:
    r = request()
    u = authenticate(r, username="alice", password=PW)
    check("login through acctsec with Django's own pbkdf2_sha256 hash", u is not None and u.pk == alice.pk)
    new = User.objects.get(pk=alice.pk).password
    check("the rehash is one Django reads (%s...)" % new.split("$")[0],
          check_password(PW, new) and not check_password("wrong", new))
    check("Django's own login() after the rehash", User.objects.get(pk=alice.pk).check_password(PW))
else:
    print("PENDING (password formats): login with Django's own hash; Django reads acctsec's rehash")
    # the rest of the recipe over a hash acctsec verifies today
    with connection.cursor() as c:
        c.execute("UPDATE auth_user SET password = (SELECT acctsec.password_hash(%s)) WHERE id = %s",
                  [PW, alice.pk])

# login through the backend, then Django's login(): update_last_login()
r = request()
u = authenticate(r, username="alice", password=PW)
check("backend: right password is a login", u is not None)
acctsec_last = one("SELECT last_login_at FROM acctsec.account_status(%s)", [str(alice.pk)])[0]
login(r, u)                 # update_last_login(): last_login = timezone.now(), save(update_fields=...)
django_last = u.last_login  # what Django wrote
stored = User.objects.get(pk=alice.pk).last_login
print("acctsec's login time, Django's write, stored:", acctsec_last, django_last, stored)
check("update_last_login() kept Django's value", django_last > acctsec_last and stored == django_last)
acct = one("SELECT last_login_at FROM acctsec.account_status(%s)", [str(alice.pk)])
check("acctsec took Django's last_login over", acct[0] == django_last)
sid = r.session.get("acctsec_session")
check("an acctsec session was started", sid is not None)

# a stale object saved whole cannot set last_login back
stale = User.objects.get(pk=alice.pk)
time.sleep(0.01)
r2 = request()
login(r2, authenticate(r2, username="alice", password=PW))
newer = User.objects.get(pk=alice.pk).last_login
stale.first_name = "Alice"
stale.save()
now_row = User.objects.get(pk=alice.pk)
check("stale save(): first_name saved, last_login not set back",
      now_row.first_name == "Alice" and now_row.last_login == newer and newer > django_last)

# the middleware: a live acctsec session passes, a revoked one logs out
mw = AcctsecSessionMiddleware(lambda req: "response")
r.user = User.objects.get(pk=alice.pk)
mw(r)
check("middleware: live session stays logged in", r.user.is_authenticated)
one("SELECT acctsec.session_revoke(%s, %s)", [str(alice.pk), sid])
mw(r)
check("middleware: revoked acctsec session logs the browser out", not r.user.is_authenticated)

# wrong passwords: failed, then locked (max_failed_attempts = 3) also for the right one
bob = User.objects.create_user("bob", "bob@example.com", "bob's password")
if not formats:
    with connection.cursor() as c:
        c.execute("UPDATE auth_user SET password = (SELECT acctsec.password_hash(%s)) WHERE id = %s",
                  ["bob's password", bob.pk])
for i in range(3):
    check("wrong password %d refused" % (i + 1), authenticate(request(), username="bob", password="nope") is None)
st = one("SELECT lockouts, locked_until > now() FROM acctsec.account_status(%s)", [str(bob.pk)])
check("the third failure locked the account", st == (1, True))
check("locked: the right password is refused", authenticate(request(), username="bob", password="bob's password") is None)
check("unknown user refused", authenticate(request(), username="nobody", password="x") is None)

# TOTP: enrolled and confirmed, login stops at the second factor
secret = one("SELECT secret FROM acctsec.totp_enroll(%s, 'shop', 'alice')", [str(alice.pk)])[0]
step = int(time.time()) // 30
check("totp_confirm", one("SELECT acctsec.totp_confirm(%s, %s)", [str(alice.pk), totp(secret, step)])[0])
r = request()
check("with TOTP on, the password alone is no login", authenticate(r, username="alice", password=PW) is None)
check("the login waits for the second factor", r.session.get("acctsec_pending_user") == alice.pk)
check("a wrong code completes nothing", verify_second_factor(r, "000000" if totp(secret, step + 1) != "000000" else "111111") is None)
u = verify_second_factor(r, totp(secret, step + 1))
check("the right code logs in, with a new acctsec session",
      u is not None and u.pk == alice.pk and r.session.get("acctsec_session") is not None)

# updated_at of a Django model (auto_now) is right for raw SQL too
o = Order.objects.create(title="first")
with transaction.atomic(), connection.cursor() as c:
    c.execute("SET LOCAL TimeZone = 'America/New_York'")
    c.execute("UPDATE shop_order SET title = 'raw' WHERE id = %s", [o.pk])
    c.execute("SELECT updated_at = now() FROM shop_order WHERE id = %s", [o.pk])
    check("raw UPDATE moved shop_order.updated_at", c.fetchone()[0])

if failures:
    print("FAILED:", failures)
    sys.exit(1)
PYEOF

# Django's migrations of the linked auth_user, back and forth
manage migrate auth 0011 -v 0
manage migrate -v 0
echo "migrate auth back to 0011 and forward with auth_user linked: ok"
guard=$("${PSQL[@]}" -d $DB -c "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'auth_user'::regclass AND tgname = 'zz_acctsec_mirror'")
[ "$guard" = 1 ] || { echo "FAIL: the guard is gone after migrating auth_user"; rc=1; }
"${PSQL[@]}" -d postgres -c "DROP DATABASE $DB" -c "DROP ROLE $ROLE"
[ $rc -eq 0 ] && echo ok
exit $rc
