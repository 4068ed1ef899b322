#!/usr/bin/env bash
# SQL entry points are thin: every function PostgreSQL calls through fmgr
# (name(PG_FUNCTION_ARGS)) is at most MAX_LINES lines, its argument handling
# and result building over a core that can be read and tested on its own.
#
#   bash test/structure/check_entry_points.sh [SRC_DIR]
set -u -o pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
SRC=${1:-$REPO/src}
MAX_LINES=60
# Entry points not yet split (issue 16); the list shrinks to nothing, and a
# function listed here that has become short must leave it.
PENDING=""
python3 - "$SRC" "$MAX_LINES" "$PENDING" <<'PY'
import glob, os, re, sys
src, limit = sys.argv[1], int(sys.argv[2])
pending = set(sys.argv[3].split())
stale = []
long, count = [], 0
for path in sorted(glob.glob(os.path.join(src, '*.c'))):
    lines = open(path).read().split('\n')
    for i, line in enumerate(lines):
        m = re.match(r'^(\w+)\(PG_FUNCTION_ARGS\)$', line)
        if not m:
            continue
        count += 1
        end = next(j for j in range(i, len(lines)) if lines[j] == '}')
        n = end - i + 2                     # with the "Datum" line above
        if m.group(1) in pending:
            if n <= limit:
                stale.append(m.group(1))
            continue
        if n > limit:
            long.append((n, os.path.basename(path), i + 1, m.group(1)))
for n, f, line, name in sorted(long, reverse=True):
    print('%s:%d: %s is %d lines (at most %d)' % (f, line, name, n, limit))
for name in stale:
    print('%s is no longer than %d lines: take it out of PENDING' % (name, limit))
if long:
    print('%d of %d SQL-callable functions are longer than %d lines' % (len(long), count, limit))
if long or stale:
    sys.exit(1)
print('check_entry_points: %d SQL-callable functions, none over %d lines but the %d pending'
      % (count, limit, len(pending)))
PY
