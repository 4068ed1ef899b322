#!/usr/bin/env bash
# The Rails recipe of docs/frameworks.md, run as printed with Debian's
# ActiveRecord (ruby-activerecord, ruby-pg, ruby-bcrypt) as an application
# role: migrations with acctsec's event triggers on, the users table linked,
# a later migration on it; login through acctsec with has_secure_password's
# bcrypt digest; lockout; TOTP; update_columns and save(touch: false) leave
# updated_at, a raw UPDATE from a session in New York moves it in UTC.
#
# After acctsec's login, Rails must still accept the stored digest: that
# needs the link to leave bcrypt alone (issue 18 item 3).  Until the
# password formats land (detected by whether acctsec verifies a Django
# hash), that step prints PENDING; from then on it must hold.
set -eu -o pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$(dirname "$0")/../lib/clients.sh"
recipe_setup rails acctsec_recipe_rails acctsec_rails
if "${PSQL[@]}" -d $DB -c "SELECT acctsec.password_verify('x', 'pbkdf2_sha256\$1000\$c2FsdA\$aGFzaA==')" >/dev/null 2>&1
then export FORMATS=landed; else export FORMATS=pending; fi
echo "password formats: $FORMATS"
export DB ROLE

cat >"$DIR/boot.rb" <<'RBEOF'
require "active_record"
require "bcrypt"
ActiveRecord::Base.establish_connection(adapter: "postgresql", host: ENV["PGHOST"], port: ENV["PGPORT"],
                                        database: ENV["DB"], username: ENV["ROLE"])
# Rails' default; ActiveRecord 7 moved the setting from Base to the module
if ActiveRecord.respond_to?(:default_timezone=)
  ActiveRecord.default_timezone = :utc
else
  ActiveRecord::Base.default_timezone = :utc
end
# schema_migrations as a migration run records it: a model class up to
# ActiveRecord 7.0, an object of the connection (7.1) or of its pool (7.2)
def record_migration(version)
  pool = ActiveRecord::Base.connection_pool
  conn = ActiveRecord::Base.connection
  sm = if pool.respond_to?(:schema_migration) then pool.schema_migration
       elsif conn.respond_to?(:schema_migration) then conn.schema_migration
       end
  if sm.respond_to?(:create_version)
    sm.create_table
    sm.create_version(version)
  else
    ActiveRecord::SchemaMigration.create_table
    ActiveRecord::SchemaMigration.create!(version: version)
  end
end
require_relative "app/models/application_record"
require_relative "app/models/concerns/acctsec_authenticatable"
require_relative "app/models/user"

class CreateUsers < ActiveRecord::Migration[6.1]
  def change
    create_table :users do |t|
      t.string :email, null: false, index: { unique: true }
      t.string :password_digest, null: false
      t.string :name
      t.integer :sign_in_count, null: false, default: 0
      t.datetime :last_sign_in_at
      t.timestamps
    end
  end
end

class AddLockableToUsers < ActiveRecord::Migration[6.1]
  def change
    add_column :users, :failed_attempts, :integer, default: 0, null: false
    add_column :users, :locked_at, :datetime
    change_column :users, :name, :string, limit: 200
  end
end
RBEOF

cd "$DIR"
ruby -e 'require_relative "boot"; ActiveRecord::Migration.verbose = false
CreateUsers.migrate(:up); record_migration("1"); puts "migration 1: ok"'
"${PSQL[@]}" -d $DB -c "SELECT acctsec.link_account_table('users', 'id')"
echo "users mirror: $("${PSQL[@]}" -d $DB -c "SELECT mirror FROM acctsec.linked_tables")"
ruby -e 'require_relative "boot"; ActiveRecord::Migration.verbose = false
AddLockableToUsers.migrate(:up); record_migration("2")
puts "migration 2 on the linked table: ok"'

rc=0
ruby - <<'RBEOF' || rc=$?
require_relative "boot"
require "openssl"
puts "ActiveRecord #{ActiveRecord::VERSION::STRING}"
$failed = []
def check(what, ok)
  puts((ok ? "ok   " : "FAIL ") + what)
  $failed << what unless ok
end

