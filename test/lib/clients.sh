# test/lib/clients.sh: what the client checks (test/clients/check_*.sh, and
# the checks elsewhere that drive a real client library) share; sourced.  It
# sources db.sh.
. "$(dirname "${BASH_SOURCE[0]}")/db.sh"
CLIENTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../clients" && pwd)
# Debian's python3, where the client libraries (python3-sqlalchemy,
# python3-django, python3-psycopg2, ...) are installed
PY=/usr/bin/python3

# npm_install: node, and the npm packages pinned in test/clients/package.json
# (npm install does nothing when they are there already); fails, saying why,
# when node is missing
npm_install() {
  command -v node >/dev/null || { echo "node is not installed"; return 1; }
  (cd "$CLIENTS_DIR" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
}

# recipe_setup NAME DB ROLE: what a framework recipe of docs/frameworks.md
# runs against: the database DB owned by the application role ROLE (an
# application that runs its own migrations), acctsec created in it and
# granted to ROLE, lockout after three failures; and DIR, a fresh directory
# with the files the recipe NAME prints.  Sets DB, ROLE and DIR.
recipe_setup() {
  DB=$2 ROLE=$3 DIR=$ACCTSEC_TMP/$1_recipe
  app_db "$DB" "$ROLE" --owner "acctsec.max_failed_attempts = 3" || return
  rm -rf "$DIR" && mkdir -p "$DIR" || return
  "$PY" "$CLIENTS_DIR/recipe_files.py" "$ACCTSEC_REPO/docs/frameworks.md" "$1" "$DIR"
}
