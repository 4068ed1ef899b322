#!/usr/bin/env bash
# One SPI mechanism (src/spi_util.h): outside spi_util.c no file prepares,
# keeps, executes or opens a cursor on a statement itself, connects or
# finishes SPI itself, or switches the user id itself; it declares
# AcctsecPlans and runs them through acctsec_plan_run / acctsec_plan_open /
# acctsec_sql_run, connects by the nesting rule written in spi_util.h, and
# acts as another role only through acctsec_become_role.
#
#   bash test/structure/check_spi.sh [SRC_DIR]
set -u -o pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
SRC=${1:-$REPO/src}
FORBIDDEN='\b(SPI_prepare(_cursor|_params|_extended)?|SPI_keepplan|SPI_saveplan|SPI_execute(_plan|_with_args|_extended|_plan_with_paramlist|_snapshot)?|SPI_exec|SPI_execp|SPI_cursor_open(_with_args|_with_paramlist|_with_options)?|SPI_connect(_ext)?|SPI_finish|SetUserIdAndSecContext|acctsec_keep_plan|acctsec_run_saved_plan)\s*\('
rc=0
checked=0
for f in "$SRC"/*.c; do
  name=$(basename "$f")
  [ "$name" = spi_util.c ] && continue
  checked=$((checked + 1))
  # comments do not count: strip /* ... */ before looking
  hits=$(python3 - "$f" "$FORBIDDEN" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
text = re.sub(r'/\*.*?\*/', lambda m: '\n' * m.group(0).count('\n'), text, flags=re.S)
for n, line in enumerate(text.split('\n'), 1):
    if re.search(sys.argv[2], line):
        print('%d: %s' % (n, line.strip()))
PY
)
  if [ -n "$hits" ]; then
    echo "$name calls SPI or switches the user id outside src/spi_util.c:"
    sed 's/^/  /' <<<"$hits"
    rc=1
  fi
done
[ $rc -eq 0 ] && echo "check_spi: $checked modules run SQL only through src/spi_util.c"
exit $rc
