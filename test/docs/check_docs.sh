#!/usr/bin/env bash
# Every ```sql example of README.md and docs/*.md runs, page by page, each
# page in a fresh database with the extension created, and prints exactly the
# output its page shows (see run_docs.py for the convention).  Also: every
# docs/ page a page or a source comment names exists.
set -u -o pipefail
cd "${ACCTSEC_REPO:-$(dirname "$0")/../..}"
fail=0
for ref in $(grep -rhoIE --exclude-dir=results --exclude-dir=corpus-run --exclude-dir=build --exclude-dir=node_modules 'docs/[a-z0-9_]+\.md' README.md docs src test Makefile 2>/dev/null | sort -u); do
  [ -f "$ref" ] || { echo "names $ref, which does not exist:"; grep -rnI --exclude-dir=results "$ref" README.md docs src test | head -3; fail=1; }
done
python3 test/docs/run_docs.py README.md docs/*.md || fail=1
exit $fail