pw = "correct horse battery staple"
ann = User.create!(email: "ann@example.com", password: pw, name: "Ann")
ben = User.create!(email: "ben@example.com", password: "ben-pass")
digest = ann.password_digest
check("has_secure_password wrote bcrypt", digest.start_with?("$2a$"))

user, status = User.acctsec_login("ann@example.com", pw, ip: "192.0.2.5")
check("login through acctsec with Rails' digest: #{status}", status == "ok" && user&.id == ann.id)
stored = User.find(ann.id).password_digest
readable = begin; BCrypt::Password.new(stored) == pw; rescue BCrypt::Errors::InvalidHash; false; end
if readable || ENV["FORMATS"] == "landed"
  check("Rails' authenticate accepts what is stored after acctsec's login", User.find(ann.id).authenticate(pw) != false)
else
  puts "PENDING (rehash the framework can read, issue 18 item 3): acctsec rewrote the digest as #{stored[0, 10]}..., which Rails cannot read"
end
check("Rails' mirrored history: sign_in_count / last_sign_in_at from acctsec",
      User.find(ann.id).sign_in_count == 1 && !User.find(ann.id).last_sign_in_at.nil?)

seen = 3.times.map { User.acctsec_login("ben@example.com", "nope")[1] }
check("wrong passwords: #{seen.join(', ')}", seen == %w[failed failed locked])
check("locked: right password refused", User.acctsec_login("ben@example.com", "ben-pass")[1] == "locked")
check("unknown address: failed", User.acctsec_login("nobody@example.com", "x") == [nil, "failed"])

# TOTP
def totp(secret, step)
  pad = secret + "=" * ((8 - secret.length % 8) % 8)
  alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
  bits = pad.delete("=").chars.map { |c| alphabet.index(c).to_s(2).rjust(5, "0") }.join
  key = [bits[0, bits.length / 8 * 8]].pack("B*")
  mac = OpenSSL::HMAC.digest("SHA1", key, [step].pack("Q>"))
  o = mac.bytes[-1] & 15
  format("%06d", (mac[o, 4].unpack1("N") & 0x7fffffff) % 1_000_000)
end
c = ActiveRecord::Base.connection
secret = c.select_value("SELECT secret FROM acctsec.totp_enroll('#{ann.id}', 'app', 'ann')")
step = Time.now.to_i / 30
check("totp_confirm", c.select_value("SELECT acctsec.totp_confirm('#{ann.id}', '#{totp(secret, step)}')") == true)
user, status = User.acctsec_login("ann@example.com", pw)
check("password alone: #{status}", status == "second_factor_required" && user.nil?)
check("the code completes the login", User.find(ann.id).acctsec_second_factor(totp(secret, step + 1)))

# updated_at as Rails means it
old = Time.utc(2001, 2, 3, 4, 5, 6)
c.execute("UPDATE users SET updated_at = '2001-02-03 04:05:06' WHERE id = #{ann.id}")
u = User.find(ann.id)
u.update_columns(name: "Ann B.")
check("update_columns leaves updated_at", User.find(ann.id).updated_at == old && User.find(ann.id).name == "Ann B.")
u = User.find(ann.id)
u.name = "Ann C."
u.save(touch: false)
check("save(touch: false) leaves updated_at", User.find(ann.id).updated_at == old && User.find(ann.id).name == "Ann C.")
check("the switch is back on after them", c.select_value("SELECT current_setting('acctsec.touch_updated_at')") == "on")
u = User.find(ann.id)
u.update!(name: "Ann D.")
check("a plain save moves it", User.find(ann.id).updated_at > old)
User.transaction do
  c.execute("SET LOCAL TimeZone = 'America/New_York'")
  c.execute("UPDATE users SET name = 'raw' WHERE id = #{ann.id}")
  check("raw UPDATE from New York: updated_at in UTC",
        c.select_value("SELECT updated_at = (now() AT TIME ZONE 'UTC')::timestamp(6) FROM users WHERE id = #{ann.id}") == true)
end
t = User.find(ann.id).updated_at
check("Rails reads it as the transaction's instant, within a minute of now", (Time.now.utc - t).abs < 60)
exit($failed.empty? ? 0 : 1)
RBEOF
cd /
"${PSQL[@]}" -d postgres -c "DROP DATABASE $DB" -c "DROP ROLE $ROLE"
[ $rc -eq 0 ] && echo ok
exit $rc
