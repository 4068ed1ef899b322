#!/usr/bin/env python3
"""Write out the code blocks of a docs page that belong to one recipe.

A fenced block whose first line is a comment "recipe: NAME/PATH" (after
'#', '//', '--' or '<?php //') is written to DEST/PATH when NAME is the
recipe asked for, so the checks in test/clients run the recipes exactly as
docs/frameworks.md prints them.  Exits non-zero when the recipe has no
blocks, so a renamed recipe cannot pass by running nothing.

usage: recipe_files.py PAGE NAME DEST
"""
import os
import re
import sys

page, name, dest = sys.argv[1:4]
marker = re.compile(r"^\s*(?:#|//|--|<\?php\s*//)\s*recipe:\s*(\S+)\s*$")
blocks, cur, fence = [], None, None
with open(page, encoding="utf-8") as f:
    for line in f:
        if cur is None:
            m = re.match(r"^(```+)\S*\s*$", line)
            if m:
                cur, fence = [], m.group(1)
        elif line.rstrip() == fence:
            blocks.append(cur)
            cur = None
        else:
            cur.append(line)
written = 0
for b in blocks:
    m = marker.match(b[0]) if b else None
    if not m:
        continue
    recipe, _, path = m.group(1).partition("/")
    if recipe != name or not path:
        continue
    out = os.path.join(dest, path)
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        # a PHP file keeps its opening tag; other markers are plain comments
        f.writelines(b)
    written += 1
    print("recipe file:", path)
if written == 0:
    sys.exit("no blocks for recipe %r in %s" % (name, page))
