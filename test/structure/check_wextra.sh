#!/usr/bin/env bash
# acctsec builds clean with -Wextra, warnings as errors, on the server the
# suite runs against (test/run runs this check on every version of a matrix
# run).  PostgreSQL's own headers need one flag off: -Wno-unused-parameter
# (fmgr.h's PG_FUNCTION_INFO_V1, lib/ilist.h, storage/bufpage.h); nothing
# else is turned off, so -Wclobbered (a variable assigned inside PG_TRY and
# read after it must be volatile), -Wsign-compare and the rest stay on.
#
# It builds a copy of the tree in a temporary directory, so the objects
# test/run built and installed are left as they are.
#
#   bash test/structure/check_wextra.sh      (outside test/run: PG_MAJOR or 15)
set -u -o pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
if [ -n "${ACCTSEC_BIN:-}" ]; then
  major=$("$ACCTSEC_BIN/postgres" -V | sed -E 's/.* ([0-9]+)[.].*/\1/')
else
  major=${PG_MAJOR:-15}
fi
PG_CONFIG=/usr/lib/postgresql/$major/bin/pg_config
[ -x "$PG_CONFIG" ] || { echo "no $PG_CONFIG"; exit 1; }
WEXTRA="-Wextra -Wno-unused-parameter"

tmp=$(mktemp -d "${ACCTSEC_TMP:-/tmp}/wextra.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
tar -C "$REPO" --exclude='*.o' --exclude='*.so' --exclude='*.bc' \
    -cf - Makefile acctsec.control src sql | tar -C "$tmp" -xf - || { echo "could not copy the tree"; exit 1; }
echo "PostgreSQL $major: make COPT=\"$WEXTRA\" WERROR=1"
if ! make -s -C "$tmp" PG_CONFIG="$PG_CONFIG" COPT="$WEXTRA" WERROR=1 >"$tmp/build.log" 2>&1; then
  cat "$tmp/build.log"
  echo "the -Wextra build failed"
  exit 1
fi
# a warning that is not an error (a flag -Werror leaves out) still fails
if grep -E 'warning:' "$tmp/build.log"; then
  echo "the -Wextra build warned"
  exit 1
fi
echo "clean"
