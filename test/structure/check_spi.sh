#!/usr/bin/env bash
# One SPI mechanism (src/spi_util.h): outside spi_util.c no file prepares,
# keeps, executes or opens a cursor on a statement itself, connects or
# finishes SPI itself, or switches the user id itself; it declares
# AcctsecPlans and runs them through acctsec_plan_run / acctsec_plan_open /
# acctsec_sql_run, and acts as another role only through
# acctsec_become_role.
#
# And one nesting rule (spi_util.h): only a function PostgreSQL calls
# connects, with acctsec_spi_connect, and finishes before it returns;
# every other function that runs SQL uses its caller's connection.  A
# function connects only where its fcinfo is in hand: defined with
# PG_FUNCTION_ARGS, or the body such functions hand their FunctionCallInfo
# to.  The exceptions, each for its reason, are listed below.
#
#   bash test/structure/check_spi.sh [SRC_DIR]
set -u -o pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
SRC=${1:-$REPO/src}
FORBIDDEN='\b(SPI_prepare(_cursor|_params|_extended)?|SPI_keepplan|SPI_saveplan|SPI_execute(_plan|_with_args|_extended|_plan_with_paramlist|_snapshot)?|SPI_exec|SPI_execp|SPI_cursor_open(_with_args|_with_paramlist|_with_options)?|SPI_connect(_ext)?|SPI_finish|SetUserIdAndSecContext|acctsec_keep_plan|acctsec_run_saved_plan)\s*\('

# file:function  why it connects though PostgreSQL does not call it
EXCEPTIONS='
keys.c:load_database_key  the key ring reads the database key on first use, wherever a value is first sealed, opened or hashed: by callers connected to SPI or not, from every layer
audit_chain.c:tx_seal  the work of the audit chain'"'"'s pre-commit and pre-prepare callback (audit_xact_callback), which has no fcinfo
'

command -v python3 >/dev/null || { echo "python3 is not installed"; exit 1; }
python3 - "$SRC" "$FORBIDDEN" "$EXCEPTIONS" <<'PY'
import os, re, sys

src, forbidden, exceptions = sys.argv[1], sys.argv[2], sys.argv[3]
allowed = {}
for line in exceptions.strip().splitlines():
    where, why = line.split(None, 1)
    allowed[where] = why
used = set()
problems = []
checked = 0

def strip_comments(s):
    return re.sub(r'/\*.*?\*/', lambda m: '\n' * m.group(0).count('\n'), s, flags=re.S)

# A definition in PostgreSQL's layout: the name at the start of a line,
# its parameters, then the body from a "{" to a "}" at the start of a line.
DEF = re.compile(r'^(\w+)\(([^;{]*?)\)\s*\n\{\n(.*?)^\}', re.M | re.S)

for name in sorted(os.listdir(src)):
    if not name.endswith('.c') or name == 'spi_util.c':
        continue
    checked += 1
    text = strip_comments(open(os.path.join(src, name)).read())
    for n, line in enumerate(text.split('\n'), 1):
        if re.search(forbidden, line):
            problems.append('%s:%d: calls SPI or switches the user id outside src/spi_util.c: %s'
                            % (name, n, line.strip()))
    for m in DEF.finditer(text):
        func, params, body = m.group(1), m.group(2), m.group(3)
        connects = len(re.findall(r'\bacctsec_spi_connect\s*\(', body))
        if connects == 0:
            continue
        line = text.count('\n', 0, m.start()) + 1
        where = '%s:%s' % (name, func)
        if where in allowed:
            used.add(where)
        elif not re.search(r'\bPG_FUNCTION_ARGS\b|\bFunctionCallInfo\s+fcinfo\b', params):
            problems.append('%s:%d: %s connects to SPI but PostgreSQL does not call it: '
                            'its caller connects (the nesting rule, src/spi_util.h)'
                            % (name, line, func))
        if len(re.findall(r'\bacctsec_spi_finish\s*\(', body)) < connects:
            problems.append('%s:%d: %s connects to SPI more often than it finishes'
                            % (name, line, func))
for where in sorted(set(allowed) - used):
    problems.append('%s is listed as an exception but does not connect' % where)

for p in problems:
    print(p)
if problems:
    sys.exit(1)
print('check_spi: %d modules run SQL only through src/spi_util.c; only functions '
      'PostgreSQL calls connect, and %d listed exceptions' % (checked, len(allowed)))
PY
