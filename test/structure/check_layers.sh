#!/usr/bin/env bash
# The layers of src/ (src/LAYERS, docs/development.md): every file is in
# the table; a file includes only headers of its own layer or lower; the
# modules' includes have no cycle; no header includes postgres.h, every
# backend file includes it first, and the core (layer 0) includes no
# PostgreSQL header at all; no .c file declares another's function itself
# (extern), so its includes are its dependencies.  When the objects are
# built (test/run builds before the checks), the same rules hold for the
# symbols each object uses from the others: the call graph, not only the
# includes.
#
#   bash test/structure/check_layers.sh [SRC_DIR]
set -u -o pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
SRC=${1:-$REPO/src}
command -v python3 >/dev/null || { echo "python3 is not installed"; exit 1; }

python3 - "$SRC" <<'PY'
import os, re, subprocess, sys

src = sys.argv[1]
problems = []

layer = {}
for n, line in enumerate(open(os.path.join(src, 'LAYERS')), 1):
    line = line.split('#', 1)[0].split()
    if not line:
        continue
    if not line[0].isdigit():
        problems.append('LAYERS:%d: a line is a layer number and files' % n)
        continue
    for f in line[1:]:
        if f in layer:
            problems.append('LAYERS:%d: %s is listed twice' % (n, f))
        layer[f] = int(line[0])

files = sorted(f for f in os.listdir(src) if f.endswith(('.c', '.h')))
for f in files:
    if f not in layer:
        problems.append('%s: not in src/LAYERS' % f)
for f in sorted(layer):
    if f not in files:
        problems.append('src/LAYERS names %s, which does not exist' % f)

def module(f):
    return f[:-2]

def strip_comments(s):
    return re.sub(r'/\*.*?\*/', lambda m: '\n' * m.group(0).count('\n'), s, flags=re.S)

includes = {}
for f in files:
    text = strip_comments(open(os.path.join(src, f)).read())
    incs = re.findall(r'^\s*#\s*include\s+([<"])([^>"]+)[>"]', text, re.M)
    includes[f] = incs
    local = [h for q, h in incs if q == '"' and h in files]
    backend = [h for q, h in incs if q == '"' and h not in files]
    if f.endswith('.h') and 'postgres.h' in [h for _, h in incs]:
        problems.append('%s: a header includes postgres.h (each .c includes it first)' % f)
    if layer.get(f) == 0:
        if backend:
            problems.append('%s: layer 0 (core) includes PostgreSQL headers: %s' % (f, ' '.join(backend)))
    elif f.endswith('.c') and f in layer:
        quoted = [h for q, h in incs if q == '"']
        if not quoted or quoted[0] != 'postgres.h':
            problems.append('%s: postgres.h is not its first include' % f)
    for h in local:
        if f in layer and h in layer and layer[h] > layer[f]:
            problems.append('%s (layer %d) includes %s (layer %d): an upward include'
                            % (f, layer[f], h, layer[h]))
    if f.endswith('.c'):
        for m in re.finditer(r'^extern\s+[^;]*?\b(\w+)\s*\(', text, re.M):
            if m.group(1) != '_PG_init':
                problems.append('%s: declares extern %s itself; declare it in its module\'s header'
                                % (f, m.group(1)))

def find_cycles(edges, what):
    state = {}
    stack = []
    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(edges.get(n, ())):
            if state.get(m) == 1:
                cyc = stack[stack.index(m):] + [m]
                problems.append('%s cycle: %s' % (what, ' -> '.join(cyc)))
            elif m not in state:
                visit(m)
        stack.pop()
        state[n] = 2
    for n in sorted(edges):
        if n not in state:
            visit(n)

edges = {}
for f in files:
    for q, h in includes[f]:
        if q == '"' and h in files and module(h) != module(f):
            edges.setdefault(module(f), set()).add(module(h))
find_cycles(edges, 'include')

# The objects, when built: who defines each global symbol, who uses it.
objs = [f for f in files if f.endswith('.c')]
built = all(os.path.exists(os.path.join(src, module(f) + '.o')) for f in objs)
if built:
    defined, used = {}, {}
    for f in objs:
        o = os.path.join(src, module(f) + '.o')
        out = subprocess.run(['nm', o], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1] in 'TDBR':
                defined[parts[2]] = f
            elif len(parts) == 2 and parts[0] == 'U':
                used.setdefault(f, set()).add(parts[1])
    calls = {}
    for f, syms in used.items():
        for s in sorted(syms):
            g = defined.get(s)
            if g is None or g == f:
                continue
            calls.setdefault(module(f), set()).add(module(g))
            if layer.get(f, 0) < layer.get(g, 0):
                problems.append('%s (layer %d) uses %s of %s (layer %d): an upward call'
                                % (f, layer[f], s, g, layer[g]))
    find_cycles(calls, 'call')
else:
    print('objects not built: the call graph is not checked (run make first)')

for p in problems:
    print(p)
n_layers = len(set(layer.values()))
if problems:
    print('%d problems' % len(problems))
    sys.exit(1)
print('%d files in %d layers: no upward include or call, no cycle' % (len(files), n_layers))
PY
