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
python3 - "$SRC" "$MAX_LINES" <<'PY'
import glob, os, re, sys
src, limit = sys.argv[1], int(sys.argv[2])
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
        if n > limit:
            long.append((n, os.path.basename(path), i + 1, m.group(1)))
for n, f, line, name in sorted(long, reverse=True):
    print('%s:%d: %s is %d lines (at most %d)' % (f, line, name, n, limit))
if long:
    print('%d of %d SQL-callable functions are longer than %d lines' % (len(long), count, limit))
    sys.exit(1)
print('check_entry_points: %d SQL-callable functions, none over %d lines' % (count, limit))
PY
