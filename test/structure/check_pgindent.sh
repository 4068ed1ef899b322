#!/usr/bin/env bash
# The C sources are laid out as pgindent lays them out: PostgreSQL's own
# pgindent and pg_bsd_indent (Debian ships both with the server from
# PostgreSQL 17, so test/run runs this on 17 and 18), with PostgreSQL's
# typedefs.list and acctsec's own typedefs, read from the sources so that the
# list cannot fall behind them.  To reformat after a change, run this with
# --write (docs/development.md).
set -u -o pipefail
: "${ACCTSEC_BIN:?run through bash test/run test}"
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
PGINDENT=$ACCTSEC_BIN/pgindent
INDENT=$ACCTSEC_BIN/pg_bsd_indent
[ -x "$PGINDENT" ] && [ -x "$INDENT" ] || { echo "no pgindent in $ACCTSEC_BIN"; exit 1; }
PG_TYPEDEFS=$(ls "$ACCTSEC_BIN"/../../../share/postgresql/*/typedefs.list /usr/share/postgresql/*/typedefs.list 2>/dev/null | head -n 1)
[ -f "$PG_TYPEDEFS" ] || { echo "no PostgreSQL typedefs.list"; exit 1; }
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT

# acctsec's typedefs: every "typedef ... Name;" and "} Name;" in src/ and
# tools/, and the C library's and other libraries' types it uses (PostgreSQL
# 18's list names the <stdint.h> ones, 17's does not: with them in ours, both
# lay the code out alike)
{
  grep -ho 'typedef [^;(]*[ *]\w\+;\|^} *\w\+;' "$REPO"/src/*.[ch] "$REPO"/tools/*.c \
    | grep -o '\w\+;$' | tr -d ';'
  printf '%s\n' size_t ssize_t int8_t int16_t int32_t int64_t uint8_t uint16_t \
    uint32_t uint64_t intptr_t uintptr_t cbor_item_t BIGNUM EVP_MD EVP_MD_CTX \
    EVP_PKEY EVP_PKEY_CTX OSSL_PARAM OSSL_PARAM_BLD
} | sort -u >"$T/ours.list"
[ -s "$T/ours.list" ] || { echo "found no typedefs in src/"; exit 1; }
cat "$PG_TYPEDEFS" "$T/ours.list" >"$T/typedefs.list"

if [ "${1:-}" = --write ]; then   # reformat the tree in place
  "$PGINDENT" --typedefs="$T/typedefs.list" --indent="$INDENT" "$REPO/src" "$REPO/tools"
  exit
fi
cp -r "$REPO/src" "$REPO/tools" "$T/"
"$PGINDENT" --typedefs="$T/typedefs.list" --indent="$INDENT" --diff "$T/src" "$T/tools" >"$T/diff" 2>&1
status=$?
if [ $status -ne 0 ] || [ -s "$T/diff" ]; then
  echo "pgindent would change these lines (exit $status):"
  sed "s|$T/||" "$T/diff" | head -n 200
  exit 1
fi
echo "pgindent: $(ls "$T"/src/*.[ch] "$T"/tools/*.c | wc -l) files as pgindent lays them out ($(wc -l <"$T/ours.list") acctsec typedefs)"
